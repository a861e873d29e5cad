"""Copy last year's assessment (service and screen) and the year-over-year page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from anzen.accounts.roles import Role
from anzen.assessments import services, suggestions
from anzen.assessments.models import Answer, Assessment, Status
from anzen.assessments.services_copy import assessment_copy_previous, newest_edition
from anzen.common.permissions import Actor
from anzen.library.loader import load_builtin_library
from anzen.library.models import Edition
from tests.assessments.test_suggest_support import CYBER_R6, CYBER_R7, node
from tests.conftest import login_as


@pytest.fixture
def last_year(db: None, world: Any, make_member: Any) -> dict[str, Any]:
    """The hospital's FY2024 checklist (R6), answered, with an evaluator, signed off by the manager."""
    load_builtin_library()
    staff = make_member("yc-staff", world.hospital, Role.STAFF)
    manager = make_member("yc-manager", world.hospital, Role.MANAGER)
    evaluator = make_member("yc-eval", world.evaluator, Role.EVALUATOR, mfa=True)
    actors = {name: Actor(m.user, m) for name, m in
              {"staff": staff, "manager": manager, "evaluator": evaluator}.items()}
    r6 = Edition.objects.get(key=CYBER_R6, is_current=True)
    last = services.assessment_create(actor=actors["staff"], edition=r6, subject_kind="institution",
                                      fiscal_year=2024, evaluator=world.evaluator)
    day = dt.date(2024, 6, 30)
    for item in r6.nodes.filter(parent__isnull=False, kind="item", answer_schema__isnull=False,
                                node_id__startswith="H"):
        value = "no" if item.node_id == "H-2-1" else "yes"
        fields: dict[str, Any] = {"round1_value": value, "round1_date": day}
        if value == "no":
            fields.update(target_date=dt.date(2024, 12, 31), round2_value="yes", round2_date=dt.date(2024, 12, 20),
                          remarks="台帳を整備中", countermeasure="資産管理ソフトを導入")
        services.answer_set(actor=actors["staff"], assessment=last, node=item, **fields)
    services.assessment_submit(actor=actors["staff"], assessment=last)
    for answer in last.answers.all():
        services.item_review(actor=actors["evaluator"], answer=answer, result="accept")
    last.refresh_from_db()
    services.assessment_accept(actor=actors["evaluator"], assessment=last)
    last.refresh_from_db()
    services.assessment_sign_off(actor=actors["manager"], assessment=last)
    last.refresh_from_db()
    assert last.status == Status.SIGNED_OFF
    return {"last": last, "actors": actors, "members": {"staff": staff, "manager": manager}}


def test_copy_makes_an_empty_draft_whose_old_answers_are_suggestions(last_year: dict[str, Any]) -> None:
    last = last_year["last"]
    new = assessment_copy_previous(actor=last_year["actors"]["staff"], previous=last, fiscal_year=2025)
    assert new.pk != last.pk and new.copied_from_id == last.pk
    assert new.status == Status.DRAFT and new.fiscal_year == 2025
    assert new.edition.key == CYBER_R7  # the newest edition for FY2025
    assert new.form.node_id == "H" and new.form.edition_id == new.edition_id
    assert new.evaluator_id == last.evaluator_id and new.signed_off_at is None and new.signed_off_by is None
    assert Answer.objects.filter(assessment=new).count() == 0  # nothing copied as an answer
    found = suggestions.suggestions_for(last_year["actors"]["staff"], new)
    by_id = {s.source.node_id: s for items in found.values() for s in items if s.origin == "previous_year"}
    assert by_id["H-2-1"].proposed_value == "yes"  # last year's final answer (2回目)
    assert by_id["H-2-1"].source.remarks == "台帳を整備中"
    assert "H-2-7-server" not in by_id  # no longer an item in R7
    last.refresh_from_db()
    assert last.status == Status.SIGNED_OFF  # the old year is untouched


def test_confirming_a_copied_answer_records_its_provenance(last_year: dict[str, Any]) -> None:
    staff = last_year["actors"]["staff"]
    new = assessment_copy_previous(actor=staff, previous=last_year["last"], fiscal_year=2025)
    item = node(CYBER_R7, "H-2-1")
    [suggestion] = suggestions.suggestions_for(staff, new, node_pk=item.pk)[item.pk]
    answer = services.answer_set(actor=staff, assessment=new, node=item, provenance=suggestion.provenance(),
                                 round1_value=suggestion.proposed_value, round1_date=dt.date(2025, 6, 1))
    assert answer.provenance["origin"] == "previous_year" and answer.provenance["fiscal_year"] == 2024
    assert answer.review_status == Answer.Review.PENDING


