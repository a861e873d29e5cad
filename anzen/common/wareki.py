"""Japanese era (和暦) helpers, shown beside the Western date on screens and reports."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

# (first day, era name); the Gregorian dates of the imperial eras since Meiji 6 (solar calendar).
ERAS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1873, 1, 1), "明治"),
)


def era_of(day: dt.date) -> tuple[str, int]:
    for start, name in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return name, year
    raise ValueError(f"{day} is before the solar calendar (明治6年)")


def era_year_label(name: str, year: int) -> str:
    return f"{name}{'元' if year == 1 else year}年"


def format_with_era(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        day = value.date()
        name, year = era_of(day)
        return f"{day.year}年{day.month}月{day.day}日（{era_year_label(name, year)}）{value:%H:%M}"
    name, year = era_of(value)
    return f"{value.year}年{value.month}月{value.day}日（{era_year_label(name, year)}）"


def fiscal_year_of(day: dt.date) -> int:
    """Japanese fiscal year (年度) runs April to March: 2026-03-31 is in fiscal year 2025."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_label(year: int) -> str:
    """2025 → 令和7年度（2025年度）.

    The era is the one in force at the end of that calendar year, so the year that began in
    April 2019 reads 令和元年度, as the government renamed it.
    """
    name, era_year = era_of(dt.date(year, 12, 31))
    return f"{era_year_label(name, era_year)[:-1]}年度（{year}年度）"
