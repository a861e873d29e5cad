"""Assessment screens per role: list scoping, creation, the form page, per-item saving (htmx and
plain POST), workflow buttons, the HISPRO layout and the item page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from anzen.assessments import services
from anzen.assessments.models import Answer, Assessment, ReviewComment, Status, SubjectKind
from tests.assessments.conftest import DAY, FY, answer_all, own_checklist, vendor_form
from tests.conftest import login_as

pytestmark = pytest.mark.django_db


def page(client, name, *args, **params):
    response = client.get(reverse(f"assessments:{name}", args=args), params)
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


def test_list_shows_each_organisation_its_own(client, parties, checklist) -> None:
    own = own_checklist(parties, checklist)
    theirs = vendor_form(parties, checklist)
    other = services.assessment_create(actor=parties["other_staff"], edition=checklist.edition,
                                       subject_kind=SubjectKind.INSTITUTION, fiscal_year=FY)
    hospital = page(login_as(client, parties.memberships["staff"]), "list")
    assert reverse("assessments:detail", args=[own.pk]) in hospital
    assert reverse("assessments:detail", args=[theirs.pk]) in hospital
    assert reverse("assessments:detail", args=[other.pk]) not in hospital
    vendor = page(login_as(client, parties.memberships["vendor"]), "list")
    assert reverse("assessments:detail", args=[theirs.pk]) in vendor
    assert reverse("assessments:detail", args=[own.pk]) not in vendor
    filtered = page(login_as(client, parties.memberships["staff"]), "list", subject_kind="vendor")
    assert reverse("assessments:detail", args=[own.pk]) not in filtered
    assert reverse("assessments:detail", args=[theirs.pk]) in filtered


def test_foreign_assessment_is_not_found(client, parties, checklist) -> None:
    own = own_checklist(parties, checklist)
    for who in ("vendor", "other_vendor", "evaluator", "other_staff"):
        login_as(client, parties.memberships[who])
        assert client.get(reverse("assessments:detail", args=[own.pk])).status_code == 404, who
        assert client.get(reverse("assessments:item", args=[own.pk, checklist["H-1-1"].pk])).status_code == 404


def test_create_institution_checklist_and_vendor_request(client, parties, checklist) -> None:
    login_as(client, parties.memberships["staff"])
    form_page = page(client, "create")
    assert "医療機関確認用" in form_page and "事業者確認用" in form_page
    target = f"{checklist.edition.pk}:{checklist['H'].pk}"
    response = client.post(reverse("assessments:create"), {"subject_kind": "institution", "target": target,
                                                          "fiscal_year": FY, "no_vendor_contract": "on"})
    made = Assessment.objects.get(subject_kind="institution")
    assert response.status_code == 302 and response["Location"] == reverse("assessments:detail", args=[made.pk])
    assert made.conditions == {"no_vendor_contract": True}
    response = client.post(reverse("assessments:create"), {
        "subject_kind": "vendor", "target": f"{checklist.edition.pk}:{checklist['V'].pk}", "fiscal_year": FY,
        "respondent": parties.world.vendor.pk, "due_date": "2025-09-30"})
    request = Assessment.objects.get(subject_kind="vendor")
    assert request.respondent == parties.world.vendor and request.due_date == dt.date(2025, 9, 30)
    refused = client.post(reverse("assessments:create"), {
        "subject_kind": "vendor", "target": f"{checklist.edition.pk}:{checklist['V'].pk}", "fiscal_year": FY})
    assert refused.status_code == 200 and "事業者を選んでください" in refused.content.decode()


def test_form_page_shows_rules_rounds_and_progress(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist, conditions={"no_vendor_contract": True})
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-1-1"],
                        round1_value="no", round1_date=DAY)
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"], round1_value="yes")
    html = page(login_as(client, parties.memberships["staff"]), "detail", assessment.pk)
    for text in ("1回目", "目標日", "2回目", "記入不要", "参考", "2026年度から必須",
                 "1回目が「いいえ」の項目には目標日", "1回目の回答に確認日がありません", "進捗と達成状況"):
        assert text in html, text
    assert 'name="round1_value"' in html and "hx-post" in html
    assert "V-1-1" not in html and "事業者内に" not in html  # only the form's own items


def test_plain_post_saves_and_redirects_to_the_row(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    login_as(client, parties.memberships["staff"])
    node = checklist["H-2-1"]
    url = reverse("assessments:answer_save", args=[assessment.pk, node.pk])
    response = client.post(url, {"round1_value": "no", "round1_date": "2025-06-02", "target_date": "2025-12-01",
                                 "remarks": "台帳の更新中"})
    assert response.status_code == 302 and response["Location"].endswith(f"#item-{node.pk}")
    answer = Answer.objects.get(assessment=assessment, node=node)
    assert (answer.round1_value, answer.target_date, answer.remarks) == ("no", dt.date(2025, 12, 1), "台帳の更新中")


def test_htmx_post_rerenders_the_row_with_errors(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    login_as(client, parties.memberships["staff"])
    node = checklist["H-1-1"]
    url = reverse("assessments:answer_save", args=[assessment.pk, node.pk])
    ok = client.post(url, {"round1_value": "yes", "round1_date": "2025-06-02"}, HTTP_HX_REQUEST="true")
    body = ok.content.decode()
    assert ok.status_code == 200 and body.lstrip().startswith(f'<tr id="item-{node.pk}"') and "保存しました" in body
    bad = client.post(url, {"round1_value": "no", "round1_date": "2025-06-02", "target_date": "2025-06-01"},
                      HTTP_HX_REQUEST="true")
    assert "目標日が1回目の確認日より前です" in bad.content.decode()
    assert Answer.objects.get(assessment=assessment, node=node).round1_value == "yes"


def test_vendor_cannot_save_into_the_institution_checklist(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    vendor_request = vendor_form(parties, checklist)
    login_as(client, parties.memberships["vendor"])
    response = client.post(reverse("assessments:answer_save", args=[assessment.pk, checklist["H-1-1"].pk]),
                           {"round1_value": "yes"})
    assert response.status_code == 404
    login_as(client, parties.memberships["staff"])  # the institution sees the vendor's form but does not answer it
    response = client.post(reverse("assessments:answer_save", args=[vendor_request.pk, checklist["V-1-1"].pk]),
                           {"round1_value": "yes"}, follow=True)
    assert "回答者の組織だけ" in response.content.decode()
    assert not Answer.objects.filter(assessment=vendor_request).exists()


def test_workflow_buttons_follow_role_and_state(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist, evaluator=parties.world.evaluator)
    answer_all(parties["staff"], assessment)
    staff_page = page(login_as(client, parties.memberships["staff"]), "detail", assessment.pk)
    assert reverse("assessments:submit", args=[assessment.pk]) in staff_page
    client.post(reverse("assessments:submit", args=[assessment.pk]), {"comment": "提出します"})
    assessment.refresh_from_db()
    assert assessment.status == Status.SUBMITTED
    evaluator_page = page(login_as(client, parties.memberships["evaluator"]), "detail", assessment.pk)
    assert reverse("assessments:return", args=[assessment.pk]) in evaluator_page
    assert reverse("assessments:submit", args=[assessment.pk]) not in evaluator_page
    node = checklist["H-2-1"]
    client.post(reverse("assessments:item_review", args=[assessment.pk, node.pk]),
                {"result": "return", "text": "台帳の写しを添付してください", "from": "item"})
    client.post(reverse("assessments:return", args=[assessment.pk]), {"comment": "2(1) を確認"})
    assessment.refresh_from_db()
    assert assessment.status == Status.RETURNED
    item = page(login_as(client, parties.memberships["staff"]), "item", assessment.pk, node.pk)
    assert "台帳の写しを添付してください" in item and "差戻し" in item
    client.post(reverse("assessments:item_comment", args=[assessment.pk, node.pk]), {"text": "添付しました"})
    assert ReviewComment.objects.filter(text="添付しました").exists()
    client.post(reverse("assessments:submit", args=[assessment.pk]))
    login_as(client, parties.memberships["evaluator"])
    client.post(reverse("assessments:item_review", args=[assessment.pk, node.pk]), {"result": "accept"})
    client.post(reverse("assessments:accept", args=[assessment.pk]))
    assessment.refresh_from_db()
    assert assessment.status == Status.ACCEPTED
    login_as(client, parties.memberships["staff"])
    refused = client.post(reverse("assessments:sign_off", args=[assessment.pk]))
    assert refused.status_code == 403  # 担当者 has no sign-off permission
    manager_page = page(login_as(client, parties.memberships["manager"]), "detail", assessment.pk)
    assert reverse("assessments:sign_off", args=[assessment.pk]) in manager_page
    client.post(reverse("assessments:sign_off", args=[assessment.pk]))
    assessment.refresh_from_db()
    assert assessment.status == Status.SIGNED_OFF and assessment.signed_off_name == "p-manager"
    signed = page(client, "detail", assessment.pk)
    assert "読み取り専用" in signed and "経営層" in signed
    assert 'name="round1_value"' not in page(login_as(client, parties.memberships["staff"]), "detail", assessment.pk)


def test_reopen_needs_a_reason_and_is_listed(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    answer_all(parties["staff"], assessment)
    services.assessment_submit(actor=parties["staff"], assessment=assessment)
    services.assessment_sign_off(actor=parties["manager"], assessment=assessment)
    login_as(client, parties.memberships["admin"])
    response = client.post(reverse("assessments:reopen", args=[assessment.pk]), {"reason": ""}, follow=True)
    assert "再開の理由を入力してください" in response.content.decode()
    client.post(reverse("assessments:reopen", args=[assessment.pk]), {"reason": "台帳の差し替え"})
    assessment.refresh_from_db()
    assert assessment.status == Status.DRAFT
    assert "再開: 台帳の差し替え" in page(client, "detail", assessment.pk)


def test_settings_change_conditions(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    login_as(client, parties.memberships["staff"])
    client.post(reverse("assessments:settings", args=[assessment.pk]),
                {"condition_no_vendor_contract": "on", "due_date": "2025-10-31"})
    assessment.refresh_from_db()
    assert assessment.conditions == {"no_vendor_contract": True} and assessment.due_date == dt.date(2025, 10, 31)
    login_as(client, parties.memberships["vendor"])
    vendor_request = vendor_form(parties, checklist)
    assert client.post(reverse("assessments:settings", args=[vendor_request.pk]),
                       {"due_date": "2030-01-01"}).status_code == 403
    vendor_request.refresh_from_db()
    assert vendor_request.due_date == dt.date(FY, 9, 30)
    assert client.get(reverse("assessments:settings", args=[vendor_request.pk])).status_code == 405


def test_hispro_layout_has_both_columns_groups(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist, evaluator=parties.world.evaluator)
    answer_all(parties["staff"], assessment)
    services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-1-1"],
                        countermeasure="安全管理責任者を情報システム室長に任命")
    services.assessment_submit(actor=parties["staff"], assessment=assessment)
    answer = Answer.objects.get(assessment=assessment, node=checklist["H-1-1"])
    services.item_review(actor=parties["evaluator"], answer=answer, result="return", text="任命書を添付")
    html = page(login_as(client, parties.memberships["evaluator"]), "hispro", assessment.pk)
    for text in ("確認者記入欄", "評価者記入欄", "対応策", "エビデンス", "評価結果", "コメント",
                 "安全管理責任者を情報システム室長に任命", "任命書を添付", "テスト評価機関"):
        assert text in html, text


def test_item_page_saves_the_effective_date(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    node = checklist["H-2-1"]
    login_as(client, parties.memberships["staff"])
    response = client.post(reverse("assessments:answer_save", args=[assessment.pk, node.pk]),
                           {"from": "item", "round1_value": "yes", "round1_date": "2025-06-02",
                            "effective_date": "2025-05-31", "remarks": "", "countermeasure": ""})
    assert response["Location"] == reverse("assessments:item", args=[assessment.pk, node.pk])
    assert Answer.objects.get(assessment=assessment, node=node).effective_date == dt.date(2025, 5, 31)
    assert 'name="effective_date" value="2025-05-31"' in page(client, "item", assessment.pk, node.pk)
    login_as(client, parties.memberships["auditor"])  # read-only: shown with 和暦
    html = page(client, "item", assessment.pk, node.pk)
    assert "エビデンスの基準日" in html and "2025年5月31日（令和7年）" in html
