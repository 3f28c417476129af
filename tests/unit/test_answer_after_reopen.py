"""The rule for an answer caught between a reopen and its void (issue 18), with no broker.

The surveys service judges the answer when it processes ``case.reopened``
(services/surveys/voiding.py); the requests service takes the rating back on
``survey.answer_voided``, whichever of the two survey events reaches it first
(services/requests/ratings.py). The same race through the running services is
tests/security/test_answer_after_reopen.py.
"""

from datetime import datetime, timedelta

import pytest

from services.common.db import Store, make_engine
from services.common.envelope import make_event
from services.common.fields import utc_text
from services.notifications import webhooks
from services.notifications.models import Base as NotificationsBase
from services.notifications.models import WebhookDelivery
from services.requests import models as requests_models
from services.requests import ratings
from services.requests.models import Case
from services.surveys import models as surveys_models
from services.surveys import statistics, tallies, voiding
from tests.support.cases import Emitted as CaseEmitted
from tests.support.cases import close, new_case
from tests.support.surveys import VERIFIED, Emitted, answer, issue, survey, token_of

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 28, 2, 0, 0)
REOPENED = T0 + timedelta(hours=2)


def sqlite_store(tmp_path, name, base):
    engine = make_engine(f"sqlite:///{tmp_path}/{name}.sqlite3")
    base.metadata.create_all(engine)
    return Store(engine)


@pytest.fixture
def store(tmp_path):
    """The surveys service's database."""
    made = sqlite_store(tmp_path, "surveys", surveys_models.Base)
    yield made
    made.engine.dispose()


@pytest.fixture
def case_store(tmp_path):
    """The requests service's database."""
    made = sqlite_store(tmp_path, "requests", requests_models.Base)
    yield made
    made.engine.dispose()


@pytest.mark.parametrize(
    ("answered_at", "void"),
    [
        (None, False),  # unanswered: voided as a survey, there is no answer to void
        (REOPENED - timedelta(seconds=1), False),  # answered, then reopened: the answer stands
        (REOPENED, True),  # the same instant: the case was no longer closed
        (REOPENED + timedelta(milliseconds=1), True),  # the race: answered after the reopen
        (REOPENED + timedelta(days=3), True),
    ],
)
def test_an_answer_is_void_when_the_case_was_reopened_before_it_arrived(answered_at, void):
    assert voiding.answer_is_void(answered_at, REOPENED) is void


def test_the_reopen_time_is_the_events_changed_at_else_its_envelope_time():
    data = {"case_id": "c1", "changed_at": "2026-11-28T04:00:00.000000Z"}
    event = make_event(source_service="requests", type="case.reopened", subject="c1", tenant="t1", data=data)
    assert voiding.reopen_time(event) == REOPENED
    old = make_event(source_service="requests", type="case.reopened", subject="c1", tenant="t1", data={"case_id": "c1"})
    old["time"] = "2026-11-28T04:00:00Z"  # staged before changed_at existed
    assert voiding.reopen_time(old) == REOPENED


def reopen(store, tenant, case_id, reopened_at, processed_at, reopen_count=None):
    emit = Emitted()
    with store.transaction() as session:
        voided = voiding.on_case_reopened(session, emit, tenant, case_id, reopened_at, processed_at, reopen_count)
    return voided, emit


def test_an_answer_recorded_after_the_reopen_is_voided_once_and_leaves_the_figures(store):
    emit = Emitted()
    raced, fair = issue(store, emit, case_id="c1"), issue(store, emit, case_id="c2", household="3-2-502")
    [raced_link, fair_link] = [token_of(e[3]["link"]) for e in emit.of("survey.issued")]
    answer(store, fair_link, T0 + timedelta(minutes=5), respondent=VERIFIED, score=4)
    # the case is reopened at REOPENED; the resident answers a minute later, before surveys hears of it
    answer(store, raced_link, REOPENED + timedelta(minutes=1), respondent=VERIFIED, score=5)

    voided, sent = reopen(store, "t1", "c1", REOPENED, REOPENED + timedelta(minutes=2))

    assert voided == 1 and survey(store, raced.id).status == "voided"
    assert survey(store, raced.id).score == 5  # kept, as every answer is: it just counts nowhere
    [(kind, subject, tenant, data)] = sent
    assert (kind, subject, tenant) == ("survey.answer_voided", raced.id, "t1")
    assert (data["case_id"], data["status"], data["score"], data["reason"]) == (
        "c1",
        "voided",
        5,
        voiding.REOPENED_BEFORE_ANSWER,
    )
    assert (data["reopened_at"], data["answered_at"]) == (
        utc_text(REOPENED),
        utc_text(REOPENED + timedelta(minutes=1)),
    )
    assert data["link"] is None and data["recipient"] is None  # never a link, never a token
    with store.read() as session:
        running = tallies.stored(session, "t1")
        assert running == statistics.recount(session, "t1")
        [figures] = statistics.for_tenant(session, "t1", {})
    assert (figures["issued"], figures["responses"], figures["csat_mean"]) == (1, 1, 4.0)  # the fair answer only

    # a redelivered or a later reopen changes nothing and sends nothing again
    assert reopen(store, "t1", "c1", REOPENED, REOPENED + timedelta(minutes=3)) == (0, [])
    assert reopen(store, "t1", "c1", REOPENED + timedelta(hours=5), REOPENED + timedelta(hours=5)) == (0, [])
    assert survey(store, fair.id).status == "answered" and survey(store, fair.id).reopened_at is None


