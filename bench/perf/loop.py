"""The closed loop, timed: close resolved cases over HTTP, then find when each loop completed.

A closure counts only when all three consequences exist: its follow-up visit is scheduled
(volunteers), its survey issued (surveys) and the survey-link notification recorded as
delivered (notifications, in-app). Each service stamps those rows itself; the harness reads
the three databases afterwards, so measuring adds no load to the path being measured.

Cases are loaded already `resolved`, straight into the requests database (the four HTTP
transitions before a close are not what is measured, and would take longer than the run).
Each case has its own reporter phone, which is how a notification is matched to its case.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests as http
from sqlalchemy import insert, select

from bench.perf import cpu
from bench.perf.load import Run, closed_loop, open_loop, utcnow
from bench.perf.report import percentile
from services.common.db import Store, make_engine
from services.common.ids import new_id
from services.notifications.models import Delivery
from services.requests.models import Case, CaseHistory
from services.surveys.models import Survey
from services.volunteers.models import Visit


def phone_of(n: int) -> str:
    """A distinct valid mainland mobile (E.164) for the n-th case of a run."""
    return f"+86139{n:08d}"


@dataclass
class Batch:
    """Cases loaded for one phase: ids in close order and the phone → case map."""

    case_ids: list[str]
    by_phone: dict[str, str]

    def __iter__(self) -> Iterator[str]:
        return iter(self.case_ids)


class Loader:
    """Loads resolved cases into the requests database, numbering phones across phases."""

    def __init__(self, requests_url: str, tenant: str, estate: str) -> None:
        self.store = Store(make_engine(requests_url))
        self.tenant, self.estate = tenant, estate
        self.next_phone = itertools.count(1)

    def resolved(self, n: int, chunk: int = 2000) -> Batch:
        now = utcnow()
        ids, by_phone = [], {}
        for first in range(0, n, chunk):
            cases, history = [], []
            for _ in range(min(chunk, n - first)):
                case_id, phone = new_id(), phone_of(next(self.next_phone))
                ids.append(case_id)
                by_phone[phone] = case_id
                cases.append(
                    {
                        "id": case_id,
                        "tenant": self.tenant,
                        "estate_id": self.estate,
                        "category": "repair",
                        "title": "楼道灯不亮",
                        "description": "性能测试",
                        "channel": "app",
                        "priority": "normal",
                        "reporter_name": "住户",
                        "reporter_phone": phone,
                        "reporter_household": "1-1-101",
                        "status": "resolved",
                        "assignee": "师傅",
                        "reopen_count": 0,
                        "created_at": now,
                        "updated_at": now,
                        "resolved_at": now,
                    }
                )
                history.append(
                    {
                        "case_id": case_id,
                        "action": "resolve",
                        "from_status": "in_progress",
                        "to_status": "resolved",
                        "actor": "bench",
                        "source": "api",
                        "at": now,
                    }
                )
            with self.store.transaction(notify=False) as session:
                session.execute(insert(Case), cases)
                session.execute(insert(CaseHistory), history)
        return Batch(ids, by_phone)

    def close(self) -> None:
        self.store.engine.dispose()


def send_close(base: str):  # noqa: ANN201 - a load.Send
    def send(session: http.Session, case_id: object) -> int:
        return session.post(
            f"{base}/api/v1/cases/{case_id}/transitions", json={"action": "close"}, timeout=30
        ).status_code

    return send


class Completions:
    """When each case's loop completed, read from the three services' databases."""

    def __init__(self, urls: dict[str, str], tenant: str) -> None:
        self.tenant = tenant
        self.stores = {name: Store(make_engine(urls[name])) for name in ("volunteers", "surveys", "notifications")}

    def read(self, by_phone: dict[str, str]) -> tuple[dict[str, datetime], dict[str, datetime]]:
        """(completion time per case: the latest of the three, survey-link delivery time per case)."""
        with self.stores["volunteers"].read() as session:
            visits = dict(
                session.execute(select(Visit.case_id, Visit.created_at).where(Visit.tenant == self.tenant))
                .tuples()
                .all()
            )
        with self.stores["surveys"].read() as session:
            surveys = dict(
                session.execute(select(Survey.case_id, Survey.created_at).where(Survey.tenant == self.tenant))
                .tuples()
                .all()
            )
        with self.stores["notifications"].read() as session:
            rows = session.execute(
                select(Delivery.recipient_phone, Delivery.sent_at).where(
                    Delivery.tenant == self.tenant,
                    Delivery.kind == "survey.issued",
                    Delivery.channel == "inapp",
                    Delivery.status == "delivered",
                )
            )
            delivered = {by_phone[phone]: at for phone, at in rows if phone in by_phone and at is not None}
        complete = {
            case: max(at, visits[case], surveys[case])
            for case, at in delivered.items()
            if case in visits and case in surveys
        }
        return complete, delivered

    def drain(
        self, by_phone: dict[str, str], expected: set[str], patience: float, limit: float = 600.0
    ) -> dict[str, datetime]:
        """Wait until every expected case completed, nothing moved for ``patience`` s, or ``limit`` s passed."""
        started = last_move = time.monotonic()
        last = -1
        while True:
            complete, _ = self.read(by_phone)
            done = len(expected & complete.keys())
            now = time.monotonic()
            if done == len(expected) or now - started > limit:
                return complete
            if done != last:
                last, last_move = done, now
            elif now - last_move > patience:
                return complete
            time.sleep(1.0)

    def close(self) -> None:
        for store in self.stores.values():
            store.engine.dispose()


def closed_cases(run: Run) -> set[str]:
    return {str(c.item) for c in run.ok((200,))}


def throughput(
    base: str,
    key: str,
    loader: Loader,
    done: Completions,
    warmup: float,
    seconds: float,
    clients: int,
    most: int,
    pids: Callable[[], dict[str, list[int]]] = dict,
) -> dict:
    """Closures per second through the whole loop, sustained over ``seconds`` after a warm-up.

    Clients close back to back for warm-up + window; a case counts when its loop completed
    inside the window. If the services fall behind the HTTP closes, the backlog grows and
    only what the whole loop finished is counted.
    """
    batch = loader.resolved(most)
    cases = iter(batch)
    send = send_close(base)
    cpu_before = cpu.snapshot(pids())
    warm = closed_loop(key, send, cases, clients, warmup)
    window_start = utcnow()
    run = closed_loop(key, send, cases, clients, seconds)
    window_end = utcnow()
    closed = closed_cases(warm) | closed_cases(run)
    complete = done.drain(batch.by_phone, closed, patience=30.0)
    completed = len(set(complete) & closed)
    in_window = sum(1 for at in complete.values() if window_start <= at <= window_end)
    span = (window_end - window_start).total_seconds()
    finished = [at for case, at in complete.items() if case in closed]
    return {
        "closures_per_s": in_window / span,
        "details": {
            "window_s": round(span, 1),
            "clients": clients,
            "http_closes_per_s": round(run.rate((200,)), 1),
            "http_close_errors": len(run.calls) - len(run.ok((200,))),
            "closed": len(closed),
            "completed": completed,
            "cpu_ms_per_closure": cpu.per_item_ms(cpu_before, cpu.snapshot(pids()), completed),
            "drained_s_after_window": round((max(finished) - window_end).total_seconds(), 1) if finished else None,
            "ran_out_of_cases": len(closed) + len(run.calls) - len(run.ok((200,))) >= most,
        },
    }


def latency(base: str, key: str, loader: Loader, done: Completions, rate: float, seconds: float) -> dict:
    """Close → survey-link delivered, at a fixed offered rate; a loop never completed is a miss."""
    count = int(rate * seconds)
    batch = loader.resolved(count)
    run = open_loop(key, send_close(base), iter(batch), rate, seconds, workers=64)
    closed = closed_cases(run)
    done.drain(batch.by_phone, closed, patience=30.0)
    _, delivered = done.read(batch.by_phone)
    samples = []
    for call in run.ok((200,)):
        at = delivered.get(str(call.item))
        samples.append(math.inf if at is None else (at - call.finished_utc) / timedelta(milliseconds=1))
    http_ms = sorted((c.finished - c.started) * 1000 for c in run.ok((200,)))
    return {
        "close_to_survey_p50_ms": percentile(samples, 50),
        "close_to_survey_p99_ms": percentile(samples, 99),
        "details": {
            "offered_per_s": rate,
            "achieved_per_s": round(run.rate((200,)), 1),
            "closes": len(samples),
            "close_errors": len(run.calls) - len(run.ok((200,))),
            "missing": sum(1 for s in samples if math.isinf(s)),
            "p95_ms": percentile(samples, 95),
            "max_ms": max((s for s in samples if not math.isinf(s)), default=None),
            "http_close_p50_ms": percentile(http_ms, 50),
            "http_close_p99_ms": percentile(http_ms, 99),
        },
    }
