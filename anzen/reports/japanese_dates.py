"""Reading dates as people write them on Japanese forms, and writing them back (pure).

Accepted: Excel dates (cells formatted as dates, or serial numbers), 2025/6/30, 2025-06-30, 2025.6.30,
2025年6月30日, R7.6.30 / R7/6/30 / 令和7年6月30日 / 令和元年5月1日 (also H, S, T, M and 平成 … 明治),
and month/day alone (6/30, "(8 / 2)" as the MHLW form prints it) when the fiscal year is known: April to
December fall in the fiscal year itself, January to March in the next calendar year. Full-width digits
and spaces are fine. Blanks and the form's placeholder "( / )" read as no date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from anzen.common.wareki import ERAS, era_of

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (with Excel's 1900 leap-year quirk)
SERIAL_RANGE = (20_000, 80_000)  # 1954 … 2119: plausible dates, not counts or ids

ERA_STARTS = {name: start for start, name in ERAS}
ERA_LETTERS = {"R": "令和", "H": "平成", "S": "昭和", "T": "大正", "M": "明治"}

_ERA = r"(?P<era>令和|平成|昭和|大正|明治|[RHSTM])\s*(?P<eyear>元|\d{1,2})"
_PATTERNS = (
    re.compile(r"^(?P<year>\d{4})\s*[/\-.年]\s*(?P<month>\d{1,2})\s*[/\-.月]\s*(?P<day>\d{1,2})\s*日?$"),
    re.compile(rf"^{_ERA}\s*[/\-.年]\s*(?P<month>\d{{1,2}})\s*[/\-.月]\s*(?P<day>\d{{1,2}})\s*日?$"),
    re.compile(r"^(?P<month>\d{1,2})\s*[/月]\s*(?P<day>\d{1,2})\s*日?$"),
    re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$"),
)
_PLACEHOLDER = re.compile(r"^[\s()（）/／・.\-_]*$")


class DateProblem(ValueError):
    """The text is not a date this module can read (the message says what was found)."""


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_date(value: object, *, fiscal_year: int | None = None) -> dt.date | None:
    """A date from a cell value, or None for a blank; DateProblem when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise DateProblem(str(value))
    if isinstance(value, int | float):
        return _from_serial(value)
    text = normalise(str(value))
    text = text.strip("()（）[]「」 ")
    if _PLACEHOLDER.match(text):
        return None
    for pattern in _PATTERNS:
        found = pattern.match(text)
        if found:
            return _build(found.groupdict(), fiscal_year, text)
    raise DateProblem(text)


def _from_serial(value: float) -> dt.date:
    if not (SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]) or float(value) != int(value):
        raise DateProblem(str(value))
    return EXCEL_EPOCH + dt.timedelta(days=int(value))


def _build(parts: dict[str, str | None], fiscal_year: int | None, text: str) -> dt.date:
    month, day = int(parts["month"] or 0), int(parts["day"] or 0)
    if parts.get("era"):
        era = ERA_LETTERS.get(parts["era"] or "", parts["era"] or "")
        era_year = 1 if parts["eyear"] == "元" else int(parts["eyear"] or 0)
        if era_year < 1:
            raise DateProblem(text)
        year = ERA_STARTS[era].year + era_year - 1
    elif parts.get("year"):
        year = int(parts["year"] or 0)
    elif fiscal_year is not None:
        year = fiscal_year if month >= 4 else fiscal_year + 1
    else:
        raise DateProblem(text)
    try:
        day_value = dt.date(year, month, day)
    except ValueError as error:
        raise DateProblem(text) from error
    if parts.get("era"):
        era = ERA_LETTERS.get(parts["era"] or "", parts["era"] or "")
        # 令和7年 must be within 令和 (R1.4.1 is 平成31年): refuse dates outside the named era.
        if era_of(day_value)[0] != era:
            raise DateProblem(text)
    return day_value


def slash(value: dt.date | None) -> str:
    """2025-06-30 → "2025/06/30" (the convention of Anzen's Excel and PDF forms)."""
    return f"{value.year}/{value.month:02d}/{value.day:02d}" if value else ""


def wareki_short(value: dt.date | None) -> str:
    """2025-06-30 → "R7.6.30"."""
    if not value:
        return ""
    name, year = era_of(value)
    letter = next(key for key, era in ERA_LETTERS.items() if era == name)
    return f"{letter}{year}.{value.month}.{value.day}"
