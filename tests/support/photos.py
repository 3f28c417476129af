"""Photos in the upload tests: a JPEG carrying a GPS position (what must never be kept), and how
many files a tenant has in the session's photo directory."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, TiffImagePlugin

from tests.support.infra import Platform


def jpeg_with_gps(size=(1200, 900), color=(180, 40, 40)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (TiffImagePlugin.IFDRational(39), 54, 27), 3: "E", 4: (116, 23, 50)}
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif, quality=92)
    return out.getvalue()


def stored_files(platform: Platform, tenant: str) -> int:
    root = Path(platform.overrides["PHOTO_DIR"]) / tenant
    return sum(1 for path in root.rglob("*") if path.is_file()) if root.exists() else 0


def png(size=(300, 200)) -> bytes:
    """A plain PNG (no metadata to strip)."""
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 90, 200, 255)).save(out, "PNG")
    return out.getvalue()


def upload(api, case_id, *files):
    """``files`` as (name, bytes, content type) to the case's photos API, with the company's key."""
    parts = [("photo", (name, data, kind)) for name, data, kind in files]
    return api.lx.http.post(
        api.lx.base_url + f"/api/v1/cases/{case_id}/photos", files=parts, headers=api.headers, timeout=30
    )
