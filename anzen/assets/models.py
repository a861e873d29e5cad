"""The IT asset ledger of an institution: information systems, devices, software (CPE), portable
media with check-out records, disposal records, and network scans reconciled against the ledger.

Everything here belongs to one institution and is seen only by its members (scope_rule owner).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anzen.accounts.models import Organisation
from anzen.common.models import TimeStampedModel
from anzen.common.permissions import ScopeRule

INSTITUTION_SCOPE = ScopeRule(owner="institution")


class SystemCategory(models.TextChoices):
    EHR = "ehr", _("電子カルテ")
    ORDER = "order", _("オーダ")
    DEPARTMENT = "department", _("部門")
    PACS = "pacs", _("PACS")
    LAB = "lab", _("検査")
    PHARMACY = "pharmacy", _("調剤")
    CARE = "care", _("介護")
    REGIONAL = "regional", _("地域連携")
    OTHER = "other", _("その他")


class Hosting(models.TextChoices):
    ON_PREMISES = "onprem", _("オンプレミス")
    CLOUD = "cloud", _("クラウド")
    HYBRID = "hybrid", _("ハイブリッド")


class LineType(models.TextChoices):
    IP_VPN = "ip_vpn", _("IP-VPN")
    IPSEC = "ipsec", _("IPsec-VPN")
    TLS = "tls", _("TLS-VPN")
    CLOSED = "closed", _("閉域網・専用線")
    INTERNET = "internet", _("インターネット（その他）")
    OTHER = "other", _("その他")


class InformationSystem(TimeStampedModel):
    """医療情報システム: a system the institution runs (EHR, PACS, 部門 …) and who maintains it."""

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="information_systems",
                                    verbose_name=_("医療機関等"))
    name = models.CharField(_("システム名"), max_length=200)
    category = models.CharField(_("分類"), max_length=12, choices=SystemCategory.choices)
    vendor = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="supplied_systems", verbose_name=_("事業者"))
    vendor_name = models.CharField(_("事業者名（Anzen未登録）"), max_length=200, blank=True)
    product = models.CharField(_("製品名"), max_length=200, blank=True)
    version = models.CharField(_("バージョン"), max_length=100, blank=True)
    hosting = models.CharField(_("設置形態"), max_length=8, choices=Hosting.choices, default=Hosting.ON_PREMISES)
    information_handled = models.TextField(_("扱う情報"), blank=True)
    remote_maintenance = models.BooleanField(_("リモート保守"), default=False)
    remote_line_type = models.CharField(_("回線の種類"), max_length=10, choices=LineType.choices, blank=True)
    remote_vendor = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="remote_maintained_systems", verbose_name=_("リモート保守の事業者"))
    contract = models.CharField(_("契約"), max_length=300, blank=True)
    disclosure = models.ForeignKey("assessments.Assessment", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("MDS/SDS"))
    end_of_support = models.DateField(_("サポート終了日"), null=True, blank=True)
    notes = models.TextField(_("備考"), blank=True)

    scope_rule = INSTITUTION_SCOPE

    class Meta:
        ordering = ["institution", "category", "name"]
        verbose_name = _("医療情報システム")
        verbose_name_plural = _("医療情報システム")

    def __str__(self) -> str:
        return self.name


class DeviceKind(models.TextChoices):
    SERVER = "server", _("サーバ")
    PC = "pc", _("端末PC")
    NETWORK = "network", _("ネットワーク機器")
    MEDICAL = "medical", _("医療機器")
    IOT = "iot", _("IoT機器")
    MOBILE = "mobile", _("モバイル端末")
    PRINTER = "printer", _("プリンタ・複合機")
    STORAGE = "storage", _("ストレージ")
    OTHER = "other", _("その他")


class DeviceStatus(models.TextChoices):
    IN_USE = "in_use", _("使用中")
    STOCK = "stock", _("予備・保管")
    DISPOSED = "disposed", _("廃棄済み")


class Device(TimeStampedModel):
    """機器: one row of the ledger (seed 003's device list: 筐体名, 申請者, OS, 支払区分, 機器名, MAC, IP,
    コンセント番号, 初回登録 …). MAC addresses are stored normalised (aa:bb:cc:dd:ee:ff)."""

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="devices",
                                    verbose_name=_("医療機関等"))
    kind = models.CharField(_("種類"), max_length=10, choices=DeviceKind.choices, default=DeviceKind.PC)
    hostname = models.CharField(_("ホスト名（筐体名）"), max_length=200, blank=True, db_index=True)
    owner = models.CharField(_("管理者・申請者"), max_length=200, blank=True)
    os_name = models.CharField(_("OS"), max_length=200, blank=True)
    os_version = models.CharField(_("OSのバージョン"), max_length=100, blank=True)
    payment_class = models.CharField(_("支払区分"), max_length=100, blank=True)
    model_name = models.CharField(_("機器名・型番"), max_length=200, blank=True)
    manufacturer = models.CharField(_("製造元"), max_length=200, blank=True)
    serial = models.CharField(_("シリアル番号"), max_length=200, blank=True, db_index=True)
    mac = models.CharField(_("MACアドレス"), max_length=17, blank=True, db_index=True)
    ip = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True, db_index=True)
    vlan = models.CharField(_("VLAN"), max_length=50, blank=True)
    location = models.CharField(_("設置場所"), max_length=200, blank=True)
    outlet = models.CharField(_("コンセント番号"), max_length=100, blank=True)
    first_registered = models.DateField(_("初回登録日"), null=True, blank=True)
    status = models.CharField(_("状態"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.IN_USE)
    remote_maintenance = models.BooleanField(_("リモート保守"), default=False)
    last_patch_date = models.DateField(_("最終パッチ適用日"), null=True, blank=True)
    systems = models.ManyToManyField(InformationSystem, blank=True, related_name="devices",
                                     verbose_name=_("所属するシステム"))
    notes = models.TextField(_("備考"), blank=True)

    scope_rule = INSTITUTION_SCOPE

    class Meta:
        ordering = ["institution", "hostname", "id"]
        indexes = [
            models.Index(fields=["institution", "status", "kind"]),
            models.Index(fields=["institution", "hostname"]),
            models.Index(fields=["institution", "mac"]),
            models.Index(fields=["institution", "ip"]),
        ]
        verbose_name = _("機器")
        verbose_name_plural = _("機器")

    def __str__(self) -> str:
        return self.hostname or self.model_name or self.mac or f"#{self.pk}"


class SoftwareSource(models.TextChoices):
    MANUAL = "manual", _("手入力")
    IMPORT = "import", _("取込")
    SCAN = "scan", _("スキャン")


class Software(TimeStampedModel):
    """Software (or firmware, or the OS) on a device, named by CPE 2.3 where one exists.

    `part`/`vendor`/`product`/`version` are the CPE's components, kept as columns so vulnerability
    matching can group distinct identities by (part, vendor, product) with an index. A product
    without a CPE (many medical devices) has `no_cpe` set and goes the manual vulnerability path.
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="software", verbose_name=_("機器"))
    name = models.CharField(_("名称"), max_length=200)
    version = models.CharField(_("バージョン"), max_length=100, blank=True)
    cpe23 = models.CharField(_("CPE 2.3"), max_length=400, blank=True)
    cpe_part = models.CharField(max_length=1, blank=True)
    cpe_vendor = models.CharField(max_length=120, blank=True)
    cpe_product = models.CharField(max_length=160, blank=True)
    cpe_version = models.CharField(max_length=100, blank=True)
    no_cpe = models.BooleanField(_("CPEなし（個別に確認）"), default=False)
    source = models.CharField(_("情報源"), max_length=8, choices=SoftwareSource.choices, default=SoftwareSource.MANUAL)

    scope_rule = ScopeRule(owner="device__institution")

    class Meta:
        ordering = ["device", "name"]
        indexes = [models.Index(fields=["cpe_part", "cpe_vendor", "cpe_product"])]
        verbose_name = _("ソフトウェア")
        verbose_name_plural = _("ソフトウェア")

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class PortableMedia(TimeStampedModel):
    """可搬媒体 (GL 6.9 C5): USB memory, external disks, discs … with their check-out records."""

    class Kind(models.TextChoices):
        USB = "usb", _("USBメモリ")
        HDD = "hdd", _("外付けHDD・SSD")
        DISC = "disc", _("光ディスク")
        SD = "sd", _("SDカード")
        OTHER = "other", _("その他")

    class Status(models.TextChoices):
        AVAILABLE = "available", _("保管中")
        CHECKED_OUT = "out", _("貸出中")
        LOST = "lost", _("紛失")
        DISPOSED = "disposed", _("廃棄済み")

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="portable_media",
                                    verbose_name=_("医療機関等"))
    media_id = models.CharField(_("媒体番号"), max_length=100)
    kind = models.CharField(_("種類"), max_length=8, choices=Kind.choices, default=Kind.USB)
    owner = models.CharField(_("管理者"), max_length=200, blank=True)
    encrypted = models.BooleanField(_("暗号化"), default=False)
    location = models.CharField(_("保管場所"), max_length=200, blank=True)
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    notes = models.TextField(_("備考"), blank=True)

    scope_rule = INSTITUTION_SCOPE

    class Meta:
        ordering = ["institution", "media_id"]
        constraints = [models.UniqueConstraint(fields=["institution", "media_id"], name="media_id_per_institution")]
        verbose_name = _("可搬媒体")
        verbose_name_plural = _("可搬媒体")

    def __str__(self) -> str:
        return self.media_id


