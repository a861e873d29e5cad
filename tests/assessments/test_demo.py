"""The demo year: loads through the services, tells a realistic story, and loads only once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps

from anzen.assessments import crosscheck, suggestions
from anzen.assessments.models import Answer, Assessment, AssessmentEvent, Evidence, ReviewComment, Status
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from anzen.common.wareki import fiscal_year_of
from anzen.demo.assessments import load_demo_year
from anzen.demo.loader import load_demo
from anzen.library.loader import load_builtin_library


@pytest.fixture
def demo(db: None) -> dict[str, Any]:
    load_builtin_library()
    return load_demo()


def _hospital_assessments() -> dict[tuple[str, int, str], Assessment]:
    found = Assessment.objects.filter(institution__code="demo-sakuradai").select_related("respondent", "edition")
    return {(a.subject_kind, a.fiscal_year, a.respondent.code): a for a in found}


def test_the_demo_year(demo: dict[str, Any]) -> None:
    year = fiscal_year_of(dt.date.today())
    assert demo["assessments"]["created"] and demo["assessments"]["fiscal_year"] == year
    found = _hospital_assessments()
    last = found[("institution", year - 1, "demo-sakuradai")]
    this = found[("institution", year, "demo-sakuradai")]
    # Last year: signed off by the 経営層 user.
    assert last.status == Status.SIGNED_OFF and last.signed_off_by.username == "sakura-manager"
    assert last.evaluator.code == "demo-evaluator"
    # This year: copied from last year, answered with dates, some いいえ with 目標日, evidence, one item returned.
    assert this.copied_from_id == last.pk and this.status == Status.RETURNED
    answers = list(this.answers.select_related("node"))
    assert answers and all(a.round1_value and a.round1_date for a in answers)
    no = [a for a in answers if a.round1_value == "no"]
    assert len(no) >= 2 and all(a.target_date and a.target_date > a.round1_date for a in no)
    # the contact chart, and the ledger's two exports (anzen/demo/assets.py): 機器台帳 on 2(1) replacing the demo
    # year's extract, the remote-maintenance list on 2(2)
    files = Evidence.objects.filter(answer__assessment=this, kind="file")
    assert files.count() == 3
    assert {"H-2-1", "H-2-2"} <= set(files.values_list("answer__node__node_id", flat=True))
    assert all(e.sha256 and e.size > 0 for e in Evidence.objects.filter(answer__assessment=this))
    [returned] = [a for a in answers if a.review_status == Answer.Review.RETURNED]
    assert returned.node.ref == "3(1)"
    comment = ReviewComment.objects.get(answer=returned, result="return")
    assert comment.author.username == "eval-evaluator" and "連絡体制図" in comment.text
    assert sum(1 for a in answers if a.provenance.get("origin") == "previous_year") >= 10
    # Two vendors' 事業者確認用 submitted through their own accounts, one MDS/SDS received.
    for code in ("demo-hikari-ehr", "demo-minato-net"):
        form = found[("vendor", year, code)]
        assert form.status == Status.SUBMITTED and form.form.node_id == "V"
        assert {a.answered_by.username for a in form.answers.all()} == {code.split("-")[1] + "-vendor"}
    mds = found[("system", year, "demo-aoba-pacs")]
    assert mds.status == Status.SUBMITTED and mds.subject_label == "AobaPACS 3.2"
    assert mds.answers.filter(remarks="非常時アカウントはオプション契約で対応").exists()
    # あおば's 事業者確認用 was requested too and is still being filled in.
    assert found[("vendor", year, "demo-aoba-pacs")].status == Status.DRAFT
    # 目標日 are not overdue on the day the demo is loaded.
    assert all(a.target_date >= dt.date.today() for a in no)


def test_the_demo_year_shows_in_the_answer_once_views(demo: dict[str, Any]) -> None:
    year = fiscal_year_of(dt.date.today())
    found = _hospital_assessments()
    aoba = crosscheck.crosscheck_for_assessment(Actor.system(), found[("system", year, "demo-aoba-pacs")])
    assert ("11", "オプション") in {(f.item.node_id, f.keyword) for f in aoba.result.remark_flags}
    assert ("V-2-6-server", "4.3.2") in {(d.vendor_item.node_id, d.system_item.node_id)
                                         for d in aoba.result.disagreements}
    minato = crosscheck.crosscheck_for_assessment(Actor.system(), found[("vendor", year, "demo-minato-net")])
    assert {"病院で用意", "施設ご", "別途"} <= {f.keyword for f in minato.result.remark_flags}
    this = found[("institution", year, "demo-sakuradai")]
    assert any(s.origin == "previous_year" for items in suggestions.suggestions_for(Actor.system(), this).values()
               for s in items)


def test_the_audit_trail_names_the_demo_users(demo: dict[str, Any]) -> None:
    labels = set(AuditEntry.objects.filter(object_type__startswith="assessments.").values_list("actor_label",
                                                                                                flat=True))
    assert {"sakura-staff", "hikari-vendor", "minato-vendor", "aoba-vendor", "eval-evaluator",
            "sakura-manager"} <= labels
    events = AssessmentEvent.objects.filter(assessment__institution__code="demo-sakuradai")
    assert events.filter(to_status=Status.SIGNED_OFF, actor__username="sakura-manager").count() == 1
    assert events.filter(to_status=Status.RETURNED, actor__username="eval-evaluator").count() == 1


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_loading_twice_adds_nothing(demo: dict[str, Any]) -> None:
    before = _row_counts()
    again = load_demo()
    assert again["created"] is False and again["assessments"]["created"] is False
    assert _row_counts() == before  # no rows at all, audit entries included


def test_without_the_library_the_year_is_skipped(db: None) -> None:
    from anzen.accounts.models import Organisation

    hospital = Organisation.objects.create(kind="institution", name="試験病院", code="t-demo")
    assert load_demo_year(hospital)["created"] is False
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("today", [dt.date(2025, 4, 1), dt.date(2026, 3, 31)])
def test_first_and_last_day_of_a_fiscal_year(db: None, today: dt.date, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dates stay inside the fiscal year and not after today, early or late in the year."""
    from anzen.demo import assessments as demo_year

    load_builtin_library()
    monkeypatch.setattr(demo_year.timezone, "localdate", lambda *args: today)
    result = load_demo()["assessments"]
    assert result["created"] and result["fiscal_year"] == 2025
    dates = Answer.objects.filter(assessment__fiscal_year=2025).exclude(round1_date=None)
    assert dates.count() > 20
    assert all(dt.date(2025, 4, 1) <= a.round1_date <= today for a in dates)
    assert Assessment.objects.get(fiscal_year=2024).edition.key == "mhlw-cyber-checklist@R6"
