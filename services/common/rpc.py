"""``@rpc`` for our services: typed errors (bad input, not found, conflict) are expected answers.

nameko logs an entrypoint's exception at ERROR with a traceback unless it is listed in
``expected_exceptions``; a 422 is not an incident, so :class:`LianxinError` is listed (logged
at WARNING) and only real failures stay errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.rpc import Rpc

from services.common.errors import LianxinError


def rpc(fn: Callable | None = None, **kwargs: Any) -> Any:
    """``@rpc`` or ``@rpc(...)``, as nameko's, with our errors expected."""
    kwargs.setdefault("expected_exceptions", (LianxinError,))
    decorate = Rpc.decorator(**kwargs)
    return decorate if fn is None else decorate(fn)
