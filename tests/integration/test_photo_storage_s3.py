"""Photos in an S3-compatible bucket: moto's S3 server on a loopback port stands in for MinIO, OSS
or AWS; the storage round trip, then a gateway with ``PHOTO_STORAGE=s3`` storing an upload there."""

from __future__ import annotations

import io

import pytest
from moto.server import ThreadedMotoServer
from nameko.containers import ServiceContainer
from PIL import Image

from services.common.storage import PhotoMissing, S3Storage
from services.gateway.service import GatewayService
from tests.support.infra import free_port, wait_for
from tests.support.photos import jpeg_with_gps, stored_files

pytestmark = pytest.mark.integration

BUCKET = "lianxin-photos"
CREDENTIALS = {"S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1 with an empty bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    storage = s3(endpoint)
    storage.client.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def s3(endpoint: str) -> S3Storage:
    return S3Storage(
        BUCKET,
        endpoint_url=endpoint,
        region=CREDENTIALS["S3_REGION"],
        access_key_id=CREDENTIALS["S3_ACCESS_KEY_ID"],
        secret_access_key=CREDENTIALS["S3_SECRET_ACCESS_KEY"],
    )


def keys(storage: S3Storage, prefix: str = "") -> list[str]:
    listed = storage.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_put_get_delete_round_trip(s3_endpoint):
    storage = s3(s3_endpoint)
    storage.put("t-roundtrip/2026/11/a.jpg", b"\xff\xd8photo", "image/jpeg")
    assert storage.get("t-roundtrip/2026/11/a.jpg") == b"\xff\xd8photo"
    head = storage.client.head_object(Bucket=BUCKET, Key="t-roundtrip/2026/11/a.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert keys(storage, "t-roundtrip/") == ["t-roundtrip/2026/11/a.jpg"]
    storage.delete("t-roundtrip/2026/11/a.jpg")
    storage.delete("t-roundtrip/2026/11/a.jpg")  # already gone: nothing happens
    with pytest.raises(PhotoMissing):
        storage.get("t-roundtrip/2026/11/a.jpg")
    assert keys(storage, "t-roundtrip/") == []


@pytest.fixture
def s3_gateway(platform, s3_endpoint):
    """A second gateway (same broker and databases) whose photo storage is the bucket."""
    port = free_port()
    config = platform.config(
        "gateway",
        PHOTO_STORAGE="s3",
        S3_ENDPOINT_URL=s3_endpoint,
        S3_BUCKET=BUCKET,
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        **CREDENTIALS,
    )
    container = ServiceContainer(GatewayService, config)
    container.start()
    base_url = f"http://127.0.0.1:{port}"
    wait_for(lambda: platform.http.get(base_url + "/healthz", timeout=1).status_code == 200, timeout=20)
    yield base_url
    container.stop()


def test_a_gateway_with_s3_storage_keeps_uploads_in_the_bucket(platform, company, s3_endpoint, s3_gateway):
    case = company.case(company.estate_id, phone="13912390001")
    local_before = stored_files(platform, company.tenant_id)
    response = platform.http.post(
        s3_gateway + f"/api/v1/cases/{case['id']}/photos",
        files=[("photo", ("door.jpg", jpeg_with_gps(), "image/jpeg"))],
        headers=company.headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    [photo] = response.json()["data"]
    [key] = keys(s3(s3_endpoint), f"{company.tenant_id}/")
    assert key.endswith(".jpg")
    image = platform.http.get(s3_gateway + photo["url"], headers=company.headers, timeout=15)
    assert image.status_code == 200 and image.content == s3(s3_endpoint).get(key)
    assert len(Image.open(io.BytesIO(image.content)).getexif()) == 0
    assert stored_files(platform, company.tenant_id) == local_before  # nothing went to the local directory
    refused = platform.http.post(
        s3_gateway + f"/api/v1/cases/{case['id']}/photos",
        files=[("photo", ("a.jpg", jpeg_with_gps(), "image/jpeg"))] * 3,
        headers=company.headers,
        timeout=30,
    )
    assert refused.status_code == 409
    assert keys(s3(s3_endpoint), f"{company.tenant_id}/") == [key]
