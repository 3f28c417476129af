"""The notifications service wired to real channels: SMTP, Aliyun SMS and webhooks on local servers.

Its own platform (gateway + notifications, a private vhost and databases) so the channels can be
configured: email to an aiosmtpd server, Aliyun SMS to a local dysmsapi that re-verifies every
signature, short retry delays, and webhook endpoints disabled after 3 failures in a row.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import threading
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests as http
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.common import migrate
from services.common.broker import ConfirmingPublisher
from services.common.envelope import make_event
from services.common.outbox import to_outgoing
from services.notifications.models import Delivery, InboxMessage
from tests.support.infra import Platform, free_port, private_databases, private_vhost, wait_for

pytestmark = pytest.mark.integration

ALIYUN_KEY, ALIYUN_SECRET = "LTAI5tLianxinSvc", "svc-secret/+*~"


class Mailbox:
    """aiosmtpd handler: keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


class LocalController(Controller):
    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def pop_encode(value: str) -> str:
    """Aliyun's documented encoding: form-encode, then + → %20, * → %2A, %7E → ~."""
    return urllib.parse.quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


class Dysmsapi:
    """A local Aliyun SendSms that checks the signature and parameters as Aliyun documents them."""

    def __init__(self) -> None:
        self.accepted: list[dict] = []
        self.rejected: list[str] = []

    def __call__(self, request: Request) -> Response:
        params = request.args.to_dict()
        signature = params.pop("Signature", "")
        canon = "&".join(f"{pop_encode(k)}={pop_encode(params[k])}" for k in sorted(params))
        to_sign = "GET&%2F&" + pop_encode(canon)
        expected = base64.b64encode(
            hmac.new((ALIYUN_SECRET + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        checks = {
            "signature": signature == expected,
            "key": params.get("AccessKeyId") == ALIYUN_KEY,
            "action": params.get("Action") == "SendSms" and params.get("Version") == "2017-05-25",
            "phone": params.get("PhoneNumbers", "").isdigit() and len(params["PhoneNumbers"]) == 11,
            "sign name": params.get("SignName") == "连心物业",
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            self.rejected.append(",".join(failed))
            return Response(json.dumps({"Code": "SignatureDoesNotMatch", "Message": ",".join(failed)}), status=400)
        self.accepted.append(params)
        return Response(json.dumps({"Code": "OK", "Message": "OK", "BizId": f"biz-{len(self.accepted)}"}))


class WeChatApi:
    """A local api.weixin.qq.com: hands out one token, checks it and the subscribe message's fields."""

    def __init__(self) -> None:
        self.token_requests = 0
        self.sent: list[dict] = []

    def __call__(self, request: Request) -> Response:
        if request.path == "/cgi-bin/token":
            self.token_requests += 1
            ok = request.args.to_dict() == {"grant_type": "client_credential", "appid": "wx-app", "secret": "wx-secret"}
            body = (
                {"access_token": "TOKEN-1", "expires_in": 7200} if ok else {"errcode": 40013, "errmsg": "invalid appid"}
            )
            return Response(json.dumps(body), mimetype="application/json")
        if request.path != "/cgi-bin/message/subscribe/send" or request.args.get("access_token") != "TOKEN-1":
            return Response(json.dumps({"errcode": 40001, "errmsg": "invalid credential"}), mimetype="application/json")
        payload = json.loads(request.get_data())
        if payload["touser"] == "o-unsubscribed":
            return Response(json.dumps({"errcode": 43101, "errmsg": "user refuse to accept the msg"}))
        assert set(payload) == {"touser", "template_id", "data"}
        self.sent.append(payload)
        return Response(json.dumps({"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)}))


def standard_webhooks_verify(secret: str, headers, body: bytes) -> str:
    """The receiver side of Standard Webhooks, written from the spec (not from our sender)."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    assert abs(int(timestamp) - datetime.now(UTC).timestamp()) < 300
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    assert expected in headers["webhook-signature"].split(" "), "bad signature"
    return msg_id


class Receiver:
    """A tenant's endpoint: fails its first ``failures`` requests with 500, then verifies and keeps."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.secret = ""
        self.calls = 0
        self.events: list[dict] = []
        self.ids: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.calls += 1
            if self.calls <= self.failures:
                return Response("down", status=500)
        body = request.get_data()
        self.ids.append(standard_webhooks_verify(self.secret, request.headers, body))
        self.events.append(json.loads(body))
        return Response("", status=204)


def serve(handler) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, Request.application(handler), threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture(scope="module")
def local():
    """The providers: SMTP, dysmsapi and two webhook receivers."""
    mailbox = Mailbox()
    smtp = LocalController(mailbox, hostname="127.0.0.1", port=0)
    smtp.start()
    sms = Dysmsapi()
    sms_url, sms_server = serve(sms)
    flaky, broken = Receiver(failures=2), Receiver(failures=10**6)
    flaky_url, flaky_server = serve(flaky)
    broken_url, broken_server = serve(broken)
    wechat = WeChatApi()
    wechat_url, wechat_server = serve(wechat)
    yield {
        "wechat": wechat,
        "wechat_url": wechat_url,
        "mailbox": mailbox,
        "smtp_port": smtp.port,
        "sms": sms,
        "sms_url": sms_url,
        "flaky": flaky,
        "flaky_url": flaky_url,
        "broken": broken,
        "broken_url": broken_url,
    }
    smtp.stop()
    for server in (sms_server, flaky_server, broken_server, wechat_server):
        server.shutdown()


@pytest.fixture(scope="module")
def lx(local):
    settings = {
        "NOTIFY_CHANNELS": "inapp,log,email,aliyun_sms,wechat",
        "WECHAT_APP_ID": "wx-app",
        "WECHAT_APP_SECRET": "wx-secret",
        "WECHAT_ENDPOINT": local["wechat_url"],
        "WECHAT_TEMPLATES": "case.submitted=TMPL_CASE:thing1=title|name2=name",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(local["smtp_port"]),
        "SMTP_SENDER": "noreply@lianxin.example",
        "ALIYUN_SMS_ACCESS_KEY_ID": ALIYUN_KEY,
        "ALIYUN_SMS_ACCESS_KEY_SECRET": ALIYUN_SECRET,
        "ALIYUN_SMS_SIGN_NAME": "连心物业",
        "ALIYUN_SMS_TEMPLATES": ",".join(
            (
                "case.submitted=SMS_100:name|title",
                "notice=SMS_200:title",
                "incident.declared=SMS_300:title|expected_end",
            )
        ),
        "ALIYUN_SMS_ENDPOINT": local["sms_url"] + "/",
        "NOTIFY_RETRY_BASE_SECONDS": "0.1",
        "NOTIFY_RETRY_CAP_SECONDS": "0.2",
        "NOTIFY_POLL_SECONDS": "0.1",
        "WEBHOOK_DISABLE_AFTER_FAILURES": "3",
        "WEBHOOK_DISABLE_AFTER_SECONDS": "0",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the receivers above listen on loopback
    }
    with private_vhost() as amqp_uri, private_databases(os.environ.get("TEST_DATABASE_URL")) as urls:
        platform = Platform(amqp_uri, urls, RETRY_DELAYS="0.3,0.6", DLQ_MAX_ATTEMPTS=4, RPC_TIMEOUT=10)
        platform.port = free_port()
        platform.base_url = f"http://127.0.0.1:{platform.port}"
        for name in ("gateway", "notifications"):
            migrate.upgrade(name, urls[name])
        platform.start("notifications", "gateway", notifications=settings)
        yield platform
        platform.stop()


class Tenant:
    def __init__(self, platform: Platform) -> None:
        from services.gateway import tenants

        with platform.store("gateway").transaction() as session:
            created = tenants.create_tenant(session, f"测试物业-{uuid.uuid4().hex[:8]}", "政通路社区")
        self.id = created["tenant_id"]
        self.base = platform.base_url
        self.http = http.Session()
        self.http.trust_env = False
        self.http.headers["Authorization"] = f"Bearer {created['api_key']}"

    def get(self, path, **params):
        return self.http.get(self.base + path, params=params, timeout=15)

    def post(self, path, body=None, **kwargs):
        return self.http.post(self.base + path, json=body, timeout=15, **kwargs)

    def put(self, path, body):
        return self.http.put(self.base + path, json=body, timeout=15)


def no_quiet_hours(tenant: Tenant) -> None:
    response = tenant.put("/api/v1/notification-settings", {"quiet_hours": {"start": "00:00", "end": "00:00"}})
    assert response.status_code == 200, response.text


def publish(platform: Platform, event: dict) -> None:
    publisher = ConfirmingPublisher(platform.amqp_uri)
    try:
        publisher.publish(to_outgoing(event))
    finally:
        publisher.close()


def case_submitted(tenant: Tenant, phone: str, title: str = "楼道灯不亮") -> dict:
    return make_event(
        source_service="requests",
        type="case.submitted",
        subject=str(uuid.uuid4()),
        tenant=tenant.id,
        data={"title": title, "reporter": {"name": "陈先生", "phone": phone, "household": "3-2-501"}},
    )


def deliveries(platform: Platform, trigger_id: str) -> dict[str, list[str]]:
    with platform.store("notifications").read() as session:
        rows = session.execute(
            select(Delivery.channel, Delivery.status)
            .where(Delivery.trigger_id == trigger_id)
            .order_by(Delivery.channel)
        ).all()
    found: dict[str, list[str]] = {}
    for channel, status in rows:
        found.setdefault(channel, []).append(status)
    return found


def test_an_event_reaches_email_sms_and_the_inbox_once_even_when_redelivered(lx, local):
    tenant = Tenant(lx)
    no_quiet_hours(tenant)
    saved = tenant.post("/api/v1/contacts", {"phone": "13912340101", "name": "陈先生", "email": "chen@example.com"})
    assert saved.status_code == 200, saved.text
    event = case_submitted(tenant, "+8613912340101", title="电梯<异响>")
    mails_before, sms_before = len(local["mailbox"].messages), len(local["sms"].accepted)

    publish(lx, event)
    wait_for(
        lambda: (
            deliveries(lx, event["id"])
            == {"aliyun_sms": ["sent"], "email": ["sent"], "inapp": ["delivered"], "log": ["sent"]}
        )
    )
    publish(lx, event)  # the broker redelivers the same event
    second = case_submitted(tenant, "+8613912340101", title="第二件事")
    publish(lx, second)  # a later event passes the redelivered one in the queue
    wait_for(lambda: deliveries(lx, second["id"]).get("email") == ["sent"])

    assert deliveries(lx, event["id"]) == {
        "aliyun_sms": ["sent"],
        "email": ["sent"],
        "inapp": ["delivered"],
        "log": ["sent"],
    }
    mails = [
        (envelope.rcpt_tos, parsed)
        for envelope in local["mailbox"].messages[mails_before:]
        if "电梯"
        in (parsed := email.message_from_bytes(envelope.content, policy=email.policy.default))
        .get_body(("plain",))
        .get_content()
    ]
    assert len(mails) == 1
    recipients, mail = mails[0]
    assert recipients == ["chen@example.com"]
    assert mail["Subject"] == "诉求已受理登记"
    assert "陈先生您好，您反映的“电梯<异响>”已登记" in mail.get_body(("plain",)).get_content()
    assert "电梯&lt;异响&gt;" in mail.get_body(("html",)).get_content()  # the HTML part is autoescaped
    texts = [p for p in local["sms"].accepted[sms_before:] if "电梯" in p["TemplateParam"]]
    assert [(p["PhoneNumbers"], p["TemplateCode"], json.loads(p["TemplateParam"])) for p in texts] == [
        ("13912340101", "SMS_100", {"name": "陈先生", "title": "电梯<异响>"})
    ]
    assert local["sms"].rejected == []
    inbox = tenant.get("/api/v1/inbox", phone="13912340101").json()["data"]
    assert [m["subject"] for m in inbox] == ["诉求已受理登记", "诉求已受理登记"]


def test_a_webhook_receiver_sees_each_event_once_after_failing_twice(lx, local):
    tenant = Tenant(lx)
    receiver = local["flaky"]
    created = tenant.post(
        "/api/v1/webhooks", {"url": local["flaky_url"] + "/hooks", "event_types": ["case.submitted", "case.closed"]}
    )
    assert created.status_code == 201, created.text
    receiver.secret = created.json()["secret"]
    assert receiver.secret.startswith("whsec_")
    assert "secret" not in tenant.get(f"/api/v1/webhooks/{created.json()['id']}").json()

    submitted = case_submitted(tenant, "+8613912340202")
    closed = make_event(
        source_service="requests", type="case.closed", subject=submitted["subject"], tenant=tenant.id, data={"id": 1}
    )
    other = Tenant(lx)  # another tenant's event never reaches this endpoint
    publish(lx, submitted)
    publish(lx, closed)
    publish(lx, case_submitted(other, "+8613912340203"))
    publish(lx, submitted)  # redelivered
    wait_for(lambda: len(receiver.events) == 2)
    wait_for(lambda: deliveries(lx, closed["id"]) == {} and receiver.calls >= 4)

    assert receiver.calls == 4  # two failures, then each event once
    assert sorted(receiver.ids) == sorted([submitted["id"], closed["id"]])
    assert sorted(e["type"] for e in receiver.events) == ["case.closed", "case.submitted"]
    hook = tenant.get(f"/api/v1/webhooks/{created.json()['id']}").json()
    assert hook["status"] == "active" and hook["consecutive_failures"] == 0
    assert sorted((d["event_type"], d["status"]) for d in hook["recent_deliveries"]) == [
        ("case.closed", "sent"),
        ("case.submitted", "sent"),
    ]
    assert sum(d["attempts"] for d in hook["recent_deliveries"]) == 4


def test_an_endpoint_that_keeps_failing_is_disabled_and_can_be_enabled(lx, local):
    tenant = Tenant(lx)
    created = tenant.post("/api/v1/webhooks", {"url": local["broken_url"], "event_types": ["case.submitted"]}).json()
    tested = tenant.post(f"/api/v1/webhooks/{created['id']}/test")
    assert tested.status_code == 202, tested.text

    hook = wait_for(lambda: (h := tenant.get(f"/api/v1/webhooks/{created['id']}").json())["status"] == "disabled" and h)
    assert hook["consecutive_failures"] == 3
    assert [(d["event_type"], d["status"], d["attempts"]) for d in hook["recent_deliveries"]] == [
        ("webhook.test", "failed", 3)
    ]
    enabled = tenant.post(f"/api/v1/webhooks/{created['id']}/enable").json()
    assert (enabled["status"], enabled["consecutive_failures"]) == ("active", 0)
    assert Tenant(lx).get(f"/api/v1/webhooks/{created['id']}").status_code == 404


def import_estate(tenant: Tenant, estate: str, households: int, extra_members: int = 0) -> None:
    rows = ["phone,name,estate_id,household,email"]
    for n in range(households):
        rows.append(f"1371{n:07d},住户{n},{estate},1-{n // 10}-{n % 10:02d}01,")
    for n in range(extra_members):  # a second person in some households: still one message each
        rows.append(f"1372{n:07d},家属{n},{estate},1-{n // 10}-{n % 10:02d}01,")
    rows.append(f"12345,坏号码,{estate},9-9-999,")
    response = tenant.http.post(
        tenant.base + "/api/v1/contact-imports",
        data="\n".join(rows).encode(),
        headers={"Content-Type": "text/csv"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["received"], report["imported"]) == (households + extra_members + 1, households + extra_members)
    assert [r["row"] for r in report["rejected"]] == [households + extra_members + 1]
    assert list(report["rejected"][0]["errors"]) == ["phone"]


def test_ten_thousand_contacts_import_as_json_within_the_import_limit(lx):
    tenant = Tenant(lx)
    rows = [
        {
            "phone": f"1373{n:07d}",
            "name": f"住户{n}",
            "email": f"resident{n}@example.com",
            "estate_id": "estate-j",
            "household": f"{n // 100}-1-{n % 100:02d}01",
        }
        for n in range(10_000)
    ]
    body = json.dumps({"contacts": rows}, ensure_ascii=False).encode()
    assert 1024 * 1024 < len(body) < 8 * 1024 * 1024  # over the ordinary body limit, under the import one
    imported = tenant.http.post(
        tenant.base + "/api/v1/contact-imports",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["received"], imported.json()["imported"], imported.json()["rejected"]) == (
        10_000,
        10_000,
        [],
    )
    too_big = tenant.http.post(
        tenant.base + "/api/v1/contact-imports",
        data=b" " * (8 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert too_big.status_code == 413
    ordinary = tenant.http.post(
        tenant.base + "/api/v1/contacts", data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert ordinary.status_code == 413  # every other route keeps MAX_BODY_BYTES


def test_a_notice_waits_for_quiet_hours_but_an_emergency_does_not(lx, local):
    tenant = Tenant(lx)
    local_now = datetime.now(ZoneInfo("Asia/Shanghai"))
    start, end = (local_now - timedelta(hours=1)).strftime("%H:%M"), (local_now + timedelta(hours=1)).strftime("%H:%M")
    assert tenant.put("/api/v1/notification-settings", {"quiet_hours": {"start": start, "end": end}}).status_code == 200
    import_estate(tenant, "estate-q", households=20, extra_members=5)
    sms_before = len(local["sms"].accepted)

    notice = tenant.post(
        "/api/v1/broadcasts",
        {"estate_id": "estate-q", "title": "停水通知", "body": "明天9点至12点停水。", "idempotency_key": "n-1"},
    )
    assert notice.status_code == 202, notice.text
    progress = wait_for(
        lambda: (
            (p := tenant.get(f"/api/v1/broadcasts/{notice.json()['id']}").json())["status"] == "done"
            and "queued" not in p["channels"].get("log", {})
            and p
        )
    )
    assert (progress["total"], progress["sent"], progress["failed"], progress["pending"]) == (20, 20, 0, 0)
    assert progress["channels"] == {"inapp": {"delivered": 20}, "log": {"sent": 20}, "aliyun_sms": {"queued": 20}}
    with lx.store("notifications").read() as session:
        held = session.scalars(
            select(Delivery.next_attempt_at).where(
                Delivery.trigger_id == notice.json()["id"], Delivery.channel == "aliyun_sms"
            )
        ).all()
    quiet_end = local_now.replace(second=0, microsecond=0) + timedelta(hours=1)
    assert {h.replace(tzinfo=UTC) for h in held} == {quiet_end.astimezone(UTC).replace(second=0, microsecond=0)}

    again = tenant.post(
        "/api/v1/broadcasts",
        {"estate_id": "estate-q", "title": "停水通知", "body": "明天9点至12点停水。", "idempotency_key": "n-1"},
    )
    assert again.json()["id"] == notice.json()["id"]

    emergency = tenant.post(
        "/api/v1/broadcasts",
        {"estate_id": "estate-q", "title": "紧急停水", "body": "主管爆裂，正在抢修。", "severity": "critical"},
    ).json()
    wait_for(
        lambda: tenant.get(f"/api/v1/broadcasts/{emergency['id']}").json()["channels"].get("aliyun_sms") == {"sent": 20}
    )
    texts = [p for p in local["sms"].accepted[sms_before:] if "紧急停水" in p["TemplateParam"]]
    assert sorted(p["PhoneNumbers"] for p in texts) == sorted(f"1371{n:07d}" for n in range(20))
    assert not [p for p in local["sms"].accepted[sms_before:] if "停水通知" in p["TemplateParam"]]
    with lx.store("notifications").read() as session:
        inbox = session.scalar(select(func.count()).select_from(InboxMessage).where(InboxMessage.tenant == tenant.id))
    assert inbox == 40  # both broadcasts, one per household


def test_the_notification_api_validates_dedupes_and_keeps_tenants_apart(lx):
    tenant, other = Tenant(lx), Tenant(lx)
    no_quiet_hours(tenant)
    missing = tenant.post(
        "/api/v1/notifications",
        {"template": "notice", "recipients": ["13912340301"], "variables": {"title": "x"}, "idempotency_key": "k"},
    )
    assert missing.status_code == 422
    assert "body" in missing.json()["errors"]["variables"][0]
    bad = tenant.post("/api/v1/notifications", {"template": "nope", "recipients": ["123"], "idempotency_key": ""})
    assert sorted(bad.json()["errors"]) == ["idempotency_key", "recipients", "template"]

    body = {
        "template": "notice",
        "recipients": ["13912340301", "+86 139 1234 0302", "13912340301"],
        "variables": {"title": "业主大会", "body": "周六上午召开业主大会。"},
        "idempotency_key": "meeting-1",
    }
    first = tenant.post("/api/v1/notifications", body)
    assert first.status_code == 202, first.text
    assert tenant.post("/api/v1/notifications", body).json()["id"] == first.json()["id"]
    done = wait_for(
        lambda: (n := tenant.get(f"/api/v1/notifications/{first.json()['id']}").json())["status"] == "done" and n
    )
    assert (done["total"], done["sent"]) == (2, 2)
    assert sorted((d["recipient_phone"], d["channel"]) for d in done["deliveries"]) == [
        ("+8613912340301", "aliyun_sms"),
        ("+8613912340301", "inapp"),
        ("+8613912340301", "log"),
        ("+8613912340302", "aliyun_sms"),
        ("+8613912340302", "inapp"),
        ("+8613912340302", "log"),
    ]
    assert other.get(f"/api/v1/notifications/{first.json()['id']}").status_code == 404
    assert other.get(f"/api/v1/broadcasts/{first.json()['id']}").status_code == 404
    assert other.get("/api/v1/inbox", phone="13912340301").json()["data"] == []
    message = tenant.get("/api/v1/inbox", phone="13912340301").json()["data"][0]
    assert other.post(f"/api/v1/inbox/{message['id']}/read").status_code == 404
    assert tenant.post(f"/api/v1/inbox/{message['id']}/read").json()["read_at"] is not None
    assert tenant.get("/api/v1/inbox", phone="13912340301", unread="true").json()["data"] == []
    assert other.post("/api/v1/broadcasts", {"estate_id": "estate-q", "title": "x", "body": "y"}).status_code == 404


def test_preferences_suppress_a_channel_but_not_an_emergency(lx):
    tenant = Tenant(lx)
    no_quiet_hours(tenant)
    contact = tenant.post(
        "/api/v1/contacts", {"phone": "13912340401", "estate_id": "estate-p", "household": "2-1-101"}
    ).json()
    assert contact["building"] == "2"
    prefs = tenant.put(f"/api/v1/contacts/{contact['id']}/preferences", {"preferences": {"notice": ["inapp"]}})
    assert prefs.status_code == 200 and prefs.json()["preferences"] == {"notice": ["inapp"]}
    wrong = tenant.put(f"/api/v1/contacts/{contact['id']}/preferences", {"preferences": {"notice": ["fax"]}})
    assert wrong.status_code == 422
    assert Tenant(lx).put(f"/api/v1/contacts/{contact['id']}/preferences", {"preferences": {}}).status_code == 404

    calm = tenant.post("/api/v1/broadcasts", {"estate_id": "estate-p", "title": "通知", "body": "周末大扫除。"}).json()
    loud = tenant.post(
        "/api/v1/broadcasts",
        {"estate_id": "estate-p", "building": "2", "title": "燃气泄漏", "body": "请立即撤离。", "severity": "critical"},
    ).json()
    wait_for(lambda: tenant.get(f"/api/v1/broadcasts/{loud['id']}").json()["status"] == "done")
    wait_for(lambda: deliveries(lx, loud["id"]).get("aliyun_sms") == ["sent"])
    assert deliveries(lx, calm["id"]) == {"aliyun_sms": ["suppressed"], "inapp": ["delivered"], "log": ["suppressed"]}
    assert deliveries(lx, loud["id"]) == {"aliyun_sms": ["sent"], "inapp": ["delivered"], "log": ["sent"]}


def test_wechat_subscribe_messages_use_one_cached_token_and_43101_is_not_retried(lx, local):
    tenant = Tenant(lx)
    no_quiet_hours(tenant)
    wechat = local["wechat"]
    tenant.post("/api/v1/contacts", {"phone": "13912340501", "name": "林女士", "wechat_openid": "o-lin"})
    tenant.post("/api/v1/contacts", {"phone": "13912340502", "name": "周先生", "wechat_openid": "o-unsubscribed"})
    first, second, refused = (
        case_submitted(tenant, "+8613912340501", title="水管漏水"),
        case_submitted(tenant, "+8613912340501", title="门禁失灵"),
        case_submitted(tenant, "+8613912340502", title="噪音"),
    )
    for event in (first, second, refused):
        publish(lx, event)
    for event in (first, second):
        wait_for(lambda event=event: deliveries(lx, event["id"]).get("wechat") == ["sent"])
    wait_for(lambda: deliveries(lx, refused["id"]).get("wechat") == ["failed"])

    mine = [p for p in wechat.sent if p["touser"] == "o-lin"]
    # Two separate events: the dispatcher may send them in either order.
    assert sorted(((p["template_id"], p["data"]) for p in mine), key=lambda sent: sent[1]["thing1"]["value"]) == [
        ("TMPL_CASE", {"thing1": {"value": "水管漏水"}, "name2": {"value": "陈先生"}}),
        ("TMPL_CASE", {"thing1": {"value": "门禁失灵"}, "name2": {"value": "陈先生"}}),
    ]
    assert wechat.token_requests == 1
    with lx.store("notifications").read() as session:
        row = session.scalars(
            select(Delivery).where(Delivery.trigger_id == refused["id"], Delivery.channel == "wechat")
        ).one()
    assert (row.attempts, "43101" in row.last_error) == (1, True)


def test_the_contacts_import_command_reports_rejected_rows(lx, tmp_path, capsys):
    from services import cli

    tenant = Tenant(lx)
    path = tmp_path / "residents.json"
    path.write_text(
        json.dumps(
            [
                {
                    "phone": "13912340601",
                    "name": "甲",
                    "estate_id": "e9",
                    "household": "1-1-101",
                    "teams": ["义务维修队"],
                },
                {"phone": "not-a-phone"},
                {"phone": "13912340602", "role": "volunteer", "teams": ["义务维修队"]},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    with lx.with_env():
        assert cli.main(["contacts", "import", "--tenant", tenant.id, str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["received"], report["imported"], [r["row"] for r in report["rejected"]]) == (3, 2, [2])

    team = tenant.post(
        "/api/v1/notifications",
        {
            "template": "notice",
            "topic": {"team": "义务维修队"},
            "variables": {"title": "集合", "body": "周六8点集合。"},
            "idempotency_key": "team-1",
        },
    )
    assert team.status_code == 202, team.text
    assert team.json()["total"] == 2


def test_incidents_and_activities_reach_every_household_once(lx, local):
    tenant = Tenant(lx)
    local_now = datetime.now(ZoneInfo("Asia/Shanghai"))
    quiet = {
        "start": (local_now - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local_now + timedelta(hours=1)).strftime("%H:%M"),
    }
    assert (
        tenant.put("/api/v1/notification-settings", {"quiet_hours": quiet, "company_name": "缔华物业"}).status_code
        == 200
    )
    import_estate(tenant, "estate-i", households=5)

    def event(type_, source, data):
        return make_event(source_service=source, type=type_, subject=str(uuid.uuid4()), tenant=tenant.id, data=data)

    outage = event(
        "incident.declared",
        "requests",
        {
            "incident_id": "i-1",
            "estate_id": "estate-i",
            "kind": "water",
            "title": "停水",
            "description": "主管爆裂。",
            "expected_end": "2026-11-30T04:00:00Z",
            "severity": "critical",
        },
    )
    clinic = event(
        "activity.published",
        "volunteers",
        {
            "activity_id": "a-1",
            "title": "义诊",
            "kind": "clinic",
            "estate_ids": ["estate-i"],
            "place": "活动中心",
            "starts_at": "2026-12-01T01:00:00Z",
            "ends_at": "2026-12-01T03:00:00Z",
            "capacity": 50,
        },
    )
    for each in (outage, clinic, outage):  # the incident is delivered twice
        publish(lx, each)

    def counts(trigger):
        with lx.store("notifications").read() as session:
            from services.notifications.models import Broadcast

            broadcast = session.scalars(select(Broadcast).where(Broadcast.idempotency_key == trigger)).one_or_none()
        if broadcast is None:  # the event is still on its way
            return {}
        return tenant.get(f"/api/v1/broadcasts/{broadcast.id}").json()["channels"]

    wait_for(lambda: counts(outage["id"]).get("aliyun_sms") == {"sent": 5} and counts(clinic["id"]).get("inapp"))
    assert counts(outage["id"]) == {"inapp": {"delivered": 5}, "log": {"sent": 5}, "aliyun_sms": {"sent": 5}}
    wait_for(lambda: counts(clinic["id"]).get("log") == {"sent": 5})
    assert counts(clinic["id"]) == {"inapp": {"delivered": 5}, "log": {"sent": 5}}  # no SMS template for activities
    inbox = tenant.get("/api/v1/inbox", phone="13710000000").json()["data"]
    assert [m["subject"] for m in inbox] == ["社区活动：义诊", "停水"]
    assert inbox[1]["body"] == "缔华物业紧急通知：主管爆裂。预计恢复时间：2026-11-30 12:00。"
    assert "2026-12-01 09:00在活动中心举办“义诊”" in inbox[0]["body"]
