"""The board at hospital scale: it reads the tallies (`DeviceTally`, `CveTally`) kept by the rematch and the
status changes, never the findings themselves. The tallies must always equal a direct count of the open
findings (checked after every kind of change), and the board's queries must not grow with the findings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count, Max
from django.test import Client
from django.urls import reverse

from anzen.assets import services as assets
from anzen.vulns import lifecycle, selectors, services_watch
from anzen.vulns.models_watch import CveTally, DeviceTally, Finding
from tests.conftest import login_as
from tests.vulns.watch_support import (  # noqa: F401  (fixtures)
    ACTIVEMQ_FIXED,
    FORTIGATE,
    FORTIOS_604,
    Ledger,
    actor,
    cves_fixture,
    finding,
    ledger_fixture,
    members_fixture,
)

pytestmark = pytest.mark.django_db


def direct_counts(institution_id: int) -> tuple[dict[Any, int], dict[str, tuple[int, Any, bool]]]:
    """What the tallies must say, counted from the findings."""
    open_ = Finding.objects.filter(institution_id=institution_id, device__isnull=False,
                                   status__in=sorted(lifecycle.OPEN)).order_by()
    devices = {(d, s, k, c): n for d, s, k, c, n in open_.values_list("device_id", "severity", "kev", "confidence")
               .annotate(n=Count("id"))}
    cves: dict[str, tuple[int, Any, bool]] = {}
    for cve_id in open_.values_list("cve_id", flat=True).distinct():
        rows = open_.filter(cve_id=cve_id)
        score = rows.aggregate(m=Max("score"))["m"]
        cves[cve_id] = (rows.values("device_id").distinct().count(),
                        None if score is None else Decimal(str(score)).quantize(Decimal("0.1")),
                        rows.filter(kev=True).exists())
    return devices, cves


def tallied(institution_id: int) -> tuple[dict[Any, int], dict[str, tuple[int, Any, bool]]]:
    devices = {(t.device_id, t.severity, t.kev, t.confidence): t.count
               for t in DeviceTally.objects.filter(institution_id=institution_id) if t.count}
    cves = {t.cve_id: (t.devices, t.score, t.kev) for t in CveTally.objects.filter(institution_id=institution_id)
            if t.devices}
    return devices, cves


def assert_tallies_agree(ledger: Ledger) -> None:
    expected = direct_counts(ledger.world.hospital.pk)
    assert expected[0], "the test needs open findings"
    assert tallied(ledger.world.hospital.pk) == expected


def more_devices(ledger: Ledger, count: int) -> None:
    for index in range(count):
        device = assets.device_create(actor=ledger.system, institution=ledger.world.hospital,
                                      hostname=f"fw-scale-{index:03d}", kind="network", systems=[ledger.network])
        ledger.add(device, FORTIOS_604)
        ledger.add(device, FORTIGATE)


def test_tallies_follow_rematches_status_changes_and_expiry(ledger: Ledger, members: dict) -> None:
    hospital = ledger.world.hospital
    services_watch.rematch(institution=hospital)  # first run: everything counted
    assert_tallies_agree(ledger)
    more_devices(ledger, 3)  # new devices of an existing image (the fan-out path)
    services_watch.rematch(institution=hospital)
    assert_tallies_agree(ledger)
    staff = actor(members["staff"])
    found = finding(ledger.world, ledger.fw1, "CVE-2018-13379")
    services_watch.finding_set_status(actor=staff, finding=found, status=lifecycle.FALSE_POSITIVE, note="検証済み")
    assert_tallies_agree(ledger)
    services_watch.finding_set_status(actor=staff, finding=found, status=lifecycle.NEW)
    assert_tallies_agree(ledger)
    today = dt.date(2026, 11, 1)
    services_watch.finding_set_status(actor=staff, finding=found, status=lifecycle.RISK_ACCEPTED, note="更新待ち",
                                      until=today + dt.timedelta(days=10), today=today)
    assert_tallies_agree(ledger)
    assert services_watch.expire_acceptances(today=today + dt.timedelta(days=11)) == 1
    assert_tallies_agree(ledger)
    mq = ledger.mq.software.get()  # an upgrade closes the ActiveMQ finding: incremental run
    assets.software_update(actor=ledger.system, software=mq, name=mq.name, cpe23=ACTIVEMQ_FIXED)
    report = services_watch.rematch(institution=hospital)
    assert report.closed >= 1
    assert_tallies_agree(ledger)
    ledger.fw2.delete()  # its tally goes with it; its findings close on the full run
    services_watch.rematch(institution=hospital, full=True)
    assert_tallies_agree(ledger)
    DeviceTally.objects.filter(institution=hospital).delete()  # a rebuild repairs the tallies too
    services_watch.rematch(institution=hospital, rebuild=True)
    assert_tallies_agree(ledger)


def test_board_counts_equal_the_open_findings_and_its_queries_do_not_grow(
        ledger: Ledger, members: dict, client: Client, django_assert_max_num_queries: Any) -> None:
    hospital = ledger.world.hospital
    services_watch.rematch(institution=hospital)
    login_as(client, members["staff"])
    with django_assert_max_num_queries(30) as small:
        assert client.get(reverse("vulns:board")).status_code == 200
    more_devices(ledger, 40)
    services_watch.rematch(institution=hospital)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get(reverse("vulns:board")).content.decode()
    assert "fw-scale" not in html and "院内ネットワーク" in html
    board = selectors.board(actor(members["staff"]))
    open_findings = Finding.objects.filter(institution=hospital, status__in=sorted(lifecycle.OPEN))
    assert board.total == open_findings.count()
    assert board.kev_total == open_findings.filter(kev=True).count()
    top = {row.cve_id: row.devices for row in board.top}
    assert top["CVE-2018-13379"] == open_findings.filter(cve_id="CVE-2018-13379").count() == 41  # fw-main + 40
    network = next(row for row in board.by_system if row.name == "院内ネットワーク")
    assert network.total == open_findings.filter(device__systems=ledger.network).count()
    vendor = next(row for row in board.by_vendor if row.pk == ledger.world.vendor.pk)
    assert vendor.total == network.total  # one system of the vendor: each finding counted once
    assert board.needs_check == open_findings.filter(confidence__in=["manual", "possible"]).count()


def test_a_cve_new_to_the_store_fans_out_per_image_and_agrees_with_a_rebuild(ledger: Ledger, tmp_path: Any) -> None:
    """An incremental run after a feed brings a CVE no finding names yet: its findings are created per image
    (the fan-out path, no pair-level diff) and are exactly what a full rebuild finds."""
    import json

    from anzen.vulns import services_feeds
    from tests.vulns.watch_support import FIXTURES

    hospital = ledger.world.hospital
    more_devices(ledger, 5)
    services_watch.rematch(institution=hospital)
    record = json.loads((FIXTURES / "nvd20/CVE-2022-42475.json").read_text())
    cve = record.get("cve", record)
    cve["id"] = "CVE-2099-42475"  # the same FortiOS configurations under an id the store does not have
    path = tmp_path / "CVE-2099-42475.json"
    path.write_text(json.dumps(record))
    services_feeds.import_paths(paths=[path])
    report = services_watch.rematch(institution=hospital)
    assert report.mode == "incremental" and report.cves_changed == 1
    new = Finding.objects.filter(institution=hospital, cve_id="CVE-2099-42475")
    before = Finding.objects.filter(institution=hospital, cve_id="CVE-2022-42475")
    assert report.created == new.count() == before.count() == 7  # fw-main, fw-remote and the 5 new FortiGates
    assert sorted(new.values_list("device_id", "confidence", "reason")) == sorted(
        before.values_list("device_id", "confidence", "reason"))
    assert_tallies_agree(ledger)
    snapshot = sorted(Finding.objects.filter(institution=hospital).values_list("device_id", "cve_id", "status",
                                                                                "confidence", "reason", "score"))
    assert services_watch.rematch(institution=hospital, rebuild=True).changed == 0
    assert sorted(Finding.objects.filter(institution=hospital).values_list(
        "device_id", "cve_id", "status", "confidence", "reason", "score")) == snapshot


def test_the_watch_list_pages_with_the_tallied_count(ledger: Ledger, members: dict, client: Client) -> None:
    for index in range(3):  # FortiOS of an unknown version: "possible" findings
        device = assets.device_create(actor=ledger.system, institution=ledger.world.hospital,
                                      hostname=f"fw-unknown-{index}", kind="network")
        ledger.add(device, "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*")
    services_watch.rematch(institution=ledger.world.hospital)
    staff = actor(members["staff"])
    _rows, manual = selectors.watchlist(staff)
    assert manual.count() >= 3
    assert selectors.needs_check_count(staff) == manual.count()
    login_as(client, members["staff"])
    response = client.get(reverse("vulns:watchlist"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == manual.count()


def test_a_large_run_refreshes_the_planner_statistics_on_postgresql(ledger: Ledger, monkeypatch: Any) -> None:
    from django.db import connection

    calls = []
    real = services_watch._analyze
    monkeypatch.setattr(services_watch, "ANALYZE_AFTER", 1)  # the fixture ledger is small
    monkeypatch.setattr(services_watch, "_analyze", lambda: calls.append(real()))
    services_watch.rematch(institution=ledger.world.hospital)
    assert len(calls) == (1 if connection.vendor == "postgresql" else 0)
