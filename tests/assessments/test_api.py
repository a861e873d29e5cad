"""API: assessments, answers, reviews and the workflow with token auth and the screens' scoping."""

from __future__ import annotations

import pytest

from anzen.accounts import services as account_services
from anzen.assessments.models import Answer, Assessment, Status
from anzen.common.permissions import Actor
from tests.assessments.conftest import FY, answer_all, own_checklist, vendor_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, parties):
    def as_(who: str):
        membership = parties.memberships[who]
        _token, secret = account_services.api_token_create(actor=Actor(membership.user, membership), name="t")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

        class Caller:
            def get(self, path, **params):
                return client.get(f"/api{path}", params, **headers)

            def post(self, path, body=None):
                return client.post(f"/api{path}", body or {}, content_type="application/json", **headers)

            def patch(self, path, body):
                return client.patch(f"/api{path}", body, content_type="application/json", **headers)

        return Caller()

    return as_


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()}


def test_scoping_vendor_a_never_sees_b_nor_the_institution(api, parties, checklist) -> None:
    own = own_checklist(parties, checklist)
    request = vendor_form(parties, checklist)
    other = Assessment.objects.create(institution=parties.world.other_hospital, respondent=parties.world.other_vendor,
                                      edition=checklist.edition, form=checklist["V"], subject_kind="vendor",
                                      fiscal_year=FY)
    evaluated = own_checklist(parties, checklist, evaluator=parties.world.evaluator, subject_label="第三者評価")
    assert ids(api("staff").get("/assessments/")) == {own.pk, request.pk, evaluated.pk}
    assert ids(api("vendor").get("/assessments/")) == {request.pk}
    assert ids(api("other_vendor").get("/assessments/")) == {other.pk}
    assert ids(api("evaluator").get("/assessments/")) == {evaluated.pk}
    for who, hidden in (("vendor", own.pk), ("vendor", other.pk), ("other_vendor", request.pk),
                        ("evaluator", own.pk), ("evaluator", request.pk)):
        assert api(who).get(f"/assessments/{hidden}").status_code == 404, (who, hidden)
        assert api(who).get(f"/assessments/{hidden}/answers").status_code == 404


def test_answers_patch_partial_and_errors(api, parties, checklist) -> None:
    own = own_checklist(parties, checklist)
    node = checklist["H-1-1"]
    staff = api("staff")
    response = staff.patch(f"/assessments/{own.pk}/answers/{node.pk}",
                           {"round1_value": "no", "round1_date": "2025-06-02"})
    assert response.status_code == 200
    row = response.json()
    assert row["round1_value"] == "no" and row["status"] == "required"
    assert [p["code"] for p in row["problems"]] == ["no_target_date"]
    response = staff.patch(f"/assessments/{own.pk}/answers/{node.pk}", {"target_date": "2025-12-01"})
    fixed = response.json()
    assert fixed["round1_value"] == "no" and [p for p in fixed["problems"] if p["severity"] != "warning"] == []
    bad = staff.patch(f"/assessments/{own.pk}/answers/{node.pk}", {"round1_value": "maybe"})
    assert bad.status_code == 400 and "選択肢" in bad.json()["detail"][0]
    assert staff.post(f"/assessments/{own.pk}/answers/{node.pk}", {"remarks": "メモ"}).json()["remarks"] == "メモ"
    assert api("vendor").patch(f"/assessments/{own.pk}/answers/{node.pk}", {"round1_value": "yes"}).status_code == 404
    assert api("manager").patch(f"/assessments/{own.pk}/answers/{node.pk}",
                                {"round1_value": "yes"}).status_code == 403
    rows = staff.get(f"/assessments/{own.pk}/answers").json()
    by_ref = {r["ref"]: r for r in rows}
    assert by_ref["1(1)"]["target_date"] == "2025-12-01"
    assert by_ref["2(9)"]["status"] == "reference" and "2026年度から必須" in by_ref["2(9)"]["reason"]


