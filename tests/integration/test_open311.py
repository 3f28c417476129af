"""An Open311 GeoReport v2 client's flow, validated against the Open311 project's JSON schemas."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).with_name("open311_schemas")  # copied unchanged from ../shared/open311


def validator(name: str) -> Draft202012Validator:
    registry = Registry().with_resources(
        (
            path.name,
            Resource.from_contents(
                json.loads(path.read_text()) | {"$schema": "https://json-schema.org/draft/2020-12/schema"}
            ),
        )
        for path in SCHEMAS.glob("*.json")
        if path.name != "swagger.json"
    )
    return Draft202012Validator({"$ref": name}, registry=registry)


def valid(name: str, document: object) -> object:
    errors = [e.message for e in validator(name).iter_errors(document)]
    assert errors == [], errors
    return document


def key(company) -> str:
    return company.headers["Authorization"].removeprefix("Bearer ")


def test_services_submit_get_by_id_and_list(platform, company):
    http, base = platform.http, platform.base_url + "/open311/v2"
    services = http.get(f"{base}/services.json", params={"api_key": key(company)})
    assert services.status_code == 200 and services.headers["Content-Type"].startswith("application/json")
    valid("services.json", services.json())
    assert {"service_code": "repair", "service_name": "水电维修"}.items() <= services.json()[0].items()

    definition = valid(
        "service-definition.json", http.get(f"{base}/services/repair.json", params={"api_key": key(company)}).json()
    )
    estate = definition["attributes"][0]
    assert estate["code"] == "estate" and {"key": company.estate_id, "name": "东方现代城"} in estate["values"]

    posted = http.post(
        f"{base}/requests.json",
        data={
            "api_key": key(company),
            "service_code": "repair",
            "lat": "34.7466",
            "long": "113.6253",
            "attribute[estate]": company.estate_id,
            "attribute[household]": "5-1-302",
            "description": "五号楼一单元楼道灯不亮，晚上很黑",
            "first_name": "丽",
            "last_name": "王",
            "phone": "13912345670",
        },
    )
    assert posted.status_code == 201, posted.text
    created = posted.json()
    assert len(created) == 1 and created[0]["service_request_id"]
    request_id = created[0]["service_request_id"]

    one = valid(
        "requests.json", http.get(f"{base}/requests/{request_id}.json", params={"api_key": key(company)}).json()
    )
    assert (one[0]["status"], one[0]["service_code"], one[0]["address_id"]) == ("open", "repair", company.estate_id)
    case = company.get(f"/api/v1/cases/{request_id}").json()
    assert (case["reporter"]["name"], case["reporter"]["household"]) == ("王 丽", "5-1-302")

    listed = valid("requests.json", http.get(f"{base}/requests.json", params={"api_key": key(company)}).json())
    assert request_id in [r["service_request_id"] for r in listed]
    by_ids = http.get(f"{base}/requests.json", params={"api_key": key(company), "service_request_id": request_id})
    assert [r["service_request_id"] for r in valid("requests.json", by_ids.json())] == [request_id]
    closed = http.get(f"{base}/requests.json", params={"api_key": key(company), "status": "closed"}).json()
    assert request_id not in [r["service_request_id"] for r in closed]

    company.close(request_id)
    again = http.get(f"{base}/requests/{request_id}.json", params={"api_key": key(company)}).json()
    assert again[0]["status"] == "closed"


def test_xml_too(platform, company):
    response = platform.http.get(platform.base_url + "/open311/v2/services.xml", params={"api_key": key(company)})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "services"
    assert root.find("service/service_code").text == "repair"
    assert root.find("service/metadata").text == "true"


def test_errors_are_open311_arrays(platform, company, second_company):
    base = platform.base_url + "/open311/v2"
    missing = platform.http.post(
        f"{base}/requests.json",
        data={"api_key": key(company), "service_code": "repair", "attribute[estate]": company.estate_id},
    )
    assert missing.status_code == 400
    assert missing.json() == [{"code": 400, "description": "phone is required: the resident is called back on it"}]
    nobody = platform.http.get(f"{base}/services.json")
    assert nobody.status_code == 401 and nobody.json()[0]["code"] == 401
    theirs = company.case(company.estate_id)
    other = platform.http.get(f"{base}/requests/{theirs['id']}.json", params={"api_key": key(second_company)})
    assert other.status_code == 404 and other.json()[0]["code"] == 404
    xml = platform.http.get(f"{base}/requests/{theirs['id']}.xml", params={"api_key": key(second_company)})
    assert ElementTree.fromstring(xml.content).find("error/code").text == "404"
    mixed = platform.http.get(
        f"{base}/requests.json",
        params={"api_key": key(company), "service_request_id": theirs["id"], "start_date": "yesterday"},
    )
    assert mixed.status_code == 400  # ids override the filters, but a malformed filter is still refused
    assert mixed.json() == [
        {"code": 400, "description": "start_date must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z"}
    ]
