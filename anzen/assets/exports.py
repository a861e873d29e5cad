"""Exports of the ledger to Excel and CSV: the device ledger (checklist item 2(1)) and the list of systems
and devices under remote maintenance with their vendor and line (item 2(2)).

The device ledger starts with the columns of the device list a hospital keeps (seed 003: 筐体名, 申請者,
OS, 支払区分, 機器名, MACアドレス, IPアドレス, 登録情報コンセント番号, 初回登録), in that order, then the
other fields. Both files open with a title row (institution and date). CSV is UTF-8 with BOM and
neutralises formula-like cells (reports.csv_writer); xlsx writes values only, never formulas.
A constant number of queries whatever the ledger's size; every export is audited by the caller's
`record_export`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation
from anzen.assets import selectors
from anzen.assets.models import Device, DeviceStatus
from anzen.common import audit
from anzen.common.permissions import Actor
from anzen.common.wareki import format_with_era
from anzen.reports import csv_writer
from anzen.reports import xlsx as xl

FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    content_type: str
    rows: int


def device_columns() -> list[tuple[str, str, float]]:
    """(key, header, width): seed 003's device-list columns first, in its order, then the others."""
    return [
        ("hostname", _("筐体名"), 16), ("owner", _("申請者"), 14), ("os_name", _("OS"), 16),
        ("payment_class", _("支払区分"), 10), ("model_name", _("機器名"), 18), ("mac", _("MACアドレス"), 18),
        ("ip", _("IPアドレス"), 15), ("outlet", _("登録情報コンセント番号"), 12),
        ("first_registered", _("初回登録"), 11),
        ("kind", _("種類"), 12), ("status", _("状態"), 9), ("os_version", _("OSのバージョン"), 14),
        ("manufacturer", _("製造元"), 14), ("serial", _("シリアル番号"), 16), ("vlan", _("VLAN"), 8),
        ("location", _("設置場所"), 16), ("remote_maintenance", _("リモート保守"), 8),
        ("last_patch_date", _("最終パッチ適用日"), 11), ("systems", _("所属するシステム"), 22),
        ("notes", _("備考"), 24),
        ("id", _("Anzen ID"), 8),
    ]


def remote_columns() -> list[tuple[str, str, float]]:
    return [
        ("vendor", _("リモート保守の事業者"), 20), ("line", _("回線の種類"), 14), ("system", _("システム名"), 20),
        ("category", _("分類"), 10), ("hostname", _("ホスト名"), 16), ("kind", _("機器の種類"), 12),
        ("ip", _("IPアドレス"), 15), ("mac", _("MACアドレス"), 18), ("location", _("設置場所"), 16),
        ("contract", _("契約"), 20), ("end_of_support", _("サポート終了日"), 11),
    ]


def _yes_no(value: bool) -> str:
    return _("あり") if value else _("なし")


def _device_rows(actor: Actor, institution: Organisation, *, include_disposed: bool) -> Iterator[dict[str, Any]]:
    devices = selectors.devices(actor, institution=institution.pk)
    if not include_disposed:
        devices = devices.exclude(status=DeviceStatus.DISPOSED)
    names: dict[int, list[str]] = defaultdict(list)
    links = (Device.systems.through.objects.filter(device__in=devices.values("pk"))
             .order_by("informationsystem__name").values_list("device_id", "informationsystem__name"))
    for device_id, name in links.iterator(chunk_size=5000):
        names[device_id].append(name)
    kinds = dict(Device._meta.get_field("kind").choices or [])
    statuses = dict(Device._meta.get_field("status").choices or [])
    for device in devices.iterator(chunk_size=2000):
        yield {
            "id": device.pk, "hostname": device.hostname, "owner": device.owner, "os_name": device.os_name,
            "payment_class": device.payment_class, "model_name": device.model_name, "mac": device.mac,
            "ip": device.ip or "", "outlet": device.outlet, "first_registered": device.first_registered,
            "kind": str(kinds.get(device.kind, device.kind)), "status": str(statuses.get(device.status, device.status)),
            "os_version": device.os_version, "manufacturer": device.manufacturer, "serial": device.serial,
            "vlan": device.vlan, "location": device.location, "remote_maintenance": _yes_no(device.remote_maintenance),
            "last_patch_date": device.last_patch_date, "systems": "、".join(names.get(device.pk, [])),
            "notes": device.notes,
        }


