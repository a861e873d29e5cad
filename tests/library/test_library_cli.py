"""`anzen library …` commands: exit codes, messages on stderr, --json output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anzen.cli.main import main
from anzen.common.models import AuditEntry
from anzen.library.loader import BUILTIN_DIR
from anzen.library.models import Edition, RequirementNode

from .excel_helpers import EXPECTED_IDS, write_workbook
from .test_library_validation import VALID, line_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json(library: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "library", "list", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["mhlw-cyber-checklist@R5"]["items"] == 27
    assert rows["mhlw-cyber-checklist@R5"]["edition"] == "R5"
    assert rows["jahis-mds-sds@4.1"]["items"] == 37
    assert len(rows) == 8
    code, out, _ = run(capsys, "library", "list")
    assert code == 0 and "mhlw-cyber-checklist@R7" in out


def test_list_without_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "library", "list", "--json")
    assert (code, json.loads(out)) == (0, [])


def test_validate_builtin_files(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(BUILTIN_DIR / "answer-schemas.yaml"), *map(str, sorted(BUILTIN_DIR.glob("*/*.yaml")))]
    code, out, err = run(capsys, "library", "validate", *files)
    assert code == 0, err
    assert "問題はありません" in out


def test_validate_reports_file_line_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = VALID.replace("parent: S1\n    ref: 1(1)", "parent: NOPE\n    ref: 1(1)")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "library", "validate", str(path))
    assert code == 1
    assert err.startswith(f"{path}:{line_of(text, 'parent: NOPE')}: [I-1] ")
    code, out, _ = run(capsys, "library", "validate", "--json", str(path))
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["files"][0]["issues"][0]["id"] == "I-1"


def test_validate_mapping_file_against_the_shipped_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "library", "validate", str(BUILTIN_DIR / "mappings" / "cyber-r5--mds-sds-v4-1.yaml")
    )
    assert code == 0, err


def test_load_then_unchanged(
    library: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e1.yaml"
    path.write_text(VALID, encoding="utf-8")
    code, out, _ = run(capsys, "library", "load", "--json", str(path))
    assert code == 0
    result = json.loads(out)["results"][0]
    assert (result["key"], result["status"], result["version"], result["count"]) == (
        "test-fw@E1",
        "loaded",
        1,
        1,
    )
    entry = AuditEntry.objects.filter(action="import").latest("seq")
    assert entry.source == "cli" and entry.actor_label.startswith("library-load:")
    code, out, _ = run(capsys, "library", "load", "--json", str(path))
    assert json.loads(out)["results"][0]["status"] == "unchanged"


def test_load_bad_file_writes_nothing(
    library: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace("text: 項目の本文", "topic: ''"), encoding="utf-8")
    before = (Edition.objects.count(), RequirementNode.objects.count(), AuditEntry.objects.count())
    code, _, err = run(capsys, "library", "load", str(path))
    assert code == 1
    assert f"{path}:" in err and "[I-1]" in err
    assert (Edition.objects.count(), RequirementNode.objects.count(), AuditEntry.objects.count()) == before


def test_diff_json(library: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "library", "diff", "mhlw-cyber-checklist@R6", "mhlw-cyber-checklist@R7#1", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["before"] == "mhlw-cyber-checklist@R6#1"
    assert {n["node_id"] for n in data["removed"]} == {
        "H-2-7-server",
        "H-2-7-pc",
        "H-2-7-network",
        "V-2-7-network",
    }
    assert "H-R7-usb" in {n["node_id"] for n in data["added"]}
    h22 = next(c for c in data["changed"] if c["id"] == "H-2-2")
    assert (
        h22["changes"]["text"]["after"]
        == "リモートメンテナンス(保守)を利用している機器の有無を事業者に確認した。"
    )
    code, out, _ = run(capsys, "library", "diff", "mhlw-cyber-checklist@R5", "mhlw-cyber-checklist@R6")
    assert code == 0 and "H-3-3" in out


def test_diff_errors(library: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "library", "diff", "mhlw-cyber-checklist@R5", "mhlw-cyber-checklist@R9")
    assert code == 1 and "mhlw-cyber-checklist@R9" in err
    code, _, err = run(capsys, "library", "diff", "mhlw-cyber-checklist@R5", "jahis-mds-sds@4.1")
    assert code == 1 and "異なるフレームワーク" in err


def test_import_excel_dry_run_then_import(
    library: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workbook(tmp_path / "r8.xlsx")
    args = [
        "library",
        "import-excel",
        str(path),
        "--profile",
        "mhlw-checklist-institution",
        "--framework",
        "mhlw-cyber-checklist",
        "--edition",
        "R8",
        "--title",
        "令和8年度版",
        "--fiscal-year",
        "2026",
    ]
    before = Edition.objects.count()
    code, out, _ = run(capsys, *args, "--dry-run", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["dry_run"]
    assert [item["id"] for item in data["items"]] == EXPECTED_IDS
    assert Edition.objects.count() == before
    code, out, _ = run(capsys, *args, "--json")
    data = json.loads(out)
    assert (code, data["edition"], data["version"], data["verified"]) == (
        0,
        "mhlw-cyber-checklist@R8",
        1,
        "false",
    )
    assert Edition.objects.get(key="mhlw-cyber-checklist@R8").origin == "excel"


def test_import_excel_with_columns(
    library: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workbook(tmp_path / "r8.xlsx")
    code, out, err = run(
        capsys,
        "library",
        "import-excel",
        str(path),
        "--sheet",
        "医療機関確認用",
        "--text-col",
        "B",
        "--ref-col",
        "B",
        "--section-col",
        "A",
        "--id-prefix",
        "T",
        "--framework",
        "test-import",
        "--framework-title",
        "取込テスト",
        "--edition",
        "E1",
        "--title",
        "取込テスト版",
        "--dry-run",
        "--json",
    )
    assert code == 0, err
    ids = [item["id"] for item in json.loads(out)["items"]]
    assert ids[:3] == ["T-row5", "T-1-1", "T-2-1-g1"]
    assert "T-2-4-g2" in ids and "T-2-4-g3" in ids  # no profile: groups numbered instead of named


def test_import_excel_bad_file(
    library: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r8.xlsx"
    path.write_bytes(b"not a workbook at all")
    before = Edition.objects.count()
    code, _, err = run(
        capsys,
        "library",
        "import-excel",
        str(path),
        "--profile",
        "mhlw-checklist-institution",
        "--framework",
        "mhlw-cyber-checklist",
        "--edition",
        "R8",
        "--title",
        "x",
    )
    assert code == 1 and "xlsx" in err
    assert Edition.objects.count() == before
    code, _, err = run(
        capsys,
        "library",
        "import-excel",
        str(path),
        "--profile",
        "no-such-profile",
        "--framework",
        "f",
        "--edition",
        "E",
        "--title",
        "x",
    )
    assert code == 1
