"""A notice to every household of an estate: in-app and SMS (to a local fake Aliyun endpoint).

The fake provider answers like Aliyun's `SendSms` and counts the texts it received, so the
figure includes the real HTTP round trip of every SMS, not just the database work.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests as http

from bench.perf.load import closed_loop
from tests.support.infra import free_port

# The settings that route the notifications service's SMS to the fake provider.
SMS_KINDS = ("broadcast", "notice", "broadcast.notice", "incident.declared", "incident.resolved")


def sms_settings(port: int) -> dict[str, str]:
    return {
        "NOTIFY_CHANNELS": "inapp,aliyun_sms",
        "ALIYUN_SMS_ENDPOINT": f"http://127.0.0.1:{port}/",
        "ALIYUN_SMS_ACCESS_KEY_ID": "bench",
        "ALIYUN_SMS_ACCESS_KEY_SECRET": "bench-secret",
        "ALIYUN_SMS_SIGN_NAME": "连心",
        "ALIYUN_SMS_TEMPLATES": ",".join(f"{kind}=SMS_BENCH" for kind in SMS_KINDS),
    }


class FakeSmsProvider:
    """Answers every `SendSms` with Code OK; counts texts per phone number."""

    def __init__(self) -> None:
        self.port = free_port()
        self.texts: dict[str, int] = {}
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one segment, sent at once: unbuffered, they went out as two
            # writes and Nagle + delayed ACK held every answer ~40 ms (the provider did 22/s).
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                query = parse_qs(urlparse(self.path).query)
                phone = (query.get("PhoneNumbers") or ["?"])[0]
                with provider.lock:
                    provider.texts[phone] = provider.texts.get(phone, 0) + 1
                body = json.dumps({"Code": "OK", "Message": "OK", "BizId": "bench", "RequestId": "bench"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self) -> int:
        with self.lock:
            return sum(self.texts.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def household(n: int) -> str:
    """The n-th household (0-based) as 楼-单元-房号: 50 buildings × 4 units × 25 floors × 2 rooms."""
    building, rest = divmod(n, 200)
    unit, rest = divmod(rest, 50)
    floor, room = divmod(rest, 2)
    return f"{building + 1}-{unit + 1}-{(floor + 1) * 100 + room + 1}"


def spec(base: str) -> dict:
    return http.get(f"{base}/openapi.json", timeout=10).json()


def has_route(doc: dict, method: str, path: str) -> bool:
    return method.lower() in doc.get("paths", {}).get(path, {})


def contact_fields(doc: dict) -> set[str]:
    """The properties POST /api/v1/contacts accepts (estate and household once contacts have them)."""
    operation = doc.get("paths", {}).get("/api/v1/contacts", {}).get("post", {})
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = doc.get("components", {}).get("schemas", {}).get(schema["$ref"].rsplit("/", 1)[-1], {})
    return set(schema.get("properties", {}))


def resident(n: int, estate: str) -> dict:
    return {
        "phone": f"+86137{n:08d}",
        "name": f"住户{n}",
        "role": "resident",
        "estate_id": estate,
        "household": household(n),
    }


def seed_households(base: str, key: str, estate: str, households: int, bulk: bool) -> int:
    """One resident contact per household: through the bulk import if there is one, else one by one."""
    if bulk:
        session = http.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {key}"
        imported = 0
        for first in range(0, households, 2_000):
            rows = [resident(n, estate) for n in range(first, min(first + 2_000, households))]
            response = session.post(f"{base}/api/v1/contact-imports", json={"contacts": rows}, timeout=300)
            if response.status_code != 200:
                print(f"   contact import answered {response.status_code}; saving contacts one by one", flush=True)
                break
            imported += int(response.json()["imported"])
        else:
            return imported

    def send(session: http.Session, n: object) -> int:
        return session.post(f"{base}/api/v1/contacts", json=resident(int(n), estate), timeout=30).status_code

    run = closed_loop(key, send, iter(range(households)), 16, 3600)
    return len(run.ok((200, 201)))


def finished(progress: dict, sms: int) -> bool:
    """Every household's messages are out: none pending, and the SMS provider heard from each."""
    total = progress.get("total") or 0
    done = progress.get("status") == "done" or (
        not progress.get("pending") and progress.get("sent", 0) + progress.get("failed", 0) >= total
    )
    return bool(total) and done and sms >= total


def measure(base: str, key: str, estate: str, households: int, provider: FakeSmsProvider, timeout: float) -> dict:
    """Seed the households, post a critical notice, time until all its messages are out."""
    doc = spec(base)
    paths = doc.get("paths", {})
    progress_path = next((p for p in paths if p.startswith("/api/v1/broadcasts/{") and "get" in paths[p]), None)
    if not has_route(doc, "post", "/api/v1/broadcasts") or progress_path is None:
        return {
            "broadcast_10k_s": None,
            "note": f"no broadcasts API yet (routes: {[p for p in paths if 'broad' in p]})",
        }
    if "household" not in contact_fields(doc):
        return {"broadcast_10k_s": None, "note": "contacts have no household yet: nothing to broadcast to"}
    seeded = seed_households(base, key, estate, households, has_route(doc, "post", "/api/v1/contact-imports"))
    session = http.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {key}"
    before = provider.received()
    # critical: a notice that quiet hours must not hold back, whatever the hour of the run.
    notice = {
        "estate_id": estate,
        "title": "停水通知",
        "body": "明日 8:00-18:00 停水, 请提前储水。",
        "severity": "critical",
    }
    started = time.monotonic()
    response = session.post(f"{base}/api/v1/broadcasts", json=notice, timeout=30)
    if response.status_code != 202:
        return {
            "broadcast_10k_s": None,
            "note": f"POST /api/v1/broadcasts answered {response.status_code}: {response.text[:200]}",
        }
    broadcast_id = response.json()["id"]
    progress: dict = {}
    while True:
        try:
            answer = session.get(f"{base}/api/v1/broadcasts/{broadcast_id}", timeout=30)
            progress = answer.json() if answer.status_code == 200 else progress
        except http.RequestException as exc:  # a busy service is not the end of the broadcast
            print(f"   progress not answered ({type(exc).__name__}); asking again", flush=True)
        sms = provider.received() - before
        if finished(progress, sms):
            break
        if time.monotonic() - started > timeout:
            return {
                "broadcast_10k_s": None,
                "note": f"broadcast not done after {timeout:.0f}s: {progress}, {sms} SMS received",
            }
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    return {
        "broadcast_10k_s": elapsed,
        "details": {
            "households_seeded": seeded,
            "total": progress.get("total"),
            "sent": progress.get("sent"),
            "failed": progress.get("failed"),
            "channels": progress.get("channels"),
            "sms_received": provider.received() - before,
        },
    }
