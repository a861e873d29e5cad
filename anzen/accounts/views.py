"""Login with two-factor authentication, profile, organisation members and invitations."""

from __future__ import annotations

import time
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import auth, messages
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from anzen.accounts import forms, selectors, services
from anzen.accounts.middleware import ACTIVE_MEMBERSHIP, MFA_PENDING_ENROLMENT
from anzen.accounts.models import ApiToken, Invitation, Membership, User
from anzen.accounts.roles import Perm
from anzen.common.http import login_only, public, requires
from anzen.common.permissions import get_scoped, partner_org_ids, scope

PENDING_USER = "anzen_pending_user"
PENDING_AT = "anzen_pending_at"
PENDING_NEXT = "anzen_pending_next"
NEW_CODES = "anzen_new_recovery_codes"
PENDING_SECONDS = 300


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, request.is_secure()):
        return value
    return "/"


def _complete_login(request: HttpRequest, user: User, device: Any = None, next_url: str = "/") -> HttpResponse:
    request.anzen_login_method = "totp" if device is not None else "password"  # type: ignore[attr-defined]
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        otp_login(request, device)
    if selectors.mfa_required(user) and not selectors.has_mfa(user):
        request.session[MFA_PENDING_ENROLMENT] = True
        return redirect("accounts:mfa_enrol")
    if user.must_change_password:
        messages.warning(request, _("パスワードを変更してください。"))
        return redirect("accounts:password_change")
    return redirect(next_url)


@public
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("common:dashboard")
    form = forms.LoginForm(request.POST or None)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST" and form.is_valid():
        user = auth.authenticate(request, username=form.cleaned_data["username"],
                                 password=form.cleaned_data["password"])
        if user is None:
            form.add_error(None, _("ログインIDまたはパスワードが正しくありません。"))
        elif selectors.has_mfa(user):
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_AT] = time.time()
            request.session[PENDING_NEXT] = next_url
            return redirect("accounts:login_verify")
        else:
            return _complete_login(request, user, next_url=next_url)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@public
def login_verify(request: HttpRequest) -> HttpResponse:
    """Second step: a TOTP code or a recovery code; failures count towards the lockout."""
    user_id, started = request.session.get(PENDING_USER), request.session.get(PENDING_AT, 0)
    if not user_id or time.time() - started > PENDING_SECONDS:
        request.session.pop(PENDING_USER, None)
        messages.info(request, _("もう一度ログインしてください。"))
        return redirect("accounts:login")
    user = get_object_or_404(User, pk=user_id, is_active=True)
    credentials = {"username": user.username, "anzen_stage": "totp"}
    form = forms.TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING_USER, None)
            return render(request, "accounts/locked_out.html", status=429)
        device, throttled = services.mfa_verify(user=user, token=form.cleaned_data["token"])
        if device is not None:
            next_url = request.session.pop(PENDING_NEXT, "/")
            for key in (PENDING_USER, PENDING_AT):
                request.session.pop(key, None)
            return _complete_login(request, user, device=device, next_url=next_url)
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING_USER, None)
            return render(request, "accounts/locked_out.html", status=429)
        form.add_error("token", _("確認コードの誤りが続いたため、数秒待ってから入力してください。") if throttled
                       else _("確認コードが正しくありません。"))
    return render(request, "accounts/login_verify.html", {"form": form, "pending_user": user})


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    messages.info(request, _("ログアウトしました。"))
    return redirect("accounts:login")


@login_only
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or services.totp_begin(user=user)
    form = forms.TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_confirm(user=user, device=device, token=form.cleaned_data["token"])
        except ValidationError as error:
            form.add_error("token", error)
        else:
            request.session.pop(MFA_PENDING_ENROLMENT, None)
            otp_login(request, device)
            request.session[NEW_CODES] = codes
            messages.success(request, _("二要素認証を登録しました。"))
            return redirect("accounts:mfa_recovery_codes")
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, title=_("認証アプリ登録用QRコード"))
    return render(request, "accounts/mfa_enrol.html", {
        "form": form, "qr_svg": mark_safe(svg),
        "secret": _base32(device), "required": request.session.get(MFA_PENDING_ENROLMENT, False),
    })


def _base32(device: TOTPDevice) -> str:
    import base64

    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


