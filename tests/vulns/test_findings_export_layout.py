"""The findings workbook opens like the ledger's: header and CVE column frozen, a filter on every column, and a
Japanese file name with the institution's code and the day (RFC 5987), never cached."""

from __future__ import annotations

import io
from urllib.parse import unquote

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anzen.vulns import services_watch
from anzen.vulns.models_watch import Finding
from tests.conftest import login_as
from tests.vulns.watch_support import (  # noqa: F401  (fixtures)
    Ledger,
    cves_fixture,
    ledger_fixture,
    members_fixture,
)

pytestmark = pytest.mark.django_db


def test_findings_xlsx_has_frozen_header_and_filter(ledger: Ledger, members: dict, client: Client) -> None:
    services_watch.rematch(institution=ledger.world.hospital)
    count = Finding.objects.filter(institution=ledger.world.hospital).count()
    assert count > 0
    login_as(client, members["staff"])
    response = client.get(reverse("vulns:finding_export", args=["xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.cell(row=3, column=1).value == "CVE ID" and sheet.cell(row=3, column=3).value == "深刻度"
    assert sheet.freeze_panes == "B4"
    assert sheet.auto_filter.ref == f"A3:O{3 + count}"
    assert sheet.cell(row=3 + count, column=1).value.startswith("CVE-")
    disposition = response["Content-Disposition"]
    stamp = timezone.localdate().strftime("%Y%m%d")
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition
    assert unquote(disposition.split("''", 1)[1]) == f"脆弱性_{ledger.world.hospital.code}_{stamp}.xlsx"
    assert response["Cache-Control"] == "private, no-store" and response["X-Content-Type-Options"] == "nosniff"
