"""Findings to Excel and CSV (for reports to management and for vendors who work in Excel).

One row per finding: CVE, its Japanese title when JVN has one, the JVN severity label, score, KEV, the
device and software that matched, confidence and reason, status and dates. CSV is UTF-8 with BOM and
neutralises formula-like cells (reports.csv_writer); xlsx writes values only. The query count does not
depend on the number of rows; the caller records the export in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from anzen.assets.exports import CONTENT_TYPES, ExportFile  # the ledger's file shape and types
from anzen.assets.exports import FORMATS as FORMATS  # re-exported: the screens check the format here
from anzen.common.wareki import format_with_era
from anzen.reports import csv_writer
from anzen.reports import xlsx as xl
from anzen.vulns import lifecycle, selectors, severity
from anzen.vulns.models_watch import Confidence, Finding

MAX_ROWS = 100_000


def columns() -> list[tuple[str, float]]:
    return [(_("CVE ID"), 16), (_("タイトル"), 40), (_("深刻度"), 8), (_("CVSS"), 6), (_("KEV"), 5),
            (_("機器"), 18), (_("ソフトウェア（CPE）"), 36), (_("確度"), 10), (_("該当の理由"), 48),
            (_("状態"), 12), (_("対応・理由"), 30), (_("リスク受容の期限"), 12), (_("初回検出"), 12),
            (_("解消日時"), 12), (_("Anzen ID"), 8)]


def _rows(queryset: QuerySet[Finding]) -> Iterator[list[Any]]:
    confidence = dict(Confidence.choices)
    chunk: list[Finding] = []

    def flush(items: list[Finding]) -> Iterator[list[Any]]:
        texts = selectors.cve_texts(f.cve_id for f in items)
        for f in items:
            text = texts.get(f.cve_id)
            yield [f.cve_id, text.title if text else "", severity.label_ja(f.severity),
                   f.score if f.score is not None else "", "KEV" if f.kev else "", f.device_label, f.identity,
                   str(confidence.get(f.confidence, f.confidence)), f.reason,
                   str(lifecycle.STATUS_LABELS.get(f.status, f.status)), f.status_note, f.accepted_until,
                   timezone.localtime(f.first_seen).date() if f.first_seen else None,
                   timezone.localtime(f.closed_at).date() if f.closed_at else None, f.pk]

    for finding in queryset[:MAX_ROWS].iterator(chunk_size=2000):
        chunk.append(finding)
        if len(chunk) >= 2000:
            yield from flush(chunk)
            chunk = []
    if chunk:
        yield from flush(chunk)


def findings_file(queryset: QuerySet[Finding], fmt: str, *, institution: str, day: dt.date | None = None,
                  code: str = "") -> ExportFile:
    day = day or timezone.localdate()
    stamp = day.strftime("%Y%m%d")
    header = [name for name, _width in columns()]
    rows = list(_rows(queryset))
    # Named like the ledger's files (機器台帳_<code>_<date>): which hospital, which day, in Japanese.
    filename = f"脆弱性_{code}_{stamp}.{fmt}" if code else f"脆弱性_{stamp}.{fmt}"
    if fmt == "csv":
        return ExportFile(filename, csv_writer.csv_bytes(header, rows), CONTENT_TYPES["csv"], len(rows))
    workbook = xl.new_workbook()
    ws = workbook.create_sheet(xl.sheet_title(_("脆弱性")))
    title = _("%(institution)s 検出された脆弱性（%(day)s 現在）") % {"institution": institution,
                                                                  "day": format_with_era(day)}
    xl.put(ws, 1, 1, title, style=xl.font(size=12, bold=True), border=False, align=None)
    for column, name in enumerate(header, 1):
        xl.put(ws, 3, column, name, style=xl.font(bold=True), fill=xl.HEADER_FILL, align=xl.CENTER)
    for index, row in enumerate(rows, 4):
        for column, value in enumerate(row, 1):
            xl.put(ws, index, column, value)
    xl.widths(ws, {index: width for index, (_name, width) in enumerate(columns(), 1)})
    # Like the ledger's export: the header and the CVE column stay in view, every column can be filtered.
    ws.freeze_panes = ws.cell(row=4, column=2)
    ws.auto_filter.ref = f"A3:{get_column_letter(len(header))}{3 + len(rows)}"
    xl.print_setup(ws, last_column=len(header), header_rows=(3, 3), landscape=True)
    return ExportFile(filename, xl.to_bytes(workbook), CONTENT_TYPES["xlsx"], len(rows))
