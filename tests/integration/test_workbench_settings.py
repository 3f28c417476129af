"""A company admin's settings at the workbench over HTTP: case categories and their SLA hours,
notification settings and quiet hours, survey timing, API keys and webhooks, each read and
changed through the API's own RPCs and seen back over the API. A secret (a new key, a webhook's)
is on the answer that made it and never again; a URL the webhook address policy refuses comes
back with what was typed and the message; company staff get the 403 page and another company's
key or webhook is the 404 page, nothing changed either way."""

from __future__ import annotations

import re

import pytest

from services.common.db import utcnow
from services.gateway import staff
from services.notifications.models import WebhookSubscription
from tests.support.api import Api
from tests.support.people import clerk_of
from tests.support.settings import ALLOWED_HOOK, PUBLIC_HOOK, SETTINGS_PAGES, settings_of

pytestmark = pytest.mark.integration

SECRET = re.compile(r'data-secret="[a-z_]+">([^<]+)</code>')


def category(company, code: str) -> dict:
    return next(c for c in company.get("/api/v1/case-categories").json()["data"] if c["code"] == code)


def test_an_admin_changes_a_categorys_sla_hours_and_adds_one_and_bad_hours_come_back_as_typed(platform, company):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    page = admin.get("/workbench/settings/categories")
    assert page.status_code == 200 and 'data-category="repair"' in page.text and 'aria-current="page"' in page.text
    changed = admin.post("/workbench/settings/categories/repair", {"response_hours": "1.5", "resolution_hours": "36"})
    assert changed.status_code == 303, changed.text
    repair = category(company, "repair")
    assert repair["sla"]["normal"] == {"response_hours": 1.5, "resolution_hours": 36.0}
    assert (repair["name"], repair["active"], repair["custom"]) == ("水电维修", True, True)

    added = admin.post(
        "/workbench/settings/categories",
        {"code": "elevator", "name": "电梯故障", "team": "", "response_hours": "0.5", "resolution_hours": "8"},
    )
    assert added.status_code == 303, added.text
    assert category(company, "elevator")["sla"]["normal"] == {"response_hours": 0.5, "resolution_hours": 8.0}

    before = settings_of(company)
    shorter = admin.post("/workbench/settings/categories/repair", {"response_hours": "10", "resolution_hours": "2"})
    assert shorter.status_code == 422
    assert 'data-field="resolution_hours">办结时限不能短于响应时限' in shorter.text
    assert 'name="resolution_hours" value="2"' in shorter.text  # as typed, in the repair row
    bad = admin.post(
        "/workbench/settings/categories",
        {"code": "Bad Code", "name": "坏的", "response_hours": "两小时", "resolution_hours": "8"},
    )
    assert bad.status_code == 422
    assert 'value="Bad Code"' in bad.text and 'value="两小时"' in bad.text
    assert 'data-field="response_hours">请填写数字' in bad.text and 'data-field="code"' in bad.text
    assert admin.post("/workbench/settings/categories/no_such_code", {"response_hours": "1"}).status_code == 404
    assert settings_of(company) == before


def test_an_admin_sets_notification_settings_with_quiet_hours_and_the_survey_timing(platform, company):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    assert admin.get("/workbench/settings/notifications").status_code == 200
    saved = admin.post("/workbench/settings/notifications", {"company_name": "安居物业", "hotline": "400-800-1234",
                                                             "quiet_start": "22:30", "quiet_end": "07:00",
                                                             "timezone": "Asia/Shanghai"})  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert company.get("/api/v1/notification-settings").json() == {
        "company_name": "安居物业", "hotline": "400-800-1234",
        "quiet_hours": {"start": "22:30", "end": "07:00", "timezone": "Asia/Shanghai"},
    }  # fmt: skip
    timing = admin.post("/workbench/settings/surveys", {"link_delay_minutes": "30", "expiry_days": "14",
                                                        "reminder_after_hours": "48"})  # fmt: skip
    assert timing.status_code == 303, timing.text
    assert company.get("/api/v1/survey-settings").json() == {"link_delay_minutes": 30, "expiry_days": 14,
                                                             "reminder_after_hours": 48}  # fmt: skip
    assert 'value="48"' in admin.get("/workbench/settings/surveys").text

    before = settings_of(company)
    quiet = admin.post(
        "/workbench/settings/notifications",
        {"company_name": "改了", "quiet_start": "25:00", "quiet_end": "07:00", "timezone": "Mars/Base"},
    )
    assert quiet.status_code == 422
    assert 'value="25:00"' in quiet.text and 'value="改了"' in quiet.text and 'value="Mars/Base"' in quiet.text
    assert 'data-field="quiet_start"' in quiet.text and 'data-field="timezone">未知的时区' in quiet.text
    survey = admin.post("/workbench/settings/surveys", {"link_delay_minutes": "半小时", "expiry_days": "365",
                                                        "reminder_after_hours": "48"})  # fmt: skip
    assert survey.status_code == 422
    assert 'value="半小时"' in survey.text and 'data-field="link_delay_minutes">请填写整数' in survey.text
    assert 'data-field="expiry_days">超出允许范围' in survey.text
    assert settings_of(company) == before


