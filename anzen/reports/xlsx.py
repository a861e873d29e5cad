"""Small helpers for writing print-ready Excel sheets with openpyxl (no ORM).

Conventions of Anzen's workbooks: values only (never formulas; text that starts with "=" is written as
text), dates as real Excel dates shown yyyy/mm/dd, a Japanese font in every cell, A4 fitted to the page
width with the table header repeated on every printed page.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# The Japanese font every Windows Excel has; LibreOffice substitutes a Japanese font (e.g. IPAex).
FONT_NAME = "ＭＳ Ｐゴシック"
DATE_FORMAT = "yyyy/mm/dd"

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF4")
SECTION_FILL = PatternFill("solid", fgColor="F3F5F8")
CHOSEN_FILL = PatternFill("solid", fgColor="FFF2A8")
EXTRA_FILL = PatternFill("solid", fgColor="F7F7F7")
GREY = "8A8A8A"

WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@functools.lru_cache(maxsize=64)
def font(*, size: float = 10, bold: bool = False, color: str | None = None, italic: bool = False) -> Font:
    """One shared Font per combination (style objects are compared by value in openpyxl: sharing is cheap)."""
    return Font(name=FONT_NAME, size=size, bold=bold, color=color, italic=italic)


def safe_text(value: str) -> str:
    """Text as a value: control characters removed, a leading "=" kept as text (no formula)."""
    return _ILLEGAL.sub("", value)


def sheet_title(value: str) -> str:
    return (_SHEET_BAD.sub("・", value) or "Sheet")[:31]


def put(ws: Worksheet, row: int, column: int, value: Any, *, style: Font | None = None,
        align: Alignment | None = WRAP, border: bool = True, fill: PatternFill | None = None) -> Any:
    cell = ws.cell(row=row, column=column)
    number_format = None
    if isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"  # a string that starts with "=" stays text, never a formula
    elif isinstance(value, dt.datetime):
        cell.value, number_format = value.date(), DATE_FORMAT
    elif isinstance(value, dt.date):
        cell.value, number_format = value, DATE_FORMAT
    else:
        cell.value = value
    style = style or font()
    # Setting styles one by one makes openpyxl hash each style object: reuse the style of an earlier cell
    # with the same objects instead (the cache keeps them alive, so their ids stay unique).
    cache: dict[tuple[Any, ...], tuple[Any, ...]] = ws.parent.__dict__.setdefault("_anzen_styles", {})
    key = (id(style), id(align), border, id(fill), number_format)
    found = cache.get(key)
    if found is not None:
        cell._style = copy.copy(found[0])
        return cell
    cell.font = style
    if align is not None:
        cell.alignment = align
    if border:
        cell.border = BORDER
    if fill is not None:
        cell.fill = fill
    if number_format:
        cell.number_format = number_format
    cache[key] = (copy.copy(cell._style), style, align, fill)
    return cell


def merge(ws: Worksheet, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
    if (first_row, first_col) != (last_row, last_col):
        ws.merge_cells(start_row=first_row, start_column=first_col, end_row=last_row, end_column=last_col)


def widths(ws: Worksheet, values: dict[int, float]) -> None:
    for column, width in values.items():
        ws.column_dimensions[get_column_letter(column)].width = width


def print_setup(ws: Worksheet, *, last_column: int, header_rows: tuple[int, int] | None, landscape: bool = False,
                last_row: int | None = None) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_area = f"A1:{get_column_letter(last_column)}{last_row or ws.max_row}"
    if header_rows:
        ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    ws.oddFooter.center.text = "&P / &N"


def hide_column(ws: Worksheet, column: int) -> None:
    ws.column_dimensions[get_column_letter(column)].hidden = True


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
