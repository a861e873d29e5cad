"""Excel import of filled official forms: the round trip (export → import gives identical answers) for
each layout, forms filled outside Anzen (no 項目ID: matched by ref within section and group, or by text),
the seed's vendor form with 「はい (8 / 2)」 cells, clear errors per row that change nothing, atomic
writes through answer_set, and the upload → preview → confirm screens."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from anzen.accounts.roles import Role
from anzen.assessments import excel_io, exports
from anzen.assessments.models import Answer, Assessment, Status, SubjectKind
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from anzen.library.models import Edition
from anzen.reports import checklist_xlsx
from tests.assessments import files_support as fs
from tests.conftest import login_as

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


@pytest.fixture
def lib(db: None) -> fs.Forms:
    return fs.library()


def _cases(world: Any, lib: fs.Forms) -> dict[str, tuple[Assessment, dict[str, Any]]]:
    r5 = Edition.objects.get(key="mhlw-cyber-checklist@R5", is_current=True)
    return {
        "institution R7": (fs.make(world, kind=SubjectKind.INSTITUTION, edition=lib.cyber, form=lib.institution_form),
                           {}),
        "institution R5": (fs.make(world, kind=SubjectKind.INSTITUTION, edition=r5, form=r5.nodes.get(node_id="H"),
                                   fiscal_year=2023), {}),
        "vendor": (fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                           respondent=world.vendor), {}),
        "mds": (fs.make(world, kind=SubjectKind.SYSTEM, edition=lib.mds, form=lib.mds_form, respondent=world.vendor,
                        label="AobaPACS 3.2"), {"rounds": False}),
        "checksheet": (fs.make(world, kind=SubjectKind.CHECKSHEET, edition=lib.guideline, form=None,
                               evaluator=world.evaluator), {"rounds": False}),
    }


def _export(assessment: Assessment, path: Path) -> Path:
    path.write_bytes(exports.xlsx_bytes(exports.document_for(assessment)))
    return path


def _strip_anzen(path: Path) -> Path:
    """The workbook as if filled outside Anzen: no hidden sheet, no 項目ID column."""
    workbook = load_workbook(path)
    del workbook[checklist_xlsx.META_SHEET]
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == "項目ID":
                column = cell.column
    for row in sheet.iter_rows(min_col=column, max_col=column):
        for cell in row:
            if type(cell).__name__ != "MergedCell":
                cell.value = None
    workbook.save(path)
    return path


@pytest.mark.parametrize("case", ["institution R7", "institution R5", "vendor", "mds", "checksheet"])
@pytest.mark.parametrize("with_ids", [True, False])
def test_export_then_import_gives_identical_answers(world: Any, lib: fs.Forms, tmp_path: Path, case: str,
                                                    with_ids: bool) -> None:
    assessment, options = _cases(world, lib)[case]
    fs.answer_all(assessment, **options)
    before = fs.snapshot(assessment)
    assert len(before) > 5
    path = _export(assessment, tmp_path / "form.xlsx")
    if not with_ids:
        _strip_anzen(path)
    preview = excel_io.build_preview(assessment=assessment, path=path)
    assert preview.ok, preview.errors
    assert preview.changes == [] and preview.missing == 0  # the file says exactly what Anzen holds
    Answer.objects.filter(assessment=assessment).delete()
    result = excel_io.import_workbook(actor=SYSTEM, assessment=assessment, path=path, name="form.xlsx")
    assert len(result.changes) == len(before)
    assert fs.snapshot(assessment) == before


def test_refs_that_repeat_are_told_apart_by_their_group(world: Any, lib: fs.Forms, tmp_path: Path) -> None:
    assessment = fs.make(world, kind=SubjectKind.INSTITUTION, edition=lib.cyber, form=lib.institution_form)
    path = _strip_anzen(_export(assessment, tmp_path / "blank.xlsx"))
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows():
        text = row[1].value if len(row) > 1 else None
        if isinstance(text, str) and text.startswith("(4) 利用者の職種"):
            server = sheet.cell(row=row[0].row - 1, column=2).value == "サーバについて、以下を実施している。"
            row[2].value, row[3].value = ("はい", "R7.7.1") if server else ("いいえ", "令和7年7月2日")
            if not server:
                row[4].value = "2025/12/1"
    workbook.save(path)
    excel_io.import_workbook(actor=SYSTEM, assessment=assessment, path=path)
    answers = {a.node.node_id: a for a in Answer.objects.filter(assessment=assessment).select_related("node")}
    assert (answers["H-2-4-server"].round1_value, answers["H-2-4-server"].round1_date) == ("yes", dt.date(2025, 7, 1))
    assert (answers["H-2-4-pc"].round1_value, answers["H-2-4-pc"].round1_date) == ("no", dt.date(2025, 7, 2))
    assert answers["H-2-4-pc"].target_date == dt.date(2025, 12, 1)


def _seed_vendor_form(path: Path) -> Path:
    """A 事業者確認用 (令和5年度) filled in Excel as in seed 003: answer and (月 / 日) in one cell."""
    workbook = Workbook()
    sheet = workbook.active
    rows: list[list[Any]] = [
        ["医療機関におけるサイバーセキュリティ対策チェックリスト"],
        ["事業者確認用"],
        ["○ 令和5年度中"],
        ["*以下項目は令和5年度中にすべての項目で「はい」にマルが付くよう取り組んでください。"],
        [None, "チェック項目", "確認結果 (日付)", None, None, "備考"],
        [None, None, "1回目", "目標日", "2回目", None],
        ["1 体制構築", "(1) 事業者内に、医療情報システム等の提供に係る管理責任者を設置している。", "いいえ (9/20)",
         "(3/31)", "はい・いいえ (/)", "社内検討中"],
        ["2 医療情報システム の管理・運用", "医療情報システム全般について、以下を実施している。"],
        [None, "(2) リモートメンテナンス（保守）している機器の有無を確認した。", "はい (8 / 2)", "(/)",
         "はい・いいえ (/)"],
        [None, "(3) 医療機関に製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出した。",
         "○はい (8/2)", "(/)", "はい・いいえ (/)"],
        [None, "サーバについて、以下を実施している。"],
        [None, "(4) 利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。", "はい (8 / 2)", "(/)",
         "はい・いいえ (/)", "施設ご提供の機器を利用"],
        [None, "(5) 退職者や使用していないアカウント等、不要なアカウントを削除している。", "はい・いいえ (/)", "(/)",
         "はい・いいえ (/)"],
        [None, "ネットワーク機器について、以下を実施している。"],
        [None, "(8) 接続元制限を実施している。", "はい (8 / 2)", "(/)", "はい・いいえ (/)"],
        [],
        ["事業者名：", "みなとネットワーク保守"],
        ["● 各項目の考え方や確認方法等については、マニュアルをご覧ください。"],
    ]
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_a_vendor_form_filled_in_excel_as_the_seed_shows(world: Any, tmp_path: Path) -> None:
    fs.library()
    r5 = Edition.objects.get(key="mhlw-cyber-checklist@R5", is_current=True)
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=r5, form=r5.nodes.get(node_id="V"),
                         respondent=world.vendor, fiscal_year=2023)
    preview = excel_io.build_preview(assessment=assessment, path=_seed_vendor_form(tmp_path / "vendor.xlsx"))
    assert preview.ok, preview.errors
    assert preview.header_fields == {"事業者名": "みなとネットワーク保守"}
    assert len(preview.changes) == 5  # (5) is left as はい・いいえ: no change
    excel_io.import_workbook(actor=SYSTEM, assessment=assessment, path=tmp_path / "vendor.xlsx")
    answers = {a.node.node_id: a for a in Answer.objects.filter(assessment=assessment).select_related("node")}
    first = answers["V-1-1"]
    assert (first.round1_value, first.round1_date, first.target_date) == ("no", dt.date(2023, 9, 20),
                                                                          dt.date(2024, 3, 31))
    assert first.remarks == "社内検討中"
    assert (answers["V-2-3"].round1_value, answers["V-2-3"].round1_date) == ("yes", dt.date(2023, 8, 2))
    assert answers["V-2-4-server"].remarks == "施設ご提供の機器を利用"
    assert "V-2-5-server" not in answers


def _edit(path: Path, changes: dict[tuple[int, int], Any], extra_rows: list[list[Any]] = ()) -> Path:
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for (row, column), value in changes.items():
        sheet.cell(row=row, column=column).value = value
    for values in extra_rows:
        sheet.append(values)
    workbook.save(path)
    return path


def _row_of(path: Path, prefix: str) -> int:
    sheet = load_workbook(path).worksheets[0]
    return next(row[1].row for row in sheet.iter_rows() if isinstance(row[1].value, str)
                and row[1].value.startswith(prefix))


def test_bad_rows_get_clear_errors_and_change_nothing(world: Any, lib: fs.Forms, tmp_path: Path) -> None:
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                         respondent=world.vendor)
    fs.answer_all(assessment)
    before = fs.snapshot(assessment)
    path = _strip_anzen(_export(assessment, tmp_path / "bad.xlsx"))
    first, second, third = (_row_of(path, "(1) 事業者内に"), _row_of(path, "(2) リモート"), _row_of(path, "(5) 退職者"))
    _edit(path, {(first, 3): "たぶん", (second, 3): "はい・いいえ", (second, 4): "2025/7/1", (third, 4): "2025/13/40",
                 (third, 3): "はい"}, extra_rows=[[None, "(99) 様式にない項目を実施している。", "はい", "2025/7/1"]])
    preview = excel_io.build_preview(assessment=assessment, path=path)
    messages = dict(preview.errors)
    assert "1回目の値「たぶん」を読めません" in messages[first]
    assert "1回目に日付がありますが回答（はい・いいえ）がありません" in messages[second]
    assert "1回目の日付「2025/13/40」を読めません" in messages[third]
    unknown = max(messages)
    assert messages[unknown].startswith("様式にない行です: 「(99) 様式にない項目")
    with pytest.raises(excel_io.ImportRejected) as rejected:
        excel_io.import_workbook(actor=SYSTEM, assessment=assessment, path=path)
    assert any(line.startswith(f"{first}行目: ") for line in rejected.value.errors)
    assert fs.snapshot(assessment) == before


def test_a_rule_broken_halfway_writes_nothing(world: Any, lib: fs.Forms, tmp_path: Path) -> None:
    assessment = fs.make(world, kind=SubjectKind.INSTITUTION, edition=lib.cyber, form=lib.institution_form)
    path = _export(assessment, tmp_path / "rules.xlsx")
    early, late = _row_of(path, "(1) 医療情報システム安全管理"), _row_of(path, "(6) アクセスログ")
    _edit(path, {(early, 3): "はい", (early, 4): "2025/6/1",
                 # 2回目 before 1回目: refused by the form's rules in answer_set
                 (late, 3): "いいえ", (late, 4): "2025/6/10", (late, 5): "2025/9/1", (late, 6): "はい",
                 (late, 7): "2025/5/1"})
    preview = excel_io.preview_import(actor=SYSTEM, assessment=assessment, path=path)
    assert [row for row, _message in preview.errors] == [late]
    assert "2回目の確認日が1回目の確認日より前です" in preview.errors[0][1]
    assert not Answer.objects.filter(assessment=assessment).exists()  # the preview's trial was rolled back
    with pytest.raises(excel_io.ImportRejected):
        excel_io.import_workbook(actor=SYSTEM, assessment=assessment, path=path)
    assert not Answer.objects.filter(assessment=assessment).exists()  # the valid early row was not kept either


def test_formulas_another_form_or_another_edition_are_refused(world: Any, lib: fs.Forms, tmp_path: Path) -> None:
    vendor = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form, respondent=world.vendor)
    path = _export(vendor, tmp_path / "formula.xlsx")
    _edit(path, {(_row_of(path, "(2) リモート"), 3): "=IF(1,\"はい\",\"いいえ\")"})
    errors = excel_io.build_preview(assessment=vendor, path=path).error_lines()
    assert any("数式を含むセルがあります" in line for line in errors)
    mds = fs.make(world, kind=SubjectKind.SYSTEM, edition=lib.mds, form=lib.mds_form, respondent=world.vendor)
    errors = excel_io.build_preview(assessment=vendor, path=_export(mds, tmp_path / "mds.xlsx")).error_lines()
    assert any("別の版（jahis-mds-sds@4.1）から出力されたファイルです" in line for line in errors)
    other = _strip_anzen(_export(mds, tmp_path / "mds-plain.xlsx"))
    errors = excel_io.build_preview(assessment=vendor, path=other).error_lines()
    assert any("様式が違います" in line for line in errors)


def test_uploads_are_checked_before_anything_is_read(tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    with pytest.raises(excel_io.ImportRejected) as rejected:
        excel_io.store_upload(stream=io.BytesIO(b"<html>not excel</html>"), name="form.xlsx", size=22)
    assert "xlsx 形式ではありません" in " ".join(rejected.value.errors)
    with pytest.raises(excel_io.ImportRejected):
        excel_io.store_upload(stream=io.BytesIO(b"PK\x03\x04broken"), name="form.xlsx", size=10)
    with pytest.raises(excel_io.ImportRejected):
        excel_io.store_upload(stream=io.BytesIO(b"PK\x03\x04"), name="form.xlsm", size=4)
    assert not list((tmp_path / "assessment-imports").glob("*.xlsx"))
    with pytest.raises(excel_io.ImportRejected):
        excel_io.stored_path("../../etc/passwd")


def test_the_import_screens(client: Client, world: Any, lib: fs.Forms, make_member: Any, tmp_path: Path) -> None:
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                         respondent=world.vendor)
    fs.answer_all(assessment)
    data = exports.xlsx_bytes(exports.document_for(assessment))
    before = fs.snapshot(assessment)
    Answer.objects.filter(assessment=assessment, node__node_id="V-1-1").update(remarks="", round1_value="no")
    vendor = make_member("imp-vendor", world.vendor, Role.VENDOR)
    login_as(client, vendor)
    upload = reverse("assessments:import_upload", args=[assessment.pk])
    assert "記入済みの Excel" in client.get(upload).content.decode()
    response = client.post(upload, {"file": SimpleUploadedFile("回答.xlsx", data)})
    assert response.status_code == 302 and response["Location"] == reverse("assessments:import_preview",
                                                                           args=[assessment.pk])
    page = client.get(response["Location"]).content.decode()
    assert "変更点" in page and "いいえ" in page and "備考0: オプション契約で対応" in page
    imports = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count()
    response = client.post(reverse("assessments:import_preview", args=[assessment.pk]), {"action": "confirm"})
    assert response.status_code == 302 and response["Location"] == reverse("assessments:detail", args=[assessment.pk])
    assert fs.snapshot(assessment) == before
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count() == imports + 1
    # A file that is not a workbook is refused on the upload page itself.
    response = client.post(upload, {"file": SimpleUploadedFile("回答.xlsx", b"just text")})
    assert response.status_code == 200 and "xlsx 形式ではありません" in response.content.decode()


def test_only_the_respondent_imports_and_only_while_answering(client: Client, world: Any, lib: fs.Forms,
                                                              make_member: Any) -> None:
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                         respondent=world.vendor)
    data = exports.xlsx_bytes(exports.document_for(assessment))
    login_as(client, make_member("imp-staff", world.hospital, Role.STAFF))
    upload = reverse("assessments:import_upload", args=[assessment.pk])
    page = client.get(upload).content.decode()
    assert "取り込めるのは回答者（テスト事業者）の組織だけです" in page
    client.post(upload, {"file": SimpleUploadedFile("回答.xlsx", data)})
    assert client.get(reverse("assessments:import_preview", args=[assessment.pk])).status_code == 302
    Assessment.objects.filter(pk=assessment.pk).update(status=Status.SUBMITTED)
    login_as(client, make_member("imp-vendor2", world.vendor, Role.VENDOR))
    assert "提出後は取り込めません" in client.get(upload).content.decode()
    login_as(client, make_member("imp-other", world.other_vendor, Role.VENDOR))
    assert client.get(upload).status_code == 404