def test_a_new_key_is_shown_once_works_over_the_api_and_once_revoked_is_refused(platform, company):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    issued = admin.post("/workbench/settings/keys", {"role": "company_staff", "rate_limit": ""})
    assert issued.status_code == 201, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    key = SECRET.search(issued.text).group(1)
    made = Api(platform, key)
    assert made.get("/api/v1/me").json()["role"] == "company_staff"
    reload = admin.get("/workbench/settings/keys")
    assert key not in reload.text and key[:12] in reload.text  # the prefix only, never the key again
    assert "data-secret" not in reload.text
    key_id = re.search(r'data-key="([^"]+)"', issued.text).group(1)

    refused = admin.post("/workbench/settings/keys", {"role": "resident_app", "rate_limit": "fast"})
    assert refused.status_code == 422 and 'data-field="role"' in refused.text and 'value="fast"' in refused.text
    assert 'data-field="rate_limit">应形如' in refused.text and "data-secret" not in refused.text

    revoked = admin.post(f"/workbench/settings/keys/{key_id}/revoke")
    assert revoked.status_code == 303, revoked.text
    assert made.get("/api/v1/me").status_code == 401
    assert next(k for k in company.get("/api/v1/keys").json()["data"] if k["id"] == key_id)["revoked_at"]


def test_a_webhook_is_made_with_its_secret_once_rotated_enabled_again_shows_its_deliveries_and_is_deleted(
    platform, company
):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    made = admin.post(
        "/workbench/settings/webhooks", {"url": ALLOWED_HOOK, "event_types": ["case.closed", "case.submitted"]}
    )
    assert made.status_code == 201, made.text
    secret = SECRET.search(made.text).group(1)
    hook_id = re.search(r'id="created" data-webhook="([^"]+)"', made.text).group(1)
    assert company.get(f"/api/v1/webhooks/{hook_id}").json()["event_types"] == ["case.closed", "case.submitted"]
    listing = admin.get("/workbench/settings/webhooks")
    assert f'data-webhook="{hook_id}" data-status="active"' in listing.text and secret not in listing.text

    assert company.post(f"/api/v1/webhooks/{hook_id}/test").status_code == 202
    page = admin.get(f"/workbench/settings/webhooks/{hook_id}")
    assert page.status_code == 200 and page.text.count("<tr data-delivery=") == 1 and secret not in page.text

    rotated = admin.post(f"/workbench/settings/webhooks/{hook_id}/secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = SECRET.search(rotated.text).group(1)
    assert new_secret != secret and new_secret not in admin.get(f"/workbench/settings/webhooks/{hook_id}").text
    assert company.get(f"/api/v1/webhooks/{hook_id}").json()["previous_secret_expires_at"]  # the old one in grace

    with platform.store("notifications").transaction() as session:
        session.get(WebhookSubscription, hook_id).status = "disabled"  # as after a run of failures
    assert 'action="/workbench/settings/webhooks/' in admin.get(f"/workbench/settings/webhooks/{hook_id}").text
    enabled = admin.post(f"/workbench/settings/webhooks/{hook_id}/enable")
    assert enabled.status_code == 303
    assert company.get(f"/api/v1/webhooks/{hook_id}").json()["status"] == "active"

    deleted = admin.post(f"/workbench/settings/webhooks/{hook_id}/delete")
    assert deleted.status_code == 303
    assert company.get(f"/api/v1/webhooks/{hook_id}").status_code == 404


def test_a_url_the_address_policy_refuses_comes_back_as_typed_with_the_message_and_nothing_is_saved(platform, company):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    before = settings_of(company)
    for url in ("http://10.0.0.5/hooks", "http://localhost:5672/", "http://user:pw@93.184.215.14/hooks"):
        refused = admin.post("/workbench/settings/webhooks", {"url": url, "event_types": ["case.closed"]})
        assert refused.status_code == 422, (url, refused.status_code)
        assert f'name="url" maxlength="500" value="{url}"' in refused.text
        assert 'data-field="url">只能是 http(s) 的公网地址，且不能含用户名或密码' in refused.text
        assert 'value="case.closed" checked' in refused.text and "data-secret" not in refused.text
    no_events = admin.post("/workbench/settings/webhooks", {"url": PUBLIC_HOOK})
    assert no_events.status_code == 422 and 'data-field="event_types"' in no_events.text
    assert settings_of(company) == before


def test_company_staff_get_the_403_page_on_every_settings_page_and_form_and_nothing_changes(platform, company):
    clerk = clerk_of(platform, company, "company_staff", "李师傅")
    hook = company.post("/api/v1/webhooks", {"url": PUBLIC_HOOK, "event_types": ["case.closed"]}).json()
    key_id = company.get("/api/v1/keys").json()["data"][0]["id"]
    before = settings_of(company)
    for name in SETTINGS_PAGES:
        assert clerk.get(f"/workbench/settings/{name}").status_code == 403, name
    assert clerk.get(f"/workbench/settings/webhooks/{hook['id']}").status_code == 403
    forms = {
        "/workbench/settings/categories": {"code": "x_staff", "name": "员工加的", "response_hours": "1",
                                           "resolution_hours": "2"},
        "/workbench/settings/categories/repair": {"response_hours": "9", "resolution_hours": "99"},
        "/workbench/settings/notifications": {"quiet_start": "00:00", "quiet_end": "23:59"},
        "/workbench/settings/surveys": {"link_delay_minutes": "0", "expiry_days": "1", "reminder_after_hours": "1"},
        "/workbench/settings/keys": {"role": "company_admin"},
        f"/workbench/settings/keys/{key_id}/revoke": {},
        "/workbench/settings/webhooks": {"url": PUBLIC_HOOK, "event_types": ["case.submitted"]},
        f"/workbench/settings/webhooks/{hook['id']}/delete": {},
        f"/workbench/settings/webhooks/{hook['id']}/enable": {},
        f"/workbench/settings/webhooks/{hook['id']}/secret": {},
    }  # fmt: skip
    for path, form in forms.items():
        refused = clerk.post(path, form)
        assert refused.status_code == 403, path
        assert "只有公司管理员可以修改设置" in refused.text and "data-secret" not in refused.text
    assert settings_of(company) == before
    assert 'href="/workbench/settings/staff"' not in clerk.get("/workbench").text  # no settings link for staff


def test_another_companys_key_and_webhook_are_the_404_page_and_stay_as_they_were(platform, company, second_company):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    hook = second_company.post("/api/v1/webhooks", {"url": PUBLIC_HOOK, "event_types": ["case.closed"]}).json()
    key_id = second_company.get("/api/v1/keys").json()["data"][0]["id"]
    theirs = settings_of(second_company)
    assert admin.get(f"/workbench/settings/webhooks/{hook['id']}").status_code == 404
    for path in (f"/keys/{key_id}/revoke", f"/webhooks/{hook['id']}/delete", f"/webhooks/{hook['id']}/enable",
                 f"/webhooks/{hook['id']}/secret"):  # fmt: skip
        answer = admin.post("/workbench/settings" + path)
        assert answer.status_code == 404, path
        assert "不属于您的公司" in answer.text and "data-secret" not in answer.text
    assert second_company.get("/api/v1/me").status_code == 200  # their key still works
    assert settings_of(second_company) == theirs
    assert hook["id"] not in admin.get("/workbench/settings/webhooks").text
    assert key_id not in admin.get("/workbench/settings/keys").text


def test_the_settings_are_those_of_the_membership_acted_as_and_staff_of_it_may_not_change_them(
    platform, company, second_company
):
    person = clerk_of(platform, company, "company_staff", "赵双岗")
    with platform.store("gateway").transaction() as session:
        theirs = staff.invite(session, person.phone, "赵双岗", "company_admin", "test", utcnow(),
                              tenant_id=second_company.tenant_id)  # fmt: skip
    ours_before, theirs_before = settings_of(company), settings_of(second_company)
    assert person.get("/workbench/settings/surveys").status_code == 403  # acting as company's staff (the first)
    assert person.post("/workbench/settings/surveys", {"expiry_days": "3"}).status_code == 403
    assert person.post("/workbench/switch", {"membership": theirs.id}).status_code == 303
    assert person.post("/workbench/settings/surveys", {"link_delay_minutes": "5", "expiry_days": "3",
                                                       "reminder_after_hours": "2"}).status_code == 303  # fmt: skip
    assert settings_of(company) == ours_before
    assert settings_of(second_company) == theirs_before | {
        "surveys": {"link_delay_minutes": 5, "expiry_days": 3, "reminder_after_hours": 2}
    }
