"""One-time sign-in codes: 6 digits, 5 minutes, 5 tries, used once, newest only.

Only a keyed hash is stored (HMAC-SHA256 with ``SIGN_IN_SECRET``), so a copy of the database
is no list of working codes: a million codes per phone are cheap to try against a plain hash,
not against a key the database does not hold. In development the key is a random file in the
var dir (made on first use, shared by every instance on the machine); production must set
``SIGN_IN_SECRET`` (:func:`secret_of` refuses to run without it).

Every try is counted *before* the code is compared, in one conditional UPDATE, so even
concurrent guesses get at most :data:`MAX_ATTEMPTS` comparisons; after that the code is locked
and the right code fails too: the person must ask for a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.config import is_production, var_dir
from services.common.ids import new_id
from services.gateway.models import SignInCode

DIGITS = 6
LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
SECRET_FILE = "sign_in_secret"


class SecretMissing(RuntimeError):
    """Production without ``SIGN_IN_SECRET``: codes must not be hashed with a made-up key."""


def secret_of(config: Mapping[str, object]) -> bytes:
    """The HMAC key: ``SIGN_IN_SECRET``, else (development only) the var dir's random secret file."""
    given = str(config.get("SIGN_IN_SECRET") or "")
    if given:
        return given.encode()
    env = {key: str(value) for key, value in config.items() if isinstance(value, str)}
    if is_production(env):
        raise SecretMissing("LIANXIN_ENV=production needs SIGN_IN_SECRET (e.g. `openssl rand -hex 32`)")
    return _var_dir_secret(Path(str(config.get("LIANXIN_VAR_DIR") or var_dir())))


def _var_dir_secret(var_dir: Path) -> bytes:
    """A random key kept in ``<var dir>/sign_in_secret`` (0600); created once, atomically."""
    path = var_dir.resolve() / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def new_code() -> str:
    """Six digits from ``secrets`` (leading zeros kept)."""
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def keyed_hash(secret: bytes, phone: str, code: str) -> str:
    """HMAC-SHA256 of phone and code: a code is worth nothing for another phone."""
    return hmac.new(secret, f"{phone}\n{code}".encode(), hashlib.sha256).hexdigest()


def issue(session: Session, secret: bytes, phone: str, now: datetime) -> str:
    """A new code for ``phone`` (returned in clear, to be sent and forgotten); older ones stop working."""
    session.execute(
        update(SignInCode)
        .where(SignInCode.phone == phone, SignInCode.used_at.is_(None), SignInCode.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    session.add(
        SignInCode(
            id=new_id(),
            phone=phone,
            code_hash=keyed_hash(secret, phone, code),
            created_at=now,
            expires_at=now + LIFETIME,
            attempts=0,
        )
    )
    session.flush()
    return code


@dataclass(frozen=True)
class Outcome:
    """What a try gave: ``ok``, or why not (``wrong``, ``locked``, ``expired``, ``used``, ``none``)."""

    status: str
    tries_left: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def message(self) -> str:
        """What the person reads (zh-CN)."""
        if self.status == "wrong":
            return f"验证码不正确，还可以再试 {self.tries_left} 次"
        return MESSAGES.get(self.status, "")


MESSAGES = {
    "ok": "",
    "locked": "错误次数过多，这个验证码已失效，请重新获取验证码",
    "expired": "验证码已过期，请重新获取验证码",
    "used": "验证码已使用过，请重新获取验证码",
    "none": "请先获取验证码",
}


def verify(session: Session, secret: bytes, phone: str, code: str, now: datetime) -> Outcome:
    """Try ``code`` against the newest code of ``phone``; every try is counted, a right one uses it up."""
    newest = session.scalars(
        select(SignInCode).where(SignInCode.phone == phone).order_by(SignInCode.created_at.desc(), SignInCode.id.desc())
    ).first()
    if newest is None:
        return Outcome("none")
    # Count the try first: only a try that got one of the MAX_ATTEMPTS slots is compared.
    claimed = session.execute(
        update(SignInCode)
        .where(
            SignInCode.id == newest.id,
            SignInCode.attempts < MAX_ATTEMPTS,
            SignInCode.used_at.is_(None),
            SignInCode.expires_at > now,
        )
        .values(attempts=SignInCode.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        session.refresh(newest)
        if newest.used_at is not None:
            return Outcome("used")
        if newest.expires_at <= now:
            return Outcome("expired")
        return Outcome("locked")
    session.refresh(newest)
    if not hmac.compare_digest(newest.code_hash, keyed_hash(secret, phone, code.strip())):
        left = MAX_ATTEMPTS - newest.attempts
        return Outcome("wrong", left) if left > 0 else Outcome("locked")
    used = session.execute(
        update(SignInCode)
        .where(SignInCode.id == newest.id, SignInCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return Outcome("ok") if used else Outcome("used")
