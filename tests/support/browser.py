"""Browser-test helpers: what a person does with the pages themselves (no shortcut through the database)."""

from __future__ import annotations

import uuid

from services.common.db import utcnow
from services.gateway import staff


def sign_in(page, codes, phone: str) -> None:
    """Through /signin as a resident does: the phone, the code from the log channel, 登录."""
    assert "/signin" in page.url()
    page.fill("input[name=phone]", phone)
    page.click("button[type=submit]", navigates=True)
    page.fill("input[name=code]", codes.code_for(phone))
    page.click("form[action='/signin'] button[type=submit]", navigates=True)


def invited(platform, company, role: str, name: str) -> str:
    """A phone the company's admin has invited (the settings page's own function)."""
    phone = "137" + f"{uuid.uuid4().int % 10**8:08d}"
    with platform.store("gateway").transaction() as session:
        staff.invite(session, "+86" + phone, name, role, "test", utcnow(), tenant_id=company.tenant_id)
    return phone
