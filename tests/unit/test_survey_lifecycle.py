"""A survey's life with frozen time: issue (now or after the tenant's delay), one reminder with a
new token, expiry, voiding on reopen, one answer, bursts flagged, links scrubbed from the outbox."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from services.common.db import Store, make_engine
from services.common.errors import Conflict, Gone, NotFound, ValidationFailed, validated
from services.surveys import (
    answers,
    bursts,
    issuing,
    redaction,
    reminders,
    settings,
    statistics,
    tallies,
    templates,
    tokens,
    views,
    voiding,
)
from services.surveys.models import Base, Outbox, Survey, SurveyToken
from services.surveys.schemas import AnswerSchema
from services.surveys.settings import Timing
from tests.support.surveys import BASE, T0, VERIFIED, Emitted, answer, issue, survey, token_of

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/surveys.sqlite3")
    Base.metadata.create_all(engine)
    yield Store(engine)
    engine.dispose()


def set_timing(store, tenant="t1", **fields):
    with store.transaction() as session:
        settings.save(session, tenant, fields, T0)


def reopen(session, tenant, case_id, at):
    """What the surveys service does on case.reopened, the reopen and its processing at ``at``."""
    return voiding.on_case_reopened(session, Emitted(), tenant, case_id, at, at)


# --- timing -------------------------------------------------------------------------------


def test_the_plan_puts_the_reminder_48h_after_the_link_and_expiry_7_days_after():
    plan = issuing.plan(Timing(), T0)
    assert plan == {
        "link_due_at": T0,
        "expires_at": T0 + timedelta(days=7),
        "reminder_due_at": T0 + timedelta(hours=48),
    }


def test_a_delay_moves_the_link_expiry_and_reminder_and_no_reminder_after_expiry():
    plan = issuing.plan(Timing(link_delay_minutes=120, expiry_days=2, reminder_after_hours=48), T0)
    assert plan == {
        "link_due_at": T0 + timedelta(hours=2),
        "expires_at": T0 + timedelta(hours=2, days=2),
        "reminder_due_at": None,  # 48 h after the link is the moment it expires: nothing to remind
    }


def test_tenant_settings_default_and_partial_update(store):
    with store.read() as session:
        assert settings.view(session, "t1") == {"link_delay_minutes": 0, "expiry_days": 7, "reminder_after_hours": 48}
    set_timing(store, link_delay_minutes=120)
    set_timing(store, expiry_days=10)
    with store.read() as session:
        assert settings.view(session, "t1") == {
            "link_delay_minutes": 120,
            "expiry_days": 10,
            "reminder_after_hours": 48,
        }
        assert settings.view(session, "t2")["link_delay_minutes"] == 0


# --- issuing ------------------------------------------------------------------------------


def test_without_delay_the_link_goes_out_at_once_and_only_its_hash_is_stored(store):
    emit = Emitted()
    created = issue(store, emit)
    [(kind, subject, tenant, data)] = emit
    assert (kind, subject, tenant) == ("survey.issued", created.id, "t1")
    assert data["recipient"] == {"name": "陈先生", "phone": "+8613912345678", "household": "3-2-501"}
    token = token_of(data["link"])
    assert data["link"] == f"{BASE}/s/{token}"
    assert len(token) == 32  # 192 bits, URL-safe
    with store.read() as session:
        stored = session.scalars(select(SurveyToken)).all()
        row = session.get(Survey, created.id)
    assert [t.token_hash for t in stored] == [tokens.token_hash(token)]
    assert token not in str([vars(t) for t in stored]) + str(vars(row))
    assert (row.link_sent_at, row.month, row.assignee, row.template_version) == (T0, "2026-11", "王师傅", 0)


def test_with_a_delay_the_survey_exists_at_once_and_the_link_is_sent_once_when_due(store):
    set_timing(store, link_delay_minutes=120)
    emit = Emitted()
    created = issue(store, emit)
    assert emit == []
    assert survey(store, created.id).link_sent_at is None

    with store.transaction() as session:
        assert issuing.send_due_links(session, emit, BASE, T0 + timedelta(minutes=119)) == 0
    with store.transaction() as session:
        assert issuing.send_due_links(session, emit, BASE, T0 + timedelta(minutes=120)) == 1
    with store.transaction() as session:
        assert issuing.send_due_links(session, emit, BASE, T0 + timedelta(minutes=121)) == 0
    assert [e[0] for e in emit] == ["survey.issued"]
    assert survey(store, created.id).link_sent_at == T0 + timedelta(minutes=120)
    token = token_of(emit[0][3]["link"])
    with store.read() as session:
        assert answers.page_view(session, token, T0 + timedelta(hours=3))["status"] == "issued"


def test_a_delayed_survey_voided_by_a_reopen_is_never_sent(store):
    set_timing(store, link_delay_minutes=120)
    emit = Emitted()
    created = issue(store, emit)
    with store.transaction() as session:
        assert reopen(session, "t1", "c1", T0 + timedelta(minutes=30)) == 1
    with store.transaction() as session:
        assert issuing.send_due_links(session, emit, BASE, T0 + timedelta(hours=3)) == 0
    assert emit == []
    assert survey(store, created.id).status == "voided"


def test_an_incidents_merged_cases_get_one_survey_per_household(store):
    emit = Emitted()
    first = issue(store, emit, case_id="c1", incident_id="i1", household="1-1-101")
    assert issue(store, emit, case_id="c2", incident_id="i1", household="1-1-101") is None
    other = issue(store, emit, case_id="c3", incident_id="i1", household="1-1-102")
    assert first is not None and other is not None
    assert len(emit.of("survey.issued")) == 2


def test_a_new_closure_after_a_reopen_issues_a_fresh_survey(store):
    emit = Emitted()
    first = issue(store, emit)
    with store.transaction() as session:
        reopen(session, "t1", "c1", T0 + timedelta(hours=1))
    second = issue(store, emit, now=T0 + timedelta(hours=5))
    with store.read() as session:
        listed = views.for_case(session, "t1", "c1", T0 + timedelta(hours=6))
    assert [(s["id"], s["status"]) for s in listed] == [(first.id, "voided"), (second.id, "issued")]
    assert all("token" not in str(s) and "link" not in s for s in listed)


# --- reminders ----------------------------------------------------------------------------


def test_one_reminder_after_48h_with_a_new_token_that_opens_the_same_survey(store):
    emit = Emitted()
    created = issue(store, emit)
    with store.transaction() as session:
        assert reminders.send_due_reminders(session, emit, BASE, T0 + timedelta(hours=47, minutes=59)) == 0
    with store.transaction() as session:
        assert reminders.send_due_reminders(session, emit, BASE, T0 + timedelta(hours=48)) == 1
    with store.transaction() as session:
        assert reminders.send_due_reminders(session, emit, BASE, T0 + timedelta(hours=60)) == 0
    [issued], [reminder] = emit.of("survey.issued"), emit.of("survey.reminder_due")
    assert reminder[3]["reminder"] is True
    assert reminder[3]["recipient"] == issued[3]["recipient"]
    first, second = token_of(issued[3]["link"]), token_of(reminder[3]["link"])
    assert first != second
    later = T0 + timedelta(hours=50)
    with store.read() as session:
        assert answers.page_view(session, first, later) == answers.page_view(session, second, later)

    answer(store, second, later)
    with pytest.raises(Conflict):
        answer(store, first, later + timedelta(minutes=1))
    assert survey(store, created.id).score == 5


def test_no_reminder_for_an_answered_or_expired_survey(store):
    emit = Emitted()
    issue(store, emit, case_id="c1")
    issue(store, emit, case_id="c2", now=T0 - timedelta(days=6))  # its reminder is due, but it expires at T0+1d
    token = token_of(emit.of("survey.issued")[0][3]["link"])
    answer(store, token, T0 + timedelta(hours=1))
    with store.transaction() as session:
        assert reminders.send_due_reminders(session, emit, BASE, T0 + timedelta(days=1, hours=1)) == 0
    assert emit.of("survey.reminder_due") == []


# --- answering and expiry -----------------------------------------------------------------


def test_reading_the_page_records_nothing(store):
    emit = Emitted()
    created = issue(store, emit)
    token = token_of(emit[0][3]["link"])
    with store.read() as session:
        for _ in range(3):
            view = answers.page_view(session, token, T0 + timedelta(minutes=5))
    assert view["status"] == "issued"
    assert view["questions"]["version"] == 0
    row = survey(store, created.id)
    assert (row.status, row.score, row.answered_at) == ("issued", None, None)


def test_an_unknown_token_is_not_found(store):
    with store.read() as session, pytest.raises(NotFound):
        answers.page_view(session, "x" * 32, T0)


def test_a_survey_expires_after_7_days_with_frozen_time_and_then_takes_no_answer(store):
    emit = Emitted()
    with time_machine.travel(T0, tick=False):
        created = issue(store, emit, now=issuing_now())
    token = token_of(emit[0][3]["link"])
    with time_machine.travel(T0 + timedelta(days=7) - timedelta(seconds=1), tick=False), store.read() as session:
        assert answers.page_view(session, token, issuing_now())["status"] == "issued"
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        with store.read() as session:
            assert answers.page_view(session, token, issuing_now())["status"] == "expired"
        with pytest.raises(Gone):
            answer(store, token, issuing_now())
    row = survey(store, created.id)
    assert (row.status, row.score) == ("issued", None)


def issuing_now():
    """The service's own clock (what the entrypoints pass as ``now``)."""
    from services.common.db import utcnow

    return utcnow()


