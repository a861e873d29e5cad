"""From the ledger to the vulnerability watch: a device page links to the device's findings and a system page
to the findings list filtered on the system (every role that sees the ledger may see the watch)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.assets.conftest import Ledger
from tests.conftest import login_as


def test_device_and_system_pages_link_to_their_vulnerabilities(client: Client, ledger: Ledger) -> None:
    login_as(client, ledger.staff)
    html = client.get(reverse("assets:device_detail", args=[ledger.server.pk])).content.decode()
    device_link = reverse("vulns:device", args=[ledger.server.pk])
    assert f'href="{device_link}"' in html and client.get(device_link).status_code == 200
    html = client.get(reverse("assets:system_detail", args=[ledger.ehr.pk])).content.decode()
    findings_link = f'{reverse("vulns:finding_list")}?system={ledger.ehr.pk}'
    assert f'href="{findings_link}"' in html and client.get(findings_link).status_code == 200

