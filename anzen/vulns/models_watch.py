"""The vulnerability watch of an institution: findings on its ledger, vendor contracts with notification
rules, notices to vendors and their answers, the manual watch list, and the matcher's bookkeeping.

Who sees what: findings, watch items and the matcher's state belong to the institution (scope owner).
A contract and its notices are also shared with the vendor organisation they name, so a vendor sees
only the notices addressed to it (and never the institution's findings list).

Findings are written in bulk by the rematch (services_watch): it records one audit entry per run and
keeps every change of a finding in `FindingEvent`; manual changes go through the model (audited by the
signals) and add an event too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anzen.accounts.models import Organisation
from anzen.assets.models import Device, InformationSystem, Software
from anzen.common.models import TimeStampedModel
from anzen.common.permissions import ScopeRule
from anzen.vulns import contracts, lifecycle

__all__ = ["CveTally", "DeviceMatchState", "DeviceTally", "Finding",
           "FindingEvent", "MatchRun", "MatchedIdentity", "Notice", "NoticeResponse",
           "VendorContract", "WatchItem"]


class Confidence(models.TextChoices):
    CONFIRMED = "confirmed", _("確定")
    POSSIBLE = "possible", _("可能性あり")
    MANUAL = "manual", _("要手動確認")


def _cve_reference(related_name: str, *, db_index: bool = True) -> models.ForeignKey:
    """A reference to the CVE store by its CVE id (``finding.cve_id`` is the id itself). No database
    constraint: the store is public data that imports may rewrite; a finding keeps its CVE id regardless."""
    return models.ForeignKey("vulns.Cve", to_field="cve_id", db_column="cve_id", on_delete=models.DO_NOTHING,
                             db_constraint=False, related_name=related_name, db_index=db_index, verbose_name=_("CVE"))


class Finding(TimeStampedModel):
    """One CVE on one device (or, for manual tracking, on one information system)."""

    # Single-column indexes of the foreign keys left out: every query starts with the institution (the
    # composite indexes below) and device lookups use the (device, cve) constraint; each index costs
    # millions of entries on a first run (see docs/architecture.md).
    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="vuln_findings",
                                    verbose_name=_("医療機関等"), db_index=False)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="vuln_findings", verbose_name=_("機器"), db_index=False)
    device_label = models.CharField(_("機器名"), max_length=200, blank=True)  # kept if the device is deleted
    system = models.ForeignKey(InformationSystem, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="vuln_findings", verbose_name=_("医療情報システム"), db_index=False)
    cve = _cve_reference("findings", db_index=False)
    identity = models.CharField(_("該当したソフトウェア（CPE）"), max_length=400, blank=True)
    confidence = models.CharField(_("確度"), max_length=10, choices=Confidence.choices)
    reason = models.TextField(_("該当の理由"), blank=True)
    score = models.DecimalField(_("CVSS 基本値"), max_digits=3, decimal_places=1, null=True, blank=True)
    severity = models.CharField(_("深刻度"), max_length=8, blank=True)  # Cve.Severity key
    kev = models.BooleanField(_("KEV"), default=False)
    status = models.CharField(_("状態"), max_length=16, choices=list(lifecycle.STATUS_LABELS.items()),
                              default=lifecycle.NEW)
    status_note = models.TextField(_("対応・理由"), blank=True)
    accepted_until = models.DateField(_("リスク受容の期限"), null=True, blank=True)
    first_seen = models.DateTimeField(_("初回検出"))
    closed_at = models.DateTimeField(_("解消日時"), null=True, blank=True)

    scope_rule = ScopeRule(owner="institution")

    class Meta:
        ordering = ["-kev", "-score", "cve_id", "device_label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "cve"], condition=models.Q(device__isnull=False),
                                    name="vulns_finding_device_cve"),
        ]
        indexes = [
            models.Index(fields=["institution", "status", "severity"], name="vulns_finding_board"),
            models.Index(fields=["institution", "cve"], name="vulns_finding_cve"),
            models.Index(fields=["institution", "device"], name="vulns_finding_device"),
            models.Index(fields=["system"], condition=models.Q(system__isnull=False), name="vulns_finding_system"),
            # findings of deleted devices, closed by full runs (a small partial index, not one per row)
            models.Index(fields=["institution"], condition=models.Q(device__isnull=True), name="vulns_finding_orphan"),
            # the list's default order (KEV, score): its first page reads 50 rows, not millions
            models.Index(fields=["institution", "-kev", "-score", "cve", "device_label", "id"],
                         name="vulns_finding_list"),
        ]
        verbose_name = _("検出された脆弱性")
        verbose_name_plural = _("検出された脆弱性")

    def __str__(self) -> str:
        return f"{self.cve_id} / {self.device_label or self.device_id}"

    @property
    def is_open(self) -> bool:
        return self.status in lifecycle.OPEN

    @property
    def severity_label(self) -> str:
        from anzen.vulns import severity

        return severity.label_ja(self.severity)


class FindingEvent(models.Model):
    """The history of a finding as the finding page shows it (matched, re-scored, status changes, notices)."""

    class Kind(models.TextChoices):
        MATCHED = "matched", _("検出")
        UPDATED = "updated", _("照合結果の更新")
        RESCORED = "rescored", _("スコアの変更")
        REOPENED = "reopened", _("再検出")
        CLOSED = "closed", _("該当しなくなった")
        STATUS = "status", _("状態の変更")
        EXPIRED = "expired", _("リスク受容の期限切れ")
        NOTICE = "notice", _("事業者への通知")
        ANSWER = "answer", _("事業者の回答")

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_name = models.CharField(max_length=200, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)

    scope_rule = ScopeRule(owner="finding__institution")

    class Meta:
        ordering = ["finding", "at", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.kind}"


def _default_rules() -> list[dict[str, object]]:
    return contracts.default_rules_data()


class VendorContract(TimeStampedModel):
    """A maintenance or supply contract with a vendor: which devices it covers and how the vendor must
    answer vulnerabilities (the notification rules are data on the contract)."""

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="vendor_contracts",
                                    verbose_name=_("医療機関等"))
    vendor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="customer_contracts",
                               verbose_name=_("事業者"))
    title = models.CharField(_("契約名"), max_length=200)
    reference = models.CharField(_("契約番号"), max_length=100, blank=True)
    valid_from = models.DateField(_("契約開始日"), null=True, blank=True)
    valid_until = models.DateField(_("契約終了日"), null=True, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    cover_vendor_systems = models.BooleanField(
        _("この事業者が提供・リモート保守するシステムの機器を対象にする"), default=True)
    device_kinds = models.JSONField(_("対象とする機器の種類"), default=list, blank=True)
    systems = models.ManyToManyField(InformationSystem, blank=True, related_name="vendor_contracts",
                                     verbose_name=_("対象のシステム"))
    devices = models.ManyToManyField(Device, blank=True, related_name="vendor_contracts",
                                     verbose_name=_("対象の機器"))
    score_source = models.CharField(_("採用するスコア"), max_length=8,
                                    choices=list(contracts.SCORE_SOURCES.items()), default="chosen")
    include_possible = models.BooleanField(_("「可能性あり」の検出も通知する"), default=True)
    rules = models.JSONField(_("通知の規則"), default=_default_rules)
    notes = models.TextField(_("備考"), blank=True)

    scope_rule = ScopeRule(owner="institution", shared=("vendor",))

    class Meta:
        ordering = ["institution", "vendor__name", "title"]
        verbose_name = _("保守契約（脆弱性対応）")
        verbose_name_plural = _("保守契約（脆弱性対応）")

    def __str__(self) -> str:
        return self.title

    def parsed_rules(self) -> tuple[contracts.Rule, ...]:
        return contracts.parse_rules(self.rules)


class Notice(TimeStampedModel):
    """A notice to a vendor about one CVE on the devices its contract covers, with the deadlines."""

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="vuln_notices",
                                    verbose_name=_("医療機関等"))
    vendor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="received_vuln_notices",
                               verbose_name=_("事業者"))
    contract = models.ForeignKey(VendorContract, on_delete=models.PROTECT, related_name="notices",
                                 verbose_name=_("契約"))
    cve = _cve_reference("notices")
    level = models.CharField(_("通知の種類"), max_length=8, choices=list(contracts.LEVEL_LABELS.items()))
    score = models.DecimalField(_("CVSS 基本値"), max_digits=3, decimal_places=1, null=True, blank=True)
    severity = models.CharField(_("深刻度"), max_length=8, blank=True)
    rule = models.JSONField(_("適用した規則"), default=dict)
    status = models.CharField(_("状態"), max_length=10,
                              choices=list(contracts.NOTICE_STATUS_LABELS.items()), default=contracts.SENT)
    sent_on = models.DateField(_("通知日"))
    report_due = models.DateField(_("回答期限"))
    countermeasure_due = models.DateField(_("対応策の期限"), null=True, blank=True)
    countermeasure_required = models.BooleanField(_("対応策の提示が必要"), default=False)
    has_countermeasure = models.BooleanField(_("対応策の提示あり"), default=False)
    findings = models.ManyToManyField(Finding, blank=True, related_name="notices", verbose_name=_("対象の検出"))
    emailed_at = models.DateTimeField(_("メール送信日時"), null=True, blank=True)
    emailed_to = models.PositiveIntegerField(_("メールの宛先数"), default=0)
    escalated_at = models.DateTimeField(_("期限超過の連絡日時"), null=True, blank=True)
    answered_at = models.DateTimeField(_("回答日時"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)

    scope_rule = ScopeRule(owner="institution", shared=("vendor",))

    class Meta:
        ordering = ["-sent_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["contract", "cve", "level"], name="vulns_notice_per_level")]
        indexes = [models.Index(fields=["vendor", "status"], name="vulns_notice_vendor"),
                   models.Index(fields=["institution", "status"], name="vulns_notice_institution")]
        verbose_name = _("脆弱性の通知")
        verbose_name_plural = _("脆弱性の通知")

    def __str__(self) -> str:
        return f"{self.cve_id} → {self.vendor_id} ({self.level})"

    def due(self) -> contracts.NoticeDue:
        return contracts.NoticeDue(self.pk, self.status, self.report_due, self.countermeasure_due,
                                   self.countermeasure_required, self.has_countermeasure)


class NoticeResponse(TimeStampedModel):
    """The thread of a notice: the vendor's answers, the institution's acceptance or return, comments."""

    class Kind(models.TextChoices):
        ANSWER = "answer", _("回答")
        ACCEPT = "accept", _("受理")
        RETURN = "return", _("差戻し")
        NOTE = "note", _("記録")

    class Affected(models.TextChoices):
        AFFECTED = "affected", _("該当する")
        NOT_AFFECTED = "not_affected", _("該当しない")
        INVESTIGATING = "investigating", _("調査中")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="responses")
    kind = models.CharField(_("種類"), max_length=8, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("記入者"))
    author_name = models.CharField(_("記入者名"), max_length=200, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("組織"))
    affected = models.CharField(_("影響"), max_length=14, choices=Affected.choices, blank=True)
    countermeasure = models.TextField(_("対応策"), blank=True)
    scheduled_on = models.DateField(_("実施予定日"), null=True, blank=True)
    text = models.TextField(_("コメント"), blank=True)
    evidence_name = models.CharField(_("添付ファイル名"), max_length=255, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    evidence_size = models.PositiveBigIntegerField(default=0)
    evidence_type = models.CharField(max_length=100, blank=True)

    scope_rule = ScopeRule(owner="notice__institution", shared=("notice__vendor",))

    class Meta:
        ordering = ["notice", "created_at", "id"]
        verbose_name = _("通知への回答")
        verbose_name_plural = _("通知への回答")

    def __str__(self) -> str:
        return f"{self.notice_id}: {self.kind}"


class WatchItem(TimeStampedModel):
    """Manual tracking of a product that vulnerability feeds cannot match (no CPE: many medical devices):
    where to look (JVN, the maker's notices, the vendor's MDS/SDS), when it was last checked, notes."""

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="vuln_watch_items",
                                    verbose_name=_("医療機関等"))
    software = models.OneToOneField(Software, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="watch_item", verbose_name=_("ソフトウェア"))
    product = models.CharField(_("製品"), max_length=300)
    sources = models.CharField(_("確認先"), max_length=300, blank=True)
    last_checked = models.DateField(_("最終確認日"), null=True, blank=True)
    notes = models.TextField(_("メモ"), blank=True)

    scope_rule = ScopeRule(owner="institution")

    class Meta:
        ordering = ["institution", "product"]
        verbose_name = _("個別監視")
        verbose_name_plural = _("個別監視")

    def __str__(self) -> str:
        return self.product


class MatchedIdentity(models.Model):
    """The matcher's last answer for one software identity of an institution and one CVE (bookkeeping):
    a full rematch compares the engine's new answer with these rows and fans out only what changed."""

    institution = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    identity = models.CharField(max_length=400)
    cve_id = models.CharField(max_length=40)
    confidence = models.CharField(max_length=10)
    reason = models.TextField(blank=True)
    requires_platform = models.JSONField(default=list, blank=True)
    score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    severity = models.CharField(max_length=8, blank=True)
    kev = models.BooleanField(default=False)

    scope_rule = ScopeRule(owner="institution")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "identity", "cve_id"],
                                               name="vulns_matched_identity")]

    def __str__(self) -> str:
        return f"{self.identity} → {self.cve_id}"


