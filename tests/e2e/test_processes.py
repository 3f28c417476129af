"""The platform as separate processes (`lianxin-service NAME`), as `make run` and containers run it.

Closes a case over HTTP, kills a consumer with SIGKILL while its event waits, and stops every
service with SIGTERM: the event is kept in its queue and each process exits cleanly.
"""

import json
import os
import signal
import time

import pytest
import requests as http

from services.common.config import SERVICES
from tests.support.infra import service_processes, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def processes(tmp_path):
    """The five services as processes on a private vhost and databases; logs in tmp_path."""
    with service_processes(
        tmp_path, os.environ.get("TEST_DATABASE_URL"), RETRY_DELAYS="0.5,1", LOG_LEVEL="INFO", RPC_TIMEOUT="10"
    ) as lx:
        yield lx


def boot(lx, company):
    """Start every service, create the company; its key and an authorised HTTP session."""
    for name in SERVICES:
        lx.start(name)
    wait_for(lx.ready, timeout=60)
    tenant = json.loads(lx.cli("tenant", "create", "--name", company, "--community", "政通路社区"))
    session = http.Session()
    session.headers["Authorization"] = f"Bearer {tenant['api_key']}"
    return tenant, session


def test_the_loop_across_processes_survives_a_killed_consumer_and_stops_gracefully(processes):
    lx = processes
    tenant, s = boot(lx, "缔华物业")
    assert tenant["api_key"].startswith("lx_live_")

    def post(path, body):
        return wait_for(lambda: (r := s.post(lx.base + path, json=body, timeout=15)).status_code < 500 and r, 60)

    estate = post("/api/v1/estates", {"name": "东方现代城"}).json()
    assert (
        post(
            "/api/v1/volunteers",
            {"name": "张红梅", "phone": "13800000101", "estate_ids": [estate["id"]], "skills": ["visit"]},
        ).status_code
        == 201
    )
    case = post(
        "/api/v1/cases",
        {
            "estate_id": estate["id"],
            "category": "repair",
            "title": "电梯异响",
            "description": "2号楼电梯运行有异响",
            "channel": "phone",
            "reporter": {"name": "陈先生", "phone": "13912345678", "household": "2-1-1201"},
        },
    ).json()

    assert lx.kill("volunteers", signal.SIGKILL) == [-signal.SIGKILL]  # the consumer is gone
    for action, extra in (
        ("accept", {}),
        ("assign", {"assignee": "王师傅"}),
        ("start", {}),
        ("resolve", {}),
        ("close", {}),
    ):
        assert post(f"/api/v1/cases/{case['id']}/transitions", {"action": action} | extra).status_code == 200

    def visits():
        return s.get(f"{lx.base}/api/v1/cases/{case['id']}/visits", timeout=15).json().get("data", [])

    surveys = wait_for(lambda: s.get(f"{lx.base}/api/v1/cases/{case['id']}/surveys", timeout=15).json()["data"], 30)
    assert [x["status"] for x in surveys] == ["issued"]
    lx.start("volunteers")  # case.closed waited in its durable queue
    assert [v["status"] for v in wait_for(visits, 60)] == ["scheduled"]

    codes = lx.stop()
    assert codes == {name: 0 for name in SERVICES}
    with open(lx.env["LIANXIN_VAR_DIR"] + "/requests.log", encoding="utf-8") as file:
        log = file.read()
    assert "stopping gracefully" in log and "requests stopped" in log


def log_lines(lx, service):
    with open(lx.env["LIANXIN_VAR_DIR"] + f"/{service}.log", encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.startswith("{")]


