"""The ledger import (CSV / Excel): keep the upload, read it, plan it against the ledger, write it.

Upload → mapping (a profile, or column by column) → preview → commit. The uploaded file is kept under
MEDIA_ROOT/asset-imports/<sha256> between the steps (never served, forgotten after a day). The preview
and the commit run the same plan (`importing.build_plan`) on a fresh snapshot of the ledger, so what is
written is what the preview of the same settings shows. The commit is one transaction: new devices go
through the ledger's `devices_bulk_create` (its own checks, one audit entry), changed devices are
written in batches with one audit entry each (before → after, as a single edit would record), and one
entry records the import itself (file, SHA-256, counts, skipped rows). Any problem — and, unless the
caller chose to skip rows with errors, any row with an error — and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation
from anzen.accounts.roles import Perm
from anzen.assets import fields as field_rules
from anzen.assets import import_files, importing, selectors, services
from anzen.assets.import_files import ImportFileError, Table
from anzen.assets.importing import Ledger, LedgerDevice, Mapping, Plan, Profile
from anzen.assets.models import Device, ImportProfile, InformationSystem, Software, SoftwareSource
from anzen.common import audit
from anzen.common.filestore import FileStore, TooLarge
from anzen.common.permissions import Actor, require, scope

STALE_SECONDS = 24 * 3600
BATCH = 500
IN_LIMIT = 2_000  # above this many matched devices the snapshot reads the whole ledger in one query
VALUE_FIELDS = tuple(sorted(field_rules.DEVICE_FIELDS - {"systems"}))
UPLOADS = FileStore("asset-imports", stale_seconds=STALE_SECONDS)


class ImportRejected(ValidationError):
    """The file, the settings or rows of the plan stop the import; nothing was written."""

    def __init__(self, errors: list[str], plan: Plan | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.plan = plan


@dataclass(frozen=True)
class StoredUpload:
    sha256: str
    name: str
    size: int
    format: str


@dataclass
class ImportOutcome:
    plan: Plan
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[int] = field(default_factory=list)  # file rows left out because of errors
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        errors = [{"row": row.row, "errors": row.errors} for row in self.plan.of(importing.ERROR)]
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": errors, "skipped": self.skipped, "dry_run": self.dry_run}


# --- the uploaded file ----------------------------------------------------------------------------


def store_upload(*, stream: BinaryIO, name: str, size: int) -> StoredUpload:
    """Check the upload (type, size, first bytes, then the whole file) and keep it for the next steps."""
    max_bytes = settings.ANZEN_MAX_UPLOAD_BYTES
    head = stream.read(8)
    try:
        fmt = import_files.check_received(name, size, head, max_bytes)
        stream.seek(0)
        stored = UPLOADS.put(stream, max_bytes=max_bytes, check=lambda path: import_files.check_stored(path, fmt))
    except TooLarge as error:
        raise ImportRejected([import_files.too_large_message(max_bytes)]) from error
    except ImportFileError as problem:
        raise ImportRejected([str(problem)]) from problem
    return StoredUpload(stored.sha256, Path(name or "").name[:200], stored.size, fmt)


def stored_path(sha256: str) -> Path:
    if not UPLOADS.exists(sha256):
        raise ImportRejected([_("取り込むファイルが見つかりません（もう一度アップロードしてください）。")])
    return UPLOADS.path(sha256)


def discard_upload(sha256: str) -> None:
    UPLOADS.discard(sha256)


def read_file(path: Path, fmt: str, *, encoding: str = "auto", sheet: str | None = None) -> Table:
    """The file's rows; `ImportRejected` with the reason when it cannot be read."""
    try:
        return import_files.read_table(path, fmt, encoding=encoding, sheet=sheet or None)
    except ImportFileError as problem:
        raise ImportRejected([str(problem)]) from problem


# --- profiles -------------------------------------------------------------------------------------


def saved_profiles(actor: Actor, institution: Organisation | None = None) -> list[ImportProfile]:
    rows = scope(actor, ImportProfile.objects.all(), Perm.ASSET_VIEW)
    if institution is not None:
        rows = rows.filter(institution=institution)
    return list(rows.order_by("name"))


def profiles(actor: Actor, institution: Organisation | None = None) -> list[Profile]:
    """The built-in profiles, then the institution's saved ones."""
    saved = [Profile.from_settings(key=f"saved:{row.pk}", name=row.name, settings=row.settings, pk=row.pk)
             for row in saved_profiles(actor, institution)]
    return [*importing.builtin_profiles().values(), *saved]


def profile_named(actor: Actor, institution: Organisation | None, name: str) -> Profile | None:
    """A profile by its key (`device-list`, `saved:12`) or a saved profile's name."""
    for profile in profiles(actor, institution):
        if name in (profile.key, profile.name):
            return profile
    return None


