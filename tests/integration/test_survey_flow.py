"""Surveys through the running platform: the token reaches only the resident, the tenant's delay
and the one reminder go through the real services, reopening voids, bursts are flagged, and the
templates, settings and statistics APIs are validated and tenant scoped."""

import logging
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.common import outbox
from services.common.db import utcnow
from services.common.envelope import make_event
from services.notifications.models import Delivery
from services.surveys import issuing, redaction, reminders, statistics, tallies
from services.surveys.models import Outbox, Survey
from tests.support.infra import wait_for
from tests.support.people import post_form, survey_link

pytestmark = pytest.mark.integration


def closed_case(company, phone):
    case = company.case(company.estate_id, phone=phone)
    company.close(case["id"])
    return case


def put(api, path, body):
    return api.lx.http.put(api.lx.base_url + path, json=body, headers=api.headers, timeout=15)


def surveys_of(company, case_id):
    return company.get(f"/api/v1/cases/{case_id}/surveys").json()["data"]


def as_client(platform, name):
    """Requests from one resident's phone: its own User-Agent, so its own fingerprint."""
    return {"User-Agent": f"Mozilla/5.0 (Linux; Android 14) {name}"}


class OutboxEmit(list):
    """What the service's own emit does (outbox row in the caller's transaction), keeping the events."""

    def __call__(self, session, type, subject, tenant, data):
        event = make_event(source_service="surveys", type=type, subject=subject, tenant=tenant, data=data)
        outbox.record(session, Outbox, event)
        self.append(event)
        return event


def test_no_tenant_response_delivery_record_or_sent_outbox_row_carries_the_token(platform, company):
    phone = "13912341001"
    case = closed_case(company, phone)
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone))
    token = link.rsplit("/s/", 1)[1]
    assert platform.http.get(link).status_code == 200
    assert post_form(platform, link, {"score": "4", "comment": "谢谢"}).status_code == 200

    tenant_views = [
        f"/api/v1/cases/{case['id']}",
        f"/api/v1/cases/{case['id']}/surveys",
        f"/api/v1/notifications?phone=%2B86{phone}",
        "/api/v1/survey-statistics?group_by=estate,category,assignee,month",
        "/api/v1/survey-templates",
        "/api/v1/survey-settings",
        "/api/v1/public/survey-league",
    ]
    for path in tenant_views:
        response = company.get(path)
        assert response.status_code == 200, (path, response.text)
        assert token not in response.text, path

    with platform.store("notifications").read() as session:
        deliveries = session.scalars(select(Delivery).where(Delivery.tenant == company.tenant_id)).all()
    survey_deliveries = [d for d in deliveries if d.kind == "survey.issued"]
    assert survey_deliveries and all("/s/***" in d.body for d in survey_deliveries)
    assert not any(token in str({c.name: getattr(d, c.name) for c in Delivery.__table__.columns}) for d in deliveries)

    store = platform.store("surveys")
    try:
        [survey_id] = [s["id"] for s in surveys_of(company, case["id"])]
        wait_for(lambda: all(row.sent_at for row in outbox_rows(store, survey_id)))
        with store.transaction() as session:
            redaction.scrub_sent_links(session)
        bodies = [row.body for row in outbox_rows(store, survey_id)]
    finally:
        store.engine.dispose()
    assert [b["type"] for b in bodies] == ["survey.issued", "survey.answered"]
    assert bodies[0]["data"]["link"].endswith("/s/***")
    assert token not in str(bodies)


def test_no_info_log_line_carries_the_token(platform, company, caplog):
    caplog.set_level(logging.INFO)
    phone = "13912341006"
    closed_case(company, phone)
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone))
    assert platform.http.get(link).status_code == 200
    assert post_form(platform, link, {"score": "4"}).status_code == 200
    assert post_form(platform, link, {"score": "4"}).status_code == 409
    wait_for(lambda: "POST /s/***" in caplog.text)
    leaking = [
        r.name for r in caplog.records if r.levelno >= logging.INFO and link.rsplit("/s/", 1)[1] in r.getMessage()
    ]
    assert leaking == []


