"""Excel import: the official layout becomes an edition; bad workbooks give clear errors and write nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from anzen.library import excel_import, excel_workbook, selectors, services
from anzen.library.models import Edition, RequirementNode, Verified

from .excel_helpers import EXPECTED_IDS, HOSPITAL_ROWS, workbook_bytes, write_workbook

PROFILE = excel_import.ImportSettings.from_dict(
    excel_import.builtin_profiles()["mhlw-checklist-institution"]["settings"]
)


def counts() -> tuple[int, int, int]:
    return Edition.objects.count(), RequirementNode.objects.count(), AuditEntry.objects.count()


def run_import(
    path: Path, *, official: bool = False, settings: excel_import.ImportSettings = PROFILE, code: str = "R8"
) -> tuple[Edition, Any]:
    return services.import_excel_edition(
        path=path,
        import_settings=settings,
        framework_key="mhlw-cyber-checklist",
        framework_title="",
        edition_code=code,
        title="令和8年度版（Excel取込）",
        publisher="厚生労働省",
        fiscal_year=2026,
        official=official,
        file_label=path.name,
        sha256="0" * 64,
        declared_by="tester" if official else "",
    )


def test_parse_official_layout(tmp_path: Path) -> None:
    result = excel_import.parse(write_workbook(tmp_path / "r8.xlsx"), PROFILE)
    assert result.errors == []
    assert [n.node_id for n in result.items] == EXPECTED_IDS
    items = {n.node_id: n for n in result.items}
    assert items["H-0"].topic == "医療情報システムの有無" and items["H-0"].ref == ""
    assert items["H-1-1"].text == "医療情報システム安全管理責任者を設置している。"
    assert items["H-1-1"].ref == "1(1)" and items["H-1-1"].row == 9
    assert items["H-2-4-pc"].ref == "2(4)"  # full-width （4） read as (4)
    groups = [n for n in result.nodes if n.kind == "group"]
    assert [g.text for g in groups][:2] == [
        "医療情報システム全般について、以下を実施している。",
        "サーバについて、以下を実施している。",
    ]
    block = next(n for n in result.nodes if n.kind == "section" and n.text == "令和8年度中")
    assert block.meta["instructions"][0].startswith("*以下項目は令和8年度中")


def test_sheet_preview_and_names(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "r8.xlsx")
    assert excel_import.sheet_names(path) == ["医療機関確認用", "別のシート"]
    name, letters, rows = excel_import.sheet_preview(path, None)
    assert name == "医療機関確認用" and letters[:2] == ["A", "B"]
    assert rows[0] == (1, ["医療機関におけるサイバーセキュリティ対策チェックリスト"] + [""] * 9)


@pytest.mark.django_db
def test_import_creates_an_unverified_edition_matching_library_ids(
    library: dict[str, Any], tmp_path: Path
) -> None:
    audit_before = AuditEntry.objects.count()
    edition, outcome = run_import(write_workbook(tmp_path / "r8.xlsx"))
    assert (outcome.status, edition.version, edition.origin) == ("loaded", 1, Edition.Origin.EXCEL_IMPORT)
    assert edition.key == "mhlw-cyber-checklist@R8" and edition.fiscal_year == 2026
    assert edition.verified == Verified.FALSE
    items = list(edition.nodes.filter(kind="item").order_by("position"))
    assert [n.node_id for n in items] == EXPECTED_IDS
    assert all(n.verified == Verified.FALSE and not n.is_official_text for n in items)
    assert all(n.required_from == 2026 and n.answer_schema.key == "yes-no" for n in items)
    assert edition.meta["import"]["file"] == "r8.xlsx"
    assert AuditEntry.objects.count() == audit_before + 1  # one IMPORT entry for the whole edition
    # ids match the library's, so the R7 → R8 diff pairs the items
    r7 = selectors.edition_by_ref(Actor.system(), "mhlw-cyber-checklist@R7")
    result = selectors.edition_diff(r7, edition)
    assert "H-2-4-server" not in {n.node_id for n in result.added}
    assert "H-2-4-server" in {c.node_id for c in result.changed}
    # importing the same file again changes nothing
    again, outcome = run_import(write_workbook(tmp_path / "r8.xlsx"))
    assert outcome.status == "unchanged" and again.pk == edition.pk


@pytest.mark.django_db
def test_official_declaration_marks_texts_verified(library: dict[str, Any], tmp_path: Path) -> None:
    edition, _ = run_import(write_workbook(tmp_path / "r8.xlsx"), official=True)
    assert edition.verified == Verified.TRUE
    assert edition.meta["import"]["declared_by"] == "tester"
    assert edition.nodes.get(node_id="H-1-1").is_official_text


def assert_nothing_written(before: tuple[int, int, int]) -> None:
    assert counts() == before


@pytest.mark.django_db
def test_formula_cells_are_refused(library: dict[str, Any], tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "formula.xlsx", formula_at="B11")
    before = counts()
    with pytest.raises(services.ExcelImportError) as raised:
        run_import(path)
    assert any("11行目 B列" in error and "数式" in error for error in raised.value.errors)
    assert_nothing_written(before)


@pytest.mark.django_db
def test_duplicate_refs_are_refused(library: dict[str, Any], tmp_path: Path) -> None:
    rows = [*HOSPITAL_ROWS[:9], [None, "(1) 重複した番号の項目。"], *HOSPITAL_ROWS[9:]]
    path = write_workbook(tmp_path / "dup.xlsx", rows=rows)
    before = counts()
    with pytest.raises(services.ExcelImportError) as raised:
        run_import(path)
    assert any("重複" in error and "9行目と10行目" in error for error in raised.value.errors)
    assert_nothing_written(before)


@pytest.mark.django_db
def test_missing_columns_are_refused(library: dict[str, Any], tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "r8.xlsx")
    before = counts()
    wrong = excel_import.ImportSettings.from_dict({**PROFILE.as_dict(), "text_col": "F", "ref_col": "F"})
    with pytest.raises(services.ExcelImportError) as raised:
        run_import(path, settings=wrong)
    assert any("F 列" in error for error in raised.value.errors)
    by_row = excel_import.ImportSettings.from_dict({**wrong.as_dict(), "header_text": "", "start_row": 1})
    with pytest.raises(services.ExcelImportError) as raised:
        run_import(path, settings=by_row)
    assert any("F 列（本文）にデータがありません" in error for error in raised.value.errors)
    assert_nothing_written(before)


@pytest.mark.django_db
def test_empty_sheet_is_refused(library: dict[str, Any], tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "empty.xlsx", rows=[])
    before = counts()
    with pytest.raises(services.ExcelImportError) as raised:
        run_import(path)
    assert raised.value.errors == ["シートにデータがありません"]
    assert_nothing_written(before)


@pytest.mark.django_db
def test_unknown_sheet_is_refused(library: dict[str, Any], tmp_path: Path) -> None:
    settings = excel_import.ImportSettings.from_dict({**PROFILE.as_dict(), "sheet": "薬局確認用"})
    with pytest.raises(services.ExcelImportError) as raised:
        run_import(write_workbook(tmp_path / "r8.xlsx"), settings=settings)
    assert "薬局確認用" in raised.value.errors[0]


def store(data: bytes, name: str = "upload.xlsx") -> services.StoredUpload:
    return services.store_upload(stream=io.BytesIO(data), name=name, size=len(data))


def stored_files() -> list[Path]:
    return sorted(services.UPLOADS.root.glob("*")) if services.UPLOADS.root.exists() else []


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"hello, this is not a workbook", "r8.xlsx", "xlsx 形式ではありません"),
        (workbook_bytes(), "r8.xls", ".xlsx"),
        (b"", "r8.xlsx", "空です"),
    ],
)
def test_bad_uploads_are_refused_and_not_stored(data: bytes, name: str, message: str) -> None:
    before = stored_files()
    with pytest.raises(services.ExcelImportError) as raised:
        store(data, name)
    assert any(message in error for error in raised.value.errors)
    assert stored_files() == before


def test_truncated_workbook_is_refused() -> None:
    data = workbook_bytes()
    before = stored_files()
    with pytest.raises(services.ExcelImportError) as raised:
        store(data[: len(data) // 2])
    assert "壊れている" in raised.value.errors[0] or "切れて" in raised.value.errors[0]
    assert stored_files() == before


def test_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("readme.txt", "not a workbook")
    with pytest.raises(services.ExcelImportError) as raised:
        store(buffer.getvalue())
    assert "ブックの構成要素" in raised.value.errors[0]


def test_huge_uncompressed_size_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(excel_workbook, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(services.ExcelImportError) as raised:
        store(workbook_bytes())
    assert "展開後のサイズ" in raised.value.errors[0]


def test_oversized_upload_is_refused() -> None:
    data = workbook_bytes()
    with (
        override_settings(ANZEN_MAX_UPLOAD_BYTES=len(data) - 1),
        pytest.raises(services.ExcelImportError) as raised,
    ):
        store(data)
    assert "大きすぎます" in raised.value.errors[0]


def test_good_upload_is_stored_by_hash() -> None:
    stored = store(workbook_bytes())
    assert stored.path == services.UPLOADS.root / f"{stored.sha256}.xlsx"
    assert services.stored_path(stored.sha256) == stored.path
    services.discard_upload(stored.sha256)
    with pytest.raises(services.ExcelImportError):
        services.stored_path(stored.sha256)
    with pytest.raises(services.ExcelImportError):
        services.stored_path("../../etc/passwd")


@pytest.mark.django_db
def test_setup_does_not_supersede_an_import_of_a_shipped_edition(
    library: dict[str, Any], tmp_path: Path
) -> None:
    from anzen.library.loader import load_builtin_library

    imported, _ = run_import(write_workbook(tmp_path / "r7.xlsx"), code="R7")
    assert imported.version == 2 and imported.is_current
    again = load_builtin_library()
    assert again["loaded"] == 0
    assert Edition.objects.get(key="mhlw-cyber-checklist@R7", is_current=True).pk == imported.pk
