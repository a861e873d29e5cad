"""Reads for accounts: memberships, actors, MFA state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from anzen.accounts.models import Membership, User
from anzen.common.permissions import Actor


def memberships_of(user: Any) -> list[Membership]:
    """Active memberships of a user, cached on the user object for the rest of the request."""
    cached = getattr(user, "_anzen_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
            .select_related("organisation")
            .order_by("organisation__name")
        )
        user._anzen_memberships = cached
    return cached


def actor_for(user: Any, membership_id: int | None = None) -> Actor:
    memberships = memberships_of(user)
    chosen = next((m for m in memberships if m.pk == membership_id), None)
    if chosen is None and memberships:
        chosen = memberships[0]
    return Actor(user=user, membership=chosen)


def mfa_required(user: User) -> bool:
    """Two-factor is required for 管理者 and 評価者, and for everyone in an organisation that says so."""
    required_roles = set(settings.ANZEN_MFA_REQUIRED_ROLES)
    return any(m.role in required_roles or m.organisation.require_mfa_for_all for m in memberships_of(user))


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_mfa(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, name="recovery").first()


def remaining_recovery_codes(user: User) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device else 0


def members(actor: Actor) -> QuerySet[Membership]:
    from anzen.accounts.roles import Perm
    from anzen.common.permissions import scope

    return scope(actor, Membership.objects.select_related("user", "organisation"), Perm.ORG_VIEW).order_by(
        "role", "user__username"
    )
