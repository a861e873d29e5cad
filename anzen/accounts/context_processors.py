from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from anzen.accounts import selectors


def actor(request: HttpRequest) -> dict[str, Any]:
    current = getattr(request, "actor", None)
    memberships = selectors.memberships_of(request.user) if request.user.is_authenticated else []
    return {
        "actor": current,
        "memberships": memberships,
        "idle_timeout_seconds": settings.ANZEN_IDLE_TIMEOUT_MINUTES * 60,
    }