@transaction.atomic
def profile_save(*, actor: Actor, institution: Organisation | None = None, name: str,
                 settings: dict[str, Any]) -> ImportProfile:
    """Save (or replace) a column layout under a name of the institution's choice."""
    institution = services._institution(actor, institution)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(_("取込設定の名前を100文字以内で入力してください。"))
    if name in importing.builtin_profiles():
        message = _("「%(name)s」は組み込みの取込設定の名前です。別の名前にしてください。")
        raise ValidationError(message % {"name": name})
    cleaned = importing.validate_profile_settings(settings)
    profile = ImportProfile.objects.filter(institution=institution, name=name).first()
    if profile is None:
        return ImportProfile.objects.create(institution=institution, name=name, settings=cleaned)
    profile.settings = cleaned
    profile.save(update_fields=["settings", "updated_at"])
    return profile


@transaction.atomic
def profile_delete(*, actor: Actor, profile: ImportProfile) -> None:
    require(actor, Perm.ASSET_MANAGE)
    if not actor.is_system and actor.org_id != profile.institution_id:
        raise PermissionDenied(_("他の医療機関等の取込設定は削除できません。"))
    profile.delete()


# --- the plan -------------------------------------------------------------------------------------


def system_names(institution: Organisation) -> dict[str, int]:
    """The institution's information systems by folded name (how a file names them)."""
    names: dict[str, int] = {}
    for pk, name in InformationSystem.objects.filter(institution=institution).order_by("pk").values_list("pk", "name"):
        names.setdefault(importing.header_key(name), pk)
    return names


def _label(values: dict[str, Any], pk: int) -> str:
    return values.get("hostname") or values.get("model_name") or values.get("mac") or f"#{pk}"


def ledger_snapshot(institution: Organisation, results: list[importing.RowResult]) -> Ledger:
    """The identity index and the values of the devices the rows can touch (a fixed number of queries)."""
    index = selectors.device_index(institution.pk)
    ids = importing.matched_ids(results, index)
    ledger = Ledger(index=index)
    if not ids:
        return ledger
    devices = Device.objects.filter(institution=institution)
    links = Device.systems.through.objects.filter(device__institution=institution)
    software = Software.objects.filter(device__institution=institution)
    if len(ids) <= IN_LIMIT:
        devices, links, software = (devices.filter(pk__in=ids), links.filter(device_id__in=ids),
                                    software.filter(device_id__in=ids))
    systems: dict[int, set[int]] = {}
    for device_id, system_id in links.values_list("device_id", "informationsystem_id"):
        systems.setdefault(device_id, set()).add(system_id)
    installed: dict[int, set[str]] = {}
    for device_id, name, version, cpe23 in software.values_list("device_id", "name", "version", "cpe23"):
        installed.setdefault(device_id, set()).add(importing.software_key(name, version, cpe23))
    for values in devices.values("pk", *VALUE_FIELDS).iterator(chunk_size=5000):
        pk = values.pop("pk")
        if pk in ids:
            ledger.devices[pk] = LedgerDevice(pk, _label(values, pk), values, frozenset(systems.get(pk, ())),
                                              frozenset(installed.get(pk, ())))
    return ledger


def plan(*, actor: Actor, institution: Organisation | None = None, table: Table, mapping: Mapping) -> Plan:
    """What the import would do, row by row (nothing is written)."""
    institution = services._institution(actor, institution)
    problems = importing.mapping_problems(mapping)
    if problems:
        raise ImportRejected(problems)
    results = importing.parse_rows(table.rows, mapping, system_names(institution))
    if not results:
        raise ImportRejected([_("取り込む行がありません（見出し行より下にデータがありません）。")])
    return importing.build_plan(results, ledger_snapshot(institution, results))


