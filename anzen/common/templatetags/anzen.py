"""Template helpers: permission checks for menus, 和暦 dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from anzen.accounts.roles import Perm
from anzen.common import wareki

register = template.Library()


@register.filter
def can(actor: Any, perm: str) -> bool:
    return bool(actor) and actor.can(Perm(perm))


@register.filter
def wareki_date(value: dt.date | dt.datetime | None) -> str:
    """2025-04-01 → 2025年4月1日（令和7年）."""
    if not value:
        return ""
    return wareki.format_with_era(value)


@register.filter
def fiscal_year_label(year: int | None) -> str:
    return wareki.fiscal_year_label(year) if year else ""
