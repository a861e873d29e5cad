"""Contracts and notices: the seed's default rules turn findings on covered devices into notices to the vendor
(in Anzen and by e-mail), the vendor answers in its own account with a file, sees only its own customers'
notices, and overdue notices escalate to the institution."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from anzen.vulns import notices, services_contracts, services_watch
from anzen.vulns.models_watch import Finding, Notice, NoticeResponse
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


def contract_and_match(ledger: Ledger, members: dict[str, Any]) -> Any:
    """A default contract with the test vendor covering the network system it maintains, then a rematch."""
    contract = services_contracts.contract_create(actor=actor(members["staff"]), vendor=ledger.world.vendor,
                                                  title="ネットワーク保守契約", systems=[ledger.network.pk])
    services_watch.rematch(institution=ledger.world.hospital)
    return contract


def test_default_rules_notify_the_vendor_of_findings_on_covered_devices(
        ledger: Ledger, members: dict, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out once the notice is committed
        contract = contract_and_match(ledger, members)
    sent = {(n.cve_id, n.level) for n in Notice.objects.filter(contract=contract)}
    assert ("CVE-2018-13379", "urgent") in sent and ("CVE-2022-42475", "urgent") in sent  # CVSS 9.8 ≥ 9
    assert not any(cve == "CVE-2023-46604" for cve, _level in sent)  # the MQ server is outside the contract
    urgent = Notice.objects.get(contract=contract, cve_id="CVE-2018-13379")
    assert urgent.vendor == ledger.world.vendor and urgent.countermeasure_required
    assert urgent.report_due == urgent.sent_on + dt.timedelta(days=3)
    assert urgent.countermeasure_due == urgent.sent_on + dt.timedelta(days=14)
    assert finding(ledger.world, ledger.fw1, "CVE-2018-13379").status == "notified"
    assert finding(ledger.world, ledger.mq, "CVE-2023-46604").status == "new"
    to_vendor = [m for m in mail.outbox if "w-vendor@example.test" in m.to]
    assert any("CVE-2018-13379" in m.subject and "緊急通知" in m.subject for m in to_vendor)
    assert not any("w-vendor2@example.test" in m.to for m in mail.outbox)
    body = next(m.body for m in to_vendor if "CVE-2018-13379" in m.subject)
    assert "fw-main" in body and reverse("vulns:inbox_notice", args=[urgent.pk]) in body


def test_a_contract_made_after_the_findings_notifies_them_and_a_second_run_adds_nothing(
        ledger: Ledger, members: dict) -> None:
    services_watch.rematch(institution=ledger.world.hospital)
    contract = services_contracts.contract_create(actor=actor(members["staff"]), vendor=ledger.world.vendor,
                                                  title="後から結んだ契約", systems=[ledger.network.pk])
    count = Notice.objects.filter(contract=contract).count()
    assert count >= 2
    services_watch.rematch(institution=ledger.world.hospital, full=True)
    services_contracts.contract_update(actor=actor(members["staff"]), contract=contract, notes="更新")
    assert Notice.objects.filter(contract=contract).count() == count


def test_the_vendor_answers_with_a_file_and_the_institution_sees_it(ledger: Ledger, members: dict,
                                                                    client: Client) -> None:
    contract_and_match(ledger, members)
    notice = Notice.objects.get(cve_id="CVE-2018-13379")
    login_as(client, members["vendor"])
    inbox = client.get(reverse("vulns:inbox"))
    assert inbox.status_code == 200 and "CVE-2018-13379" in inbox.content.decode()
    response = client.post(reverse("vulns:inbox_answer", args=[notice.pk]), {
        "affected": "affected", "countermeasure": "FortiOS 6.0.18 へ更新します。", "scheduled_on": "2026-12-01",
        "text": "", "evidence": SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n%plan\n", "application/pdf")})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == "answered" and notice.has_countermeasure
    answer = NoticeResponse.objects.get(notice=notice, kind="answer")
    assert answer.evidence_name == "plan.pdf" and len(answer.evidence_sha256) == 64
    assert finding(ledger.world, ledger.fw1, "CVE-2018-13379").status == "answered"
    login_as(client, members["staff"])
    page = client.get(reverse("vulns:notice_detail", args=[notice.pk])).content.decode()
    assert "FortiOS 6.0.18 へ更新します。" in page and "plan.pdf" in page
    download = client.get(reverse("vulns:evidence", args=[answer.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    login_as(client, members["staff"])
    client.post(reverse("vulns:notice_review", args=[notice.pk]), {"decision": "accept", "text": ""})
    notice.refresh_from_db()
    assert notice.status == "accepted"


def test_an_empty_answer_is_refused_and_changes_nothing(ledger: Ledger, members: dict, client: Client) -> None:
    contract_and_match(ledger, members)
    notice = Notice.objects.get(cve_id="CVE-2018-13379")
    login_as(client, members["vendor"])
    response = client.post(reverse("vulns:inbox_answer", args=[notice.pk]), {"affected": "affected"})
    assert response.status_code == 200 and "対応策または今後の予定" in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == "sent" and not NoticeResponse.objects.filter(notice=notice, kind="answer").exists()


def test_a_vendor_sees_only_its_own_customers_notices(ledger: Ledger, members: dict, client: Client) -> None:
    contract_and_match(ledger, members)
    notice = Notice.objects.get(cve_id="CVE-2018-13379")
    other = members["other_vendor"]
    login_as(client, other)
    assert client.get(reverse("vulns:inbox_notice", args=[notice.pk])).status_code == 404
    assert "CVE-2018-13379" not in client.get(reverse("vulns:inbox")).content.decode()
    assert client.post(reverse("vulns:inbox_answer", args=[notice.pk]),
                       {"affected": "not_affected"}).status_code == 404
    with pytest.raises(Exception):  # noqa: B017  (PermissionDenied from the service itself)
        notices.notice_answer(actor=actor(other), notice=notice, affected="not_affected")
    assert not NoticeResponse.objects.filter(notice=notice).exclude(kind="note").exists()
    login_as(client, members["other_staff"])  # another hospital's staff: not found either
    assert client.get(reverse("vulns:notice_detail", args=[notice.pk])).status_code == 404
    login_as(client, members["vendor"])  # the vendor never sees the institution's findings list
    assert client.get(reverse("vulns:finding_list")).status_code == 403


def test_overdue_notices_escalate_once_on_the_institution_dashboard(ledger: Ledger, members: dict,
                                                                   client: Client) -> None:
    contract_and_match(ledger, members)
    notice = Notice.objects.get(cve_id="CVE-2018-13379")
    mail.outbox.clear()
    late_day = notice.report_due + dt.timedelta(days=1)
    escalated = notices.escalate_overdue(today=late_day)
    assert notice.pk in {e.notice_id for e in escalated}
    assert notices.escalate_overdue(today=late_day) == []  # once per notice
    assert any("期限超過" in m.subject and "w-staff@example.test" in m.to for m in mail.outbox)
    Notice.objects.filter(pk=notice.pk).update(report_due=dt.date(2000, 1, 1))
    login_as(client, members["staff"])
    page = client.get(reverse("common:dashboard")).content.decode()
    assert "期限超過" in page and "CVE-2018-13379" in page


def test_contract_validation_is_in_japanese_and_atomic(ledger: Ledger, members: dict) -> None:
    with pytest.raises(ValidationError) as error:
        services_contracts.contract_create(actor=actor(members["staff"]), vendor=ledger.world.other_vendor,
                                           title="関係のない事業者", systems=[ledger.network.pk])
    assert "取引関係のある事業者" in str(error.value)
    with pytest.raises(ValidationError):
        services_contracts.contract_create(actor=actor(members["staff"]), vendor=ledger.world.vendor, title="規則誤り",
                                           rules=[{"level": "urgent", "min_score": "11"}])
    assert not Notice.objects.exists() and not Finding.objects.filter(status="notified").exists()


def test_the_api_inbox_is_scoped_to_the_vendor_and_takes_an_answer(ledger: Ledger, members: dict,
                                                                   client: Client) -> None:
    from anzen.accounts import services

    contract_and_match(ledger, members)
    notice = Notice.objects.get(cve_id="CVE-2022-42475")
    _token, mine = services.api_token_create(actor=actor(members["vendor"]), name="api")
    _token, other = services.api_token_create(actor=actor(members["other_vendor"]), name="api")
    listed = client.get("/api/vulns/inbox", HTTP_AUTHORIZATION=f"Bearer {mine}").json()
    assert {row["cve_id"] for row in listed} >= {"CVE-2022-42475", "CVE-2018-13379"}
    assert client.get("/api/vulns/inbox", HTTP_AUTHORIZATION=f"Bearer {other}").json() == []
    assert client.get(f"/api/vulns/inbox/{notice.pk}", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
    refused = client.post(f"/api/vulns/inbox/{notice.pk}/answer", {"affected": "affected"},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {mine}")
    assert refused.status_code == 400 and "対応策" in str(refused.json())  # in Japanese; nothing stored
    response = client.post(f"/api/vulns/inbox/{notice.pk}/answer",
                           {"affected": "not_affected", "text": "当社の構成では SSL-VPN を使用していません。"},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {mine}")
    assert response.status_code == 201 and response.json()["status"] == "answered"
    assert client.post(f"/api/vulns/inbox/{notice.pk}/answer", {"affected": "not_affected"},
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
