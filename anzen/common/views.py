"""Dashboard, audit log and per-object history."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from anzen.accounts import selectors as account_selectors
from anzen.accounts.roles import Perm
from anzen.common import selectors
from anzen.common.forms import AuditSearchForm
from anzen.common.http import public, requires

PAGE_SIZE = 50


@requires(Perm.DASHBOARD)
def dashboard(request: HttpRequest) -> HttpResponse:
    from anzen.assessments import selectors_dashboard
    from anzen.library import selectors as library_selectors

    actor = request.actor  # type: ignore[attr-defined]
    recent = (selectors.audit_search(actor, selectors.AuditFilter())[:10]
              if actor.can(Perm.AUDIT_VIEW) else [])
    year = request.GET.get("fy", "")
    fiscal_year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None
    return render(request, "common/dashboard.html", {
        "frameworks": library_selectors.framework_summaries(actor),
        "recent": recent,
        "has_mfa": account_selectors.has_mfa(request.user),
        "board": selectors_dashboard.dashboard(actor, fiscal_year=fiscal_year),
    })


@requires(Perm.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = AuditSearchForm(request.GET or None, object_types=selectors.object_types(actor))
    criteria = selectors.AuditFilter()
    if form.is_valid():
        data = form.cleaned_data
        criteria = selectors.AuditFilter(
            text=data["q"], action=data["action"], object_type=data["object_type"], actor=data["actor"],
            date_from=data["date_from"], date_to=data["date_to"],
        )
    page = Paginator(selectors.audit_search(actor, criteria), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "common/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})


@requires(Perm.HISTORY_VIEW)
def object_history(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    target = selectors.history_target(request.actor, object_type, object_id)  # type: ignore[attr-defined]
    page = Paginator(selectors.object_history(object_type, object_id), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "common/object_history.html", {"target": target, "page": page,
                                                          "object_type": object_type})


@public
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})
