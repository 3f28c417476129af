"""The photo storage seam: a local directory that no key can climb out of, the choice by setting,
and uploads that are all checked before any is stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from services.common.errors import ValidationFailed
from services.common.storage import InvalidKey, LocalStorage, PhotoMissing, S3Storage, checked_key, storage_from
from services.gateway import uploads

pytestmark = pytest.mark.unit


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_put_get_delete_round_trip(tmp_path):
    storage = LocalStorage(tmp_path / "photos")
    storage.put("t1/2026/11/a.jpg", b"bytes", "image/jpeg")
    assert storage.get("t1/2026/11/a.jpg") == b"bytes"
    storage.put("t1/2026/11/a.jpg", b"again", "image/jpeg")  # replaced whole, no temporary left behind
    assert files_under(tmp_path) == [tmp_path / "photos/t1/2026/11/a.jpg"]
    storage.delete("t1/2026/11/a.jpg")
    storage.delete("t1/2026/11/a.jpg")  # already gone: nothing happens
    with pytest.raises(PhotoMissing) as missing:
        storage.get("t1/2026/11/a.jpg")
    assert missing.value.status == 404


@pytest.mark.parametrize(
    "key",
    [
        "../escape.jpg",
        "t1/../../escape.jpg",
        "t1/./a.jpg",
        "/etc/passwd",
        "t1//a.jpg",
        "t1/.hidden",
        "t1\\..\\a.jpg",
        "t1/a.jpg\x00.png",
        "",
        "t1/%2e%2e/a.jpg",
        "t1/照片.jpg",
        "a/" * 20 + "b",
    ],
)
def test_no_key_leaves_the_directory(tmp_path, key):
    root = tmp_path / "photos"
    storage = LocalStorage(root)
    with pytest.raises(InvalidKey):
        storage.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidKey):
        storage.get(key)
    with pytest.raises(InvalidKey):
        storage.delete(key)
    assert files_under(tmp_path) == []


def test_a_symlink_out_of_the_directory_is_refused(tmp_path):
    root = tmp_path / "photos"
    (root / "t1").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "t1" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidKey):
        LocalStorage(root).put("t1/link/a.jpg", b"x", "image/jpeg")
    assert files_under(tmp_path / "outside") == []


def test_the_key_pattern_accepts_what_uploads_make():
    assert checked_key("0193a8e2-7c4d-7000-8000-000000000001/2026/11/5f1c.jpg")


def test_storage_from_the_settings(tmp_path):
    local = storage_from({"PHOTO_STORAGE": "local", "PHOTO_DIR": str(tmp_path / "p")})
    assert isinstance(local, LocalStorage) and local.root == (tmp_path / "p").resolve()
    default = storage_from({"LIANXIN_VAR_DIR": str(tmp_path / "var")})
    assert isinstance(default, LocalStorage) and default.root == (tmp_path / "var" / "photos").resolve()
    s3 = storage_from(
        {
            "PHOTO_STORAGE": "s3",
            "S3_BUCKET": "lianxin-photos",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "S3_ACCESS_KEY_ID": "id",
            "S3_SECRET_ACCESS_KEY": "secret",
        }
    )
    assert isinstance(s3, S3Storage) and s3.bucket == "lianxin-photos"
    assert s3.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert s3.client.meta.config.s3["addressing_style"] == "path"
    with pytest.raises(ValueError, match="S3_BUCKET"):
        storage_from({"PHOTO_STORAGE": "s3"})
    with pytest.raises(ValueError, match="local or s3"):
        storage_from({"PHOTO_STORAGE": "ftp"})


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 30)).save(out, "JPEG")
    return out.getvalue()


def upload(data: bytes, name: str = "a.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="image/jpeg")


def test_store_photos_checks_every_upload_before_storing_any(tmp_path):
    storage = LocalStorage(tmp_path)
    with pytest.raises(ValidationFailed) as refused:
        uploads.store_photos(storage, "t1", [upload(jpeg()), upload(b"hello", "b.jpg")])
    assert refused.value.errors == {"photo": ["b.jpg: 不是图片 (not a JPEG, PNG or WebP image)"]}
    with pytest.raises(ValidationFailed) as too_many:
        uploads.store_photos(storage, "t1", [upload(jpeg()) for _ in range(4)])
    assert too_many.value.errors == {"photo": ["最多 3 张照片 (at most 3 photos)"]}
    assert files_under(tmp_path) == []
    assert uploads.store_photos(storage, "t1", [upload(b"", "")]) == []  # an unused file input


def test_store_photos_keys_and_records(tmp_path):
    storage = LocalStorage(tmp_path)
    from datetime import datetime

    [record] = uploads.store_photos(storage, "t1", [upload(jpeg())], now=datetime(2026, 11, 30, 8, 0))
    assert record["storage_key"].startswith("t1/2026/11/") and record["storage_key"].endswith(".jpg")
    assert (record["content_type"], record["width"], record["height"]) == ("image/jpeg", 64, 48)
    assert storage.get(record["storage_key"])[:2] == b"\xff\xd8" and record["size"] == len(
        storage.get(record["storage_key"])
    )
    uploads.discard_photos(storage, [record])
    assert files_under(tmp_path) == []


def test_a_storage_failing_half_way_leaves_nothing(tmp_path):
    class Flaky(LocalStorage):
        calls = 0

        def put(self, key, data, content_type):
            self.calls += 1
            if self.calls == 2:
                raise OSError("disk full")
            super().put(key, data, content_type)

    storage = Flaky(tmp_path)
    with pytest.raises(OSError):
        uploads.store_photos(storage, "t1", [upload(jpeg()), upload(jpeg())])
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("failure", "removed"),
    [("Conflict", True), ("ValidationFailed", True), ("ServiceUnavailable", False)],
)
def test_photos_the_service_refused_are_removed_but_not_after_a_timeout(tmp_path, failure, removed):
    """A refusal means nothing was kept; after a timeout the service may still commit the records."""
    from services.common import errors
    from services.gateway import http
    from services.gateway.plumbing import Plumbing

    error = getattr(errors, failure, None) or getattr(http, failure)
    gateway = Plumbing()
    gateway.photo_store = LocalStorage(tmp_path)

    def refuse(*args):
        raise error("no")

    gateway._call = refuse
    records = uploads.store_photos(gateway.photo_store, "t1", [upload(jpeg())])
    with pytest.raises(error):
        gateway.record_photos(records, "submit_case", "t1", {}, "actor", records)
    assert (files_under(tmp_path) == []) is removed