def test_the_tenants_listing_of_residents_inboxes_carries_no_survey_token(platform, company):
    """The in-app inbox is the resident's; the tenant's API listing of it must show the link redacted."""
    phone = "13912341005"
    closed_case(company, phone)
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone))
    listing = company.get(f"/api/v1/inbox?phone=%2B86{phone}")
    assert listing.status_code == 200
    assert link.rsplit("/s/", 1)[1] not in listing.text


def outbox_rows(store, survey_id):
    with store.read() as session:
        return session.scalars(select(Outbox).where(Outbox.subject == survey_id).order_by(Outbox.id)).all()


def test_the_tenants_delay_then_the_link_then_one_reminder_through_the_services(platform, company):
    assert put(company, "/api/v1/survey-settings", {"link_delay_minutes": 120}).json() == {
        "link_delay_minutes": 120,
        "expiry_days": 7,
        "reminder_after_hours": 48,
    }
    phone = "13912341002"
    case = closed_case(company, phone)
    [survey] = wait_for(lambda: surveys_of(company, case["id"]))
    assert (survey["status"], survey["link_sent_at"]) == ("issued", None)
    assert survey_link(platform, company.tenant_id, "+86" + phone) is None

    store, emit = platform.store("surveys"), OutboxEmit()
    base = platform.config("surveys")["PUBLIC_BASE_URL"]
    later = utcnow() + timedelta(minutes=121)
    try:
        with store.transaction() as session:
            assert issuing.send_due_links(session, emit, base, later) >= 1
        link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone))
        with store.transaction() as session:
            reminders.send_due_reminders(session, emit, base, later + timedelta(hours=47))
        with store.transaction() as session:
            reminders.send_due_reminders(session, emit, base, later + timedelta(hours=48))
        with store.transaction() as session:
            reminders.send_due_reminders(session, emit, base, later + timedelta(hours=49))
    finally:
        store.engine.dispose()
    mine = [e for e in emit if e["subject"] == survey["id"]]
    assert [e["type"] for e in mine] == ["survey.issued", "survey.reminder_due"]
    assert mine[1]["data"]["reminder"] is True
    reminder_link = wait_for(lambda: (got := survey_link(platform, company.tenant_id, "+86" + phone)) != link and got)
    assert reminder_link == mine[1]["data"]["link"]

    assert platform.http.get(link).status_code == 200
    assert platform.http.post(reminder_link, json={"score": 5}).status_code == 200
    assert platform.http.post(link, json={"score": 1}).status_code == 409
    [answered] = surveys_of(company, case["id"])
    assert (answered["status"], answered["score"]) == ("answered", 5)
    assert answered["reminder_sent_at"] is not None


def test_reopening_voids_the_unanswered_survey_and_its_link_shows_a_clear_page(platform, company):
    phone = "13912341003"
    case = closed_case(company, phone)
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone))
    assert company.transition(case["id"], "reopen", note="业主说还是不亮").status_code == 200
    wait_for(lambda: surveys_of(company, case["id"])[0]["status"] == "voided")
    page = platform.http.get(link)
    assert page.status_code == 200 and "问卷已作废" in page.text
    posted = post_form(platform, link, {"score": "5"})
    assert posted.status_code == 410 and "问卷已作废" in posted.text
    assert surveys_of(company, case["id"])[0]["score"] is None


def test_answers_in_a_burst_from_one_client_are_flagged_and_counted(platform, company):
    links = []
    for n in range(3):
        phone = f"1391234200{n}"
        closed_case(company, phone)
        links.append(wait_for(lambda phone=phone: survey_link(platform, company.tenant_id, "+86" + phone)))
    client = as_client(platform, uuid.uuid4().hex)
    for n, link in enumerate(links):
        # Without trusted proxies (TRUSTED_PROXY_HOPS=0) a forwarded address is the client's own
        # claim, so varying it does not make one client look like three.
        forged = client | {"X-Forwarded-For": f"203.0.113.{n + 1}"}
        assert post_form(platform, link, {"score": "5"}, headers=forged).status_code == 200
    [figures] = company.get("/api/v1/survey-statistics").json()["data"]
    assert (figures["responses"], figures["flagged_burst"], figures["csat"]) == (3, 3, 1.0)
    store = platform.store("surveys")
    try:
        with store.read() as session:
            rows = session.scalars(select(Survey).where(Survey.tenant == company.tenant_id)).all()
            running = tallies.stored(session, company.tenant_id)
            counted = statistics.recount(session, company.tenant_id)
    finally:
        store.engine.dispose()
    assert [(r.status, r.flagged_burst) for r in rows] == [("answered", True)] * 3
    assert running == counted and running[0]["unverified_flagged"] == 3  # no session: none of them verified
    assert all(len(r.fingerprint) == 64 and "127.0.0.1" not in r.fingerprint for r in rows)


