"""Reading an uploaded ledger file (CSV or Excel) safely into rows of cells (no ORM).

CSV: the encoding is detected — a BOM (UTF-8, or UTF-16 as Excel's 「Unicode テキスト」 writes it),
otherwise strict UTF-8, otherwise CP932 (Shift_JIS as Japanese Excel writes 「CSV (コンマ区切り)」) —
and reported; a requested encoding is checked the same way (a UTF-8 file read as CP932 is refused
instead of turning into 文字化け). The delimiter (comma, tab, semicolon) is sniffed from the first
lines. NUL bytes and control characters mean the file is not text.

Excel (.xlsx): extension and magic bytes, a bounded OOXML package (entry count, uncompressed size,
compression ratio per entry — a zip bomb is refused before anything is decompressed — then the
library's package check with CRCs), then openpyxl in read-only mode with formulas kept
(its XML goes through defusedxml, so entity bombs are refused). A cell holding a formula refuses the
file: the ledger takes values, never formulas.

Every refusal is an `ImportFileError` with a Japanese message (with the row or cell where it helps).
Limits: the upload size (settings.ANZEN_MAX_UPLOAD_BYTES, checked where the file is received),
`MAX_ROWS` rows with content, `MAX_COLS` columns.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

MAX_ROWS = 100_000
MAX_COLS = 200
MAX_CELL_CHARS = 10_000
MAX_EMPTY_RUN = 10_000  # this many blank rows in a row end an Excel sheet (formatted but unused rows)
MAX_XLSX_ENTRIES = 2_000
MAX_XLSX_UNCOMPRESSED = 150 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed of one entry above RATIO_FLOOR bytes: a zip bomb
RATIO_FLOOR = 5 * 1024 * 1024
CHUNK = 64 * 1024
SNIFF_CHARS = 64 * 1024

CSV_EXTENSIONS = frozenset({"csv", "txt", "tsv"})
XLSX_EXTENSIONS = frozenset({"xlsx"})
ENCODINGS = ("auto", "utf-8", "cp932")
ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGIC = (b"%PDF", ZIP_MAGIC, b"MZ", b"\x7fELF", b"\x89PNG", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0",
                 b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Python's cp932 decodes the bytes Shift_JIS leaves unassigned (0x80, 0xA0, 0xFD-0xFF) to these: not text.
_CP932_UNASSIGNED = re.compile("[\x80\uf8f0-\uf8f3]")
# Text that went through a wrong decoding once already: replacement characters, UTF-8 read as
# Latin-1/CP1252 (「ç”³è«‹」), UTF-8 read as CP932 (「逕ｳ隲倶ｺ」, 「縺ゅ」).
_MOJIBAKE = re.compile(
    "\ufffd"
    r"|[ÃÂãâäåæçèéêëìíîïðñòóôõö][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ¡-¿]"
    r"|[縺繧繝].{0,2}[縺繧繝]"
    r"|[\u4e00-\u9fff][\uff61-\uff9f][\u4e00-\u9fff]{1,2}[\uff61-\uff9f]"
)
LABELS = {"utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8", "cp932": "Shift_JIS (CP932)", "utf-16": "UTF-16"}


class ImportFileError(ValueError):
    """The file cannot be read as a ledger table; the message says why, in Japanese."""


@dataclass
class Table:
    """The cells of one sheet (or of the CSV): rows with content, numbered as in the file (1-based)."""

    format: str  # "csv" | "xlsx"
    rows: list[tuple[int, list[Any]]]
    encoding: str = ""  # codec used for a CSV
    delimiter: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        return LABELS.get(self.encoding, self.encoding)

    @property
    def width(self) -> int:
        return max((len(cells) for _number, cells in self.rows), default=0)


# --- the file as received ------------------------------------------------------------------------


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in (name or "") else ""


def file_format(name: str) -> str:
    """ "csv" or "xlsx" from the file name; other types are refused with what to do instead."""
    ext = extension_of(name)
    if ext in CSV_EXTENSIONS:
        return "csv"
    if ext in XLSX_EXTENSIONS:
        return "xlsx"
    if ext in ("xls", "xlsm", "xlsb", "ods"):
        raise ImportFileError(_("この形式（.%(ext)s）は取り込めません。Excel で「Excel ブック (*.xlsx)」"
                                "または「CSV」として保存し直してください。") % {"ext": ext})
    raise ImportFileError(_("取り込めるのは CSV（.csv・.txt・.tsv）と Excel ブック（.xlsx）です。"))


def check_received(name: str, size: int, head: bytes, max_bytes: int) -> str:
    """Cheap checks before the file is stored: type by name, size, first bytes. Returns the format."""
    fmt = file_format(name)
    if size <= 0 or not head:
        raise ImportFileError(_("ファイルが空です。"))
    if size > max_bytes:
        raise ImportFileError(too_large_message(max_bytes))
    if fmt == "xlsx" and not head.startswith(ZIP_MAGIC):
        raise ImportFileError(_("Excel ブック（.xlsx）ではありません（ファイルの中身が xlsx 形式ではありません）。"))
    if fmt == "csv" and head.startswith(_BINARY_MAGIC):
        raise ImportFileError(_("テキスト（CSV）ファイルではありません（中身が別の形式です）。"))
    return fmt


def too_large_message(max_bytes: int) -> str:
    return _("ファイルが大きすぎます（上限 %(mb)s MB）。") % {"mb": max(1, max_bytes // (1024 * 1024))}


def check_stored(path: Path, fmt: str) -> None:
    """The complete file before it is kept: a sane xlsx package, or text (not binary) for a CSV."""
    if fmt == "xlsx":
        check_xlsx_package(path)
    else:
        with path.open("rb") as stream:
            head = stream.read(8)
            if head.startswith(_BINARY_MAGIC):
                raise ImportFileError(_("テキスト（CSV）ファイルではありません（中身が別の形式です）。"))
        detect_encoding(path, "auto")


# --- CSV -----------------------------------------------------------------------------------------


def _decodes(path: Path, codec: str) -> tuple[bool, int]:
    """Whether the whole file decodes strictly with `codec` (streamed); else the failing line."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    line = 1
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return False, line + chunk[: error.start].count(b"\n")
            if codec == "cp932":
                unassigned = _CP932_UNASSIGNED.search(text)
                if unassigned:
                    return False, line + text[: unassigned.start()].count("\n")
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, line
    return True, 0


def _has_non_ascii(path: Path) -> bool:
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            if any(byte >= 0x80 for byte in chunk):
                return True
    return False


def detect_encoding(path: Path, requested: str = "auto") -> str:
    """The codec to read the CSV with; `ImportFileError` when the file is not text in that encoding."""
    with path.open("rb") as stream:
        head = stream.read(4)
    if head.startswith(codecs.BOM_UTF8):
        if requested == "cp932":
            raise ImportFileError(_("このファイルは UTF-8（BOM 付き）で保存されています。文字コードに「自動」"
                                    "または「UTF-8」を選んでください。"))
        codec = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    elif requested == "utf-8":
        codec = "utf-8"
    elif requested == "cp932":
        ok, _line = _decodes(path, "utf-8")
        if ok and _has_non_ascii(path):
            raise ImportFileError(_("このファイルは UTF-8 で保存されています。Shift_JIS (CP932) として読むと"
                                    "文字化けします。文字コードに「自動」または「UTF-8」を選んでください。"))
        codec = "cp932"
    else:
        codec = "utf-8" if _decodes(path, "utf-8")[0] else "cp932"
    ok, line = _decodes(path, codec)
    if not ok:
        if requested == "utf-8":
            raise ImportFileError(_("UTF-8 として読めません（%(line)s 行目）。Shift_JIS (CP932) で保存された"
                                    "ファイルではありませんか。文字コードに「自動」を選んでください。")
                                  % {"line": line})
        if requested == "cp932":
            raise ImportFileError(_("Shift_JIS (CP932) として読めません（%(line)s 行目）。") % {"line": line})
        raise ImportFileError(_("文字コードを判別できません（%(line)s 行目）。UTF-8 または Shift_JIS (CP932) の"
                                "テキストファイル（CSV）として保存し直してください。") % {"line": line})
    return codec


def sniff_delimiter(sample: str) -> str:
    """Comma, tab or semicolon: the one that splits most of the first lines, and most evenly."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", 0.0
    for candidate in (",", "\t", ";"):
        counts = [line.count(candidate) for line in lines]
        hit = sum(1 for count in counts if count)
        if not hit:
            continue
        common = max(set(counts), key=counts.count)
        score = hit + counts.count(common) * (1 if common else 0) + sum(counts) / (10 * len(lines))
        if score > best_score:
            best, best_score = candidate, score
    return best


def _check_text(number: int, cells: list[str]) -> None:
    for index, cell in enumerate(cells):
        if _CONTROL.search(cell):
            raise ImportFileError(_("%(row)s 行目 %(col)s 列目に制御文字があります。テキスト（CSV）ファイルでは"
                                    "ないか、壊れています。") % {"row": number, "col": index + 1})
        if len(cell) > MAX_CELL_CHARS:
            raise ImportFileError(_("%(row)s 行目 %(col)s 列目の値が長すぎます（%(max)s 文字まで）。")
                                  % {"row": number, "col": index + 1, "max": format(MAX_CELL_CHARS, ",")})


def check_mojibake(rows: list[tuple[int, list[Any]]], limit: int = 200) -> None:
    """Refuse text that is already garbled (decoded with the wrong encoding somewhere before)."""
    for number, cells in rows[:limit]:
        text = " ".join(str(cell) for cell in cells if isinstance(cell, str))
        found = _MOJIBAKE.search(text)
        if found:
            sample = text[max(0, found.start() - 4): found.end() + 6].strip()
            raise ImportFileError(_("%(row)s 行目が文字化けしています（「%(sample)s」）。元のファイルの文字コード"
                                    "（UTF-8 / Shift_JIS）を確かめ、正しく保存し直してください。")
                                  % {"row": number, "sample": sample})


def read_csv(path: Path, *, encoding: str = "auto", max_rows: int | None = None) -> Table:
    max_rows = max_rows or MAX_ROWS
    if encoding not in ENCODINGS:
        raise ImportFileError(_("文字コードの指定が正しくありません。"))
    codec = detect_encoding(path, encoding)
    with path.open("r", encoding=codec, errors="strict", newline="") as stream:
        delimiter = sniff_delimiter(stream.read(SNIFF_CHARS))
        stream.seek(0)
        reader = csv.reader(stream, delimiter=delimiter, strict=True)
        rows: list[tuple[int, list[Any]]] = []
        start = 1
        try:
            for record in reader:
                number, start = start, reader.line_num + 1
                cells = [cell.strip() for cell in record[:MAX_COLS]]
                if not any(cells):
                    continue
                _check_text(number, cells)
                rows.append((number, cells))
                if len(rows) > max_rows:
                    raise ImportFileError(too_many_rows_message(max_rows))
        except csv.Error as error:
            raise ImportFileError(_("CSV の形式が正しくありません（%(line)s 行目: %(error)s）。引用符（\"）の"
                                    "閉じ忘れや、途中で切れたファイルではありませんか。")
                                  % {"line": reader.line_num, "error": error}) from error
        except UnicodeDecodeError as error:  # detection read the same bytes; kept for safety
            raise ImportFileError(_("文字コードを判別できません。")) from error
    if not rows:
        raise ImportFileError(_("ファイルにデータがありません。"))
    check_mojibake(rows)
    return Table("csv", rows, encoding=codec, delimiter=delimiter)


def too_many_rows_message(max_rows: int) -> str:
    return _("行が多すぎます（%(max)s 行まで）。ファイルを分けて取り込んでください。") % {"max": format(max_rows, ",")}


# --- Excel ---------------------------------------------------------------------------------------


def check_xlsx_package(path: Path) -> None:
    """A bounded OOXML package: checked from the zip directory before anything is decompressed."""
    from anzen.library.excel_workbook import ExcelProblem, check_package

    try:
        with zipfile.ZipFile(path) as package:
            entries = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as error:
        raise ImportFileError(_("ファイルが壊れているか途中で切れています（xlsx として読めません）。")) from error
    except (OSError, ValueError, EOFError) as error:
        raise ImportFileError(_("ファイルが壊れているか途中で切れています（xlsx として読めません）。")) from error
    if len(entries) > MAX_XLSX_ENTRIES:
        raise ImportFileError(_("ファイル内の要素が多すぎます（xlsx として不正です）。"))
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio_limit = max(entry.compress_size, 1) * MAX_RATIO
        if entry.file_size > RATIO_FLOOR and entry.file_size > ratio_limit:
            raise ImportFileError(_("展開すると極端に大きくなる部分（%(part)s）があります（圧縮爆弾の可能性）。"
                                    "取り込みません。") % {"part": entry.filename[:80]})
    if total > MAX_XLSX_UNCOMPRESSED:
        raise ImportFileError(_("展開後のサイズが大きすぎます（%(mb)s MB まで）。")
                              % {"mb": MAX_XLSX_UNCOMPRESSED // (1024 * 1024)})
    try:
        check_package(path)
    except ExcelProblem as problem:
        raise ImportFileError(str(problem)) from problem
    except Exception as error:  # zlib.error, EOFError … from a damaged entry
        raise ImportFileError(_("ファイルが壊れているか途中で切れています（xlsx として読めません）。")) from error


def _open_workbook(path: Path, handle: Any) -> Any:
    """openpyxl on an open file (the stored upload has no .xlsx suffix, which openpyxl would insist on)."""
    from openpyxl import load_workbook

    check_xlsx_package(path)
    try:
        return load_workbook(handle, read_only=True, data_only=False)
    except Exception as error:  # openpyxl and defusedxml raise assorted errors on malformed parts
        raise ImportFileError(_("Excel ブックとして読めません（ファイルが壊れているか、安全でない内容を含みます）。")
                              ) from error


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_xlsx(path: Path, *, sheet: str | None = None, max_rows: int | None = None) -> Table:
    max_rows = max_rows or MAX_ROWS
    with path.open("rb") as handle:
        return _read_xlsx(path, handle, sheet, max_rows)


def _read_xlsx(path: Path, handle: Any, sheet: str | None, max_rows: int) -> Table:
    workbook = _open_workbook(path, handle)
    try:
        names = list(workbook.sheetnames)
        if not names:
            raise ImportFileError(_("ブックにシートがありません。"))
        if sheet and sheet not in names:
            raise ImportFileError(_("シート「%(sheet)s」がありません（%(sheets)s）。")
                                  % {"sheet": sheet, "sheets": "、".join(names)})
        worksheet = workbook[sheet or names[0]]
        rows, formulas = _xlsx_rows(worksheet, max_rows)
    except ImportFileError:
        raise
    except Exception as error:  # a malformed sheet part surfaces only while it is iterated
        raise ImportFileError(_("Excel ブックとして読めません（ファイルが壊れているか、安全でない内容を含みます）。")
                              ) from error
    finally:
        workbook.close()
    if formulas:
        shown = "、".join(formulas[:5]) + ("…" if len(formulas) > 5 else "")
        raise ImportFileError(_("数式を含むセルがあります（%(cells)s、計 %(count)s 個）。数式は取り込みません。"
                                "Excel で「値の貼り付け」をして保存し直してください。")
                              % {"cells": shown, "count": len(formulas)})
    if not rows:
        raise ImportFileError(_("シート「%(sheet)s」にデータがありません。") % {"sheet": worksheet.title})
    check_mojibake(rows)
    return Table("xlsx", rows, sheet=worksheet.title, sheets=names)


def _xlsx_rows(worksheet: Any, max_rows: int) -> tuple[list[tuple[int, list[Any]]], list[str]]:
    rows: list[tuple[int, list[Any]]] = []
    formulas: list[str] = []
    empty_run = 0
    for number, cells in enumerate(worksheet.iter_rows(max_col=MAX_COLS), 1):
        values = []
        for cell in cells:
            if cell.data_type == "f":
                formulas.append(cell.coordinate)
                values.append("")
                continue
            values.append(_cell_value(cell.value))
        while values and values[-1] in (None, ""):
            values.pop()
        if not values:
            empty_run += 1
            if empty_run >= MAX_EMPTY_RUN:
                break
            continue
        empty_run = 0
        for index, value in enumerate(values):
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise ImportFileError(_("%(row)s 行目 %(col)s 列目の値が長すぎます（%(max)s 文字まで）。")
                                      % {"row": number, "col": index + 1, "max": format(MAX_CELL_CHARS, ",")})
        rows.append((number, values))
        if len(rows) > max_rows:
            raise ImportFileError(too_many_rows_message(max_rows))
    return rows, formulas


# --- either --------------------------------------------------------------------------------------


def read_table(path: Path, fmt: str, *, encoding: str = "auto", sheet: str | None = None,
               max_rows: int | None = None) -> Table:
    """The rows of a stored upload; `ImportFileError` (Japanese) for anything that cannot be read."""
    if fmt == "xlsx":
        return read_xlsx(path, sheet=sheet, max_rows=max_rows)
    if fmt == "csv":
        return read_csv(path, encoding=encoding or "auto", max_rows=max_rows)
    raise ImportFileError(_("取り込めるのは CSV（.csv・.txt・.tsv）と Excel ブック（.xlsx）です。"))
