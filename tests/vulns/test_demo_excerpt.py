"""The bundled demo excerpt: real records that match the demo ledger's devices."""

from __future__ import annotations

import random

import pytest

from anzen.demo import assets as demo_assets
from anzen.vulns import engine, services_feeds
from anzen.vulns.models import Cve, CveRevision, FeedImport

pytestmark = pytest.mark.django_db


def test_excerpt_imports_idempotently() -> None:
    first = services_feeds.import_demo_excerpt()
    assert [item.fmt for item in first] == ["cve5", "nvd20"]
    # 151 records: 58 CVE 5 for CVEs NVD never analysed, 11 CISA ADP records beside NVD ones (KEV), 82 NVD;
    # the NVD part of those 11 rows arrives second and counts as an update of the row (kept in the history)
    assert sum(item.new for item in first) == Cve.objects.count() == 140
    assert sum(item.updated for item in first) == CveRevision.objects.count() == 11
    assert Cve.objects.get(cve_id="CVE-2018-13379").kev  # KEV known from CISA's record, not NVD 1.1
    assert Cve.objects.filter(kev=True).count() >= 1
    assert {"critical", "high", "medium"} <= set(Cve.objects.values_list("severity", flat=True))
    assert {"CVE-2018-13379", "CVE-2022-42475", "CVE-2023-46604", "CVE-2024-3400", "CVE-2024-1486"} <= set(
        Cve.objects.values_list("cve_id", flat=True))
    second = services_feeds.import_demo_excerpt()
    assert sum(item.unchanged for item in second) == 151 and sum(item.new + item.updated for item in second) == 0
    assert CveRevision.objects.count() == 11
    assert FeedImport.objects.filter(status=FeedImport.Status.OK).count() == 4


def test_demo_devices_match() -> None:
    """Software the demo ledger gives its devices (every family, random example versions) hits real CVEs
    with each confidence level's reason, and labels across the scale."""
    services_feeds.import_demo_excerpt()
    rng = random.Random(7)
    names = set()
    for group in demo_assets.families().values():
        for family in group:
            if family.has_cpe:
                for _draw in range(3):
                    names.add(family.pick(rng)["cpe23"])
    identities = []
    for name in sorted(names):
        try:
            identities.append(engine.Identity.from_cpe23(name))
        except ValueError:
            continue
    result = engine.match_identities(identities)
    matched = [identity for identity, hits in result.items() if hits]
    assert len(matched) >= 20, len(matched)
    every_hit = [hit for hits in result.values() for hit in hits]
    assert {engine.CONFIRMED, engine.MANUAL} <= {hit.confidence for hit in every_hit}
    assert any(hit.requires_platform for hit in every_hit)
    assert all(hit.reason for hit in every_hit)
    severities = set(Cve.objects.filter(cve_id__in={hit.cve_id for hit in every_hit}).values_list("severity",
                                                                                                 flat=True))
    assert {"critical", "high", "medium"} <= severities
