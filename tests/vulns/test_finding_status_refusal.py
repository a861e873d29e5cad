"""A refused status change, notice review or withdrawal shows the page again (400) with the user's input and
the reason beside the form (it used to redirect with a flash message and drop what was typed); nothing
changes."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from anzen.vulns import services_contracts, services_watch
from anzen.vulns.models_watch import FindingEvent, Notice, NoticeResponse
from tests.conftest import login_as
from tests.vulns.watch_support import (  # noqa: F401  (fixtures)
    Ledger,
    actor,
    cves_fixture,
    finding,
    ledger_fixture,
    members_fixture,
)

pytestmark = pytest.mark.django_db


def test_refused_status_change_keeps_the_input_and_changes_nothing(ledger: Ledger, members: dict,
                                                                   client: Client) -> None:
    services_watch.rematch(institution=ledger.world.hospital)
    item = finding(ledger.world, ledger.fw1, "CVE-2018-13379")
    events = FindingEvent.objects.filter(finding=item).count()
    login_as(client, members["staff"])
    url = reverse("vulns:finding_status", args=[item.pk])
    response = client.post(url, {"status": "false_positive", "note": "", "until": "2031-03-31"})
    assert response.status_code == 400
    html = response.content.decode()
    form = re.search(rf'<form method="post" action="{re.escape(url)}".*?</form>', html, re.S).group(0)
    assert 'class="errorlist"' in form  # the reason is in the form, not only in a flash message
    assert re.search(r'<option value="false_positive" selected>', form)
    assert 'value="2031-03-31"' in form
    item.refresh_from_db()
    assert item.status == "new" and FindingEvent.objects.filter(finding=item).count() == events
    # an unknown status is refused the same way
    assert client.post(url, {"status": "deleted"}).status_code == 400
    # a valid change still redirects to the page
    response = client.post(url, {"status": "mitigated", "note": "ACL で遮断"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "mitigated"


def test_refused_withdrawal_and_review_keep_the_input(ledger: Ledger, members: dict, client: Client) -> None:
    services_contracts.contract_create(actor=actor(members["staff"]), vendor=ledger.world.vendor,
                                       title="ネットワーク保守契約", systems=[ledger.network.pk])
    services_watch.rematch(institution=ledger.world.hospital)
    notice = Notice.objects.filter(institution=ledger.world.hospital).first()
    assert notice is not None
    login_as(client, members["staff"])
    response = client.post(reverse("vulns:notice_withdraw", args=[notice.pk]), {"text": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<details open>" in html and 'class="errorlist"' in html  # the folded form opens on its error
    # a review without a decision keeps the comment typed (the review form shows once the vendor answered)
    Notice.objects.filter(pk=notice.pk).update(status="answered")
    response = client.post(reverse("vulns:notice_review", args=[notice.pk]), {"text": "対応時期を明記してください"})
    assert response.status_code == 400 and "対応時期を明記してください</textarea>" in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == "answered" and not NoticeResponse.objects.filter(notice=notice).exists()
