"""Writes for accounts. Each service is atomic and leaves its trace in the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from anzen.accounts import selectors
from anzen.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    OrganisationRelation,
    PasswordHistory,
    User,
)
from anzen.accounts.roles import ROLES_BY_KIND, OrgKind, Perm, Role
from anzen.common import audit
from anzen.common.permissions import Actor, require

INVITATION_DAYS = 7


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ----- organisations and memberships -------------------------------------------------------------


@transaction.atomic
def organisation_create(*, kind: str, name: str, code: str, institution_type: str = "", **extra: Any) -> Organisation:
    if kind != OrgKind.INSTITUTION and institution_type:
        raise ValidationError(_("施設種別は医療機関等にのみ設定できます。"))
    return Organisation.objects.create(kind=kind, name=name, code=code, institution_type=institution_type, **extra)


@transaction.atomic
def organisation_update_settings(*, actor: Actor, require_mfa_for_all: bool) -> Organisation:
    require(actor, Perm.ORG_SETTINGS)
    org = Organisation.objects.select_for_update().get(pk=actor.org_id)
    org.require_mfa_for_all = require_mfa_for_all
    org.save()
    return org


@transaction.atomic
def relation_create(*, institution: Organisation, partner: Organisation, description: str = "") -> OrganisationRelation:
    if institution.kind != OrgKind.INSTITUTION or partner.kind == OrgKind.INSTITUTION:
        raise ValidationError(_("取引関係は医療機関等と事業者・評価機関の間でのみ設定できます。"))
    relation, _created = OrganisationRelation.objects.get_or_create(
        institution=institution, partner=partner, defaults={"description": description}
    )
    return relation


def _check_role(organisation: Organisation, role: str) -> None:
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise ValidationError(
            _("この組織の種別では「%(role)s」の役割は使えません。") % {"role": Role(role).label}
        )


@transaction.atomic
def membership_add(*, user: User, organisation: Organisation, role: str) -> Membership:
    _check_role(organisation, role)
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role}
    )
    if not created and (membership.role != role or not membership.is_active):
        membership.role, membership.is_active = role, True
        membership.save()
    return membership


def _ensure_admin_remains(organisation_id: int, excluding: Membership) -> None:
    others = Membership.objects.filter(organisation_id=organisation_id, role=Role.ADMIN, is_active=True).exclude(
        pk=excluding.pk
    )
    if not others.exists():
        raise ValidationError(_("組織には少なくとも1名の管理者が必要です。"))


@transaction.atomic
def membership_set_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    require(actor, Perm.MEMBERS_MANAGE)
    membership = Membership.objects.select_for_update().select_related("organisation").get(pk=membership.pk)
    if membership.organisation_id != actor.org_id:
        raise PermissionDenied
    _check_role(membership.organisation, role)
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _ensure_admin_remains(membership.organisation_id, membership)
    membership.role = role
    membership.save()
    return membership


@transaction.atomic
def membership_deactivate(*, actor: Actor, membership: Membership) -> Membership:
    require(actor, Perm.MEMBERS_MANAGE)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.organisation_id != actor.org_id:
        raise PermissionDenied
    if membership.role == Role.ADMIN:
        _ensure_admin_remains(membership.organisation_id, membership)
    membership.is_active = False
    membership.save()
    return membership


# ----- users and passwords -----------------------------------------------------------------------


@transaction.atomic
def user_create(*, username: str, email: str, display_name: str, password: str,
                expects_mfa: bool = False) -> User:
    user = User(username=username, email=email, display_name=display_name)
    user._anzen_mfa_expected = expects_mfa
    validate_password(password, user)
    _store_password(user, password, with_mfa=expects_mfa)
    return user


@transaction.atomic
def password_set(*, user: User, password: str) -> User:
    """Validate against the guideline rules and history, then set and remember the password."""
    validate_password(password, user)
    _store_password(user, password, with_mfa=selectors.has_mfa(user) or selectors.mfa_required(user))
    audit.record(audit.Action.UPDATE, obj=user, message="password_changed")
    return user


def _store_password(user: User, password: str, *, with_mfa: bool) -> None:
    user.set_password(password)
    user.password_set_with_mfa = with_mfa and len(password) < 13
    user.password_changed_at = timezone.now()
    user.must_change_password = False
    user.save()
    PasswordHistory.objects.create(user=user, password=user.password)
    keep = list(user.password_history.values_list("pk", flat=True)[: settings.ANZEN_PASSWORD_HISTORY])
    user.password_history.exclude(pk__in=keep).delete()


# ----- two-factor authentication -----------------------------------------------------------------


@transaction.atomic
def totp_begin(*, user: User) -> TOTPDevice:
    """An unconfirmed TOTP device for enrolment (replaces an earlier unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def totp_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm enrolment with a first code; returns fresh recovery codes (shown once)."""
    if device.user_id != user.pk or device.confirmed:
        raise PermissionDenied
    if not device.verify_token(token.strip().replace(" ", "")):
        raise ValidationError(_("確認コードが正しくありません。認証アプリの6桁のコードを入力してください。"))
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save()
    codes = recovery_codes_regenerate(user=user)
    audit.record(audit.Action.MFA, obj=user, message="totp_enrolled")
    return codes


def mfa_verify(*, user: User, token: str) -> tuple[Any, bool]:
    """The device that accepts `token`, and whether that device is throttled (too many recent misses).

    Six digits go to the authenticator app's TOTP device, anything else to the recovery codes, so a
    recovery code never counts as a wrong TOTP code (django-otp throttles a device after misses).
    """
    token = token.strip().replace(" ", "")
    totp = selectors.confirmed_totp(user)
    device = totp if token.isdigit() and totp is not None and len(token) == totp.digits else (
        selectors.recovery_device(user))
    if device is None:
        return None, False
    if not device.verify_is_allowed()[0]:
        return None, True
    return (device, False) if device.verify_token(token) else (None, False)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}"
             for _ in range(settings.ANZEN_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit.record(audit.Action.MFA, obj=user, message="recovery_codes_generated")
    return codes


@transaction.atomic
def mfa_reset(*, actor: Actor, user: User) -> None:
    """An organisation's 管理者 removes a member's devices (lost phone); the member enrols again."""
    require(actor, Perm.MEMBERS_MANAGE)
    if not Membership.objects.filter(user=user, organisation_id=actor.org_id).exists():
        raise PermissionDenied
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    if user.password_set_with_mfa and not selectors.mfa_required(user):
        user.must_change_password = True
        user.save()
    audit.record(audit.Action.MFA, obj=user, message="mfa_reset")


# ----- invitations -------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, actor: Actor, email: str, role: str) -> tuple[Invitation, str]:
    """Invite by e-mail; the link carries a token of which only the hash is stored."""
    require(actor, Perm.MEMBERS_MANAGE)
    organisation = actor.organisation
    assert organisation is not None
    _check_role(organisation, role)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation, email=email.strip().lower(), role=role, token_hash=_digest(token),
        invited_by=actor.user, expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
    )
    link = settings.ANZEN_BASE_URL.rstrip("/") + reverse("accounts:invitation_accept", args=[token])
    send_mail(
        subject=_("[Anzen] %(org)sへの招待") % {"org": organisation.name},
        message=_(
            "%(org)s から Anzen（医療情報システム安全管理）への招待が届いています。\n"
            "役割: %(role)s\n\n次のリンクから%(days)d日以内に登録してください。\n%(link)s\n"
        ) % {"org": organisation.name, "role": Role(role).label, "days": INVITATION_DAYS, "link": link},
        from_email=None,
        recipient_list=[invitation.email],
    )
    return invitation, token


def invitation_by_token(token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("organisation").filter(token_hash=_digest(token)).first()
    if invitation is None or invitation.accepted_at or invitation.revoked_at or invitation.expires_at < timezone.now():
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User | None = None, username: str = "", display_name: str = "",
                      password: str = "") -> Membership:
    """Join the inviting organisation: as the logged-in user, or as a new account created here."""
    invitation = invitation_by_token(token)
    if invitation is None:
        raise ValidationError(_("招待リンクが無効か、有効期限が切れています。"))
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if user is None:
        if User.objects.filter(username=username).exists():
            raise ValidationError(_("このログインIDは既に使われています。"))
        expects_mfa = (invitation.role in settings.ANZEN_MFA_REQUIRED_ROLES
                       or invitation.organisation.require_mfa_for_all)
        user = user_create(username=username, email=invitation.email, display_name=display_name,
                           password=password, expects_mfa=expects_mfa)
    membership = membership_add(user=user, organisation=invitation.organisation, role=invitation.role)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save()
    return membership


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    require(actor, Perm.MEMBERS_MANAGE)
    if invitation.organisation_id != actor.org_id:
        raise PermissionDenied
    invitation.revoked_at = timezone.now()
    invitation.save()
    return invitation


# ----- API tokens --------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(*, actor: Actor, name: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """A token bound to the actor's current membership; the secret is returned once, never stored."""
    if actor.membership is None:
        raise PermissionDenied
    secret = "anz_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        membership=actor.membership, name=name, prefix=secret[:12], key_hash=_digest(secret),
        expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    if token.membership.user_id != getattr(actor.user, "pk", None):
        require(actor, Perm.MEMBERS_MANAGE)
        if token.membership.organisation_id != actor.org_id:
            raise PermissionDenied
    token.revoked_at = timezone.now()
    token.save()
    return token


def api_token_authenticate(secret: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organisation")
        .filter(key_hash=_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at < timezone.now()):
        return None
    if not token.membership.is_active or not token.membership.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