class DeviceMatchState(models.Model):
    """Which software identities a device had when it was last matched (a hash of its CPE names)."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, primary_key=True, related_name="+")
    institution = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=40)

    scope_rule = ScopeRule(owner="institution")

    def __str__(self) -> str:
        return f"{self.device_id}: {self.fingerprint}"


class MatchRun(models.Model):
    """One rematch of an institution's ledger: when, how (full, incremental, rebuild), up to which feed
    import the CVE store had been read, and what changed."""

    institution = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    mode = models.CharField(max_length=12)
    last_import_id = models.BigIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0)

    scope_rule = ScopeRule(owner="institution")

    class Meta:
        ordering = ["institution", "-at", "-id"]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.mode} {self.at:%Y-%m-%d %H:%M}"


class DeviceTally(models.Model):
    """Open findings of one device counted by severity, KEV and confidence: the board sums these rows
    instead of millions of findings. Kept by the rematch and status changes (`services_tallies`)."""

    institution = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    severity = models.CharField(max_length=8, blank=True)
    kev = models.BooleanField(default=False)
    confidence = models.CharField(max_length=10)
    count = models.PositiveIntegerField(default=0)

    scope_rule = ScopeRule(owner="institution")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "severity", "kev", "confidence"],
                                               name="vulns_device_tally")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.severity} {self.kev} {self.confidence}: {self.count}"


class CveTally(models.Model):
    """One CVE's open findings in an institution: devices affected, highest score, KEV (the board's top CVEs)."""

    institution = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    cve_id = models.CharField(max_length=40)
    devices = models.PositiveIntegerField(default=0)
    score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    kev = models.BooleanField(default=False)

    scope_rule = ScopeRule(owner="institution")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "cve_id"], name="vulns_cve_tally")]
        indexes = [models.Index(fields=["institution", "-kev", "-score", "cve_id"], name="vulns_cve_tally_top")]

    def __str__(self) -> str:
        return f"{self.cve_id}: {self.devices}"
