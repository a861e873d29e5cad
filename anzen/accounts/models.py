"""Users, organisations, memberships, invitations, API tokens and password history."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from anzen.accounts.roles import InstitutionType, OrgKind, Role
from anzen.common.models import AuditedModel, TimeStampedModel
from anzen.common.permissions import ScopeRule


class _OrganisationScope:
    """An organisation sees itself and the organisations it works with (active relations)."""

    distinct = True

    def q(self, actor: object) -> models.Q:
        org_id = getattr(actor, "org_id", None)
        return (
            models.Q(pk=org_id)
            | models.Q(customer_links__institution_id=org_id, customer_links__is_active=True)
            | models.Q(partner_links__partner_id=org_id, partner_links__is_active=True)
        )


class User(AuditedModel, AbstractUser):
    display_name = models.CharField(_("氏名"), max_length=150, blank=True)
    preferred_language = models.CharField(_("表示言語"), max_length=8, choices=settings.LANGUAGES, default="ja")
    # True when the current password was accepted under the two-factor rule (8 characters):
    # removing two-factor authentication then forces a change to a 13-character password.
    password_set_with_mfa = models.BooleanField(default=False)
    password_changed_at = models.DateTimeField(_("パスワード変更日時"), null=True, blank=True)
    must_change_password = models.BooleanField(_("パスワード変更が必要"), default=False)

    audit_exclude = frozenset({"password", "last_login"})
    scope_rule = ScopeRule(owner="memberships__organisation", distinct=True)

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")

    def __str__(self) -> str:
        return self.display_name or self.username


class Organisation(TimeStampedModel):
    kind = models.CharField(_("種別"), max_length=20, choices=OrgKind.choices)
    institution_type = models.CharField(_("施設種別"), max_length=20, choices=InstitutionType.choices,
                                        blank=True)
    name = models.CharField(_("名称"), max_length=200)
    code = models.SlugField(_("識別子"), max_length=60, unique=True)
    address = models.CharField(_("所在地"), max_length=300, blank=True)
    beds = models.PositiveIntegerField(_("病床数"), null=True, blank=True)
    require_mfa_for_all = models.BooleanField(_("全員に二要素認証を必須とする"), default=False)
    is_active = models.BooleanField(_("有効"), default=True)

    scope_rule = _OrganisationScope()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("組織")
        verbose_name_plural = _("組織")

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name=_("利用者"))
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships",
                                     verbose_name=_("組織"))
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("有効"), default=True)

    audit_action = "permission"
    scope_rule = ScopeRule(owner="organisation")

    class Meta:
        ordering = ["organisation__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]
        verbose_name = _("所属")
        verbose_name_plural = _("所属")

    def __str__(self) -> str:
        return f"{self.user} / {self.organisation} ({self.get_role_display()})"


class OrganisationRelation(TimeStampedModel):
    """An institution works with a vendor or an evaluator. Sharing of objects builds on this."""

    institution = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="partner_links",
                                    verbose_name=_("医療機関等"))
    partner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="customer_links",
                                verbose_name=_("取引先"))
    description = models.CharField(_("内容"), max_length=200, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)

    audit_action = "permission"
    scope_rule = ScopeRule(owner="institution", shared=("partner",))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "partner"], name="one_relation_per_pair")]
        verbose_name = _("取引関係")
        verbose_name_plural = _("取引関係")

    def __str__(self) -> str:
        return f"{self.institution} → {self.partner}"


class Invitation(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations",
                                     verbose_name=_("組織"))
    email = models.EmailField(_("メールアドレス"))
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("招待者"))
    expires_at = models.DateTimeField(_("有効期限"))
    accepted_at = models.DateTimeField(_("受諾日時"), null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(_("取消日時"), null=True, blank=True)

    audit_exclude = frozenset({"token_hash", "updated_at"})
    scope_rule = ScopeRule(owner="organisation")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("招待")
        verbose_name_plural = _("招待")

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"


class PasswordHistory(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


class ApiToken(TimeStampedModel):
    """A bearer token for the REST API, bound to one membership; only its hash is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens",
                                   verbose_name=_("所属"))
    name = models.CharField(_("名前"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("有効期限"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最終利用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)

    audit_exclude = frozenset({"key_hash", "last_used_at", "updated_at"})
    scope_rule = ScopeRule(owner="membership__organisation")

    class Meta:
        verbose_name = _("APIトークン")
        verbose_name_plural = _("APIトークン")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