def test_an_answer_recorded_before_the_reopen_stands_and_counts_as_reopened_after(store):
    emit = Emitted()
    rated = issue(store, emit, case_id="c1")
    answer(
        store, token_of(emit.of("survey.issued")[0][3]["link"]), REOPENED - timedelta(minutes=1), respondent=VERIFIED
    )
    assert reopen(store, "t1", "c1", REOPENED, REOPENED + timedelta(minutes=2)) == (0, [])
    assert (survey(store, rated.id).status, survey(store, rated.id).reopened_at) == ("answered", REOPENED)


@pytest.mark.parametrize(
    ("closure_count", "reopen_count", "concerned"),
    [(0, 1, True), (1, 1, False), (2, 1, False), (None, 1, True), (0, None, True)],
)
def test_a_reopen_concerns_only_the_surveys_of_closures_before_it(closure_count, reopen_count, concerned):
    assert voiding.concerns(closure_count, reopen_count) is concerned


def test_a_reopen_delivered_after_the_next_closure_leaves_that_closures_survey_and_answer_alone(store):
    """The first reopen reaches surveys late, after the case was closed again and that survey answered."""
    emit = Emitted()
    first = issue(store, emit, reopen_count=0)  # closed, then reopened at REOPENED (count 1)
    second = issue(store, emit, now=REOPENED + timedelta(hours=1), reopen_count=1)  # closed again
    answer(store, token_of(emit.of("survey.issued")[1][3]["link"]), REOPENED + timedelta(hours=2), score=5)
    voided, sent = reopen(store, "t1", "c1", REOPENED, REOPENED + timedelta(hours=3), reopen_count=1)
    assert (voided, sent) == (1, [])
    assert survey(store, first.id).status == "voided"
    assert (survey(store, second.id).status, survey(store, second.id).reopened_at) == ("answered", None)


# --- the requests service: the rating follows survey.answered and survey.answer_voided --------


def rated_case(case_store):
    emit = CaseEmitted()
    case = new_case(case_store, emit)
    close(case_store, emit, case["id"], at=T0)
    return case["id"]


def rating_of(case_store, case_id):
    with case_store.read() as session:
        case = session.get(Case, case_id)
        return case.rating, case.rating_verified


@pytest.mark.parametrize("void_first", [False, True], ids=["answered-then-voided", "voided-then-answered"])
def test_the_voided_answers_rating_leaves_the_case_in_either_order_and_an_earlier_one_shows_again(
    case_store, void_first
):
    case_id = rated_case(case_store)
    with case_store.transaction() as session:
        ratings.record(session, "t1", case_id, "s1", 4, True, T0 + timedelta(hours=1))  # fair, before a reopen
    steps = [
        lambda s: ratings.record(s, "t1", case_id, "s2", 1, True, T0 + timedelta(hours=5)),
        lambda s: ratings.void(s, "t1", case_id, "s2"),
    ]
    for step in reversed(steps) if void_first else steps:
        with case_store.transaction() as session:
            step(session)
    assert rating_of(case_store, case_id) == (4, True)
    with case_store.transaction() as session:
        ratings.void(session, "t1", case_id, "s1")
        ratings.void(session, "t1", case_id, "s1")  # twice: the same
    assert rating_of(case_store, case_id) == (None, False)


# --- the notifications service: a webhook that got the answer gets its void ------------------


def test_the_void_goes_to_every_webhook_that_was_sent_the_answer_and_no_other(tmp_path):
    notifications = sqlite_store(tmp_path, "notifications", NotificationsBase)
    with notifications.transaction() as session:
        for events in (["survey.answered"], ["survey.answer_voided"], ["case.closed"]):
            webhooks.subscribe(session, "t1", f"https://hooks.example/{events[0]}", events, T0)
        event = make_event(source_service="surveys", type="survey.answer_voided", subject="s1", tenant="t1", data={})
        assert webhooks.queue_event(session, event, T0) == 2
    with notifications.read() as session:
        assert {d.event_type for d in session.query(WebhookDelivery)} == {"survey.answer_voided"}
    notifications.engine.dispose()
