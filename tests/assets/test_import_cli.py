"""`anzen assets import FILE --profile NAME [--institution CODE] [--dry-run] [--skip-errors] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anzen.assets import services_import
from anzen.assets.models import Device
from anzen.cli.main import main
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "import"
SEED = str(FIXTURES / "seed003-device-list.csv")


@pytest.fixture(autouse=True)
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_then_import_with_json(capsys, world) -> None:
    code, out, _err = run(capsys, "assets", "import", SEED, "--profile", "device-list", "--institution",
                          "t-hospital", "--dry-run", "--json")
    data = json.loads(out)
    assert code == 0 and data["dry_run"] and not data["written"]
    assert (data["created"], data["updated"], data["unchanged"], data["errors"]) == (14, 0, 0, [])
    assert data["encoding"] == "Shift_JIS (CP932)" and Device.objects.count() == 0
    code, out, _err = run(capsys, "assets", "import", SEED, "--profile", "device-list", "--institution",
                          "t-hospital", "--json")
    data = json.loads(out)
    assert code == 0 and data["written"] and data["created"] == 14
    assert set(Device.objects.values_list("institution__code", flat=True)) == {"t-hospital"}
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, message__contains="seed003").get()
    assert entry.source == "cli" and entry.actor_label.startswith("assets-import:")
    code, out, _err = run(capsys, "assets", "import", SEED, "--profile", "device-list", "--institution",
                          "t-hospital")
    assert code == 0 and "登録 0 件・更新 0 件・変更なし 14 件・問題 0 行" in out


def test_row_errors_exit_2_and_write_nothing_unless_skipped(capsys, world, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("筐体名,MACアドレス,IPアドレス\r\npc1,00:11:22:33:44:55,10.0.0.1\r\npc2,zz,10.0.0.2\r\n"
                     .encode("cp932"))
    code, out, _err = run(capsys, "assets", "import", str(path), "--profile", "device-list", "--institution",
                          "t-hospital")
    assert code == 2 and "問題のある行があるため取り込みませんでした" in out
    assert "3 行目: B列「MACアドレス」: MACアドレスの形式が正しくありません" in out
    assert Device.objects.count() == 0
    code, out, _err = run(capsys, "assets", "import", str(path), "--profile", "device-list", "--institution",
                          "t-hospital", "--dry-run", "--json")
    assert code == 2 and json.loads(out)["errors"][0]["row"] == 3
    code, out, _err = run(capsys, "assets", "import", str(path), "--profile", "device-list", "--institution",
                          "t-hospital", "--skip-errors", "--json")
    data = json.loads(out)
    assert code == 0 and data["created"] == 1 and data["skipped"] == [3]
    assert list(Device.objects.values_list("hostname", flat=True)) == ["pc1"]


def test_saved_profile_by_name_and_unknown_profile(capsys, world, make_member, tmp_path: Path) -> None:
    admin = make_member("cli-admin", world.hospital, "admin", mfa=True)
    services_import.profile_save(actor=Actor(admin.user, admin), name="本院", settings={
        "columns": [{"header": "PC名", "field": "hostname"}, {"header": "物理アドレス", "field": "mac"}]})
    path = tmp_path / "list.tsv"
    path.write_text("PC名\t物理アドレス\npc7\t00-11-22-33-44-77\n", encoding="utf-8")
    code, _out, _err = run(capsys, "assets", "import", str(path), "--profile", "本院", "--institution", "t-hospital")
    assert code == 0 and Device.objects.get().mac == "00:11:22:33:44:77"
    code, _out, err = run(capsys, "assets", "import", str(path), "--profile", "none", "--institution", "t-hospital")
    assert code == 1 and "取込設定「none」がありません（device-list, 本院）" in err


def test_unreadable_files_exit_1_with_the_reason(capsys, world, tmp_path: Path) -> None:
    broken = tmp_path / "list.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    code, _out, err = run(capsys, "assets", "import", str(broken), "--profile", "device-list",
                          "--institution", "t-hospital")
    assert code == 1 and "途中で切れています" in err
    code, _out, err = run(capsys, "assets", "import", str(tmp_path / "missing.csv"), "--profile", "device-list",
                          "--institution", "t-hospital")
    assert code == 1 and "ファイルがありません" in err
    wrong = tmp_path / "cp932.csv"
    wrong.write_bytes("筐体名\r\n端末\r\n".encode("cp932"))
    code, _out, err = run(capsys, "assets", "import", str(wrong), "--profile", "device-list", "--institution",
                          "t-hospital", "--encoding", "utf-8")
    assert code == 1 and "UTF-8 として読めません" in err
    assert Device.objects.count() == 0


def test_institution_is_required_when_there_are_several(capsys, world) -> None:
    code, _out, err = run(capsys, "assets", "import", SEED, "--profile", "device-list")
    assert code == 1 and "--institution" in err
