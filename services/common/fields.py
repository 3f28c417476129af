"""marshmallow fields shared by the services' schemas."""

from __future__ import annotations

from typing import Any

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


class MobilePhone(fields.String):
    """A mainland mobile number, stored and returned as E.164."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return mainland_mobile(super()._deserialize(value, attr, data, **kwargs))


class Text(fields.String):
    """Text that is stripped, must not be blank, and has a length cap."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.metadata.setdefault("maxLength", max_length)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("不能为空 (must not be blank)")
        if len(text) > self.max_length:
            raise ValidationError(f"最多 {self.max_length} 个字符 (at most {self.max_length} characters)")
        if "\x00" in text:
            raise ValidationError("不能包含空字符 (must not contain NUL)")
        return text
