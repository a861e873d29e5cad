"""Excel import of a filled official form (for example a vendor that answered its 事業者確認用 in Excel).

Upload → preview → confirm. The workbook is checked (extension, size, zip magic, bounded package, no
formulas; openpyxl reads it read-only through defusedxml) and kept under
MEDIA_ROOT/assessment-imports/<sha256>.xlsx between the steps, never served. Rows are matched to the
form's items by the hidden 項目ID of an Anzen export, otherwise by official ref within the section and
group headings (2(4) exists for サーバ and 端末PC), otherwise by text. Values and dates are read leniently
(`reports.answer_marks`, `reports.japanese_dates`). The preview lists each change (item, before → after)
and every problem by row; confirming re-reads the same file and writes all answers through
`services.answer_set` in one transaction: any problem, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anzen.assessments import exports, services, structure
from anzen.assessments.models import Answer, Assessment
from anzen.common import audit
from anzen.common.filestore import FileStore, TooLarge
from anzen.common.permissions import Actor
from anzen.library.excel_workbook import ExcelProblem, check_package, check_upload
from anzen.library.models import RequirementNode
from anzen.reports import answer_marks, checklist_read
from anzen.reports.checklist import LayoutKind
from anzen.reports.checklist_read import ReadRow, ReadSheet, text_key
from anzen.reports.japanese_dates import DateProblem, parse_date, slash

STALE_SECONDS = 24 * 3600
FIELDS_BY_KEY = {"r1v": "round1_value", "r1d": "round1_date", "target": "target_date", "r2v": "round2_value",
                 "r2d": "round2_date", "remarks": "remarks", "countermeasure": "countermeasure"}


class ImportRejected(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class StoredUpload:
    sha256: str
    name: str
    size: int


@dataclass
class Change:
    row: int
    node: RequirementNode
    label: str
    fields: dict[str, tuple[Any, Any]]  # name → (before, after)

    def shown(self) -> list[tuple[str, str, str]]:
        return [(field_label(name), display(self.node, name, before), display(self.node, name, after))
                for name, (before, after) in self.fields.items()]


@dataclass
class ImportPreview:
    layout: LayoutKind | None
    sheet: str = ""
    header_fields: dict[str, str] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    missing: int = 0  # items of the form that the file does not contain (left as they are)
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    warnings: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self) -> list[str]:
        return [(_("%(row)s行目: %(message)s") % {"row": row, "message": message}) if row else message
                for row, message in self.errors]


# --- the stored upload -------------------------------------------------------------------------------


# Kept outside the web root between the preview and the confirmation; forgotten after a day.
UPLOADS = FileStore("assessment-imports", suffix=".xlsx", stale_seconds=STALE_SECONDS)


def store_upload(*, stream: BinaryIO, name: str, size: int) -> StoredUpload:
    """Check the upload (type, size, magic, a sane xlsx package) and keep it for the next steps."""
    max_bytes = settings.ANZEN_MAX_UPLOAD_BYTES
    head = stream.read(8)
    problems = check_upload(name, size, head, max_bytes)
    if problems:
        raise ImportRejected(problems)
    stream.seek(0)
    try:
        stored = UPLOADS.put(stream, max_bytes=max_bytes, check=check_package)
    except TooLarge as error:
        raise ImportRejected([_("ファイルが大きすぎます（上限 %(max_bytes)s バイト）")
                              % {"max_bytes": format(max_bytes, ",")}]) from error
    except ExcelProblem as problem:
        raise ImportRejected([str(problem)]) from problem
    return StoredUpload(stored.sha256, name, stored.size)


def stored_path(sha256: str) -> Path:
    if not UPLOADS.exists(sha256):
        raise ImportRejected([_("取り込むファイルが見つかりません（もう一度アップロードしてください）")])
    return UPLOADS.path(sha256)


def discard_upload(sha256: str) -> None:
    UPLOADS.discard(sha256)


# --- labels --------------------------------------------------------------------------------------------


def field_label(name: str) -> str:
    return {"round1_value": _("1回目"), "round1_date": _("1回目の確認日"), "target_date": _("目標日"),
            "round2_value": _("2回目"), "round2_date": _("2回目の確認日"), "remarks": _("備考"),
            "countermeasure": _("対応策")}.get(name, name)


def display(node: RequirementNode, name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, dt.date):
        return slash(value)
    if name in ("round1_value", "round2_value"):
        return dict(structure.options_of(node)).get(value, value)
    return str(value)


# --- matching rows to items ----------------------------------------------------------------------------


@dataclass
class _Form:
    nodes: list[RequirementNode]
    by_id: dict[str, RequirementNode]
    section: dict[int, str]  # node pk → its section's ref ("2")
    group: dict[int, str]  # node pk → text key of its group
    keys: dict[int, set[str]]  # node pk → comparable texts


def _form(assessment: Assessment, layout: LayoutKind) -> _Form:
    nodes = [n for n in structure.form_nodes(assessment)]
    by_pk = {n.pk: n for n in nodes}
    section: dict[int, str] = {}
    group: dict[int, str] = {}
    keys: dict[int, set[str]] = {}
    for node in nodes:
        parent = by_pk.get(node.parent_id) if node.parent_id else None
        if parent is None:
            section[node.pk], group[node.pk] = "", ""
        elif parent.kind == RequirementNode.Kind.SECTION:
            section[node.pk] = parent.ref or section.get(parent.pk, "")
            group[node.pk] = ""
        elif parent.kind == RequirementNode.Kind.GROUP:
            section[node.pk], group[node.pk] = section.get(parent.pk, ""), text_key(parent.text)
        else:
            section[node.pk], group[node.pk] = section.get(parent.pk, ""), group.get(parent.pk, "")
        text = node.text or node.topic or node.text_partial
        printed, _official = exports.item_text(node, layout)
        keys[node.pk] = {text_key(text), text_key(f"{node.ref} {text}"), text_key(printed),
                         text_key(f"{node.ref} {printed}")} - {""}
    items = [n for n in nodes if n.kind == RequirementNode.Kind.ITEM]
    return _Form(items, {n.node_id: n for n in items}, section, group, keys)


def _candidates(form: _Form, row: ReadRow, layout: LayoutKind) -> list[RequirementNode]:
    key = text_key(row.text)
    by_text = [n for n in form.nodes if key and key in form.keys[n.pk]]
    if layout.has_rounds and row.number:
        ref = f"{row.section}{row.number}"
        found = [n for n in form.nodes if n.ref == ref]
        if len(found) > 1 and row.group:
            found = [n for n in found if form.group[n.pk] == text_key(row.group)] or found
        if len(found) > 1:
            found = [n for n in found if n in by_text] or found
        return found
    if layout == LayoutKind.MDS and row.number:
        return [n for n in form.nodes if n.ref == row.number]
    if len(by_text) > 1 and row.group:
        by_text = [n for n in by_text if form.group[n.pk] == text_key(row.group)] or by_text
    if len(by_text) > 1 and row.section:
        by_text = [n for n in by_text if form.section[n.pk] == row.section] or by_text
    return by_text


def _short(row: ReadRow) -> str:
    text = f"{row.number} {row.text}".strip()
    return text if len(text) <= 30 else text[:30] + "…"


# --- reading values -------------------------------------------------------------------------------------


class _RowProblem(Exception):
    pass


def _choice(node: RequirementNode, raw: Any, column: str) -> tuple[str, str]:
    options = structure.options_of(node)
    try:
        value, day = answer_marks.read_choice(raw, options)
    except answer_marks.ChoiceProblem as problem:
        labels = "／".join(label for _value, label in options)
        raise _RowProblem(_("%(column)sの値「%(value)s」を読めません（%(labels)s のいずれか）")
                          % {"column": column, "value": problem, "labels": labels}) from problem
    if value == answer_marks.MARK:
        value = "yes" if "yes" in dict(options) else ""
    elif value == answer_marks.NO_MARK:
        value = "no" if "no" in dict(options) else ""
    return value, day


def _date(raw: Any, fiscal_year: int, column: str) -> dt.date | None:
    try:
        return parse_date(raw, fiscal_year=fiscal_year)
    except DateProblem as problem:
        raise _RowProblem(_("%(column)sの日付「%(value)s」を読めません（例: 2025/6/30、R7.6.30、令和7年6月30日）")
                          % {"column": column, "value": problem}) from problem


def _round(node: RequirementNode, row: ReadRow, value_key: str, date_key: str, label: str,
           fiscal_year: int) -> tuple[str, dt.date | None]:
    value, inline_day = _choice(node, row.cells.get(value_key), label)
    day = _date(row.cells.get(date_key), fiscal_year, label) if date_key in row.cells else None
    if day is None and inline_day:
        day = _date(inline_day, fiscal_year, label)
    if day and not value:
        raise _RowProblem(_("%(column)sに日付がありますが回答（はい・いいえ）がありません") % {"column": label})
    return value, day


def _mds_choice(node: RequirementNode, row: ReadRow) -> str:
    options = structure.options_of(node)
    marked = [i for i, (_h, raw) in enumerate(row.options) if answer_marks.has_mark(raw)]
    filled = [i for i, (_h, raw) in enumerate(row.options) if raw not in (None, "")]
    if len(marked) > 1:
        raise _RowProblem(_("選択肢に複数の印があります"))
    if marked:
        position = marked[0]
    else:
        placeholders = [i for i in filled if i < len(options) and
                        answer_marks.normalise(row.options[i][1]) == answer_marks.normalise(options[i][1])]
        if len(placeholders) == len(filled) and len(filled) != 1:
            return ""  # every option printed, none circled
        if len(filled) != 1:
            raise _RowProblem(_("選ばれた選択肢が分かりません（選んだ欄に ○ を付けてください）"))
        position = filled[0]
    raw = row.options[position][1]
    try:
        value, _day = answer_marks.read_choice(raw, options)
    except answer_marks.ChoiceProblem:
        value = ""
    if value in ("", answer_marks.MARK):
        if position >= len(options):
            raise _RowProblem(_("この項目にない選択肢の欄に印があります"))
        value = options[position][0]
    if value == answer_marks.NO_MARK:
        raise _RowProblem(_("選択肢の欄に × があります（選んだ欄に ○ を付けてください）"))
    return value


def _file_fields(node: RequirementNode, row: ReadRow, sheet: ReadSheet, assessment: Assessment) -> dict[str, Any]:
    fy = assessment.fiscal_year
    found: dict[str, Any] = {}
    if sheet.layout and sheet.layout.has_rounds:
        if "r1v" in row.cells:
            found["round1_value"], found["round1_date"] = _round(node, row, "r1v", "r1d", _("1回目"), fy)
        if "target" in row.cells:
            found["target_date"] = _date(row.cells.get("target"), fy, _("目標日"))
        if "r2v" in row.cells:
            found["round2_value"], found["round2_date"] = _round(node, row, "r2v", "r2d", _("2回目"), fy)
    elif sheet.layout == LayoutKind.MDS:
        found["round1_value"] = _mds_choice(node, row)
        if "date" in row.cells:
            found["round1_date"] = _date(row.cells.get("date"), fy, _("確認日"))
        elif found["round1_value"] and sheet.header_fields.get("作成日"):
            found["round1_date"] = _date(sheet.header_fields["作成日"], fy, _("作成日"))
        elif not found["round1_value"]:
            found["round1_date"] = None
    else:
        if "value" in row.cells:
            found["round1_value"], found["round1_date"] = _round(node, row, "value", "date", _("回答"), fy)
    for key in ("remarks", "countermeasure"):
        if key in row.cells:
            value = row.cells.get(key)
            found[key] = "" if value is None else str(value).strip()
    return found


# --- the preview and the import ---------------------------------------------------------------------------


def _check_sheet(sheet: ReadSheet, assessment: Assessment, expected: LayoutKind) -> list[str]:
    problems = []
    if sheet.formulas:
        shown = "、".join(sheet.formulas[:5]) + ("…" if len(sheet.formulas) > 5 else "")
        problems.append(_("数式を含むセルがあります（%(cells)s）。値だけを貼り付けて保存したファイルを使ってください。")
                        % {"cells": shown})
    if sheet.layout is None:
        problems.append(_("チェックリストの表が見つかりません"
                          "（「チェック項目」「確認内容」や はい・いいえ・対象外 の見出し）。"))
        return problems
    edition = sheet.meta.get("edition")
    if edition and edition != assessment.edition.key:
        problems.append(_("別の版（%(file)s）から出力されたファイルです。この評価の版は %(edition)s です。")
                        % {"file": edition, "edition": assessment.edition.key})
    form = sheet.meta.get("form")
    if form and assessment.form_id and form != assessment.form.node_id:
        problems.append(_("別の様式から出力されたファイルです。"))
    compatible = {expected} | ({LayoutKind.INSTITUTION, LayoutKind.VENDOR} if expected.has_rounds else set())
    if sheet.layout not in compatible:
        problems.append(_("様式が違います（ファイルは「%(file)s」、この評価は「%(expected)s」の形式です）。")
                        % {"file": layout_label(sheet.layout), "expected": layout_label(expected)})
    return problems


def layout_label(layout: LayoutKind | None) -> str:
    return {LayoutKind.INSTITUTION: _("医療機関確認用"), LayoutKind.VENDOR: _("事業者確認用"),
            LayoutKind.MDS: _("MDS/SDS"), LayoutKind.CHECKSHEET: _("チェックシート")}.get(layout, _("不明"))  # type: ignore[arg-type]


def build_preview(*, assessment: Assessment, path: Path) -> ImportPreview:
    """Parse and match the workbook and compute the changes (no writes)."""
    try:
        sheet = checklist_read.read(path)
    except ExcelProblem as problem:
        raise ImportRejected([str(problem)]) from problem
    expected = exports.layout_for(assessment, assessment.form if assessment.form_id else None)
    preview = ImportPreview(layout=sheet.layout, sheet=sheet.sheet, header_fields=dict(sheet.header_fields))
    problems = _check_sheet(sheet, assessment, expected)
    if problems:
        preview.errors += [(None, problem) for problem in problems]
        return preview
    if sheet.layout == LayoutKind.INSTITUTION and expected == LayoutKind.VENDOR:
        sheet.layout = LayoutKind.VENDOR
    form = _form(assessment, sheet.layout)
    answers = {a.node_id: a for a in Answer.objects.filter(assessment=assessment)}
    seen: dict[int, int] = {}
    for row in sheet.rows:
        if row.node_id:
            node = form.by_id.get(row.node_id)
            if node is None:
                preview.errors.append((row.row, _("項目ID「%(id)s」はこの様式にありません") % {"id": row.node_id}))
                continue
        else:
            found = _candidates(form, row, sheet.layout)
            if not found:
                preview.errors.append((row.row, _("様式にない行です: 「%(text)s」") % {"text": _short(row)}))
                continue
            if len(found) > 1:
                preview.errors.append((row.row, _("どの項目か特定できません: 「%(text)s」（%(refs)s）")
                                       % {"text": _short(row), "refs": "、".join(n.ref or n.node_id for n in found)}))
                continue
            node = found[0]
            if row.text and text_key(row.text) not in form.keys[node.pk] and sheet.layout != LayoutKind.CHECKSHEET:
                preview.warnings.append((row.row, _("%(item)s: 本文が様式の文言と異なります（番号で照合しました）")
                                         % {"item": structure.item_label(node)}))
        if node.pk in seen:
            preview.errors.append((row.row, _("%(item)s が %(first)s行目と重複しています")
                                   % {"item": structure.item_label(node), "first": seen[node.pk]}))
            continue
        seen[node.pk] = row.row
        try:
            fields = _file_fields(node, row, sheet, assessment) if structure.is_answerable(node) else {}
        except _RowProblem as problem:
            preview.errors.append((row.row, f"{structure.item_label(node)}: {problem}"))
            continue
        answer = answers.get(node.pk)
        changed = {name: (getattr(answer, name) if answer else _blank(name), value) for name, value in fields.items()
                   if (getattr(answer, name) if answer else _blank(name)) != value}
        if changed:
            preview.changes.append(Change(row.row, node, structure.item_label(node), changed))
        else:
            preview.unchanged += 1
    preview.missing = sum(1 for node in form.nodes if structure.is_answerable(node) and node.pk not in seen)
    return preview


def _blank(name: str) -> Any:
    return "" if name in ("round1_value", "round2_value", "remarks", "countermeasure") else None


def _write(actor: Actor, assessment: Assessment, changes: list[Change]) -> list[tuple[int | None, str]]:
    problems: list[tuple[int | None, str]] = []
    for change in changes:
        try:
            services.answer_set(actor=actor, assessment=assessment, node=change.node,
                                **{name: after for name, (_before, after) in change.fields.items()})
        except ValidationError as error:
            problems.append((change.row, " ".join(error.messages)))
    return problems


def preview_import(*, actor: Actor, assessment: Assessment, path: Path) -> ImportPreview:
    """The preview, with every change tried through `answer_set` and rolled back (the form's rules speak)."""
    preview = build_preview(assessment=assessment, path=path)
    if preview.ok and preview.changes:
        try:
            with transaction.atomic():
                preview.errors += _write(actor, assessment, preview.changes)
                transaction.set_rollback(True)
        except PermissionDenied as denied:
            preview.errors.append((None, str(denied) or _("この評価に回答できません。")))
    return preview


@transaction.atomic
def import_workbook(*, actor: Actor, assessment: Assessment, path: Path, name: str = "") -> ImportPreview:
    """Write every change of the workbook, or nothing (ImportRejected with the problems)."""
    preview = build_preview(assessment=assessment, path=path)
    if not preview.ok:
        raise ImportRejected(preview.error_lines())
    problems = _write(actor, assessment, preview.changes)
    if problems:
        preview.errors += problems
        raise ImportRejected(preview.error_lines())
    audit.record(audit.Action.IMPORT, obj=assessment,
                 message=_("Excel 取込: %(name)s（%(count)s 項目を変更）") % {"name": name or path.name,
                                                                        "count": len(preview.changes)})
    return preview
