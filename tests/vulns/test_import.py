"""Importing real feeds into the CVE store: formats, merging, history, every CVSS source, KEV."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import lzma
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anzen.common.models import AuditEntry
from anzen.vulns import services_feeds
from anzen.vulns.models import Cve, CveProduct, CveRevision, FeedImport, JvnAdvisory

from .feeds_support import fixture, load

pytestmark = pytest.mark.django_db


def test_nvd11_recent_feed_with_meta() -> None:
    [result] = load("nvd11/nvdcve-1.1-recent.json.gz")
    assert result.fmt == "nvd11" and result.status == FeedImport.Status.OK
    assert result.counts() == {"new": 513, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 0}
    assert Cve.objects.count() == 513
    assert CveProduct.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count() == 1


def test_reimport_changes_nothing() -> None:
    load("nvd11/nvdcve-1.1-recent.json.gz", "nvd20/CVE-2022-42475.json")
    before = list(Cve.objects.order_by("cve_id").values_list("cve_id", "content_hash", "updated_at", "changed_by"))
    products = CveProduct.objects.count()
    again = load("nvd11/nvdcve-1.1-recent.json.gz", "nvd20/CVE-2022-42475.json")
    assert [item.counts()["unchanged"] for item in again] == [513, 1]
    assert all(item.new == item.updated == 0 for item in again)
    after = list(Cve.objects.order_by("cve_id").values_list("cve_id", "content_hash", "updated_at", "changed_by"))
    assert after == before and CveProduct.objects.count() == products
    assert not CveRevision.objects.exists()


def test_newer_record_replaces_older_and_keeps_history() -> None:
    load("nvd11/CVE-2018-0665.json")  # NVD 1.1, last modified 2019
    old = Cve.objects.get(cve_id="CVE-2018-0665")
    [newer] = load("nvd20/CVE-2018-0665.json")  # NVD 2.0, re-analysed later
    assert newer.counts()["updated"] == 1
    row = Cve.objects.get(cve_id="CVE-2018-0665")
    assert row.last_modified > old.last_modified and row.changed_by_id == newer.pk
    [revision] = CveRevision.objects.filter(cve=row)
    assert revision.last_modified == old.last_modified and revision.record == old.record
    assert revision.feed_import_id == newer.pk
    # The older feed imported again afterwards is skipped: it does not undo the newer record.
    [older_again] = load("nvd11/CVE-2018-0665.json")
    assert older_again.counts()["skipped"] == 1
    assert Cve.objects.get(cve_id="CVE-2018-0665").last_modified == row.last_modified


def test_every_cvss_source_and_kev_are_kept() -> None:
    load("nvd20/CVE-2022-42475.json", "cve5/CVE-2022-42475.json")
    row = Cve.objects.get(cve_id="CVE-2022-42475")
    kinds = {(key, item["type"], item["source"]) for key, items in row.metrics.items() for item in items}
    assert ("cvssMetricV31", "Primary", "nvd@nist.gov") in kinds
    assert ("cvssMetricV31", "Secondary", "psirt@fortinet.com") in kinds
    assert (row.base_score, row.score_source, row.score_version, row.severity) == (Decimal("9.8"), "nvd", "3.1",
                                                                                   "critical")
    assert row.kev and row.kev_date_added == dt.date(2022, 12, 13) and row.kev_due_date == dt.date(2023, 1, 3)
    assert row.kev_required_action and "Fortinet" in row.kev_vulnerability_name
    assert set(row.sources) == {"nvd", "cve5"} and row.record_origin == "nvd"
    assert row.cve5["affected"]  # the CNA's affected data is kept beside NVD's record


def test_cve5_vulnrichment_only_record() -> None:
    """CVE-2024-3400 from CISA vulnrichment: CNA CVSS 10.0, KEV from the ADP container, no NVD record."""
    [result] = load("cve5/CVE-2024-3400.json")
    assert result.fmt == "cve5" and result.new == 1
    row = Cve.objects.get(cve_id="CVE-2024-3400")
    assert row.record_origin == "cve5" and not row.has_configurations
    assert (row.base_score, row.score_source, row.severity) == (Decimal("10.0"), "cna", "critical")
    assert row.kev and row.kev_date_added == dt.date(2024, 4, 12)
    assert row.record["id"] == "CVE-2024-3400" and row.description_en.startswith("A command injection")


def test_cve_without_configurations_keeps_cna_score() -> None:
    load("nvd20/CVE-2024-1486.json", "cve5/CVE-2024-1486.json")
    row = Cve.objects.get(cve_id="CVE-2024-1486")
    assert row.vuln_status == "Awaiting Analysis" and not row.has_configurations
    assert (row.base_score, row.score_source, row.severity) == (Decimal("7.4"), "cna", "high")
    assert set(CveProduct.objects.filter(cve=row).values_list("origin", flat=True)) == {"cve5"}


def test_v2_only_is_flagged() -> None:
    load("nvd11/nvdcve-1.1-recent.json.gz")
    flagged = Cve.objects.filter(v2_only=True)
    for row in flagged:
        assert row.score_version == "2.0"
        assert "cvssMetricV31" not in row.metrics and "cvssMetricV30" not in row.metrics
    assert not Cve.objects.filter(v2_only=False, score_version="2.0").exists()


def test_nvd_api_page() -> None:
    [result] = load("nvd20/cves-api-full-page-38.json")
    assert result.fmt == "nvd20" and result.new == 38


def test_api_page_as_bytes() -> None:
    data = fixture("nvd20/cves-api-full-page-38.json").read_bytes()
    result = services_feeds.import_bytes(name="page-0.json", data=data, source="https://example.test/api",
                                         kind=FeedImport.Kind.API)
    assert result.status == FeedImport.Status.OK and result.new == 38 and result.kind == FeedImport.Kind.API


# --- JVN iPedia ---------------------------------------------------------------------------------------


def test_jvn_xml_detail_keeps_japanese_text() -> None:
    [result] = load("jvn/getVulnDetailInfo_hnd_JVNDB-2022-000097.xml")
    assert result.fmt == "jvn-xml" and result.new == 3
    advisory = JvnAdvisory.objects.get(jvndb_id="JVNDB-2022-000097")
    assert advisory.title == "電子入札コアシステムにおける複数の脆弱性"
    assert "電子入札" in advisory.overview
    assert advisory.cve_ids == ["CVE-2022-41993", "CVE-2022-46287", "CVE-2022-46288"]
    row = Cve.objects.get(cve_id="CVE-2022-41993")
    assert row.title_ja == advisory.title and "JVNDB-2022-000097" in row.jvn_ids
    assert row.record_origin == "jvn" and row.score_source == "jvn"


def test_jvn_json_detail_and_overview_list() -> None:
    load("jvn/getVulnDetailInfo_hnd_JVNDB-2022-000097.xml")
    [detail, overview] = load("jvn/getVulnDetailInfo_oka_JVNDB-2022-000097.json", "jvn/getVulnOverviewList_oka.json")
    assert detail.fmt == overview.fmt == "jvn-json"
    assert overview.new >= 1
    rockwell = JvnAdvisory.objects.get(jvndb_id="JVNDB-2025-002884")
    assert "Rockwell Automation" in rockwell.title and rockwell.cve_ids == ["CVE-2025-23120"]
    assert Cve.objects.get(cve_id="CVE-2025-23120").title_ja == rockwell.title


def test_jvn_rdf_data_feed() -> None:
    [result] = load("jvn/jvndb_detail_2023.rdf")
    assert result.fmt == "jvn-xml" and result.new == 2
    assert JvnAdvisory.objects.filter(title__contains="脆弱性").count() == 2


def test_new_jvn_advisories_are_inserted_together() -> None:
    with CaptureQueriesContext(connection) as queries:
        [result] = load("jvn/getVulnOverviewList_oka.json")
    inserts = [query["sql"] for query in queries.captured_queries
               if query["sql"].startswith('INSERT INTO "vulns_jvnadvisory"')]
    assert JvnAdvisory.objects.count() > 1 and result.new >= 1
    assert len(inserts) == 1


# --- files, archives, directories ------------------------------------------------------------------------


def test_xz_zip_and_directory(tmp_path: Path) -> None:
    plain = gzip.decompress(fixture("nvd11/nvdcve-1.1-recent.json.gz").read_bytes())
    (tmp_path / "usb").mkdir()
    (tmp_path / "usb" / "recent.json.xz").write_bytes(lzma.compress(plain))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(fixture("nvd20/CVE-2023-46604.json"), "nvd/CVE-2023-46604.json")
        archive.write(fixture("jvn/jvndb_new.rdf"), "jvn/jvndb_new.rdf")
    (tmp_path / "usb" / "more.zip").write_bytes(buffer.getvalue())
    (tmp_path / "usb" / "README.txt").write_text("not a feed", encoding="utf-8")
    results = services_feeds.import_paths(paths=[tmp_path / "usb"])
    assert [(item.name, item.status, item.fmt, item.new) for item in results] == [
        ("more.zip!jvn/jvndb_new.rdf", "ok", "jvn-xml", 2),
        ("more.zip!nvd/CVE-2023-46604.json", "ok", "nvd20", 1),
        ("recent.json.xz", "ok", "nvd11", 513),
    ]


# --- malformed and truncated feeds: a Japanese error, nothing half-imported ------------------------------


def _failed(path: Path) -> FeedImport:
    [result] = services_feeds.import_paths(paths=[path])
    assert result.status == FeedImport.Status.FAILED and result.errors == 1
    assert result.new == result.updated == 0
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, message__contains="失敗").exists()
    return result


def test_truncated_gzip(tmp_path: Path) -> None:
    raw = fixture("nvd11/nvdcve-1.1-recent.json.gz").read_bytes()
    path = tmp_path / "nvdcve-1.1-recent.json.gz"
    path.write_bytes(raw[: len(raw) * 2 // 3])
    result = _failed(path)
    assert "途中" in result.error and "何も取り込んでいません" in result.error
    assert not Cve.objects.exists()


def test_truncated_json(tmp_path: Path) -> None:
    raw = fixture("nvd20/cves-api-full-page-38.json").read_bytes()
    path = tmp_path / "page.json"
    path.write_bytes(raw[: len(raw) // 2])
    result = _failed(path)
    assert "JSON として読めません" in result.error and "page.json" in result.error
    assert not Cve.objects.exists()


def test_real_malformed_myjvn_feed() -> None:
    """MyJVN's own example data feed has `"retMax": ,` (kept as published)."""
    result = _failed(fixture("malformed/dataFeed_jvndb_detail_oka.json"))
    assert "JSON として読めません" in result.error
    assert not JvnAdvisory.objects.exists()