def test_a_voided_survey_takes_no_answer(store):
    emit = Emitted()
    issue(store, emit)
    token = token_of(emit[0][3]["link"])
    with store.transaction() as session:
        reopen(session, "t1", "c1", T0 + timedelta(hours=1))
    with pytest.raises(Gone):
        answer(store, token, T0 + timedelta(hours=2))


def test_one_answer_then_409_and_the_events_it_causes(store):
    emit = Emitted()
    created = issue(store, emit)
    token = token_of(emit[0][3]["link"])
    result, events = answer(store, token, T0 + timedelta(hours=1), score=2, speed=3, comment="太慢")
    assert result["status"] == "answered"
    assert [e[0] for e in events] == ["survey.answered", "survey.low_score"]
    assert events[0][3]["link"] is None and events[0][3]["recipient"] is None
    with pytest.raises(Conflict):
        answer(store, token, T0 + timedelta(hours=2), score=5)
    row = survey(store, created.id)
    assert (row.score, row.speed, row.comment) == (2, 3, "太慢")


@pytest.mark.parametrize(
    ("fields", "low"),
    [({"score": 3}, False), ({"score": 2}, True), ({"score": 5, "solved": False}, True), ({"score": 1}, True)],
)
def test_low_score_is_overall_at_most_2_or_not_solved(store, fields, low):
    emit = Emitted()
    issue(store, emit)
    _, events = answer(store, token_of(emit[0][3]["link"]), T0, **fields)
    assert [e[0] for e in events] == ["survey.answered", "survey.low_score"][: 1 + low]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({}, "score"),
        ({"score": 5, "speed": 9}, "speed"),
        ({"score": 5, "nps": 11}, "nps"),
        ({"score": 5, "nps": -1}, "nps"),
        ({"score": 5, "ces": 0}, "ces"),
        ({"score": 5, "ces": 8}, "ces"),
        ({"score": 5, "comment": "x" * 1001}, "comment"),
    ],
)
def test_answers_out_of_range_are_refused_field_by_field(payload, field):
    with pytest.raises(ValidationFailed) as failed:
        validated(AnswerSchema(), payload)
    assert list(failed.value.errors) == [field]


