"""Writes of the ledger: devices, information systems, software (CPE), and the bulk registration used by
the import and by the scan's "register this host".

Every function takes keyword-only arguments, runs in one transaction, needs `Perm.ASSET_MANAGE`, acts
only on the actor's own institution (the system actor names one), and raises `ValidationError` with
Japanese messages. Single writes are audited by the model signals; `devices_bulk_create` writes one
explicit audit entry with its counts. Portable media and disposals live in `services_media`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation, OrganisationRelation
from anzen.accounts.roles import OrgKind, Perm
from anzen.assets import fields as field_rules
from anzen.assets import normalise, selectors
from anzen.assets.models import Device, DeviceStatus, InformationSystem, Software, SoftwareSource
from anzen.common import audit
from anzen.common.permissions import Actor, require

BATCH = 500


class RowErrors(ValidationError):
    """Rows of a bulk registration that cannot be written; `rows` maps the 0-based row index to
    {field: message}. Nothing was written."""

    def __init__(self, rows: dict[int, dict[str, str]]) -> None:
        self.rows = rows
        messages = [
            _("%(row)s行目: %(message)s") % {"row": index + 1, "message": " / ".join(problems.values())}
            for index, problems in sorted(rows.items())
        ]
        super().__init__(messages)


def _assign(obj: Any, cleaned: dict[str, Any]) -> list[str]:
    """Set the cleaned values that differ on `obj` (not saved); the names of the fields that changed."""
    changed = [name for name, value in cleaned.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, cleaned[name])
    return changed


# --- who acts for which institution ----------------------------------------------------------------


def _institution(actor: Actor, institution: Organisation | None, refusal: str = "") -> Organisation:
    """The institution whose ledger the actor manages (its own; a system actor names one). `refusal`
    replaces the message when it is not an institution."""
    require(actor, Perm.ASSET_MANAGE)
    if not actor.is_system:
        institution = actor.organisation
    if institution is None or institution.kind != OrgKind.INSTITUTION:
        raise PermissionDenied(refusal or _("台帳を管理できるのは医療機関等だけです。"))
    return institution


def _check_own(actor: Actor, institution_id: int) -> None:
    require(actor, Perm.ASSET_MANAGE)
    if not actor.is_system and actor.org_id != institution_id:
        raise PermissionDenied(_("他の医療機関等の台帳は変更できません。"))


# --- devices -----------------------------------------------------------------------------------------


def _systems(institution_id: int, values: Iterable[Any]) -> list[int]:
    ids = {value.pk if isinstance(value, InformationSystem) else int(value) for value in values}
    found = set(InformationSystem.objects.filter(institution_id=institution_id, pk__in=ids)
                .values_list("pk", flat=True))
    if found != ids:
        raise ValidationError({"systems": _("選んだシステムがこの医療機関等の台帳にありません。")})
    return sorted(ids)


def _duplicates(cleaned: dict[str, Any], index: dict[str, dict[str, list[int]]],
                exclude: int | None = None) -> dict[str, str]:
    """Identity clashes with devices in use or in stock: same MAC, serial or host name."""
    problems: dict[str, str] = {}
    keys = {"mac": cleaned.get("mac") or "", "serial": (cleaned.get("serial") or "").lower(),
            "hostname": (cleaned.get("hostname") or "").lower()}
    labels = {"mac": _("MACアドレス"), "serial": _("シリアル番号"), "hostname": _("ホスト名")}
    for key, value in keys.items():
        if not value:
            continue
        others = [pk for pk in index[key].get(value, []) if pk != exclude]
        if others:
            problems[key] = _("%(label)s「%(value)s」は登録済みです（機器 #%(id)s）。") % {
                "label": labels[key], "value": value, "id": others[0]}
    return problems


def _ensure_unique(institution_id: int, cleaned: dict[str, Any], exclude: int | None = None) -> None:
    if cleaned.get("status") == DeviceStatus.DISPOSED:
        return
    problems = _duplicates(cleaned, selectors.device_index(institution_id), exclude)
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def device_create(*, actor: Actor, institution: Organisation | None = None, **fields: Any) -> Device:
    """A new device. Fields as on `Device` (mac/ip/dates as text are normalised; kind/status by code or
    Japanese label); `systems` is a list of InformationSystem or ids of the same institution."""
    institution = _institution(actor, institution)
    cleaned = field_rules.clean_device(fields)
    systems = cleaned.pop("systems", None)
    _ensure_unique(institution.pk, cleaned)
    system_ids = _systems(institution.pk, systems) if systems else []
    device = Device.objects.create(institution=institution, **cleaned)
    if system_ids:
        device.systems.set(system_ids)
    return device


@transaction.atomic
def device_update(*, actor: Actor, device: Device, **fields: Any) -> Device:
    """Change the given fields only (the others stay as they are)."""
    _check_own(actor, device.institution_id)
    cleaned = field_rules.clean_device(fields, partial=True)
    systems = cleaned.pop("systems", None)
    merged = {name: getattr(device, name) for name in field_rules.DEVICE_IDENTIFIERS}
    merged.update({name: value for name, value in cleaned.items() if name in field_rules.DEVICE_IDENTIFIERS})
    if not any(merged.values()):
        raise ValidationError({"hostname": field_rules.identifier_required()})
    _ensure_unique(device.institution_id, {**merged, "status": cleaned.get("status", device.status)},
                   exclude=device.pk)
    changed = _assign(device, cleaned)
    if changed:
        device.save(update_fields=[*changed, "updated_at"])
    if systems is not None:
        device.systems.set(_systems(device.institution_id, systems))
    return device


@transaction.atomic
def device_delete(*, actor: Actor, device: Device) -> None:
    """Remove a device registered by mistake (a device that left service is marked 廃棄済み instead)."""
    _check_own(actor, device.institution_id)
    device.delete()


@transaction.atomic
def devices_bulk_create(*, actor: Actor, rows: list[dict[str, Any]], source: str,
                        institution: Organisation | None = None) -> list[Device]:
    """Register many devices at once (import, scan registration, demo data): every row is cleaned and
    checked for clashes with the ledger and with the other rows first; any problem raises `RowErrors`
    and nothing is written. A row may carry `software`: a list of {name, version, cpe23, no_cpe}.
    One audit entry records the counts."""
    institution = _institution(actor, institution)
    if source not in SoftwareSource.values:
        raise ValidationError(_("取込元が正しくありません: %(value)s") % {"value": source})
    index = selectors.device_index(institution.pk)
    system_ids = set(InformationSystem.objects.filter(institution=institution).values_list("pk", flat=True))
    errors: dict[int, dict[str, str]] = {}
    prepared: list[tuple[dict[str, Any], list[int], list[dict[str, Any]]]] = []
    for number, row in enumerate(rows):
        raw = dict(row)
        software_rows = list(raw.pop("software", None) or [])
        try:
            cleaned = field_rules.clean_device(raw)
        except ValidationError as error:
            errors[number] = {name: " ".join(messages) for name, messages in error.message_dict.items()}
            continue
        systems = [value.pk if isinstance(value, InformationSystem) else int(value)
                   for value in cleaned.pop("systems", None) or []]
        problems: dict[str, str] = {}
        if set(systems) - system_ids:
            problems["systems"] = _("選んだシステムがこの医療機関等の台帳にありません。")
        if cleaned["status"] != DeviceStatus.DISPOSED:
            problems.update(_duplicates(cleaned, index))
        software: list[dict[str, Any]] = []
        for item in software_rows:
            try:
                software.append(clean_software(source=source, **item))
            except ValidationError as error:
                problems["software"] = " ".join(error.messages)
        if problems:
            errors[number] = problems
            continue
        if cleaned["status"] != DeviceStatus.DISPOSED:  # later rows clash with this one too
            for key, value in (("mac", cleaned["mac"]), ("serial", cleaned["serial"].lower()),
                               ("hostname", cleaned["hostname"].lower())):
                if value:
                    index[key].setdefault(value, []).append(-(number + 1))
        prepared.append((cleaned, systems, software))
    if errors:
        raise RowErrors(errors)
    devices = Device.objects.bulk_create(
        [Device(institution=institution, **cleaned) for cleaned, _systems_, _software in prepared], batch_size=BATCH)
    links = [Device.systems.through(device_id=device.pk, informationsystem_id=system_id)
             for device, (_cleaned, systems, _software) in zip(devices, prepared, strict=True) for system_id in systems]
    Device.systems.through.objects.bulk_create(links, batch_size=BATCH)
    software_objects = [Software(device=device, **item)
                        for device, (_cleaned, _systems_, items) in zip(devices, prepared, strict=True)
                        for item in items]
    Software.objects.bulk_create(software_objects, batch_size=BATCH)
    audit.record(audit.Action.IMPORT, obj=institution, object_type_label="assets.device", object_id="",
                 object_repr=_("機器台帳"),
                 after={"source": source, "devices": len(devices), "software": len(software_objects),
                        "system_links": len(links),
                        "first_id": devices[0].pk if devices else None, "last_id": devices[-1].pk if devices else None},
                 message=_("機器 %(count)s 件を一括登録しました（%(source)s）。")
                 % {"count": len(devices), "source": SoftwareSource(source).label})
    return devices


# --- software ---------------------------------------------------------------------------------------


def clean_software(*, name: str = "", version: str = "", cpe23: str = "", no_cpe: bool = False,
                   source: str = SoftwareSource.MANUAL) -> dict[str, Any]:
    """Validated software values: the CPE (2.3, or a 2.2 URI converted) split into its columns."""
    name, version, cpe23 = (name or "").strip(), (version or "").strip(), (cpe23 or "").strip()
    if source not in SoftwareSource.values:
        raise ValidationError({"source": _("情報源が正しくありません。")})
    if cpe23 and no_cpe:
        raise ValidationError({"no_cpe": _("CPE を入力した場合は「CPEなし」を選べません。")})
    values: dict[str, Any] = {"cpe23": "", "cpe_part": "", "cpe_vendor": "", "cpe_product": "", "cpe_version": "",
                              "no_cpe": bool(no_cpe), "source": source}
    if cpe23:
        try:
            formatted = normalise.to_cpe23(cpe23)
        except ValueError as error:
            raise ValidationError({"cpe23": str(error)}) from error
        cpe = normalise.parse_cpe23(formatted)
        if cpe.vendor in (normalise.ANY, normalise.NA) or cpe.product in (normalise.ANY, normalise.NA):
            raise ValidationError({"cpe23": _("CPE の vendor と product を指定してください。")})
        values.update(cpe23=formatted, cpe_part=cpe.part, cpe_vendor=cpe.vendor, cpe_product=cpe.product,
                      cpe_version=cpe.version)
        if not version and cpe.version not in (normalise.ANY, normalise.NA):
            version = cpe.value("version")
        if not name:
            name = cpe.value("product").replace("_", " ")
    if not name:
        raise ValidationError({"name": _("ソフトウェアの名称を入力してください。")})
    if len(name) > 200 or len(version) > 100 or len(values["cpe23"]) > 400:
        raise ValidationError({"name": _("名称・バージョン・CPE が長すぎます。")})
    values.update(name=name, version=version)
    return values


@transaction.atomic
def software_add(*, actor: Actor, device: Device, name: str = "", version: str = "", cpe23: str = "",
                 no_cpe: bool = False, source: str = SoftwareSource.MANUAL) -> Software:
    """Software on a device, by CPE 2.3 (a CPE 2.2 URI is converted) or marked `no_cpe` for the manual
    vulnerability path."""
    _check_own(actor, device.institution_id)
    values = clean_software(name=name, version=version, cpe23=cpe23, no_cpe=no_cpe, source=source)
    return Software.objects.create(device=device, **values)


@transaction.atomic
def software_update(*, actor: Actor, software: Software, name: str, version: str = "", cpe23: str = "",
                    no_cpe: bool = False) -> Software:
    _check_own(actor, software.device.institution_id)
    values = clean_software(name=name, version=version, cpe23=cpe23, no_cpe=no_cpe, source=software.source)
    for key, value in values.items():
        setattr(software, key, value)
    software.save()
    return software


@transaction.atomic
def software_remove(*, actor: Actor, software: Software) -> None:
    _check_own(actor, software.device.institution_id)
    software.delete()


# --- information systems ----------------------------------------------------------------------------


def _partner_vendor(institution: Organisation, vendor: Any, field: str) -> Organisation | None:
    if vendor in (None, ""):
        return None
    org = vendor if isinstance(vendor, Organisation) else Organisation.objects.filter(pk=int(vendor)).first()
    linked = org is not None and org.kind == OrgKind.VENDOR and OrganisationRelation.objects.filter(
        institution=institution, partner=org, is_active=True).exists()
    if not linked:
        raise ValidationError({field: _("取引関係にある事業者を選んでください。")})
    return org


def _disclosure(institution: Organisation, value: Any) -> Any:
    from anzen.assessments.models import Assessment, SubjectKind

    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Assessment) else int(value)
    found = Assessment.objects.filter(pk=pk, institution=institution, subject_kind=SubjectKind.SYSTEM).first()
    if found is None:
        raise ValidationError({"disclosure": _("この医療機関等の MDS/SDS を選んでください。")})
    return found


def _system_values(institution: Organisation, cleaned: dict[str, Any], current: InformationSystem | None) -> None:
    for name in ("vendor", "remote_vendor"):
        if name in cleaned:
            cleaned[name] = _partner_vendor(institution, cleaned[name], name)
    if "disclosure" in cleaned:
        cleaned["disclosure"] = _disclosure(institution, cleaned["disclosure"])
    remote = cleaned.get("remote_maintenance", current.remote_maintenance if current else False)
    if remote:
        line = cleaned.get("remote_line_type", current.remote_line_type if current else "")
        if not line:
            raise ValidationError({"remote_line_type": _("リモート保守の回線の種類を選んでください。")})
    else:  # no remote path: no line and no vendor using it
        cleaned["remote_line_type"] = ""
        cleaned["remote_vendor"] = None


@transaction.atomic
def system_create(*, actor: Actor, institution: Organisation | None = None, **fields: Any) -> InformationSystem:
    """A 医療情報システム. `vendor`/`remote_vendor` are partner vendors (Organisation or id); a vendor not
    in Anzen goes into `vendor_name`; `disclosure` is the system's MDS/SDS assessment."""
    institution = _institution(actor, institution)
    cleaned = field_rules.clean_system(fields)
    _system_values(institution, cleaned, None)
    return InformationSystem.objects.create(institution=institution, **cleaned)


@transaction.atomic
def system_update(*, actor: Actor, system: InformationSystem, **fields: Any) -> InformationSystem:
    _check_own(actor, system.institution_id)
    cleaned = field_rules.clean_system(fields, partial=True)
    _system_values(system.institution, cleaned, system)
    if _assign(system, cleaned):
        system.save()
    return system


@transaction.atomic
def system_delete(*, actor: Actor, system: InformationSystem) -> None:
    _check_own(actor, system.institution_id)
    system.delete()
