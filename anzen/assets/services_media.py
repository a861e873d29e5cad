"""Writes of the portable-media ledger (GL 6.9 C5: media, check-out and return) and of disposal records
(GL 6.7: what, when, how, by whom, with the certificate file as evidence).

Same rules as `services`: keyword-only, one transaction, `Perm.ASSET_MANAGE`, the actor's own
institution, Japanese `ValidationError`s. Certificates are stored by SHA-256 outside the web root
(`CERTIFICATE_STORE`) after the same type checks as evidence files, and only ever downloaded as
attachments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation
from anzen.assessments import uploads
from anzen.assets import normalise
from anzen.assets.fields import choice, parse_bool
from anzen.assets.models import Device, DeviceStatus, Disposal, MediaLoan, PortableMedia
from anzen.assets.services import _assign, _check_own, _institution
from anzen.common.filestore import FileStore
from anzen.common.permissions import Actor

CERTIFICATE_STORE = FileStore("asset-certificates", fan_out=True)
CERTIFICATE_TYPES = ("pdf", "png", "jpg", "jpeg")


def certificate_path(sha256: str) -> Path:
    return CERTIFICATE_STORE.path(sha256)


# --- portable media ---------------------------------------------------------------------------------


def _clean_media(raw: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    allowed = {"media_id", "kind", "owner", "encrypted", "location", "status", "notes"}
    unknown = set(raw) - allowed
    if unknown:
        raise TypeError(f"unknown media fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit in (("media_id", 100), ("owner", 200), ("location", 200), ("notes", 10_000)):
        if name in raw or not partial:
            out[name] = str(raw.get(name) or "").strip()
            if len(out[name]) > limit:
                errors[name] = _("%(limit)s文字以内で入力してください。") % {"limit": limit}
    if "media_id" in out and not out["media_id"]:
        errors["media_id"] = _("媒体番号を入力してください。")
    for name, choices, label, default in (("kind", PortableMedia.Kind, _("種類"), PortableMedia.Kind.USB),
                                          ("status", PortableMedia.Status, _("状態"), PortableMedia.Status.AVAILABLE)):
        if name in raw or not partial:
            try:
                out[name] = choice(raw.get(name) or default, choices, label)
            except ValueError as error:
                errors[name] = str(error)
    if "encrypted" in raw or not partial:
        try:
            out["encrypted"] = parse_bool(raw.get("encrypted"))
        except ValueError as error:
            errors["encrypted"] = str(error)
    if errors:
        raise ValidationError(errors)
    return out


def _unique_media_id(institution_id: int, media_id: str, exclude: int | None = None) -> None:
    clash = PortableMedia.objects.filter(institution_id=institution_id, media_id=media_id).exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"media_id": _("媒体番号「%(id)s」は登録済みです。") % {"id": media_id}})


@transaction.atomic
def media_create(*, actor: Actor, institution: Organisation | None = None, **fields: Any) -> PortableMedia:
    institution = _institution(actor, institution)
    cleaned = _clean_media(fields, partial=False)
    if cleaned["status"] == PortableMedia.Status.CHECKED_OUT:
        raise ValidationError({"status": _("貸出中にするには持出を記録してください。")})
    _unique_media_id(institution.pk, cleaned["media_id"])
    return PortableMedia.objects.create(institution=institution, **cleaned)


@transaction.atomic
def media_update(*, actor: Actor, media: PortableMedia, **fields: Any) -> PortableMedia:
    _check_own(actor, media.institution_id)
    cleaned = _clean_media(fields, partial=True)
    if "status" in cleaned and cleaned["status"] != media.status and PortableMedia.Status.CHECKED_OUT in (
            cleaned["status"], media.status):
        raise ValidationError({"status": _("貸出中の状態は持出・返却の記録で変わります。")})
    if "media_id" in cleaned:
        _unique_media_id(media.institution_id, cleaned["media_id"], exclude=media.pk)
    if _assign(media, cleaned):
        media.save()
    return media


@transaction.atomic
def media_check_out(*, actor: Actor, media: PortableMedia, borrower: str, purpose: str = "",
                    due_back: dt.date | str | None = None, at: dt.datetime | None = None) -> MediaLoan:
    """持出: the media leaves its storage with a named borrower (refused when lost, disposed or already out)."""
    _check_own(actor, media.institution_id)
    media = PortableMedia.objects.select_for_update().get(pk=media.pk)
    if media.status != PortableMedia.Status.AVAILABLE:
        raise ValidationError(_("「%(id)s」は%(status)sのため持ち出せません。")
                              % {"id": media.media_id, "status": media.get_status_display()})
    borrower = (borrower or "").strip()
    if not borrower:
        raise ValidationError({"borrower": _("持出者を入力してください。")})
    at = at or timezone.now()
    due = None
    if due_back not in (None, ""):
        try:
            due = normalise.parse_date(due_back)
        except ValueError as error:
            raise ValidationError({"due_back": str(error)}) from error
        if due < timezone.localtime(at).date():
            raise ValidationError({"due_back": _("返却予定日が持出日より前です。")})
    loan = MediaLoan.objects.create(media=media, borrower=borrower[:200], purpose=(purpose or "").strip()[:300],
                                    checked_out_at=at, due_back=due, recorded_by=actor.user)
    media.status = PortableMedia.Status.CHECKED_OUT
    media.save(update_fields=["status", "updated_at"])
    return loan


@transaction.atomic
def media_return(*, actor: Actor, media: PortableMedia, at: dt.datetime | None = None) -> MediaLoan:
    """返却: closes the open check-out record and puts the media back into storage."""
    _check_own(actor, media.institution_id)
    media = PortableMedia.objects.select_for_update().get(pk=media.pk)
    loan = media.loans.filter(returned_at__isnull=True).order_by("-checked_out_at").first()
    if loan is None or media.status != PortableMedia.Status.CHECKED_OUT:
        raise ValidationError(_("「%(id)s」は貸出中ではありません。") % {"id": media.media_id})
    at = at or timezone.now()
    if at < loan.checked_out_at:
        raise ValidationError(_("返却日時が持出日時より前です。"))
    loan.returned_at = at
    loan.save(update_fields=["returned_at", "updated_at"])
    media.status = PortableMedia.Status.AVAILABLE
    media.save(update_fields=["status", "updated_at"])
    return loan


# --- disposals --------------------------------------------------------------------------------------


def _store_certificate(uploaded_file: Any) -> tuple[str, str, int]:
    name = uploads.safe_name(getattr(uploaded_file, "name", "") or "")
    size = int(getattr(uploaded_file, "size", 0) or 0)
    if uploads.extension_of(name) not in CERTIFICATE_TYPES:
        raise ValidationError({"certificate": _("廃棄証明書は PDF・PNG・JPEG のファイルを選んでください。")})
    try:
        uploads.check(name, uploaded_file, size, settings.ANZEN_MAX_UPLOAD_BYTES)
    except uploads.RejectedFile as rejected:
        raise ValidationError({"certificate": str(rejected)}) from rejected
    uploaded_file.seek(0)
    stored = CERTIFICATE_STORE.put(uploaded_file, max_bytes=settings.ANZEN_MAX_UPLOAD_BYTES)
    return name, stored.sha256, stored.size


@transaction.atomic
def disposal_create(*, actor: Actor, description: str, disposed_on: dt.date | str, method: str, performed_by: str,
                    device: Device | None = None, media: PortableMedia | None = None, certificate: Any = None,
                    notes: str = "", institution: Organisation | None = None) -> Disposal:
    """A disposal record; the disposed device or media (if named) is marked 廃棄済み in the same step."""
    institution = _institution(actor, institution)
    errors: dict[str, str] = {}
    description, performed_by = (description or "").strip(), (performed_by or "").strip()
    if device is not None and device.institution_id != institution.pk:
        errors["device"] = _("この医療機関等の機器を選んでください。")
    if media is not None and media.institution_id != institution.pk:
        errors["media"] = _("この医療機関等の可搬媒体を選んでください。")
    if not description:
        description = str(device or media or "")
    if not description:
        errors["description"] = _("廃棄したものを入力してください。")
    if not performed_by:
        errors["performed_by"] = _("実施者を入力してください。")
    day = None
    try:
        day = normalise.parse_date(disposed_on)
        if day > timezone.localdate():
            errors["disposed_on"] = _("廃棄日に未来の日付は入力できません。")
    except ValueError as error:
        errors["disposed_on"] = str(error)
    try:
        method = choice(method, Disposal.Method, _("方法"))
    except ValueError as error:
        errors["method"] = str(error)
    if errors:
        raise ValidationError(errors)
    name, sha, size = _store_certificate(certificate) if certificate else ("", "", 0)
    disposal = Disposal.objects.create(
        institution=institution, device=device, media=media, description=description[:300], disposed_on=day,
        method=method, performed_by=performed_by[:200], certificate_name=name, certificate_sha256=sha,
        certificate_size=size, notes=(notes or "").strip(),
    )
    if device is not None and device.status != DeviceStatus.DISPOSED:
        device.status = DeviceStatus.DISPOSED
        device.save(update_fields=["status", "updated_at"])
    if media is not None and media.status != PortableMedia.Status.DISPOSED:
        media.status = PortableMedia.Status.DISPOSED
        media.save(update_fields=["status", "updated_at"])
    return disposal


@transaction.atomic
def disposal_attach_certificate(*, actor: Actor, disposal: Disposal, certificate: Any) -> Disposal:
    """Add or replace the certificate of an existing record (e.g. the contractor's certificate arrives later)."""
    _check_own(actor, disposal.institution_id)
    name, sha, size = _store_certificate(certificate)
    disposal.certificate_name, disposal.certificate_sha256, disposal.certificate_size = name, sha, size
    disposal.save(update_fields=["certificate_name", "certificate_sha256", "certificate_size", "updated_at"])
    return disposal
