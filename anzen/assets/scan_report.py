"""The reconciliation report of a scan: reads for the screens (always through `scope`, a bounded number of
queries whatever the scan's size) and the export to Excel and CSV (recorded in the audit trail).

Rows: every host that answered with its outcome (一致 / 一致（変更あり） / 未登録機器), the ledger device it
matched and how, the differences, its open services; then the ledger devices in use inside the scanned
ranges that did not answer (未検出). The scanned ranges and how they were found are explained.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anzen.accounts.roles import Perm
from anzen.assets import reconcile
from anzen.assets.models import Device, DeviceKind, Scan, ScanHost
from anzen.common import audit
from anzen.common.permissions import Actor, get_scoped, require, scope
from anzen.reports import csv_writer
from anzen.reports import xlsx as xl

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "csv")
SHOWS = ("all", "unregistered", "changed", "matched", "missing", "services")


def scans(actor: Actor) -> QuerySet[Scan]:
    return scope(actor, Scan.objects.select_related("institution", "imported_by"), Perm.ASSET_VIEW).order_by(
        "-created_at", "-id")


def scan_detail(actor: Actor, pk: int) -> Scan:
    return get_scoped(actor, Scan.objects.select_related("institution", "imported_by"), Perm.ASSET_VIEW, pk=pk)


# --- labels ------------------------------------------------------------------------------------------------


def outcome_label(outcome: str) -> str:
    if outcome == reconcile.MISSING:
        return _("未検出")
    return str(ScanHost.Outcome(outcome).label) if outcome in ScanHost.Outcome.values else outcome


def matched_by_label(value: str) -> str:
    return {"mac": _("MACアドレス"), "ip": _("IPアドレス"), "hostname": _("ホスト名")}.get(value, "")


def change_text(change: dict[str, Any], devices: dict[int, Device] | None = None) -> str:
    name = change.get("field")
    ledger, scan = change.get("ledger") or "", change.get("scan") or ""
    if name == "ip":
        return _("IPアドレスが変わっています（台帳 %(ledger)s → 検出 %(scan)s）") % {"ledger": ledger, "scan": scan}
    if name == "hostname":
        return _("ホスト名が違います（台帳 %(ledger)s／検出 %(scan)s）") % {"ledger": ledger, "scan": scan}
    if name == "os":
        return _("OS が違います（台帳 %(ledger)s／推定 %(scan)s）") % {"ledger": ledger, "scan": scan}
    if name == "status":
        status = {"stock": _("予備・保管"), "disposed": _("廃棄済み")}.get(ledger, ledger)
        return _("台帳では「%(status)s」の機器がネットワーク上で応答しています") % {"status": status}
    if name == "conflict":
        device = (devices or {}).get(int(change.get("device") or 0))
        label = (str(device) if device else f"#{change.get('device')}")
        return _("台帳の機器 %(device)s のアドレス（またはホスト名）を、MACアドレスの異なる機器が使っています") % {
            "device": label}
    return f"{name}: {ledger} → {scan}"


def ranges_explanation(ranges: dict[str, Any]) -> str:
    method = ranges.get("method")
    if method == reconcile.EXPLICIT:
        return _("取込時に指定された範囲と、スキャン結果に記録されたアドレスです。")
    if method == reconcile.ARGUMENTS:
        return _("nmap の実行時の引数に書かれた対象（%(targets)s）と、スキャン結果に記録されたアドレスです。") % {
            "targets": ", ".join(ranges.get("targets") or [])}
    if method == reconcile.LISTED:
        return _("引数から対象の範囲を読み取れなかったため（ホスト名や -iL での指定）、スキャン結果に記録された"
                 "アドレス（応答なしのものを含む）だけを範囲としました。")
    return _("対象の範囲が分からないため、応答したホストのアドレスだけを範囲としました。未検出の機器はほぼ判定"
             "できません。取込時にスキャンした範囲を指定してください。")


def service_text(service: dict[str, Any]) -> str:
    label = " ".join(part for part in (service.get("product"), service.get("version")) if part)
    name = service.get("name") or ""
    return f"{service.get('port')}/{service.get('protocol')} {name}{(' ' + label) if label else ''}".strip()


# --- the screens -------------------------------------------------------------------------------------------


def host_rows(scan: Scan, *, show: str = "all", q: str = "") -> QuerySet[ScanHost]:
    """The scan's hosts for one tab of the report, with the matched device (one query per page)."""
    rows = ScanHost.objects.filter(scan=scan).select_related("device")
    if show in (ScanHost.Outcome.UNREGISTERED, ScanHost.Outcome.CHANGED, ScanHost.Outcome.MATCHED):
        rows = rows.filter(outcome=show)
    for word in q.split()[:5]:
        rows = rows.filter(Q(ip__startswith=word) | Q(mac__icontains=word.lower().replace("-", ":"))
                           | Q(hostname__icontains=word) | Q(mac_vendor__icontains=word)
                           | Q(os_guess__icontains=word) | Q(device__hostname__icontains=word))
    return rows.order_by("outcome", "ip", "pk")


