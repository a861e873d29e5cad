"""Reminders: which dates and states remind whom (pure), the dashboard's share, and sending by e-mail
once a day (idempotent), with what was sent in the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from anzen.assessments import reminders, services
from anzen.assessments.models import Answer, Status
from anzen.assessments.reminders import AssessmentFact, ItemFact, compute
from anzen.common.models import AuditEntry
from tests.assessments.conftest import DAY, answer_all, own_checklist, vendor_form

TODAY = dt.date(2025, 10, 1)
OWN = AssessmentFact(1, "医療機関確認用", institution_id=10, respondent_id=10, respondent_kind="institution",
                     status=Status.DRAFT)
VENDOR = AssessmentFact(2, "事業者確認用", institution_id=10, respondent_id=20, respondent_kind="vendor",
                        status=Status.DRAFT, due_date=dt.date(2025, 9, 30))


def item(pk, label, r1="no", target=None, r2="", review=""):
    return ItemFact(pk, label, r1, target, r2, review)


def kinds(found):
    return [(r.kind, r.assessment_pk, r.recipient_id) for r in found]


def test_target_dates_due_soon_and_overdue() -> None:
    found = compute([OWN], [item(1, "2(1)", target=dt.date(2025, 9, 30)), item(1, "2(4)", target=dt.date(2025, 10, 10)),
                            item(1, "2(5)", target=dt.date(2025, 12, 1)),
                            item(1, "2(6)", target=dt.date(2025, 9, 1), r2="yes"),
                            item(1, "3(1)", r1="yes", target=dt.date(2025, 9, 1))], today=TODAY, within_days=14)
    assert kinds(found) == [("target_overdue", 1, 10), ("target_due", 1, 10)]
    overdue, due = found
    assert overdue.items == ("2(1)",) and "目標日を過ぎた" in overdue.message and "2025年9月30日" in overdue.message
    assert due.items == ("2(4)",) and due.due == dt.date(2025, 10, 10)
    assert compute([OWN], [item(1, "2(4)", target=dt.date(2025, 10, 10))], today=TODAY, within_days=5) == []


def test_vendor_not_submitted_by_the_due_date() -> None:
    assert kinds(compute([VENDOR], [], today=TODAY)) == [("not_submitted", 2, 20)]
    assert compute([VENDOR], [], today=dt.date(2025, 9, 30)) == []  # due today: not late yet
    submitted = AssessmentFact(**{**VENDOR.__dict__, "status": Status.SUBMITTED})
    assert compute([submitted], [], today=TODAY) == []
    own_late = AssessmentFact(**{**OWN.__dict__, "due_date": dt.date(2025, 9, 1)})
    assert compute([own_late], [], today=TODAY) == []  # only vendors are chased for submission


def test_returned_items_go_to_the_respondent() -> None:
    returned = AssessmentFact(**{**VENDOR.__dict__, "status": Status.RETURNED, "due_date": None})
    found = compute([returned], [item(2, "1(1)", r1="yes", review="returned")], today=TODAY)
    assert kinds(found) == [("returned", 2, 20)] and found[0].items == ("1(1)",)


def test_signed_off_assessments_remind_nothing() -> None:
    signed = AssessmentFact(**{**OWN.__dict__, "status": Status.SIGNED_OFF})
    assert compute([signed], [item(1, "2(1)", target=dt.date(2025, 9, 1))], today=TODAY) == []


@pytest.mark.django_db
def test_send_mails_each_organisation_once_a_day(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"], round1_value="no",
                        round1_date=DAY, target_date=dt.date(2025, 9, 1))
    vendor_form(parties, checklist)  # due 2025-09-30, still a draft
    report = reminders.send(today=TODAY)
    assert len(report.new) == 2 and len(mail.outbox) == 2
    by_to = {tuple(sorted(m.to)): m for m in mail.outbox}
    hospital = by_to[("p-admin@example.test", "p-staff@example.test")]  # not the manager nor the auditor
    assert "目標日を過ぎた" in hospital.body and "2(1)" in hospital.body and "/assessments/" in hospital.body
    vendor = by_to[("p-vendor@example.test", "p-vendor_admin@example.test")]
    assert "まだ提出されていません" in vendor.body
    assert AuditEntry.objects.filter(object_type="assessments.reminder", action="export").count() == 2
    again = reminders.send(today=TODAY)
    assert again.new == [] and len(mail.outbox) == 2 and len(again.due) == 2
    reminders.send(today=TODAY + dt.timedelta(days=1))
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_dry_run_sends_and_records_nothing(parties, checklist) -> None:
    vendor_form(parties, checklist)
    report = reminders.send(today=TODAY, dry_run=True)
    assert len(report.mails) == 1 and report.mails[0].recipients
    assert mail.outbox == [] and not AuditEntry.objects.filter(object_type="assessments.reminder").exists()


@pytest.mark.django_db
def test_dashboard_share_of_reminders(parties, checklist) -> None:
    request = vendor_form(parties, checklist)
    answer_all(parties["vendor"], request)
    services.assessment_submit(actor=parties["vendor"], assessment=request)
    answer = Answer.objects.filter(assessment=request).first()
    services.item_review(actor=parties["staff"], answer=answer, result="return", text="備考を書いてください")
    services.assessment_return(actor=parties["staff"], assessment=request)
    vendor_side = reminders.for_actor(parties["vendor"], today=TODAY)
    assert [r.kind for r in vendor_side] == ["returned"]
    assert [r.kind for r in reminders.for_actor(parties["staff"], today=TODAY)] == ["returned"]
    assert reminders.for_actor(parties["other_vendor"], today=TODAY) == []
    assert reminders.for_actor(parties["evaluator"], today=TODAY) == []


@pytest.mark.django_db
def test_remind_task_runs_in_the_worker(parties, checklist) -> None:
    from anzen.assessments.tasks import remind_task

    vendor_form(parties, checklist)
    result = remind_task.enqueue(within_days=7)  # the test settings run tasks at once
    assert result.return_value["reminders"] >= 1
