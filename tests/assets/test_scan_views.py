"""Scan screens: upload, the reconciliation report (tabs, search, bounded queries, scoping), registration
from the report, exports, the CPE suggestions, and `anzen assets reconcile`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from anzen.accounts.roles import Role
from anzen.assets import services, services_scan
from anzen.assets.models import Device, Scan
from anzen.cli.main import main
from anzen.common.models import AuditEntry
from tests.assets.conftest import actor_of
from tests.conftest import login_as

FIXTURES = Path(__file__).parent / "fixtures" / "scan"


@pytest.fixture
def staff_client(client: Client, staff) -> Client:
    return login_as(client, staff)


@pytest.fixture
def lab_scan(world, staff) -> Scan:
    actor = actor_of(staff)
    services.device_create(actor=actor, kind="pc", hostname="intel-pc", mac="00:1f:3c:87:66:50", ip="192.168.1.50")
    services.device_create(actor=actor, kind="storage", hostname="nas-missing", ip="192.168.1.20", location="サーバ室")
    with (FIXTURES / "libnmap-full_sudo6.xml").open("rb") as handle:
        return services_scan.scan_import(actor=actor, stream=handle, name="full_sudo6.xml")


def big_scan_xml(hosts: int) -> bytes:
    parts = ['<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sV 10.20.0.0/16" start="1700000000">']
    for index in range(hosts):
        ip = f"10.20.{index // 250}.{index % 250 + 1}"
        parts.append(f'<host><status state="up"/><address addr="{ip}" addrtype="ipv4"/>'
                     f'<address addr="02:00:00:00:{index // 256:02x}:{index % 256:02x}" addrtype="mac"/>'
                     f'<hostnames><hostname name="h{index}.hosp.local" type="PTR"/></hostnames><ports>'
                     f'<port protocol="tcp" portid="22"><state state="open"/><service name="ssh" product="OpenSSH" '
                     f'version="7.4"><cpe>cpe:/a:openbsd:openssh:7.4</cpe></service></port>'
                     f'<port protocol="tcp" portid="445"><state state="open"/><service name="microsoft-ds"/></port>'
                     f'</ports><os><osmatch name="Linux 4.X" accuracy="95"><osclass osfamily="Linux" accuracy="95">'
                     f'<cpe>cpe:/o:linux:linux_kernel:4</cpe></osclass></osmatch></os></host>')
    parts.append('<runstats><finished time="1700000100"/><hosts up="1" down="0"/></runstats></nmaprun>')
    return "".join(parts).encode()


def test_list_and_upload(staff_client: Client, world) -> None:
    page = staff_client.get(reverse("assets:scan_list")).content.decode()
    assert "スキャン結果を取り込む" in page and 'name="file"' in page
    with (FIXTURES / "libnmap-fullscan.xml").open("rb") as handle:
        response = staff_client.post(reverse("assets:scan_upload"), {"file": handle, "ranges": ""})
    scan = Scan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("assets:scan_detail", args=[scan.pk])
    assert scan.institution == world.hospital and scan.summary["counts"]["hosts"] == 2
    listing = staff_client.get(reverse("assets:scan_list")).content.decode()
    assert "libnmap-fullscan.xml" in listing


def test_upload_of_a_bad_file_shows_the_reason_and_changes_nothing(staff_client: Client) -> None:
    bomb = io.BytesIO(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx"><!ENTITY y "&x;&x;">]><nmaprun>&y;'
                      b"</nmaprun>")
    bomb.name = "bomb.xml"
    response = staff_client.post(reverse("assets:scan_upload"), {"file": bomb})
    assert response.status_code == 400
    assert "実体宣言" in response.content.decode()
    truncated = io.BytesIO((FIXTURES / "libnmap-full_sudo6.xml").read_bytes()[:20000])
    truncated.name = "cut.xml"
    response = staff_client.post(reverse("assets:scan_upload"), {"file": truncated})
    assert "途中で終わっています" in response.content.decode()
    bad_range = io.BytesIO((FIXTURES / "libnmap-fullscan.xml").read_bytes())
    bad_range.name = "ok.xml"
    response = staff_client.post(reverse("assets:scan_upload"), {"file": bad_range, "ranges": "ward-3"})
    assert "ward-3" in response.content.decode()
    assert Scan.objects.count() == 0


def test_report_tabs(staff_client: Client, lab_scan: Scan) -> None:
    url = reverse("assets:scan_detail", args=[lab_scan.pk])
    all_hosts = staff_client.get(url).content.decode()
    assert "192.168.1.0/24" in all_hosts and "nmap の実行時の引数" in all_hosts
    unregistered = staff_client.get(url + "?show=unregistered").content.decode()
    assert "Sagemcom" in unregistered and "台帳に登録" in unregistered and "intel-pc" not in unregistered
    changed = staff_client.get(url + "?show=changed").content.decode()
    assert "intel-pc" in changed and "IPアドレスが変わっています" in changed and "192.168.1.50" in changed
    missing = staff_client.get(url + "?show=missing").content.decode()
    assert "nas-missing" in missing and "サーバ室" in missing
    ports = staff_client.get(url + "?show=services").content.decode()
    assert "62078/tcp" in ports and "Heimdal Kerberos" in ports
    port_hosts = staff_client.get(url + "?show=services&port=3389/tcp").content.decode()
    assert "192.168.1.3" in port_hosts and "192.168.1.5" not in port_hosts
    search = staff_client.get(url + "?show=all&q=apple").content.decode()
    assert "192.168.1.2" in search and "192.168.1.5" not in search


@pytest.mark.parametrize("show", ["all", "unregistered", "changed", "matched", "missing", "services"])
def test_report_queries_do_not_grow_with_the_scan(staff_client: Client, staff, show: str,
                                                  django_assert_max_num_queries) -> None:
    actor = actor_of(staff)
    services.devices_bulk_create(actor=actor, source="import", rows=[
        {"hostname": f"h{i}", "ip": f"10.20.{i // 250}.{i % 250 + 1}", "kind": "server"} for i in range(0, 400, 2)
    ] + [{"hostname": f"gone{i}", "ip": f"10.20.9.{i + 1}", "kind": "pc"} for i in range(60)])
    scan = services_scan.scan_import(actor=actor, stream=io.BytesIO(big_scan_xml(400)), name="big.xml")
    assert scan.summary["counts"]["matched"] == 200 and scan.summary["counts"]["missing"] == 60
    url = reverse("assets:scan_detail", args=[scan.pk]) + f"?show={show}"
    staff_client.get(url)
    with django_assert_max_num_queries(12):
        response = staff_client.get(url)
    assert response.status_code == 200


def test_foreign_scan_is_not_found_and_roles(client: Client, lab_scan: Scan, world, make_member) -> None:
    other = make_member("other-staff", world.other_hospital, Role.STAFF)
    login_as(client, other)
    assert client.get(reverse("assets:scan_detail", args=[lab_scan.pk])).status_code == 404
    assert client.get(reverse("assets:scan_export", args=[lab_scan.pk, "csv"])).status_code == 404
    host = lab_scan.hosts.filter(outcome="unregistered").first()
    assert client.post(reverse("assets:scan_register", args=[lab_scan.pk]), {"one": host.pk}).status_code == 404
    manager = make_member("mgr", world.hospital, Role.MANAGER)
    login_as(client, manager)
    page = client.get(reverse("assets:scan_detail", args=[lab_scan.pk]) + "?show=unregistered").content.decode()
    assert "台帳に登録" not in page
    assert client.post(reverse("assets:scan_register", args=[lab_scan.pk]), {"one": host.pk}).status_code == 403
    assert client.get(reverse("assets:scan_upload")).status_code == 403
    vendor = make_member("vendor-user", world.vendor, Role.VENDOR)
    login_as(client, vendor)
    assert client.get(reverse("assets:scan_list")).status_code == 403


def test_register_one_and_selected_from_the_report(staff_client: Client, lab_scan: Scan) -> None:
    url = reverse("assets:scan_register", args=[lab_scan.pk])
    apple = lab_scan.hosts.get(ip="192.168.1.2")
    response = staff_client.post(url, {"one": apple.pk, "host": [h.pk for h in lab_scan.hosts.all()], "kind": "pc"})
    assert response.status_code == 302
    device = Device.objects.get(ip="192.168.1.2")
    assert device.mac == "c0:63:94:05:01:03" and device.manufacturer == "Apple" and device.kind == "other"
    assert Device.objects.filter(ip="192.168.1.3").count() == 0  # only the one host of the button
    rest = [h.pk for h in lab_scan.hosts.filter(outcome="unregistered", device__isnull=True)]
    response = staff_client.post(url, {"host": rest, "kind": "network"}, follow=True)
    assert "台帳に登録しました" in response.content.decode()
    assert set(Device.objects.filter(ip__in=["192.168.1.1", "192.168.1.3"]).values_list("kind", flat=True)) == {
        "network"}
    page = staff_client.get(reverse("assets:scan_detail", args=[lab_scan.pk]) + "?show=unregistered")
    assert "このスキャンから登録済み" in page.content.decode()
    response = staff_client.post(url, {"host": rest}, follow=True)
    assert "登録できませんでした" in response.content.decode()


def test_exports(staff_client: Client, lab_scan: Scan) -> None:
    before = AuditEntry.objects.filter(action="export").count()
    response = staff_client.get(reverse("assets:scan_export", args=[lab_scan.pk, "csv"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["結果", "IPアドレス", "MACアドレス"]
    outcomes = [row[0] for row in rows[1:]]
    assert outcomes.count("未登録機器") == 3 and outcomes.count("未検出") == 1
    response = staff_client.get(reverse("assets:scan_export", args=[lab_scan.pk, "xlsx"]))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["概要", "突合結果", "開いているポート"]
    summary = {row[0]: row[1] for row in workbook["概要"].iter_rows(min_row=3, values_only=True)}
    assert summary["未登録機器"] == "3" and summary["スキャンした範囲"] == "192.168.1.0/24"
    assert workbook["突合結果"].max_row == 1 + 4 + 1
    assert AuditEntry.objects.filter(action="export").count() == before + 2
    assert staff_client.get(reverse("assets:scan_export", args=[lab_scan.pk, "pdf"])).status_code == 404


def test_export_download_headers(staff_client: Client, lab_scan: Scan) -> None:
    response = staff_client.get(reverse("assets:scan_export", args=[lab_scan.pk, "csv"]))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"

def test_export_neutralises_formulas(staff_client: Client, staff) -> None:
    xml = (b'<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap 10.0.0.1" start="1700000000"><host>'
           b'<status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/><hostnames>'
           b'<hostname name="=cmd|\' /C calc\'!A0" type="PTR"/></hostnames></host>'
           b'<runstats><finished time="1700000001"/></runstats></nmaprun>')
    scan = services_scan.scan_import(actor=actor_of(staff), stream=io.BytesIO(xml), name="evil.xml")
    text = staff_client.get(reverse("assets:scan_export", args=[scan.pk, "csv"])).content.decode()
    assert "'=cmd" in text
    workbook = openpyxl.load_workbook(io.BytesIO(staff_client.get(
        reverse("assets:scan_export", args=[scan.pk, "xlsx"])).content))
    cell = workbook["突合結果"]["E2"]
    assert cell.value.startswith("=cmd") and cell.data_type == "s"


def test_cpe_suggest_fragment_page_and_pick(staff_client: Client) -> None:
    url = reverse("assets:cpe_suggest")
    fragment = staff_client.get(url, {"name": "Windows 10 22H2", "version": ""}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "cpe:2.3:o:microsoft:windows_10_22h2" in body and "<html" not in body and "hx-get" in body
    page = staff_client.get(url, {"q": "日本光電 ベッドサイドモニタ"}).content.decode()
    assert "<html" in page and "CPEなし（個別に確認）" in page
    pick = staff_client.get(url, {"pick": "cpe:2.3:a:apache:tomcat:9.0.80:*:*:*:*:*:*:*", "field": "cpe"},
                            HTTP_HX_REQUEST="true").content.decode()
    assert 'name="cpe"' in pick and 'value="cpe:2.3:a:apache:tomcat:9.0.80:*:*:*:*:*:*:*"' in pick
    hostile = staff_client.get(url, {"pick": '"><script>', "field": '"><x'}, HTTP_HX_REQUEST="true").content.decode()
    assert "<script>" not in hostile and 'name="cpe23"' in hostile
    assert "候補が見つかりません" in staff_client.get(url, {"q": "zzqx"}, HTTP_HX_REQUEST="true").content.decode()


@pytest.fixture
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")


def test_cli_reconcile(capsys, world, staff, japanese) -> None:
    services.device_create(actor=actor_of(staff), kind="storage", hostname="nas", ip="192.168.1.20")
    code = main(["assets", "reconcile", str(FIXTURES / "libnmap-full_sudo6.xml"), "--institution", "t-hospital",
                 "--json"])
    out, _err = capsys.readouterr()
    data = json.loads(out)
    assert code == 0 and data["counts"]["hosts"] == 4 and data["counts"]["unregistered"] == 4
    assert [entry["hostname"] for entry in data["missing"]] == ["nas"]
    assert {entry["ip"] for entry in data["unregistered"]} == {"192.168.1.1", "192.168.1.2", "192.168.1.3",
                                                               "192.168.1.5"}
    assert data["matched"] == [] and data["changed"] == []
    scan = Scan.objects.get()
    assert scan.imported_by is None and AuditEntry.objects.filter(object_id=str(scan.pk), source="cli").exists()
    code = main(["assets", "reconcile", str(FIXTURES / "libnmap-fullscan.xml"), "--institution", "t-hospital"])
    out, _err = capsys.readouterr()
    assert code == 0 and "未登録機器" in out and "192.168.1.4" in out


def test_cli_reconcile_refuses_bad_files(capsys, world, tmp_path, japanese) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes((FIXTURES / "libnmap-fullscan.xml").read_bytes()[:5000])
    code = main(["assets", "reconcile", str(bad), "--institution", "t-hospital"])
    _out, err = capsys.readouterr()
    assert code == 1 and "途中で終わっています" in err
    code = main(["assets", "reconcile", str(tmp_path / "absent.xml"), "--institution", "t-hospital"])
    _out, err = capsys.readouterr()
    assert code == 1 and "見つかりません" in err
    assert Scan.objects.count() == 0
