"""Ledger screens: the device list (filter, sort, server-side paging), a device with its software, the
exports and "attach to the checklist". Systems are in `views_systems`, media and disposals in
`views_media`.

Thin views: reads from `selectors` (scoped), writes through `services`. A refusal that depends on the
object is shown as a message, never as a 403 (403 means the role lacks the permission).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.assets import exports, forms, selectors, services, services_checklist
from anzen.common.http import generated_download, requires
from anzen.common.permissions import Actor

PAGE_SIZE = 50


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def report(request: HttpRequest, error: Exception) -> None:
    if isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
    elif isinstance(error, PermissionDenied) and error.args and isinstance(error.args[0], str):
        messages.error(request, error.args[0])
    else:
        messages.error(request, _("この操作は許可されていません。"))


def form_errors(form: Any, error: ValidationError) -> None:
    """A service's field errors beside the form's fields (others at the top of the form)."""
    if hasattr(error, "error_dict"):
        for name, problems in error.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


def query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


SORT_KEYS = ("hostname", "kind", "ip", "mac", "owner", "os_name", "model_name", "location", "status",
             "last_patch_date")


def _sort_headers(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    base = query_without(request, "sort", "page")
    headers = []
    labels = {"hostname": _("ホスト名"), "kind": _("種類"), "ip": _("IPアドレス"), "mac": _("MACアドレス"),
              "owner": _("管理者・申請者"), "os_name": _("OS"), "model_name": _("機器名"), "location": _("設置場所"),
              "status": _("状態"), "last_patch_date": _("最終パッチ")}
    for key in SORT_KEYS:
        active = current.lstrip("-") == key
        descending = active and current.startswith("-")
        target = key if (not active or descending) else f"-{key}"
        headers.append({"key": key, "label": labels[key], "url": f"?{base}{'&' if base else ''}sort={target}",
                        "active": active, "descending": descending})
    return headers


@requires(Perm.ASSET_VIEW)
def device_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = forms.DeviceFilterForm(request.GET or None, systems=selectors.system_choices(actor))
    criteria = selectors.DeviceFilter()
    if form.is_valid():
        data = form.cleaned_data
        criteria = selectors.DeviceFilter(q=data["q"], kind=data["kind"], status=data["status"], system=data["system"],
                                          remote={"yes": True, "no": False}.get(data["remote"]),
                                          sort=data["sort"] or "hostname")
    page = Paginator(selectors.devices(actor, criteria=criteria), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.device_page_rows(page.object_list)
    attach_form = None
    if actor.can(Perm.ASSET_MANAGE) and actor.can(Perm.ASSESSMENT_ANSWER):
        candidates = [(a.pk, f"{a.edition.title}（{a.get_status_display()}）")
                      for a in services_checklist.checklist_candidates(actor)]
        if candidates:
            attach_form = forms.AttachForm(assessments=candidates)
    return render(request, "assets/device_list.html", {
        "form": form, "page": page, "rows": rows, "query": query_without(request, "page"),
        "headers": _sort_headers(request, criteria.sort), "can_manage": actor.can(Perm.ASSET_MANAGE),
        "attach_form": attach_form, "sort": criteria.sort,
    })


def _system_choices(actor: Actor) -> list[tuple[int, str]]:
    return selectors.system_choices(actor)


@requires(Perm.ASSET_MANAGE)
def device_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = forms.DeviceForm(request.POST or None, systems=_system_choices(actor))
    if request.method == "POST" and form.is_valid():
        try:
            device = services.device_create(actor=actor, **form.values())
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("機器「%(name)s」を登録しました。") % {"name": device})
            return redirect("assets:device_detail", pk=device.pk)
    return render(request, "assets/device_form.html", {"form": form, "device": None})


@requires(Perm.ASSET_VIEW)
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    device = selectors.device_detail(actor, pk)
    return render(request, "assets/device_detail.html", {
        "device": device, "software_form": forms.SoftwareForm(), "can_manage": actor.can(Perm.ASSET_MANAGE),
        "scan_hosts": selectors.device_scan_hosts(device),
    })


@requires(Perm.ASSET_MANAGE)
def device_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    device = selectors.device_detail(actor, pk)
    form = forms.DeviceForm(request.POST or None, instance=device, systems=_system_choices(actor))
    if request.method == "POST" and form.is_valid():
        try:
            services.device_update(actor=actor, device=device, **form.values())
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("機器「%(name)s」を更新しました。") % {"name": device})
            return redirect("assets:device_detail", pk=device.pk)
    return render(request, "assets/device_form.html", {"form": form, "device": device})


@require_POST
@requires(Perm.ASSET_MANAGE)
def device_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    device = selectors.device_detail(actor, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("削除するには確認欄にチェックを入れてください。"))
        return redirect("assets:device_detail", pk=device.pk)
    name = str(device)
    services.device_delete(actor=actor, device=device)
    messages.success(request, _("機器「%(name)s」を台帳から削除しました。") % {"name": name})
    return redirect("assets:device_list")


@require_POST
@requires(Perm.ASSET_MANAGE)
def software_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    device = selectors.device_detail(actor, pk)
    form = forms.SoftwareForm(request.POST)
    if form.is_valid():
        try:
            item = services.software_add(actor=actor, device=device, **form.cleaned_data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("ソフトウェア「%(name)s」を追加しました。") % {"name": item})
            return redirect(reverse("assets:device_detail", args=[device.pk]) + "#software")
    return render(request, "assets/device_detail.html", {
        "device": device, "software_form": form, "can_manage": True,
        "scan_hosts": selectors.device_scan_hosts(device)}, status=200)


@require_POST
@requires(Perm.ASSET_MANAGE)
def software_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    item = selectors.software_item(actor, pk)
    device_pk = item.device_id
    services.software_remove(actor=actor, software=item)
    messages.success(request, _("ソフトウェア「%(name)s」を削除しました。") % {"name": item})
    return redirect(reverse("assets:device_detail", args=[device_pk]) + "#software")


# --- exports and the checklist -----------------------------------------------------------------------


def _download(export: exports.ExportFile) -> HttpResponse:
    return generated_download(export.content, export.filename, export.content_type)


def _format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", "xlsx")
    return fmt if fmt in exports.FORMATS else "xlsx"


@requires(Perm.ASSET_VIEW)
def ledger_export(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    export = exports.ledger_export(actor, actor.organisation, _format(request),
                                   include_disposed=request.GET.get("disposed") == "1")
    exports.record_export(actor.organisation, export)
    return _download(export)


@requires(Perm.ASSET_VIEW)
def remote_export(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    export = exports.remote_export(actor, actor.organisation, _format(request))
    exports.record_export(actor.organisation, export)
    return _download(export)


@require_POST
@requires(Perm.ASSET_MANAGE)
def attach_to_checklist(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    candidates = {a.pk: a for a in services_checklist.checklist_candidates(actor)}
    form = forms.AttachForm(request.POST, assessments=[(pk, str(pk)) for pk in candidates])
    if not candidates:
        messages.error(request, _("今年度の医療機関確認用チェックリストがありません。先に評価を作成してください。"))
    elif not form.is_valid():
        messages.error(request, _("添付先の評価を選んでください。"))
    else:
        assessment = candidates[form.cleaned_data["assessment"]]
        try:
            attached = services_checklist.attach_ledger_to_checklist(actor=actor, assessment=assessment,
                                                                     fmt=form.cleaned_data["fmt"])
        except (ValidationError, PermissionDenied) as error:
            report(request, error)
        else:
            done = _("機器台帳を 2(1) に、リモート保守の機器一覧を 2(2) にエビデンスとして添付しました（%(names)s）。")
            messages.success(request, done % {"names": "、".join(item.original_name for item in attached)})
            return redirect("assessments:detail", pk=assessment.pk)
    return redirect("assets:device_list")
