"""Server-side sessions of people who signed in with a one-time code.

The browser holds only an opaque token (cookie ``lx_session``); the gateway keeps its SHA-256,
so a database leak gives no working session, and signing out ends it on every gateway instance
at once (each reads it here on every request). Sessions slide: each use at least
:data:`TOUCH_EVERY` after the last pushes the expiry to :data:`LIFETIME` from now.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.ids import new_id
from services.gateway.models import Person, PersonSession

COOKIE = "lx_session"
LIFETIME = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=5)  # one write per few minutes of use, not one per request


@dataclass(frozen=True)
class SignedIn:
    """Who a session belongs to, as the routes see it."""

    person_id: str
    phone: str
    session_id: str
    csrf: str
    app_key_id: str | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def person_for(session: Session, phone: str, now: datetime) -> Person:
    """The person of a phone that has just been verified (created on first sign-in)."""
    person = session.scalars(select(Person).where(Person.phone == phone)).first()
    if person is None:
        person = Person(id=new_id(), phone=phone, created_at=now)
        session.add(person)
    if person.verified_at is None:
        person.verified_at = now
    session.flush()
    return person


def start(session: Session, person: Person, now: datetime, app_key_id: str | None = None) -> str:
    """A new session for ``person``; returns the token (shown once: only its digest is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(
        PersonSession(
            id=digest(token),
            person_id=person.id,
            app_key_id=app_key_id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + LIFETIME,
        )
    )
    session.flush()
    return token


def resume(session: Session, token: str, now: datetime, app_key_id: str | None = None) -> SignedIn | None:
    """The live session of ``token``, slid forward; None when unknown, ended, expired or another app's."""
    if not token or len(token) > 128:
        return None
    row = session.execute(
        select(PersonSession, Person.phone)
        .join(Person, Person.id == PersonSession.person_id)
        .where(PersonSession.id == digest(token), PersonSession.ended_at.is_(None), PersonSession.expires_at > now)
    ).first()
    if row is None:
        return None
    found, phone = row
    if found.app_key_id != app_key_id:
        return None  # an app's token works only with that app's key; a browser's only as a cookie
    if now - found.last_seen_at >= TOUCH_EVERY:
        session.execute(
            update(PersonSession)
            .where(PersonSession.id == found.id)
            .values(last_seen_at=now, expires_at=now + LIFETIME)
            .execution_options(synchronize_session=False)
        )
    return SignedIn(found.person_id, phone, found.id, found.csrf, found.app_key_id)


def end(session: Session, session_id: str, now: datetime) -> None:
    """Sign out: the session stops working on every instance at its next request."""
    session.execute(
        update(PersonSession)
        .where(PersonSession.id == session_id, PersonSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
