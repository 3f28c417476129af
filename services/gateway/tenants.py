"""Tenants and API keys: create, authenticate. Keys are shown once and stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import Conflict
from services.common.ids import new_id
from services.gateway.models import ApiKey, Tenant

KEY_PREFIX = "lx_live_"


def hash_key(key: str) -> str:
    # Keys carry 192 random bits, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(key.encode()).hexdigest()


def create_tenant(session: Session, name: str, community: str | None = None) -> dict:
    """A tenant and its first key; returns the key in clear, the only time it is shown."""
    if session.scalar(select(Tenant.id).where(Tenant.name == name)):
        raise Conflict(f"tenant {name!r} already exists")
    tenant = Tenant(id=new_id(), name=name, community=community)
    session.add(tenant)
    session.flush()
    api_key = issue_key(session, tenant.id)
    return {"tenant_id": tenant.id, "name": name, "community": community, "api_key": api_key}


def issue_key(
    session: Session,
    tenant_id: str,
    role: str = "company_admin",
    rate_limit: str | None = None,
    label: str | None = None,
) -> str:
    """A new random key in clear (shown once, never chosen by the caller); ``rate_limit`` overrides RATE_LIMIT."""
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    session.add(
        ApiKey(
            id=new_id(),
            tenant_id=tenant_id,
            prefix=key[:12],
            key_hash=hash_key(key),
            role=role,
            rate_limit=rate_limit,
            label=label,
        )
    )
    session.flush()
    return key


def authenticate(session: Session, key: str) -> tuple[Tenant, ApiKey] | None:
    """The tenant and key record for a presented key, or None (unknown or revoked)."""
    row = session.execute(
        select(Tenant, ApiKey)
        .join(ApiKey, ApiKey.tenant_id == Tenant.id)
        .where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(row[1].key_hash, hash_key(key)):
        return None
    return row[0], row[1]


def find_tenant(session: Session, name: str) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.name == name)).first()


def rotate_key(session: Session, name: str) -> dict:
    """A new key for the tenant; every older key of it is revoked at once."""
    from services.common.db import utcnow
    from services.common.errors import NotFound

    tenant = find_tenant(session, name)
    if tenant is None:
        raise NotFound(f"no tenant named {name!r}")
    old = session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.revoked_at.is_(None))).all()
    for key in old:
        key.revoked_at = utcnow()
    new = issue_key(session, tenant.id)
    return {"tenant_id": tenant.id, "api_key": new, "revoked": [key.prefix for key in old]}


def role_of(session: Session, key_id: str) -> str | None:
    return session.scalar(select(ApiKey.role).where(ApiKey.id == key_id))


def issue_app_key(session: Session, tenant_name: str, app: str, rate_limit: str | None = None) -> dict:
    """The operator's key for an app serving ``tenant_name``'s residents (printed once).

    It lives under the company whose estates and cases the app's residents use (every resident
    route is a company's), labelled with the app's name; the company can neither mint nor revoke
    it. The key alone reads nothing of anyone: each resident's own sign-in token is needed too.
    """
    from services.common.errors import NotFound

    tenant = find_tenant(session, tenant_name)
    if tenant is None:
        raise NotFound(f"no tenant named {tenant_name!r}")
    key = issue_key(session, tenant.id, role="resident_app", rate_limit=rate_limit, label=app)
    record = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).one()
    return {"tenant_id": tenant.id, "app": app, "key_id": record.id, "role": "resident_app", "api_key": key}


def list_keys(session: Session, tenant_id: str) -> list[ApiKey]:
    """Every key of the tenant, newest first (prefixes only: the keys themselves are not kept)."""
    return list(session.scalars(select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id.desc())))


def revoke_key(session: Session, tenant_id: str, key_id: str, current_key_id: str) -> ApiKey:
    """Revoke one of the tenant's keys (not the one making the call: that would lock the caller out)."""
    from services.common.db import utcnow
    from services.common.errors import NotFound

    key = session.get(ApiKey, key_id)
    if key is None or key.tenant_id != tenant_id:
        raise NotFound(f"key {key_id} not found")
    if key.id == current_key_id:
        raise Conflict("a key cannot revoke itself: revoke it with another admin key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