def test_nps_and_ces_edges_are_accepted():
    assert validated(AnswerSchema(), {"score": "1", "nps": "0", "ces": "7", "solved": "false"}) == {
        "score": 1,
        "speed": None,
        "attitude": None,
        "quality": None,
        "nps": 0,
        "ces": 7,
        "solved": False,
        "comment": None,
    }


# --- templates ----------------------------------------------------------------------------


def test_template_versions_and_the_survey_keeps_the_version_it_was_issued_with(store):
    emit = Emitted()
    old = issue(store, emit, case_id="c1")
    with store.transaction() as session:
        v1 = templates.save(
            session,
            "t1",
            {"title": "满意度", "speed": False, "attitude": True, "quality": True, "nps": True, "ces": True}
            | {"solved": True, "comment": False},
        )
    with store.transaction() as session:
        v2 = templates.save(session, "t1", dict(templates.DEFAULT, title="第二版") | {"nps": True})
    new = issue(store, emit, case_id="c2")
    assert (v1["version"], v2["version"], old.template_version, new.template_version) == (1, 2, 0, 2)
    with store.read() as session:
        assert [t["version"] for t in templates.history(session, "t1")] == [2, 1]
        assert templates.current(session, "t2")["version"] == 0
    # The default template does not ask NPS: an NPS sent to the old survey is dropped.
    old_token, new_token = (token_of(e[3]["link"]) for e in emit.of("survey.issued"))
    answer(store, old_token, T0, nps=9, speed=4)
    answer(store, new_token, T0, nps=9, speed=4)
    assert (survey(store, old.id).nps, survey(store, old.id).speed) == (None, 4)
    assert (survey(store, new.id).nps, survey(store, new.id).speed) == (9, 4)


# --- bursts -------------------------------------------------------------------------------


def test_burst_rule_is_three_answers_within_ten_minutes():
    now = T0 + timedelta(minutes=20)
    assert bursts.is_burst([now - timedelta(minutes=9), now - timedelta(minutes=1), now], now)
    assert not bursts.is_burst([now - timedelta(minutes=11), now - timedelta(minutes=1), now], now)
    assert not bursts.is_burst([now - timedelta(minutes=1), now], now)


