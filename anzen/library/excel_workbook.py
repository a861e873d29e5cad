"""Opening an uploaded Excel workbook safely (no ORM).

Extension and size, a real OOXML zip (magic bytes, bounded entry count and uncompressed size, the
workbook part present, CRCs intact), then openpyxl in read-only mode (its XML parsing goes through
defusedxml). Used by the importer (excel_import) and the import wizard.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

ZIP_MAGIC = b"PK\x03\x04"
MAX_ZIP_ENTRIES = 2_000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ROWS = 5_000
PREVIEW_ROWS = 25
PREVIEW_COLS = 10


class ExcelProblem(Exception):
    """The file cannot be read at all (not xlsx, broken zip, …)."""


# --- the file itself ----------------------------------------------------------------------------


def check_upload(name: str, size: int, head: bytes, max_bytes: int) -> list[str]:
    """Cheap checks before anything is stored: extension, size, zip magic."""
    problems = []
    if not name.lower().endswith(".xlsx"):
        problems.append(_("Excel ブック（.xlsx）を指定してください（.xls・.xlsm・CSV は取り込めません）"))
    if size > max_bytes:
        problems.append(
            _("ファイルが大きすぎます（%(size)s バイト、上限 %(max_bytes)s バイト）")
            % {"size": format(size, ","), "max_bytes": format(max_bytes, ",")}
        )
    elif size == 0:
        problems.append(_("ファイルが空です"))
    elif not head.startswith(ZIP_MAGIC):
        problems.append(_("Excel ブック（.xlsx）ではありません（ファイルの中身が xlsx 形式ではありません）"))
    return problems


def check_package(path: Path) -> None:
    """A real, bounded OOXML package; raise ExcelProblem otherwise."""
    try:
        with zipfile.ZipFile(path) as package:
            entries = package.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise ExcelProblem(_("ファイル内の要素が多すぎます（xlsx として不正です）"))
            if sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED:
                raise ExcelProblem(_("展開後のサイズが大きすぎます（圧縮爆弾の可能性があります）"))
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise ExcelProblem(_("Excel ブック（.xlsx）ではありません（ブックの構成要素がありません）"))
            broken = package.testzip()
            if broken is not None:
                raise ExcelProblem(
                    _("ファイルが壊れています（%(broken)s を読めません）") % {"broken": broken}
                )
    except zipfile.BadZipFile as error:
        raise ExcelProblem(_("ファイルが壊れているか途中で切れています（ZIP として読めません）")) from error
    except OSError as error:
        raise ExcelProblem(
            _("ファイルを読めません: %(error)s") % {"error": error.strerror or error}
        ) from error


def open_workbook(path: Path) -> Any:
    check_package(path)
    try:
        return load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError) as error:
        raise ExcelProblem(
            _("Excel ブックとして読めません（ファイルが壊れている可能性があります）")
        ) from error
    except Exception as error:  # openpyxl raises assorted errors on malformed parts
        raise ExcelProblem(
            _("Excel ブックとして読めません（%(error)s）") % {"error": type(error).__name__}
        ) from error


def sheet_names(path: Path) -> list[str]:
    workbook = open_workbook(path)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def sheet_preview(path: Path, sheet: str | None) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """The first rows of a sheet (to choose columns): sheet name, column letters, (row, values)."""
    workbook = open_workbook(path)
    try:
        worksheet = worksheet_named(workbook, sheet)
        letters = [get_column_letter(index) for index in range(1, PREVIEW_COLS + 1)]
        rows = []
        for index, row in enumerate(worksheet.iter_rows(max_col=PREVIEW_COLS, values_only=True), 1):
            values = [cell_text(value)[:80] for value in row]
            if any(values):
                rows.append((index, values + [""] * (PREVIEW_COLS - len(values))))
            if len(rows) >= PREVIEW_ROWS or index > MAX_ROWS:
                break
        return worksheet.title, letters, rows
    finally:
        workbook.close()


def worksheet_named(workbook: Any, sheet: str | None) -> Any:
    if sheet:
        if sheet not in workbook.sheetnames:
            raise ExcelProblem(
                _("シート「%(sheet)s」がありません（%(sheets)s）")
                % {"sheet": sheet, "sheets": "、".join(workbook.sheetnames)}
            )
        return workbook[sheet]
    return workbook[workbook.sheetnames[0]]
