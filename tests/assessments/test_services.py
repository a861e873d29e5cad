"""Services: creating assessments, answering, and every workflow step allowed and refused by role and state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from anzen.assessments import services
from anzen.assessments.models import Answer, AssessmentEvent, ReviewComment, Status, SubjectKind
from anzen.common.models import AuditEntry
from tests.assessments.conftest import DAY, FY, answer_all, own_checklist, vendor_form

pytestmark = pytest.mark.django_db


# --- creation ----------------------------------------------------------------------------------------


def test_institution_checklist_picks_the_institution_form(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    assert assessment.form == checklist["H"]
    assert assessment.respondent == parties.world.hospital == assessment.institution
    assert assessment.status == Status.DRAFT
    event = AssessmentEvent.objects.get(assessment=assessment)
    assert (event.from_status, event.to_status, event.actor_name) == ("", Status.DRAFT, "p-staff")


def test_vendor_form_is_assigned_to_a_partner_vendor(parties, checklist) -> None:
    assessment = vendor_form(parties, checklist)
    assert assessment.form == checklist["V"]
    assert assessment.respondent == parties.world.vendor
    with pytest.raises(ValidationError, match="取引関係"):
        services.assessment_create(actor=parties["staff"], edition=checklist.edition,
                                   subject_kind=SubjectKind.VENDOR, fiscal_year=FY,
                                   respondent=parties.world.other_vendor)


def test_duplicate_assessment_is_refused(parties, checklist) -> None:
    own_checklist(parties, checklist)
    with pytest.raises(ValidationError, match="すでにあります"):
        own_checklist(parties, checklist)


def test_system_assessment_needs_a_label_and_a_vendor(parties, mds) -> None:
    with pytest.raises(ValidationError, match="製品"):
        services.assessment_create(actor=parties["staff"], edition=mds.edition, subject_kind=SubjectKind.SYSTEM,
                                   fiscal_year=FY, respondent=parties.world.vendor)
    made = services.assessment_create(actor=parties["staff"], edition=mds.edition, subject_kind=SubjectKind.SYSTEM,
                                      fiscal_year=FY, respondent=parties.world.vendor, subject_label="製品X 2.1")
    assert made.form == mds["MDS"] and made.subject_label == "製品X 2.1"


@pytest.mark.parametrize("who", ["vendor", "evaluator", "manager", "auditor"])
def test_only_institution_staff_and_admins_create(parties, checklist, who) -> None:
    with pytest.raises(PermissionDenied):
        services.assessment_create(actor=parties[who], edition=checklist.edition,
                                   subject_kind=SubjectKind.INSTITUTION, fiscal_year=FY)


def test_unknown_condition_is_refused_and_known_one_kept(parties, checklist) -> None:
    with pytest.raises(ValidationError, match="不明な前提条件"):
        own_checklist(parties, checklist, conditions={"no_such_thing": True})
    made = own_checklist(parties, checklist, conditions={"no_vendor_contract": True})
    assert made.conditions == {"no_vendor_contract": True}


def test_evaluator_must_be_a_partner_evaluator(parties, checklist) -> None:
    with pytest.raises(ValidationError, match="評価機関"):
        own_checklist(parties, checklist, evaluator=parties.world.vendor)
    assert own_checklist(parties, checklist, evaluator=parties.world.evaluator).evaluator == parties.world.evaluator


# --- answering -----------------------------------------------------------------------------------------


def test_answer_set_is_a_partial_update(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    node = checklist["H-1-1"]
    services.answer_set(actor=parties["staff"], assessment=assessment, node=node, round1_value="no",
                        round1_date=DAY, remarks="体制を検討中")
    answer = services.answer_set(actor=parties["staff"], assessment=assessment, node=node,
                                 target_date="2025-12-31")
    answer.refresh_from_db()
    assert (answer.round1_value, answer.round1_date, answer.target_date, answer.remarks) == (
        "no", DAY, dt.date(2025, 12, 31), "体制を検討中")
    assert answer.answered_by == parties.memberships["staff"].user
    assert AuditEntry.objects.filter(object_type="assessments.answer", object_id=str(answer.pk)).count() == 2


def test_answer_accepts_labels_and_refuses_unknown_values(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    answer = services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"],
                                 round1_value="はい", round1_date=DAY)
    assert answer.round1_value == "yes"
    with pytest.raises(ValidationError) as error:
        services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"],
                            round1_value="maybe")
    assert "2(1)" in str(error.value) and "選択肢" in str(error.value)
    answer.refresh_from_db()
    assert answer.round1_value == "yes"


def test_round2_before_round1_is_refused(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    with pytest.raises(ValidationError, match="2回目の確認日が1回目"):
        services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-1-1"],
                            round1_value="no", round1_date=DAY, target_date=DAY + dt.timedelta(days=30),
                            round2_value="yes", round2_date=DAY - dt.timedelta(days=1))
    assert not Answer.objects.filter(assessment=assessment).exists()


def test_single_round_form_has_no_round2_or_target(parties, mds) -> None:
    assessment = services.assessment_create(actor=parties["staff"], edition=mds.edition,
                                            subject_kind=SubjectKind.SYSTEM, fiscal_year=FY,
                                            respondent=parties.world.vendor, subject_label="製品X")
    with pytest.raises(ValidationError, match="2回目の欄はありません"):
        services.answer_set(actor=parties["vendor"], assessment=assessment, node=mds["4.2"], round2_value="yes")
    with pytest.raises(ValidationError, match="回答する項目ではありません"):
        services.answer_set(actor=parties["vendor"], assessment=assessment, node=mds["4.1"], round1_value="yes")
    answer = services.answer_set(actor=parties["vendor"], assessment=assessment, node=mds["12"],
                                 round1_value="該当", remarks="オプション契約で対応")
    assert answer.round1_value == "applicable"


def test_item_of_another_form_is_refused(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    with pytest.raises(ValidationError, match="様式に含まれない"):
        services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["V-1-1"],
                            round1_value="yes")


@pytest.mark.parametrize("who", ["vendor", "evaluator", "manager", "auditor", "other_staff"])
def test_only_the_respondent_answers_the_institution_checklist(parties, checklist, who) -> None:
    assessment = own_checklist(parties, checklist)
    with pytest.raises(PermissionDenied):
        services.answer_set(actor=parties[who], assessment=assessment, node=checklist["H-1-1"], round1_value="yes")


def test_vendor_answers_its_form_and_the_institution_does_not(parties, checklist) -> None:
    assessment = vendor_form(parties, checklist)
    services.answer_set(actor=parties["vendor"], assessment=assessment, node=checklist["V-1-1"],
                        round1_value="yes", round1_date=DAY, remarks="責任者: 品質保証部長")
    with pytest.raises(PermissionDenied):
        services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["V-1-1"],
                            round1_value="no")
    with pytest.raises(PermissionDenied):
        services.answer_set(actor=parties["other_vendor"], assessment=assessment, node=checklist["V-1-1"],
                            round1_value="no")


def test_change_clears_provenance_and_review(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    answer = services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"],
                                 round1_value="yes", round1_date=DAY, provenance={"source": "MDS/SDS 4.2"})
    assert answer.provenance == {"source": "MDS/SDS 4.2"}
    Answer.objects.filter(pk=answer.pk).update(review_status=Answer.Review.RETURNED)
    answer = services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"],
                                 round1_value="no", target_date=DAY + dt.timedelta(days=10))
    assert answer.provenance == {} and answer.review_status == Answer.Review.PENDING


# --- workflow ------------------------------------------------------------------------------------------


def test_submit_refuses_incomplete_required_items(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-1-1"],
                        round1_value="no", round1_date=DAY)  # いいえ without 目標日
    with pytest.raises(ValidationError) as error:
        services.assessment_submit(actor=parties["staff"], assessment=assessment)
    text = str(error.value)
    assert "1(1)" in text and "2(1)" in text and "H-0" not in text
    assert "2(9)" not in text  # 参考 in FY2025 (required from 2026)
    assessment.refresh_from_db()
    assert assessment.status == Status.DRAFT


def test_gating_no_allows_submitting_with_nothing_else(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-0"],
                        round1_value="no", round1_date=DAY)
    services.assessment_submit(actor=parties["staff"], assessment=assessment)
    assert assessment.status == Status.ACCEPTED


def test_self_assessment_goes_from_submitted_to_accepted_then_sign_off(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist, conditions={"no_vendor_contract": True})
    answer_all(parties["staff"], assessment)
    services.assessment_submit(actor=parties["staff"], assessment=assessment)
    assessment.refresh_from_db()
    assert assessment.status == Status.ACCEPTED and assessment.submitted_at
    steps = list(AssessmentEvent.objects.filter(assessment=assessment).values_list("from_status", "to_status"))
    assert steps == [("", "draft"), ("draft", "submitted"), ("submitted", "accepted")]
    with pytest.raises(PermissionDenied):
        services.assessment_sign_off(actor=parties["staff"], assessment=assessment)
    services.assessment_sign_off(actor=parties["manager"], assessment=assessment)
    assessment.refresh_from_db()
    assert assessment.status == Status.SIGNED_OFF
    assert (assessment.signed_off_name, assessment.signed_off_role) == ("p-manager", "manager")
    assert assessment.signed_off_at is not None


def test_signed_off_is_read_only_until_reopened(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    answer_all(parties["staff"], assessment)
    services.assessment_submit(actor=parties["staff"], assessment=assessment)
    services.assessment_sign_off(actor=parties["admin"], assessment=assessment)
    answer = Answer.objects.get(assessment=assessment, node=checklist["H-1-1"])
    with pytest.raises(ValidationError, match="承認済み"):
        services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-1-1"],
                            round1_value="no")
    with pytest.raises(ValidationError, match="承認済み"):
        services.evidence_add_link(actor=parties["staff"], answer=answer, url="https://intra.example/x", title="x")
    with pytest.raises(ValidationError, match="承認済み"):
        services.assessment_update(actor=parties["staff"], assessment=assessment, conditions={})
    with pytest.raises(ValidationError):
        services.item_comment(actor=parties["staff"], answer=answer, text="x")
    with pytest.raises(PermissionDenied):
        services.assessment_reopen(actor=parties["manager"], assessment=assessment, reason="修正")
    with pytest.raises(ValidationError, match="理由"):
        services.assessment_reopen(actor=parties["staff"], assessment=assessment, reason=" ")
    services.assessment_reopen(actor=parties["staff"], assessment=assessment, reason="2(1) の台帳を更新したため")
    assessment.refresh_from_db()
    assert assessment.status == Status.DRAFT and assessment.signed_off_at is None
    last = AssessmentEvent.objects.filter(assessment=assessment).last()
    assert (last.from_status, last.to_status) == (Status.SIGNED_OFF, Status.DRAFT)
    assert "2(1) の台帳を更新したため" in last.comment
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-1-1"],
                        round1_value="no", target_date=DAY + dt.timedelta(days=5))


def test_vendor_form_review_by_the_institution(parties, checklist) -> None:
    assessment = vendor_form(parties, checklist)
    answer_all(parties["vendor"], assessment)
    with pytest.raises(PermissionDenied):
        services.assessment_submit(actor=parties["staff"], assessment=assessment)
    services.assessment_submit(actor=parties["vendor"], assessment=assessment)
    assert assessment.status == Status.SUBMITTED
    with pytest.raises(PermissionDenied):
        services.assessment_accept(actor=parties["evaluator"], assessment=assessment)
    with pytest.raises(PermissionDenied):  # the vendor cannot review its own answers
        services.assessment_accept(actor=parties["vendor"], assessment=assessment)
    services.assessment_accept(actor=parties["staff"], assessment=assessment)
    assessment.refresh_from_db()
    assert assessment.status == Status.ACCEPTED
    assert set(assessment.answers.values_list("review_status", flat=True)) == {Answer.Review.ACCEPTED}


def test_evaluator_returns_an_item_and_accepts_after_the_fix(parties, checklist) -> None:
    assessment = own_checklist(parties, checklist, evaluator=parties.world.evaluator)
    answer_all(parties["staff"], assessment)
    services.assessment_submit(actor=parties["staff"], assessment=assessment)
    assert assessment.status == Status.SUBMITTED
    with pytest.raises(PermissionDenied):  # the institution is not the reviewer when an evaluator is set
        services.assessment_start_review(actor=parties["staff"], assessment=assessment)
    with pytest.raises(ValidationError, match="差し戻す"):
        services.assessment_return(actor=parties["evaluator"], assessment=assessment)
    answer = Answer.objects.get(assessment=assessment, node=checklist["H-2-1"])
    with pytest.raises(ValidationError, match="理由"):
        services.item_review(actor=parties["evaluator"], answer=answer, result="return")
    services.item_review(actor=parties["evaluator"], answer=answer, result="return", text="台帳の更新日が古い")
    assessment.refresh_from_db()
    assert assessment.status == Status.IN_REVIEW
    with pytest.raises(ValidationError, match="差戻し中の項目"):
        services.assessment_accept(actor=parties["evaluator"], assessment=assessment)
    services.assessment_return(actor=parties["evaluator"], assessment=assessment, comment="2(1) を確認してください")
    assessment.refresh_from_db()
    assert assessment.status == Status.RETURNED
    services.item_comment(actor=parties["staff"], answer=answer, text="台帳を更新しました")
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"],
                        round1_date=DAY + dt.timedelta(days=3))
    answer.refresh_from_db()
    assert answer.review_status == Answer.Review.PENDING
    services.assessment_submit(actor=parties["staff"], assessment=assessment, comment="修正しました")
    services.item_review(actor=parties["evaluator"], answer=answer, result="accept")
    services.assessment_accept(actor=parties["evaluator"], assessment=assessment, comment="問題ありません")
    assessment.refresh_from_db()
    assert assessment.status == Status.ACCEPTED
    thread = list(ReviewComment.objects.filter(answer=answer).values_list("result", "text"))
    assert thread == [("return", "台帳の更新日が古い"), ("comment", "台帳を更新しました"), ("accept", "")]
    statuses = list(AssessmentEvent.objects.filter(assessment=assessment).values_list("to_status", flat=True))
    assert statuses == ["draft", "submitted", "in_review", "returned", "submitted", "in_review", "accepted"]


def test_answers_are_frozen_after_submission(parties, checklist) -> None:
    assessment = vendor_form(parties, checklist)
    answer_all(parties["vendor"], assessment)
    services.assessment_submit(actor=parties["vendor"], assessment=assessment)
    with pytest.raises(ValidationError, match="提出後"):
        services.answer_set(actor=parties["vendor"], assessment=assessment, node=checklist["V-1-1"],
                            round1_value="no")


def test_transitions_refused_in_the_wrong_state(parties, checklist) -> None:
    assessment = vendor_form(parties, checklist)
    with pytest.raises(ValidationError):
        services.assessment_accept(actor=parties["staff"], assessment=assessment)
    with pytest.raises(ValidationError):
        services.assessment_sign_off(actor=parties["manager"], assessment=assessment)
    with pytest.raises(ValidationError):
        services.assessment_reopen(actor=parties["staff"], assessment=assessment, reason="x")
    with pytest.raises(ValidationError):
        services.assessment_start_review(actor=parties["staff"], assessment=assessment)
