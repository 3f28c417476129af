"""Issue 18: an answer that lands between a reopen and the void it causes no longer counts.

The race, through the running services: the company reopens a case; the requests service's
events are held back (its outbox link is cut, as in a broker outage), so the surveys service has
not yet heard of the reopen when the resident's answer arrives, is taken, and its
``survey.answered`` reaches the requests service (the case gets the rating). When the reopen
finally arrives, the surveys service voids the answer (the rule: services/surveys/voiding.py,
unit tests in tests/unit/test_answer_after_reopen.py) and sends ``survey.answer_voided`` once;
the rating leaves the case, the statistics and the league never count the answer, and another
case's rating stays as it was. Before the fix the answer stayed counted and the rating stayed.
"""

import json
import time
import uuid

import pytest
from sqlalchemy import func, select

from services.common.broker import ConfirmingPublisher, Outgoing
from services.notifications.models import Inbox as NotificationsInbox
from services.requests.models import Inbox as RequestsInbox
from services.requests.models import Outbox as RequestsOutbox
from services.surveys import statistics, tallies
from services.surveys.models import Outbox as SurveysOutbox
from services.surveys.models import Survey
from tests.support.api import company_in
from tests.support.infra import wait_for
from tests.support.people import answer, confirm, sign_in, survey_link

pytestmark = pytest.mark.integration

VOIDED = "survey.answer_voided"
SURVEYS_REOPEN_QUEUE = "evt-requests-case.reopened--surveys.on_case_reopened"


def read(platform, service, query):
    store = platform.store(service)
    try:
        with store.read() as session:
            return query(session)
    finally:
        store.engine.dispose()


def survey_of(platform, case_id):
    return read(platform, "surveys", lambda s: s.scalars(select(Survey).where(Survey.case_id == case_id)).one())


def rating_of(company, case_id):
    case = company.get(f"/api/v1/cases/{case_id}").json()
    return case["rating"], case["rating_verified"]


def count(platform, service, model, *where):
    return read(platform, service, lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


def closed_case_answered_later(platform, company, household, phone):
    """A confirmed resident's case, closed; the survey link they received."""
    confirm(platform, company.community, company.tenant_id, company.estate_id, (household, phone))
    case = company.case(company.estate_id, phone=phone, household=household)
    company.close(case["id"])
    return case, wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone), timeout=30)


def test_an_answer_that_arrives_after_the_reopen_but_before_surveys_hears_of_it_is_voided_everywhere(
    platform, outbox_link
):
    community = f"重开社区{uuid.uuid4().hex[:6]}"
    company = company_in(platform, community, f"重开物业{uuid.uuid4().hex[:4]}")
    company.community = community

    # What must not change: another case of the company, answered fairly by a confirmed resident.
    fair, fair_link = closed_case_answered_later(platform, company, "5-1-101", "13900181001")
    assert answer(platform, fair_link, 4, sign_in(platform, "13900181001"), user_agent="fair").status_code == 200
    wait_for(lambda: rating_of(company, fair["id"]) == (4, True), timeout=30)

    raced, link = closed_case_answered_later(platform, company, "5-1-102", "13900181002")
    outbox_link.cut()  # the requests service's events wait in its outbox: surveys has not heard of the reopen
    try:
        assert company.transition(raced["id"], "reopen", note="灯又不亮了").status_code == 200
        time.sleep(0.2)  # the answer comes strictly after the reopen
        resident = sign_in(platform, "13900181002")
        assert answer(platform, link, 5, resident, user_agent="raced").status_code == 200  # taken: still open here
        wait_for(lambda: rating_of(company, raced["id"]) == (5, True), timeout=30)  # survey.answered was applied
        assert survey_of(platform, raced["id"]).status == "answered"
    finally:
        outbox_link.restore()

    # surveys processes the reopen now, after the answer: the rule voids the answer
    wait_for(lambda: survey_of(platform, raced["id"]).status == "voided", timeout=30)
    voided = survey_of(platform, raced["id"])
    assert voided.score == 5 and voided.answered_at is not None  # kept for the record, counted nowhere

    # ... and every consumer of its survey.answered takes back what it did
    wait_for(lambda: rating_of(company, raced["id"]) == (None, False), timeout=30)
    on_void = NotificationsInbox.handler == "on_survey_answer_voided"
    wait_for(lambda: count(platform, "notifications", NotificationsInbox, on_void) >= 1, timeout=30)

    # The follow-up is sent exactly once, even when the reopen is delivered again.
    [reopen_event] = read(
        platform,
        "requests",
        lambda s: s.scalars(
            select(RequestsOutbox.body).where(
                RequestsOutbox.subject == raced["id"], RequestsOutbox.type == "case.reopened"
            )
        ).all(),
    )
    publisher = ConfirmingPublisher(platform.config("surveys")["AMQP_URI"])
    try:
        body = json.dumps(reopen_event, ensure_ascii=False).encode()
        publisher.publish(Outgoing("", SURVEYS_REOPEN_QUEUE, body, reopen_event["id"]))
    finally:
        publisher.close()
    time.sleep(2.0)  # the redelivery is consumed (and ignored: the inbox has it)
    assert (
        count(platform, "surveys", SurveysOutbox, SurveysOutbox.type == VOIDED, SurveysOutbox.subject == voided.id) == 1
    )
    wait_for(
        lambda: (
            count(platform, "surveys", SurveysOutbox, SurveysOutbox.type == VOIDED, SurveysOutbox.sent_at.is_not(None))
            == 1
        ),
        timeout=30,
    )
    on_void_in_requests = RequestsInbox.handler == "on_survey_answer_voided"
    assert count(platform, "requests", RequestsInbox, on_void_in_requests) == 1
    assert count(platform, "notifications", NotificationsInbox, on_void) == 1

    # The statistics and the league count the fair answer only; the other case keeps its rating.
    def tenant_tallies(session):
        running = tallies.stored(session, company.tenant_id)
        assert running == statistics.recount(session, company.tenant_id)
        return [(row["issued"], row["responses"], row["score_sum"], row["unverified_responses"]) for row in running]

    assert read(platform, "surveys", tenant_tallies) == [(1, 1, 4, 0)]
    [figures] = company.get("/api/v1/survey-statistics").json()["data"]
    assert (figures["issued"], figures["responses"], figures["csat_mean"]) == (1, 1, 4.0)
    assert rating_of(company, fair["id"]) == (4, True)
    assert survey_of(platform, fair["id"]).status == "answered"
    assert company.get(f"/api/v1/cases/{raced['id']}").json()["status"] == "reopened"
