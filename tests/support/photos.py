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
