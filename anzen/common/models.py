"""Base models and the append-only audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditedModel(models.Model):
    """Every create, update and delete of a subclass lands in the audit trail (see audit_signals).

    The values loaded from the database are remembered so that an update records before and after
    without a second query. They are kept raw and turned into a snapshot only when the instance is
    saved, so listing thousands of rows costs nothing extra. Fields named in ``audit_exclude``
    (secrets, noise) are never recorded.
    """

    audit_exclude: frozenset[str] = frozenset()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._audit_raw = (field_names, values)
        return instance

    def audit_loaded(self) -> dict[str, Any] | None:
        """The snapshot of the values as loaded (or as last saved), None for a new instance."""
        cached = self.__dict__.get("_audit_loaded")
        if cached is not None:
            return cached
        raw = self.__dict__.get("_audit_raw")
        if raw is None:
            return None
        from anzen.common.audit import snapshot_of_values

        self._audit_loaded = snapshot_of_values(self, dict(zip(*raw, strict=True)))
        return self._audit_loaded


class TimeStampedModel(AuditedModel):
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    audit_exclude = frozenset({"updated_at"})

    class Meta:
        abstract = True


class _AuditScope:
    """An organisation sees the entries made while acting for it, plus the sign-in events
    (logins, failures, lockouts, MFA) of its own members, which happen before any organisation
    is chosen."""

    distinct = False

    def q(self, actor: Any) -> models.Q:
        from django.db.models.functions import Cast

        from anzen.accounts.models import Membership

        member_ids = Membership.objects.filter(organisation_id=actor.org_id).values("user_id")
        member_keys = Membership.objects.filter(organisation_id=actor.org_id).values(
            key=Cast("user_id", models.CharField(max_length=64)))
        return (
            models.Q(organisation_id=actor.org_id)
            | models.Q(organisation_id__isnull=True, actor_id__in=member_ids)
            | models.Q(organisation_id__isnull=True, object_type="accounts.user", object_id__in=member_keys)
        )


class AuditEntry(models.Model):
    """One link of the hash chain. Never updated or deleted by the application.

    Actor and organisation are kept as plain ids plus labels (no foreign keys): deleting a user or
    an organisation must not alter or cascade into the trail.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("作成")
        UPDATE = "update", _("更新")
        DELETE = "delete", _("削除")
        LOGIN = "login", _("ログイン")
        LOGIN_FAILED = "login_failed", _("ログイン失敗")
        LOCKOUT = "lockout", _("アカウントロック")
        LOGOUT = "logout", _("ログアウト")
        EXPORT = "export", _("エクスポート")
        PERMISSION = "permission", _("権限変更")
        MFA = "mfa", _("二要素認証")
        VIEW = "view", _("閲覧")
        IMPORT = "import", _("取込")

    seq = models.PositiveBigIntegerField(_("連番"), unique=True)
    at = models.DateTimeField(_("日時"), db_index=True)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices, db_index=True)
    actor_id = models.BigIntegerField(_("操作者ID"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("操作者"), max_length=200, blank=True)
    organisation_id = models.BigIntegerField(_("組織ID"), null=True, blank=True, db_index=True)
    organisation_label = models.CharField(_("組織"), max_length=200, blank=True)
    object_type = models.CharField(_("対象の種類"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("対象ID"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("対象"), max_length=300, blank=True)
    before = models.JSONField(_("変更前"), null=True, blank=True)
    after = models.JSONField(_("変更後"), null=True, blank=True)
    message = models.CharField(_("内容"), max_length=500, blank=True)
    client_ip = models.GenericIPAddressField(_("接続元"), null=True, blank=True)
    source = models.CharField(_("経路"), max_length=10, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    scope_rule = _AuditScope()

    class Meta:
        ordering = ["seq"]
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row that serialises appends: locked, read, advanced in the appending transaction.

    It also lets `anzen audit verify` notice entries removed from the end of the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