def test_templates_are_versioned_and_a_new_survey_asks_the_new_questions(platform, company, second_company):
    assert company.get("/api/v1/survey-templates").json()["data"][0]["version"] == 0
    bad = company.post("/api/v1/survey-templates", {"nps": "maybe", "title": " "})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"nps", "title"}
    saved = company.post("/api/v1/survey-templates", {"nps": True, "ces": True, "speed": False})
    assert saved.status_code == 201
    assert {k: saved.json()[k] for k in ("version", "nps", "ces", "speed", "attitude")} == {
        "version": 1,
        "nps": True,
        "ces": True,
        "speed": False,
        "attitude": True,
    }
    assert second_company.get("/api/v1/survey-templates").json()["data"][0]["version"] == 0

    phone = "13912341004"
    case = closed_case(company, phone)
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone))
    page = platform.http.get(link).text
    assert 'name="nps"' in page and 'name="ces"' in page and 'name="speed"' not in page
    bad_answer = post_form(platform, link, {"score": "4", "nps": "11"})
    assert bad_answer.status_code == 422 and "0 到 10" in bad_answer.text
    answered = post_form(platform, link, {"score": "4", "nps": "9", "ces": "2", "speed": "5", "comment": ""})
    assert answered.status_code == 200 and "感谢您的评价" in answered.text
    [survey] = surveys_of(company, case["id"])
    assert {k: survey[k] for k in ("template_version", "score", "nps", "ces", "speed", "comment")} == {
        "template_version": 1,
        "score": 4,
        "nps": 9,
        "ces": 2,
        "speed": None,
        "comment": None,
    }


def test_settings_and_statistics_are_validated_and_tenant_scoped(platform, company, second_company):
    bad = put(company, "/api/v1/survey-settings", {"link_delay_minutes": -1, "expiry_days": 0})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"link_delay_minutes", "expiry_days"}
    assert put(company, "/api/v1/survey-settings", {"expiry_days": 3}).status_code == 200
    assert company.get("/api/v1/survey-settings").json()["expiry_days"] == 3
    assert second_company.get("/api/v1/survey-settings").json()["expiry_days"] == 7

    assert company.get("/api/v1/survey-statistics?group_by=planet").status_code == 422
    assert company.get("/api/v1/survey-statistics?from=2026-13").status_code == 422
    other = company.get(f"/api/v1/survey-statistics?estate_id={second_company.estate_id}")
    assert other.status_code == 404
    own = company.get(f"/api/v1/survey-statistics?estate_id={company.estate_id}&group_by=estate")
    assert own.status_code == 200 and own.json()["data"] == []
    assert company.get("/api/v1/survey-settings", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_public_league_needs_no_key_and_withholds_a_company_with_fewer_than_five_answers(platform, company):
    for n in range(4):
        phone = f"1391234300{n}"
        closed_case(company, phone)
        link = wait_for(lambda phone=phone: survey_link(platform, company.tenant_id, "+86" + phone))
        client = as_client(platform, uuid.uuid4().hex)
        assert post_form(platform, link, {"score": "5"}, headers=client).status_code == 200
    league = platform.http.get(platform.base_url + "/api/v1/public/survey-league").json()
    assert league["minimum_answers"] == 5
    assert company.tenant_id not in {row["tenant"] for row in league["companies"] + league["estates"]}
    [mine] = company.get("/api/v1/survey-statistics").json()["data"]
    assert (mine["responses"], mine["flagged_burst"]) == (4, 0)
