"""Rematch: real CVE records against a small hospital ledger — findings with Japanese labels and reasons,
AND configurations that need the platform, incremental runs after a ledger change or a feed import that
agree with a full rebuild, findings closed (never deleted) when they no longer match."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from anzen.assets import services as assets
from anzen.assets.models import Software
from anzen.common.models import AuditEntry
from anzen.vulns import services_watch
from anzen.vulns.models import Cve
from anzen.vulns.models_watch import Finding, FindingEvent, MatchedIdentity
from tests.vulns.watch_support import (  # noqa: F401  (fixtures)
    ACTIVEMQ_FIXED,
    FIXTURES,
    Ledger,
    cves_fixture,
    finding,
    import_cves,
    ledger_fixture,
)

pytestmark = pytest.mark.django_db


def rematch(ledger: Ledger, **options: Any) -> services_watch.RematchReport:
    return services_watch.rematch(institution=ledger.world.hospital, notify=False, **options)


def state(world: Any) -> dict[tuple[int | None, str], tuple[str, str, str]]:
    return {(f.device_id, f.cve_id): (f.status, f.confidence, f.reason)
            for f in Finding.objects.filter(institution=world.hospital)}


def test_first_run_finds_the_demo_products_real_cves_with_japanese_labels_and_reasons(ledger: Ledger) -> None:
    report = rematch(ledger)
    assert report.mode == "full" and report.created == len(state(ledger.world))
    fortios = finding(ledger.world, ledger.fw1, "CVE-2018-13379")
    assert fortios.confidence == "confirmed" and fortios.severity == "critical"
    assert fortios.severity_label == "緊急" and fortios.score == Decimal("9.8")
    assert "6.0.4" in fortios.reason and "該当" in fortios.reason
    assert finding(ledger.world, ledger.fw1, "CVE-2022-42475").confidence == "confirmed"
    assert finding(ledger.world, ledger.fw2, "CVE-2022-42475").kev  # exploited: CISA KEV
    assert not Finding.objects.filter(device=ledger.fw2, cve_id="CVE-2018-13379").exists()  # 6.4.9 is not in range
    activemq = finding(ledger.world, ledger.mq, "CVE-2023-46604")
    assert activemq.severity_label in ("緊急", "重要") and "5.16.2" in activemq.reason
    yamaha = finding(ledger.world, ledger.rtx, "CVE-2018-0665")
    assert yamaha.confidence == "confirmed" and "rtx810" in yamaha.reason.lower()
    assert not FindingEvent.objects.filter(finding=fortios).exists()  # the finding itself records its detection
    from anzen.vulns import selectors

    [detected] = selectors.finding_events(fortios)
    assert detected.kind == "matched" and detected.at == fortios.first_seen and "6.0.4" in detected.note
    assert AuditEntry.objects.filter(object_type="vulns.finding", message__contains="新規").exists()


def test_an_and_configuration_needs_the_platform_on_the_device(ledger: Ledger) -> None:
    rematch(ledger)
    assert Finding.objects.filter(device=ledger.rtx, cve_id="CVE-2018-0665").exists()
    assert not Finding.objects.filter(device=ledger.rtx_alone).exists()
    ledger.add(ledger.rtx_alone, "cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*")
    report = rematch(ledger)
    assert report.mode == "incremental" and report.created == 1
    assert finding(ledger.world, ledger.rtx_alone, "CVE-2018-0665").status == "new"


def test_a_second_run_with_nothing_changed_writes_nothing(ledger: Ledger) -> None:
    rematch(ledger)
    before = state(ledger.world)
    audit_count = AuditEntry.objects.count()
    for options in ({}, {"full": True}, {"rebuild": True}):
        report = rematch(ledger, **options)
        assert report.changed == 0, options
    assert state(ledger.world) == before
    assert AuditEntry.objects.count() == audit_count


def test_a_run_in_english_writes_the_same_japanese_reasons(ledger: Ledger) -> None:
    """Reasons are stored and compared: an English screen or `--lang en` must not rewrite every finding."""
    from django.utils import translation

    rematch(ledger)
    before = state(ledger.world)
    with translation.override("en"):
        report = rematch(ledger, rebuild=True)
    assert report.changed == 0 and state(ledger.world) == before
    assert "該当" in finding(ledger.world, ledger.fw1, "CVE-2018-13379").reason


def test_an_upgrade_closes_the_finding_as_fixed_with_a_reason_and_a_downgrade_reopens_it(ledger: Ledger) -> None:
    rematch(ledger)
    software = Software.objects.get(device=ledger.mq)
    assets.software_update(actor=ledger.system, software=software, name="ActiveMQ", cpe23=ACTIVEMQ_FIXED)
    report = rematch(ledger)
    assert (report.mode, report.closed, report.created) == ("incremental", 1, 0)
    closed = finding(ledger.world, ledger.mq, "CVE-2023-46604")
    assert closed.status == "fixed" and closed.closed_at is not None and "該当しなくなった" in closed.status_note
    software.refresh_from_db()
    assets.software_update(actor=ledger.system, software=software, name="ActiveMQ",
                           cpe23="cpe:2.3:a:apache:activemq:5.16.2:*:*:*:*:*:*:*")
    report = rematch(ledger)
    assert report.reopened == 1
    reopened = finding(ledger.world, ledger.mq, "CVE-2023-46604")
    assert reopened.pk == closed.pk and reopened.status == "new" and reopened.closed_at is None
    assert [e.kind for e in reopened.events.order_by("at", "id")] == ["closed", "reopened"]


def test_a_retired_device_closes_its_findings(ledger: Ledger) -> None:
    rematch(ledger)
    assets.device_update(actor=ledger.system, device=ledger.fw1, status="disposed")
    report = rematch(ledger)
    assert report.closed == 2
    for f in Finding.objects.filter(device=ledger.fw1):
        assert f.status == "fixed" and "廃棄" in f.status_note


def test_false_positives_stay_false_positives(ledger: Ledger) -> None:
    rematch(ledger)
    fp = finding(ledger.world, ledger.fw2, "CVE-2022-42475")
    Finding.objects.filter(pk=fp.pk).update(status="false_positive")
    assets.device_update(actor=ledger.system, device=ledger.fw2, status="disposed")
    rematch(ledger, full=True)
    fp.refresh_from_db()
    assert fp.status == "false_positive"


def _rescored(tmp_path: Any) -> Any:
    """CVE-2023-46604 as a newer NVD 2.0 record whose primary score dropped to 7.5 (a re-score)."""
    record = json.loads((FIXTURES / "nvd20/CVE-2023-46604.json").read_text())
    cve = record.get("cve", record)
    cve["lastModified"] = "2099-01-01T00:00:00.000"
    for item in cve["metrics"].get("cvssMetricV31", []):
        item["cvssData"]["baseScore"] = 7.5
        item["cvssData"]["baseSeverity"] = "HIGH"
    path = tmp_path / "CVE-2023-46604.json"
    path.write_text(json.dumps(record))
    return path


def test_an_incremental_run_after_a_feed_import_looks_only_at_the_changed_cves(ledger: Ledger, tmp_path: Any) -> None:
    rematch(ledger)
    from anzen.vulns import services_feeds

    services_feeds.import_paths(paths=[_rescored(tmp_path)])
    assert Cve.objects.get(cve_id="CVE-2023-46604").base_score == Decimal("7.5")
    report = rematch(ledger)
    assert report.mode == "incremental" and report.cves_changed == 1
    assert (report.rescored, report.created, report.closed) == (1, 0, 0)
    updated = finding(ledger.world, ledger.mq, "CVE-2023-46604")
    assert updated.score == Decimal("7.5") and updated.severity == "high"
    assert updated.events.filter(kind="rescored", note__contains="7.5").exists()
    assert MatchedIdentity.objects.get(cve_id="CVE-2023-46604").score == Decimal("7.5")


def test_incremental_runs_agree_with_a_full_rebuild(ledger: Ledger, tmp_path: Any) -> None:
    rematch(ledger)
    import_cves("nvd11/CVE-2017-0144.json")
    fw3 = assets.device_create(actor=ledger.system, institution=ledger.world.hospital, hostname="fw-new",
                               kind="network")
    ledger.add(fw3, "cpe:2.3:o:fortinet:fortios:6.0.2:*:*:*:*:*:*:*")
    software = Software.objects.get(device=ledger.fw2, cpe23__contains="fortios")
    software.delete()
    rematch(ledger)
    incremental = state(ledger.world)
    report = rematch(ledger, rebuild=True)
    assert report.changed == 0
    assert state(ledger.world) == incremental
    assert finding(ledger.world, fw3, "CVE-2018-13379").status == "new"
    assert finding(ledger.world, ledger.fw2, "CVE-2022-42475").status == "fixed"


def test_products_without_cpe_are_not_matched(ledger: Ledger) -> None:
    rematch(ledger)
    assert not Finding.objects.filter(device=ledger.monitor).exists()
