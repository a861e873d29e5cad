"""Exports in the official layout of each form: Excel (rows, numbering, headings, columns, print set-up,
values only), PDF (embedded IPAex, Japanese item texts and every answer's date found by pdftotext) and
CSV (BOM, one row per item), scoped downloads recorded in the audit trail, bounded queries."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from anzen.accounts.roles import Role
from anzen.assessments import exports
from anzen.assessments.models import Assessment, SubjectKind
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from anzen.reports import checklist_xlsx
from tests.assessments import files_support as fs
from tests.conftest import login_as

pytestmark = pytest.mark.django_db


def _rows(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _texts(rows: list[list[Any]], column: int) -> list[str]:
    return [str(row[column]) for row in rows if len(row) > column and row[column] not in (None, "")]


@pytest.fixture
def lib(db: None) -> fs.Forms:
    return fs.library()


@pytest.fixture
def institution_form(world: Any, lib: fs.Forms) -> Assessment:
    assessment = fs.make(world, kind=SubjectKind.INSTITUTION, edition=lib.cyber, form=lib.institution_form)
    fs.answer_all(assessment, remarks=False)
    return assessment


def test_institution_form_in_the_official_layout(institution_form: Assessment) -> None:
    document = exports.document_for(institution_form)
    data = exports.xlsx_bytes(document)
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "医療機関におけるサイバーセキュリティ対策チェックリスト"
    assert rows[1][0] == "医療機関確認用"
    # The gating row on top, then the table with its two header rows (確認結果（日付）: 1回目 / 目標日 / 2回目).
    gating = next(row for row in rows if row[0] == "医療情報システムの有無")
    assert gating[1].startswith("医療情報システムを導入、運用している。") and gating[2] == "はい"
    header = next(index for index, row in enumerate(rows) if row[1] == "チェック項目" and row[2] == "確認結果（日付）"
                  and index > rows.index(gating))
    assert rows[header + 1][2:7] == ["1回目", None, "目標日", "2回目", None]
    # Section labels in the first column, group lines, (n) numbers as printed on the form.
    column_a = _texts(rows, 0)
    assert {"1 体制構築", "2 医療情報システムの管理・運用", "3 インシデント発生に備えた対応"} <= set(column_a)
    texts = _texts(rows, 1)
    assert "サーバについて、以下を実施している。" in texts and "端末PCについて、以下を実施している。" in texts
    assert any(text.startswith("(1) 医療情報システム安全管理責任者を設置している。") for text in texts)
    # 2(4) twice, once under サーバ and once under 端末PC, in that order.
    server = texts.index("サーバについて、以下を実施している。")
    pc = texts.index("端末PCについて、以下を実施している。")
    fours = [i for i, text in enumerate(texts) if text.startswith("(4) 利用者の職種")]
    assert len(fours) == 2 and server < fours[0] < pc < fours[1]
    # Answers: the chosen label, its date as a real date, 目標日 for いいえ, the placeholder when unanswered.
    no_row = next(row for row in rows if isinstance(row[1], str) and row[1].startswith("(1) 医療情報システム安全管理"))
    assert no_row[2] == "いいえ" and no_row[3].date() == fs.D1 and no_row[4].date() == fs.TARGET
    assert no_row[5] == "はい" and no_row[6].date() == fs.D2
    assert any(row[2] == "はい・いいえ" for row in rows[header:])  # an item left blank
    # Print set-up: A4, fitted to the width, header rows repeated; the Anzen columns are outside the print area.
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == f"${header + 1}:${header + 2}"
    assert re.search(r"\$A\$1:\$G\$\d+", str(sheet.print_area))
    assert sheet.column_dimensions["J"].hidden  # 項目ID
    fonts = {cell.font.name for row in sheet.iter_rows() for cell in row if cell.value not in (None, "")}
    assert fonts == {"ＭＳ Ｐゴシック"}
    assert workbook[checklist_xlsx.META_SHEET].sheet_state == "hidden"


def test_excel_holds_values_never_formulas(world: Any, lib: fs.Forms) -> None:
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                         respondent=world.vendor)
    fs.answer_all(assessment)  # its 備考 contain "=SUM(A1)"
    data = exports.xlsx_bytes(exports.document_for(assessment))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value not in (None, "")]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert any("=SUM(A1)" in str(cell.value) for cell in cells)


def test_vendor_form_adds_remarks_and_the_vendor_name(world: Any, lib: fs.Forms) -> None:
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                         respondent=world.vendor)
    fs.answer_all(assessment)
    rows = _rows(exports.xlsx_bytes(exports.document_for(assessment)))
    assert rows[1][0] == "事業者確認用"
    header = next(row for row in rows if row[1] == "チェック項目")
    assert header[7] == "備考"
    assert any(isinstance(row[7], str) and row[7].startswith("備考0: オプション契約で対応") for row in rows)
    assert next(row[:2] for row in rows if row[0] == "事業者名：") == ["事業者名：", "テスト事業者"]


def test_mds_form_with_its_header_fields_and_one_column_per_option(world: Any, lib: fs.Forms) -> None:
    assessment = fs.make(world, kind=SubjectKind.SYSTEM, edition=lib.mds, form=lib.mds_form,
                         respondent=world.vendor, label="AobaPACS 3.2")
    fs.answer_all(assessment, rounds=False)
    rows = _rows(exports.xlsx_bytes(exports.document_for(assessment)))
    assert rows[0][0] == "「製造業者/サービス事業者による医療情報セキュリティ開示書」チェックリスト"
    fields = [cell for row in rows[:6] for cell in row if isinstance(cell, str) and "：" in cell]
    assert {"製造業者：テスト事業者", "製品名称：AobaPACS", "バージョン：3.2"} <= set(fields)
    assert any(field.startswith("作成日：2025年") for field in fields)
    assert next(row[:5] for row in rows if row[0] == "項目") == ["項目", "はい", "いいえ", "対象外", "備考"]
    # Section headings with their guideline chapter, items with the refs the form prints after the text.
    assert "技術的安全対策(6.5)" in _texts(rows, 0)
    first = next(row for row in rows if isinstance(row[0], str) and row[0].startswith("1 扱う情報のリスト"))
    assert first[0].endswith("(6.2.C1)") and first[1] == "○はい" and first[2:4] == ["いいえ", "対象外"]
    # 12 is answered 該当/非該当: its row shows those two labels, the third column stays empty.
    twelve = next(row for row in rows if isinstance(row[0], str) and row[0].startswith("12 「外部と"))
    assert {twelve[1].lstrip("○"), twelve[2].lstrip("○")} == {"該当", "非該当"} and twelve[3] in (None, "")
    # Sections come before their items (the library file lists all sections first).
    texts = _texts(rows, 0)
    assert texts.index("物理的安全対策(6.4)") < next(i for i, t in enumerate(texts) if t.startswith("2 個人情報"))


def test_checksheet_uses_the_hispro_columns(world: Any, lib: fs.Forms) -> None:
    assessment = fs.make(world, kind=SubjectKind.CHECKSHEET, edition=lib.guideline, form=None,
                         evaluator=world.evaluator)
    fs.answer_all(assessment, rounds=False)
    rows = _rows(exports.xlsx_bytes(exports.document_for(assessment)))
    top = next(row for row in rows if row[0] == "チェック事項")
    assert [top[0], top[3], top[7]] == ["チェック事項", "確認者記入欄", "評価者記入欄"]
    sub = rows[rows.index(top) + 1]
    assert sub[:9] == ["項目分類", "確認内容", "エビデンス例", "回答", "確認日", "対応策", "エビデンス", "評価結果",
                       "コメント"]
    assert any(isinstance(row[1], str) and row[1].startswith("経営管理編 1.1 ①") for row in rows)


def test_pdf_embeds_the_japanese_font_and_prints_every_answer_with_its_date(institution_form: Assessment) -> None:
    document = exports.document_for(institution_form)
    data = exports.pdf_bytes(document)
    assert data.startswith(b"%PDF")
    fonts = fs.pdffonts(data)
    assert "IPAexGothic" in fonts
    font_rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_rows and all(" yes yes " in line for line in font_rows)  # every font embedded (as a subset)
    text = fs.squeeze(fs.pdftotext(data))
    for item in document.items:
        assert fs.squeeze(item.text) in text, item.node_id
        if item.round1_value:
            assert f"({fs.slash(item.round1_date)})" in text
    assert "医療機関におけるサイバーセキュリティ対策チェックリスト" in text
    assert "令和7年度（2025年度）" in text  # the header: fiscal year in 和暦 and 西暦
    assert "1/" in text  # page numbers n / N


def test_mds_pdf_marks_the_chosen_option(world: Any, lib: fs.Forms) -> None:
    assessment = fs.make(world, kind=SubjectKind.SYSTEM, edition=lib.mds, form=lib.mds_form,
                         respondent=world.vendor, label="AobaPACS 3.2")
    fs.answer_all(assessment, rounds=False)
    text = fs.squeeze(fs.pdftotext(exports.pdf_bytes(exports.document_for(assessment))))
    assert "扱う情報のリストを医療機関等に提示できるか?(6.2.C1)" in text
    assert "○はい" in text and "製品名称：AobaPACS" in text


def test_csv_has_one_row_per_item_with_labels_and_dates(institution_form: Assessment) -> None:
    data = exports.answers_csv([institution_form])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(exports.CSV_HEADER)
    items = fs.items_of(institution_form)
    assert len(rows) == 1 + len(items)
    by_id = {row[8]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    answer = by_id["H-1-1"]
    assert (answer["1回目"], answer["1回目の確認日"], answer["目標日"], answer["2回目"]) == (
        "いいえ", "2025/06/30", "2025/12/25", "はい")
    assert answer["医療機関等"] == "テスト病院" and answer["版"] == "mhlw-cyber-checklist@R7"


def test_download_views_are_scoped_and_recorded(client: Client, world: Any, lib: fs.Forms, make_member: Any) -> None:
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                         respondent=world.vendor)
    fs.answer_all(assessment)
    login_as(client, make_member("dl-vendor", world.vendor, Role.VENDOR))
    before = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    for fmt, content_type in (("xlsx", exports.XLSX_TYPE), ("pdf", exports.PDF_TYPE), ("csv", exports.CSV_TYPE)):
        response = client.get(reverse("assessments:export", args=[assessment.pk, fmt]))
        assert response.status_code == 200 and response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''2025_")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == before + 3
    assert client.get(reverse("assessments:export", args=[assessment.pk, "html"])).status_code == 404
    # Another vendor never sees it, not even as a 403.
    login_as(client, make_member("dl-other", world.other_vendor, Role.VENDOR))
    assert client.get(reverse("assessments:export", args=[assessment.pk, "xlsx"])).status_code == 404


def test_documents_for_many_assessments_run_a_fixed_number_of_queries(
        world: Any, lib: fs.Forms, django_assert_max_num_queries: Any) -> None:
    def build(count: int) -> list[Assessment]:
        made = []
        for index in range(count):
            assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                                 respondent=world.vendor, label=f"v{len(made)}-{index}")
            fs.answer_all(assessment)
            made.append(assessment)
        return made

    few, many = build(1), build(6)
    few.append(fs.make(world, kind=SubjectKind.SYSTEM, edition=lib.mds, form=lib.mds_form, respondent=world.vendor))
    many.append(fs.make(world, kind=SubjectKind.SYSTEM, edition=lib.mds, form=lib.mds_form, respondent=world.vendor))
    with django_assert_max_num_queries(7):  # assessments, nodes of each of the 2 editions, answers + 2 prefetches
        exports.documents_for(few)
    with django_assert_max_num_queries(7):
        documents = exports.documents_for(many)
    assert len(documents) == 7 and all(doc.items for doc in documents)


def test_export_requires_the_permission(world: Any, institution_form: Assessment) -> None:
    result = exports.export_assessment(actor=Actor.system(), assessment=institution_form, fmt="csv")
    assert result.filename == "2025_医療機関確認用_テスト病院.csv"
    with pytest.raises(ValueError):
        exports.export_assessment(actor=Actor.system(), assessment=institution_form, fmt="docx")


@pytest.mark.parametrize("kind", [SubjectKind.SYSTEM, SubjectKind.CHECKSHEET])
def test_section_headings_span_the_table_shaded_and_bold(world: Any, lib: fs.Forms, kind: str) -> None:
    if kind == SubjectKind.SYSTEM:
        assessment = fs.make(world, kind=kind, edition=lib.mds, form=lib.mds_form, respondent=world.vendor,
                             label="AobaPACS 3.2")
    else:
        assessment = fs.make(world, kind=kind, edition=lib.guideline, form=None, evaluator=world.evaluator)
    sheet = load_workbook(io.BytesIO(exports.xlsx_bytes(exports.document_for(assessment)))).worksheets[0]
    spans = {rng.min_row: rng for rng in sheet.merged_cells.ranges if rng.min_col == 1 and rng.min_row == rng.max_row}
    shaded = [row for row in range(1, sheet.max_row + 1)
              if sheet.cell(row, 1).fill.fgColor.rgb in ("00F3F5F8", "FFF3F5F8")]
    assert len(shaded) >= 2
    for row in shaded:
        assert row in spans and spans[row].max_col >= 5
        assert sheet.cell(row, 1).font.bold and sheet.cell(row, 1).value


def test_export_download_is_never_sniffed_or_cached(client: Client, world: Any, lib: fs.Forms,
                                                    make_member: Any) -> None:
    assessment = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                         respondent=world.vendor)
    login_as(client, make_member("dl-headers", world.vendor, Role.VENDOR))
    response = client.get(reverse("assessments:export", args=[assessment.pk, "csv"]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"] == "no-store"