@login_only
def mfa_recovery_codes(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.session[NEW_CODES] = services.recovery_codes_regenerate(user=request.user)
        messages.success(request, _("リカバリーコードを再発行しました。以前のコードは使えません。"))
        return redirect("accounts:mfa_recovery_codes")
    codes = request.session.pop(NEW_CODES, None)
    return render(request, "accounts/recovery_codes.html", {
        "codes": codes, "remaining": selectors.remaining_recovery_codes(request.user),
    })


@requires(Perm.PROFILE)
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    tokens = ApiToken.objects.filter(membership__user=user, revoked_at__isnull=True).select_related(
        "membership__organisation")
    return render(request, "accounts/profile.html", {
        "has_mfa": selectors.has_mfa(user), "mfa_required": selectors.mfa_required(user),
        "remaining_codes": selectors.remaining_recovery_codes(user), "tokens": tokens,
        "token_form": forms.ApiTokenForm(), "new_token": request.session.pop("anzen_new_api_token", None),
    })


@login_only
def password_change(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not request.user.check_password(form.cleaned_data["old_password"]):
            form.add_error("old_password", _("現在のパスワードが正しくありません。"))
        else:
            try:
                services.password_set(user=request.user, password=form.cleaned_data["new_password1"])
            except ValidationError as error:
                form.add_error("new_password1", error)
            else:
                auth.update_session_auth_hash(request, request.user)
                messages.success(request, _("パスワードを変更しました。"))
                return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


@login_only
@require_POST
def switch_organisation(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("membership", "")
    if wanted.isdigit() and any(m.pk == int(wanted) for m in selectors.memberships_of(request.user)):
        request.session[ACTIVE_MEMBERSHIP] = int(wanted)
    return redirect("common:dashboard")


@requires(Perm.ORG_VIEW)
def organisation(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    org = actor.organisation
    can_manage = actor.can(Perm.MEMBERS_MANAGE)
    partners = scope(actor, type(org).objects.filter(pk__in=partner_org_ids(actor)), Perm.PARTNERS_VIEW)
    invitations = scope(actor, Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True),
                        Perm.MEMBERS_MANAGE)
    members = list(selectors.members(actor).filter(organisation_id=org.pk))
    mfa_users = set(TOTPDevice.objects.filter(user__in=[m.user_id for m in members], confirmed=True)
                    .values_list("user_id", flat=True))
    return render(request, "accounts/organisation.html", {
        "org": org, "members": members, "mfa_users": mfa_users, "partners": partners,
        "invitations": invitations, "can_manage": can_manage,
        "invite_form": forms.InvitationForm(kind=org.kind),
        "role_choices": forms.RoleForm(kind=org.kind).fields["role"].choices,
        "settings_form": forms.OrganisationSettingsForm(initial={"require_mfa_for_all": org.require_mfa_for_all}),
    })


@requires(Perm.MEMBERS_MANAGE)
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = forms.InvitationForm(request.POST, kind=actor.kind)
    if form.is_valid():
        try:
            services.invitation_create(actor=actor, email=form.cleaned_data["email"], role=form.cleaned_data["role"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request,
                             _("%(email)s に招待メールを送信しました。") % {"email": form.cleaned_data["email"]})
    else:
        messages.error(request, _("招待の入力内容を確認してください。"))
    return redirect("accounts:organisation")


@requires(Perm.MEMBERS_MANAGE)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    invitation = get_scoped(actor, Invitation.objects.all(), Perm.MEMBERS_MANAGE, pk=pk)
    services.invitation_revoke(actor=actor, invitation=invitation)
    messages.success(request, _("招待を取り消しました。"))
    return redirect("accounts:organisation")


@requires(Perm.MEMBERS_MANAGE)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    membership = get_scoped(actor, Membership.objects.all(), Perm.MEMBERS_MANAGE, pk=pk)
    form = forms.RoleForm(request.POST, kind=actor.kind)
    try:
        if not form.is_valid():
            raise ValidationError(_("役割を選択してください。"))
        if request.POST.get("action") == "deactivate":
            services.membership_deactivate(actor=actor, membership=membership)
            messages.success(request, _("%(user)s の所属を無効にしました。") % {"user": membership.user})
        else:
            services.membership_set_role(actor=actor, membership=membership, role=form.cleaned_data["role"])
            messages.success(request, _("%(user)s の役割を変更しました。") % {"user": membership.user})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("accounts:organisation")


@requires(Perm.MEMBERS_MANAGE)
@require_POST
def member_mfa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    membership = get_scoped(actor, Membership.objects.select_related("user"), Perm.MEMBERS_MANAGE, pk=pk)
    services.mfa_reset(actor=actor, user=membership.user)
    messages.success(request, _("%(user)s の二要素認証を初期化しました。") % {"user": membership.user})
    return redirect("accounts:organisation")


@requires(Perm.ORG_SETTINGS)
@require_POST
def organisation_settings(request: HttpRequest) -> HttpResponse:
    form = forms.OrganisationSettingsForm(request.POST)
    if form.is_valid():
        services.organisation_update_settings(actor=request.actor,  # type: ignore[attr-defined]
                                              require_mfa_for_all=form.cleaned_data["require_mfa_for_all"])
        messages.success(request, _("組織の設定を保存しました。"))
    return redirect("accounts:organisation")


@requires(Perm.PROFILE)
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    form = forms.ApiTokenForm(request.POST)
    if form.is_valid():
        _token, secret = services.api_token_create(actor=request.actor,  # type: ignore[attr-defined]
                                                   name=form.cleaned_data["name"], days=form.cleaned_data["days"])
        request.session["anzen_new_api_token"] = secret
        messages.success(request, _("APIトークンを発行しました。この画面を離れると再表示できません。"))
    return redirect("accounts:profile")


@requires(Perm.PROFILE)
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.select_related("membership"), pk=pk, membership__user=request.user)
    services.api_token_revoke(actor=request.actor, token=token)  # type: ignore[attr-defined]
    messages.success(request, _("APIトークンを失効させました。"))
    return redirect("accounts:profile")


@public
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = forms.AcceptInvitationForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.user.is_authenticated and request.POST.get("as_current") == "1":
                services.invitation_accept(token=token, user=request.user)
                messages.success(request, _("%(org)s に参加しました。") % {"org": invitation.organisation})
                return redirect("common:dashboard")
            if form.is_valid():
                services.invitation_accept(
                    token=token, username=form.cleaned_data["username"],
                    display_name=form.cleaned_data["display_name"], password=form.cleaned_data["new_password1"],
                )
                messages.success(request, _("登録しました。ログインしてください。"))
                return redirect("accounts:login")
        except ValidationError as error:
            form.add_error(None, error)
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form})
