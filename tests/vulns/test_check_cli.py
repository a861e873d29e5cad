"""`anzen vulns import PATH... --json` and `anzen vulns check CPE23_NAME --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anzen.cli.main import main
from anzen.common.models import AuditEntry
from anzen.vulns.models import Cve

from .feeds_support import fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(capsys) -> None:
    code, _out, _err = run(capsys, "vulns", "import", str(fixture("nvd11")), str(fixture("nvd20")),
                           str(fixture("cve5")), "--json")
    assert code == 0


def test_import_json_counts(capsys) -> None:
    code, out, err = run(capsys, "vulns", "import", str(fixture("nvd20")), "--json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert (data["new"], data["updated"], data["unchanged"], data["skipped"], data["errors"]) == (42, 0, 0, 0, 0)
    assert [row["name"] for row in data["files"]][-1] == "cves-api-full-page-38.json"
    assert AuditEntry.objects.filter(source="cli", action=AuditEntry.Action.IMPORT).count() == 5
    code, out, _err = run(capsys, "vulns", "import", str(fixture("nvd20")), "--json")
    assert code == 0 and json.loads(out)["unchanged"] == 42
    code, out, _err = run(capsys, "vulns", "import", str(fixture("nvd20/CVE-2023-46604.json")))
    assert "変更なし 1" in out and "合計" in out


def test_import_errors_exit_non_zero(capsys, tmp_path: Path) -> None:
    (tmp_path / "good.json").write_bytes(fixture("nvd20/CVE-2023-46604.json").read_bytes())
    (tmp_path / "bad.json.gz").write_bytes(fixture("nvd11/nvdcve-1.1-recent.json.gz").read_bytes()[:30000])
    code, out, err = run(capsys, "vulns", "import", str(tmp_path), "--json")
    data = json.loads(out)
    assert code == 1 and data["new"] == 1 and data["errors"] == 1
    assert [row["status"] for row in data["files"]] == ["failed", "ok"]
    assert "bad.json.gz を読み込めません" in err and "途中" in err
    assert list(Cve.objects.values_list("cve_id", flat=True)) == ["CVE-2023-46604"]


def test_import_missing_path(capsys) -> None:
    code, out, err = run(capsys, "vulns", "import", "/nonexistent/usb")
    assert code == 1 and out == "" and "見つかりません" in err


def test_check_fortios(capsys, store: None) -> None:
    code, out, _err = run(capsys, "vulns", "check", "cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*", "--json")
    data = json.loads(out)
    assert code == 0
    assert [(row["cve_id"], row["confidence"], row["score"], row["label"], row["kev"]) for row in data] == [
        ("CVE-2018-13379", "confirmed", 9.8, "緊急", True),
        ("CVE-2022-42475", "confirmed", 9.8, "緊急", True),
    ]
    assert data[1]["reason"] == "fortios 6.0.4 は 6.0.0 以上 6.0.16 未満の範囲に該当（NVD 構成 1）"
    assert data[1]["score_source"] == "nvd" and data[1]["score_version"] == "3.1"


def test_check_activemq(capsys, store: None) -> None:
    code, out, _err = run(capsys, "vulns", "check", "cpe:2.3:a:apache:activemq:5.16.2:*:*:*:*:*:*:*", "--json")
    [row] = json.loads(out)
    assert code == 0
    assert (row["cve_id"], row["confidence"], row["score"], row["label"], row["kev"]) == (
        "CVE-2023-46604", "confirmed", 9.8, "緊急", True)


def test_check_yamaha(capsys, store: None) -> None:
    code, out, _err = run(capsys, "vulns", "check", "cpe:2.3:o:yamaha:rtx810_firmware:rev.11.01.31:*:*:*:*:*:*:*",
                          "--json")
    [row] = json.loads(out)
    assert (row["cve_id"], row["confidence"], row["score"], row["label"]) == ("CVE-2018-0665", "confirmed", 6.8, "警告")
    assert row["requires_platform"] == ["cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*"]
    code, out, _err = run(capsys, "vulns", "check", "cpe:2.3:o:yamaha:rtx810_firmware:rev.11.01.34:*:*:*:*:*:*:*")
    assert code == 0 and "該当する CVE はありません" in out


def test_check_human_output(capsys, store: None) -> None:
    code, out, _err = run(capsys, "vulns", "check", "cpe:2.3:o:gehealthcare:venue_firmware:r3.3:*:*:*:*:*:*:*")
    assert code == 0 and "CVE-2024-1486" in out and "重要" in out and "要手動確認" in out


def test_check_bad_name(capsys, store: None) -> None:
    code, out, err = run(capsys, "vulns", "check", "fortios 6.0.4", "--json")
    assert code == 1 and out == "" and err.strip()
    assert any("\u3040" <= char <= "\u30ff" or "\u4e00" <= char <= "\u9fff" for char in err)
