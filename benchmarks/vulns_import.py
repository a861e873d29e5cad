"""Benchmark (not a timed test): import all of ../shared/data/nvd into a fresh SQLite database.

    .venv/bin/python benchmarks/vulns_import.py [--db /tmp/anzen-vulns-bench.sqlite3] [--only PATTERN]

In the same run it first measures the time to merely decompress and parse the same files with orjson
(the floor for any importer), then imports them with `services_feeds.import_paths` into a fresh SQLite
database (migrated first; migration time is not counted). Peak memory is the process's maximum resident
set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, so it covers both phases), reported after each.

Goal (issue 5): import ≤ 2.5 × parse time, peak ≤ 1.5 GB.

Figures (2-core machine shared with other engineers' work, SQLite on local disk; 21 files: the 19 yearly NVD
1.1 feeds plus modified and recent, 159,876 records, 766 MB of uncompressed JSON; ru_maxrss):
    parse only 14.8 s; import 35.2 s (159,204 new, 82 updated, 590 unchanged, 0 errors; 335,081 index rows;
    964 MB database); ratio 2.38; peak RSS 586 MB.
    Before the executemany insert path (bulk_create): import 95.0 s vs parse 26.7 s in a busier run, 3.55;
    and 36.9 s vs 14.1 s, 2.62, before skipping identity converters. Runs vary ±30 % with the machine's load.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NVD = ROOT.parent / "shared" / "data" / "nvd" / "legacy-1.1"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=os.path.join(tempfile.gettempdir(), "anzen-vulns-bench.sqlite3"))
    parser.add_argument("--only", default="nvdcve-1.1-*.json.gz")
    args = parser.parse_args()
    files = sorted(NVD.glob(args.only))
    if not files:
        sys.exit(f"no feed files under {NVD}")

    import orjson

    started = time.perf_counter()
    records = 0
    for path in files:
        document = orjson.loads(gzip.decompress(path.read_bytes()))
        records += len(document.get("CVE_Items", ()))
        del document
        gc.collect()
    parse = time.perf_counter() - started
    print(f"parse only: {len(files)} files, {records} records, {parse:.1f} s, peak RSS {peak_mb():.0f} MB",
          flush=True)

    Path(args.db).unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from anzen.vulns import services_feeds
    from anzen.vulns.models import Cve, CveProduct

    started = time.perf_counter()
    results = services_feeds.import_paths(paths=files, actor_label="benchmark")
    imported = time.perf_counter() - started
    totals = {key: sum(getattr(item, key) for item in results) for key in ("new", "updated", "unchanged",
                                                                          "skipped", "errors")}
    failed = [item.name for item in results if item.status != "ok"]
    print(f"import: {imported:.1f} s, {totals}, failed {failed}, CVE rows {Cve.objects.count()}, "
          f"index rows {CveProduct.objects.count()}, database {Path(args.db).stat().st_size / 1e6:.0f} MB")
    print(f"ratio import/parse {imported / parse:.2f} (goal ≤ 2.5), peak RSS {peak_mb():.0f} MB (goal ≤ 1536)")


if __name__ == "__main__":
    main()
