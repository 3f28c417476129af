"""A survey's life without a broker (unit tests): a case.closed event, a survey issued from it, a
fake emit that also writes the outbox, the token of a link, an answer, the survey's row."""

from __future__ import annotations

from datetime import datetime

from services.common import outbox
from services.common.envelope import make_event
from services.surveys import answers, issuing
from services.surveys.models import Outbox, Survey

T0 = datetime(2026, 11, 28, 2, 0, 0)  # 10:00 in Shanghai
BASE = "https://lx.example"


class Emitted(list):
    """The events a call staged: (type, subject, tenant, data). Written to the outbox too."""

    def __call__(self, session, type, subject, tenant, data):
        event = make_event(source_service="surveys", type=type, subject=subject, tenant=tenant, data=data)
        outbox.record(session, Outbox, event)
        self.append((type, subject, tenant, data))
        return event

    def of(self, kind):
        return [e for e in self if e[0] == kind]


def closed(case_id="c1", tenant="t1", household="3-2-501", **extra):
    data = {
        "case_id": case_id,
        "estate_id": "e1",
        "category": "repair",
        "title": "楼道灯不亮",
        "status": "closed",
        "assignee": "王师傅",
        "reporter": {"name": "陈先生", "phone": "+8613912345678", "household": household},
    } | extra
    return make_event(source_service="requests", type="case.closed", subject=case_id, tenant=tenant, data=data)


def token_of(link):
    return link.rsplit("/s/", 1)[1]


def issue(store, emit, now=T0, **kwargs):
    with store.transaction() as session:
        return issuing.issue(session, emit, closed(**kwargs), BASE, now)


VERIFIED = {"verified": True}  # a resident the community confirmed in the household (the gateway decides)


def answer(store, token, now, fingerprint=None, respondent=None, **fields):
    emit = Emitted()
    with store.transaction() as session:
        result = answers.answer(session, emit, token, {"score": 5} | fields, now, fingerprint, respondent)
    return result, emit


def survey(store, survey_id):
    with store.read() as session:
        return session.get(Survey, survey_id)
