"""``Idempotency-Key`` runs after the caller is known, is scoped to that caller, and keeps no secret.

Issue 18, item 2: each test here failed on the code before the fix (see the commit message).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from services.gateway import tenants
from services.gateway.models import IdempotentRequest
from tests.support.api import Api, new_company, resident_app

pytestmark = pytest.mark.integration


def key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


def kept_rows(platform) -> list[IdempotentRequest]:
    with platform.store("gateway").read() as session:
        return list(session.scalars(select(IdempotentRequest)))


def row_count(platform) -> int:
    with platform.store("gateway").read() as session:
        return session.scalar(select(func.count()).select_from(IdempotentRequest))


def case_body(company, title: str) -> dict:
    return {
        "estate_id": company.estate_id,
        "category": "repair",
        "title": title,
        "description": "水管漏水",
        "channel": "app",
        "reporter": {"name": "陈先生", "phone": "13912345678", "household": "3-2-501"},
    }


def test_an_unauthenticated_post_with_a_used_idempotency_key_is_401_and_keeps_nothing(platform, company):
    anonymous = Api(platform, "")
    anonymous.headers = {}
    same = key()
    before = row_count(platform)
    first = anonymous.post("/api/v1/cases", case_body(company, "甲"), headers=same)
    other_body = anonymous.post("/api/v1/cases", case_body(company, "乙"), headers=same)
    assert first.status_code == other_body.status_code == 401, other_body.text
    assert "Idempotent-Replayed" not in other_body.headers
    assert row_count(platform) == before


def test_refused_callers_write_no_idempotency_rows(platform, company):
    with platform.store("gateway").transaction() as session:
        staff = Api(platform, tenants.issue_key(session, company.tenant_id, role="company_staff"))
    before = row_count(platform)
    unknown = Api(platform, "lx_live_" + "x" * 32)
    assert unknown.post("/api/v1/cases", case_body(company, "x"), headers=key()).status_code == 401
    assert staff.post("/api/v1/keys", {"role": "company_staff"}, headers=key()).status_code == 403
    assert row_count(platform) == before


def test_a_revoked_key_replaying_its_own_key_issue_is_401(platform):
    company = new_company(platform)
    same = key()
    issued = company.post("/api/v1/keys", {"role": "company_admin"}, headers=same)
    assert issued.status_code == 201, issued.text
    successor = Api(platform, issued.json()["api_key"])
    with platform.store("gateway").read() as session:
        own_id = tenants.authenticate(session, company.key)[1].id
    assert successor.post(f"/api/v1/keys/{own_id}/revoke").status_code == 200

    replayed = company.post("/api/v1/keys", {"role": "company_admin"}, headers=same)
    assert replayed.status_code == 401, replayed.text
    assert issued.json()["api_key"] not in replayed.text


@pytest.mark.parametrize(
    ("path", "body", "secret"),
    [
        ("/api/v1/keys", {"role": "company_staff"}, "api_key"),
        ("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "event_types": ["case.closed"]}, "secret"),
    ],
)
def test_an_answer_showing_a_secret_is_kept_without_it_and_its_replay_says_so(platform, company, path, body, secret):
    same = key()
    first = company.post(path, body, headers=same)
    assert first.status_code == 201, first.text
    shown = first.json()[secret]
    assert shown and "withheld" not in first.json() and "Idempotent-Withheld" not in first.headers
    assert not [row for row in kept_rows(platform) if shown in (row.body or "")]

    again = company.post(path, body, headers=same)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Idempotent-Withheld"] == secret
    assert again.json() == first.json() | {secret: None, "withheld": [secret]}
    assert shown not in again.text


def test_a_residents_token_is_not_kept_for_a_replay_of_the_sign_in(platform, company, sign_in_codes):
    app = resident_app(platform, company.tenant_id, "13812340001")
    del app.headers["Lianxin-Resident-Token"]  # signing in: the key alone
    phone = "138" + f"{uuid.uuid4().int % 10**8:08d}"
    assert app.post("/api/v1/sign-in/code", {"phone": phone}).status_code == 202
    body = {"phone": phone, "code": sign_in_codes.code_for("+86" + phone)}
    same = key()
    first = app.post("/api/v1/sign-in", body, headers=same)
    assert first.status_code == 201, first.text
    token = first.json()["token"]
    assert not [row for row in kept_rows(platform) if token in (row.body or "")]
    again = app.post("/api/v1/sign-in", body, headers=same)
    assert again.status_code == 201 and again.headers["Idempotent-Withheld"] == "token"
    assert again.json() == {"token": None, "expires_at": first.json()["expires_at"], "withheld": ["token"]}


def test_a_residents_retry_after_signing_in_again_acts_once(platform, company):
    """The scope is the resident (the person), not the session: a new sign-in does not make a retry new."""
    first_session = resident_app(platform, company.tenant_id, "13812340002")
    second_session = resident_app(platform, company.tenant_id, "13812340002", key=first_session.app_key)
    assert first_session.token != second_session.token
    same, body = key(), case_body(company, "重新登录后重试")
    first = first_session.post("/api/v1/cases", body, headers=same)
    retry = second_session.post("/api/v1/cases", body, headers=same)
    assert first.status_code == retry.status_code == 201, retry.text
    assert retry.json()["id"] == first.json()["id"] and retry.headers["Idempotent-Replayed"] == "true"


def test_two_residents_of_one_app_never_meet_on_a_key(platform, company):
    one = resident_app(platform, company.tenant_id, "13812340003")
    other = resident_app(platform, company.tenant_id, "13812340004", key=one.app_key)
    same, body = key(), case_body(company, "同一个键")
    a, b = one.post("/api/v1/cases", body, headers=same), other.post("/api/v1/cases", body, headers=same)
    assert a.status_code == b.status_code == 201, b.text
    assert a.json()["id"] != b.json()["id"] and "Idempotent-Replayed" not in b.headers


def open311_post(api: Api, headers: dict, with_key: bool = True):
    form = {
        "service_code": "repair",
        "attribute[estate]": api.estate_id,
        "attribute[household]": "1-1-101",
        "phone": "13912345678",
        "description": "路灯不亮",
    } | ({"api_key": api.key} if with_key else {})
    return api.lx.http.post(api.lx.base_url + "/open311/v2/requests.json", data=form, headers=headers, timeout=15)


def test_open311_posts_are_scoped_by_their_key(platform, company, second_company):
    same = key()
    ours, again = open311_post(company, same), open311_post(company, same)
    theirs = open311_post(second_company, same)
    assert ours.status_code == again.status_code == theirs.status_code == 201, theirs.text
    assert again.json() == ours.json() and again.headers["Idempotent-Replayed"] == "true"
    assert theirs.json()[0]["service_request_id"] != ours.json()[0]["service_request_id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_an_open311_post_without_a_key_is_open311s_401_and_keeps_nothing(platform, company):
    before, same = row_count(platform), key()
    answers = [open311_post(company, same, with_key=False) for _ in range(2)]
    assert [a.status_code for a in answers] == [401, 401], answers[-1].text
    assert answers[-1].json() == [{"code": 401, "description": "send Authorization: Bearer <api key>"}]
    assert row_count(platform) == before


def test_an_open311_key_reused_for_another_post_is_open311s_422(platform, company):
    same = key()
    assert open311_post(company, same).status_code == 201
    form = {"service_code": "repair", "attribute[estate]": company.estate_id, "description": "另一件事"}
    url = company.lx.base_url + "/open311/v2/requests.json"
    other = company.lx.http.post(url, data=form | {"api_key": company.key}, headers=same, timeout=15)
    assert other.status_code == 422, other.text
    assert other.json() == [{"code": 422, "description": "this Idempotency-Key was used for a different request"}]
