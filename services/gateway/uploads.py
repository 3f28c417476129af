"""Uploaded photos into the photo storage: every one cleaned first, then all stored, or none.

Used by any route that takes photos (staff attaching photos now, the resident's report page
next): ``store_photos`` returns the records to pass to the requests service, either with a new
case (``submit_case(tenant, payload, actor, photos=records)``) or to an existing one
(``attach_photos``). If that call fails, ``discard_photos`` removes the stored bytes again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from werkzeug.datastructures import FileStorage

from services.common.db import utcnow
from services.common.errors import ValidationFailed
from services.common.storage import Storage
from services.gateway import photos
from services.requests.schemas import MAX_PHOTOS

log = logging.getLogger(__name__)

FIELD = "photo"
TOO_MANY = f"最多 {MAX_PHOTOS} 张照片 (at most {MAX_PHOTOS} photos)"
NONE_SENT = "请选择照片 (send 1 to 3 files in the form field photo)"


def storage_key(tenant: str, photo: photos.Photo, now: datetime) -> str:
    """``<tenant>/<yyyy>/<mm>/<uuid>.<ext>``: one tenant's photos together, never guessable."""
    return f"{tenant}/{now:%Y}/{now:%m}/{uuid.uuid4()}.{photo.extension}"


def read_upload(upload: FileStorage, max_bytes: int) -> bytes:
    """The file's bytes, reading at most one byte past the limit (enough to refuse it)."""
    return upload.stream.read(max_bytes + 1)


def store_photos(
    storage: Storage,
    tenant: str,
    uploads: Sequence[FileStorage],
    max_bytes: int = photos.MAX_BYTES,
    field: str = FIELD,
    now: datetime | None = None,
) -> list[dict]:
    """Clean each upload, then store them all: the records for ``submit_case(..., photos=...)``.

    422 (:class:`ValidationFailed`) for more than three or for any photo that is not fit to
    keep; then nothing has been stored. Empty file inputs (a form's unused ``<input type=file>``)
    are skipped: no upload at all is an empty list, not an error.
    """
    uploads = [u for u in uploads if u is not None and u.filename]
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed(TOO_MANY.split(" (")[1].rstrip(")"), {field: [TOO_MANY]})
    cleaned: list[photos.Photo] = []
    errors: dict[str, list[str]] = {}
    for upload in uploads:
        try:
            cleaned.append(photos.clean(read_upload(upload, max_bytes), field, max_bytes))
        except ValidationFailed as failed:
            for message in failed.errors.get(field, []):
                errors.setdefault(field, []).append(f"{upload.filename[:80]}: {message}")
    if errors:
        raise ValidationFailed("a photo cannot be accepted", errors)
    now = now or utcnow()
    records: list[dict] = []
    try:
        for photo in cleaned:
            key = storage_key(tenant, photo, now)
            storage.put(key, photo.data, photo.content_type)
            records.append(
                {
                    "storage_key": key,
                    "content_type": photo.content_type,
                    "size": len(photo.data),
                    "width": photo.width,
                    "height": photo.height,
                    "sha256": photo.sha256,
                }
            )
    except Exception:
        discard_photos(storage, records)  # the storage failed half-way: leave nothing behind
        raise
    return records


def discard_photos(storage: Storage, records: Sequence[dict]) -> None:
    """Remove stored photos whose records were not kept (the case or the attach was refused)."""
    for record in records:
        try:
            storage.delete(record["storage_key"])
        except Exception:  # an orphan costs bytes, not correctness: log it, keep the caller's error
            log.exception("could not remove the orphaned photo %s", record["storage_key"])
