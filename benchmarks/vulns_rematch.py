#!/usr/bin/env python
"""Benchmark (not a timed test): rematch of a generated 20,000-device hospital ledger against real NVD data.

    .venv/bin/python benchmarks/vulns_rematch.py [--devices 20000] [--feeds PATTERN ...] [--modified FILE]

Runs in a throwaway ANZEN_HOME on SQLite (or on DATABASE_URL's PostgreSQL when set: use an empty database).

1. CVE store (not timed against a goal): the NVD 1.1 feeds of ../shared/data/nvd/legacy-1.1 named by
   --feeds (default: 2017, 2018 and the 2022/2023 snapshots, ~64,000 CVEs) plus Anzen's demo excerpt, imported
   with `services_feeds.import_paths`.
2. Ledger: benchmarks/assets_ledger_data.py's generator (families of hospital-cpe-families.csv, golden images:
   a few hundred distinct software identities for 20,000 devices), written with `devices_bulk_create`.
3. Full rematch, first run: `services_watch.rematch(full=True)` on an empty finding table — engine on the
   distinct identities, fan-out per image, bulk writes. Then the nightly full rematch of the matched ledger
   (goal ≤ 5 s): engine, pair-level diff, nothing to write.
4. Incremental rematch after the NVD "modified" feed (goal ≤ 1 s), the feed cut in two and imported (not
   timed) before two runs: the CVEs the store already has (re-scored or corrected), then the CVEs new to it.
5. The screens a member of the institution's staff opens (Django test client, queries counted) at this
   scale; then an incremental rematch after 100 upgrades, one with nothing changed, and with --rebuild a
   rebuild that compares every stored finding with a fresh evaluation.

Baselines from the same run, printed beside each figure: reading the ledger's (device, CPE) rows into a dict
(the I/O floor of any matcher), and the engine alone on the distinct identities (`engine.match_identities`,
ENGINE's part, no fan-out or writes).

What the modified feed (nvdcve-1.1-modified.json.gz) holds against this store: 2,228 CVEs, 91 already in the
store (82 of them newer records: re-scored or corrected; 9 unchanged) and 2,137 new to it (mostly CVE-2020
and 2021 ids, which the default feeds do not import, and 2023 ids missing from the August 2023 snapshot).

Figures (2-core machine shared with other work, SQLite; 64,474 CVEs; 20,000 devices, 148 identities, 7,978
identity×CVE matches → 2,471,939 device×CVE findings on 13,291 devices; run of 2026-11-21 18:35 UTC, engine
alone 3.3 s in that run). Before → after this round of work (before: the run of 17:58, same machine):

    full rematch, steady state (nightly)            3.3 s → 3.0 s     goal 5 s MET (engine is ~90 % of it)
    incremental, modified feed's 82 re-scored CVEs  0.77 s → 0.39 s   goal 1 s MET
    incremental, modified feed's 2,137 new CVEs     60 s (header) / 105 s (loaded) → 24.3 s   goal 1 s MISSED
                                                    (+757,802 rows, ~31,000 rows/s including everything)
    full rematch, first run                         131 s (header) → 80.6 s (~30,700 rows/s)   MISSED
    after 52 upgrades (683 closed)                  0.88 s → 1.17 s (tallies recounted); nothing changed 0.29 s
    rebuild (every stored finding compared with a fresh evaluation)   104 s, 0 differences: the incremental
                                                    runs, fan-out of new CVEs included, agree with it
    screens at 3,229,741 findings (warm server; 11–21 queries each, independent of the number of rows):
      board 28.8 s → 0.63 s; findings first page 2.6 s → 0.20 s, page 40 3.8 s → 0.17 s, 緊急+KEV 0.54 s →
      0.31 s; CVE page 3.0 s → 0.015 s; device page 0.06–0.39 s; watch list 1.5 s → 0.17 s; CSV of 緊急+KEV
      0.4–0.9 s. Still slow: search 'chrome' 4.9 s → 1.9 s (a LIKE over every finding, no
      full-text index) and the CSV of all open findings (capped at 100,000 rows, 40 MB) ~10 s — a download.

PostgreSQL 15 (local), 2,000 devices (251,654 findings, 326,575 after the modified feed), same code: first
run 24.3 s (18.0 s before: the tallies and a loaded machine), steady-state full 2.5 s, 82 re-scored CVEs
0.13 s, 2,137 new CVEs 6.6 s (+74,921); screens 0.03–0.21 s (board 0.21 s, findings first page 0.10 s,
search 0.34 s) once the run has refreshed the planner statistics (ANALYZE after ≥ 10,000 rows written;
without it the first page took 0.64 s and the board 0.78 s); CSV of all open findings 9.3 s.

What changed: the board reads tallies kept by the rematch (DeviceTally, CveTally) instead of grouping the
findings; a list-order index, the CVE filter on the indexed id, rematch queries without the default ORDER BY
(SQLite walked the list index otherwise); devices seen for the first time and CVEs that no finding names fan
out per image (no per-device candidate objects or pair-level diff); the AND-platform check cached per (CPE
name, platform); executemany of one prepared INSERT (SQLite ~40,000 rows/s vs ~30,000 with 500-row
statements); 10 → 7 indexes per row. cProfile of the first run (--profile, 84.9 s, machine loaded): INSERTs
56.4 s, engine 8.8 s, tallies 7.5 s (new, the price of the 0.6 s board), candidates 5.2 s (was ~36 s), of
which the platform check 0.6 s (was 16.4 s).

Why the write goals are still missed: one row per (device, CVE) — ~124 CVEs per affected device here
(Windows, browsers, office suites) — makes the first run and large batches of new CVEs write-bound on SQLite
(~30,000–40,000 rows/s with 7 indexes). The way to the 1 s goal is group-level findings: one row per (image =
set of CPE names, CVE), per-device rows only for devices whose status departs from their group's
(see docs/architecture.md).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NVD = ROOT.parent / "shared" / "data" / "nvd" / "legacy-1.1"
DEFAULT_FEEDS = ["nvdcve-1.1-2017.json.gz", "nvdcve-1.1-2018.json.gz", "nvdcve-1.1-2022.snapshot-*.json.gz",
                 "nvdcve-1.1-2023.snapshot-*.json.gz"]


def _setup() -> None:
    os.environ.setdefault("ANZEN_HOME", tempfile.mkdtemp(prefix="anzen-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if connection.vendor == "sqlite":  # a file in the throwaway home, as in production
        connection.settings_dict["NAME"] = os.path.join(os.environ["ANZEN_HOME"], "bench.sqlite3")
        connection.close()
    call_command("migrate", verbosity=0)


def _once(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _row(label: str, seconds: float, baseline: float | None = None, extra: str = "") -> str:
    base = f"baseline {baseline * 1000:9.1f} ms   ×{seconds / baseline:6.1f}" if baseline else " " * 30
    return f"  {label:<46} {seconds * 1000:9.1f} ms   {base}  {extra}"


def _split_modified(path: Path, known: set[str]) -> tuple[tuple[int, int], Path, Path]:
    """The NVD 1.1 modified feed cut in two files: CVEs the store already has (re-scored or corrected) and
    CVEs new to it (published or first seen in another year's feed)."""
    import gzip
    import json

    data = json.loads(gzip.decompress(path.read_bytes()))
    items = data.pop("CVE_Items")
    old = [i for i in items if i["cve"]["CVE_data_meta"]["ID"] in known]
    new = [i for i in items if i["cve"]["CVE_data_meta"]["ID"] not in known]
    home = Path(os.environ["ANZEN_HOME"])
    files = []
    for name, part in (("modified-new.json.gz", new), ("modified-known.json.gz", old)):
        target = home / name
        target.write_bytes(gzip.compress(json.dumps({**data, "CVE_data_numberOfCVEs": str(len(part)),
                                                     "CVE_Items": part}).encode()))
        files.append(target)
    return (len(old), len(new)), files[0], files[1]


def _pages(hospital: Any, findings: Any) -> None:
    """The screens a member of the institution's staff opens, with the Django test client (queries counted)."""
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from anzen.accounts import services as accounts
    from anzen.accounts.middleware import ACTIVE_MEMBERSHIP
    from anzen.accounts.roles import Role

    user = accounts.user_create(username="bench-staff", email="bench@example.test", display_name="bench",
                                password="bench-password-123")
    membership = accounts.membership_add(user=user, organisation=hospital, role=Role.STAFF)
    client = Client()
    client.force_login(user)
    session = client.session
    session[ACTIVE_MEMBERSHIP] = membership.pk
    session.save()
    top = findings.filter(status="new").order_by("-kev", "-score", "cve_id").values_list("cve_id", flat=True)[:1]
    cve_id = top[0] if top else "CVE-2018-13379"
    device_id = findings.values("device_id").annotate(n=Count("id")).order_by("-n")[0]["device_id"]
    client.get("/vulns/notices/")  # warm up: URL conf, templates and translations load on the first request
    print(f"\nScreens at this scale ({findings.count():,} findings; staff of the institution, test client)")
    for label, url in (("board", "/vulns/"), ("findings, first page", "/vulns/findings/"),
                       ("findings, page 40", "/vulns/findings/?page=40"),
                       ("findings, 緊急 + KEV", "/vulns/findings/?severity=critical&kev=yes"),
                       ("findings, search 'chrome'", "/vulns/findings/?q=chrome"),
                       (f"CVE page ({cve_id})", f"/vulns/cves/{cve_id}/"),
                       ("watch list (manual and possible findings)", "/vulns/watch/"),
                       ("device page (most findings)", f"/vulns/devices/{device_id}/"),
                       ("CSV export, 緊急 + KEV", "/vulns/findings/export/csv/?severity=critical&kev=yes"),
                       ("CSV export, all open (capped)", "/vulns/findings/export/csv/")):
        with CaptureQueriesContext(connection) as queries:
            seconds, response = _once(lambda url=url: client.get(url))
        size = len(response.content) if not response.streaming else 0
        print(_row(label, seconds, None, f"HTTP {response.status_code}, {len(queries)} queries, {size:,} bytes"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--feeds", nargs="*", default=DEFAULT_FEEDS, help="file patterns in legacy-1.1")
    parser.add_argument("--modified", default=str(NVD / "nvdcve-1.1-modified.json.gz"))
    parser.add_argument("--profile", action="store_true", help="cProfile the full rematch (top 30 by cumulative)")
    parser.add_argument("--rebuild", action="store_true", help="also time a rebuild (compares every stored finding)")
    args = parser.parse_args(argv)
    _setup()

    from django.db import connection

    from anzen.accounts import services as accounts
    from anzen.accounts.roles import InstitutionType, OrgKind
    from anzen.assets import services as assets
    from anzen.assets.models import Software
    from anzen.common.permissions import Actor
    from anzen.vulns import engine, services_feeds, services_watch
    from anzen.vulns.models import Cve
    from anzen.vulns.models_watch import Finding
    from benchmarks.assets_ledger_data import generate

    print(f"Anzen benchmark: vulnerability rematch — {args.devices} devices   database: {connection.vendor}")
    files = sorted({p for pattern in args.feeds for p in NVD.glob(pattern)})
    seconds, _ = _once(lambda: services_feeds.import_paths(paths=files))
    seconds_demo, _ = _once(services_feeds.import_demo_excerpt)
    print(f"  CVE store: {Cve.objects.count():,} CVEs from {', '.join(p.name for p in files)} and the demo excerpt "
          f"(import {seconds + seconds_demo:.0f} s, not part of the goal)")

    hospital = accounts.organisation_create(kind=OrgKind.INSTITUTION, name="ベンチマーク大学病院", code="bench-h",
                                            institution_type=InstitutionType.HOSPITAL, beds=1200)
    system = Actor.system()
    devices = generate(args.devices)
    rows = [d.row() for d in devices]
    for row in rows:  # the generator copies versions such as 15.4(3)m as they are; CPE 2.3 escapes them
        for item in row["software"]:
            if item.get("cpe23"):
                item["cpe23"] = re.sub(r"(?<!\\)([()])", r"\\\1", item["cpe23"])
    seconds, _ = _once(lambda: assets.devices_bulk_create(actor=system, rows=rows, source="import",
                                                          institution=hospital))
    software = Software.objects.filter(device__institution=hospital)
    print(f"  ledger: {args.devices:,} devices, {software.count():,} software rows "
          f"({software.exclude(cpe23='').count():,} with CPE), written in {seconds:.1f} s")

    def read_ledger() -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for device_id, cpe23 in software.exclude(cpe23="").values_list("device_id", "cpe23").iterator(10000):
            found.setdefault(device_id, set()).add(cpe23)
        return found

    read_seconds, _ = _once(read_ledger)
    ledger = services_watch.load_ledger(hospital.pk)
    identities = list(ledger.identities.values())
    engine_seconds, hits = _once(lambda: engine.match_identities(identities))
    print(f"  {len(identities)} distinct software identities; the engine finds "
          f"{sum(len(v) for v in hits.values()):,} (identity, CVE) matches")

    print("\nRematch (goals: full ≤ 5 s, incremental after the modified feed ≤ 1 s)")
    print(_row("baseline: read the ledger's CPE rows", read_seconds))
    print(_row("baseline: engine alone on the identities", engine_seconds))
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    full_seconds, full = _once(lambda: services_watch.rematch(institution=hospital, full=True, notify=False))
    if args.profile:
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(30)
        stats.print_stats(r"services_watch|services_tallies|platform_satisfied", 25)  # the watch's own parts
    affected = Finding.objects.filter(institution=hospital).values("device").distinct().count()
    print(_row("full rematch (first run)", full_seconds, engine_seconds,
              f"{full.created:,} findings on {affected:,} devices; "
              f"goal 5 s: {'met' if full_seconds <= 5 else 'MISSED'}"))

    steady_seconds, steady = _once(lambda: services_watch.rematch(institution=hospital, full=True, notify=False))
    print(_row("full rematch (steady state, nightly)", steady_seconds, engine_seconds,
              f"{steady.keys_checked:,} pairs compared, {steady.changed:,} changed; "
              f"goal 5 s: {'met' if steady_seconds <= 5 else 'MISSED'}"))

    known, new_file, changed_file = _split_modified(Path(args.modified), set(Cve.objects.values_list("cve_id",
                                                                                                    flat=True)))
    for label, path in (("modified feed, CVEs already in the store", changed_file),
                        ("modified feed, CVEs new to the store", new_file)):
        seconds, results = _once(lambda path=path: services_feeds.import_paths(paths=[path]))
        new_cves, updated = sum(r.new for r in results), sum(r.updated for r in results)
        print(f"  (imported {label}: {new_cves:,} new, {updated:,} updated CVEs in {seconds:.1f} s, not timed)")
        inc_seconds, inc = _once(lambda: services_watch.rematch(institution=hospital, notify=False))
        print(_row("incremental: " + label.split(", ")[1].replace("CVEs ", ""), inc_seconds, read_seconds,
                  f"{inc.cves_changed:,} CVEs changed; +{inc.created:,} / re-scored {inc.rescored:,} / updated "
                  f"{inc.updated:,} / closed {inc.closed:,}; goal 1 s: {'met' if inc_seconds <= 1 else 'MISSED'}"))
    print(f"  (the modified feed holds {known[0] + known[1]:,} CVEs: {known[0]:,} already in the store, "
          f"{known[1]:,} new to it)")

    _pages(hospital, Finding.objects.filter(institution=hospital))

    upgraded = list(software.filter(cpe23__contains=":fortios:").values_list("pk", flat=True)[:100]) or list(
        software.exclude(cpe23="").values_list("pk", flat=True)[:100])
    for row in Software.objects.filter(pk__in=upgraded):
        assets.software_update(actor=system, software=row, name=row.name,
                               cpe23=row.cpe23.rsplit(":", 7)[0].rsplit(":", 1)[0] + ":99.0:*:*:*:*:*:*:*")
    ledger_seconds, led = _once(lambda: services_watch.rematch(institution=hospital, notify=False))
    print(_row(f"incremental rematch after {len(upgraded)} upgrades", ledger_seconds, read_seconds,
              f"closed {led.closed}, created {led.created}"))
    idle_seconds, idle = _once(lambda: services_watch.rematch(institution=hospital, notify=False))
    print(_row("rematch with nothing changed", idle_seconds, read_seconds, f"changed {idle.changed}"))
    if args.rebuild:
        rebuild_seconds, rebuild = _once(lambda: services_watch.rematch(institution=hospital, rebuild=True,
                                                                        notify=False))
        print(_row("rebuild (check: incremental runs agree)", rebuild_seconds, engine_seconds,
                  f"differences found: {rebuild.changed}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
