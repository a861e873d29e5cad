"""Declaring API operations: each names its permission, which is checked before the handler runs
and published in the OpenAPI document as `x-anzen-permission` (the role × endpoint test reads it)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from ninja import Router

from anzen.accounts.roles import Perm
from anzen.common.permissions import require


def endpoint(router: Router, method: str, path: str, *, perm: Perm, **options: Any) -> Callable[..., Any]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require(getattr(request, "actor", None), perm)
            return func(request, *args, **kwargs)

        wrapped.required_perm = perm  # type: ignore[attr-defined]
        extra = {**options.pop("openapi_extra", {}), "x-anzen-permission": str(perm)}
        router.api_operation([method.upper()], path, openapi_extra=extra, **options)(wrapped)
        return wrapped

    return decorate
