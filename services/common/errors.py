"""Typed errors that cross RPC and become RFC 9457 problems at the HTTP edge.

nameko rebuilds exceptions registered with ``deserialize_to_instance`` on the caller's side,
so the gateway receives the same class (with its field errors) that the service raised.
"""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class LianxinError(Exception):
    """Base of every error a service means to report to its caller."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str = "", *args: object) -> None:
        super().__init__(detail, *args)
        self.detail = detail


@deserialize_to_instance
class NotFound(LianxinError):
    status = 404
    title = "Not found"


@deserialize_to_instance
class Conflict(LianxinError):
    status = 409
    title = "Conflict"


@deserialize_to_instance
class Stale(Conflict):
    """The thing changed since the caller read it (a form shown before someone else acted): nothing done."""

    title = "Changed meanwhile"


@deserialize_to_instance
class ValidationFailed(LianxinError):
    """Bad input: ``errors`` maps each field to its messages (marshmallow's shape)."""

    status = 422
    title = "Validation failed"

    def __init__(self, detail: str = "", errors: dict | None = None) -> None:
        super().__init__(detail, errors or {})
        self.errors = errors or {}


@deserialize_to_instance
class Gone(LianxinError):
    status = 410
    title = "Gone"


def validated(schema: object, payload: object) -> dict:
    """Load ``payload`` with a marshmallow schema, or raise :class:`ValidationFailed`."""
    from marshmallow import ValidationError

    if not isinstance(payload, dict):
        raise ValidationFailed("body must be a JSON object", {"_schema": ["must be an object"]})
    try:
        return schema.load(payload)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise ValidationFailed("invalid input", exc.normalized_messages()) from None
