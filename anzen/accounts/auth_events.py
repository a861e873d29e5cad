"""Logins, failures, logouts and lockouts go to the audit trail, whatever triggered them."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from anzen.accounts.models import User
from anzen.common import audit, context
from anzen.common.http import client_ip


def _ctx(request: Any, user: Any = None, username: str = "") -> context.AuditContext:
    ip = client_ip(request) if request is not None else None
    base = context.context_for(user, None, ip)
    if user is None and username:
        base = context.AuditContext(actor_label=username[:150], client_ip=ip, source="web")
    return base


@receiver(user_logged_in, dispatch_uid="anzen_login")
def _logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit.record(audit.Action.LOGIN, obj=user, context=_ctx(request, user),
                 message=getattr(request, "anzen_login_method", "password"))


@receiver(user_logged_out, dispatch_uid="anzen_logout")
def _logged_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit.record(audit.Action.LOGOUT, obj=user, context=_ctx(request, user))


@receiver(user_login_failed, dispatch_uid="anzen_login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))
    user = User.objects.filter(username=username).first()
    stage = credentials.get("anzen_stage", "password")
    audit.record(audit.Action.LOGIN_FAILED, obj=user, object_type_label="accounts.user",
                 object_repr=username[:150], context=_ctx(request, None, username), message=stage)


@receiver(user_locked_out, dispatch_uid="anzen_locked_out")
def _locked_out(sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any) -> None:
    user = User.objects.filter(username=username).first() if username else None
    audit.record(audit.Action.LOCKOUT, obj=user, object_type_label="accounts.user",
                 object_repr=(username or "")[:150], context=_ctx(request, None, username or ""))
