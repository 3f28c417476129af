"""marshmallow fields shared by the services' schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from marshmallow import ValidationError, fields


def mainland_mobile(value: str) -> str:
    """Normalise a mainland China mobile number to E.164 (+8613800138000), or raise."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("不是有效的手机号码 (not a valid mobile number)") from exc
    if (
        number.country_code != 86
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        or not phonenumbers.is_valid_number(number)
    ):
        raise ValidationError("不是有效的中国大陆手机号码 (not a valid mainland China mobile number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


SHANGHAI = ZoneInfo("Asia/Shanghai")


class MobilePhone(fields.String):
    """A mainland mobile number, stored and returned as E.164.

    The pattern in the spec only says what may be sent; whether it is a real mainland mobile
    number is decided by ``phonenumbers`` (422 otherwise).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metadata.setdefault("pattern", r"^\+?[0-9][0-9 -]{9,18}[0-9]$")
        self.metadata.setdefault("example", "13912345678")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return mainland_mobile(super()._deserialize(value, attr, data, **kwargs))


# What "blank" means, written once for both sides: the spec's ``pattern`` (ECMAScript regex) and
# the server's strip. Python's own str.strip() also strips U+001C–U+001F and U+0085, which a
# JSON Schema validator would call non-blank, so the set is explicit.
BLANK = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
BLANK_CHARS = "".join(chr(c) for c in (9, 10, 11, 12, 13, 32, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000))
BLANK_CHARS += "".join(chr(c) for c in range(0x2000, 0x200B)) + "\ufeff"
NOT_BLANK = rf"^[^\u0000]*[^{BLANK}\u0000][^\u0000]*$"


class Text(fields.String):
    """Text that is stripped, must not be blank, and has a length cap (all three in the spec too)."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.metadata.setdefault("maxLength", max_length)
        self.metadata.setdefault("minLength", 1)
        self.metadata.setdefault("pattern", NOT_BLANK)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        raw = super()._deserialize(value, attr, data, **kwargs)
        text = raw.strip(BLANK_CHARS)
        if not text:
            raise ValidationError("不能为空 (must not be blank)")
        if len(raw) > self.max_length:
            raise ValidationError(f"最多 {self.max_length} 个字符 (at most {self.max_length} characters)")
        if "\x00" in text:
            raise ValidationError("不能包含空字符 (must not contain NUL)")
        return text


class Timestamp(fields.DateTime):
    """A moment: stored as naive UTC (the databases' convention), returned as RFC 3339 with ``Z``.

    Input without an offset is read as Asia/Shanghai local time, the time residents and staff
    think in; input with an offset is converted.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=SHANGHAI)
        return moment.astimezone(UTC).replace(tzinfo=None)

    timespec = "microseconds"

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return utc_text(value, self.timespec)


def utc_text(moment: datetime | None, timespec: str = "microseconds") -> str | None:
    """A stored naive-UTC time as RFC 3339 with ``Z`` (what events and the API carry)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec=timespec) + "Z"


def parse_utc(text: str | None) -> datetime | None:
    """An event's RFC 3339 time back to stored naive UTC (the inverse of :func:`utc_text`)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment
