"""CSV for Excel users: UTF-8 with a byte-order mark (Excel then reads Japanese correctly), CRLF line
ends, fields quoted where needed.

Text typed by other organisations (a vendor's 備考) must not run as a formula when the CSV is opened in
Excel: a value that starts with = + - @ (and is not a number) gets a leading apostrophe, as OWASP
recommends against CSV injection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, guard_formulas: bool = True) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value, guard_formulas) for value in row])
    return buffer.getvalue().encode("utf-8")


def _cell(value: object, guard: bool) -> str:
    text = "" if value is None else str(value)
    if guard and text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
