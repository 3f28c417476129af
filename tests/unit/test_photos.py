"""A resident's photo is re-encoded from its pixels alone: no EXIF/GPS left, bounded in bytes and pixels."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import Image, TiffImagePlugin

from services.common.errors import ValidationFailed
from services.gateway import photos

pytestmark = pytest.mark.unit


def picture(size=(640, 480), color=(200, 30, 30), mode="RGB") -> Image.Image:
    image = Image.new(mode, size, color)
    image.paste((20, 160, 40) if mode == "RGB" else 0, (0, 0, size[0] // 2, size[1] // 4))  # a corner to track
    return image


def with_gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel X"  # Model
    exif[0x0112] = orientation
    exif[0x9003] = "2026:11:30 08:15:00"  # DateTimeOriginal (in the Exif IFD in real files; fine here)
    gps = {
        1: "N",
        2: (TiffImagePlugin.IFDRational(39), TiffImagePlugin.IFDRational(54), TiffImagePlugin.IFDRational(27)),
        3: "E",
        4: (TiffImagePlugin.IFDRational(116), TiffImagePlugin.IFDRational(23), TiffImagePlugin.IFDRational(50)),
    }
    exif[0x8825] = gps  # the GPS IFD: where the photo was taken
    return exif


def encoded(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def refused(data: bytes) -> dict:
    with pytest.raises(ValidationFailed) as failed:
        photos.clean(data)
    assert failed.value.status == 422
    return failed.value.errors


def test_a_jpeg_with_gps_comes_out_without_any_exif():
    raw = encoded(picture(), "JPEG", exif=with_gps_exif(), quality=95)
    assert opened(raw).getexif().get_ifd(0x8825)  # the input really carries a position
    photo = photos.clean(raw)
    out = opened(photo.data)
    assert out.format == "JPEG" and photo.content_type == "image/jpeg" and photo.extension == "jpg"
    assert len(out.getexif()) == 0 and "exif" not in out.info and "xmp" not in out.info
    assert b"PhoneMaker" not in photo.data and b"Exif\x00\x00" not in photo.data
    assert (photo.width, photo.height) == out.size == (640, 480)
    assert len(photo.sha256) == 64


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    raw = encoded(picture((400, 100)), "JPEG", exif=with_gps_exif(orientation=6))  # "rotate 90° clockwise"
    photo = photos.clean(raw)
    assert (photo.width, photo.height) == (100, 400)
    assert len(opened(photo.data).getexif()) == 0


def test_a_png_stays_png_without_text_chunks_or_exif():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "家住3号楼2单元501")
    raw = encoded(picture(mode="RGBA", color=(0, 0, 255, 128)), "PNG", pnginfo=info, exif=with_gps_exif())
    photo = photos.clean(raw)
    out = opened(photo.data)
    assert (out.format, out.mode, photo.content_type) == ("PNG", "RGBA", "image/png")
    assert "Comment" not in out.info and len(out.getexif()) == 0 and "家住3号楼".encode() not in photo.data


def test_a_webp_stays_webp_without_exif():
    raw = encoded(picture(), "WEBP", exif=with_gps_exif(), quality=90)
    photo = photos.clean(raw)
    out = opened(photo.data)
    assert (out.format, photo.content_type, photo.extension) == ("WEBP", "image/webp", "webp")
    assert len(out.getexif()) == 0 and b"PhoneMaker" not in photo.data


def test_the_longest_side_is_capped():
    photo = photos.clean(encoded(picture((5000, 1000)), "JPEG"))
    assert (photo.width, photo.height) == (2048, 410)


def test_an_icc_profile_is_kept_on_purpose():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = photos.clean(encoded(picture(), "JPEG", icc_profile=icc))
    assert opened(photo.data).info.get("icc_profile") == icc


@pytest.mark.parametrize(
    "raw",
    [
        "楼道灯坏了，请尽快修理".encode(),
        b"GIF89a" + b"\x00" * 64,
        b"",
        b"%PDF-1.7\n" + b"x" * 100,
    ],
    ids=["text", "gif-header", "empty", "pdf"],
)
def test_anything_but_a_jpeg_png_or_webp_is_422(raw):
    assert refused(raw) == {"photo": ["不是图片 (not a JPEG, PNG or WebP image)"]}


def test_a_gif_or_bmp_image_is_refused_however_it_is_named():
    for kind in ("GIF", "BMP", "TIFF"):
        assert refused(encoded(picture((20, 20)), kind)) == {"photo": ["不是图片 (not a JPEG, PNG or WebP image)"]}


def test_over_5_mb_is_422_before_decoding():
    raw = encoded(picture((64, 64)), "PNG") + b"\x00" * (6 * 1024 * 1024)
    assert refused(raw) == {"photo": ["照片过大 (photo over 5 MB)"]}


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes of valid PNG whose header declares width × height pixels (a bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024, 9)  # far less than the declared rows: never reached
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_from_its_header_quickly():
    bomb = png_declaring(30000, 30000)
    assert len(bomb) < 1000
    started = time.monotonic()
    assert refused(bomb) == {"photo": ["图片尺寸过大 (image too large to decode)"]}
    assert time.monotonic() - started < 1


def test_just_under_the_pixel_limit_is_not_refused_for_its_size():
    errors = refused(png_declaring(8000, 5000))  # 40 MP declared, but the data is a stub
    assert errors == {"photo": ["图片已损坏 (the image is damaged or incomplete)"]}


def test_a_truncated_jpeg_is_422():
    raw = encoded(picture((800, 600)), "JPEG", quality=95)
    assert refused(raw[: len(raw) // 2]) == {"photo": ["图片已损坏 (the image is damaged or incomplete)"]}


def test_the_field_is_named_in_the_error():
    with pytest.raises(ValidationFailed) as failed:
        photos.clean(b"nope", field="photo[2]")
    assert list(failed.value.errors) == ["photo[2]"]
