"""CSRF tokens of the page forms that are posted before (or without) a person's session.

A person signed in has the session's own token (:attr:`sessions.SignedIn.csrf`). Forms a
browser posts without one — the sign-in steps, the supervisor's dashboard sign-in and
sign-out, a survey answered through its link — use a double submit: the page sets a random
token in the ``lx_csrf`` cookie (HttpOnly) and in the form's hidden ``csrf`` field; the POST
counts only when both arrive and are equal. Another site can make a browser post a form, but
can neither read nor set our cookie, so it cannot send the matching field.
"""

from __future__ import annotations

import hmac
import secrets

from werkzeug.wrappers import Request, Response

COOKIE = "lx_csrf"
FIELD = "csrf"


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens (empty never matches)."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def form_token(request: Request) -> str:
    """The browser's double-submit token: the one its cookie holds, or a new one."""
    token = request.cookies.get(COOKIE, "")
    return token if 20 <= len(token) <= 128 else secrets.token_urlsafe(32)


def with_cookie(response: Response, token: str, secure: bool) -> Response:
    """``response`` setting ``token`` as the browser's ``lx_csrf`` cookie (for the whole site).

    Never cached: the page holds this browser's token, a shared cache would hand it to others.
    """
    response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", path="/", secure=secure)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def double_submitted(request: Request) -> bool:
    """The posted form's ``csrf`` field equals the browser's ``lx_csrf`` cookie."""
    return same(request.form.get(FIELD, ""), request.cookies.get(COOKIE, ""))
