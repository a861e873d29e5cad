"""Reading a filled checklist workbook back into rows (no ORM): Anzen's own exports and the official
forms filled in Excel by a vendor.

The reader finds the table by its header (「チェック項目」 for the MHLW forms, 「確認内容」 for HISPRO
checksheets, はい/いいえ/対象外 columns for MDS/SDS), maps columns by their labels (a round's date is the
unlabelled column right of its answer; Anzen's extra columns 備考/対応策/確認日/項目ID are used when
present), and walks the rows keeping the context the official refs need: the section in the first
column (「2 医療情報システムの管理・運用」) and the group line (「サーバについて、以下を実施している。」),
since 2(4) exists for サーバ and for 端末PC. Values are returned raw; `assessments.excel_io` reads them
against each item's options.

Formulas are refused (the workbook is opened with formulas kept, not their cached values).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anzen.library.excel_workbook import MAX_ROWS, ExcelProblem, open_workbook
from anzen.reports import checklist as cl
from anzen.reports.checklist import LayoutKind
from anzen.reports.checklist_xlsx import META_SHEET

HEADER_SCAN_ROWS = 80
MAX_COLUMNS = 30
_ROUND_NUMBER = re.compile(r"^[(（]\s*(\d+)\s*[)）]\s*")
_MDS_NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\.?(?=\s|[^\d.]|$)\s*")
_SECTION = re.compile(r"^(\d+)\s*(.*)$")
_TRAILING_REFS = re.compile(r"\s*[(（][0-9.]+\s*C\d+[^()（）]*[)）]\s*$|\s*[(（]\d+(?:\.\d+)+[)）]\s*$")
MDS_LABELS = ("はい", "いいえ", "対象外", "該当", "非該当")


def norm(value: object) -> str:
    """NFKC, no spaces (「端末 PC」 = 「端末PC」, （） = ())."""
    return "".join(unicodedata.normalize("NFKC", "" if value is None else str(value)).split())


def text_key(value: str) -> str:
    """The comparable form of an item text: normalised, without ※ and the guideline refs the MDS prints."""
    text = unicodedata.normalize("NFKC", value.replace(cl.NO_TEXT, "")).strip().rstrip(cl.UNVERIFIED_MARK).strip()
    text = text.replace(unicodedata.normalize("NFKC", cl.NO_TEXT), "")
    text = _TRAILING_REFS.sub("", text)
    return norm(text).rstrip("※")


@dataclass
class ReadRow:
    row: int
    text: str
    number: str = ""
    node_id: str = ""
    section: str = ""  # "2" for 「2 医療情報システムの管理・運用」 (rounds); heading text otherwise
    group: str = ""
    cells: dict[str, Any] = field(default_factory=dict)  # r1v r1d target r2v r2d remarks countermeasure date value
    options: list[tuple[str, Any]] = field(default_factory=list)  # MDS: (column header, raw value)


@dataclass
class ReadSheet:
    layout: LayoutKind | None
    sheet: str
    meta: dict[str, str] = field(default_factory=dict)
    header_fields: dict[str, str] = field(default_factory=dict)
    rows: list[ReadRow] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)
    formulas: list[str] = field(default_factory=list)  # cell references holding formulas


def read(path: Path) -> ReadSheet:
    workbook = open_workbook(path)
    try:
        meta = _meta(workbook)
        names = [name for name in workbook.sheetnames if name != META_SHEET]
        if not names:
            raise ExcelProblem("シートがありません")
        worksheet = workbook[names[0]]
        grid, formulas = _grid(worksheet)
        result = _parse(grid, meta)
        result.sheet = worksheet.title
        result.formulas = formulas
        return result
    finally:
        workbook.close()


def _meta(workbook: Any) -> dict[str, str]:
    if META_SHEET not in workbook.sheetnames:
        return {}
    found = {}
    for row in workbook[META_SHEET].iter_rows(max_col=2, max_row=50, values_only=True):
        if row and row[0]:
            found[str(row[0])] = "" if len(row) < 2 or row[1] is None else str(row[1])
    return found


def _grid(worksheet: Any) -> tuple[list[tuple[int, list[Any]]], list[str]]:
    grid, formulas = [], []
    for index, row in enumerate(worksheet.iter_rows(max_col=MAX_COLUMNS), 1):
        if index > MAX_ROWS:
            raise ExcelProblem(f"行が多すぎます（{MAX_ROWS} 行まで）")
        values = []
        for cell in row:
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")
                                                              and getattr(cell, "data_type", "s") == "f"):
                formulas.append(getattr(cell, "coordinate", f"R{index}"))
            values.append(value)
        if any(v not in (None, "") for v in values):
            grid.append((index, values))
    return grid, formulas


def _parse(grid: list[tuple[int, list[Any]]], meta: dict[str, str]) -> ReadSheet:
    layout_hint = meta.get("layout", "")
    for position, (_row, values) in enumerate(grid[:HEADER_SCAN_ROWS]):
        labels = [norm(v) for v in values]
        if cl.CHECK_ITEM in labels and layout_hint in ("", LayoutKind.INSTITUTION, LayoutKind.VENDOR):
            return _rounds(grid, position, meta)
        if "確認内容" in labels:
            return _checksheet(grid, position, meta)
        if sum(1 for label in labels if label in MDS_LABELS) >= 2:
            return _mds(grid, position, meta)
    return ReadSheet(layout=None, sheet="", meta=meta)


def _label_map(top: list[Any], sub: list[Any] | None) -> dict[int, str]:
    labels: dict[int, str] = {}
    width = max(len(top), len(sub or []))
    for index in range(width):
        below = norm(sub[index]) if sub and index < len(sub) else ""
        above = norm(top[index]) if index < len(top) else ""
        labels[index] = below or above
    return labels


_ROUND_LABELS = {"1回目": "r1v", "目標日": "target", "2回目": "r2v", "3回目": "r2v", norm(cl.RESULT_WITH_DATE): "r1v",
                 "確認結果(日付)": "r1v", "確認結果": "r1v", norm(cl.REMARKS): "remarks",
                 norm(cl.COUNTERMEASURE): "countermeasure", norm(cl.NODE_ID): "node_id", norm(cl.CHECK_ITEM): "text"}


def _round_columns(top: list[Any], sub: list[Any] | None) -> dict[str, int]:
    labels = _label_map(top, sub)
    columns: dict[str, int] = {}
    for index in sorted(labels):
        key = _ROUND_LABELS.get(labels[index])
        if key is None or key in columns:
            continue
        columns[key] = index
        date_key = {"r1v": "r1d", "r2v": "r2d"}.get(key)
        if date_key and labels.get(index + 1, "x") == "" and index + 1 < len(top) + 1:
            columns[date_key] = index + 1
    if "text" in columns and columns["text"] > 0:
        columns["section"] = columns["text"] - 1
    return columns


def _cell(values: list[Any], index: int | None) -> Any:
    if index is None or index >= len(values):
        return None
    value = values[index]
    return value.strip() if isinstance(value, str) else value


def _rounds(grid: list[tuple[int, list[Any]]], start: int, meta: dict[str, str]) -> ReadSheet:
    result = ReadSheet(layout=None, sheet="", meta=meta)
    columns: dict[str, int] = {}
    section = group = ""
    position = start
    value_keys = ("r1v", "r1d", "target", "r2v", "r2d")
    while position < len(grid):
        row, values = grid[position]
        labels = [norm(v) for v in values]
        if cl.CHECK_ITEM in labels:  # a (new) table header: the gating table, then the main table(s)
            following = grid[position + 1][1] if position + 1 < len(grid) else []
            has_sub = any(norm(v) in ("1回目", "目標日", "2回目") for v in following)
            columns = _round_columns(values, following if has_sub else None)
            result.columns |= set(columns)
            position += 2 if has_sub else 1
            continue
        position += 1
        first = norm(_cell(values, columns.get("section")))
        raw_text = _cell(values, columns.get("text"))
        text = unicodedata.normalize("NFKC", str(raw_text)).strip() if raw_text not in (None, "") else ""
        if first.startswith(("○", "〇")):  # a block: 「○ 令和5年度中」
            section = group = ""
            continue
        if first.startswith(("*", "●", "※", "・")) or (not text and not first):
            continue
        if first.startswith(norm(cl.VENDOR_NAME)):
            result.header_fields[cl.VENDOR_NAME] = text or first.split("：")[-1].split(":")[-1]
            continue
        if first:
            found = _SECTION.match(first)
            section = found.group(1) if found else first
            group = ""
        cells = {key: _cell(values, columns.get(key)) for key in (*value_keys, "remarks", "countermeasure")
                 if key in columns}
        node_id = str(_cell(values, columns.get("node_id")) or "")
        number_match = _ROUND_NUMBER.match(text)
        has_values = any(cells.get(key) not in (None, "") for key in value_keys)
        if not (node_id or number_match or has_values):
            if text:
                group = text
            continue
        number = f"({number_match.group(1)})" if number_match else ""
        body = text[number_match.end():] if number_match else text
        result.rows.append(ReadRow(row=row, text=body, number=number, node_id=node_id, section=section, group=group,
                                   cells=cells))
    result.layout = (LayoutKind.VENDOR if cl.VENDOR_NAME in result.header_fields or meta.get("layout") == "vendor"
                     else LayoutKind.INSTITUTION)
    return result


def _mds(grid: list[tuple[int, list[Any]]], start: int, meta: dict[str, str]) -> ReadSheet:
    result = ReadSheet(layout=LayoutKind.MDS, sheet="", meta=meta)
    for _row, values in grid[:start]:
        for value in values:
            text = unicodedata.normalize("NFKC", str(value)) if value not in (None, "") else ""
            for label in ("製造業者", "サービス事業者", "作成日", "製品名称", "バージョン"):
                if text.startswith(label) and (":" in text or "：" in text):
                    result.header_fields[label] = re.split(r"[:：]", text, maxsplit=1)[1].strip()
    _row, header = grid[start]
    labels = [norm(v) for v in header]
    option_cols = [index for index, label in enumerate(labels) if label in MDS_LABELS]
    text_col = next((index for index, value in enumerate(header) if value not in (None, "")), 0)
    if option_cols and text_col == option_cols[0]:
        text_col = 0
    columns = {"text": text_col}
    for key, label in (("remarks", cl.REMARKS), ("date", cl.ANSWER_DATE), ("countermeasure", cl.COUNTERMEASURE),
                       ("node_id", cl.NODE_ID)):
        if norm(label) in labels:
            columns[key] = labels.index(norm(label))
    result.columns |= set(columns) | {"options"}
    is_header_row = norm(header[text_col]) in ("項目", "") if text_col < len(header) else True
    section = ""
    for row, values in grid[start + (1 if is_header_row else 0):]:
        raw_text = _cell(values, text_col)
        text = unicodedata.normalize("NFKC", str(raw_text)).strip() if raw_text not in (None, "") else ""
        if not text:
            continue
        options = [(norm(header[index]) if index < len(header) else "", _cell(values, index)) for index in option_cols]
        node_id = str(_cell(values, columns.get("node_id")) or "")
        number_match = _MDS_NUMBER.match(re.sub(r"(\d)\s*\.\s*(?=\d)", r"\1.", text))
        has_options = any(value not in (None, "") for _label, value in options)
        if not (node_id or number_match or has_options or text.startswith("・")):
            section = text  # 「技術的安全対策(6.5)」
            continue
        normalised = re.sub(r"(\d)\s*\.\s*(?=\d)", r"\1.", text)
        number = number_match.group(1) if number_match else ""
        body = normalised[number_match.end():] if number_match else text
        cells = {key: _cell(values, columns.get(key)) for key in ("remarks", "date", "countermeasure")
                 if key in columns}
        result.rows.append(ReadRow(row=row, text=body, number=number, node_id=node_id, section=section, cells=cells,
                                   options=options))
    return result


_SHEET_LABELS = {"項目分類": "category", "確認内容": "text", "回答": "value", norm(cl.ANSWER_DATE): "date",
                 "回答日": "date", norm(cl.COUNTERMEASURE): "countermeasure", norm(cl.REMARKS): "remarks",
                 norm(cl.NODE_ID): "node_id"}


def _checksheet(grid: list[tuple[int, list[Any]]], start: int, meta: dict[str, str]) -> ReadSheet:
    result = ReadSheet(layout=LayoutKind.CHECKSHEET, sheet="", meta=meta)
    _row, header = grid[start]
    columns = {}
    for index, value in enumerate(header):
        key = _SHEET_LABELS.get(norm(value))
        if key and key not in columns:
            columns[key] = index
    result.columns |= set(columns)
    section = ""
    for row, values in grid[start + 1:]:
        raw_text = _cell(values, columns.get("text"))
        first = _cell(values, 0)
        text = unicodedata.normalize("NFKC", str(raw_text)).strip() if raw_text not in (None, "") else ""
        node_id = str(_cell(values, columns.get("node_id")) or "")
        if not text and not node_id:
            if first not in (None, "") and not str(first).startswith(("●", "※", "*")):
                section = unicodedata.normalize("NFKC", str(first)).strip()
            continue
        cells = {key: _cell(values, columns.get(key)) for key in ("value", "date", "countermeasure", "remarks")
                 if key in columns}
        result.rows.append(ReadRow(row=row, text=text, node_id=node_id, section=section,
                                   group=str(_cell(values, columns.get("category")) or ""), cells=cells))
    return result
