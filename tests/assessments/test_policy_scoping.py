"""Object-level rules (policy) by role, organisation and state; scoping of every assessment row type."""

from __future__ import annotations

import pytest

from anzen.accounts.roles import Perm
from anzen.assessments import policy, services
from anzen.assessments.models import Answer, Assessment, AssessmentEvent, Evidence, ReviewComment, Status
from anzen.common.permissions import scope
from tests.assessments.conftest import DAY, answer_all, own_checklist, vendor_form

pytestmark = pytest.mark.django_db

WHO = ("staff", "admin", "manager", "auditor", "vendor", "vendor_admin", "other_vendor", "evaluator", "other_staff")


def allowed(parties, check, assessment) -> set[str]:
    return {who for who in WHO if check(parties[who], assessment)}


def test_who_answers_reviews_manages_and_signs(parties, checklist) -> None:
    own = own_checklist(parties, checklist)
    request = vendor_form(parties, checklist)
    evaluated = own_checklist(parties, checklist, evaluator=parties.world.evaluator, subject_label="評価")
    assert allowed(parties, policy.can_answer, own) == {"staff", "admin"}
    assert allowed(parties, policy.can_answer, request) == {"vendor", "vendor_admin"}
    assert allowed(parties, policy.can_manage, request) == {"staff", "admin"}
    assert allowed(parties, policy.can_review, request) == set()  # a draft is not reviewed
    assert policy.reviewer_id(own) is None and policy.reviewer_id(request) == parties.world.hospital.pk
    assert policy.reviewer_id(evaluated) == parties.world.evaluator.pk
    answer_all(parties["vendor"], request)
    services.assessment_submit(actor=parties["vendor"], assessment=request)
    assert allowed(parties, policy.can_answer, request) == set()
    assert allowed(parties, policy.can_review, request) == {"staff", "admin"}
    answer_all(parties["staff"], evaluated)
    services.assessment_submit(actor=parties["staff"], assessment=evaluated)
    assert allowed(parties, policy.can_review, evaluated) == {"evaluator"}
    services.assessment_accept(actor=parties["evaluator"], assessment=evaluated)
    assert allowed(parties, policy.can_sign_off, evaluated) == {"admin", "manager"}
    assert allowed(parties, policy.can_reopen, evaluated) == {"staff", "admin"}
    services.assessment_sign_off(actor=parties["manager"], assessment=evaluated)
    for check in (policy.can_answer, policy.can_review, policy.can_manage, policy.can_comment, policy.can_sign_off):
        assert allowed(parties, check, evaluated) == set(), check.__name__
    assert allowed(parties, policy.can_reopen, evaluated) == {"staff", "admin"}


def test_every_row_type_is_scoped_to_the_parties(parties, checklist) -> None:
    own = own_checklist(parties, checklist)
    services.answer_set(actor=parties["staff"], assessment=own, node=checklist["H-1-1"], round1_value="yes",
                        round1_date=DAY)
    own_answer = Answer.objects.get(assessment=own)
    services.evidence_add_link(actor=parties["staff"], answer=own_answer, url="https://intra.example/a", title="a")
    request = vendor_form(parties, checklist)
    answer_all(parties["vendor"], request)
    services.assessment_submit(actor=parties["vendor"], assessment=request)
    vendor_answer = Answer.objects.filter(assessment=request).first()
    services.item_review(actor=parties["staff"], answer=vendor_answer, result="comment", text="確認中")
    expectations = {
        "staff": {own.pk, request.pk}, "auditor": {own.pk, request.pk}, "vendor": {request.pk},
        "other_vendor": set(), "evaluator": set(), "other_staff": set(),
    }
    for who, visible in expectations.items():
        actor = parties[who]
        assert set(scope(actor, Assessment.objects.all(), Perm.ASSESSMENT_VIEW).values_list("pk", flat=True)) \
            == visible, who
        for model, path in ((Answer, "assessment_id"), (Evidence, "answer__assessment_id"),
                            (ReviewComment, "answer__assessment_id"), (AssessmentEvent, "assessment_id")):
            seen = set(scope(actor, model.objects.all(), Perm.ASSESSMENT_VIEW).values_list(path, flat=True))
            assert seen <= visible, (who, model.__name__, seen)
    evidence = set(scope(parties["staff"], Evidence.objects.all(), Perm.ASSESSMENT_VIEW).values_list("pk", flat=True))
    assert evidence == set(Evidence.objects.filter(answer=own_answer).values_list("pk", flat=True)) != set()
    comments = scope(parties["vendor"], ReviewComment.objects.all(), Perm.ASSESSMENT_VIEW)
    assert list(comments.values_list("text", flat=True)) == ["確認中"]
    assert not scope(parties["vendor"], Evidence.objects.all(), Perm.ASSESSMENT_VIEW).exists()
    assert scope(parties["vendor"], AssessmentEvent.objects.all(), Perm.ASSESSMENT_VIEW).filter(
        to_status=Status.SUBMITTED).count() == 1
