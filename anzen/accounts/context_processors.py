from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from anzen.accounts import selectors
from anzen.accounts.middleware import MFA_PENDING_ENROLMENT


def actor(request: HttpRequest) -> dict[str, Any]:
    current = getattr(request, "actor", None)
    memberships = selectors.memberships_of(request.user) if request.user.is_authenticated else []
    return {
        "actor": current,
        "memberships": memberships,
        "idle_timeout_seconds": settings.ANZEN_IDLE_TIMEOUT_MINUTES * 60,
        # While a required step (two-factor enrolment, password change) is pending, no menu.
        "account_gated": request.user.is_authenticated and bool(
            request.session.get(MFA_PENDING_ENROLMENT) or request.user.must_change_password),
    }
