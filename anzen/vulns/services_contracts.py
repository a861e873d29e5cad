"""Vendor contracts (what a vendor must do about vulnerabilities on what it maintains) and the manual
watch list (products without a CPE), as services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation, OrganisationRelation
from anzen.accounts.roles import OrgKind, Perm
from anzen.assets.models import Device, DeviceKind, InformationSystem, Software
from anzen.common.permissions import Actor, require
from anzen.vulns import contracts, lifecycle
from anzen.vulns.models_watch import Finding, VendorContract, WatchItem

FIELDS = ("title", "reference", "valid_from", "valid_until", "is_active", "cover_vendor_systems", "device_kinds",
          "score_source", "include_possible", "rules", "notes")


def _institution(actor: Actor, institution: Organisation | None) -> Organisation:
    require(actor, Perm.VULN_MANAGE)
    if actor.is_system:
        if institution is None:
            raise ValidationError(_("医療機関等を指定してください。"))
        return institution
    own = actor.organisation
    if own is None or (institution is not None and institution.pk != own.pk):
        raise PermissionDenied(_("自組織の契約だけを登録・変更できます。"))
    return own


def _clean(institution: Organisation, values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {key: values[key] for key in FIELDS if key in values}
    if "title" in cleaned and not str(cleaned["title"] or "").strip():
        raise ValidationError({"title": _("契約名を入力してください。")})
    if "rules" in cleaned:
        try:
            cleaned["rules"] = [rule.as_dict() for rule in contracts.parse_rules(cleaned["rules"] or [])]
        except contracts.RuleError as error:
            raise ValidationError({"rules": str(error)}) from error
    if "score_source" in cleaned and cleaned["score_source"] not in contracts.SCORE_SOURCES:
        raise ValidationError({"score_source": _("採用するスコアを選んでください。")})
    if "device_kinds" in cleaned:
        kinds = list(dict.fromkeys(cleaned["device_kinds"] or []))
        if any(kind not in DeviceKind.values for kind in kinds):
            raise ValidationError({"device_kinds": _("機器の種類が正しくありません。")})
        cleaned["device_kinds"] = kinds
    start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        raise ValidationError({"valid_until": _("契約終了日は開始日以降にしてください。")})
    return cleaned


def _own(model: Any, institution: Organisation, ids: Iterable[int] | None, field: str, path: str) -> list[int] | None:
    if ids is None:
        return None
    wanted = sorted({int(pk) for pk in ids})
    found = set(model.objects.filter(pk__in=wanted, **{path: institution.pk}).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise ValidationError({field: _("自組織の台帳にないものが含まれています。")})
    return wanted


@transaction.atomic
def contract_create(*, actor: Actor, vendor: Organisation, title: str, institution: Organisation | None = None,
                    systems: Iterable[int] | None = None, devices: Iterable[int] | None = None,
                    **fields: Any) -> VendorContract:
    """A contract with a vendor the institution works with. Rules default to the seed's example clause."""
    own = _institution(actor, institution)
    if vendor.kind != OrgKind.VENDOR:
        raise ValidationError({"vendor": _("契約の相手は事業者を選んでください。")})
    if not OrganisationRelation.objects.filter(institution=own, partner=vendor, is_active=True).exists():
        raise ValidationError({"vendor": _("取引関係のある事業者を選んでください。")})
    defaults = contracts.defaults()
    values = {"score_source": defaults.score_source, "include_possible": defaults.include_possible,
              "rules": contracts.default_rules_data(), **fields, "title": title}
    cleaned = _clean(own, values)
    system_ids = _own(InformationSystem, own, systems, "systems", "institution_id")
    device_ids = _own(Device, own, devices, "devices", "institution_id")
    contract = VendorContract.objects.create(institution=own, vendor=vendor, **cleaned)
    if system_ids:
        contract.systems.set(system_ids)
    if device_ids:
        contract.devices.set(device_ids)
    _notify_open_findings(contract, actor)
    return contract


def _notify_open_findings(contract: VendorContract, actor: Actor) -> None:
    """A new or widened contract covers findings that are already open: the vendor hears of them now
    rather than at the next re-score (the rules skip what an existing notice already names)."""
    from anzen.vulns import notices

    open_ids = list(Finding.objects.filter(institution_id=contract.institution_id, device__isnull=False,
                                           status__in=sorted(lifecycle.OPEN)).values_list("pk", flat=True))
    if open_ids:
        notices.notify_findings(institution=contract.institution, finding_ids=open_ids, actor=actor)


@transaction.atomic
def contract_update(*, actor: Actor, contract: VendorContract, systems: Iterable[int] | None = None,
                    devices: Iterable[int] | None = None, **fields: Any) -> VendorContract:
    own = _institution(actor, None if actor.is_system else contract.institution)
    if contract.institution_id != own.pk:
        raise PermissionDenied(_("自組織の契約だけを登録・変更できます。"))
    cleaned = _clean(own, {**{key: getattr(contract, key) for key in FIELDS}, **fields})
    for key, value in cleaned.items():
        setattr(contract, key, value)
    contract.save()
    system_ids = _own(InformationSystem, own, systems, "systems", "institution_id")
    device_ids = _own(Device, own, devices, "devices", "institution_id")
    if system_ids is not None:
        contract.systems.set(system_ids)
    if device_ids is not None:
        contract.devices.set(device_ids)
    _notify_open_findings(contract, actor)
    return contract


@transaction.atomic
def watch_item_save(*, actor: Actor, software: Software, sources: str = "", last_checked: dt.date | None = None,
                    notes: str = "") -> WatchItem:
    """Record the manual check of a product without CPE (where to look, when it was last checked, notes)."""
    require(actor, Perm.VULN_MANAGE)
    institution_id = software.device.institution_id
    if actor.org_id != institution_id and not actor.is_system:
        raise PermissionDenied(_("自組織の台帳だけを変更できます。"))
    item = WatchItem.objects.filter(software=software).first()
    label = f"{software.name} {software.version}".strip()[:300]
    if item is None:
        return WatchItem.objects.create(institution_id=institution_id, software=software, product=label,
                                        sources=sources.strip()[:300], last_checked=last_checked,
                                        notes=notes.strip())
    item.product, item.sources = label, sources.strip()[:300]
    item.last_checked, item.notes = last_checked, notes.strip()
    item.save()
    return item
