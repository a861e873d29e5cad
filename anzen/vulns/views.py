"""Screens of the vulnerability watch for the institution: the board (by severity, system and vendor,
KEV first), findings with filters and exports, a finding with its history and status change, a device's
software and findings, a CVE with every CVSS source and the affected devices, the manual watch list, and
"rematch now". Notices, the vendors' inbox and contracts are in `views_notices`.

Thin views: reads from `selectors` (scoped), writes through the services. A refusal that depends on the
object is shown as a message, never as a 403 (403 means the role lacks the permission).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.assets import selectors as asset_selectors
from anzen.assets.views import actor_of, query_without, report  # the ledger's, shared by the screens
from anzen.common import audit
from anzen.common.http import generated_download, requires
from anzen.common.permissions import Actor
from anzen.vulns import exports, forms, lifecycle, selectors, services_contracts, services_watch, severity

PAGE_SIZE = 50


class CountedPaginator(Paginator):
    """A paginator told its count (kept in a tally) instead of counting the rows on every page."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@requires(Perm.VULN_VIEW)
def board(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    return render(request, "vulns/board.html", {
        "board": selectors.board(actor), "section": "board", "severity_order": selectors.SEVERITY_ORDER,
        "pending": services_watch.pending_changes(actor.org_id) if actor.org_id else None,
        "severity_labels": [severity.label(key) for key in selectors.SEVERITY_ORDER],
        "can_manage": actor.can(Perm.VULN_MANAGE),
    })


def _criteria(request: HttpRequest, actor: Actor) -> tuple[forms.FindingFilterForm, selectors.FindingFilter]:
    form = forms.FindingFilterForm(request.GET or None, systems=asset_selectors.system_choices(actor),
                                   vendors=selectors.vendor_choices(actor))
    criteria = selectors.FindingFilter()
    if form.is_valid():
        data = form.cleaned_data
        criteria = selectors.FindingFilter(
            q=data["q"], severity=data["severity"], status=data["status"] or "open", confidence=data["confidence"],
            kev={"yes": True, "no": False}.get(data["kev"]), system=data["system"], vendor=data["vendor"],
            cve=data["cve"], sort=data["sort"] or "severity")
    return form, criteria


@requires(Perm.VULN_VIEW)
def finding_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form, criteria = _criteria(request, actor)
    page = Paginator(selectors.findings(actor, criteria), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    return render(request, "vulns/finding_list.html", {
        "form": form, "page": page, "rows": rows, "texts": selectors.cve_texts(r.cve_id for r in rows),
        "query": query_without(request, "page"), "export_query": query_without(request, "page"),
        "section": "findings",
    })


@requires(Perm.VULN_VIEW)
def finding_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    actor = actor_of(request)
    _form, criteria = _criteria(request, actor)
    institution = actor.organisation.name if actor.organisation else ""
    result = exports.findings_file(selectors.findings(actor, criteria), fmt, institution=institution,
                                   code=actor.organisation.code if actor.organisation else "")
    audit.record(audit.Action.EXPORT, object_type_label="vulns.finding", object_id=str(actor.org_id or ""),
                 object_repr=institution,
                 message=_("検出された脆弱性の出力（%(fmt)s、%(n)s件）") % {"fmt": fmt, "n": result.rows})
    return generated_download(result.content, result.filename, result.content_type)


@requires(Perm.VULN_VIEW)
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    return _finding_page(request, actor, selectors.finding_detail(actor, pk), forms.FindingStatusForm())


def _finding_page(request: HttpRequest, actor: Actor, finding: Any, form: forms.FindingStatusForm,
                  status: int = 200) -> HttpResponse:
    return render(request, "vulns/finding_detail.html", {
        "finding": finding, "text": selectors.cve_texts([finding.cve_id]).get(finding.cve_id),
        "events": selectors.finding_events(finding), "notices": selectors.finding_notices(finding),
        "status_labels": lifecycle.STATUS_LABELS, "form": form,
        "can_manage": actor.can(Perm.VULN_MANAGE), "section": "findings",
    }, status=status)


@require_POST
@requires(Perm.VULN_MANAGE)
def finding_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    finding = selectors.finding_detail(actor, pk)
    form = forms.FindingStatusForm(request.POST)
    # A refusal shows the page again with what was typed (status, reason, date) and the error beside the form,
    # instead of a redirect that dropped the input.
    if not form.is_valid():
        return _finding_page(request, actor, finding, form, status=400)
    data = form.cleaned_data
    try:
        services_watch.finding_set_status(actor=actor, finding=finding, status=data["status"], note=data["note"],
                                          until=data["until"])
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return _finding_page(request, actor, finding, form, status=400)
    except PermissionDenied as error:
        report(request, error)
    else:
        messages.success(request, _("状態を「%(status)s」にしました。") % {
            "status": lifecycle.STATUS_LABELS[data["status"]]})
    return redirect("vulns:finding_detail", pk=finding.pk)


@requires(Perm.VULN_VIEW)
def device(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    item = selectors.device_detail(actor, pk)
    page = Paginator(selectors.device_findings(actor, item), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    return render(request, "vulns/device.html", {
        "device": item, "software": selectors.device_software(item), "rows": rows, "page": page, "query": "",
        "texts": selectors.cve_texts(r.cve_id for r in rows), "section": "findings",
    })


@requires(Perm.VULN_VIEW)
def cve_detail(request: HttpRequest, cve_id: str) -> HttpResponse:
    actor = actor_of(request)
    view = selectors.cve_view(actor, cve_id)
    page = Paginator(view.affected, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "vulns/cve.html", {"view": view, "cve": view.cve, "page": page, "rows": list(page),
                                              "query": "", "section": "findings"})


@require_POST
@requires(Perm.VULN_MANAGE)
def match(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        result = services_watch.rematch(institution=actor.organisation, actor=actor,
                                        full=request.POST.get("full") == "1")
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, _("照合しました: 新規 %(created)s件・再検出 %(reopened)s件・更新 %(updated)s件・"
                                    "解消 %(closed)s件・通知 %(notices)s件（%(seconds)s秒）")
                         % {**result.counts(), "seconds": result.seconds})
    return redirect("vulns:board")


@requires(Perm.VULN_VIEW)
def watchlist(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    rows, manual_findings = selectors.watchlist(actor)
    page = CountedPaginator(manual_findings, PAGE_SIZE, count=selectors.needs_check_count(actor)).get_page(
        request.GET.get("page"))
    manual = list(page)
    return render(request, "vulns/watchlist.html", {
        "rows": rows, "manual": manual, "page": page, "query": "",
        "texts": selectors.cve_texts(f.cve_id for f in manual),
        "can_manage": actor.can(Perm.VULN_MANAGE), "form": forms.WatchItemForm(), "section": "watch",
    })


@require_POST
@requires(Perm.VULN_MANAGE)
def watch_note(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    software = selectors.software_for_watch(actor, pk)
    form = forms.WatchItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("入力内容を確認してください。"))
        return redirect("vulns:watchlist")
    try:
        services_contracts.watch_item_save(actor=actor, software=software, **form.cleaned_data)
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, _("「%(name)s」の確認を記録しました。") % {"name": software})
    return redirect("vulns:watchlist")