class MediaLoan(TimeStampedModel):
    media = models.ForeignKey(PortableMedia, on_delete=models.CASCADE, related_name="loans", verbose_name=_("媒体"))
    borrower = models.CharField(_("持出者"), max_length=200)
    purpose = models.CharField(_("目的"), max_length=300, blank=True)
    checked_out_at = models.DateTimeField(_("持出日時"))
    due_back = models.DateField(_("返却予定日"), null=True, blank=True)
    returned_at = models.DateTimeField(_("返却日時"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("記録者"))

    scope_rule = ScopeRule(owner="media__institution")

    class Meta:
        ordering = ["media", "-checked_out_at"]
        verbose_name = _("持出記録")
        verbose_name_plural = _("持出記録")

    def __str__(self) -> str:
        return f"{self.borrower} {self.checked_out_at:%Y-%m-%d}"


class Disposal(TimeStampedModel):
    """廃棄記録 (GL 6.7): what was disposed of, when, how, by whom, with the certificate as evidence."""

    class Method(models.TextChoices):
        PHYSICAL = "physical", _("物理破壊")
        DEGAUSS = "degauss", _("磁気消去")
        OVERWRITE = "overwrite", _("データ消去（上書き）")
        CONTRACTOR = "contractor", _("専門業者に委託")
        OTHER = "other", _("その他")

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="disposals",
                                    verbose_name=_("医療機関等"))
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="disposals",
                               verbose_name=_("機器"))
    media = models.ForeignKey(PortableMedia, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="disposals", verbose_name=_("可搬媒体"))
    description = models.CharField(_("廃棄したもの"), max_length=300)
    disposed_on = models.DateField(_("廃棄日"))
    method = models.CharField(_("方法"), max_length=12, choices=Method.choices)
    performed_by = models.CharField(_("実施者"), max_length=200)
    certificate_name = models.CharField(_("証明書ファイル名"), max_length=255, blank=True)
    certificate_sha256 = models.CharField(_("証明書のSHA-256"), max_length=64, blank=True)
    certificate_size = models.PositiveBigIntegerField(default=0)
    notes = models.TextField(_("備考"), blank=True)

    scope_rule = INSTITUTION_SCOPE

    class Meta:
        ordering = ["institution", "-disposed_on"]
        verbose_name = _("廃棄記録")
        verbose_name_plural = _("廃棄記録")

    def __str__(self) -> str:
        return f"{self.disposed_on} {self.description}"


