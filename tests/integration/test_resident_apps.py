"""An app acts for a resident only with the resident's consent: the resident signs in through the
app with a one-time code, and the app's key works for them only beside that token."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.common.db import utcnow
from services.gateway import sessions, tenants
from services.gateway.models import PersonSession, Tenant
from tests.support.api import Api
from tests.support.infra import wait_for
from tests.support.people import survey_link

pytestmark = pytest.mark.integration


def unique_phone() -> str:
    return "138" + f"{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture
def app_key(platform, company):
    """The operator's key for an app serving ``company``'s residents."""
    with platform.store("gateway").transaction() as session:
        name = session.scalar(select(Tenant.name).where(Tenant.id == company.tenant_id))
        return tenants.issue_app_key(session, name, "连心App")["api_key"]


def sign_in_through(platform, key, phone, sign_in_codes, answers):
    app = Api(platform, key)
    asked = app.post("/api/v1/sign-in/code", {"phone": phone})
    assert asked.status_code == 202, asked.text
    code = sign_in_codes.code_for("+86" + phone)
    signed = app.post("/api/v1/sign-in", {"phone": phone, "code": code})
    assert signed.status_code == 201, signed.text
    answers += [asked, signed]
    return code, signed.json()


def test_an_app_acts_for_exactly_the_resident_who_signed_in_through_it(platform, company, app_key, sign_in_codes):
    phone, neighbour = unique_phone(), unique_phone()
    answers = []
    code, signed = sign_in_through(platform, app_key, phone, sign_in_codes, answers)
    assert set(signed) == {"token", "expires_at"}
    neighbours_case = company.case(company.estate_id, phone=neighbour)  # a walk-in, entered by staff

    app = Api(platform, app_key)
    app.headers["Lianxin-Resident-Token"] = signed["token"]
    body = {
        "estate_id": company.estate_id,
        "category": "repair",
        "title": "水管漏水",
        "description": "厨房水管漏水",
        "channel": "app",
        "reporter": {"name": "陈女士", "phone": neighbour, "household": "2-1-302"},
    }
    mine = app.post("/api/v1/cases", body)
    assert mine.status_code == 201 and mine.json()["reporter"]["phone"] == "+86" + phone  # forced to the resident
    listed = app.get("/api/v1/cases").json()["data"]
    assert [c["id"] for c in listed] == [mine.json()["id"]]
    assert app.get(f"/api/v1/cases/{mine.json()['id']}").status_code == 200
    assert app.get(f"/api/v1/cases/{neighbours_case['id']}").status_code == 404
    for path in ("/api/v1/estates", "/api/v1/case-categories", f"/api/v1/estates/{company.estate_id}/board"):
        assert app.get(path).status_code == 200, path
    assert app.get(f"/api/v1/estates/{company.estate_id}/calendar").status_code == 200
    answers += [mine]

    bare = Api(platform, app_key)
    assert bare.get("/api/v1/cases").status_code == 401  # the key alone acts for nobody
    assert bare.get("/api/v1/inbox").status_code == 401
    assert bare.get("/api/v1/cases", headers={"Lianxin-Resident": phone}).status_code == 401
    with platform.store("gateway").transaction() as session:
        name = session.scalar(select(Tenant.name).where(Tenant.id == company.tenant_id))
        another_app = tenants.issue_app_key(session, name, "别的App")["api_key"]
    stolen = Api(platform, another_app)
    stolen.headers["Lianxin-Resident-Token"] = signed["token"]
    assert stolen.get("/api/v1/cases").status_code == 401  # a token works only with the app it was given to
    assert company.get("/api/v1/cases", headers={"Lianxin-Resident-Token": signed["token"]}).status_code == 200

    assert app.lx.http.delete(platform.base_url + "/api/v1/sign-in", headers=app.headers, timeout=15).status_code == 204
    assert app.get("/api/v1/cases").status_code == 401  # signed out: the token is dead everywhere

    for answer in answers:  # the code is in no answer the app got
        assert code not in answer.text and code not in str(answer.headers)


def test_an_app_signs_in_with_the_same_code_rules(platform, company, app_key, sign_in_codes):
    phone = unique_phone()
    app = Api(platform, app_key)
    assert app.post("/api/v1/sign-in/code", {"phone": phone}).status_code == 202
    again = app.post("/api/v1/sign-in/code", {"phone": phone})
    assert again.status_code == 429 and again.json()["detail"].startswith("请 ")
    assert 0 < int(again.headers["Retry-After"]) <= 60
    code = sign_in_codes.code_for("+86" + phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    tries = [app.post("/api/v1/sign-in", {"phone": phone, "code": wrong}) for _ in range(5)]
    assert [t.status_code for t in tries] == [422] * 5
    locked = app.post("/api/v1/sign-in", {"phone": phone, "code": code})
    assert locked.status_code == 422 and "错误次数过多" in locked.json()["errors"]["code"][0]
    assert company.post("/api/v1/sign-in/code", {"phone": phone}).status_code == 403  # a company signs nobody in


def test_a_resident_token_slides_with_use(platform, company, app_key, sign_in_codes):
    _, signed = sign_in_through(platform, app_key, unique_phone(), sign_in_codes, [])
    digest = sessions.digest(signed["token"])
    soon = utcnow() + timedelta(days=1)
    with platform.store("gateway").transaction() as session:
        session.execute(
            update(PersonSession)
            .where(PersonSession.id == digest)
            .values(last_seen_at=utcnow() - timedelta(days=29), expires_at=soon)
        )
    app = Api(platform, app_key)
    app.headers["Lianxin-Resident-Token"] = signed["token"]
    assert app.get("/api/v1/cases").status_code == 200
    with platform.store("gateway").read() as session:
        expires = session.scalar(select(PersonSession.expires_at).where(PersonSession.id == digest))
    assert expires > utcnow() + timedelta(days=29)


def test_a_company_reading_a_residents_inbox_never_sees_a_survey_link(platform, company, app_key, sign_in_codes):
    phone = unique_phone()
    case = company.case(company.estate_id, phone=phone)
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone), timeout=30)
    token = link.rsplit("/s/", 1)[1]

    seen = company.get("/api/v1/inbox", params={"phone": phone})
    assert seen.status_code == 200 and seen.json()["data"]
    assert token not in seen.text and not re.search(r"/s/[A-Za-z0-9_\-]{8,}", seen.text)
    assert "/s/***" in seen.text

    _, signed = sign_in_through(platform, app_key, phone, sign_in_codes, [])
    app = Api(platform, app_key)
    app.headers["Lianxin-Resident-Token"] = signed["token"]
    own = app.get("/api/v1/inbox", params={"phone": unique_phone()})  # the resident's own, whatever is asked
    assert own.status_code == 200 and token in own.text
