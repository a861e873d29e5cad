"""The framework library: checklists, guidelines and their items, as loaded from library files.

An edition is immutable once loaded: reloading a file with changed content creates a new
*version* of the edition and marks the old one superseded, so answers given against the old
nodes keep pointing at exactly the text they answered.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from anzen.common.models import AuditedModel, TimeStampedModel
from anzen.common.permissions import ScopeRule

LIBRARY_SCOPE = ScopeRule(is_global=True)


class Verified(models.TextChoices):
    TRUE = "true", _("確認済み")
    PARTIAL = "partial", _("一部確認")
    FALSE = "false", _("未確認")


class Framework(TimeStampedModel):
    class Kind(models.TextChoices):
        CHECKLIST = "checklist", _("チェックリスト")
        GUIDELINE = "guideline", _("ガイドライン")
        CHECKSHEET = "checksheet", _("チェックシート")
        STANDARD = "standard", _("規格")

    key = models.SlugField(_("識別子"), max_length=80, unique=True)
    title = models.CharField(_("名称"), max_length=300)
    title_en = models.CharField(_("英語名"), max_length=300, blank=True)
    publisher = models.CharField(_("発行者"), max_length=300, blank=True)
    kind = models.CharField(_("種類"), max_length=20, choices=Kind.choices, default=Kind.CHECKLIST)

    scope_rule = LIBRARY_SCOPE

    class Meta:
        ordering = ["key"]
        verbose_name = _("フレームワーク")
        verbose_name_plural = _("フレームワーク")

    def __str__(self) -> str:
        return self.title


class Edition(TimeStampedModel):
    class Origin(models.TextChoices):
        LIBRARY_FILE = "file", _("ライブラリファイル")
        EXCEL_IMPORT = "excel", _("Excel取込")

    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="editions", verbose_name=_("フレームワーク")
    )
    key = models.CharField(_("版の識別子"), max_length=120, db_index=True)  # e.g. mhlw-cyber-checklist@R5
    version = models.PositiveIntegerField(_("読込版数"), default=1)
    is_current = models.BooleanField(_("最新"), default=True)
    edition = models.CharField(_("版"), max_length=60)  # e.g. R5
    title = models.CharField(_("名称"), max_length=300)
    publisher = models.CharField(_("発行者"), max_length=300, blank=True)
    published = models.CharField(_("公表日"), max_length=60, blank=True)  # as the source gives it
    fiscal_year = models.PositiveIntegerField(_("対象年度"), null=True, blank=True)
    locale = models.CharField(_("言語"), max_length=10, default="ja")
    sources = models.JSONField(_("出典"), default=list)
    licence = models.TextField(_("利用条件"), blank=True)
    verified = models.CharField(_("確認状況"), max_length=10, choices=Verified.choices, default=Verified.TRUE)
    notes = models.TextField(_("注記"), blank=True)
    origin = models.CharField(
        _("登録方法"), max_length=10, choices=Origin.choices, default=Origin.LIBRARY_FILE
    )
    content_hash = models.CharField(max_length=64)
    meta = models.JSONField(default=dict, blank=True)

    scope_rule = LIBRARY_SCOPE

    class Meta:
        ordering = ["framework__key", "key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="edition_key_version")]
        verbose_name = _("版")
        verbose_name_plural = _("版")

    def __str__(self) -> str:
        return f"{self.title}（{self.edition}）"


class AnswerSchema(TimeStampedModel):
    """A set of answer options (はい/いいえ, はい/いいえ/対象外 with 備考, 該当/非該当)."""

    key = models.SlugField(_("識別子"), max_length=60, unique=True)
    label = models.CharField(_("名称"), max_length=200)
    options = models.JSONField(_("選択肢"), default=list)  # [{"value": "yes", "label": "はい"}, ...]
    remarks = models.BooleanField(_("備考欄あり"), default=False)

    scope_rule = LIBRARY_SCOPE

    class Meta:
        ordering = ["key"]
        verbose_name = _("回答形式")
        verbose_name_plural = _("回答形式")

    def __str__(self) -> str:
        return self.label


class RequirementNode(AuditedModel):
    class Kind(models.TextChoices):
        FORM = "form", _("様式")
        SECTION = "section", _("章・区分")
        GROUP = "group", _("グループ")
        ITEM = "item", _("項目")

    class Audience(models.TextChoices):
        INSTITUTION = "institution", _("医療機関等")
        VENDOR = "vendor", _("事業者")
        BOTH = "both", _("共通")

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="nodes", verbose_name=_("版"))
    node_id = models.CharField(_("項目ID"), max_length=120)
    urn = models.CharField(_("URN"), max_length=300, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    position = models.PositiveIntegerField(_("並び順"), default=0)  # document order within the edition
    depth = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("種類"), max_length=10, choices=Kind.choices, default=Kind.ITEM)
    ref = models.CharField(_("番号"), max_length=60, blank=True)
    text = models.TextField(_("本文"), blank=True)  # empty when the official text is not known
    text_partial = models.TextField(_("本文（一部）"), blank=True)
    topic = models.CharField(_("主題"), max_length=300, blank=True)
    audience = models.CharField(_("対象"), max_length=12, choices=Audience.choices, blank=True)
    answer_schema = models.ForeignKey(
        AnswerSchema,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回答形式"),
    )
    required_from = models.PositiveIntegerField(_("必須となる年度"), null=True, blank=True)
    reference_only = models.BooleanField(_("参考項目"), default=False)
    verified = models.CharField(_("確認状況"), max_length=10, choices=Verified.choices, default=Verified.TRUE)
    meta = models.JSONField(default=dict, blank=True)  # scope, conditions, guideline refs, notes …
    search_text = models.TextField(default="", blank=True)  # NFKC-normalised ref + text + topic

    scope_rule = LIBRARY_SCOPE

    class Meta:
        ordering = ["edition", "position"]
        constraints = [models.UniqueConstraint(fields=["edition", "node_id"], name="node_id_per_edition")]
        indexes = [models.Index(fields=["edition", "parent", "position"])]
        verbose_name = _("要求事項")
        verbose_name_plural = _("要求事項")

    def __str__(self) -> str:
        label = self.text or self.topic or self.text_partial
        return f"{self.ref} {label}".strip()[:200]

    @property
    def is_official_text(self) -> bool:
        """Show the text as official only when the library says it was checked word for word."""
        return bool(self.text) and self.verified == Verified.TRUE

    def is_required_in(self, fiscal_year: int) -> bool:
        if self.reference_only:
            return False
        return self.required_from is None or fiscal_year >= self.required_from


class MappingSet(TimeStampedModel):
    key = models.SlugField(_("識別子"), max_length=120)
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    title = models.CharField(_("名称"), max_length=300)
    sources = models.JSONField(_("出典"), default=list)
    notes = models.TextField(_("注記"), blank=True)
    content_hash = models.CharField(max_length=64)
    # The edition versions the set was bound to when loaded (also reachable through its mappings,
    # but kept here so that lists of mapping sets need no per-row queries).
    source_edition = models.ForeignKey(
        Edition,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("対応元の版"),
    )
    target_edition = models.ForeignKey(
        Edition,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("対応先の版"),
    )

    scope_rule = LIBRARY_SCOPE

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="mappingset_key_version")]
        verbose_name = _("対応表")
        verbose_name_plural = _("対応表")

    def __str__(self) -> str:
        return self.title


class Mapping(models.Model):
    class Relation(models.TextChoices):
        EQUAL = "equal", _("同等")
        SUBSET = "subset", _("部分（元が先の一部）")
        SUPERSET = "superset", _("包含（元が先を含む）")
        INTERSECT = "intersect", _("一部重複")
        NOT_RELATED = "not_related", _("関連なし")

    class Basis(models.TextChoices):
        EXPLICIT = "explicit", _("明示（文書に記載）")
        INFERRED = "inferred", _("推定（要確認）")

    mapping_set = models.ForeignKey(MappingSet, on_delete=models.CASCADE, related_name="mappings")
    source = models.ForeignKey(RequirementNode, on_delete=models.CASCADE, related_name="mappings_out")
    target = models.ForeignKey(RequirementNode, on_delete=models.CASCADE, related_name="mappings_in")
    relation = models.CharField(_("関係"), max_length=12, choices=Relation.choices)
    basis = models.CharField(_("根拠"), max_length=10, choices=Basis.choices)
    rationale = models.TextField(_("理由"), blank=True)

    scope_rule = LIBRARY_SCOPE

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mapping_set", "source", "target"], name="one_mapping_per_pair")
        ]
        verbose_name = _("対応")
        verbose_name_plural = _("対応")

    def __str__(self) -> str:
        return f"{self.source.ref} → {self.target.ref} ({self.relation})"


class ImportProfile(TimeStampedModel):
    """Saved settings of the Excel import (sheet, columns, id rules) chosen by an administrator.

    Built-in profiles live in `excel_profiles.yaml`; these are the ones saved from the import wizard.
    """

    key = models.SlugField(_("識別子"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    settings = models.JSONField(_("設定"), default=dict)

    scope_rule = LIBRARY_SCOPE

    class Meta:
        ordering = ["name"]
        verbose_name = _("取込設定")
        verbose_name_plural = _("取込設定")

    def __str__(self) -> str:
        return self.name
