"""The CVE store (public data, shared by every organisation) and the record of feed imports.

- `Cve`: one row per CVE (or per JVNDB id for a JVN advisory that names no CVE). `record` is the internal
  form, the NVD CVE API 2.0 `cve` object (converted from the NVD 1.1 feeds, CVE JSON 5 or JVN when NVD has
  nothing). The other sources are kept beside it (`cve5`, `jvn`) so a newer record from one source never
  loses what another said; `metrics` is the merged NVD-form `metrics` object with EVERY CVSS source, and the
  chosen score/label/KEV columns are derived from it for lists and filters.
- `CveRevision`: what a row held before a newer record replaced it (history).
- `CveProduct`: the match index, one row per distinct (CVE, part, vendor, product), carrying the compact
  match criteria for that product so matching never loads whole records.
- `JvnAdvisory`: JVN iPedia advisories (Japanese title and overview, JVN CVSS, affected products).
- `FeedImport`: what was imported when and from where, with counts; CVEs remember the import that last
  changed them (`Cve.changed_by`) for incremental rematching.

These are bulk-loaded (157k CVEs in one import): they are plain models, not AuditedModel; the import
service writes one audit entry per file or API run instead.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db import models
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext_lazy as _

from anzen.common.permissions import ScopeRule

GLOBAL_SCOPE = ScopeRule(is_global=True)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class JsonText(str):
    """JSON already serialised (the import hashes a record's bytes and writes the same text)."""


class FastJSONField(models.JSONField):
    """A JSONField that serialises and parses with orjson (several times faster than the json module on
    the large NVD records). Stored text is ordinary JSON: lookups and key transforms work as usual."""

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if isinstance(value, JsonText):
            if connection.vendor == "postgresql":
                from psycopg.types.json import Jsonb

                return Jsonb(0, dumps=lambda _value: str(value))
            return str(value)
        if isinstance(value, dict | list) and not prepared:
            try:
                text = _dumps(value)
            except (TypeError, orjson.JSONEncodeError):
                return super().get_db_prep_value(value, connection, prepared)
            if connection.vendor == "postgresql":
                from psycopg.types.json import Jsonb

                return Jsonb(value, dumps=lambda _value: text)
            if connection.vendor == "sqlite":
                return text
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, str | bytes) and not (isinstance(expression, KeyTransform)):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                return value
        return super().from_db_value(value, expression, connection)


