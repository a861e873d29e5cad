"""Screens of the network scans: the list with the upload form, the reconciliation report (tabs for
unregistered, changed, matched, missing devices and open services; search; paging), registration of
unregistered hosts (one click per host, or all selected), the report's export, and the CPE suggestions
(an htmx fragment for the software form, a small page without JavaScript).

Thin views: scans come through `scan_report` (scoped; a foreign scan is a 404), writes go through
`services_scan`, refusals are shown as messages on the page.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.assets import cpe_help, scan_report, services_scan
from anzen.assets.models import ScanHost
from anzen.common.http import generated_download, requires
from anzen.common.permissions import Actor

PAGE_SIZE = 50
_FIELD = re.compile(r"^[A-Za-z][\w-]{0,40}$")


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("nmap の XML ファイル（nmap -oX で出力したもの）"))
    ranges = forms.CharField(
        label=gettext_lazy("スキャンした範囲（任意）"), required=False, max_length=2000,
        help_text=gettext_lazy("空欄なら nmap の引数から読み取ります。例: 192.168.1.0/24 10.0.0.1-254"),
        widget=forms.TextInput(attrs={"placeholder": "192.168.1.0/24"}))


def _page(request: HttpRequest, rows: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(rows, size).get_page(request.GET.get("page"))


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@requires(Perm.ASSET_VIEW)
def scan_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    page = _page(request, scan_report.scans(actor), 20)
    return render(request, "assets/scan/list.html", {
        "page": page, "query": _query(request), "form": UploadForm() if actor.can(Perm.ASSET_MANAGE) else None,
        "max_mb": services_scan.max_scan_bytes() // (1024 * 1024),
    })


@requires(Perm.ASSET_MANAGE)
def scan_upload(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        ranges = [form.cleaned_data["ranges"]] if form.cleaned_data["ranges"].strip() else None
        try:
            scan = services_scan.scan_import(actor=actor, stream=upload, name=upload.name, ranges=ranges)
        except ValidationError as error:
            problems = error.message_dict if hasattr(error, "error_dict") else {"file": error.messages}
            for name, texts in problems.items():
                for text in texts:
                    form.add_error(name if name in form.fields else "file", text)
        except PermissionDenied as error:
            form.add_error("file", str(error) or _("この操作の権限がありません。"))
        else:
            counts = scan.summary.get("counts", {})
            messages.success(request, _("スキャンを取り込みました: 応答 %(hosts)s 台、未登録 %(unregistered)s 台、"
                                        "未検出 %(missing)s 台。") % {
                "hosts": counts.get("hosts", 0), "unregistered": counts.get("unregistered", 0),
                "missing": counts.get("missing", 0)})
            return redirect("assets:scan_detail", pk=scan.pk)
    return render(request, "assets/scan/upload.html", {
        "form": form, "max_mb": services_scan.max_scan_bytes() // (1024 * 1024)}, status=400 if form.errors else 200)


@requires(Perm.ASSET_VIEW)
def scan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    scan = scan_report.scan_detail(actor, pk)
    show = request.GET.get("show") or "all"
    if show not in scan_report.SHOWS:
        show = "all"
    q = (request.GET.get("q") or "").strip()[:100]
    port = (request.GET.get("port") or "").strip()[:20]
    context: dict[str, Any] = {"scan": scan, "show": show, "q": q, "port": port, "query": _query(request),
                               "summary": scan.summary or {}, "counts": (scan.summary or {}).get("counts", {}),
                               "can_manage": actor.can(Perm.ASSET_MANAGE), "kinds": scan_report.kind_choices()}
    context["ranges_explanation"] = scan_report.ranges_explanation(context["summary"].get("ranges", {}))
    if show == "missing":
        ids = scan_report.missing_ids(scan)
        page = _page(request, ids)
        context["page"] = page
        context["missing"] = scan_report.missing_devices(scan, list(page.object_list), q=q)
    elif show == "services" and not port:
        context["ports"] = scan_report.port_summary(scan)
    else:
        rows = scan_report.hosts_with_port(scan, port) if show == "services" else scan_report.host_rows(
            scan, show=show, q=q)
        page = _page(request, rows)
        hosts = list(page.object_list)
        conflicts = scan_report.conflict_devices(hosts)
        for host in hosts:
            host.change_texts = [scan_report.change_text(c, conflicts) for c in host.changes]  # type: ignore[attr-defined]
            host.service_texts = [scan_report.service_text(s) for s in host.services]  # type: ignore[attr-defined]
            host.can_register = (host.outcome == ScanHost.Outcome.UNREGISTERED  # type: ignore[attr-defined]
                                 and host.device_id is None)
            host.matched_label = scan_report.matched_by_label(host.matched_by)  # type: ignore[attr-defined]
        context["page"] = page
        context["hosts"] = hosts
    return render(request, "assets/scan/detail.html", context)


@requires(Perm.ASSET_VIEW)
def scan_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in scan_report.FORMATS:
        raise Http404
    actor = _actor(request)
    scan = scan_report.scan_detail(actor, pk)
    result = scan_report.export_report(actor=actor, scan=scan, fmt=fmt)
    return generated_download(result.content, result.filename, result.content_type, cache_control="no-store")


@require_POST
@requires(Perm.ASSET_MANAGE)
def scan_register(request: HttpRequest, pk: int) -> HttpResponse:
    """Register one host (button `host`) or every selected one (checkboxes `host`) as ledger devices."""
    actor = _actor(request)
    scan = scan_report.scan_detail(actor, pk)
    back = reverse("assets:scan_detail", kwargs={"pk": scan.pk}) + "?show=unregistered"
    one = request.POST.get("one") or ""
    chosen = [one] if one else request.POST.getlist("host")
    host_ids = [int(value) for value in chosen if value.isdigit()]
    kind = "" if one else (request.POST.get("kind") or "")
    if not host_ids:
        messages.error(request, _("登録する機器を選んでください。"))
        return redirect(back)
    try:
        devices = services_scan.scan_register_hosts(actor=actor, scan=scan, host_ids=host_ids, kind=kind)
    except ValidationError as error:
        messages.error(request, _("登録できませんでした（何も登録していません）。"))
        for text in error.messages[:20]:
            messages.error(request, text)
        return redirect(back)
    except PermissionDenied as error:
        messages.error(request, str(error) or _("この操作の権限がありません。"))
        return redirect(back)
    messages.success(request, _("%(count)s 台を台帳に登録しました。") % {"count": len(devices)})
    return redirect(back)


@requires(Perm.ASSET_VIEW)
def cpe_suggest(request: HttpRequest) -> HttpResponse:
    """CPE names for `q` (or `name` + `version`); `part` limits to a/o/h. With `pick` (htmx), returns the
    CPE input of the software form filled with the picked name (`field` names the input, default cpe23)."""
    field = request.GET.get("field") or "cpe23"
    if not _FIELD.match(field):
        field = "cpe23"
    if "pick" in request.GET:
        return render(request, "assets/scan/_cpe_input.html", {"field": field, "value": request.GET["pick"][:400]})
    text = request.GET.get("q") or " ".join(request.GET.get(key, "") for key in ("name", "version"))
    text = text.strip()[:200]
    part = request.GET.get("part") or ""
    parts = (part,) if part in ("a", "o", "h") else None
    suggestions = cpe_help.suggest(text, parts=parts, limit=8) if text else []
    context = {"q": text, "suggestions": suggestions, "field": field, "part": part}
    if getattr(request, "htmx", False):
        return render(request, "assets/scan/_cpe_suggestions.html", context)
    return render(request, "assets/scan/cpe_suggest.html", context)
