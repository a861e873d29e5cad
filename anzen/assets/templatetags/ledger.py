"""`{% ledger_panel actor %}`: the dashboard's ledger panel for institutions (a fixed number of queries)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("assets/_dashboard.html")
def ledger_panel(actor: Any) -> dict[str, Any]:
    from anzen.assets import selectors

    summary = selectors.ledger_summary(actor) if actor is not None else None
    return {"summary": summary, "today": selectors.today()}