def test_meta_mismatch_rolls_back_every_record(tmp_path: Path) -> None:
    """The .meta check ends after every record was read and written: the whole file is rolled back."""
    shutil.copy(fixture("nvd11/nvdcve-1.1-recent.json.gz"), tmp_path / "nvdcve-1.1-recent.json.gz")
    meta = fixture("nvd11/nvdcve-1.1-recent.meta").read_text(encoding="ascii")
    (tmp_path / "nvdcve-1.1-recent.meta").write_text(meta.replace("sha256:A3B9", "sha256:0000"), encoding="ascii")
    result = _failed(tmp_path / "nvdcve-1.1-recent.json.gz")
    assert "SHA-256" in result.error
    assert not Cve.objects.exists() and not CveProduct.objects.exists()


def test_declared_count_mismatch(tmp_path: Path) -> None:
    text = fixture("nvd11/nvdcve-1.1-recent.json.gz")
    document = gzip.decompress(text.read_bytes()).replace(b'"CVE_data_numberOfCVEs" : "513"',
                                                          b'"CVE_data_numberOfCVEs" : "600"', 1)
    assert b'"600"' in document
    path = tmp_path / "cut.json"
    path.write_bytes(document)
    result = _failed(path)
    assert "件数が一致しません" in result.error


def test_unknown_json_format(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": "world"}', encoding="utf-8")
    assert "形式がわかりません" in _failed(path).error


def test_failure_in_one_file_keeps_the_others(tmp_path: Path) -> None:
    shutil.copy(fixture("nvd20/CVE-2023-46604.json"), tmp_path / "a.json")
    (tmp_path / "b.json").write_bytes(b'{"resultsPerPage": 1, "vulnerabilities": [')
    results = services_feeds.import_paths(paths=[tmp_path])
    assert [item.status for item in results] == ["ok", "failed"]
    assert list(Cve.objects.values_list("cve_id", flat=True)) == ["CVE-2023-46604"]


def test_missing_path() -> None:
    from anzen.vulns.feeds.records import FeedError

    with pytest.raises(FeedError, match="見つかりません"):
        services_feeds.import_paths(paths=["/nonexistent/feed.json"])
