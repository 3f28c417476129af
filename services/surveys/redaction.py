"""Survey links out of the stored outbox once they are sent.

The link (with its token) must travel in the survey.issued / survey.reminder_due event to the
notifications service, so it is in the outbox row until the relay has published it. After
that the row is history: the sweep replaces the token with ``***``, so a database dump or a
support query on the outbox cannot answer a resident's survey. A watermark keeps the sweep
from re-reading old rows; it stops at the first row not yet sent and resumes there.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Outbox, Watermark

KINDS = ("survey.issued", "survey.reminder_due")
MARK = "outbox_links"
TOKEN_IN_LINK = re.compile(r"/s/[A-Za-z0-9_\-]+")


def redacted(link: str | None) -> str | None:
    return TOKEN_IN_LINK.sub("/s/***", link) if link else link


def scrub_sent_links(session: Session, batch: int = 500) -> int:
    """Redact the links of sent outbox rows past the watermark; returns how many rows were scrubbed."""
    mark = session.get(Watermark, MARK, with_for_update=True)
    if mark is None:
        mark = Watermark(name=MARK, position=0)
        session.add(mark)
    rows = session.scalars(
        select(Outbox).where(Outbox.id > mark.position, Outbox.type.in_(KINDS)).order_by(Outbox.id).limit(batch)
    ).all()
    scrubbed = 0
    for row in rows:
        if row.sent_at is None:
            break  # not published yet: the link is still needed
        data = dict(row.body.get("data") or {})
        if data.get("link") and data["link"] != redacted(data["link"]):
            data["link"] = redacted(data["link"])
            row.body = {**row.body, "data": data}  # a new dict, so the JSON column is written
            scrubbed += 1
        mark.position = row.id
    return scrubbed
