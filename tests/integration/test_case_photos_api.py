"""Photos of cases over HTTP: attach, list, download (no EXIF left), at most three, bombs refused
with nothing stored, another company's key sees nothing, the public sees published ones only."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from PIL import Image
from werkzeug.datastructures import FileStorage

from services.common.storage import LocalStorage
from services.gateway import uploads
from tests.support.photos import jpeg_with_gps, png, stored_files, upload

pytestmark = pytest.mark.integration


def bomb(width=30000, height=30000) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * 512)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


JPEG = ("balcony.jpg", jpeg_with_gps(), "image/jpeg")


def test_staff_attach_two_photos_list_them_and_download_one_without_exif(platform, company):
    case = company.case(company.estate_id, phone="13912380001")
    response = upload(company, case["id"], JPEG, ("wall.png", png(), "application/octet-stream"))
    assert response.status_code == 201, response.text
    attached = response.json()["data"]
    assert [p["content_type"] for p in attached] == ["image/jpeg", "image/png"]
    listed = company.get(f"/api/v1/cases/{case['id']}/photos").json()["data"]
    assert [p["id"] for p in listed] == [p["id"] for p in attached]
    assert all(p["size"] > 0 and p["published"] is False and p["public_url"] is None for p in listed)
    assert (listed[0]["width"], listed[0]["height"]) == (1200, 900)
    assert "storage_key" not in str(listed)
    assert company.get(f"/api/v1/cases/{case['id']}").json()["photo_count"] == 2
    assert stored_files(platform, company.tenant_id) == 2

    image = company.get(listed[0]["url"])
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["Cache-Control"].startswith("private")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert len(image.content) == listed[0]["size"]
    opened = Image.open(io.BytesIO(image.content))
    opened.load()
    assert opened.format == "JPEG" and len(opened.getexif()) == 0 and b"PhoneMaker" not in image.content
    trail = company.get(f"/api/v1/cases/{case['id']}/audit").json()["data"]
    assert [(c["before"], c["after"]) for c in trail if c["field"] == "photos"] == [(None, "2")]


def test_a_fourth_photo_is_refused_and_nothing_more_is_stored(platform, company):
    case = company.case(company.estate_id, phone="13912380002")
    assert upload(company, case["id"], JPEG, JPEG).status_code == 201
    before = stored_files(platform, company.tenant_id)
    more = upload(company, case["id"], JPEG, JPEG)
    assert more.status_code == 409, more.text
    assert more.headers["Content-Type"].startswith("application/problem+json")
    four = upload(company, company.case(company.estate_id, phone="13912380003")["id"], *[JPEG] * 4)
    assert four.status_code == 422 and four.json()["errors"] == {"photo": ["最多 3 张照片 (at most 3 photos)"]}
    assert stored_files(platform, company.tenant_id) == before
    assert upload(company, case["id"], JPEG).status_code == 201  # the third is still welcome
    assert company.get(f"/api/v1/cases/{case['id']}").json()["photo_count"] == 3


def test_a_bomb_or_a_text_file_is_422_and_nothing_is_stored(platform, company):
    case = company.case(company.estate_id, phone="13912380004")
    before = stored_files(platform, company.tenant_id)
    refused = upload(company, case["id"], JPEG, ("huge.png", bomb(), "image/png"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == {"photo": ["huge.png: 图片尺寸过大 (image too large to decode)"]}
    text = upload(company, case["id"], ("note.jpg", "不是照片".encode(), "image/jpeg"))
    assert text.json()["errors"] == {"photo": ["note.jpg: 不是图片 (not a JPEG, PNG or WebP image)"]}
    big = upload(company, case["id"], ("big.jpg", b"\xff\xd8" + b"\0" * (6 * 1024 * 1024), "image/jpeg"))
    assert big.status_code == 422 and big.json()["errors"] == {"photo": ["big.jpg: 照片过大 (photo over 5 MB)"]}
    none = company.post(f"/api/v1/cases/{case['id']}/photos", {"photo": "x"})
    assert none.status_code == 415
    assert stored_files(platform, company.tenant_id) == before
    assert company.get(f"/api/v1/cases/{case['id']}/photos").json()["data"] == []


def test_another_companys_key_gets_404_everywhere(company, second_company):
    case = company.case(company.estate_id, phone="13912380005")
    [photo] = upload(company, case["id"], JPEG).json()["data"]
    base = f"/api/v1/cases/{case['id']}/photos"
    assert second_company.get(base).status_code == 404
    assert second_company.get(f"{base}/{photo['id']}").status_code == 404
    assert second_company.post(f"{base}/{photo['id']}/publish").status_code == 404
    assert second_company.post(f"{base}/{photo['id']}/unpublish").status_code == 404
    assert upload(second_company, case["id"], JPEG).status_code == 404
    other = second_company.case(second_company.estate_id, phone="13912380006")
    assert second_company.get(f"/api/v1/cases/{other['id']}/photos/{photo['id']}").status_code == 404
    assert company.get(f"{base}/{photo['id']}").status_code == 200


def test_the_board_and_the_public_address_show_published_photos_only(platform, company):
    case = company.case(company.estate_id, phone="13912380007", title="墙皮脱落")
    first, second = upload(company, case["id"], JPEG, ("b.png", png(), "image/png")).json()["data"]
    company.close(case["id"])
    public = platform.base_url + f"/p/photos/{first['id']}"

    def board_photos():
        board = company.get(f"/api/v1/estates/{company.estate_id}/board").json()["data"]
        return next(entry["photos"] for entry in board if entry["case_id"] == case["id"])

    assert board_photos() == []
    assert platform.http.get(public).status_code == 404
    published = company.post(f"/api/v1/cases/{case['id']}/photos/{first['id']}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["published"] is True and published.json()["public_url"] == f"/p/photos/{first['id']}"
    assert board_photos() == [{"id": first["id"], "url": f"/p/photos/{first['id']}"}]
    shown = platform.http.get(public)
    assert shown.status_code == 200 and shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.content == company.get(first["url"]).content
    assert platform.http.get(platform.base_url + f"/p/photos/{second['id']}").status_code == 404
    page = platform.http.get(platform.base_url + f"/p/estates/{company.estate_id}/board").text
    assert f'<img src="/p/photos/{first["id"]}"' in page and second["id"] not in page
    assert company.post(f"/api/v1/cases/{case['id']}/photos/{first['id']}/unpublish").status_code == 200
    assert platform.http.get(public).status_code == 404
    assert board_photos() == []
    trail = company.get(f"/api/v1/cases/{case['id']}/audit").json()["data"]
    assert [(c["before"], c["after"]) for c in trail if c["field"] == "published_photos"] == [
        (None, first["id"]),
        (first["id"], None),
    ]
    assert platform.http.get(platform.base_url + "/p/nope").status_code == 404


def test_a_case_and_its_photos_are_recorded_in_one_call(platform, company):
    """What the resident's report page does: store_photos, then submit_case(..., photos=records)."""
    storage = LocalStorage(platform.overrides["PHOTO_DIR"])
    files = [FileStorage(io.BytesIO(jpeg_with_gps()), filename="leak.jpg", content_type="image/jpeg")]
    records = uploads.store_photos(storage, company.tenant_id, files)
    assert records[0]["storage_key"].startswith(f"{company.tenant_id}/")
    payload = {
        "estate_id": company.estate_id,
        "category": "repair",
        "title": "厨房漏水",
        "description": "水管接口滴水",
        "channel": "app",
        "reporter": {"name": "陈先生", "phone": "13912380008", "household": "3-2-501"},
    }
    with ClusterRpcProxy({"AMQP_URI": platform.amqp_uri}, timeout=30) as rpc:
        case = rpc.requests.submit_case(company.tenant_id, payload, "resident:13912380008", photos=records)
        assert case["photo_count"] == 1
        with pytest.raises(Exception) as refused:  # a fourth photo is refused by the service too
            rpc.requests.attach_photos(company.tenant_id, case["id"], records * 3, "x")
        assert type(refused.value).__name__ == "Conflict"
    [photo] = company.get(f"/api/v1/cases/{case['id']}/photos").json()["data"]
    assert photo["uploaded_by"] == "resident:13912380008" and photo["sha256"] == records[0]["sha256"]
    assert company.get(photo["url"]).content == storage.get(records[0]["storage_key"])


def test_two_uploads_racing_past_the_limit_leave_only_the_kept_photos(platform, company):
    """Both pass the gateway's early count; the service refuses one, whose stored bytes are removed."""
    import eventlet
    import requests

    case = company.case(company.estate_id, phone="13912380009")
    before = stored_files(platform, company.tenant_id)

    def attempt():
        with requests.Session() as http:
            http.trust_env = False
            parts = [("photo", ("a.jpg", JPEG[1], "image/jpeg"))] * 2
            url = platform.base_url + f"/api/v1/cases/{case['id']}/photos"
            return http.post(url, files=parts, headers=company.headers, timeout=30).status_code

    statuses = sorted(eventlet.GreenPool().imap(lambda _: attempt(), range(2)))
    assert statuses == [201, 409]
    assert company.get(f"/api/v1/cases/{case['id']}").json()["photo_count"] == 2
    assert stored_files(platform, company.tenant_id) == before + 2
