"""The ledger import against the database: upload, plan, atomic commit, audit, profiles, scoping, and
every kind of bad input changing nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from anzen.assets import importing, services, services_import
from anzen.assets.models import Device, ImportProfile, InformationSystem, Software
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "import"
HEADER = ["筐体名", "申請者", "OS", "支払区分", "機器名", "MACアドレス", "IP アドレス", "登録情報コンセント番号",
          "初回登録"]


@pytest.fixture
def actor(world, make_member: Callable[..., Membership]) -> Actor:
    member = make_member("import-staff", world.hospital, Role.STAFF)
    return Actor(member.user, member)


def device_list() -> importing.Profile:
    return importing.builtin_profiles()["device-list"]


def upload(name: str, data: bytes) -> services_import.StoredUpload:
    return services_import.store_upload(stream=io.BytesIO(data), name=name, size=len(data))


def run_import(actor: Actor, name: str, data: bytes, *, profile: importing.Profile | None = None,
               encoding: str = "auto", skip_errors: bool = False) -> services_import.ImportOutcome:
    """The whole path the screens take: store, read, map, commit."""
    stored = upload(name, data)
    table = services_import.read_file(services_import.stored_path(stored.sha256), stored.format, encoding=encoding)
    mapping = importing.suggest_mapping(table.rows, profile or device_list())
    return services_import.import_commit(actor=actor, table=table, mapping=mapping, skip_errors=skip_errors,
                                         file_name=stored.name, sha256=stored.sha256)


def excel_csv(rows: list[list[str]]) -> bytes:
    """A CSV as Japanese Excel saves 「CSV (コンマ区切り)」: CP932, CRLF, no BOM."""
    buffer = io.StringIO(newline="")
    for row in rows:
        buffer.write(",".join(f'"{cell}"' if "," in cell else cell for cell in row) + "\r\n")
    return buffer.getvalue().encode("cp932")


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def imports() -> int:
    return AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count()


# --- the done-when case: a CP932 CSV from Excel --------------------------------------------------


def test_cp932_csv_exported_from_excel_imports_correctly(actor: Actor, world) -> None:
    data = excel_csv([
        ["院内端末一覧（情報部）"],
        [*HEADER, "種類", "設置場所"],
        ["fhej0002", "山下 芳範", "Windows 11", "病院負担", "MS surface", "00-D4-9E-3C-3F-D9", "172.30.101.4",
         "3F-201", "令和5年4月1日", "端末PC", "3階 医局"],
        ["fhej2004", "山下 芳範", "Windows 10", "病院負担", "IYYAMA NJ50PU", "A0:29:42:23:19:73", "172.30.103.4",
         "", "R5.10.2", "", ""],
        ["nw-core01", "情報部", "", "病院負担", "ALAXALA AX3660S", "0012.e2aa.0001", "172.30.0.1", "", "2022/3/31",
         "ネットワーク機器", "サーバ室"],
    ])
    assert b"\r\n" in data and "申請者".encode("cp932") in data
    outcome = run_import(actor, "機器一覧.csv", data)
    assert (outcome.created, outcome.updated, outcome.unchanged, outcome.skipped) == (3, 0, 0, [])
    devices = {d.hostname: d for d in Device.objects.filter(institution=world.hospital)}
    pc = devices["fhej0002"]
    assert (pc.owner, pc.os_name, pc.payment_class, pc.model_name) == ("山下 芳範", "Windows 11", "病院負担",
                                                                       "MS surface")
    assert (pc.mac, pc.ip, pc.outlet, pc.first_registered.isoformat()) == ("00:d4:9e:3c:3f:d9", "172.30.101.4",
                                                                           "3F-201", "2023-04-01")
    assert pc.kind == "pc" and pc.location == ""  # 種類/設置場所 are not in the device-list profile
    assert devices["fhej2004"].first_registered.isoformat() == "2023-10-02"
    assert devices["nw-core01"].mac == "00:12:e2:aa:00:01"
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, message__contains="機器一覧.csv").get()
    assert entry.after["created"] == 3 and entry.after["encoding"] == "cp932"
    assert entry.organisation_label == "" or entry.object_id == ""


def test_the_seed_device_list_then_a_second_import_changes_nothing(actor: Actor) -> None:
    data = (FIXTURES / "seed003-device-list.csv").read_bytes()
    first = run_import(actor, "seed.csv", data)
    assert first.created == 14
    assert Device.objects.filter(owner="山下 芳範", os_name="Windows 10").count() == 13
    second = run_import(actor, "seed.csv", data)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 14)
    assert Device.objects.count() == 14


def test_excel_workbook_imports_through_the_stored_upload(actor: Actor) -> None:
    import datetime as dt

    data = xlsx([["院内機器一覧"], HEADER, ["fhej0002", "山下 芳範", "Windows 11", "病院負担", "MS surface",
                                          "00:d4:9e:3c:3f:d9", "172.30.101.4", 1201, dt.date(2023, 4, 1)],
                 ["fhej2004", "山下 芳範", "Windows 10", "病院負担", "IYYAMA NJ50PU", "a0:29:42:23:19:73",
                  "172.30.103.4", None, 45383]])
    outcome = run_import(actor, "機器一覧.xlsx", data)
    assert outcome.created == 2
    first = Device.objects.get(hostname="fhej0002")
    assert (first.outlet, first.first_registered) == ("1201", dt.date(2023, 4, 1))
    assert Device.objects.get(hostname="fhej2004").first_registered == dt.date(2024, 4, 1)  # an Excel serial


# --- updates, audit, software and systems ---------------------------------------------------------


def test_update_by_mac_writes_the_changes_and_one_audit_entry_per_device(actor: Actor, world) -> None:
    device = services.device_create(actor=actor, hostname="fhej2004", mac="a0:29:42:23:19:73", ip="172.30.103.4",
                                     os_name="Windows 10", owner="山下 芳範")
    before = device.updated_at
    data = excel_csv([HEADER, ["fhej2004", "", "Windows 11", "", "", "a0-29-42-23-19-73", "172.30.104.9", "", ""]])
    outcome = run_import(actor, "update.csv", data)
    assert (outcome.created, outcome.updated) == (0, 1)
    device.refresh_from_db()
    assert (device.os_name, device.ip, device.owner) == ("Windows 11", "172.30.104.9", "山下 芳範")  # blank keeps
    assert device.updated_at > before
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_type="assets.device",
                                      object_id=str(device.pk)).latest("seq")
    assert entry.before == {"os_name": "Windows 10", "ip": "172.30.103.4"}
    assert entry.after == {"os_name": "Windows 11", "ip": "172.30.104.9"}
    assert "update.csv 2 行目" in entry.message


def test_software_and_systems_columns(actor: Actor, world) -> None:
    ehr = services.system_create(actor=actor, name="電子カルテ", category="ehr")
    existing = services.device_create(actor=actor, hostname="srv1", mac="00:00:5e:00:53:01")
    profile = importing.Profile.from_settings(key="x", name="x", settings={"columns": [
        {"header": "ホスト名", "field": "hostname"}, {"header": "システム", "field": "systems"},
        {"header": "ソフトウェア", "field": "software"}]})
    data = excel_csv([["ホスト名", "システム", "ソフトウェア"],
                      ["srv1", "電子カルテ", "cpe:2.3:a:apache:activemq:5.16.2:*:*:*:*:*:*:*"],
                      ["pc9", "電子カルテ", "Chrome 120.0"]])
    outcome = run_import(actor, "sw.csv", data, profile=profile)
    assert (outcome.created, outcome.updated) == (1, 1)
    assert list(existing.systems.all()) == [ehr]
    software = Software.objects.get(device=existing)
    assert (software.cpe_vendor, software.cpe_product, software.version, software.source) == (
        "apache", "activemq", "5.16.2", "import")
    new = Device.objects.get(hostname="pc9")
    assert list(new.systems.all()) == [ehr]
    assert new.software.get().name == "Chrome" and new.kind == "pc"


# --- refusals change nothing ---------------------------------------------------------------------


def test_rows_with_errors_refuse_everything_unless_skipped(actor: Actor) -> None:
    data = excel_csv([HEADER, ["pc1", "", "", "", "", "00:11:22:33:44:55", "", "", ""],
                      ["pc2", "", "", "", "", "00:11:22:33:44", "", "", ""],
                      ["pc3", "", "", "", "", "", "10.0.0.999", "", "2024/2/30"]])
    audit_before = AuditEntry.objects.count()
    with pytest.raises(services_import.ImportRejected) as refused:
        run_import(actor, "bad.csv", data)
    assert refused.value.errors[0] == "問題のある行があるため取り込みませんでした（何も変更していません）。"
    assert refused.value.errors[1].startswith("3 行目: F列「MACアドレス」: MACアドレスの形式が正しくありません")
    assert "4 行目: G列「IPアドレス」" in refused.value.errors[2] and "I列「初回登録日」" in refused.value.errors[2]
    assert Device.objects.count() == 0 and AuditEntry.objects.count() == audit_before
    outcome = run_import(actor, "bad.csv", data, skip_errors=True)
    assert outcome.created == 1 and outcome.skipped == [3, 4]
    assert list(Device.objects.values_list("hostname", flat=True)) == ["pc1"]


def test_commit_is_atomic(actor: Actor, monkeypatch) -> None:
    services.device_create(actor=actor, hostname="pc1", mac="00:11:22:33:44:01", os_name="Windows 10")
    data = excel_csv([HEADER, ["pc1", "", "Windows 11", "", "", "00:11:22:33:44:01", "", "", ""],
                      ["pc2", "", "Windows 11", "", "", "00:11:22:33:44:02", "", "", ""]])
    audit_before = AuditEntry.objects.count()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Device.objects, "bulk_update", fail)
    with pytest.raises(RuntimeError):
        run_import(actor, "atomic.csv", data)
    assert list(Device.objects.values_list("hostname", "os_name")) == [("pc1", "Windows 10")]
    assert AuditEntry.objects.count() == audit_before


def test_clash_with_the_ledger_changes_nothing(actor: Actor) -> None:
    services.device_create(actor=actor, hostname="pc1", mac="00:11:22:33:44:01")
    services.device_create(actor=actor, hostname="pc2", mac="00:11:22:33:44:02")
    data = excel_csv([HEADER, ["pc2", "", "Windows 11", "", "", "00:11:22:33:44:01", "", "", ""],
                      ["pc3", "", "", "", "", "00:11:22:33:44:03", "", "", ""]])
    with pytest.raises(services_import.ImportRejected) as refused:
        run_import(actor, "clash.csv", data)
    assert "2 行目: ホスト名（筐体名）「pc2」は別の機器（pc2）に登録済みです。" in refused.value.errors
    assert Device.objects.count() == 2


def build_bad(kind: str) -> tuple[str, bytes, str]:
    """(file name, content, expected message) of one kind of bad input."""
    row = ["pc1", "", "", "", "", "00:11:22:33:44:55", "", "", ""]
    good = xlsx([HEADER, row])
    if kind == "truncated xlsx":
        return "a.xlsx", good[: len(good) - 200], "途中で切れています"
    if kind == "not a zip named xlsx":
        return "a.xlsx", excel_csv([HEADER, row]), "Excel ブック（.xlsx）ではありません"
    if kind == "zip bomb":
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                target.writestr(item, source.read(item.filename))
            target.writestr("xl/sharedStrings.xml", b"<sst>" + b"A" * (12 * 1024 * 1024))
        return "bomb.xlsx", out.getvalue(), "圧縮爆弾"
    if kind == "formula":
        return "f.xlsx", xlsx([HEADER, ["pc1", '=HYPERLINK("http://x","y")']]), "数式を含むセル"
    if kind == "cp932 declared utf-8":
        return "a.csv", excel_csv([HEADER, row]), "UTF-8 として読めません"
    if kind == "mojibake":
        garbled = "山下".encode().decode("cp1252", errors="ignore")
        return "a.csv", ",".join(HEADER).encode() + b"\r\n" + f"pc1,{garbled}\r\n".encode(), "文字化け"
    if kind == "invalid mac ip date":
        return "a.csv", excel_csv([HEADER, ["pc1", "", "", "", "", "GG:11:22:33:44:55", "1.2.3", "", "R6.13.1"]]), (
            "MACアドレスの形式が正しくありません")
    if kind == "duplicates in file":
        return "a.csv", excel_csv([HEADER, row, ["pc2", *row[1:]]]), "ファイル内の重複"
    if kind == "csv injection":
        return "a.csv", excel_csv([HEADER, ["pc1", "=cmd|' /C calc'!A0", *row[2:]]]), "数式として実行される"
    if kind == "no identity":
        return "a.csv", excel_csv([HEADER, ["", "山下 芳範", "Windows 11", "", "", "", "", "", ""]]), (
            "ホスト名（筐体名）・MACアドレス・シリアル番号のいずれかが必要です")
    raise AssertionError(kind)


BAD = ["truncated xlsx", "not a zip named xlsx", "zip bomb", "formula", "cp932 declared utf-8", "mojibake",
       "invalid mac ip date", "duplicates in file", "csv injection", "no identity"]


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_gets_a_japanese_error_and_changes_nothing(actor: Actor, kind: str) -> None:
    name, data, message = build_bad(kind)
    encoding = "utf-8" if kind == "cp932 declared utf-8" else "auto"
    audit_before = AuditEntry.objects.count()
    with pytest.raises(services_import.ImportRejected) as refused:
        run_import(actor, name, data, encoding=encoding)
    text = "\n".join(refused.value.errors)
    assert message in text
    assert any("\u3040" <= ch <= "\u30ff" for ch in text)  # Japanese, for the user
    assert Device.objects.count() == 0 and AuditEntry.objects.count() == audit_before


def test_too_many_rows_and_huge_files_are_refused(actor: Actor, monkeypatch, settings) -> None:
    monkeypatch.setattr("anzen.assets.import_files.MAX_ROWS", 5)
    rows = [HEADER] + [[f"pc{n}", "", "", "", "", "", "", "", ""] for n in range(6)]
    with pytest.raises(services_import.ImportRejected, match="行が多すぎます"):
        run_import(actor, "many.csv", excel_csv(rows))
    settings.ANZEN_MAX_UPLOAD_BYTES = 1024
    kept = set(services_import.UPLOADS.root.glob("*"))
    with pytest.raises(services_import.ImportRejected, match="ファイルが大きすぎます"):
        upload("big.csv", b"hostname\r\n" + b"pc1\r\n" * 400)
    stream = io.BytesIO(b"hostname\r\n" + b"pc1\r\n" * 400)  # the browser claimed a small size
    with pytest.raises(services_import.ImportRejected, match="ファイルが大きすぎます"):
        services_import.store_upload(stream=stream, name="big.csv", size=100)
    assert set(services_import.UPLOADS.root.glob("*")) == kept  # nothing kept, not even a partial file
    assert Device.objects.count() == 0


def test_refused_uploads_are_not_kept(actor: Actor) -> None:
    root = services_import.UPLOADS.root
    kept = set(root.glob("*")) if root.exists() else set()
    name, data, _message = build_bad("zip bomb")
    with pytest.raises(services_import.ImportRejected):
        upload(name, data)
    assert (set(root.glob("*")) if root.exists() else set()) == kept
    stored = upload("ok.csv", excel_csv([HEADER]))
    assert services_import.UPLOADS.exists(stored.sha256) and stored.format == "csv"
    services_import.discard_upload(stored.sha256)
    with pytest.raises(services_import.ImportRejected, match="もう一度アップロード"):
        services_import.stored_path(stored.sha256)


# --- who may import where -------------------------------------------------------------------------


def test_other_institutions_devices_are_never_matched(actor: Actor, world, make_member) -> None:
    other = make_member("other-admin", world.other_hospital, Role.ADMIN, mfa=True)
    foreign = services.device_create(actor=Actor(other.user, other), hostname="pc1", mac="00:11:22:33:44:55")
    outcome = run_import(actor, "a.csv", excel_csv([HEADER, ["pc1", "", "", "", "", "00:11:22:33:44:55", "", "",
                                                             ""]]))
    assert outcome.created == 1
    foreign.refresh_from_db()
    assert foreign.institution == world.other_hospital
    assert Device.objects.filter(institution=world.hospital, mac="00:11:22:33:44:55").count() == 1


@pytest.mark.parametrize(("role", "home"), [(Role.MANAGER, "hospital"), (Role.AUDITOR, "hospital"),
                                            (Role.VENDOR, "vendor")])
def test_roles_without_manage_cannot_import(world, make_member, role: str, home: str) -> None:
    member = make_member(f"no-{role}", getattr(world, home), role)
    table = services_import.read_file(FIXTURES / "seed003-device-list.csv", "csv")
    mapping = importing.suggest_mapping(table.rows, device_list())
    with pytest.raises(PermissionDenied):
        services_import.import_commit(actor=Actor(member.user, member), table=table, mapping=mapping)
    with pytest.raises(PermissionDenied):
        services_import.plan(actor=Actor(member.user, member), table=table, mapping=mapping)
    assert Device.objects.count() == 0


# --- profiles ------------------------------------------------------------------------------------


def test_saved_profiles(actor: Actor, world, make_member) -> None:
    settings = {"columns": [{"header": "PC名", "field": "hostname"}, {"header": "物理アドレス", "field": "mac"},
                            {"header": "x", "field": "nonsense"}], "defaults": {"kind": "server"}}
    saved = services_import.profile_save(actor=actor, name="本院の一覧", settings=settings)
    assert saved.settings["columns"][2] == {"header": "x", "field": ""}
    again = services_import.profile_save(actor=actor, name="本院の一覧", settings={"columns": settings["columns"][:1]})
    assert again.pk == saved.pk and ImportProfile.objects.count() == 1
    found = services_import.profile_named(actor, world.hospital, "本院の一覧")
    assert found is not None and found.key == f"saved:{saved.pk}" and not found.builtin
    assert [p.key for p in services_import.profiles(actor, world.hospital)] == ["device-list", f"saved:{saved.pk}"]
    with pytest.raises(ValidationError, match="組み込み"):
        services_import.profile_save(actor=actor, name="device-list", settings=settings)
    with pytest.raises(ValidationError, match="保存する列の対応付けがありません"):
        services_import.profile_save(actor=actor, name="空", settings={"columns": [{"header": "a", "field": ""}]})
    other = make_member("other-staff", world.other_hospital, Role.STAFF)
    assert services_import.profile_named(Actor(other.user, other), world.other_hospital, "本院の一覧") is None
    with pytest.raises(PermissionDenied):
        services_import.profile_delete(actor=Actor(other.user, other), profile=saved)
    services_import.profile_delete(actor=actor, profile=saved)
    assert ImportProfile.objects.count() == 0


# --- bounded work ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [20, 400])
def test_the_plan_runs_a_fixed_number_of_queries(actor: Actor, world, size: int,
                                                 django_assert_max_num_queries) -> None:
    services.devices_bulk_create(actor=actor, source="manual", rows=[
        {"hostname": f"pc{n}", "mac": f"00:00:5e:00:{n // 256:02x}:{n % 256:02x}"} for n in range(size)])
    InformationSystem.objects.create(institution=world.hospital, name="PACS", category="pacs")
    rows = [["ホスト名", "MACアドレス", "OS"]] + [[f"pc{n}", f"00:00:5e:00:{n // 256:02x}:{n % 256:02x}", "Windows 11"]
                                                for n in range(size)] + [["new1", "", "Windows 11"]]
    table = services_import.read_file(_stored(rows), "csv")
    mapping = importing.suggest_mapping(table.rows)
    with django_assert_max_num_queries(6):
        plan = services_import.plan(actor=actor, table=table, mapping=mapping)
    assert plan.counts == {"create": 1, "update": size, "unchanged": 0, "error": 0}


def _stored(rows: list[list[str]]) -> Path:
    return services_import.stored_path(upload("p.csv", excel_csv(rows)).sha256)


def test_django_upload_objects_work_as_streams(actor: Actor) -> None:
    file = SimpleUploadedFile("list.csv", excel_csv([HEADER, ["pc1"]]), content_type="text/csv")
    stored = services_import.store_upload(stream=file, name=file.name, size=file.size)
    assert stored.name == "list.csv" and stored.size == file.size