def conflict_devices(hosts: Iterable[ScanHost]) -> dict[int, Device]:
    """Ledger devices named by the conflicts of these hosts (one query)."""
    ids = {int(change.get("device") or 0) for host in hosts for change in host.changes
           if change.get("field") == "conflict"}
    ids.discard(0)
    return {device.pk: device for device in Device.objects.filter(pk__in=ids)} if ids else {}


def missing_ids(scan: Scan) -> list[int]:
    return [int(pk) for pk in (scan.summary or {}).get("missing", [])]


def missing_devices(scan: Scan, ids: Sequence[int], *, q: str = "") -> list[Device]:
    """The devices of `ids` (a page of the missing ones) that still exist, in the given order."""
    rows = Device.objects.filter(institution_id=scan.institution_id, pk__in=list(ids))
    for word in q.split()[:5]:
        rows = rows.filter(Q(hostname__icontains=word) | Q(ip__startswith=word) | Q(location__icontains=word)
                           | Q(owner__icontains=word))
    found = {device.pk: device for device in rows}
    return [found[pk] for pk in ids if pk in found]


@dataclass
class PortSummary:
    port: int
    protocol: str
    names: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    hosts: int = 0

    @property
    def key(self) -> str:
        return f"{self.port}/{self.protocol}"


def port_summary(scan: Scan) -> list[PortSummary]:
    """Open services of the whole scan by port: how many hosts, which services and products (one query)."""
    ports: dict[tuple[int, str], PortSummary] = {}
    products: dict[tuple[int, str], Counter[str]] = {}
    for services in ScanHost.objects.filter(scan=scan).values_list("services", flat=True).iterator(chunk_size=2000):
        for service in services or []:
            key = (int(service.get("port") or 0), str(service.get("protocol") or ""))
            entry = ports.setdefault(key, PortSummary(*key))
            entry.hosts += 1
            if service.get("name") and service["name"] not in entry.names:
                entry.names.append(service["name"])
            label = " ".join(p for p in (service.get("product"), service.get("version")) if p)
            if label:
                products.setdefault(key, Counter())[label] += 1
    for key, counter in products.items():
        ports[key].products = [label for label, _count in counter.most_common(5)]
    return sorted(ports.values(), key=lambda p: (-p.hosts, p.port, p.protocol))


def hosts_with_port(scan: Scan, port: str) -> list[ScanHost]:
    """Hosts with one open port ("445/tcp"), filtered in Python over one query (JSON lookups differ
    between SQLite and PostgreSQL)."""
    number, _sep, protocol = port.partition("/")
    if not number.isdigit():
        return []
    rows = ScanHost.objects.filter(scan=scan).select_related("device").order_by("ip", "pk")
    return [host for host in rows.iterator(chunk_size=2000)
            if any(int(s.get("port") or 0) == int(number) and (not protocol or s.get("protocol") == protocol)
                   for s in host.services)]


# --- export ------------------------------------------------------------------------------------------------

HEADER = (gettext_lazy("結果"), gettext_lazy("IPアドレス"), gettext_lazy("MACアドレス"),
          gettext_lazy("ベンダー（MACアドレスから）"), gettext_lazy("ホスト名"), gettext_lazy("OS（推定）"),
          gettext_lazy("台帳の機器"), gettext_lazy("台帳のIPアドレス"), gettext_lazy("照合方法"), gettext_lazy("差異"),
          gettext_lazy("開いているポート・サービス"), gettext_lazy("設置場所"), gettext_lazy("管理者・申請者"))


def _device_label(device: Device | None) -> str:
    if device is None:
        return ""
    return f"#{device.pk} {device.hostname or device.model_name or device.mac}".strip()


