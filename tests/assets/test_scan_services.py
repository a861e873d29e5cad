"""Importing a scan (stored by SHA-256, reconciled, bulk rows, one audit entry, atomic) and registering
unregistered hosts from the report."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from anzen.accounts.roles import Role
from anzen.assets import services, services_scan
from anzen.assets.models import Device, Scan, ScanHost, Software
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from tests.assets.conftest import Ledger, actor_of

FIXTURES = Path(__file__).parent / "fixtures" / "scan"


def fixture(name: str) -> io.BytesIO:
    return io.BytesIO((FIXTURES / name).read_bytes())


@pytest.fixture
def lab(world, staff) -> Actor:
    """A ledger for the lab network of full_sudo6.xml: the Intel PC known by MAC (with an old IP), the
    Sagemcom router known by IP only, a NAS that did not answer, and a PC outside the scanned range."""
    actor = actor_of(staff)
    services.device_create(actor=actor, kind="pc", hostname="intel-pc", mac="00:1f:3c:87:66:50", ip="192.168.1.50",
                           os_name="Windows 7")
    services.device_create(actor=actor, kind="network", hostname="gw", ip="192.168.1.1", os_name="Cisco IOS")
    services.device_create(actor=actor, kind="storage", hostname="nas", ip="192.168.1.20")
    services.device_create(actor=actor, kind="pc", hostname="far-away", ip="10.9.0.1")
    return actor


def test_import_reconciles_and_stores(lab: Actor, world) -> None:
    audit_before = AuditEntry.objects.count()
    scan = services_scan.scan_import(actor=lab, stream=fixture("libnmap-full_sudo6.xml"), name="full_sudo6.xml")
    counts = scan.summary["counts"]
    assert (counts["hosts"], counts["matched"], counts["changed"], counts["unregistered"]) == (4, 0, 2, 2)
    assert counts["missing"] == 1 and counts["outside"] == 1
    nas = Device.objects.get(hostname="nas")
    assert scan.summary["missing"] == [nas.pk]
    assert scan.summary["ranges"]["method"] == "arguments" and scan.summary["ranges"]["ranges"] == ["192.168.1.0/24"]
    assert scan.scanner == "nmap 6.40-2" and scan.hosts_up == 4 and scan.started_at.year == 2014
    assert services_scan.SCAN_STORE.path(scan.sha256).read_bytes() == (FIXTURES / "libnmap-full_sudo6.xml").read_bytes()

    hosts = {host.ip: host for host in scan.hosts.all()}
    pc = hosts["192.168.1.5"]
    assert pc.matched_by == "mac" and pc.device.hostname == "intel-pc" and pc.outcome == "changed"
    assert pc.changes == [{"field": "ip", "ledger": "192.168.1.50", "scan": "192.168.1.5"}]
    router = hosts["192.168.1.1"]
    assert router.matched_by == "ip" and router.mac == "6c:2e:85:19:af:00" and router.mac_vendor == "Sagemcom"
    assert [c["field"] for c in router.changes] == ["os"]  # Cisco IOS in the ledger, Linux on the network
    assert hosts["192.168.1.2"].outcome == "unregistered" and hosts["192.168.1.2"].mac_vendor == "Apple"
    assert hosts["192.168.1.3"].os_cpes[0] == "cpe:2.3:o:apple:mac_os_x:10.8:*:*:*:*:*:*:*"
    # the Scan row (signal) and one explicit import entry; ScanHost rows are written in bulk
    entries = list(AuditEntry.objects.order_by("seq")[audit_before:])
    assert [e.action for e in entries] == ["create", "import"]
    assert entries[1].after["unregistered"] == 2 and entries[1].object_id == str(scan.pk)


def test_vendor_from_the_oui_table_when_nmap_gives_none(lab: Actor) -> None:
    xml = (b'<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sn 192.168.9.0/24" start="1700000000">'
           b'<host><status state="up"/><address addr="192.168.9.7" addrtype="ipv4"/>'
           b'<address addr="00:40:D1:00:00:07" addrtype="mac"/></host>'
           b'<runstats><finished time="1700000001"/><hosts up="1" down="255"/></runstats></nmaprun>')
    scan = services_scan.scan_import(actor=lab, stream=io.BytesIO(xml), name="fukuda.xml")
    assert scan.hosts.get().mac_vendor == "FUKUDA DENSHI CO., LTD."


@pytest.mark.parametrize("data", [
    (FIXTURES / "libnmap-fullscan.xml").read_bytes()[:30000],
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><nmaprun>&b;</nmaprun>',
    b"\xff\xfe not xml",
])
def test_refused_file_changes_nothing(lab: Actor, data: bytes) -> None:
    audit_before = AuditEntry.objects.count()
    stored_before = sorted(services_scan.SCAN_STORE.root.rglob("*.xml")) if services_scan.SCAN_STORE.root.exists() \
        else []
    with pytest.raises(ValidationError) as error:
        services_scan.scan_import(actor=lab, stream=io.BytesIO(data), name="bad.xml")
    assert error.value.message_dict["file"]
    assert Scan.objects.count() == 0 and ScanHost.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    stored_after = sorted(services_scan.SCAN_STORE.root.rglob("*.xml")) if services_scan.SCAN_STORE.root.exists() \
        else []
    assert stored_after == stored_before


def test_too_large_file(lab: Actor, settings) -> None:
    settings.ANZEN_MAX_SCAN_BYTES = 10_000
    with pytest.raises(ValidationError) as error:
        services_scan.scan_import(actor=lab, stream=fixture("libnmap-fullscan.xml"), name="big.xml")
    assert "大きすぎます" in error.value.message_dict["file"][0]
    assert Scan.objects.count() == 0


def test_explicit_ranges(lab: Actor) -> None:
    scan = services_scan.scan_import(actor=lab, stream=fixture("libnmap-full_sudo6.xml"), name="s.xml",
                                     ranges=["192.168.1.0/24, 10.9.0.0/24"])
    assert scan.summary["ranges"]["method"] == "explicit"
    assert scan.summary["counts"]["missing"] == 2 and scan.summary["counts"]["outside"] == 0
    with pytest.raises(ValidationError) as error:
        services_scan.scan_import(actor=lab, stream=fixture("libnmap-full_sudo6.xml"), name="s.xml",
                                  ranges=["ward-3"])
    assert "ward-3" in error.value.message_dict["ranges"][0]


def test_only_institution_managers_import(world, make_member) -> None:
    manager = actor_of(make_member("mgr", world.hospital, Role.MANAGER))
    with pytest.raises(PermissionDenied):
        services_scan.scan_import(actor=manager, stream=fixture("libnmap-fullscan.xml"), name="s.xml")
    vendor = actor_of(make_member("vend", world.vendor, Role.VENDOR))
    with pytest.raises(PermissionDenied):
        services_scan.scan_import(actor=vendor, stream=fixture("libnmap-fullscan.xml"), name="s.xml")


def test_register_unregistered_hosts_in_one_step(lab: Actor) -> None:
    scan = services_scan.scan_import(actor=lab, stream=fixture("libnmap-full_sudo6.xml"), name="full_sudo6.xml")
    unregistered = list(scan.hosts.filter(outcome="unregistered").order_by("ip"))
    audit_before = AuditEntry.objects.count()
    devices = services_scan.scan_register_hosts(actor=lab, scan=scan, host_ids=[h.pk for h in unregistered])
    assert len(devices) == 2
    apple, mac = sorted(devices, key=lambda d: d.ip)
    assert (apple.ip, apple.mac, apple.manufacturer) == ("192.168.1.2", "c0:63:94:05:01:03", "Apple")
    assert mac.os_name.startswith("Apple Mac OS X 10.8") and mac.kind == "pc"
    assert "full_sudo6.xml" in mac.notes
    software = {s.cpe23: s for s in Software.objects.filter(device=mac)}
    assert "cpe:2.3:a:heimdal:kerberos:*:*:*:*:*:*:*:*" in software
    assert all(s.source == "scan" for s in software.values())
    assert {h.device_id for h in scan.hosts.filter(pk__in=[h.pk for h in unregistered])} == {apple.pk, mac.pk}
    assert AuditEntry.objects.filter(action="import").count() >= 1
    assert AuditEntry.objects.count() - audit_before == 1  # devices_bulk_create's one entry
    with pytest.raises(ValidationError):  # already registered: nothing left to register
        services_scan.scan_register_hosts(actor=lab, scan=scan, host_ids=[h.pk for h in unregistered])


def test_register_with_chosen_kind_and_os_cpe(lab: Actor) -> None:
    scan = services_scan.scan_import(actor=lab, stream=fixture("libnmap-dionaea_scan.xml"), name="d.xml")
    host = scan.hosts.get()
    assert host.outcome == "unregistered"
    device = services_scan.scan_register_hosts(actor=lab, scan=scan, host_ids=[host.pk], kind="storage")[0]
    assert device.kind == "storage" and device.hostname == "dionaea"
    cpes = set(Software.objects.filter(device=device).values_list("cpe23", flat=True))
    assert "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*" in cpes  # 4 and 5 guessed: version left open
    assert "cpe:2.3:a:oracle:mysql:5.7.16:*:*:*:*:*:*:*" in cpes  # nmap's mysql:mysql, the dictionary's name
    assert "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*" in cpes


def test_register_refusals_write_nothing(lab: Actor, world, make_member, ledger: Ledger) -> None:
    scan = services_scan.scan_import(actor=lab, stream=fixture("libnmap-full_sudo6.xml"), name="s.xml")
    matched = scan.hosts.exclude(outcome="unregistered").first()
    devices_before = Device.objects.count()
    with pytest.raises(ValidationError):
        services_scan.scan_register_hosts(actor=lab, scan=scan, host_ids=[matched.pk])
    with pytest.raises(ValidationError):
        services_scan.scan_register_hosts(actor=lab, scan=scan, host_ids=[scan.hosts.first().pk], kind="spaceship")
    other = actor_of(make_member("other-admin", world.other_hospital, Role.STAFF))
    with pytest.raises(PermissionDenied):
        services_scan.scan_register_hosts(actor=other, scan=scan, host_ids=[h.pk for h in scan.hosts.all()])
    assert Device.objects.count() == devices_before


def test_register_clash_with_the_ledger_is_reported_per_host(lab: Actor) -> None:
    scan = services_scan.scan_import(actor=lab, stream=fixture("libnmap-dionaea_scan.xml"), name="d.xml")
    host = scan.hosts.get()
    # someone registered the honeypot by hand in the meantime, with the same MAC
    services.device_create(actor=lab, kind="server", hostname="honeypot", mac=host.mac)
    with pytest.raises(ValidationError) as error:
        services_scan.scan_register_hosts(actor=lab, scan=scan, host_ids=[host.pk])
    assert "172.28.1.3" in error.value.messages[0] and "MAC" in error.value.messages[0]
    host.refresh_from_db()
    assert host.device_id is None


def test_kind_guess() -> None:
    from anzen.assets import nmap

    run = nmap.parse(fixture("libnmap-full_sudo6.xml"))
    kinds = {host.ip: services_scan.guess_kind(host) for host in run.hosts}
    assert kinds == {"192.168.1.1": "network", "192.168.1.2": "other", "192.168.1.5": "server",
                     "192.168.1.3": "pc"}