def test_one_cases_trace_id_is_followed_through_every_service_it_touched(processes):
    lx = processes
    lx.env["LOG_FORMAT"] = "json"
    tenant, s = boot(lx, "鑫苑物业")

    def post(path, body, **headers):
        return wait_for(
            lambda: (r := s.post(lx.base + path, json=body, headers=headers, timeout=15)).status_code < 500 and r, 60
        )

    estate = post("/api/v1/estates", {"name": "天玺华府"}).json()
    post("/api/v1/volunteers", {"name": "王秀兰", "phone": "13800000201", "estate_ids": [estate["id"]]})
    case = post(
        "/api/v1/cases",
        {
            "estate_id": estate["id"],
            "category": "complaint",
            "title": "夜间施工噪音",
            "description": "晚上十一点还在施工",
            "channel": "wechat",
            "reporter": {"name": "林女士", "phone": "13912345600", "household": "5-1-302"},
        },
    ).json()
    for action, extra in (("accept", {}), ("assign", {"assignee": "物业经理"}), ("start", {}), ("resolve", {})):
        assert post(f"/api/v1/cases/{case['id']}/transitions", {"action": action} | extra).status_code == 200
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    closed = post(
        f"/api/v1/cases/{case['id']}/transitions", {"action": "close"}, traceparent=f"00-{trace_id}-00f067aa0ba902b7-01"
    )
    assert closed.headers["traceparent"].startswith(f"00-{trace_id}-")
    wait_for(lambda: s.get(f"{lx.base}/api/v1/cases/{case['id']}/visits", timeout=15).json()["data"], 30)

    def traced(service):
        return [line["message"] for line in log_lines(lx, service) if line.get("trace_id") == trace_id]

    wait_for(lambda: len(traced("notifications")) >= 3, 30)
    assert traced("gateway") == [f"POST /api/v1/cases/{case['id']}/transitions → 200"]
    assert f"case {case['id']}: resolved → closed (close by 鑫苑物业/{tenant['api_key'][:12]})" in traced("requests")
    assert any(m.startswith("visit ") and f"scheduled for case {case['id']}" in m for m in traced("volunteers"))
    assert any(m.startswith("survey ") and f"issued for case {case['id']}" in m for m in traced("surveys"))
    assert sorted(m.split(":")[0] for m in traced("notifications")) == [
        "survey.issued",
        "visit.scheduled",
        "visit.scheduled",
    ]  # resident and volunteer
    for service in SERVICES:  # API keys and survey tokens never reach the logs
        text = json.dumps(log_lines(lx, service), ensure_ascii=False)
        assert tenant["api_key"] not in text


def test_sigterm_mid_stream_finishes_in_flight_work_and_loses_nothing(processes):
    """20 closures in a burst; the volunteers service gets SIGTERM while handling them, then restarts."""
    lx = processes
    tenant, s = boot(lx, "新生活物业")

    def post(path, body):
        return wait_for(lambda: (r := s.post(lx.base + path, json=body, timeout=15)).status_code < 500 and r, 60)

    estate = post("/api/v1/estates", {"name": "政通花园"}).json()
    for n in range(3):
        post("/api/v1/volunteers", {"name": f"志愿者{n}", "phone": f"1380000030{n}", "estate_ids": [estate["id"]]})
    cases = []
    for n in range(20):
        case = post(
            "/api/v1/cases",
            {
                "estate_id": estate["id"],
                "category": "repair",
                "title": f"报修{n}",
                "description": "水管漏水",
                "channel": "app",
                "reporter": {"name": "住户", "phone": f"139123{n:05d}", "household": "1-1-101"},
            },
        )
        cases.append(case.json()["id"])
    for case_id in cases:
        for action, extra in (("accept", {}), ("assign", {"assignee": "师傅"}), ("start", {}), ("resolve", {})):
            post(f"/api/v1/cases/{case_id}/transitions", {"action": action} | extra)

    def visits(case_id):
        return s.get(f"{lx.base}/api/v1/cases/{case_id}/visits", timeout=15).json().get("data", [])

    for case_id in cases:  # the closures go out as fast as the gateway takes them
        post(f"/api/v1/cases/{case_id}/transitions", {"action": "close"})
    assert lx.kill("volunteers", signal.SIGTERM) == [0]  # graceful: in-flight handlers finished and acked
    lx.start("volunteers")
    per_case = wait_for(lambda: (v := [len(visits(c)) for c in cases]) and all(n >= 1 for n in v) and v, 60)
    assert per_case == [1] * 20
    time.sleep(1.0)  # a late duplicate would show now
    assert [len(visits(c)) for c in cases] == [1] * 20
    with open(lx.env["LIANXIN_VAR_DIR"] + "/volunteers.log", encoding="utf-8") as file:
        log = file.read()
    assert "stopping gracefully" in log and log.count("volunteers stopped") == 1


def test_the_image_entrypoint_runs_each_service_until_ready(processes):
    """What the container runs (ENTRYPOINT lianxin-service NAME): each one becomes ready on its own."""
    lx = processes
    for name in SERVICES:
        lx.start(name)  # runs the `lianxin-service NAME` console script, like the image

    def health(name, path):
        return (lx.base if name == "gateway" else f"http://127.0.0.1:{lx.health_ports[name]}") + path

    def readiness(name):
        try:
            response = http.get(health(name, "/readyz"), timeout=2)
        except http.RequestException:
            return None
        return response.status_code == 200 and response.json()

    for name in SERVICES:
        body = wait_for(lambda name=name: readiness(name), timeout=60)
        assert body["status"] == "ok", name
        assert http.get(health(name, "/livez"), timeout=2).status_code == 200, name
    assert lx.stop() == {name: 0 for name in SERVICES}
