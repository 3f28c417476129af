"""Unit-tier fixtures: a volunteers database on SQLite and a recording emit (tests/support/visits.py),
for the visit tests (test_volunteer_visits.py, test_volunteer_own_visits.py). A module that defines
its own ``url``, ``db`` or ``events`` (test_activity_rules.py) uses its own."""

from tests.support.visits import db, events, url  # noqa: F401
