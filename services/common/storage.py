"""Where photo bytes live: one small seam with a local directory and an S3-compatible bucket behind it.

The databases keep only a photo's record and its storage key; the bytes go through a
:class:`Storage`. ``PHOTO_STORAGE=local`` (the default) writes files under ``PHOTO_DIR``;
``PHOTO_STORAGE=s3`` puts objects in ``S3_BUCKET`` of any S3-compatible service (AWS, MinIO,
Ceph, and the Chinese clouds' S3 endpoints), path-style addressed so a bare host works.

Keys are ``<tenant>/<yyyy>/<mm>/<uuid>.<ext>``; every backend checks them with
:func:`checked_key`, so a key can never climb out of the directory (``..``, ``/etc/passwd``).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from nameko.extensions import DependencyProvider

from services.common.config import DEFAULTS, var_dir
from services.common.errors import NotFound

#: Segments of letters, digits, ``.``, ``_`` and ``-``, each starting with a letter or digit
#: (so never ``.`` or ``..``), joined by single slashes; no leading slash, no backslash.
KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,9}")


class InvalidKey(ValueError):
    """A key that is not of the form above: a bug or an attack, never a user's mistake."""


class PhotoMissing(NotFound):
    """No object under this key (a 404 at the edge)."""


def checked_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > 300 or not KEY.fullmatch(key):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`PhotoMissing` when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens when it is already gone."""
        ...


class LocalStorage:
    """Files under one directory; a write is atomic (a temporary file renamed into place)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def path_of(self, key: str) -> Path:
        path = (self.root / checked_key(key)).resolve()
        if not path.is_relative_to(self.root):  # belt and braces: the pattern already forbids it
            raise InvalidKey(f"key {key!r} leaves the storage directory")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise PhotoMissing(f"no photo stored under {key}") from None

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)


class S3Storage:
    """An S3-compatible bucket through boto3 (path-style addressing, signature v4)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        if not bucket:
            raise ValueError("PHOTO_STORAGE=s3 needs S3_BUCKET")
        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=BotoConfig(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=checked_key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            found = self.client.get_object(Bucket=self.bucket, Key=checked_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise PhotoMissing(f"no photo stored under {key}") from None
            raise
        return found["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=checked_key(key))  # S3 deletes are idempotent


def _setting(config: Mapping[str, Any], name: str) -> str:
    return str(config.get(name) or DEFAULTS[name])


def photo_dir(config: Mapping[str, Any]) -> Path:
    """``PHOTO_DIR``, else ``<LIANXIN_VAR_DIR>/photos``."""
    return Path(_setting(config, "PHOTO_DIR") or Path(str(config.get("LIANXIN_VAR_DIR") or var_dir())) / "photos")


def storage_from(config: Mapping[str, Any]) -> Storage:
    """The storage ``PHOTO_STORAGE`` names (``local`` or ``s3``), from a service's config."""
    kind = _setting(config, "PHOTO_STORAGE").strip().lower()
    if kind == "local":
        return LocalStorage(photo_dir(config))
    if kind == "s3":
        return S3Storage(
            _setting(config, "S3_BUCKET"),
            endpoint_url=_setting(config, "S3_ENDPOINT_URL"),
            region=_setting(config, "S3_REGION"),
            access_key_id=_setting(config, "S3_ACCESS_KEY_ID"),
            secret_access_key=_setting(config, "S3_SECRET_ACCESS_KEY"),
        )
    raise ValueError(f"PHOTO_STORAGE must be local or s3, not {kind!r}")


class PhotoStore(DependencyProvider):
    """The container's :class:`Storage`, built once at setup from its config (a bad setting fails the start)."""

    storage: Storage | None = None

    def setup(self) -> None:
        self.storage = storage_from(self.container.config)

    def get_dependency(self, worker_ctx: object) -> Storage:
        assert self.storage is not None
        return self.storage
