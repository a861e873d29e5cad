"""Dashboards: the institution's year (own checklist, vendors, MDS/SDS, what the inspection lacks),
the vendor's requests, the evaluator's queue — each in a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from anzen.accounts import services as account_services
from anzen.accounts.roles import OrgKind
from anzen.assessments import selectors_dashboard, services
from anzen.assessments.models import Assessment, Status, SubjectKind
from tests.assessments.conftest import DAY, FY, answer_all, own_checklist, vendor_form
from tests.conftest import login_as

pytestmark = pytest.mark.django_db
TODAY = dt.date(FY, 10, 1)


def lacks(board) -> list[str]:
    return [lack.text for lack in board.institution.lacks]


def test_empty_year_lacks_everything(parties, checklist) -> None:
    board = selectors_dashboard.dashboard(parties["staff"], fiscal_year=FY, today=TODAY)
    texts = lacks(board)
    assert any("医療機関確認用がまだ作成されていません" in t for t in texts)
    assert any("テスト事業者 に事業者確認用を依頼していません" in t for t in texts)
    assert any("MDS/SDS がまだ1件も提出されていません" in t for t in texts)
    assert not any("無関係の事業者" in t for t in texts)  # not a partner of this hospital


def test_year_in_progress(parties, checklist, mds) -> None:
    own = own_checklist(parties, checklist)
    services.answer_set(actor=parties["staff"], assessment=own, node=checklist["H-1-1"], round1_value="no",
                        round1_date=DAY)
    request = vendor_form(parties, checklist)  # due 2025-09-30, not submitted
    board = selectors_dashboard.dashboard(parties["staff"], fiscal_year=FY, today=TODAY)
    view = board.institution
    assert view.own == own and view.vendor_forms == [request]
    texts = lacks(board)
    assert any("回答（確認日つき）が揃っていない必須項目" in t for t in texts)
    assert any("目標日のない「いいえ」が1件" in t for t in texts)
    assert any("テスト事業者 の事業者確認用が未提出です（提出期限" in t for t in texts)
    assert any("承認（経営層・管理者）されていません" in t for t in texts)
    assert [r.kind for r in board.reminders] == ["not_submitted"]


def test_complete_year_lacks_nothing(parties, checklist, mds) -> None:
    own = own_checklist(parties, checklist)
    answer_all(parties["staff"], own)
    services.assessment_submit(actor=parties["staff"], assessment=own)
    services.assessment_sign_off(actor=parties["manager"], assessment=own)
    request = vendor_form(parties, checklist)
    answer_all(parties["vendor"], request)
    services.assessment_submit(actor=parties["vendor"], assessment=request)
    system = services.assessment_create(actor=parties["staff"], edition=mds.edition, subject_kind=SubjectKind.SYSTEM,
                                        fiscal_year=FY, respondent=parties.world.vendor, subject_label="製品X 2.1")
    answer_all(parties["vendor"], system)
    services.assessment_submit(actor=parties["vendor"], assessment=system)
    board = selectors_dashboard.dashboard(parties["staff"], fiscal_year=FY, today=TODAY)
    assert lacks(board) == []
    assert {a.pk for a in board.to_review} == {request.pk, system.pk}  # the institution reviews its vendors


def test_no_vendor_contract_skips_vendor_checks(parties, checklist) -> None:
    own_checklist(parties, checklist, conditions={"no_vendor_contract": True})
    texts = lacks(selectors_dashboard.dashboard(parties["staff"], fiscal_year=FY, today=TODAY))
    assert not any("事業者確認用" in t and "依頼" in t for t in texts)
    assert not any("MDS/SDS" in t for t in texts)


def test_vendor_and_evaluator_queues(parties, checklist) -> None:
    request = vendor_form(parties, checklist)
    evaluated = own_checklist(parties, checklist, evaluator=parties.world.evaluator)
    answer_all(parties["staff"], evaluated)
    services.assessment_submit(actor=parties["staff"], assessment=evaluated)
    vendor_board = selectors_dashboard.dashboard(parties["vendor"], today=TODAY)
    assert vendor_board.requests == [request] and vendor_board.institution is None
    assert selectors_dashboard.dashboard(parties["other_vendor"], today=TODAY).requests == []
    evaluator_board = selectors_dashboard.dashboard(parties["evaluator"], today=TODAY)
    assert evaluator_board.to_review == [evaluated]
    assert evaluator_board.to_review[0].pending_count == evaluated.answers.count()


def test_dashboard_pages_per_role(client, parties, checklist) -> None:
    request = vendor_form(parties, checklist)
    html = login_as(client, parties.memberships["staff"]).get(reverse("common:dashboard"), {"fy": FY})
    text = html.content.decode()
    assert "令和7年度（2025年度）のチェックリスト" in text and "立入検査までに足りないもの" in text
    assert reverse("assessments:detail", args=[request.pk]) in text
    vendor = login_as(client, parties.memberships["vendor"]).get(reverse("common:dashboard")).content.decode()
    assert "医療機関等からの依頼" in vendor and "テスト病院" in vendor and "立入検査までに" not in vendor
    evaluator = login_as(client, parties.memberships["evaluator"]).get(reverse("common:dashboard")).content.decode()
    assert "確認待ち" in evaluator


def test_dashboard_queries_do_not_grow_with_vendors(client, parties, checklist, django_assert_max_num_queries) -> None:
    login_as(client, parties.memberships["staff"])
    own_checklist(parties, checklist)

    def measure() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("common:dashboard"), {"fy": FY}).status_code == 200
        return len(captured)

    before = measure()
    for index in range(12):
        vendor = account_services.organisation_create(kind=OrgKind.VENDOR, name=f"事業者{index}", code=f"v{index}")
        account_services.relation_create(institution=parties.world.hospital, partner=vendor)
        Assessment.objects.create(institution=parties.world.hospital, respondent=vendor, edition=checklist.edition,
                                  form=checklist["V"], subject_kind=SubjectKind.VENDOR, fiscal_year=FY,
                                  status=Status.SUBMITTED if index % 2 else Status.DRAFT, due_date=DAY)
    after = measure()
    assert after == before, (before, after)
    with django_assert_max_num_queries(30):
        client.get(reverse("common:dashboard"), {"fy": FY})
