"""People who sign in themselves (residents, volunteers): one-time codes, the session cookie,
CSRF, and the helpers every page of theirs uses.

For page routes (the resident and volunteer pages)::

    person = self._require_person(request)      # SignedIn, or a 303 to /signin?next=<this page>
    self._check_csrf(request, person)            # on every POST: a 403 page unless the form's token fits
    return person_page("mine.html", person, items=...)   # renders with _person.html's person and csrf

Both helpers raise :class:`~services.gateway.http.Answered`, which the endpoint returns as is.
Sessions live in the gateway's database and are read on every request, so signing out (or a
session's expiry) holds on every gateway instance at once; nothing is cached per instance.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from urllib.parse import quote

from markupsafe import escape
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request, Response

from services.common.config import DEFAULTS
from services.common.db import utcnow
from services.common.errors import ValidationFailed, validated
from services.common.fields import MobilePhone, Timestamp, mainland_mobile
from services.gateway import authorization, codes, csrf, idempotency, pages, sessions
from services.gateway.apidoc import Route
from services.gateway.http import Answered, ServiceUnavailable, Unauthorized, endpoint, json_response, read_json
from services.gateway.plumbing import Plumbing
from services.gateway.ratelimit import TooManyRequests

CSRF_COOKIE = csrf.COOKIE  # before sign-in: double-submit (this cookie = the form's hidden field)
CSRF_FIELD = csrf.FIELD
HOME = "/me"
MAX_AGE = int(sessions.LIFETIME.total_seconds())


class SendTooSoon(TooManyRequests):
    """A code was asked for too often (per phone or per address): 429, ``Retry-After``, in Chinese."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.detail = f"请 {retry_after} 秒后再获取验证码"
        self.args = (self.detail,)


class SignInSecret(DependencyProvider):
    """The key of the stored codes' HMAC, read once at start; production without SIGN_IN_SECRET fails here."""

    def setup(self) -> None:
        self.secret = codes.secret_of(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> bytes:
        return self.secret


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a local path only ("/…", never "//…" or "/\\…"), else /me."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return HOME
    if any(ch in value for ch in "\r\n\\") or any(ord(ch) < 32 for ch in value):
        return HOME
    return value


def person_page(template: str, person: sessions.SignedIn | None, status: int = 200, **context: Any) -> Response:
    """A page on ``_person.html``: ``person`` and its ``csrf`` filled in, never cached (not framable,
    like every answer: :mod:`services.gateway.headers`)."""
    body = pages.ENV.get_template(template).render(person=person, csrf=person.csrf if person else "", **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def see_other(location: str) -> Response:
    """A 303 as a page (text/html, as the pages' routes document it), with a link for anything
    that does not follow redirects."""
    body = f'<!doctype html><meta charset="utf-8"><a href="{escape(location)}">{escape(location)}</a>'
    return Response(body, status=303, headers={"Location": location, "Cache-Control": "no-store"}, mimetype="text/html")


same = csrf.same


def hashed(kind: str, value: str) -> str:
    """A rate-limit key that names no phone or address in the shared storage (Redis)."""
    return f"sign-in:{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


class SignInCodeSchema(Schema):
    class Meta:
        unknown = RAISE

    phone = MobilePhone(required=True)


class SignInSchema(SignInCodeSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}$", error="6 位数字 (six digits)"))


class CodeSentSchema(Schema):
    status = fields.String(metadata={"example": "sent"})
    expires_in = fields.Integer(metadata={"description": "seconds the code is valid"})


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "send as Lianxin-Resident-Token with the app's key; shown once"})
    expires_at = Timestamp(metadata={"description": "slides forward with use (30 days after the last)"})


