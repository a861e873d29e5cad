"""Screens of the watch: board by severity/system/vendor with KEV first, findings list (filters, server-side
paging, bounded queries whatever the number of rows), finding page with reason and history and status change,
device page, CVE page with its affected devices, watch list, exports (CSV with BOM, xlsx), API (scoped)."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anzen.assets import services as assets
from anzen.vulns import services_watch
from anzen.vulns.models_watch import Finding
from tests.conftest import login_as
from tests.vulns.watch_support import (  # noqa: F401  (fixtures)
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


@pytest.fixture
def matched(ledger: Ledger) -> Ledger:
    services_watch.rematch(institution=ledger.world.hospital)
    return ledger


def page(client: Client, name: str, *args: Any, **params: Any) -> str:
    response = client.get(reverse(name, args=args), params)
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


def more_devices(ledger: Ledger, count: int) -> None:
    """`count` more FortiGates on FortiOS 6.0.4 (a golden image), matched."""
    for index in range(count):
        device = assets.device_create(actor=ledger.system, institution=ledger.world.hospital,
                                      hostname=f"fw-extra-{index:03d}", kind="network", systems=[ledger.network])
        ledger.add(device, FORTIOS_604)
        ledger.add(device, FORTIGATE)
    services_watch.rematch(institution=ledger.world.hospital)


def test_board_shows_japanese_severity_kev_first_and_groups(matched: Ledger, members: dict, client: Client) -> None:
    login_as(client, members["staff"])
    html = page(client, "vulns:board")
    for label in ("緊急", "重要", "警告", "注意"):
        assert label in html
    assert html.index("CVE-2022-42475") < html.index("CVE-2018-13379")  # KEV first (both 9.8)
    assert "院内ネットワーク" in html and "テスト事業者" in html  # by system, by vendor


def test_findings_list_pages_on_the_server_with_bounded_queries(matched: Ledger, members: dict, client: Client,
                                                               django_assert_max_num_queries: Any) -> None:
    login_as(client, members["staff"])
    with django_assert_max_num_queries(25) as small:
        html = page(client, "vulns:finding_list")
    assert "CVE-2018-13379" in html and "fw-main" in html and "6.0.4" in html  # reason shown on the list
    more_devices(matched, 60)
    assert Finding.objects.filter(institution=matched.world.hospital).count() > 100
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        html = page(client, "vulns:finding_list")
    assert len(large.captured_queries) == len(small.captured_queries)
    assert "page=2" in html
    html = page(client, "vulns:finding_list", page=3)
    assert "fw-extra" in html
    filtered = page(client, "vulns:finding_list", severity="critical", q="activemq")
    assert "CVE-2023-46604" in filtered and "CVE-2018-13379" not in filtered
    assert "CVE-2018-13379" in page(client, "vulns:finding_list", cve="cve-2018-13379")


def test_finding_page_shows_reason_confidence_and_history_and_changes_status(matched: Ledger, members: dict,
                                                                             client: Client) -> None:
    login_as(client, members["staff"])
    item = finding(matched.world, matched.fw1, "CVE-2018-13379")
    html = page(client, "vulns:finding_detail", item.pk)
    assert "確定" in html and item.reason in html and "緊急" in html and "検出" in html
    until = (timezone.localdate().replace(year=timezone.localdate().year + 1)).isoformat()
    client.post(reverse("vulns:finding_status", args=[item.pk]),
                {"status": "risk_accepted", "note": "閉域網のため次回保守で更新", "until": until})
    item.refresh_from_db()
    assert item.status == "risk_accepted" and item.accepted_until.isoformat() == until
    client.post(reverse("vulns:finding_status", args=[item.pk]), {"status": "false_positive", "note": ""})
    item.refresh_from_db()
    assert item.status == "risk_accepted"  # a false positive needs a reason: refused, nothing changed
    html = page(client, "vulns:finding_detail", item.pk)
    assert "閉域網のため次回保守で更新" in html


def test_device_and_cve_pages(matched: Ledger, members: dict, client: Client,
                              django_assert_max_num_queries: Any) -> None:
    login_as(client, members["staff"])
    html = page(client, "vulns:device", matched.rtx.pk)
    assert "CVE-2018-0665" in html and "rtx810" in html.lower()
    with django_assert_max_num_queries(25):
        html = page(client, "vulns:cve_detail", "CVE-2022-42475")
    assert "fw-main" in html and "fw-remote" in html and "KEV" in html
    html = page(client, "vulns:watchlist")
    assert "ベッドサイドモニタ BSM-0000" in html


def test_exports_csv_and_xlsx(matched: Ledger, members: dict, client: Client) -> None:
    login_as(client, members["staff"])
    response = client.get(reverse("vulns:finding_export", args=["csv"]))
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    assert "CVE ID" in header and "深刻度" in header and "該当の理由" in header
    assert any("CVE-2018-13379" in row and "緊急" in row for row in rows[1:])
    assert len(rows) - 1 == Finding.objects.filter(institution=matched.world.hospital).count()
    response = client.get(reverse("vulns:finding_export", args=["xlsx"]))
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    values = [cell for row in book.active.iter_rows(values_only=True) for cell in row]
    assert "CVE-2022-42475" in values and "緊急" in values
    assert client.get(reverse("vulns:finding_export", args=["pdf"])).status_code == 404


def test_manager_reads_but_cannot_change_and_other_hospital_gets_404(matched: Ledger, members: dict,
                                                                     client: Client) -> None:
    item = finding(matched.world, matched.fw1, "CVE-2018-13379")
    login_as(client, members["manager"])
    assert "CVE-2018-13379" in page(client, "vulns:finding_detail", item.pk)
    assert client.post(reverse("vulns:finding_status", args=[item.pk]),
                       {"status": "fixed", "note": "x"}).status_code == 403
    login_as(client, members["other_staff"])
    assert client.get(reverse("vulns:finding_detail", args=[item.pk])).status_code == 404
    assert client.get(reverse("vulns:device", args=[matched.fw1.pk])).status_code == 404
    assert "CVE-2018-13379" not in page(client, "vulns:finding_list")


def test_api_findings_are_scoped_and_carry_labels_and_reasons(matched: Ledger, members: dict,
                                                              client: Client) -> None:
    from anzen.accounts import services

    _token, secret = services.api_token_create(actor=actor(members["staff"]), name="api")
    response = client.get("/api/vulns/findings", {"severity": "critical"}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    data = response.json()
    items = data["items"] if isinstance(data, dict) else data
    assert items and all(row["severity"] == "critical" for row in items)
    first = next(row for row in items if row["cve_id"] == "CVE-2018-13379")
    assert first["severity_label"] == "緊急" and "6.0.4" in first["reason"] and first["confidence"] == "confirmed"
    _token, other = services.api_token_create(actor=actor(members["other_staff"]), name="api")
    response = client.get(f"/api/vulns/findings/{first['id']}", HTTP_AUTHORIZATION=f"Bearer {other}")
    assert response.status_code == 404


def test_board_says_when_the_ledger_changed_since_the_last_rematch(matched: Ledger, members: dict,
                                                                   client: Client) -> None:
    login_as(client, members["staff"])
    assert "台帳が変更されています" not in page(client, "vulns:board")
    matched.add(matched.rtx_alone, "cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*")
    assert "台帳が変更されています" in page(client, "vulns:board")
    client.post(reverse("vulns:match"))
    assert "台帳が変更されています" not in page(client, "vulns:board")
    assert Finding.objects.filter(device=matched.rtx_alone).exists()


def test_the_cve_page_pages_its_affected_devices_with_bounded_queries(matched: Ledger, members: dict,
                                                                     client: Client,
                                                                     django_assert_max_num_queries: Any) -> None:
    login_as(client, members["staff"])
    with django_assert_max_num_queries(30) as small:
        page(client, "vulns:cve_detail", "CVE-2018-13379")
    more_devices(matched, 60)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = page(client, "vulns:cve_detail", "CVE-2018-13379")
    assert "61 件" in html and "page=2" in html and "fw-extra-000" in html
    assert "fw-extra-059" in page(client, "vulns:cve_detail", "CVE-2018-13379", page=2)
    from anzen.accounts import services

    _token, secret = services.api_token_create(actor=actor(members["staff"]), name="api")
    data = client.get("/api/vulns/cves/CVE-2018-13379", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert len(data["findings"]) == 61 and data["severity_label"] == "緊急"
