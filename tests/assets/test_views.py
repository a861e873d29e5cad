"""Ledger screens: list (filter, sort, paging, bounded queries), device/system/media/disposal pages and
forms, exports, scoping between institutions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from anzen.assets import services, services_media
from anzen.assets.models import Device, Disposal, MediaLoan, PortableMedia, Software
from anzen.common.models import AuditEntry
from tests.assets.conftest import Ledger
from tests.conftest import World, login_as


@pytest.fixture
def staff_client(client: Client, ledger: Ledger) -> Client:
    return login_as(client, ledger.staff)


def test_device_list_filters_sorts_and_links(staff_client: Client, ledger: Ledger) -> None:
    url = reverse("assets:device_list")
    html = staff_client.get(url).content.decode()
    assert "ehr-db01" in html and "fhej2004" in html and "core-sw1" in html
    assert html.index("core-sw1") < html.index("ehr-db01") < html.index("fhej2004")
    html = staff_client.get(url, {"sort": "-hostname"}).content.decode()
    assert html.index("fhej2004") < html.index("ehr-db01") < html.index("core-sw1")
    html = staff_client.get(url, {"kind": "server"}).content.decode()
    assert "ehr-db01" in html and "fhej2004" not in html
    html = staff_client.get(url, {"q": "a0:29:42"}).content.decode()
    assert "fhej2004" in html and "ehr-db01" not in html
    html = staff_client.get(url, {"system": ledger.network.pk}).content.decode()
    assert "core-sw1" in html and "ehr-db01" not in html
    html = staff_client.get(url, {"remote": "yes"}).content.decode()
    assert "ehr-db01" in html and "core-sw1" not in html
    assert reverse("assets:system_detail", args=[ledger.ehr.pk]) in html


def test_device_list_pages_server_side(staff_client: Client, ledger: Ledger) -> None:
    services.devices_bulk_create(actor=ledger.actor, source="import",
                                 rows=[{"hostname": f"pc-{index:03d}"} for index in range(120)])
    first = staff_client.get(reverse("assets:device_list")).content.decode()
    assert "pc-000" in first and "pc-060" not in first and "1 / 3" in first
    third = staff_client.get(reverse("assets:device_list"), {"page": 3}).content.decode()
    assert "pc-117" in third and "pc-000" not in third


def test_device_list_queries_do_not_grow(staff_client: Client, ledger: Ledger,
                                         django_assert_max_num_queries: Callable[..., object]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def measure() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse("assets:device_list"), {"sort": "ip"}).status_code == 200
        return len(captured)

    before = measure()
    rows = [{"hostname": f"h{index}", "mac": f"02:00:00:00:{index // 256:02x}:{index % 256:02x}",
             "systems": [ledger.ehr.pk, ledger.network.pk], "software": [{"name": "x"}]} for index in range(80)]
    services.devices_bulk_create(actor=ledger.actor, rows=rows, source="import")
    assert measure() == before
    with django_assert_max_num_queries(15):  # type: ignore[operator]
        staff_client.get(reverse("assets:device_list"))


def test_device_create_edit_and_errors_beside_fields(staff_client: Client, ledger: Ledger) -> None:
    response = staff_client.post(reverse("assets:device_create"), {
        "kind": "pc", "status": "in_use", "hostname": "new-pc", "mac": "zz", "ip": "1.2.3"})
    html = response.content.decode()
    assert response.status_code == 200 and "MACアドレスの形式が正しくありません" in html and "IPアドレスの形式" in html
    assert not Device.objects.filter(hostname="new-pc").exists()
    response = staff_client.post(reverse("assets:device_create"), {
        "kind": "pc", "status": "in_use", "hostname": "new-pc", "mac": "AABB.CCDD.EEFF", "ip": "10.0.0.5",
        "systems": [ledger.ehr.pk], "first_registered": "2024-04-01"})
    device = Device.objects.get(hostname="new-pc")
    assert response.status_code == 302 and response["Location"] == reverse("assets:device_detail", args=[device.pk])
    assert device.mac == "aa:bb:cc:dd:ee:ff" and list(device.systems.all()) == [ledger.ehr]
    response = staff_client.post(reverse("assets:device_edit", args=[device.pk]), {
        "kind": "server", "status": "stock", "hostname": "new-pc", "mac": "aa:bb:cc:dd:ee:ff", "ip": "10.0.0.6"})
    device.refresh_from_db()
    assert response.status_code == 302 and device.kind == "server" and device.ip == "10.0.0.6"
    assert list(device.systems.all()) == []


def test_device_detail_software_by_cpe(staff_client: Client, ledger: Ledger) -> None:
    url = reverse("assets:software_add", args=[ledger.pc.pk])
    bad = staff_client.post(url, {"cpe23": "cpe:2.3:a:google chrome"}).content.decode()
    assert "CPE" in bad and not Software.objects.exists()
    response = staff_client.post(url, {"cpe23": "cpe:2.3:a:google:chrome:118.0.5993.70:*:*:*:*:*:*:*"})
    assert response.status_code == 302
    staff_client.post(url, {"name": "心電図ビューア", "no_cpe": "on"})
    html = staff_client.get(reverse("assets:device_detail", args=[ledger.pc.pk])).content.decode()
    assert "cpe:2.3:a:google:chrome:118.0.5993.70" in html and "心電図ビューア" in html
    assert "CPEなし（個別に確認）" in html
    assert reverse("common:object_history", args=["assets.device", ledger.pc.pk]) in html
    chrome = Software.objects.get(cpe_product="chrome")
    staff_client.post(reverse("assets:software_delete", args=[chrome.pk]))
    assert not Software.objects.filter(pk=chrome.pk).exists()


def test_device_delete_needs_confirmation(staff_client: Client, ledger: Ledger) -> None:
    url = reverse("assets:device_delete", args=[ledger.router.pk])
    staff_client.post(url)
    assert Device.objects.filter(pk=ledger.router.pk).exists()
    staff_client.post(url, {"confirm": "yes"})
    assert not Device.objects.filter(pk=ledger.router.pk).exists()


def test_system_pages_and_remote_paths(staff_client: Client, ledger: Ledger, world: World) -> None:
    html = staff_client.get(reverse("assets:system_detail", args=[ledger.ehr.pk])).content.decode()
    assert "テスト事業者" in html and "IP-VPN" in html and "ehr-db01" in html and "fhej2004" in html
    assert "サポート終了" in html  # 2024-03-31 is past
    html = staff_client.get(reverse("assets:system_list")).content.decode()
    assert "電子カルテ" in html and "院内ネットワーク" in html
    html = staff_client.get(reverse("assets:remote")).content.decode()
    assert "テスト事業者" in html and "IP-VPN" in html and "ehr-db01" in html
    assert "fhej2004" not in html  # not under remote maintenance
    response = staff_client.post(reverse("assets:system_create"), {
        "name": "PACS", "category": "pacs", "hosting": "onprem", "remote_maintenance": "on"})
    assert response.status_code == 200 and "回線の種類を選んでください" in response.content.decode()
    response = staff_client.post(reverse("assets:system_create"), {
        "name": "PACS", "category": "pacs", "hosting": "onprem", "remote_maintenance": "on",
        "remote_line_type": "ipsec", "remote_vendor": world.vendor.pk, "vendor_name": "あおば画像システム"})
    assert response.status_code == 302


def test_orphan_remote_devices_are_flagged(staff_client: Client, ledger: Ledger) -> None:
    services.device_create(actor=ledger.actor, hostname="mystery-modality", remote_maintenance=True)
    html = staff_client.get(reverse("assets:remote")).content.decode()
    assert "経路が分からないリモート保守の機器" in html and "mystery-modality" in html


def test_media_check_out_and_return(staff_client: Client, ledger: Ledger) -> None:
    response = staff_client.post(reverse("assets:media_create"), {
        "media_id": "USB-001", "kind": "usb", "owner": "情報システム課", "encrypted": "on", "location": "金庫",
        "status": "available"})
    media = PortableMedia.objects.get(media_id="USB-001")
    assert response.status_code == 302 and media.encrypted
    duplicate = staff_client.post(reverse("assets:media_create"), {"media_id": "USB-001", "kind": "usb",
                                                                   "status": "available"})
    assert "登録済み" in duplicate.content.decode()
    staff_client.post(reverse("assets:media_check_out", args=[media.pk]),
                      {"borrower": "山田", "purpose": "学会発表", "due_back": "2099-01-01"})
    media.refresh_from_db()
    assert media.status == "out" and MediaLoan.objects.get(media=media).borrower == "山田"
    again = staff_client.post(reverse("assets:media_check_out", args=[media.pk]), {"borrower": "鈴木"}, follow=True)
    assert "貸出中のため持ち出せません" in again.content.decode()
    staff_client.post(reverse("assets:media_return", args=[media.pk]))
    media.refresh_from_db()
    assert media.status == "available" and MediaLoan.objects.get(media=media).returned_at is not None
    html = staff_client.get(reverse("assets:media_detail", args=[media.pk])).content.decode()
    assert "学会発表" in html and "山田" in html


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_disposal_with_certificate(staff_client: Client, ledger: Ledger, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    certificate = SimpleUploadedFile("廃棄証明書.pdf", PDF, content_type="application/pdf")
    response = staff_client.post(reverse("assets:disposal_create"), {
        "device": ledger.router.pk, "disposed_on": "2025-01-10", "method": "contractor",
        "performed_by": "〇〇リサイクル", "certificate": certificate})
    assert response.status_code == 302
    disposal = Disposal.objects.get()
    ledger.router.refresh_from_db()
    assert ledger.router.status == "disposed" and disposal.description == "core-sw1"
    assert disposal.certificate_size == len(PDF) and len(disposal.certificate_sha256) == 64
    download = staff_client.get(reverse("assets:disposal_certificate", args=[disposal.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/octet-stream" and "attachment" in download["Content-Disposition"]
    assert AuditEntry.objects.filter(action="export", object_type="assets.disposal").exists()
    fake = SimpleUploadedFile("cert.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = staff_client.post(reverse("assets:disposal_create"), {
        "description": "HDD", "disposed_on": "2025-01-10", "method": "physical", "performed_by": "x",
        "certificate": fake})
    assert response.status_code == 200 and Disposal.objects.count() == 1
    assert "一致しません" in response.content.decode()


def test_other_institution_gets_404(client: Client, ledger: Ledger, world: World,
                                    make_member: Callable[..., Membership]) -> None:
    login_as(client, make_member("other-staff", world.other_hospital, Role.STAFF))
    for name, pk in (("assets:device_detail", ledger.pc.pk), ("assets:system_detail", ledger.ehr.pk),
                     ("assets:device_edit", ledger.pc.pk)):
        assert client.get(reverse(name, args=[pk])).status_code == 404
    assert "fhej2004" not in client.get(reverse("assets:device_list")).content.decode()
    assert client.post(reverse("assets:device_delete", args=[ledger.pc.pk]), {"confirm": "yes"}).status_code == 404
    assert Device.objects.filter(pk=ledger.pc.pk).exists()


def test_read_only_roles_see_but_cannot_change(client: Client, ledger: Ledger, world: World,
                                               make_member: Callable[..., Membership]) -> None:
    login_as(client, make_member("auditor", world.hospital, Role.AUDITOR))
    html = client.get(reverse("assets:device_detail", args=[ledger.pc.pk])).content.decode()
    assert "fhej2004" in html and reverse("assets:device_edit", args=[ledger.pc.pk]) not in html
    assert client.post(reverse("assets:device_create"), {"hostname": "x"}).status_code == 403
    assert client.get(reverse("assets:ledger_export"), {"format": "csv"}).status_code == 200


def test_dashboard_ledger_panel(staff_client: Client, ledger: Ledger) -> None:
    html = staff_client.get(reverse("common:dashboard")).content.decode()
    assert "機器台帳" in html and "サーバ" in html and "電子カルテ" in html  # EHR ended 2024-03-31
    assert reverse("assets:device_list") in html


def test_media_check_out_service_rules(ledger: Ledger) -> None:
    media = services_media.media_create(actor=ledger.actor, media_id="DVD-1", kind="disc")
    with pytest.raises(Exception, match="持出者"):
        services_media.media_check_out(actor=ledger.actor, media=media, borrower=" ")
    with pytest.raises(Exception, match="返却予定日"):
        services_media.media_check_out(actor=ledger.actor, media=media, borrower="a", due_back=dt.date(2000, 1, 1))
    with pytest.raises(Exception, match="貸出中ではありません"):
        services_media.media_return(actor=ledger.actor, media=media)
