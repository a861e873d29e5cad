"""Portable media (GL 6.9 C5) with check-out and return records, and disposal records (GL 6.7) with the
certificate file (downloaded as an attachment only, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.assets import forms, selectors, services_media
from anzen.assets.models import Device, DeviceStatus, PortableMedia
from anzen.assets.views import PAGE_SIZE, actor_of, form_errors, query_without, report
from anzen.common import audit
from anzen.common.http import requires, stored_file_download
from anzen.common.permissions import scope


@requires(Perm.ASSET_VIEW)
def media_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = request.GET.get("status", "")
    status = status if status in PortableMedia.Status.values else ""
    q = request.GET.get("q", "")[:100]
    page = Paginator(selectors.media_list(actor, q=q, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assets/media_list.html", {
        "page": page, "query": query_without(request, "page"), "statuses": PortableMedia.Status.choices,
        "status": status, "q": q, "can_manage": actor.can(Perm.ASSET_MANAGE), "today": selectors.today(),
    })


def _media_form(request: HttpRequest, media: PortableMedia | None) -> HttpResponse:
    actor = actor_of(request)
    form = forms.MediaForm(request.POST or None, instance=media)
    if request.method == "POST" and form.is_valid():
        try:
            if media is None:
                media = services_media.media_create(actor=actor, **form.values())
                messages.success(request, _("可搬媒体「%(id)s」を登録しました。") % {"id": media})
            else:
                services_media.media_update(actor=actor, media=media, **form.values())
                messages.success(request, _("可搬媒体「%(id)s」を更新しました。") % {"id": media})
        except ValidationError as error:
            form_errors(form, error)
        else:
            return redirect("assets:media_detail", pk=media.pk)
    return render(request, "assets/media_form.html", {"form": form, "media": media})


@requires(Perm.ASSET_MANAGE)
def media_create(request: HttpRequest) -> HttpResponse:
    return _media_form(request, None)


@requires(Perm.ASSET_MANAGE)
def media_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _media_form(request, selectors.media_detail(actor_of(request), pk))


@requires(Perm.ASSET_VIEW)
def media_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    media = selectors.media_detail(actor, pk)
    return render(request, "assets/media_detail.html", {
        "media": media, "checkout_form": forms.CheckOutForm(), "can_manage": actor.can(Perm.ASSET_MANAGE),
        "today": selectors.today(),
    })


@require_POST
@requires(Perm.ASSET_MANAGE)
def media_check_out(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    media = selectors.media_detail(actor, pk)
    form = forms.CheckOutForm(request.POST)
    if form.is_valid():
        try:
            services_media.media_check_out(actor=actor, media=media, **form.cleaned_data)
        except ValidationError as error:
            report(request, error)
        else:
            messages.success(request, _("「%(id)s」の持出を記録しました。") % {"id": media})
    else:
        messages.error(request, _("持出者を入力してください。"))
    return redirect("assets:media_detail", pk=media.pk)


@require_POST
@requires(Perm.ASSET_MANAGE)
def media_return(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    media = selectors.media_detail(actor, pk)
    try:
        services_media.media_return(actor=actor, media=media)
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("「%(id)s」の返却を記録しました。") % {"id": media})
    return redirect("assets:media_detail", pk=media.pk)


# --- disposals --------------------------------------------------------------------------------------


@requires(Perm.ASSET_VIEW)
def disposal_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    page = Paginator(selectors.disposals(actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assets/disposal_list.html", {
        "page": page, "query": query_without(request, "page"), "can_manage": actor.can(Perm.ASSET_MANAGE),
        "certificate_form": forms.CertificateForm(),
    })


def _choices(request: HttpRequest) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    actor = actor_of(request)
    devices = (scope(actor, Device.objects.exclude(status=DeviceStatus.DISPOSED), Perm.ASSET_VIEW)
               .order_by("hostname", "id").values_list("pk", "hostname", "model_name", "serial")[:5000])
    media = (scope(actor, PortableMedia.objects.exclude(status=PortableMedia.Status.DISPOSED), Perm.ASSET_VIEW)
             .order_by("media_id").values_list("pk", "media_id"))
    return ([(pk, " ".join(part for part in (hostname, model, serial) if part) or f"#{pk}")
             for pk, hostname, model, serial in devices], list(media))


@requires(Perm.ASSET_MANAGE)
def disposal_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    devices, media = _choices(request)
    initial = {"device": request.GET.get("device"), "media": request.GET.get("media")}
    form = forms.DisposalForm(request.POST or None, request.FILES or None, devices=devices, media=media,
                              initial={key: value for key, value in initial.items() if value})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        device = selectors.device_detail(actor, data.pop("device")) if data.get("device") else None
        media_item = selectors.media_detail(actor, data.pop("media")) if data.get("media") else None
        data.pop("device", None)
        data.pop("media", None)
        try:
            disposal = services_media.disposal_create(actor=actor, device=device, media=media_item, **data)
        except ValidationError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("廃棄記録「%(name)s」を登録しました。") % {"name": disposal})
            return redirect("assets:disposal_list")
    return render(request, "assets/disposal_form.html", {"form": form})


@require_POST
@requires(Perm.ASSET_MANAGE)
def disposal_certificate_upload(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    disposal = selectors.disposal_detail(actor, pk)
    form = forms.CertificateForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("廃棄証明書のファイルを選んでください。"))
    else:
        try:
            services_media.disposal_attach_certificate(actor=actor, disposal=disposal,
                                                       certificate=form.cleaned_data["certificate"])
        except ValidationError as error:
            report(request, error)
        else:
            messages.success(request, _("廃棄証明書を登録しました。"))
    return redirect("assets:disposal_list")


@requires(Perm.ASSET_VIEW)
def disposal_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate as an attachment only: octet-stream, nosniff, sandboxed; audited."""
    disposal = selectors.disposal_detail(actor_of(request), pk)
    if not disposal.certificate_sha256:
        raise Http404
    response = stored_file_download(services_media.certificate_path(disposal.certificate_sha256),
                                    disposal.certificate_name or disposal.certificate_sha256)
    audit.record(audit.Action.EXPORT, obj=disposal,
                 message=_("廃棄証明書のダウンロード: %(name)s (SHA-256 %(sha)s)")
                 % {"name": disposal.certificate_name, "sha": disposal.certificate_sha256})
    return response
