"""Browser-test helpers: what a person does with the pages themselves (no shortcut through the database)."""

from __future__ import annotations


def sign_in(page, codes, phone: str) -> None:
    """Through /signin as a resident does: the phone, the code from the log channel, 登录."""
    assert "/signin" in page.url()
    page.fill("input[name=phone]", phone)
    page.click("button[type=submit]", navigates=True)
    page.fill("input[name=code]", codes.code_for(phone))
    page.click("form[action='/signin'] button[type=submit]", navigates=True)