def test_copy_is_refused_for_the_same_or_an_earlier_year_and_for_duplicates(last_year: dict[str, Any]) -> None:
    staff, last = last_year["actors"]["staff"], last_year["last"]
    with pytest.raises(ValidationError):
        assessment_copy_previous(actor=staff, previous=last, fiscal_year=2024)
    assessment_copy_previous(actor=staff, previous=last, fiscal_year=2025)
    with pytest.raises(ValidationError):
        assessment_copy_previous(actor=staff, previous=last, fiscal_year=2025)
    other_framework = Edition.objects.get(key="jahis-mds-sds@4.1", is_current=True)
    with pytest.raises(ValidationError):
        assessment_copy_previous(actor=staff, previous=last, fiscal_year=2026, edition=other_framework)


def test_only_the_institution_may_copy(last_year: dict[str, Any], world: Any, make_member: Any) -> None:
    vendor = make_member("yc-vendor", world.vendor, Role.VENDOR)
    with pytest.raises(PermissionDenied):
        assessment_copy_previous(actor=Actor(vendor.user, vendor), previous=last_year["last"], fiscal_year=2025)
    with pytest.raises(PermissionDenied):  # 経営層 signs off but does not manage assessments
        assessment_copy_previous(actor=last_year["actors"]["manager"], previous=last_year["last"], fiscal_year=2025)
    assert Assessment.objects.filter(fiscal_year=2025).count() == 0


def test_newest_edition_for_a_year(last_year: dict[str, Any]) -> None:
    framework = last_year["last"].edition.framework_id
    assert newest_edition(framework, 2023).key == "mhlw-cyber-checklist@R5"
    assert newest_edition(framework, 2024).key == CYBER_R6
    assert newest_edition(framework, 2030).key == CYBER_R7
    assert newest_edition(framework, 2000).key == "mhlw-cyber-checklist@R5"  # all later: the oldest


def test_copy_screen(client: Client, last_year: dict[str, Any]) -> None:
    login_as(client, last_year["members"]["staff"])
    url = reverse("assessments:copy_previous", args=[last_year["last"].pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "次年度へ複写" in page.content.decode() and "令和7年度版" in page.content.decode()
    response = client.post(url, {"fiscal_year": "2025"})
    new = Assessment.objects.get(fiscal_year=2025)
    assert response.status_code == 302 and response["Location"] == reverse("assessments:suggestions", args=[new.pk])
    assert new.copied_from_id == last_year["last"].pk
    again = client.post(url, {"fiscal_year": "2025"}, follow=True)
    assert "すでにあります" in again.content.decode()
    assert Assessment.objects.filter(fiscal_year=2025).count() == 1


def test_year_over_year_screen(client: Client, last_year: dict[str, Any],
                               django_assert_max_num_queries: Any) -> None:
    staff = last_year["actors"]["staff"]
    new = assessment_copy_previous(actor=staff, previous=last_year["last"], fiscal_year=2025)
    services.answer_set(actor=staff, assessment=new, node=node(CYBER_R7, "H-2-1"), round1_value="no",
                        round1_date=dt.date(2025, 6, 1), target_date=dt.date(2025, 12, 1))
    services.answer_set(actor=staff, assessment=new, node=node(CYBER_R7, "H-1-1"), round1_value="yes",
                        round1_date=dt.date(2025, 6, 1))
    login_as(client, last_year["members"]["staff"])
    url = reverse("assessments:yoy", args=[new.pk])
    client.get(url)
    with django_assert_max_num_queries(20):
        page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("前年度との比較", "変更あり", "変更なし", "新しい項目", "削除された項目", "版の変更",
                 "パスワードの使い回しを禁止している。", "2025年6月1日"):
        assert text in html, text
    changed = client.get(url, {"state": "changed"}).content.decode()
    assert "サーバ、端末PC、ネットワーク機器の台帳管理を行っている。" in changed
    assert "医療情報システム安全管理責任者を設置している。" not in changed
