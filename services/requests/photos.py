"""Photos of a case: their records, at most three a case, shown publicly only once published.

The gateway cleans and stores the bytes first (services/gateway/uploads.py) and hands over
what it stored; this module keeps the record, in the same transaction as the case when the
photos come with it. Every change is in the case's audit trail: ``photos`` (how many) and
``published_photos`` (the ids shown on the board).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound
from services.common.ids import new_id
from services.requests import audit
from services.requests.models import Case, CasePhoto
from services.requests.schemas import MAX_PHOTOS, PhotoSchema

PHOTO_VIEW = PhotoSchema()


def public_url(photo: CasePhoto) -> str:
    """Where the gateway serves a published photo to anyone (services/gateway/routes/photos.py)."""
    return f"/p/photos/{photo.id}"


def to_dict(photo: CasePhoto) -> dict:
    return PHOTO_VIEW.dump(
        {
            **{c.name: getattr(photo, c.name) for c in CasePhoto.__table__.columns},
            "published": photo.published_at is not None,
            "url": f"/api/v1/cases/{photo.case_id}/photos/{photo.id}",
            "public_url": public_url(photo) if photo.published_at is not None else None,
        }
    )


def stored(photo: CasePhoto) -> dict:
    """What the gateway needs to serve the bytes: the view and the storage key (never sent to clients)."""
    return to_dict(photo) | {"storage_key": photo.storage_key}


def _published_ids(case: Case) -> str | None:
    return ",".join(p.id for p in case.photos if p.published_at is not None) or None


def attach(session: Session, case: Case, records: list[dict], actor: str, now: datetime | None = None) -> list[dict]:
    """Record photos already stored; 409 when the case would have more than three."""
    now = now or utcnow()
    before = len(case.photos)
    if before + len(records) > MAX_PHOTOS:
        raise Conflict(f"a case has at most {MAX_PHOTOS} photos; this one has {before} (最多 {MAX_PHOTOS} 张照片)")
    for record in records:
        case.photos.append(
            CasePhoto(
                id=new_id(),
                case_id=case.id,
                tenant=case.tenant,
                storage_key=record["storage_key"],
                content_type=record["content_type"],
                size=record["size"],
                width=record["width"],
                height=record["height"],
                sha256=record["sha256"],
                uploaded_by=actor,
                created_at=now,
            )
        )
    audit.record_value(session, case, "photos", str(before) if before else None, str(len(case.photos)), actor,
                       "api", now)  # fmt: skip
    session.flush()
    return [to_dict(photo) for photo in case.photos]


def photo_of(case: Case, photo_id: str) -> CasePhoto:
    for photo in case.photos:
        if photo.id == photo_id:
            return photo
    raise NotFound(f"photo {photo_id} not found")


def set_published(
    session: Session, case: Case, photo_id: str, published: bool, actor: str, now: datetime | None = None
) -> dict:
    """Show the photo on the estate's public board, or take it off; doing it twice changes nothing."""
    now = now or utcnow()
    photo = photo_of(case, photo_id)
    before = _published_ids(case)
    if published and photo.published_at is None:
        photo.published_at = now
    elif not published:
        photo.published_at = None
    if audit.record_value(session, case, "published_photos", before, _published_ids(case), actor, "api", now):
        case.updated_at = now
    session.flush()
    return to_dict(photo)


def published(session: Session, photo_id: str) -> dict:
    """A published photo of any tenant, by its id (the public ``/p/photos/<id>``); unpublished ones are not found."""
    photo = session.scalars(
        select(CasePhoto).where(CasePhoto.id == photo_id, CasePhoto.published_at.is_not(None))
    ).first()
    if photo is None:
        raise NotFound(f"photo {photo_id} not found")
    return stored(photo)