def test_three_answers_from_one_client_within_ten_minutes_are_all_flagged_and_still_recorded(store):
    emit = Emitted()
    for n in range(5):
        issue(store, emit, case_id=f"c{n}")
    links = [token_of(e[3]["link"]) for e in emit.of("survey.issued")]
    answer(store, links[0], T0, fingerprint="f" * 64)
    answer(store, links[1], T0 + timedelta(minutes=4), fingerprint="f" * 64)
    answer(store, links[4], T0 + timedelta(minutes=5), fingerprint="a" * 64)  # another client
    with store.read() as session:
        assert session.scalars(select(Survey.flagged_burst)).all() == [False] * 5
    _, events = answer(store, links[2], T0 + timedelta(minutes=9), fingerprint="f" * 64)
    assert events[0][3]["flagged_burst"] is True
    answer(store, links[3], T0 + timedelta(minutes=30), fingerprint="f" * 64)  # later: not a burst any more
    with store.read() as session:
        rows = session.scalars(select(Survey).order_by(Survey.case_id)).all()
    assert [(r.case_id, r.status, r.flagged_burst) for r in rows] == [
        ("c0", "answered", True),
        ("c1", "answered", True),
        ("c2", "answered", True),
        ("c3", "answered", False),
        ("c4", "answered", False),
    ]


# --- the outbox keeps no link once sent --------------------------------------------------


def test_sent_links_are_scrubbed_from_the_outbox_and_unsent_ones_wait(store):
    emit = Emitted()
    issue(store, emit, case_id="c1")
    issue(store, emit, case_id="c2")
    tokens_sent = [token_of(e[3]["link"]) for e in emit]
    with store.transaction() as session:
        first = session.scalars(select(Outbox).order_by(Outbox.id)).first()
        first.sent_at = T0
    with store.transaction() as session:
        assert redaction.scrub_sent_links(session) == 1
    with store.read() as session:
        bodies = [row.body for row in session.scalars(select(Outbox).order_by(Outbox.id))]
    assert bodies[0]["data"]["link"] == f"{BASE}/s/***"
    assert tokens_sent[0] not in str(bodies)
    assert bodies[1]["data"]["link"] == f"{BASE}/s/{tokens_sent[1]}"  # not published yet: still needed
    with store.transaction() as session:
        for row in session.scalars(select(Outbox)):
            row.sent_at = T0
    with store.transaction() as session:
        assert redaction.scrub_sent_links(session) == 1
    with store.transaction() as session:
        assert redaction.scrub_sent_links(session) == 0
    with store.read() as session:
        assert not any(t in str(row.body) for row in session.scalars(select(Outbox)) for t in tokens_sent)


# --- running tallies ----------------------------------------------------------------------


def test_the_running_tallies_equal_a_recount_after_every_kind_of_change(store):
    """Issue now and delayed, send, answer (low, with NPS), a burst, void, reopen after an answer."""
    set_timing(store, tenant="t2", link_delay_minutes=60)
    with store.transaction() as session:
        templates.save(session, "t1", dict(templates.DEFAULT, nps=True, ces=True))
    emit = Emitted()
    for n in range(4):
        issue(store, emit, case_id=f"a{n}")
    issue(store, emit, case_id="d1", tenant="t2")
    issue(store, emit, case_id="d2", tenant="t2")
    with store.transaction() as session:
        issuing.send_due_links(session, emit, BASE, T0 + timedelta(hours=1))
    links = [token_of(e[3]["link"]) for e in emit.of("survey.issued")]
    answer(store, links[0], T0, fingerprint="b" * 64, respondent=VERIFIED, score=1, nps=3, ces=5, solved=False)
    answer(store, links[1], T0 + timedelta(minutes=1), fingerprint="b" * 64, respondent=VERIFIED, score=5, nps=10)
    answer(store, links[4], T0 + timedelta(hours=2), score=4, nps=8)  # not vouched for: counted apart
    answer(store, links[2], T0 + timedelta(minutes=2), fingerprint="b" * 64, respondent=VERIFIED, score=4)  # a burst
    with store.transaction() as session:
        reopen(session, "t1", "a3", T0 + timedelta(hours=3))  # unanswered: voided
        reopen(session, "t1", "a0", T0 + timedelta(hours=3))  # answered: reopened after
        reopen(session, "t2", "d2", T0 + timedelta(hours=3))
    with store.read() as session:
        running = tallies.stored(session)
        counted = sorted(statistics.recount(session), key=lambda r: [r[k] for k in tallies.KEYS])
    assert running == counted
    assert [(r["tenant"], r["issued"], r["responses"], r["flagged"], r["reopened"]) for r in running] == [
        ("t1", 3, 3, 3, 1),
        ("t2", 1, 0, 0, 0),
    ]
    assert [(r["tenant"], r["unverified_responses"]) for r in running] == [("t1", 0), ("t2", 1)]
    with store.read() as session:
        [t1] = statistics.for_tenant(session, "t1", {})
    assert (t1["csat"], t1["csat_mean"], t1["nps"], t1["low_scores"], t1["flagged_burst"]) == (0.6667, 3.33, 0.0, 1, 3)
    with store.transaction() as session:
        assert statistics.rebuild(session) == 2
    with store.read() as session:
        assert tallies.stored(session) == running