def _remote_rows(actor: Actor, institution: Organisation) -> Iterator[dict[str, Any]]:
    paths, orphans = selectors.remote_paths(actor, institution=institution.pk)
    for path in paths:
        for system in path.systems:
            base = {"vendor": path.vendor, "line": path.line_label, "system": system.name,
                    "category": str(system.get_category_display()), "contract": system.contract,
                    "end_of_support": system.end_of_support}
            if not system.remote_devices:
                yield base
            for device in system.remote_devices:
                yield {**base, "hostname": device.hostname or device.model_name, "kind": str(device.get_kind_display()),
                       "ip": device.ip or "", "mac": device.mac, "location": device.location}
    for device in orphans:
        yield {"vendor": _("（システム未設定）"), "hostname": device.hostname or device.model_name,
               "kind": str(device.get_kind_display()), "ip": device.ip or "", "mac": device.mac,
               "location": device.location}


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.strftime("%Y/%m/%d")
    return value


def _title(label: str, institution: Organisation, day: dt.date) -> str:
    return _("%(title)s　%(institution)s　出力日: %(date)s") % {
        "title": label, "institution": institution.name, "date": format_with_era(day)}


def _write(fmt: str, *, title: str, sheet: str, columns: list[tuple[str, str, float]],
           rows: Iterator[dict[str, Any]]) -> tuple[bytes, int]:
    headers = [header for _key, header, _width in columns]
    keys = [key for key, _header, _width in columns]
    if fmt == "csv":
        materialised = [[_csv_value(row.get(key, "")) for key in keys] for row in rows]
        return csv_writer.csv_bytes([title], [headers, *materialised]), len(materialised)
    workbook = xl.new_workbook()
    ws = workbook.create_sheet(xl.sheet_title(sheet))
    xl.put(ws, 1, 1, title, style=xl.font(size=12, bold=True), align=None, border=False)
    header_row = 2
    for column, header in enumerate(headers, 1):
        xl.put(ws, header_row, column, header, style=xl.font(bold=True), align=xl.CENTER, fill=xl.HEADER_FILL)
    count = 0
    body = xl.font(size=9)
    for count, row in enumerate(rows, 1):
        for column, key in enumerate(keys, 1):
            value = row.get(key, "")
            xl.put(ws, header_row + count, column, "" if value is None else value, style=body, align=None)
    xl.widths(ws, {column: width for column, (_key, _header, width) in enumerate(columns, 1)})
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    last_letter = ws.cell(row=header_row, column=len(columns)).column_letter
    ws.auto_filter.ref = f"A{header_row}:{last_letter}{header_row + count}"
    xl.print_setup(ws, last_column=len(columns), header_rows=(header_row, header_row), landscape=True,
                   last_row=header_row + count)
    return xl.to_bytes(workbook), count


def _filename(stem: str, institution: Organisation, day: dt.date, fmt: str) -> str:
    code = institution.code or str(institution.pk)
    return f"{stem}_{code}_{day:%Y%m%d}.{fmt}"


def ledger_export(actor: Actor, institution: Organisation, fmt: str, *, day: dt.date | None = None,
                  include_disposed: bool = False) -> ExportFile:
    """The device ledger as xlsx or csv (disposed devices left out unless asked for)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    day = day or timezone.localdate()
    content, count = _write(fmt, title=_title(_("機器台帳"), institution, day), sheet=_("機器台帳"),
                            columns=device_columns(),
                            rows=_device_rows(actor, institution, include_disposed=include_disposed))
    return ExportFile(_filename(_("機器台帳"), institution, day, fmt), content, CONTENT_TYPES[fmt], count)


def remote_export(actor: Actor, institution: Organisation, fmt: str, *, day: dt.date | None = None) -> ExportFile:
    """Systems and devices under remote maintenance, with the vendor that uses the line and its type."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    day = day or timezone.localdate()
    content, count = _write(fmt, title=_title(_("リモート保守の機器一覧"), institution, day),
                            sheet=_("リモート保守"), columns=remote_columns(), rows=_remote_rows(actor, institution))
    return ExportFile(_filename(_("リモート保守一覧"), institution, day, fmt), content, CONTENT_TYPES[fmt], count)


def record_export(institution: Organisation, export: ExportFile) -> None:
    audit.record(audit.Action.EXPORT, obj=institution,
                 message=_("台帳の出力: %(name)s（%(rows)s 行）") % {"name": export.filename, "rows": export.rows})