def test_workflow_through_the_api(api, parties, checklist) -> None:
    request = vendor_form(parties, checklist)
    vendor, staff, manager = api("vendor"), api("staff"), api("manager")
    refused = vendor.post(f"/assessments/{request.pk}/submit")
    assert refused.status_code == 400 and "必須項目" in refused.json()["detail"][0]
    answer_all(parties["vendor"], request)
    assert vendor.post(f"/assessments/{request.pk}/submit", {"comment": "提出"}).json()["status"] == "submitted"
    assert staff.post(f"/assessments/{request.pk}/submit").status_code == 403  # not the respondent
    node = checklist["V-1-1"]
    review = staff.post(f"/assessments/{request.pk}/answers/{node.pk}/reviews",
                        {"result": "return", "text": "備考に責任者名を"})
    assert review.status_code == 201 and review.json()["result"] == "return"
    assert staff.post(f"/assessments/{request.pk}/return").json()["status"] == "returned"
    assert vendor.post(f"/assessments/{request.pk}/answers/{node.pk}/comments",
                       {"text": "追記しました"}).status_code == 201
    vendor.patch(f"/assessments/{request.pk}/answers/{node.pk}", {"remarks": "責任者: 品質保証部長"})
    vendor.post(f"/assessments/{request.pk}/submit")
    thread = staff.get(f"/assessments/{request.pk}/answers/{node.pk}/reviews").json()
    assert [c["text"] for c in thread] == ["備考に責任者名を", "追記しました"]
    detail = staff.post(f"/assessments/{request.pk}/accept").json()
    assert detail["status"] == "accepted" and detail["progress"]["answered"] == detail["progress"]["required"]
    assert api("staff").post(f"/assessments/{request.pk}/sign-off").status_code == 403
    signed = manager.post(f"/assessments/{request.pk}/sign-off").json()
    assert signed["status"] == "signed_off" and signed["signed_off_by"] == "p-manager"
    frozen = vendor.patch(f"/assessments/{request.pk}/answers/{node.pk}", {"remarks": "変更"})
    assert frozen.status_code == 400 and "承認済み" in frozen.json()["detail"][0]
    assert Answer.objects.get(assessment=request, node=node).remarks == "責任者: 品質保証部長"
    assert staff.post(f"/assessments/{request.pk}/reopen", {"reason": ""}).status_code == 400
    reopened = staff.post(f"/assessments/{request.pk}/reopen", {"reason": "契約更新"}).json()
    assert reopened["status"] == "draft"
    history = staff.get(f"/assessments/{request.pk}/events").json()
    assert history[-1]["comment"] == "再開: 契約更新" and history[-1]["from_status"] == "signed_off"


def test_create_through_the_api(api, parties, checklist) -> None:
    staff = api("staff")
    made = staff.post("/assessments/", {"edition": "mini-checklist@R5", "subject_kind": "vendor", "fiscal_year": FY,
                                        "respondent": "t-vendor", "due_date": "2025-09-30"})
    assert made.status_code == 201 and made.json()["form"] == "V" and made.json()["respondent"]["code"] == "t-vendor"
    foreign = staff.post("/assessments/", {"edition": "mini-checklist@R5", "subject_kind": "vendor",
                                           "fiscal_year": FY, "respondent": "t-vendor2"})
    assert foreign.status_code == 400
    assert api("vendor").post("/assessments/", {"edition": "mini-checklist@R5", "subject_kind": "institution",
                                                "fiscal_year": FY}).status_code == 403
    assert staff.post("/assessments/", {"edition": "nope@1", "subject_kind": "institution",
                                        "fiscal_year": FY}).status_code == 400


def test_token_is_required(client, parties, checklist) -> None:
    own_checklist(parties, checklist)
    assert client.get("/api/assessments/").status_code == 401


def test_evaluator_reviews_only_what_it_evaluates(api, parties, checklist) -> None:
    evaluated = own_checklist(parties, checklist, evaluator=parties.world.evaluator)
    answer_all(parties["staff"], evaluated)
    api("staff").post(f"/assessments/{evaluated.pk}/submit")
    request = vendor_form(parties, checklist)
    answer_all(parties["vendor"], request)
    api("vendor").post(f"/assessments/{request.pk}/submit")
    evaluator = api("evaluator")
    assert evaluator.post(f"/assessments/{request.pk}/accept").status_code == 404
    assert evaluator.post(f"/assessments/{evaluated.pk}/start-review").json()["status"] == "in_review"
    assert evaluator.post(f"/assessments/{evaluated.pk}/accept").json()["status"] == Status.ACCEPTED