def report_rows(scan: Scan) -> list[list[str]]:
    """Every host, then every missing device, as rows of HEADER (three queries)."""
    hosts = list(ScanHost.objects.filter(scan=scan).select_related("device").order_by("outcome", "ip", "pk"))
    conflicts = conflict_devices(hosts)
    rows = []
    for host in hosts:
        device = host.device
        rows.append([
            outcome_label(host.outcome), host.ip or "", host.mac, host.mac_vendor, host.hostname, host.os_guess,
            _device_label(device), (device.ip or "") if device else "", matched_by_label(host.matched_by),
            "／".join(change_text(c, conflicts) for c in host.changes),
            "\n".join(service_text(s) for s in host.services), device.location if device else "",
            device.owner if device else "",
        ])
    for device in missing_devices(scan, missing_ids(scan)):
        rows.append([outcome_label(reconcile.MISSING), device.ip or "", device.mac, "", device.hostname,
                     device.os_name, _device_label(device), device.ip or "", "", "", "", device.location,
                     device.owner])
    return rows


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def summary_lines(scan: Scan) -> list[tuple[str, str]]:
    summary = scan.summary or {}
    counts = summary.get("counts", {})
    ranges = summary.get("ranges", {})
    return [
        (_("医療機関等"), scan.institution.name),
        (_("ファイル名"), scan.name),
        (_("SHA-256"), scan.sha256),
        (_("スキャナ"), scan.scanner),
        (_("実行時の引数"), scan.arguments),
        (_("スキャン日時"), _when(scan.started_at)),
        (_("取込日時"), _when(scan.created_at)),
        (_("応答したホスト"), str(counts.get("hosts", scan.hosts_up))),
        (_("一致"), str(counts.get("matched", 0))),
        (_("一致（変更あり）"), str(counts.get("changed", 0))),
        (_("未登録機器"), str(counts.get("unregistered", 0))),
        (_("未検出"), str(counts.get("missing", 0))),
        (_("範囲外で判定できない機器"), str(counts.get("outside", 0))),
        (_("IPアドレスがなく判定できない機器"), str(counts.get("not_judged", 0))),
        (_("スキャンした範囲"), ", ".join(ranges.get("ranges", []))),
        (_("範囲の求め方"), ranges_explanation(ranges)),
    ]


def _base_name(scan: Scan) -> str:
    day = timezone.localtime(scan.started_at or scan.created_at).strftime("%Y%m%d")
    return f"scan-reconciliation-{scan.pk}-{day}"


def xlsx_bytes(scan: Scan) -> bytes:
    workbook = xl.new_workbook()
    bold = xl.font(bold=True)
    sheet = workbook.create_sheet(xl.sheet_title(_("概要")))
    xl.put(sheet, 1, 1, _("ネットワークスキャンと台帳の突合結果"), style=xl.font(size=14, bold=True), border=False)
    for index, (label, value) in enumerate(summary_lines(scan), start=3):
        xl.put(sheet, index, 1, label, style=bold, fill=xl.HEADER_FILL)
        xl.put(sheet, index, 2, value)
    xl.widths(sheet, {1: 30, 2: 90})
    xl.print_setup(sheet, last_column=2, header_rows=None)
    hosts = workbook.create_sheet(xl.sheet_title(_("突合結果")))
    for column, title in enumerate(HEADER, start=1):
        xl.put(hosts, 1, column, str(title), style=bold, fill=xl.HEADER_FILL, align=xl.CENTER)
    for row_number, row in enumerate(report_rows(scan), start=2):
        for column, value in enumerate(row, start=1):
            xl.put(hosts, row_number, column, value)
    xl.widths(hosts, {1: 14, 2: 16, 3: 19, 4: 24, 5: 22, 6: 28, 7: 22, 8: 16, 9: 12, 10: 40, 11: 40, 12: 18, 13: 16})
    hosts.freeze_panes = "A2"
    xl.print_setup(hosts, last_column=len(HEADER), header_rows=(1, 1), landscape=True)
    ports = workbook.create_sheet(xl.sheet_title(_("開いているポート")))
    for column, title in enumerate((_("ポート"), _("サービス"), _("製品・バージョン"), _("ホスト数")), start=1):
        xl.put(ports, 1, column, title, style=bold, fill=xl.HEADER_FILL, align=xl.CENTER)
    for row_number, entry in enumerate(port_summary(scan), start=2):
        for column, value in enumerate((entry.key, ", ".join(entry.names), "\n".join(entry.products), entry.hosts),
                                       start=1):
            xl.put(ports, row_number, column, value)
    xl.widths(ports, {1: 12, 2: 24, 3: 48, 4: 10})
    xl.print_setup(ports, last_column=4, header_rows=(1, 1))
    return xl.to_bytes(workbook)


def csv_bytes(scan: Scan) -> bytes:
    return csv_writer.csv_bytes([str(title) for title in HEADER], report_rows(scan))


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def export_report(*, actor: Actor, scan: Scan, fmt: str) -> ExportFile:
    """The report as xlsx or csv, recorded in the audit trail as an export."""
    require(actor, Perm.ASSET_VIEW)
    if fmt == "xlsx":
        result = ExportFile(_base_name(scan) + ".xlsx", XLSX_TYPE, xlsx_bytes(scan))
    elif fmt == "csv":
        result = ExportFile(_base_name(scan) + ".csv", CSV_TYPE, csv_bytes(scan))
    else:
        raise ValueError(fmt)
    audit.record(audit.Action.EXPORT, obj=scan, message=f"{fmt}: {result.filename}")
    return result


def kind_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in DeviceKind.choices]
