"""Template helpers of the vulnerability watch: labels (severity in the active language, status, confidence, notice
status and level) and `{% vuln_panel actor %}`, the dashboard's panel (a fixed number of queries)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def sev_label(key: str | None) -> str:
    from anzen.vulns import severity

    return severity.label(key or "")


@register.filter
def sev_class(key: str | None) -> str:
    return f"sev-{key}" if key in ("critical", "high", "medium", "low", "none") else "sev-unscored"


@register.filter
def cpe_label(cpe23: str) -> str:
    """`cpe:2.3:o:fortinet:fortios:6.0.4:*:…` → "fortinet fortios 6.0.4" (the full name stays in a title)."""
    parts = (cpe23 or "").split(":")
    if len(parts) < 6 or parts[0] != "cpe":
        return cpe23 or ""
    words = [p.replace("\\", "").replace("_", " ") for p in parts[3:6] if p not in ("*", "-", "")]
    return " ".join(words)


@register.filter
def finding_status(key: str) -> str:
    from anzen.vulns import lifecycle

    return str(lifecycle.STATUS_LABELS.get(key, key))


@register.filter
def confidence_label(key: str) -> str:
    from anzen.vulns.models_watch import Confidence

    return str(dict(Confidence.choices).get(key, key))


@register.filter
def notice_status(key: str) -> str:
    from anzen.vulns import contracts

    return str(contracts.NOTICE_STATUS_LABELS.get(key, key))


@register.filter
def notice_level(key: str) -> str:
    from anzen.vulns import contracts

    return str(contracts.LEVEL_LABELS.get(key, key))


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.inclusion_tag("vulns/_dashboard.html")
def vuln_panel(actor: Any) -> dict[str, Any]:
    from anzen.accounts.roles import OrgKind, Perm
    from anzen.vulns import selectors

    context: dict[str, Any] = {"actor": actor, "kind": None}
    if actor is None or actor.membership is None:
        return context
    day = selectors.today()
    if actor.kind == OrgKind.INSTITUTION and actor.can(Perm.VULN_VIEW):
        severities, total, kev_total = selectors.severity_counts(actor)
        context.update(kind="institution", severities=severities, total=total, kev_total=kev_total,
                       top=selectors.top_cves(actor, 5, kev_only=True),
                       overdue=selectors.notice_rows(selectors.overdue_notices(actor, day=day)[:10], day))
    elif actor.kind == OrgKind.VENDOR and actor.can(Perm.NOTICE_ANSWER):
        context.update(kind="vendor", notices=selectors.notice_rows(selectors.vendor_open_notices(actor)[:20], day))
    context["today"] = day
    return context
