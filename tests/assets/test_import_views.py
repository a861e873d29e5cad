"""The import screens: upload → columns → preview → confirm, profiles, permissions, bounded queries."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from anzen.assets import services_import, views_import
from anzen.assets.models import Device, ImportProfile
from anzen.common.permissions import Actor
from tests.conftest import login_as

pytestmark = pytest.mark.django_db
HEADER = "筐体名,申請者,OS,支払区分,機器名,MACアドレス,IP アドレス,登録情報コンセント番号,初回登録"


@pytest.fixture
def staff(world, make_member: Callable[..., Membership]) -> Membership:
    return make_member("import-view-staff", world.hospital, Role.STAFF)


@pytest.fixture
def staff_client(client: Client, staff: Membership) -> Client:
    return login_as(client, staff)


def csv_file(lines: list[str], name: str = "機器一覧.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\r\n".join(lines) + "\r\n").encode("cp932"), content_type="text/csv")


def rows(count: int, start: int = 0) -> list[str]:
    return [f"pc{n},山下 芳範,Windows 11,病院負担,MS surface,00:00:5e:00:{n // 256:02x}:{n % 256:02x},"
            f"172.30.{n // 250}.{n % 250 + 1},,R6.4.1" for n in range(start, start + count)]


def upload(client: Client, file: SimpleUploadedFile, profile: str = "device-list") -> str:
    response = client.post(reverse("assets:import_upload"), {"file": file, "encoding": "auto", "profile": profile})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def mapping_post(client: Client, **extra: str) -> object:
    page = client.get(reverse("assets:import_mapping"))
    form = page.context["form"]
    data = {name: form[name].value() if form[name].value() is not None else "" for name in form.fields}
    data.update(extra)
    return client.post(reverse("assets:import_mapping"), data)


def test_the_whole_flow_creates_the_devices(staff_client: Client, world) -> None:
    page = staff_client.get(reverse("assets:import_upload"))
    assert page.status_code == 200 and "機器一覧の取込" in page.content.decode()
    assert upload(staff_client, csv_file([HEADER, *rows(3)])) == reverse("assets:import_mapping")
    mapping = staff_client.get(reverse("assets:import_mapping"))
    text = mapping.content.decode()
    assert mapping.status_code == 200 and "Shift_JIS (CP932)" in text and "カンマ" in text
    assert "IP アドレス" in text and 'value="hostname" selected' in text
    response = mapping_post(staff_client)
    assert response.status_code == 302 and response["Location"] == reverse("assets:import_preview")
    preview = staff_client.get(reverse("assets:import_preview"))
    assert preview.status_code == 200
    assert preview.context["counts"] == {"create": 3, "update": 0, "unchanged": 0, "error": 0}
    assert "新しく登録される機器" in preview.content.decode() and Device.objects.count() == 0
    done = staff_client.post(reverse("assets:import_preview"), {"action": "confirm"}, follow=True)
    assert "登録 3 件・更新 0 件・変更なし 0 件・スキップ 0 行" in done.content.decode()
    assert Device.objects.filter(institution=world.hospital).count() == 3
    assert Device.objects.get(hostname="pc0").first_registered.isoformat() == "2024-04-01"
    assert views_import.SESSION_KEY not in staff_client.session


def test_errors_are_listed_and_refuse_unless_skipped(staff_client: Client) -> None:
    upload(staff_client, csv_file([HEADER, *rows(2), "pc9,,,,,00:11,,,,"]))
    mapping_post(staff_client)
    preview = staff_client.get(reverse("assets:import_preview"))
    text = preview.content.decode()
    assert preview.context["counts"]["error"] == 1
    assert "F列「MACアドレス」: MACアドレスの形式が正しくありません" in text and 'name="skip_errors"' in text
    refused = staff_client.post(reverse("assets:import_preview"), {"action": "confirm"}, follow=True)
    assert "問題のある行があるため取り込みませんでした" in refused.content.decode() and Device.objects.count() == 0
    staff_client.post(reverse("assets:import_preview"), {"action": "confirm", "skip_errors": "1"})
    assert Device.objects.count() == 2


def test_bad_upload_is_shown_on_the_form_and_not_kept(staff_client: Client) -> None:
    bad = SimpleUploadedFile("list.xlsx", b"PK\x03\x04broken", content_type="application/octet-stream")
    response = staff_client.post(reverse("assets:import_upload"), {"file": bad, "encoding": "auto", "profile": ""})
    assert response.status_code == 200
    assert "壊れているか途中で切れています" in response.content.decode()
    assert views_import.SESSION_KEY not in staff_client.session
    wrong = staff_client.post(reverse("assets:import_upload"), {
        "file": csv_file([HEADER, *rows(1)]), "encoding": "utf-8", "profile": "device-list"})
    assert "UTF-8 として読めません" in wrong.content.decode()


def test_mapping_by_hand_and_saving_it_as_a_profile(staff_client: Client, world) -> None:
    upload(staff_client, csv_file(["PC名,物理アドレス,場所", "pc1,00-11-22-33-44-55,3F"]), profile="")
    page = staff_client.get(reverse("assets:import_mapping"))
    assert page.context["form"]["col_0"].value() in (None, "")  # PC名 is not a known header
    missing = mapping_post(staff_client, col_0="", col_1="")
    assert "いずれかの列を対応付けてください" in missing.content.decode()
    response = mapping_post(staff_client, col_0="hostname", col_1="mac", col_2="location", header_row="1",
                            kind="server", profile_name="本院の一覧")
    assert response.status_code == 302
    saved = ImportProfile.objects.get(institution=world.hospital, name="本院の一覧")
    assert [(c["header"], c["field"]) for c in saved.settings["columns"]] == [
        ("PC名", "hostname"), ("物理アドレス", "mac"), ("場所", "location")]
    assert saved.settings["defaults"]["kind"] == "server"
    staff_client.post(reverse("assets:import_preview"), {"action": "confirm"})
    device = Device.objects.get()
    assert (device.hostname, device.mac, device.location, device.kind) == ("pc1", "00:11:22:33:44:55", "3F", "server")


def test_sheet_and_profile_can_be_switched(staff_client: Client) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "表紙"
    workbook.active.append(["院内機器一覧"])
    sheet = workbook.create_sheet("一覧")
    sheet.append(HEADER.split(","))
    sheet.append(rows(1)[0].split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(staff_client, SimpleUploadedFile("book.xlsx", buffer.getvalue()), profile="")
    assert staff_client.session[views_import.SESSION_KEY]["sheet"] == "表紙"
    staff_client.post(reverse("assets:import_mapping"), {"action": "sheet", "sheet": "一覧"})
    state = staff_client.session[views_import.SESSION_KEY]
    assert state["sheet"] == "一覧" and state["mapping"]["header_row"] == 1
    staff_client.post(reverse("assets:import_mapping"), {"action": "profile", "profile": "device-list"})
    state = staff_client.session[views_import.SESSION_KEY]
    assert state["profile"] == "device-list" and [1, "owner"] in state["mapping"]["columns"]


def test_cancel_discards_the_upload(staff_client: Client) -> None:
    upload(staff_client, csv_file([HEADER, *rows(1)]))
    sha = staff_client.session[views_import.SESSION_KEY]["sha256"]
    assert services_import.UPLOADS.exists(sha)
    staff_client.post(reverse("assets:import_cancel"))
    assert not services_import.UPLOADS.exists(sha) and views_import.SESSION_KEY not in staff_client.session
    assert staff_client.get(reverse("assets:import_preview"))["Location"] == reverse("assets:import_upload")


def test_another_organisations_session_state_is_not_used(client: Client, world, make_member) -> None:
    staff = make_member("two-orgs", world.hospital, Role.STAFF)
    login_as(client, staff)
    upload(client, csv_file([HEADER, *rows(1)]))
    login_as(client, make_member("two-orgs", world.other_hospital, Role.STAFF))  # the same user switches
    assert client.session[views_import.SESSION_KEY]["organisation"] == world.hospital.pk
    response = client.get(reverse("assets:import_preview"))
    assert response.status_code == 302 and response["Location"] == reverse("assets:import_upload")


@pytest.mark.parametrize(("role", "home", "manage", "view"), [
    (Role.ADMIN, "hospital", 200, 200), (Role.MANAGER, "hospital", 403, 200), (Role.AUDITOR, "hospital", 403, 200),
    (Role.VENDOR, "vendor", 403, 403), (Role.EVALUATOR, "evaluator", 403, 403)])
def test_who_may_import(client: Client, world, make_member, role: str, home: str, manage: int, view: int) -> None:
    member = make_member(f"imp-{role}", getattr(world, home), role, mfa=role in (Role.ADMIN, Role.EVALUATOR))
    login_as(client, member)
    assert client.get(reverse("assets:import_upload")).status_code == manage
    assert client.get(reverse("assets:import_profiles")).status_code == view


def test_profiles_page_and_delete(staff_client: Client, staff: Membership, world, make_member) -> None:
    saved = services_import.profile_save(actor=Actor(staff.user, staff), name="本院", settings={
        "columns": [{"header": "PC名", "field": "hostname"}]})
    page = staff_client.get(reverse("assets:import_profiles")).content.decode()
    assert "device-list" in page and "登録情報コンセント番号" in page and "本院" in page and "PC名" in page
    other = make_member("foreign-admin", world.other_hospital, Role.ADMIN, mfa=True)
    foreign = services_import.profile_save(actor=Actor(other.user, other), name="よそ", settings={
        "columns": [{"header": "x", "field": "mac"}]})
    assert staff_client.post(reverse("assets:import_profile_delete", kwargs={"pk": foreign.pk})).status_code == 404
    staff_client.post(reverse("assets:import_profile_delete", kwargs={"pk": saved.pk}))
    assert list(ImportProfile.objects.values_list("name", flat=True)) == ["よそ"]


@pytest.mark.parametrize("size", [10, 300])
def test_preview_page_runs_a_bounded_number_of_queries(staff_client: Client, staff: Membership, size: int,
                                                       django_assert_max_num_queries) -> None:
    from anzen.assets import services

    services.devices_bulk_create(actor=Actor(staff.user, staff), source="manual", rows=[
        {"hostname": f"pc{n}", "mac": f"00:00:5e:00:{n // 256:02x}:{n % 256:02x}", "os_name": "Windows 10"}
        for n in range(size // 2)])
    upload(staff_client, csv_file([HEADER, *rows(size)]))
    mapping_post(staff_client)
    with django_assert_max_num_queries(14):
        page = staff_client.get(reverse("assets:import_preview"))
    assert page.context["counts"] == {"create": size - size // 2, "update": size // 2, "unchanged": 0, "error": 0}