def error_lines(result: Plan, limit: int = 50) -> list[str]:
    rows = result.of(importing.ERROR)
    lines = [_("%(row)s 行目: %(errors)s") % {"row": row.row, "errors": " / ".join(row.errors)} for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(_("ほかに %(count)s 行に問題があります。") % {"count": len(rows) - limit})
    return lines


# --- the commit -----------------------------------------------------------------------------------


def _create_row(row: importing.PlannedRow, mapping: Mapping) -> dict[str, Any]:
    values = {key: value for key, value in row.values.items() if key != "software"}
    for name, default in mapping.defaults.items():
        values.setdefault(name, default)
    values["software"] = [entry.as_dict() for entry in row.add_software]
    return values


def _apply_updates(actor: Actor, institution: Organisation, rows: list[importing.PlannedRow], file_name: str) -> None:
    if not rows:
        return
    ids = [row.device_id for row in rows]
    devices = {device.pk: device for device in
               Device.objects.select_for_update().filter(institution=institution, pk__in=ids).order_by("pk")}
    if len(devices) != len(set(ids)):
        raise ImportRejected([_("取込の間に台帳が変更されました。もう一度プレビューしてください。")])
    now = timezone.now()
    changed_fields: set[str] = set()
    to_save: list[Device] = []
    links: list[Any] = []
    software: list[Software] = []
    for row in rows:
        device = devices[row.device_id]  # type: ignore[index]
        if row.changes:
            for name, (_before, after) in row.changes.items():
                setattr(device, name, after)
            device.updated_at = now
            changed_fields.update(row.changes)
            to_save.append(device)
        links += [Device.systems.through(device_id=device.pk, informationsystem_id=pk) for pk in row.add_systems]
        for entry in row.add_software:
            software.append(Software(device=device, **services.clean_software(source=SoftwareSource.IMPORT,
                                                                              **entry.as_dict())))
        after: dict[str, Any] = {name: value for name, (_before, value) in row.changes.items()}
        if row.add_systems:
            after["systems_added"] = row.add_systems
        if row.add_software:
            after["software_added"] = [entry.as_dict() for entry in row.add_software]
        audit.record(audit.Action.UPDATE, obj=device,
                     before={name: before for name, (before, _after) in row.changes.items()}, after=after,
                     message=_("取込（%(file)s %(row)s 行目）") % {"file": file_name[:100], "row": row.row})
    if to_save:
        Device.objects.bulk_update(to_save, sorted(changed_fields | {"updated_at"}), batch_size=BATCH)
    Device.systems.through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
    Software.objects.bulk_create(software, batch_size=BATCH)


@transaction.atomic
def import_commit(*, actor: Actor, institution: Organisation | None = None, table: Table, mapping: Mapping,
                  skip_errors: bool = False, file_name: str = "", sha256: str = "") -> ImportOutcome:
    """Write the plan: all of it, or nothing. Rows with errors refuse the import unless `skip_errors`."""
    institution = services._institution(actor, institution)
    result = plan(actor=actor, institution=institution, table=table, mapping=mapping)
    if not result.ok and not skip_errors:
        raise ImportRejected([_("問題のある行があるため取り込みませんでした（何も変更していません）。"),
                              *error_lines(result)], plan=result)
    creates, updates = result.of(importing.CREATE), result.of(importing.UPDATE)
    outcome = ImportOutcome(plan=result, created=len(creates), updated=len(updates),
                            unchanged=len(result.of(importing.UNCHANGED)),
                            skipped=[row.row for row in result.of(importing.ERROR)])
    if creates:
        try:
            services.devices_bulk_create(actor=actor, institution=institution, source=SoftwareSource.IMPORT,
                                         rows=[_create_row(row, mapping) for row in creates])
        except services.RowErrors as error:
            lines = [_("%(row)s 行目: %(errors)s")
                     % {"row": creates[index].row, "errors": " / ".join(problems.values())}
                     for index, problems in sorted(error.rows.items())]
            head = _("取り込めない行があります（何も変更していません）。")
            raise ImportRejected([head, *lines], plan=result) from error
    _apply_updates(actor, institution, updates, file_name)
    counts = {"file": file_name[:100], "created": outcome.created, "updated": outcome.updated,
              "unchanged": outcome.unchanged, "skipped": len(outcome.skipped)}
    audit.record(audit.Action.IMPORT, obj=institution, object_type_label="assets.device", object_id="",
                 object_repr=_("機器台帳"),
                 after={"file": file_name, "sha256": sha256, "format": table.format, "encoding": table.encoding,
                        "sheet": table.sheet, "created": outcome.created, "updated": outcome.updated,
                        "unchanged": outcome.unchanged, "skipped_rows": outcome.skipped[:500],
                        "mapping": mapping.as_dict()},
                 message=_("機器台帳の取込 %(file)s: 登録 %(created)s 件・更新 %(updated)s 件"
                           "・変更なし %(unchanged)s 件・スキップ %(skipped)s 行") % counts)
    return outcome


def import_dry_run(*, actor: Actor, institution: Organisation | None = None, table: Table,
                   mapping: Mapping) -> ImportOutcome:
    """The counts the commit would give, without writing."""
    result = plan(actor=actor, institution=institution, table=table, mapping=mapping)
    return ImportOutcome(plan=result, created=len(result.of(importing.CREATE)),
                         updated=len(result.of(importing.UPDATE)), unchanged=len(result.of(importing.UNCHANGED)),
                         skipped=[row.row for row in result.of(importing.ERROR)], dry_run=True)
