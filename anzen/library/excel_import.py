"""Reading an official Excel checklist (xlsx) into a new edition (no ORM).

The MHLW publishes its checklists as xlsx forms: a section column (「1 体制構築」 …) and a
チェック項目 column whose texts start with the item number (「(1) …」), group headings
(「サーバについて、以下を実施している。」), block headings (「○ 令和5年度中」) and instructions
(「*以下項目は…」). The rules below turn such a sheet into nodes; a *profile* fixes the columns and how
ids are formed so that the ids match the library's (`H-2-4-server`) and editions can be compared.

Defences: the workbook is opened through excel_workbook (extension, size, a bounded OOXML zip,
openpyxl read-only with defusedxml); here formulas are refused and rows, columns and cell lengths are
bounded. Every problem is a Japanese message with the row and column; the caller writes nothing
unless the result has no errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _
from openpyxl.utils import column_index_from_string

from anzen.library import domain
from anzen.library.excel_workbook import (  # noqa: F401 - re-exported: the importer's public API
    MAX_ROWS,
    ExcelProblem,
    cell_text,
    check_package,
    check_upload,
    open_workbook,
    sheet_names,
    sheet_preview,
    worksheet_named,
)

MAX_CELL = 5_000
PROFILES_FILE = Path(__file__).resolve().parent / "excel_profiles.yaml"

_NUMBERED_ITEM = re.compile(r"^\s*[（(]\s*(\d{1,3})\s*[)）]\s*(.*)$", re.S)
_NUMBERED_SECTION = re.compile(r"^\s*(\d{1,3})[\s.．、]*(.*)$", re.S)
_BLOCK = ("○", "●", "◯")
_NOTE = ("*", "＊", "※")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._+-]+")
_AUDIENCE_WORDS = {
    "医療機関": "institution",
    "医療機関等": "institution",
    "事業者": "vendor",
    "institution": "institution",
    "vendor": "vendor",
    "共通": "both",
    "both": "both",
}


@dataclass(frozen=True)
class ImportSettings:
    text_col: str
    sheet: str | None = None
    ref_col: str | None = None  # same as text_col (or empty): the number is at the start of the text
    section_col: str | None = None
    audience_col: str | None = None
    audience: str = "institution"
    header_text: str = "チェック項目"
    start_row: int | None = None
    id_prefix: str = "X"
    form_label: str = ""
    group_suffixes: dict[str, str] = field(default_factory=dict)
    label_ids: dict[str, str] = field(default_factory=dict)
    default_answer_schema: str | None = "yes-no"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportSettings:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class ImportedNode:
    row: int
    node_id: str
    kind: str
    parent_id: str | None
    ref: str = ""
    text: str = ""
    topic: str = ""
    audience: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str
    message: str

    def format(self) -> str:
        where = _("%(row)s行目") % {"row": self.row} if self.row else ""
        if self.column:
            where = (where + " " + _("%(column)s列") % {"column": self.column}).strip()
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ImportResult:
    sheet: str
    nodes: list[ImportedNode] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def items(self) -> list[ImportedNode]:
        return [node for node in self.nodes if node.kind == "item"]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.items)


# --- profiles -----------------------------------------------------------------------------------


def builtin_profiles() -> dict[str, dict[str, Any]]:
    """Built-in profiles from excel_profiles.yaml: key → {name, description, settings}."""
    data = yaml.safe_load(PROFILES_FILE.read_text(encoding="utf-8")) or {}
    return {entry["key"]: entry for entry in data.get("profiles", [])}


# --- rows → nodes -------------------------------------------------------------------------------


def _column(letter: str | None, label: str, errors: list[RowError]) -> int | None:
    if not letter:
        return None
    try:
        index = column_index_from_string(letter.strip().upper())
    except ValueError:
        errors.append(
            RowError(
                None,
                letter,
                _("%(label)sの列「%(letter)s」は列名（A, B, …）で指定してください")
                % {"label": label, "letter": letter},
            )
        )
        return None
    if index > 200:
        errors.append(
            RowError(
                None,
                letter,
                _("%(label)sの列「%(letter)s」は範囲外です") % {"label": label, "letter": letter},
            )
        )
        return None
    return index


def _safe_id(value: str) -> str:
    cleaned = _UNSAFE_ID.sub("-", unicodedata.normalize("NFKC", value)).strip("-.")
    return cleaned[:100] or "x"


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold().replace(" ", "")


class _Builder:
    def __init__(self, settings: ImportSettings, sheet: str) -> None:
        self.settings = settings
        self.prefix = _safe_id(settings.id_prefix or "X")
        self.result = ImportResult(sheet)
        self.ids: dict[str, int] = {}
        self.form = self._add(
            0, self.prefix, "form", None, text=settings.form_label or sheet, audience=settings.audience
        )
        self.block: ImportedNode | None = None
        self.section: ImportedNode | None = None
        self.group: ImportedNode | None = None
        self.group_count = 0

    def _unique(self, base: str) -> str:
        node_id, counter = base, 2
        while node_id in self.ids:
            node_id, counter = f"{base}-{counter}", counter + 1
        return node_id

    def _add(
        self, row: int, node_id: str, kind: str, parent: ImportedNode | None, **values: Any
    ) -> ImportedNode:
        node = ImportedNode(
            row=row, node_id=node_id, kind=kind, parent_id=parent.node_id if parent else None, **values
        )
        self.ids[node_id] = row
        self.result.nodes.append(node)
        return node

    def container(self) -> ImportedNode:
        return self.group or self.section or self.block or self.form

    def note(self, row: int, value: str) -> None:
        target = self.section or self.block or self.form
        target.meta.setdefault("instructions", []).append(value)

    def block_heading(self, row: int, value: str) -> None:
        title = value.lstrip("".join(_BLOCK)).strip()
        self.block = self._add(
            row, self._unique(f"{self.prefix}-B{row}"), "section", self.form, text=title, meta={"row": row}
        )
        self.section = self.group = None

    def section_heading(self, row: int, number: str, title: str) -> None:
        parent = self.block or self.form
        self.section = self._add(
            row,
            self._unique(f"{self.prefix}-S{number}"),
            "section",
            parent,
            ref=number,
            text=title,
            meta={"row": row},
        )
        self.group = None

    def group_heading(self, row: int, value: str) -> None:
        self.group_count += 1
        suffix = self._suffix_for(value)
        base = f"{self.prefix}-G{self.section.ref if self.section else ''}-{suffix or self.group_count}"
        self.group = self._add(
            row,
            self._unique(base),
            "group",
            self.section or self.block or self.form,
            text=value,
            meta={"row": row, "id_suffix": suffix},
        )

    def _suffix_for(self, text: str) -> str | None:
        folded = _fold(text)
        for prefix, suffix in self.settings.group_suffixes.items():
            if folded.startswith(_fold(prefix)):
                return suffix
        return None

    def item(self, row: int, ref_value: str, text: str, audience: str, label: str = "") -> None:
        section_ref = self.section.ref if self.section else ""
        numbered = _NUMBERED_ITEM.match(ref_value) if ref_value else None
        if numbered or ref_value.isdigit():
            number = numbered.group(1) if numbered else ref_value
            ref = f"{section_ref}({number})"
            base = f"{self.prefix}-{section_ref}-{number}" if section_ref else f"{self.prefix}-{number}"
            if self.group is not None:
                suffix = self.group.meta.get("id_suffix")
                if suffix is None:
                    suffix = f"g{self.group_count}"
                base = f"{base}-{suffix}" if suffix else base
        elif ref_value:
            ref = ref_value
            base = f"{self.prefix}-{_safe_id(ref_value)}"
        else:
            ref = ""
            base = self.settings.label_ids.get(label) or f"{self.prefix}-row{row}"
        node_id = _safe_id(base)
        if node_id in self.ids:
            self.result.errors.append(
                RowError(
                    row,
                    "",
                    (
                        _(
                            "番号「%(number)s」が重複しています（"
                            "%(first_row)s行目と%(row)s行目）。列の指定"
                            "か、ファイルの内容を確認してください"
                        )
                        % {"number": ref or label, "first_row": self.ids[node_id], "row": row}
                    ),
                )
            )
            return
        self._add(
            row,
            node_id,
            "item",
            self.container(),
            ref=ref,
            text=text,
            topic=label,
            audience=audience,
            meta={"row": row},
        )


def parse(path: Path, settings: ImportSettings) -> ImportResult:
    """Read the chosen sheet and columns into nodes; problems go into `result.errors`."""
    workbook = open_workbook(path)
    try:
        worksheet = worksheet_named(workbook, settings.sheet)
        return _parse_sheet(worksheet, settings)
    finally:
        workbook.close()


def _rows(worksheet: Any, max_col: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    yield from enumerate(worksheet.iter_rows(max_col=max_col), 1)


def _parse_sheet(worksheet: Any, settings: ImportSettings) -> ImportResult:
    errors: list[RowError] = []
    text_col = _column(settings.text_col, _("本文"), errors)
    if not settings.text_col:
        errors.append(RowError(None, "", _("本文（チェック項目）の列を指定してください")))
    ref_col = _column(settings.ref_col, _("番号"), errors) if settings.ref_col else None
    section_col = _column(settings.section_col, _("区分"), errors) if settings.section_col else None
    audience_col = _column(settings.audience_col, _("対象"), errors) if settings.audience_col else None
    builder = _Builder(settings, worksheet.title)
    builder.result.errors = errors
    if errors or text_col is None:
        return builder.result
    if ref_col == text_col:
        ref_col = None
    columns = {
        text_col: settings.text_col,
        ref_col: settings.ref_col,
        section_col: settings.section_col,
        audience_col: settings.audience_col,
    }
    columns.pop(None, None)
    max_col = max(column for column in columns if column is not None)
    started = settings.start_row is None and not settings.header_text
    any_value = False
    text_seen = False
    for index, row in _rows(worksheet, max_col):
        if index > MAX_ROWS:
            errors.append(
                RowError(index, "", _("行が多すぎます（上限 %(max_rows)s 行）") % {"max_rows": MAX_ROWS})
            )
            break
        values: dict[int, str] = {}
        for column, letter in columns.items():
            if column is None:
                continue
            cell = row[column - 1] if column - 1 < len(row) else None
            if cell is None:
                continue
            if getattr(cell, "data_type", None) == "f" or (
                isinstance(cell.value, str)
                and cell.value.startswith("=")
                and getattr(cell, "data_type", "") == "f"
            ):
                errors.append(
                    RowError(
                        index,
                        letter or "",
                        _("数式のセルは取り込めません（値に置き換えてから取り込んでください）"),
                    )
                )
                continue
            value = cell_text(cell.value)
            if len(value) > MAX_CELL:
                errors.append(
                    RowError(
                        index,
                        letter or "",
                        _("セルの文字数が多すぎます（上限 %(max_cell)s 文字）") % {"max_cell": MAX_CELL},
                    )
                )
                value = value[:MAX_CELL]
            values[column] = value
        if any(values.values()):
            any_value = True
        text = values.get(text_col, "")
        section = values.get(section_col, "") if section_col else ""
        if not started:
            if settings.start_row is not None:
                started = index >= settings.start_row
            elif settings.header_text and _fold(text) == _fold(settings.header_text):
                started = True
                continue
            if not started:
                continue
        if settings.header_text and _fold(text) == _fold(settings.header_text):
            continue  # the header repeated above a later block
        _row(
            builder,
            index,
            text,
            section,
            values.get(ref_col, "") if ref_col else "",
            values.get(audience_col, "") if audience_col else "",
            settings,
        )
        text_seen = text_seen or bool(text)
    if not any_value:
        errors.append(RowError(None, "", _("シートにデータがありません")))
    elif not started:
        errors.append(
            RowError(
                None,
                settings.text_col,
                (
                    _(
                        "見出し「%(header)s」の行が "
                        "%(column)s 列に見つかりません（列の指定か開"
                        "始行を確認してください）"
                    )
                    % {"header": settings.header_text, "column": settings.text_col}
                ),
            )
        )
    elif not text_seen:
        errors.append(
            RowError(
                None,
                settings.text_col,
                _("%(column)s 列（本文）にデータがありません") % {"column": settings.text_col},
            )
        )
    elif not builder.result.items and not errors:
        errors.append(
            RowError(
                None,
                "",
                _("取り込める項目がありません（番号付きの行が見つかりません。列の指定を確認してください）"),
            )
        )
    return builder.result


def _row(
    builder: _Builder,
    index: int,
    text: str,
    section: str,
    ref_value: str,
    audience_value: str,
    settings: ImportSettings,
) -> None:
    audience = settings.audience
    if audience_value:
        audience = _AUDIENCE_WORDS.get(audience_value.strip(), "")
        if not audience:
            builder.result.errors.append(
                RowError(
                    index,
                    settings.audience_col or "",
                    (
                        _("対象「%(audience_value)s」は不明です（医療機関 / 事業者 / 共通）")
                        % {"audience_value": audience_value}
                    ),
                )
            )
            return
    for value in (section, text):
        if value.startswith(_BLOCK):
            builder.block_heading(index, value)
            return
    for value in (section, text):
        if value.startswith(_NOTE):
            builder.note(index, value)
            return
    label = ""
    if section:
        numbered = _NUMBERED_SECTION.match(section)
        if numbered and not section.startswith(("(", "（")):
            builder.section_heading(index, numbered.group(1), " ".join(numbered.group(2).split()))
        else:
            label = " ".join(section.split())
    if not text:
        if label:
            builder.result.errors.append(
                RowError(
                    index, settings.text_col, _("「%(label)s」の行に本文がありません") % {"label": label}
                )
            )
        return
    if ref_value:
        builder.item(index, ref_value, text, audience, label)
        return
    numbered_item = _NUMBERED_ITEM.match(text)
    if numbered_item:
        builder.item(index, f"({numbered_item.group(1)})", numbered_item.group(2).strip(), audience, label)
    elif label:
        builder.item(index, "", text, audience, label)
    else:
        builder.group_heading(index, text)


# --- result → parsed edition --------------------------------------------------------------------


def to_parsed_edition(
    result: ImportResult,
    settings: ImportSettings,
    *,
    framework: domain.FrameworkSpec,
    edition_code: str,
    title: str,
    publisher: str,
    fiscal_year: int | None,
    official: bool,
    licence: str,
    file_label: str,
    sha256: str,
) -> domain.ParsedEdition:
    verified = "true" if official else "false"
    key = domain.edition_key(framework.key, edition_code)
    edition = domain.EditionSpec(
        key=key,
        framework_key=framework.key,
        edition=edition_code,
        title=title,
        publisher=publisher,
        fiscal_year=fiscal_year,
        verified=verified,
        default_answer_schema=settings.default_answer_schema,
        licence=licence,
        sources=[{"title": file_label, "sha256": sha256, "origin": "Excel取込", "sheet": result.sheet}],
        notes=(
            "Excel ファイルから取り込んだ版です。"
            + (
                "取込者が公式ファイルから変更せずに取り込んだことを申告しています。"
                if official
                else "本文は公式の文言として確認されていません（未確認）。"
            )
        ),
        meta={"import": {"sheet": result.sheet, "settings": settings.as_dict()}},
    )
    nodes = [
        domain.NodeSpec(
            node_id=node.node_id,
            kind=node.kind,
            parent_id=node.parent_id,
            ref=node.ref,
            text=node.text,
            topic=node.topic,
            audience=node.audience or settings.audience,
            answer_schema=settings.default_answer_schema if node.kind == "item" else None,
            required_from=fiscal_year if node.kind == "item" else None,
            verified=verified,
            meta=node.meta,
        )
        for node in result.nodes
    ]
    return domain.ParsedEdition(file_label, framework, edition, nodes)