class ImportProfile(TimeStampedModel):
    """A saved column mapping for ledger imports (CSV/Excel). Built-in ones (e.g. `device-list`,
    seed 003's layout) live in a data file; these are the ones an institution saved."""

    institution = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="asset_import_profiles",
                                    verbose_name=_("医療機関等"))
    name = models.CharField(_("名称"), max_length=100)
    settings = models.JSONField(_("設定"), default=dict)

    scope_rule = INSTITUTION_SCOPE

    class Meta:
        ordering = ["institution", "name"]
        constraints = [models.UniqueConstraint(fields=["institution", "name"], name="asset_profile_name")]
        verbose_name = _("取込設定")
        verbose_name_plural = _("取込設定")

    def __str__(self) -> str:
        return self.name


class Scan(TimeStampedModel):
    """An imported network scan (nmap XML), kept with its hash, and its reconciliation summary."""

    institution = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="scans",
                                    verbose_name=_("医療機関等"))
    name = models.CharField(_("ファイル名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    scanner = models.CharField(_("スキャナ"), max_length=100, blank=True)  # e.g. "nmap 7.94"
    arguments = models.TextField(_("実行時の引数"), blank=True)
    started_at = models.DateTimeField(_("スキャン日時"), null=True, blank=True)
    hosts_up = models.PositiveIntegerField(_("応答したホスト"), default=0)
    summary = models.JSONField(_("突合結果の要約"), default=dict, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("取込者"))

    scope_rule = INSTITUTION_SCOPE

    class Meta:
        ordering = ["institution", "-started_at", "-id"]
        verbose_name = _("ネットワークスキャン")
        verbose_name_plural = _("ネットワークスキャン")

    def __str__(self) -> str:
        return self.name


class ScanHost(models.Model):
    """One host that answered a scan, with what the reconciliation found for it."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", _("一致")
        CHANGED = "changed", _("一致（変更あり）")
        UNREGISTERED = "unregistered", _("未登録機器")

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="hosts")
    ip = models.GenericIPAddressField(null=True, blank=True)
    mac = models.CharField(max_length=17, blank=True)
    mac_vendor = models.CharField(max_length=200, blank=True)
    hostname = models.CharField(max_length=255, blank=True)
    os_guess = models.CharField(max_length=300, blank=True)
    os_cpes = models.JSONField(default=list, blank=True)
    services = models.JSONField(default=list, blank=True)  # [{port, protocol, name, product, version, cpe}]
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="scan_hosts")
    matched_by = models.CharField(max_length=10, blank=True)  # mac | ip | hostname
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    changes = models.JSONField(default=list, blank=True)  # [{field, ledger, scan}]

    scope_rule = ScopeRule(owner="scan__institution")

    class Meta:
        ordering = ["scan", "ip"]
        indexes = [models.Index(fields=["scan", "outcome"])]

    def __str__(self) -> str:
        return f"{self.ip or self.mac} ({self.outcome})"
