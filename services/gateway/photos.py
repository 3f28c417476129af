"""A resident's photo made safe to keep and to show: checked, decoded, cleaned, re-encoded.

Pure: bytes in, bytes out, no broker, database or storage. What a photo must be:

- at most ``MAX_PHOTO_BYTES`` as uploaded (5 MiB);
- a JPEG, PNG or WebP image by its content, as Pillow reads it (the filename and the
  Content-Type the browser sent are never trusted);
- at most :data:`MAX_PIXELS` pixels by its header, checked before anything is decoded, so a
  small file declaring a huge image (a decompression bomb) costs nothing.

What is kept is a new encoding of the pixels only: turned upright by its EXIF orientation, the
longest side at most :data:`LONGEST_SIDE`, every piece of metadata left behind (EXIF with the
GPS position and the camera, XMP, PNG text chunks, comments). The ICC colour profile is the
one exception, kept on purpose: it describes colours only (nothing about the person, place or
time), and without it a phone's Display P3 photo looks washed out. JPEG stays JPEG (quality
85), WebP stays WebP (quality 85, transparency kept), PNG stays PNG; an animation keeps its
first frame.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from services.common.errors import ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
#: Pixels a photo may declare (a 48 MP phone's full-size shot is refused; its default 12 MP is fine).
MAX_PIXELS = 40_000_000
LONGEST_SIDE = 2048
QUALITY = 85

#: Pillow's format name → what it is saved as and served with. MPO is how Pillow names a JPEG
#: carrying a second picture (many phones' portrait shots); its first picture is kept, as JPEG.
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
OPENERS = ["JPEG", "PNG", "WEBP"]  # the only decoders Pillow may try (MPO comes through JPEG's)
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

TOO_BIG = "照片过大 (photo over {mb} MB)"
NOT_AN_IMAGE = "不是图片 (not a JPEG, PNG or WebP image)"
TOO_MANY_PIXELS = "图片尺寸过大 (image too large to decode)"
DAMAGED = "图片已损坏 (the image is damaged or incomplete)"


@dataclass(frozen=True)
class Photo:
    """A cleaned photo, ready to store."""

    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message.split(" (", 1)[-1].rstrip(")"), {field: [message]})


def clean(raw: bytes, field: str = "photo", max_bytes: int = MAX_BYTES) -> Photo:
    """The photo as it will be kept, or :class:`ValidationFailed` (422) naming ``field``."""
    if len(raw) > max_bytes:
        raise refuse(field, TOO_BIG.format(mb=f"{max_bytes / 1024 / 1024:g}"))
    with warnings.catch_warnings():
        # Pillow warns (and later refuses) above its own pixel limit; ours is lower, but any
        # warning of that kind is a refusal here, never a log line.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(raw), formats=OPENERS) as image:
                if image.format not in FORMATS:
                    raise refuse(field, NOT_AN_IMAGE)
                width, height = image.size
                if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
                    raise refuse(field, TOO_MANY_PIXELS)
                return _reencode(image, FORMATS[image.format])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise refuse(field, TOO_MANY_PIXELS) from None
        except UnidentifiedImageError:
            raise refuse(field, NOT_AN_IMAGE) from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error):
            # Truncated data, a broken chunk or a bad header field, found while decoding.
            raise refuse(field, DAMAGED) from None


def _reencode(image: Image.Image, kind: str) -> Photo:
    image.seek(0)  # an animation or an MPO: its first picture
    icc = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)  # decodes; a copy without the orientation
    upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    pixels = _plain(upright, kind)
    options: dict = {}
    if icc:
        options["icc_profile"] = icc
    if kind == "JPEG":
        options |= {"quality": QUALITY, "optimize": True, "progressive": True}
    elif kind == "WEBP":
        options |= {"quality": QUALITY, "method": 4}
    else:
        options |= {"optimize": True}
    out = io.BytesIO()
    pixels.save(out, kind, **options)
    data = out.getvalue()
    return Photo(data, CONTENT_TYPES[kind], pixels.width, pixels.height, hashlib.sha256(data).hexdigest())


def _plain(image: Image.Image, kind: str) -> Image.Image:
    """The pixels alone, in a mode the format can save, with no ``info`` (so no metadata) to carry."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if kind == "JPEG":
        mode = "L" if image.mode in ("L", "1", "I;16", "I") else "RGB"
    elif kind == "WEBP":
        mode = "RGBA" if has_alpha else "RGB"
    elif image.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        mode = image.mode
    else:
        mode = "RGBA" if has_alpha else "RGB"
    if image.mode == "P" and mode != "P":
        image = image.convert("RGBA" if has_alpha else "RGB")
    pixels = image if image.mode == mode else image.convert(mode)
    if pixels is image:
        pixels = image.copy()
    keep = {"transparency": image.info["transparency"]} if mode == "P" and "transparency" in image.info else {}
    pixels.info = keep
    return pixels