class PeopleRoutes(Plumbing):
    sign_in_secret = SignInSecret()

    # --- helpers for every page of people who sign in ------------------------------------

    def _require_person(self, request: Request) -> sessions.SignedIn:
        """The signed-in person, or stop with a 303 to ``/signin?next=<this path>``."""
        person = self._person(request)
        if person is None:
            here = request.full_path.rstrip("?") if request.query_string else request.path
            raise Answered(see_other("/signin?next=" + quote(here, safe="/")))
        return person

    def _check_csrf(self, request: Request, person: sessions.SignedIn | None) -> None:
        """A posted form's ``csrf`` field must be the session's token (or, before sign-in, the ``lx_csrf``
        cookie's); else stop with a 403 page and change nothing."""
        sent = request.form.get(CSRF_FIELD, "")
        expected = person.csrf if person is not None else request.cookies.get(CSRF_COOKIE, "")
        if not same(sent, expected):
            raise Answered(person_page("forbidden.html", person, 403, back=request.referrer or HOME))

    def _form_csrf(self, request: Request) -> str:
        """The double-submit token of a browser not yet signed in (kept in ``lx_csrf``)."""
        return csrf.form_token(request)

    def _cookies(self, response: Response, form_csrf: str) -> Response:
        return csrf.with_cookie(response, form_csrf, self._secure_cookies())

    # --- codes and sessions, shared by the pages and the apps' API -----------------------

    def _send_code(self, request: Request, phone: str) -> None:
        """Make a code for ``phone`` and send it now; 429 (:class:`SendTooSoon`) past the send limits."""
        per_phone = str(self.config.get("SIGN_IN_SEND_LIMIT_PHONE") or DEFAULTS["SIGN_IN_SEND_LIMIT_PHONE"])
        per_address = str(self.config.get("SIGN_IN_SEND_LIMIT_ADDRESS") or DEFAULTS["SIGN_IN_SEND_LIMIT_ADDRESS"])
        try:
            self.rate_limits.hit_each(
                ((hashed("phone", phone), per_phone), (hashed("address", request.remote_addr or ""), per_address))
            )
        except TooManyRequests as exc:
            raise SendTooSoon(exc.retry_after) from None
        with self.db.transaction() as session:
            code = codes.issue(session, self.sign_in_secret, phone, utcnow())
        sent = self._call("notifications", "send_sign_in_code", phone, code)
        if sent.get("status") != "sent":
            raise ServiceUnavailable("验证码发送失败，请稍后再试")

    def _sign_in(
        self, phone: str, code: str, app_key_id: str | None = None
    ) -> tuple[codes.Outcome, str | None, datetime]:
        """Try the code; when right, the person (made on first sign-in) gets a new session.

        Returns the outcome, the session's token (None unless signed in) and when it expires.
        """
        now = utcnow()
        with self.db.transaction() as session:
            outcome = codes.verify(session, self.sign_in_secret, phone, code, now)
            if not outcome.ok:
                return outcome, None, now  # the counted try is committed
            person = sessions.person_for(session, phone, now)
            return outcome, sessions.start(session, person, now, app_key_id=app_key_id), now + sessions.LIFETIME

    # --- the browser's sign-in pages -----------------------------------------------------

    def _signin_page(self, request: Request, status: int = 200, **context: Any) -> Response:
        form_csrf = self._form_csrf(request)
        context = {"stage": "phone", "phone": "", "next": HOME, "notice": "", "error": ""} | context
        response = person_page("signin.html", self._person(request), status, form_csrf=form_csrf, **context)
        return self._cookies(response, form_csrf)

    @endpoint("GET", "/signin")
    def signin_form(self, request: Request) -> Response:
        return self._signin_page(request, next=safe_next(request.args.get("next")))

    @endpoint("POST", "/signin/code")
    def signin_code(self, request: Request) -> Response:
        self._check_csrf(request, None)
        target = safe_next(request.form.get("next"))
        raw = request.form.get("phone", "").strip()
        try:
            phone = mainland_mobile(raw)
        except ValidationError:
            return self._signin_page(request, 422, phone=raw, next=target, error="请输入正确的中国大陆手机号码")
        try:
            self._send_code(request, phone)
        except SendTooSoon as exc:
            response = self._signin_page(request, 429, stage="code", phone=raw, next=target, error=exc.detail)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except ServiceUnavailable as exc:
            return self._signin_page(request, 503, phone=raw, next=target, error=exc.detail)
        return self._signin_page(request, stage="code", phone=raw, next=target, notice="验证码已发送")

    @endpoint("POST", "/signin")
    def signin(self, request: Request) -> Response:
        self._check_csrf(request, None)
        target = safe_next(request.form.get("next"))
        raw = request.form.get("phone", "").strip()
        try:
            phone = mainland_mobile(raw)
        except ValidationError:
            return self._signin_page(request, 422, phone=raw, next=target, error="请输入正确的中国大陆手机号码")
        outcome, token, _ = self._sign_in(phone, request.form.get("code", ""))
        if token is None:
            return self._signin_page(request, 422, stage="code", phone=raw, next=target, error=outcome.message)
        response = see_other(target)
        response.set_cookie(
            sessions.COOKIE,
            token,
            max_age=MAX_AGE,
            httponly=True,
            samesite="Lax",
            path="/",
            secure=self._secure_cookies(),
        )
        return response

    @endpoint("POST", "/signout")
    def signout(self, request: Request) -> Response:
        person = self._person(request)
        if person is not None:
            self._check_csrf(request, person)
            with self.db.transaction() as session:
                sessions.end(session, person.session_id, utcnow())
        response = see_other("/signin")
        response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="Lax", secure=self._secure_cookies())
        return response

    # --- apps: the resident types the code into the app, the app gets the resident's token ---

    def _app_caller(self, request: Request) -> authorization.Caller:
        """An app key (role ``resident_app``) without a resident yet: the sign-in routes only."""
        return self._key_caller(request)

    @endpoint("POST", "/api/v1/sign-in/code")
    def app_sign_in_code(self, request: Request) -> Response:
        self._app_caller(request)
        data = validated(SignInCodeSchema(), read_json(request))
        self._send_code(request, data["phone"])
        return json_response({"status": "sent", "expires_in": int(codes.LIFETIME.total_seconds())}, 202)

    @endpoint("POST", "/api/v1/sign-in")
    def app_sign_in(self, request: Request) -> Response:
        caller = self._app_caller(request)
        data = validated(SignInSchema(), read_json(request))
        outcome, token, expires = self._sign_in(data["phone"], data["code"], app_key_id=caller.key_id)
        if token is None:
            raise ValidationFailed(outcome.message, {"code": [outcome.message]})
        answer = json_response({"token": token, "expires_at": expires.isoformat(timespec="seconds") + "Z"}, 201)
        return idempotency.shown_once(answer, "token")  # never kept for a replay

    @endpoint("DELETE", "/api/v1/sign-in")
    def app_sign_out(self, request: Request) -> Response:
        caller = self._caller(request)  # 401 without the resident's live token
        if caller.person_session is None:
            raise Unauthorized("send Lianxin-Resident-Token")
        with self.db.transaction() as session:
            sessions.end(session, caller.person_session, utcnow())
        return Response(status=204)


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/signin",
        "Sign in: the phone form (?next=/local/path)",
        None,
        auth=False,
        content="text/html",
        tag="people",
    ),
    Route(
        "POST",
        "/signin/code",
        "Send a one-time code to the phone (form); 429 with Retry-After when asked too often",
        None,
        errors=(403, 422, 429),
        auth=False,
        content="text/html",
        tag="people",
    ),
    Route(
        "POST",
        "/signin",
        "Sign in with phone and code (form); 303 to next with the lx_session cookie",
        None,
        303,
        errors=(403, 422),
        auth=False,
        content="text/html",
        tag="people",
    ),
    Route(
        "POST",
        "/signout",
        "End the session (form with csrf); 303 to /signin",
        None,
        303,
        errors=(403,),
        auth=False,
        content="text/html",
        tag="people",
    ),
    Route(
        "POST",
        "/api/v1/sign-in/code",
        "An app asks for a one-time code for its user's phone (the code goes to the phone only)",
        CodeSentSchema,
        202,
        SignInCodeSchema,
        errors=(401, 403, 422, 429),
        tag="people",
    ),
    Route(
        "POST",
        "/api/v1/sign-in",
        "An app signs its user in with the code: the resident's token for Lianxin-Resident-Token",
        TokenSchema,
        201,
        SignInSchema,
        errors=(401, 403, 422),
        tag="people",
    ),
    Route(
        "DELETE",
        "/api/v1/sign-in",
        "Sign the app's resident out (the token stops working)",
        None,
        204,
        errors=(401, 403),
        tag="people",
    ),
)
