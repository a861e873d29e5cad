#!/usr/bin/env python
"""Benchmark: an institution with 50 vendors over 3 fiscal years — page times and the inspection pack.

    .venv/bin/python benchmarks/assessments_pack.py [--vendors 50] [--years 3] [--repeat 5]

Runs in a throwaway ANZEN_HOME on SQLite (or on DATABASE_URL's PostgreSQL when set: the data is
generated there, use an empty database). Generates the data (benchmarks/assessments_data.py), then
measures, as the institution's 担当者 through Django's test client:

- the assessment page of the institution's checklist and of an MDS/SDS, the list of assessments and the
  dashboard (median of --repeat requests, with the number of SQL queries);
- the inspection pack of the current fiscal year (PDF, zip, CSV) and its parts.

Each figure has a baseline measured in the same run on the same data — the same rows read and serialised
to JSON (pages) or written to CSV (pack) — and the ratio to it. Not a timed test: nothing fails, the
figures are printed.
"""

from __future__ import annotations

import argparse
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

    setup_test_environment()  # the test client's host, locmem e-mail
    call_command("migrate", verbosity=0)


def _median(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _queries(func: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)


def _row(label: str, seconds: float, baseline: float, extra: str = "") -> str:
    ratio = seconds / baseline if baseline else float("inf")
    return f"  {label:<38} {seconds * 1000:9.1f} ms   baseline {baseline * 1000:8.1f} ms   ×{ratio:6.1f}  {extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--vendors", type=int, default=50)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    _setup()

    from django.test import Client
    from django.urls import reverse

    from anzen.accounts.middleware import ACTIVE_MEMBERSHIP
    from anzen.assessments import exports, pack
    from anzen.assessments.models import Answer, Assessment, SubjectKind
    from anzen.common.permissions import Actor
    from benchmarks.assessments_data import generate

    print(f"Anzen benchmark: inspection pack and pages — {args.vendors} vendors × {args.years} fiscal years")
    from django.db import connection

    print(f"  database: {connection.vendor}   python {sys.version.split()[0]}")
    start = time.perf_counter()
    world = generate(vendors=args.vendors, years=args.years)
    assessments = Assessment.objects.filter(institution=world.institution)
    print(f"  data: {assessments.count()} assessments, {Answer.objects.filter(assessment__in=assessments).count()} "
          f"answers, generated in {time.perf_counter() - start:.1f} s")
    year = world.current_year
    current = list(assessments.filter(fiscal_year=year))
    own = next(a for a in current if a.subject_kind == SubjectKind.INSTITUTION)
    mds = next(a for a in current if a.subject_kind == SubjectKind.SYSTEM)

    client = Client()
    client.force_login(world.staff.user)
    session = client.session
    session[ACTIVE_MEMBERSHIP] = world.staff.pk
    session.save()
    actor = Actor(world.staff.user, world.staff)

    def page(url: str) -> Callable[[], Any]:
        def get() -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response
        return get

    def answers_json(assessment: Assessment) -> Callable[[], str]:
        return lambda: json.dumps(list(Answer.objects.filter(assessment=assessment).values(
            "node__node_id", "node__ref", "node__text", "round1_value", "round1_date", "target_date",
            "round2_value", "round2_date", "remarks", "countermeasure", "review_status")), default=str,
            ensure_ascii=False)

    def list_json() -> str:
        from anzen.assessments import selectors

        rows = selectors.assessments_for(actor).values("pk", "fiscal_year", "subject_kind", "status",
                                                       "respondent__name", "subject_label", "due_date")
        return json.dumps(list(rows), default=str, ensure_ascii=False)

    def year_json() -> str:
        return json.dumps(list(assessments.filter(fiscal_year=year).values(
            "pk", "subject_kind", "status", "respondent__name", "due_date", "submitted_at")), default=str,
            ensure_ascii=False)

    checks = [
        ("assessment page (医療機関確認用)", reverse("assessments:detail", args=[own.pk]), answers_json(own)),
        ("assessment page (MDS/SDS)", reverse("assessments:detail", args=[mds.pk]), answers_json(mds)),
        ("list of assessments", reverse("assessments:list"), list_json),
        ("dashboard", reverse("common:dashboard"), year_json),
    ]
    print(f"\nPages (median of {args.repeat} requests; baseline: the same rows read and serialised to JSON)")
    for label, url, baseline in checks:
        page(url)()  # warm up (templates, translations)
        seconds, _response = _median(page(url), args.repeat)
        base, _data = _median(baseline, args.repeat)
        print(_row(label, seconds, base, f"{_queries(page(url))} queries"))

    print(f"\nInspection pack {year}年度 ({len(current)} assessments; baseline: the same answers written to CSV)")
    csv_seconds, csv_data = _median(lambda: exports.answers_csv(current), max(1, args.repeat // 2))
    documents_seconds, documents = _median(lambda: exports.documents_for(current), max(1, args.repeat // 2))
    from anzen.reports import checklist_pdf, checklist_xlsx

    start = time.perf_counter()
    for document in documents:
        checklist_xlsx.workbook_bytes([document])
    xlsx_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for document in documents:
        checklist_pdf.pdf_bytes(document, exports.page_info(document))
    pdf_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        queries = [0]

        def build() -> Any:
            from django.db import connection as conn
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(conn) as captured:
                result = pack.build_pack(actor=actor, institution=world.institution, fiscal_year=year,
                                         out_dir=Path(folder))
            queries[0] = len(captured.captured_queries)
            return result

        pack_seconds, result = _median(build, 1)
        sizes = {kind: path.stat().st_size for kind, path in result.files.items()}
    print(_row("answers CSV (baseline itself)", csv_seconds, csv_seconds, f"{len(csv_data) // 1024} KiB"))
    print(_row("documents built from the database", documents_seconds, csv_seconds))
    print(_row(f"Excel of each form ({len(documents)})", xlsx_seconds, csv_seconds))
    print(_row(f"PDF of each form ({len(documents)})", pdf_seconds, csv_seconds))
    print(_row("whole pack (PDF + zip + CSV)", pack_seconds, csv_seconds,
               f"{queries[0]} queries; pdf {sizes['pdf'] // 1024} KiB, zip {sizes['zip'] // 1024} KiB"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
