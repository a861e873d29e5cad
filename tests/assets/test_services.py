"""Ledger services: devices (normalisation, validation, duplicates, scoping), bulk registration,
software by CPE, information systems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from anzen.assets import selectors, services
from anzen.assets.models import Device, Software
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from tests.assets.conftest import Ledger, actor_of
from tests.conftest import World


def test_device_create_normalises_fields(ledger: Ledger) -> None:
    ledger.pc.refresh_from_db()
    assert ledger.pc.mac == "a0:29:42:23:19:73"
    assert ledger.server.mac == "00:d4:9e:3c:3f:d9"
    assert ledger.pc.first_registered == dt.date(2023, 4, 1)
    assert ledger.pc.kind == "pc" and ledger.pc.status == "in_use"
    assert list(ledger.pc.systems.all()) == [ledger.ehr]
    device = services.device_create(actor=ledger.actor, kind="サーバ", status="予備・保管", hostname="spare",
                                    ip="010.000.000.001", remote_maintenance="あり")
    assert (device.kind, device.status, device.ip, device.remote_maintenance) == ("server", "stock", "10.0.0.1", True)
    assert AuditEntry.objects.filter(object_type="assets.device", object_id=str(device.pk), action="create").exists()


def test_device_create_reports_every_bad_field_in_japanese(ledger: Ledger) -> None:
    with pytest.raises(ValidationError) as caught:
        services.device_create(actor=ledger.actor, hostname="x", mac="00:11:22", ip="999.1.1.1",
                               first_registered="昨日", kind="toaster")
    errors = caught.value.message_dict
    assert set(errors) == {"mac", "ip", "first_registered", "kind"}
    assert "MACアドレス" in errors["mac"][0] and "IPアドレス" in errors["ip"][0]
    with pytest.raises(ValidationError, match="いずれかを入力"):
        services.device_create(actor=ledger.actor, owner="誰か")
    assert Device.objects.count() == 3


def test_duplicates_by_mac_serial_and_hostname_are_refused(ledger: Ledger) -> None:
    for fields in ({"mac": "A0-29-42-23-19-73"}, {"serial": "sn-001"}, {"hostname": "EHR-DB01"}):
        with pytest.raises(ValidationError, match="登録済み"):
            services.device_create(actor=ledger.actor, **fields)
    services.device_update(actor=ledger.actor, device=ledger.router, status="disposed")
    assert services.device_create(actor=ledger.actor, serial="SN-001").pk  # a disposed device no longer clashes
    with pytest.raises(ValidationError, match="登録済み"):
        services.device_update(actor=ledger.actor, device=ledger.pc, mac="00:d4:9e:3c:3f:d9")


def test_device_update_changes_only_given_fields(ledger: Ledger) -> None:
    services.device_update(actor=ledger.actor, device=ledger.pc, ip="172.30.103.99", systems=[ledger.network.pk])
    ledger.pc.refresh_from_db()
    assert ledger.pc.ip == "172.30.103.99" and ledger.pc.owner == "山下 芳範"
    assert list(ledger.pc.systems.all()) == [ledger.network]
    entry = AuditEntry.objects.filter(object_type="assets.device", object_id=str(ledger.pc.pk), action="update").get()
    assert entry.before == {"ip": "172.30.103.4"} and entry.after == {"ip": "172.30.103.99"}
    with pytest.raises(ValidationError, match="いずれかを入力"):
        services.device_update(actor=ledger.actor, device=ledger.router, hostname="", serial="")


def test_other_institution_and_read_only_roles_cannot_write(ledger: Ledger, world: World,
                                                             make_member: Callable[..., Membership]) -> None:
    other = actor_of(make_member("other-admin", world.other_hospital, Role.ADMIN))
    with pytest.raises(PermissionDenied):
        services.device_update(actor=other, device=ledger.pc, owner="x")
    with pytest.raises(ValidationError):  # their own ledger cannot link our systems
        services.device_create(actor=other, hostname="h", systems=[ledger.ehr])
    for role in (Role.MANAGER, Role.AUDITOR):
        reader = actor_of(make_member(f"r-{role}", world.hospital, role))
        with pytest.raises(PermissionDenied):
            services.device_create(actor=reader, hostname="new")
    vendor = actor_of(make_member("v", world.vendor, Role.VENDOR))
    with pytest.raises(PermissionDenied):
        services.system_create(actor=vendor, name="x")
    assert selectors.devices(vendor).count() == 0
    assert selectors.devices(other).count() == 0
    assert selectors.devices(ledger.actor).count() == 3


def test_bulk_create_is_atomic_and_audited_once(ledger: Ledger) -> None:
    before = AuditEntry.objects.count()
    rows = [
        {"hostname": "ward-pc-001", "mac": "0011.2233.4455", "ip": "172.30.5.1", "systems": [ledger.ehr.pk],
         "software": [{"cpe23": "cpe:2.3:a:google:chrome:118.0.5993.70:*:*:*:*:*:*:*"}]},
        {"hostname": "ward-pc-002", "mac": "00-11-22-33-44-56", "kind": "端末PC"},
        {"kind": "medical", "model_name": "心電計", "software": [{"name": "ECG firmware", "no_cpe": True}]},
    ]
    created = services.devices_bulk_create(actor=ledger.actor, rows=rows, source="import")
    assert [device.hostname for device in created] == ["ward-pc-001", "ward-pc-002", ""]
    assert Device.objects.count() == 6
    assert list(created[0].systems.all()) == [ledger.ehr]
    chrome = Software.objects.get(device=created[0])
    assert (chrome.cpe_vendor, chrome.cpe_product, chrome.version, chrome.source) == (
        "google", "chrome", "118.0.5993.70", "import")
    assert Software.objects.get(device=created[2]).no_cpe
    entries = AuditEntry.objects.filter(pk__gt=AuditEntry.objects.order_by("pk")[before - 1].pk) if before else None
    assert entries is not None and entries.count() == 1
    entry = entries.get()
    assert entry.action == "import" and entry.after["devices"] == 3 and entry.after["software"] == 2


def test_bulk_create_refuses_bad_rows_and_clashes_writing_nothing(ledger: Ledger) -> None:
    count, audit_count = Device.objects.count(), AuditEntry.objects.count()
    rows = [
        {"hostname": "ok-1", "mac": "00:11:22:33:44:55"},
        {"hostname": "bad", "mac": "zz"},
        {"hostname": "dup-ledger", "serial": "SN-001"},
        {"hostname": "OK-1"},  # clashes with row 1
        {"hostname": "sw", "software": [{"cpe23": "cpe:2.3:a:broken"}]},
    ]
    with pytest.raises(services.RowErrors) as caught:
        services.devices_bulk_create(actor=ledger.actor, rows=rows, source="import")
    assert sorted(caught.value.rows) == [1, 2, 3, 4]
    assert "mac" in caught.value.rows[1] and "serial" in caught.value.rows[2] and "hostname" in caught.value.rows[3]
    assert caught.value.messages[0].startswith("2行目")
    assert Device.objects.count() == count and AuditEntry.objects.count() == audit_count


def test_software_add_by_cpe(ledger: Ledger) -> None:
    item = services.software_add(actor=ledger.actor, device=ledger.pc,
                                 cpe23="cpe:2.3:a:Microsoft:.net_framework:4.8:*:*:*:*:*:*:*")
    assert item.name == ".net framework" and item.version == "4.8" and item.cpe_part == "a"
    assert item.cpe23 == "cpe:2.3:a:microsoft:.net_framework:4.8:*:*:*:*:*:*:*"
    from_nmap = services.software_add(actor=ledger.actor, device=ledger.server, name="OpenSSH",
                                      cpe23="cpe:/a:openbsd:openssh:8.9p1", source="scan")
    assert from_nmap.cpe23 == "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*"
    medical = services.software_add(actor=ledger.actor, device=ledger.router, name="心電図ビューア", no_cpe=True)
    assert medical.no_cpe and medical.cpe23 == ""
    with pytest.raises(ValidationError, match="CPE"):
        services.software_add(actor=ledger.actor, device=ledger.pc, name="x", cpe23="cpe:2.3:a:x")
    with pytest.raises(ValidationError, match="CPEなし"):
        services.software_add(actor=ledger.actor, device=ledger.pc, name="x", no_cpe=True,
                              cpe23="cpe:2.3:a:x:y:1:*:*:*:*:*:*:*")
    with pytest.raises(ValidationError, match="vendor"):
        services.software_add(actor=ledger.actor, device=ledger.pc, cpe23="cpe:2.3:a:*:*:*:*:*:*:*:*:*:*")
    with pytest.raises(ValidationError, match="名称"):
        services.software_add(actor=ledger.actor, device=ledger.pc)


def test_systems_validate_vendors_and_remote_path(ledger: Ledger, world: World) -> None:
    assert ledger.ehr.remote_vendor == world.vendor and ledger.ehr.remote_line_type == "ip_vpn"
    assert ledger.ehr.end_of_support == dt.date(2024, 3, 31)
    with pytest.raises(ValidationError, match="取引関係"):
        services.system_create(actor=ledger.actor, name="PACS", category="pacs", vendor=world.other_vendor)
    with pytest.raises(ValidationError, match="回線"):
        services.system_create(actor=ledger.actor, name="PACS", category="pacs", remote_maintenance=True)
    with pytest.raises(ValidationError, match="システム名"):
        services.system_create(actor=ledger.actor, name="  ")
    services.system_update(actor=ledger.actor, system=ledger.ehr, remote_maintenance=False)
    ledger.ehr.refresh_from_db()
    assert ledger.ehr.remote_line_type == "" and ledger.ehr.remote_vendor is None
    with pytest.raises(ValidationError, match="MDS/SDS"):
        services.system_update(actor=ledger.actor, system=ledger.ehr, disclosure=999999)


def test_device_index_one_query(ledger: Ledger, django_assert_num_queries: Callable[..., object]) -> None:
    with django_assert_num_queries(1):  # type: ignore[operator]
        index = selectors.device_index(ledger.staff.organisation_id)
    assert index["mac"]["a0:29:42:23:19:73"] == [ledger.pc.pk]
    assert index["ip"]["172.30.1.10"] == [ledger.server.pk]
    assert index["hostname"]["core-sw1"] == [ledger.router.pk]
    assert index["serial"]["sn-001"] == [ledger.router.pk]
    services.device_update(actor=ledger.actor, device=ledger.router, status="disposed")
    assert "core-sw1" not in selectors.device_index(ledger.staff.organisation_id)["hostname"]
    assert "core-sw1" in selectors.device_index(ledger.staff.organisation_id, include_disposed=True)["hostname"]


def test_devices_selector_filters_and_sorts(ledger: Ledger) -> None:
    actor = ledger.actor
    assert [d.hostname for d in selectors.devices(actor)] == ["core-sw1", "ehr-db01", "fhej2004"]
    assert [d.hostname for d in selectors.devices(actor, sort="-hostname")] == ["fhej2004", "ehr-db01", "core-sw1"]
    assert [d.hostname for d in selectors.devices(actor, kind="server")] == ["ehr-db01"]
    assert [d.hostname for d in selectors.devices(actor, system=ledger.network.pk)] == ["core-sw1"]
    assert [d.hostname for d in selectors.devices(actor, remote=True)] == ["ehr-db01"]
    assert [d.hostname for d in selectors.devices(actor, q="a0-29-42")] == ["fhej2004"]
    assert [d.hostname for d in selectors.devices(actor, q="172.30.1.")] == ["ehr-db01"]
    assert [d.hostname for d in selectors.devices(actor, q="山下")] == ["fhej2004"]
    assert [d.hostname for d in selectors.devices(actor, sort="drop table")] == ["core-sw1", "ehr-db01", "fhej2004"]


def test_system_actor_acts_for_a_named_institution(world: World) -> None:
    device = services.device_create(actor=Actor.system(), institution=world.hospital, hostname="cli-made")
    assert device.institution == world.hospital
    with pytest.raises(PermissionDenied):
        services.device_create(actor=Actor.system(), institution=world.vendor, hostname="x")
