"""Template helpers: permission checks for menus, 和暦 dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from anzen.accounts.roles import Perm
from anzen.common import wareki

register = template.Library()


@register.filter
def can(actor: Any, perm: str) -> bool:
    return bool(actor) and actor.can(Perm(perm))


def _english() -> bool:
    # The English UI is for readers who do not read 和暦: ISO dates and "FY2025" instead.
    return (get_language() or "").startswith("en")


@register.filter
def wareki_date(value: dt.date | dt.datetime | None) -> str:
    """2025-04-01 → 2025年4月1日（令和7年）; in the English UI 2025-04-01 (and 09:30 for a date-time)."""
    if not value:
        return ""
    if _english():
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value) if timezone.is_aware(value) else value
            return f"{value:%Y-%m-%d %H:%M}"
        return f"{value:%Y-%m-%d}"
    return wareki.format_with_era(value)


@register.filter
def fiscal_year_label(year: int | None) -> str:
    """2025 → 令和7年度（2025年度）; in the English UI FY2025 (April 2025 to March 2026)."""
    if not year:
        return ""
    return f"FY{year}" if _english() else wareki.fiscal_year_label(year)
