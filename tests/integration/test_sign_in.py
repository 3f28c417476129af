"""Signing in with a one-time code in a browser: the pages, the cookie, CSRF, lockout, expiry,
reuse, send limits, sign-out across gateway instances, and the code never in an answer."""

import re
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, update

from services.common.db import utcnow
from services.gateway.models import PersonSession, SignInCode
from tests.support.infra import free_port, wait_for

pytestmark = pytest.mark.integration

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def unique_phone() -> str:
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


class Browser:
    """A phone's browser: keeps cookies, follows nothing, remembers every answer (to grep them)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False
        self.answers: list[requests.Response] = []

    def get(self, path, **kwargs):
        return self._keep(self.http.get(self.base + path, allow_redirects=False, timeout=15, **kwargs))

    def post(self, path, data, **kwargs):
        return self._keep(self.http.post(self.base + path, data=data, allow_redirects=False, timeout=15, **kwargs))

    def _keep(self, response):
        self.answers.append(response)
        return response

    def form_csrf(self, path="/signin") -> str:
        return CSRF_FIELD.search(self.get(path).text).group(1)

    def ask_code(self, phone):
        return self.post("/signin/code", {"csrf": self.form_csrf(), "phone": phone, "next": "/me"})

    def sign_in(self, phone, code, next_="/me"):
        return self.post("/signin", {"csrf": self.form_csrf(), "phone": phone, "code": code, "next": next_})


@pytest.fixture
def browser(platform):
    return Browser(platform.base_url)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def codes_of(platform, phone):
    with platform.store("gateway").read() as session:
        return session.scalar(select(func.count()).select_from(SignInCode).where(SignInCode.phone == "+86" + phone))


def test_a_resident_signs_in_with_a_code_and_gets_a_safe_session_cookie(platform, browser, sign_in_codes):
    phone = unique_phone()
    form = browser.get("/signin?next=/me/cases%3Fstatus%3Dopen")
    assert form.status_code == 200 and 'name="phone"' in form.text
    assert "HttpOnly" in form.headers["Set-Cookie"] and "lx_csrf=" in form.headers["Set-Cookie"]
    assert 'name="next" value="/me/cases?status=open"' in form.text

    sent = browser.post("/signin/code", {"csrf": browser.form_csrf(), "phone": phone, "next": "/me/cases"})
    assert sent.status_code == 200, sent.text
    assert "验证码已发送" in sent.text and f'value="{phone}"' in sent.text and 'name="code"' in sent.text
    code = sign_in_codes.code_for("+86" + phone)

    signed = browser.sign_in(phone, code, next_="/me/cases")
    assert signed.status_code == 303 and signed.headers["Location"] == "/me/cases"
    cookie = signed.headers["Set-Cookie"]
    assert cookie.startswith("lx_session=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"):
        assert attribute in cookie
    assert "Secure" not in cookie  # PUBLIC_BASE_URL is http:// here; https:// adds it
    shown = browser.get("/signin")
    assert f"退出 {phone[:3]}****{phone[-4:]}" in shown.text  # the layout knows who signed in

    for answer in browser.answers:  # the code is never in any answer, body or header
        assert code not in answer.text and code not in str(answer.headers)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "me"])
def test_after_sign_in_only_a_local_path_is_followed(browser, sign_in_codes, target):
    phone = unique_phone()
    browser.ask_code(phone)
    signed = browser.sign_in(phone, sign_in_codes.code_for("+86" + phone), next_=target)
    assert signed.status_code == 303 and signed.headers["Location"] == "/me"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(platform, browser):
    phone = unique_phone()
    browser.form_csrf()  # has the lx_csrf cookie …
    refused = browser.post("/signin/code", {"phone": phone})  # … but the form lacks the field
    assert refused.status_code == 403 and "操作未完成" in refused.text
    forged = browser.post("/signin/code", {"phone": phone, "csrf": "x" * 43})
    assert forged.status_code == 403
    stranger = Browser(platform.base_url)  # a cross-site form: the field, but no cookie to match
    assert stranger.post("/signin/code", {"phone": phone, "csrf": browser.form_csrf()}).status_code == 403
    assert codes_of(platform, phone) == 0


def test_five_wrong_codes_lock_the_code_even_against_the_right_one(platform, browser, sign_in_codes):
    phone = unique_phone()
    browser.ask_code(phone)
    code = sign_in_codes.code_for("+86" + phone)
    answers = [browser.sign_in(phone, wrong(code)) for _ in range(5)]
    assert [a.status_code for a in answers] == [422] * 5
    assert "还可以再试 4 次" in answers[0].text and "错误次数过多" in answers[4].text
    sixth = browser.sign_in(phone, code)
    assert sixth.status_code == 422 and "错误次数过多" in sixth.text
    assert "lx_session" not in sixth.headers.get("Set-Cookie", "")


def test_an_expired_code_fails_and_the_try_is_counted(platform, browser, sign_in_codes):
    phone = unique_phone()
    browser.ask_code(phone)
    code = sign_in_codes.code_for("+86" + phone)
    with platform.store("gateway").transaction() as session:
        aged = update(SignInCode).where(SignInCode.phone == "+86" + phone)
        session.execute(aged.values(expires_at=utcnow() - timedelta(seconds=1)))
    late = browser.sign_in(phone, code)
    assert late.status_code == 422 and "验证码已过期" in late.text


def test_a_used_code_cannot_sign_in_again(browser, sign_in_codes, platform):
    phone = unique_phone()
    browser.ask_code(phone)
    code = sign_in_codes.code_for("+86" + phone)
    assert browser.sign_in(phone, code).status_code == 303
    again = Browser(platform.base_url).sign_in(phone, code)
    assert again.status_code == 422 and "验证码已使用过" in again.text


def test_asking_for_codes_too_often_for_one_phone_is_429_with_retry_after(browser, sign_in_codes, platform):
    phone = unique_phone()
    assert browser.ask_code(phone).status_code == 200
    again = browser.ask_code(phone)
    assert again.status_code == 429
    wait = int(again.headers["Retry-After"])
    assert 0 < wait <= 60 and f"请 {wait} 秒后再获取验证码" in again.text
    assert 'name="code"' in again.text  # the code sent a moment ago still works
    assert codes_of(platform, phone) == 1


@pytest.fixture(scope="module")
def second_gateway(platform):
    """Another gateway instance on the same databases and broker, 3 codes per address per hour."""
    from nameko.containers import ServiceContainer

    from services.common import topology

    port = free_port()
    config = platform.config(
        "gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", GATEWAY_PORT=str(port), SIGN_IN_SEND_LIMIT_ADDRESS="3/hour"
    )
    container = ServiceContainer(topology.service_class("gateway"), config)
    container.start()
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(base + "/healthz", timeout=1).status_code == 200, timeout=20)
    yield base
    container.stop()


def test_asking_for_codes_too_often_from_one_address_is_429(second_gateway, sign_in_codes):
    browser = Browser(second_gateway)
    assert [browser.ask_code(unique_phone()).status_code for _ in range(3)] == [200, 200, 200]
    fourth = browser.ask_code(unique_phone())
    assert fourth.status_code == 429 and int(fourth.headers["Retry-After"]) > 60
    assert "秒后再获取验证码" in fourth.text


def test_signing_out_ends_the_session_on_every_gateway_instance(platform, browser, second_gateway, sign_in_codes):
    phone = unique_phone()
    browser.ask_code(phone)
    browser.sign_in(phone, sign_in_codes.code_for("+86" + phone))
    cookie = browser.http.cookies["lx_session"]
    other = Browser(second_gateway)
    other.http.cookies.set("lx_session", cookie)
    assert "退出" in other.get("/signin").text  # the other instance knows the session

    page = browser.get("/signin").text
    session_csrf = re.search(r'action="/signout"><input type="hidden" name="csrf" value="([^"]+)"', page).group(1)
    assert browser.post("/signout", {"csrf": "wrong"}).status_code == 403  # nothing ended
    assert "退出" in other.get("/signin").text
    out = browser.post("/signout", {"csrf": session_csrf})
    assert out.status_code == 303 and out.headers["Location"] == "/signin"
    assert 'lx_session=""' in out.headers["Set-Cookie"] or "Max-Age=0" in out.headers["Set-Cookie"]

    replayed = Browser(second_gateway)
    replayed.http.cookies.set("lx_session", cookie)
    assert "退出" not in replayed.get("/signin").text and 'href="/signin"' in replayed.get("/signin").text
    with platform.store("gateway").read() as session:
        ended = session.scalars(select(PersonSession.ended_at).where(PersonSession.person_id.is_not(None))).all()
    assert any(ended)
