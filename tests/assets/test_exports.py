"""Ledger exports (xlsx/csv: seed 003's columns first, title row, formula guard) and attaching them to
checklist items 2(1)/2(2) as dated evidence."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anzen.assessments import services as assessment_services
from anzen.assessments.models import Assessment, Evidence, Status
from anzen.assets import exports, services, services_checklist
from anzen.common.models import AuditEntry
from anzen.common.wareki import fiscal_year_of
from tests.assessments.conftest import CHECKLIST, build_edition
from tests.assets.conftest import Ledger
from tests.conftest import World, login_as

SEED_003 = ["筐体名", "申請者", "OS", "支払区分", "機器名", "MACアドレス", "IPアドレス", "登録情報コンセント番号",
            "初回登録"]
DAY = dt.date(2025, 6, 2)


def test_xlsx_ledger_starts_with_the_device_list_columns(ledger: Ledger, world: World) -> None:
    services.device_update(actor=ledger.actor, device=ledger.pc, notes="=HYPERLINK(\"http://evil\")")
    export = exports.ledger_export(ledger.actor, world.hospital, "xlsx", day=DAY)
    assert export.filename == "機器台帳_t-hospital_20250602.xlsx" and export.rows == 3
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    title = sheet.cell(row=1, column=1).value
    assert "機器台帳" in title and "テスト病院" in title and "2025年6月2日" in title and "令和7年" in title
    header = [cell.value for cell in sheet[2]]
    assert header[:9] == SEED_003
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    pc = rows["fhej2004"]
    assert pc[:7] == ("fhej2004", "山下 芳範", "Windows 10", "病院負担", "IYYAMA NJ50PU", "a0:29:42:23:19:73",
                      "172.30.103.4")
    assert pc[7] in ("", None)  # no outlet number
    assert pc[8] == dt.datetime(2023, 4, 1)
    notes = header.index("備考")
    assert pc[notes] == "=HYPERLINK(\"http://evil\")"
    cell = next(c for c in sheet.iter_rows(min_row=3) if c[0].value == "fhej2004")[notes]
    assert cell.data_type == "s"  # text, never a formula
    assert rows["ehr-db01"][header.index("所属するシステム")] == "電子カルテ"


def test_csv_ledger_is_bom_utf8_with_title_and_formula_guard(ledger: Ledger, world: World) -> None:
    services.device_update(actor=ledger.actor, device=ledger.pc, owner="=cmd|' /C calc'!A0")
    export = exports.ledger_export(ledger.actor, world.hospital, "csv", day=DAY)
    text = export.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").split("\r\n")
    assert "機器台帳" in lines[0] and "テスト病院" in lines[0]
    assert lines[1].split(",")[:9] == SEED_003
    pc_line = next(line for line in lines if line.startswith("fhej2004"))
    assert "'=cmd" in pc_line and "2023/04/01" in pc_line


def test_disposed_devices_are_left_out_unless_asked(ledger: Ledger, world: World) -> None:
    services.device_update(actor=ledger.actor, device=ledger.router, status="disposed")
    assert exports.ledger_export(ledger.actor, world.hospital, "csv").rows == 2
    assert exports.ledger_export(ledger.actor, world.hospital, "csv", include_disposed=True).rows == 3


def test_remote_list_names_vendor_line_system_and_devices(ledger: Ledger, world: World) -> None:
    export = exports.remote_export(ledger.actor, world.hospital, "xlsx", day=DAY)
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1 and rows[0][:5] == ("テスト事業者", "IP-VPN", "電子カルテ", "電子カルテ", "ehr-db01")
    assert export.filename.startswith("リモート保守一覧_t-hospital_20250602")


def test_export_views_download_and_audit(client: Client, ledger: Ledger) -> None:
    login_as(client, ledger.staff)
    response = client.get(reverse("assets:ledger_export"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    assert AuditEntry.objects.filter(action="export", message__contains="機器台帳").exists()
    response = client.get(reverse("assets:remote_export"), {"format": "xlsx"})
    assert response.content[:2] == b"PK"


def test_export_download_headers(client: Client, ledger: Ledger) -> None:
    """Ledger exports go out as attachments, never sniffed, never cached (common/http.generated_download)."""
    login_as(client, ledger.staff)
    response = client.get(reverse("assets:ledger_export"), {"format": "xlsx"})
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"

def test_ledger_export_query_count_is_constant(ledger: Ledger, world: World, django_assert_max_num_queries) -> None:
    services.devices_bulk_create(actor=ledger.actor, source="import", rows=[
        {"hostname": f"x{index}", "systems": [ledger.ehr.pk]} for index in range(60)])
    with django_assert_max_num_queries(4):
        exports.ledger_export(ledger.actor, world.hospital, "csv")


# --- attaching to the checklist -------------------------------------------------------------------------


@pytest.fixture
def own_checklist(ledger: Ledger, world: World) -> Assessment:
    mini = build_edition("mini-checklist@R7", CHECKLIST, default_schema="yes-no")
    return assessment_services.assessment_create(
        actor=ledger.actor, edition=mini.edition, subject_kind="institution",
        fiscal_year=fiscal_year_of(timezone.localdate()), form=mini["H"])


def test_attach_ledger_and_remote_list_as_dated_evidence(ledger: Ledger, own_checklist: Assessment,
                                                         settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    assert list(services_checklist.checklist_candidates(ledger.actor)) == [own_checklist]
    attached = services_checklist.attach_ledger_to_checklist(actor=ledger.actor, assessment=own_checklist)
    today = timezone.localdate()
    ledger_evidence, remote_evidence = attached
    assert ledger_evidence.answer.node.node_id == "H-2-1" and remote_evidence.answer.node.node_id == "H-2-2"
    assert ledger_evidence.effective_date == today and remote_evidence.effective_date == today
    assert f"{today:%Y%m%d}" in ledger_evidence.original_name and ledger_evidence.original_name.endswith(".xlsx")
    assert today.strftime("%Y/%m/%d") in ledger_evidence.title
    assert ledger_evidence.size > 0 and len(ledger_evidence.sha256) == 64
    assert Evidence.objects.filter(answer__assessment=own_checklist).count() == 2


def test_attach_is_refused_when_not_answerable(ledger: Ledger, own_checklist: Assessment, world: World,
                                               make_member, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    Assessment.objects.filter(pk=own_checklist.pk).update(status=Status.SUBMITTED)
    own_checklist.refresh_from_db()
    with pytest.raises(ValidationError, match="提出済み"):
        services_checklist.attach_ledger_to_checklist(actor=ledger.actor, assessment=own_checklist)
    assert not Evidence.objects.exists()
    from anzen.accounts.roles import Role
    from tests.assets.conftest import actor_of

    manager = actor_of(make_member("mgr", world.hospital, Role.MANAGER))
    with pytest.raises(PermissionDenied):
        services_checklist.attach_ledger_to_checklist(actor=manager, assessment=own_checklist)
    other = actor_of(make_member("oth", world.other_hospital, Role.ADMIN))
    with pytest.raises((ValidationError, PermissionDenied)):
        services_checklist.attach_ledger_to_checklist(actor=other, assessment=own_checklist)


def test_attach_view(client: Client, ledger: Ledger, own_checklist: Assessment, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    login_as(client, ledger.staff)
    page = client.get(reverse("assets:device_list")).content.decode()
    assert "チェックリストにエビデンスとして添付" in page
    response = client.post(reverse("assets:attach"), {"assessment": own_checklist.pk, "fmt": "csv"})
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:detail", args=[own_checklist.pk])
    names = sorted(Evidence.objects.values_list("original_name", flat=True))
    assert len(names) == 2 and all(name.endswith(".csv") for name in names)
    Assessment.objects.filter(pk=own_checklist.pk).update(status=Status.ACCEPTED)
    response = client.post(reverse("assets:attach"), {"assessment": own_checklist.pk, "fmt": "csv"}, follow=True)
    assert "添付できません" in response.content.decode()
    assert Evidence.objects.count() == 2
