"""``Idempotency-Key``: retries of a POST act once and get the first answer back."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration


def case_body(company, title):
    return {
        "estate_id": company.estate_id,
        "category": "repair",
        "title": title,
        "description": "水管漏水",
        "channel": "app",
        "reporter": {"name": "陈先生", "phone": "13912345678", "household": "3-2-501"},
    }


def cases_titled(company, title):
    listed = company.get("/api/v1/cases", params={"limit": 100}).json()["data"]
    return [c["id"] for c in listed if c["title"] == title]


def test_a_retry_with_the_same_key_replays_the_first_answer(company):
    key = str(uuid.uuid4())
    body = case_body(company, "重试一次")
    first = company.post("/api/v1/cases", body, headers={"Idempotency-Key": key})
    again = company.post("/api/v1/cases", body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert cases_titled(company, "重试一次") == [first.json()["id"]]


def test_the_same_key_with_another_body_is_422_and_creates_nothing(company):
    key = str(uuid.uuid4())
    assert company.post("/api/v1/cases", case_body(company, "甲"), headers={"Idempotency-Key": key}).status_code == 201
    other = company.post("/api/v1/cases", case_body(company, "乙"), headers={"Idempotency-Key": key})
    assert other.status_code == 422
    assert other.json()["detail"] == "this Idempotency-Key was used for a different request"
    assert cases_titled(company, "乙") == []


def test_keys_are_per_api_key(company, second_company):
    key = str(uuid.uuid4())
    a = company.post("/api/v1/cases", case_body(company, "各自的键"), headers={"Idempotency-Key": key})
    b = second_company.post("/api/v1/cases", case_body(second_company, "各自的键"), headers={"Idempotency-Key": key})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"] and "Idempotent-Replayed" not in b.headers


def test_a_rejected_request_is_replayed_as_rejected(company):
    key = str(uuid.uuid4())
    body = case_body(company, "") | {"title": ""}
    first = company.post("/api/v1/cases", body, headers={"Idempotency-Key": key})
    again = company.post("/api/v1/cases", body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


def test_concurrent_duplicates_create_exactly_one_case(company):
    key = str(uuid.uuid4())
    body = case_body(company, "并发重复提交")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: company.post("/api/v1/cases", body, headers={"Idempotency-Key": key}), range(8))
        )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 409)
    assert cases_titled(company, "并发重复提交") == list(created)


def test_a_malformed_key_is_400(company):
    response = company.post("/api/v1/cases", case_body(company, "x"), headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400
    assert response.json()["detail"] == "Idempotency-Key must be 1 to 255 characters"
