"""`anzen assets export --format xlsx|csv --out FILE [--remote] [--include-disposed] [--institution] [--json]`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from anzen.assets import services
from anzen.cli.main import main
from anzen.common.models import AuditEntry
from tests.assets.conftest import Ledger

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_xlsx_and_csv_with_json(capsys, ledger: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "台帳.xlsx"
    code, stdout, _err = run(capsys, "assets", "export", "--format", "xlsx", "--out", str(out),
                             "--institution", "t-hospital", "--json")
    data = json.loads(stdout)
    assert code == 0 and data["rows"] == 3 and data["kind"] == "ledger" and data["bytes"] == out.stat().st_size
    sheet = openpyxl.load_workbook(out).active
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert any("fhej2004" in row and "山下 芳範" in row for row in values)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.source == "cli" and entry.actor_label.startswith("assets-export:")

    remote = tmp_path / "remote.csv"
    code, stdout, _err = run(capsys, "assets", "export", "--format", "csv", "--out", str(remote), "--remote",
                             "--institution", "t-hospital")
    assert code == 0 and "行を" in stdout
    text = remote.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert any("ehr-db01" in row for row in rows) and not any("fhej2004" in row for row in rows)


def test_disposed_only_when_asked(capsys, ledger: Ledger, tmp_path: Path) -> None:
    services.device_update(actor=ledger.actor, device=ledger.router, status="disposed")
    out = tmp_path / "ledger.csv"
    assert run(capsys, "assets", "export", "--format", "csv", "--out", str(out), "--institution", "t-hospital")[0] == 0
    assert "core-sw1" not in out.read_text(encoding="utf-8-sig")
    code, stdout, _err = run(capsys, "assets", "export", "--format", "csv", "--out", str(out),
                             "--include-disposed", "--institution", "t-hospital", "--json")
    assert code == 0 and json.loads(stdout)["rows"] == 3 and "core-sw1" in out.read_text(encoding="utf-8-sig")


def test_bad_destinations_write_nothing(capsys, ledger: Ledger, tmp_path: Path) -> None:
    for target, message in ((tmp_path, "出力先がディレクトリです"),
                            (tmp_path / "missing" / "x.xlsx", "出力先のディレクトリがありません")):
        code, stdout, err = run(capsys, "assets", "export", "--out", str(target))
        assert code != 0 and message in err and stdout == ""
    assert list(tmp_path.iterdir()) == []
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()
    code, _out, err = run(capsys, "assets", "export", "--out", str(tmp_path / "x.xlsx"), "--institution", "nowhere")
    assert code != 0 and "nowhere" in err and list(tmp_path.iterdir()) == []