class FeedImport(models.Model):
    """One import of a feed file, a directory member or an API run: source, checksum, counts, status.

    API runs remember where they are (`cursor`: startIndex, lastModStartDate, lastModEndDate, totalResults)
    so an interrupted fetch resumes, and the next fetch starts from the last successful one's end date."""

    class Kind(models.TextChoices):
        FILE = "file", _("ファイル")
        API = "api", _("API")

    class Status(models.TextChoices):
        RUNNING = "running", _("実行中")
        OK = "ok", _("完了")
        FAILED = "failed", _("失敗")
        INTERRUPTED = "interrupted", _("中断")

    kind = models.CharField(_("種別"), max_length=4, choices=Kind.choices, default=Kind.FILE)
    fmt = models.CharField(_("形式"), max_length=20, blank=True)  # nvd11 / nvd20 / cve5 / jvn-vuldef / jvn-rss / …
    source = models.CharField(_("取込元"), max_length=1000, blank=True)  # path or URL
    name = models.CharField(_("名前"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("サイズ"), default=0)
    started_at = models.DateTimeField(_("開始"), auto_now_add=True)
    finished_at = models.DateTimeField(_("終了"), null=True, blank=True)
    status = models.CharField(_("状態"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    new = models.PositiveIntegerField(_("新規"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("変更なし"), default=0)
    skipped = models.PositiveIntegerField(_("スキップ"), default=0)
    errors = models.PositiveIntegerField(_("エラー"), default=0)
    error = models.TextField(_("エラー内容"), blank=True)
    messages = FastJSONField(_("詳細"), default=list, blank=True)  # per-record problems (first 100)
    cursor = FastJSONField(_("再開位置"), default=dict, blank=True)
    actor_label = models.CharField(_("実行者"), max_length=200, blank=True)

    scope_rule = GLOBAL_SCOPE

    class Meta:
        ordering = ["-id"]
        verbose_name = _("フィード取込")
        verbose_name_plural = _("フィード取込")

    def __str__(self) -> str:
        return f"{self.name or self.source} ({self.get_status_display()})"

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged, "skipped": self.skipped,
                "errors": self.errors}


class Cve(models.Model):
    """A CVE in the internal form (NVD API 2.0 `cve` object) with every source's CVSS kept."""

    class Severity(models.TextChoices):  # keys; the Japanese labels come from data/severity-jvn.yaml
        CRITICAL = "critical", _("緊急")
        HIGH = "high", _("重要")
        MEDIUM = "medium", _("警告")
        LOW = "low", _("注意")
        NONE = "none", _("なし")
        UNSCORED = "", _("未評価")

    cve_id = models.CharField(_("CVE ID"), max_length=40, unique=True)
    published = models.DateTimeField(_("公開日"), null=True, blank=True)
    last_modified = models.DateTimeField(_("最終更新日"), null=True, blank=True, db_index=True)
    vuln_status = models.CharField(_("NVD の状態"), max_length=40, blank=True)
    source_identifier = models.CharField(_("採番元"), max_length=200, blank=True)
    description_en = models.TextField(_("説明（英語）"), blank=True)
    title_ja = models.CharField(_("タイトル（JVN）"), max_length=500, blank=True)
    description_ja = models.TextField(_("概要（JVN）"), blank=True)
    jvn_ids = FastJSONField(_("JVN ID"), default=list, blank=True)
    record = FastJSONField(_("レコード（NVD API 2.0 形式）"), default=dict)
    record_origin = models.CharField(max_length=4, blank=True)  # nvd | cve5 | jvn: who gave `record`
    cve5 = FastJSONField(default=dict, blank=True)  # CVE JSON 5 parts: updated, metrics, affected, kev, problem
    jvn = FastJSONField(default=dict, blank=True)  # JVNDB id → {modified, metrics}
    metrics = FastJSONField(_("CVSS（全ソース）"), default=dict, blank=True)
    base_score = models.DecimalField(_("CVSS 基本値"), max_digits=3, decimal_places=1, null=True, blank=True)
    score_version = models.CharField(_("CVSS バージョン"), max_length=4, blank=True)
    score_source = models.CharField(_("スコアの出所"), max_length=8, blank=True)  # nvd | cna | adp | jvn
    severity = models.CharField(_("深刻度"), max_length=8, choices=Severity.choices, blank=True, db_index=True)
    v2_only = models.BooleanField(_("CVSS v2 のみ"), default=False)
    kev = models.BooleanField(_("KEV（悪用が確認された脆弱性）"), default=False, db_index=True)
    kev_date_added = models.DateField(_("KEV 追加日"), null=True, blank=True)
    kev_due_date = models.DateField(_("KEV 対応期限"), null=True, blank=True)
    kev_required_action = models.TextField(_("KEV 必要な対応"), blank=True)
    kev_vulnerability_name = models.CharField(_("KEV 名称"), max_length=300, blank=True)
    has_configurations = models.BooleanField(_("NVD の構成情報あり"), default=False)
    sources = FastJSONField(default=dict, blank=True)  # {"nvd": {"modified", "hash", "format"}, "cve5": …, "jvn": …}
    content_hash = models.CharField(max_length=64, blank=True)
    changed_by = models.ForeignKey(FeedImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    scope_rule = GLOBAL_SCOPE

    class Meta:
        ordering = ["cve_id"]
        verbose_name = _("CVE")
        verbose_name_plural = _("CVE")

    def __str__(self) -> str:
        return self.cve_id

    @property
    def severity_label(self) -> str:
        from anzen.vulns import severity

        return severity.label_ja(self.severity)

    @property
    def title(self) -> str:
        """The Japanese title from JVN when there is one, else the start of the English description."""
        if self.title_ja:
            return self.title_ja
        text = self.description_en.strip()
        return text if len(text) <= 120 else text[:119] + "…"


class CveRevision(models.Model):
    """The state of a CVE row before a newer record (of any source) replaced it."""

    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, related_name="revisions")
    replaced_at = models.DateTimeField(auto_now_add=True)
    replaced_by = models.CharField(max_length=4, blank=True)  # the source whose newer record replaced it
    last_modified = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    record = FastJSONField(default=dict)
    cve5 = FastJSONField(default=dict, blank=True)
    jvn = FastJSONField(default=dict, blank=True)
    sources = FastJSONField(default=dict, blank=True)
    feed_import = models.ForeignKey(FeedImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    scope_rule = GLOBAL_SCOPE

    class Meta:
        ordering = ["cve", "-id"]

    def __str__(self) -> str:
        return f"{self.cve_id} @ {self.last_modified}"


class CveProduct(models.Model):
    """The match index: one row per distinct (CVE, part, vendor, product) a CVE names as vulnerable.

    `origin` says where the name comes from — `nvd` (the CVE's configurations), `cve5` (the CNA/ADP
    `affected` data of a CVE that NVD has not analysed: matched as "manual"; part is empty when only the
    CNA's free text names the product) or `jvn` (a JVN advisory's CPE without versions: "possible"). A
    higher source makes the lower ones redundant and they are not indexed. `criteria` holds what matching
    needs for this product only (NVD cpeMatch entries with ranges, configuration number and platforms; CVE 5
    version entries; JVN version text)."""

    class Origin(models.TextChoices):
        NVD = "nvd", _("NVD 構成")
        CVE5 = "cve5", _("CVE 5 影響製品")
        JVN = "jvn", _("JVN iPedia")

    cve = models.ForeignKey(Cve, on_delete=models.CASCADE, related_name="products")
    part = models.CharField(max_length=1, blank=True)
    vendor = models.CharField(max_length=255)
    product = models.CharField(max_length=255)
    origin = models.CharField(max_length=4, choices=Origin.choices, default=Origin.NVD)
    has_platform_condition = models.BooleanField(default=False)
    manual_only = models.BooleanField(default=False)
    criteria = FastJSONField(default=list, blank=True)

    scope_rule = GLOBAL_SCOPE

    class Meta:
        indexes = [models.Index(fields=["part", "vendor", "product"], name="vulns_cveproduct_key")]

    def __str__(self) -> str:
        return f"{self.part}:{self.vendor}:{self.product}"


class JvnAdvisory(models.Model):
    """A JVN iPedia advisory (JVNDB-YYYY-NNNNNN) with its Japanese text, JVN's CVSS and affected products
    (CPE 2.2 without versions, converted to 2.3; the version as JVN's free text such as 「5.16.3 未満」)."""

    jvndb_id = models.CharField(_("JVNDB ID"), max_length=40, unique=True)
    title = models.CharField(_("タイトル"), max_length=500, blank=True)
    overview = models.TextField(_("概要"), blank=True)
    url = models.CharField(_("URL"), max_length=500, blank=True)
    cvss_v3_score = models.DecimalField(_("CVSS v3 基本値"), max_digits=3, decimal_places=1, null=True, blank=True)
    cvss_v3_vector = models.CharField(_("CVSS v3 ベクトル"), max_length=200, blank=True)
    cvss_v3_severity = models.CharField(max_length=20, blank=True)
    cvss_v2_score = models.DecimalField(_("CVSS v2 基本値"), max_digits=3, decimal_places=1, null=True, blank=True)
    cvss_v2_vector = models.CharField(_("CVSS v2 ベクトル"), max_length=200, blank=True)
    metrics = FastJSONField(default=list, blank=True)  # every JVN score as NVD-form entries (type JVN)
    # [{vendor, product, cpe22, cpe23, version}]
    affected = FastJSONField(_("影響を受ける製品"), default=list, blank=True)
    cve_ids = FastJSONField(_("関連 CVE"), default=list, blank=True)
    jvn_refs = FastJSONField(default=list, blank=True)  # JVN#…, JVNVU#…
    published = models.DateTimeField(_("公開日"), null=True, blank=True)
    last_updated = models.DateTimeField(_("最終更新日"), null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    changed_by = models.ForeignKey(FeedImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    scope_rule = GLOBAL_SCOPE

    class Meta:
        ordering = ["-jvndb_id"]
        verbose_name = _("JVN iPedia")
        verbose_name_plural = _("JVN iPedia")

    def __str__(self) -> str:
        return self.jvndb_id

