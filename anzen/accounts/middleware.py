"""Per-request actor, idle logout and enforced two-factor enrolment."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from anzen.accounts import selectors
from anzen.common import audit, context
from anzen.common.http import client_ip

ACTIVE_MEMBERSHIP = "anzen_active_membership"
LAST_SEEN = "anzen_last_seen"
MFA_PENDING_ENROLMENT = "anzen_mfa_enrolment_required"


class IdleLogoutMiddleware:
    """Log out a session idle for ANZEN_IDLE_TIMEOUT_MINUTES (GL: 離席時の不正入力防止)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout = settings.ANZEN_IDLE_TIMEOUT_MINUTES * 60
        if request.user.is_authenticated and timeout:
            now = time.time()
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > timeout:
                user = request.user
                with context.acting(context.context_for(user, None, client_ip(request))):
                    audit.record(audit.Action.LOGOUT, obj=user, message="idle")
                auth.logout(request)
                messages.info(request, _("一定時間操作がなかったため、ログアウトしました。"))
                return redirect(f"{reverse('accounts:login')}?next={request.get_full_path()}")
            request.session[LAST_SEEN] = now
        return self.get_response(request)


class ActorMiddleware:
    """Resolve the active membership into `request.actor` and make it the audit context."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = None
        if request.user.is_authenticated:
            actor = selectors.actor_for(request.user, request.session.get(ACTIVE_MEMBERSHIP))
            if actor.membership is not None:
                request.session[ACTIVE_MEMBERSHIP] = actor.membership.pk
        request.actor = actor  # type: ignore[attr-defined]
        ctx = context.context_for(
            request.user if request.user.is_authenticated else None,
            actor.organisation if actor else None,
            client_ip(request),
        )
        with context.acting(ctx):
            return self.get_response(request)


class AccountGateMiddleware:
    """Until a required step is done, a logged-in user may only do that step or log out:
    enrol two-factor authentication when the role requires it, change a password that no longer
    meets the rules (for example after two-factor authentication was reset)."""

    ENROL = ("accounts:mfa_enrol", "accounts:logout", "accounts:mfa_recovery_codes")
    PASSWORD = ("accounts:password_change", "accounts:logout")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.path.startswith(settings.STATIC_URL or "/static/"):
            if request.session.get(MFA_PENDING_ENROLMENT):
                if request.path not in {reverse(name) for name in self.ENROL}:
                    return redirect("accounts:mfa_enrol")
            elif request.user.must_change_password and request.path not in {reverse(n) for n in self.PASSWORD}:
                return redirect("accounts:password_change")
        return self.get_response(request)
