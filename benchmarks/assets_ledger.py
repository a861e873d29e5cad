#!/usr/bin/env python
"""Benchmark: a 20,000-device hospital ledger — import, reconciliation of a 5,000-host scan, list pages.

    .venv/bin/python benchmarks/assets_ledger.py [--devices 20000] [--hosts 5000] [--repeat 5]

Runs in a throwaway ANZEN_HOME on SQLite (or on DATABASE_URL's PostgreSQL when set: use an empty
database). Generates the data (benchmarks/assets_ledger_data.py: families of hospital-cpe-families.csv,
real IEEE prefixes for the MAC addresses), then measures:

- the import of the ledger as seed 003's device list (CSV): through the import service with the built-in
  `device-list` profile; baseline: plain csv parsing of the same file;
- the reconciliation of an nmap -sV -O scan answering for --hosts hosts: parsing, the pure reconciliation,
  and the whole `scan_import` (store, parse, reconcile, write Scan + ScanHost rows); baseline: a dict-join
  of the same hosts with the same ledger rows (stdlib ElementTree for the parsing part);
- the device list page and the scan report pages through Django's test client as the hospital's 担当者
  (median of --repeat requests, with their SQL queries); baseline: the same page rows read and
  serialised to JSON.

Every figure is printed with its baseline from the same run and the ratio. Not a timed test.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    os.environ.setdefault("ANZEN_HOME", tempfile.mkdtemp(prefix="anzen-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)


def _median(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _once(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _queries(func: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)


def _row(label: str, seconds: float, baseline: float, extra: str = "") -> str:
    ratio = seconds / baseline if baseline else float("inf")
    return f"  {label:<44} {seconds * 1000:10.1f} ms   baseline {baseline * 1000:9.1f} ms   ×{ratio:7.1f}  {extra}"


def _world() -> tuple[Any, Any]:
    from anzen.accounts import services
    from anzen.accounts.roles import InstitutionType, OrgKind, Role

    hospital = services.organisation_create(kind=OrgKind.INSTITUTION, name="ベンチマーク大学病院", code="bench-h",
                                            institution_type=InstitutionType.HOSPITAL, beds=1200)
    user = services.user_create(username="bench-staff", email="bench@example.test", display_name="担当者",
                                password="Bench-Pass-2026!x")
    return hospital, services.membership_add(user=user, organisation=hospital, role=Role.STAFF)


def _import_ledger(actor: Any, hospital: Any, devices: list[Any], data: bytes) -> tuple[float, str]:
    """Import seed 003's device list through the import service with the built-in device-list profile."""
    from anzen.assets import importing, services_import
    from anzen.assets.models import Device

    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        handle.write(data)
        handle.flush()

        def run() -> Any:
            table = services_import.read_file(Path(handle.name), "csv")
            mapping = importing.suggest_mapping(table.rows, importing.builtin_profiles()["device-list"])
            return services_import.import_commit(actor=actor, institution=hospital, table=table, mapping=mapping,
                                                 file_name="device-list.csv")

        seconds, _outcome = _once(run)
    imported = Device.objects.filter(institution=hospital).count()
    if imported != len(devices):
        raise SystemExit(f"the import wrote {imported} devices of {len(devices)}")
    return seconds, "import service, profile device-list (CSV)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--hosts", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    _setup()

    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from anzen.accounts.middleware import ACTIVE_MEMBERSHIP
    from anzen.assets import nmap, reconcile, services_scan
    from anzen.assets.models import Device, ScanHost, Software
    from anzen.common.permissions import Actor
    from benchmarks.assets_ledger_data import device_list_csv, generate, nmap_xml

    print(f"Anzen benchmark: asset ledger — {args.devices} devices, scan of {args.hosts} hosts")
    print(f"  database: {connection.vendor}   python {sys.version.split()[0]}")
    hospital, staff = _world()
    actor = Actor(staff.user, staff)
    seconds, devices = _once(lambda: generate(args.devices))
    data = device_list_csv(devices)
    print(f"  generated {len(devices)} devices in {seconds:.1f} s; device list CSV {len(data) // 1024} KiB")

    print("\nImport of the ledger (baseline: plain csv parsing of the same file)")
    base, parsed = _median(lambda: list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")))), args.repeat)
    seconds, how = _import_ledger(actor, hospital, devices, data)
    count = Device.objects.filter(institution=hospital).count()
    software = Software.objects.filter(device__institution=hospital).count()
    print(_row(f"import {count} devices", seconds, base,
               f"{how}; {software} software rows; {count / seconds:,.0f} devices/s"))
    assert len(parsed) == len(devices)

    plan = nmap_xml(devices, args.hosts)
    print(f"\nReconciliation of a {plan.hosts}-host scan ({len(plan.xml) // 1024} KiB XML; {plan.from_ledger} ledger "
          f"devices, {plan.moved} moved, {plan.os_changed} OS changed, {plan.unregistered} unregistered; VLANs "
          f"{', '.join(plan.vlans)})")
    parse_seconds, run = _median(lambda: nmap.parse(io.BytesIO(plan.xml)), max(1, args.repeat // 2))

    def stdlib_parse() -> list[tuple[str, str]]:
        import xml.etree.ElementTree as ET  # trusted, generated input: the baseline only

        found = []
        for _event, element in ET.iterparse(io.BytesIO(plan.xml)):
            if element.tag == "host":
                addresses = {a.get("addrtype"): a.get("addr") for a in element.iter("address")}
                found.append(((addresses.get("mac") or "").lower(), addresses.get("ipv4") or ""))
                element.clear()
        return found

    stdlib_seconds, pairs = _median(stdlib_parse, max(1, args.repeat // 2))

    def dict_join() -> int:
        rows = Device.objects.filter(institution=hospital).values_list("pk", "mac", "ip")
        by_mac, by_ip = {}, {}
        for pk, mac, ip in rows:
            by_mac[mac] = pk
            by_ip[ip] = pk
        return sum(1 for mac, ip in pairs if by_mac.get(mac) or by_ip.get(ip))

    join_seconds, joined = _median(dict_join, args.repeat)
    observed = [services_scan.observed(host) for host in run.hosts]

    def pure() -> reconcile.Reconciliation:
        ranges = reconcile.scanned_ranges(arguments=nmap.arguments(run), listed_addresses=run.scanned_addresses)
        return reconcile.reconcile(observed, services_scan.ledger_snapshot(hospital.pk), ranges)

    pure_seconds, result = _median(pure, args.repeat)
    counts = result.counts()
    import_seconds, scan = _once(lambda: services_scan.scan_import(
        actor=actor, stream=io.BytesIO(plan.xml), name="bench.xml"))
    print(_row("parse (defusedxml, streaming)", parse_seconds, stdlib_seconds, "baseline: stdlib iterparse"))
    print(_row("reconcile (ledger read + MAC/IP/name passes)", pure_seconds, join_seconds,
               f"baseline: dict-join by MAC then IP ({joined} joined)"))
    print(_row("whole scan_import (store, parse, reconcile, write)", import_seconds, stdlib_seconds + join_seconds,
               f"baseline: stdlib parse + dict-join; {ScanHost.objects.filter(scan=scan).count()} rows"))
    print(f"  outcome: matched {counts['matched']}, changed {counts['changed']}, unregistered {counts['unregistered']},"
          f" missing {counts['missing']}, outside the range {counts['outside']}")

    client = Client()
    client.force_login(staff.user)
    session = client.session
    session[ACTIVE_MEMBERSHIP] = staff.pk
    session.save()

    def page(url: str) -> Callable[[], Any]:
        def get() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response
        return get

    def device_json(order: str, offset: int, **filters: Any) -> Callable[[], str]:
        def run_json() -> str:
            rows = Device.objects.filter(institution=hospital, **filters).order_by(order, "id")[offset:offset + 50]
            return json.dumps(list(rows.values("pk", "kind", "hostname", "owner", "os_name", "mac", "ip", "status",
                                               "location", "model_name")), default=str, ensure_ascii=False)
        return run_json

    def hosts_json(outcome: str) -> Callable[[], str]:
        return lambda: json.dumps(list(ScanHost.objects.filter(scan=scan, outcome=outcome).order_by("ip", "pk")[:50]
                                       .values("ip", "mac", "mac_vendor", "hostname", "os_guess", "services",
                                               "changes", "device__hostname")), default=str, ensure_ascii=False)

    def missing_json() -> str:
        ids = scan.summary["missing"][:50]
        return json.dumps(list(Device.objects.filter(pk__in=ids).values("pk", "hostname", "ip", "mac", "location")),
                          default=str, ensure_ascii=False)

    checks: list[tuple[str, str, Callable[[], str]]] = []
    try:
        device_list = reverse("assets:device_list")
        checks += [
            ("device list, first page", device_list, device_json("hostname", 0)),
            ("device list, page 200", device_list + "?page=200", device_json("hostname", 199 * 50)),
            ("device list, sorted by IP (desc)", device_list + "?sort=-ip", device_json("-ip", 0)),
            ("device list, search 'pc0'", device_list + "?q=pc0",
             device_json("hostname", 0, hostname__icontains="pc0")),
            ("device list, kind=medical", device_list + "?kind=medical", device_json("hostname", 0, kind="medical")),
        ]
    except NoReverseMatch:
        print("\n  (the device list page is not there yet: only the scan pages are measured)")
    detail = reverse("assets:scan_detail", args=[scan.pk])
    checks += [
        ("scan report, unregistered", detail + "?show=unregistered", hosts_json("unregistered")),
        ("scan report, changed", detail + "?show=changed", hosts_json("changed")),
        ("scan report, missing", detail + "?show=missing", missing_json),
    ]
    print(f"\nPages (median of {args.repeat} requests; baseline: the same page rows read and serialised to JSON)")
    for label, url, baseline in checks:
        page(url)()  # warm up
        seconds, _response = _median(page(url), args.repeat)
        base, _data = _median(baseline, args.repeat)
        print(_row(label, seconds, base, f"{_queries(page(url))} queries"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
