"""Bounded queries: the assessment page of a 300-item checklist with every round answered, evidence and
comments runs the same fixed number of queries as a 30-item one (asserted), and so do the list, the
HISPRO layout, an item page and the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anzen.accounts.roles import Role
from anzen.assessments.models import Answer, Assessment, Evidence, ReviewComment, Status, SubjectKind
from tests.assessments.conftest import ROUNDS, build_edition, schema
from tests.conftest import login_as

pytestmark = pytest.mark.django_db

# Bounds measured on SQLite and PostgreSQL with a margin; they do not grow with the number of items.
DETAIL_MAX = 24
LIST_MAX = 16
ITEM_MAX = 22
HISPRO_MAX = 15


def big_edition(key: str, items: int):
    spec = [("H", None, "form", "", "医療機関確認用", {"audience": "institution", "meta": ROUNDS})]
    per_section = 30
    for s in range(items // per_section):
        spec.append((f"S{s}", "H", "section", str(s + 1), f"区分{s + 1}", {}))
        spec.append((f"G{s}", f"S{s}", "group", "", "以下を実施している。", {}))
        for i in range(per_section):
            spec.append((f"I{s}-{i}", f"G{s}", "item", f"{s + 1}({i + 1})", f"項目 {s + 1}-{i + 1} を実施している。",
                         {"required_from": 2023}))
    return build_edition(key, spec, default_schema="yes-no")


def answered_assessment(parties, mini) -> Assessment:
    assessment = Assessment.objects.create(institution=parties.world.hospital, respondent=parties.world.hospital,
                                           evaluator=parties.world.evaluator, edition=mini.edition, form=mini["H"],
                                           subject_kind=SubjectKind.INSTITUTION, fiscal_year=2025,
                                           status=Status.IN_REVIEW)
    day = dt.date(2025, 6, 2)
    items = [node for node in mini.nodes.values() if node.kind == "item"]
    Answer.objects.bulk_create([
        Answer(assessment=assessment, node=node, round1_value="no", round1_date=day,
               target_date=day + dt.timedelta(days=60), round2_value="yes", round2_date=day + dt.timedelta(days=30),
               remarks="備考", countermeasure="対応策", review_status=Answer.Review.ACCEPTED)
        for node in items
    ])
    answers = list(Answer.objects.filter(assessment=assessment))
    Evidence.objects.bulk_create([Evidence(answer=a, kind="link", title="資料", url="https://intra.example/d")
                                  for a in answers[::3]])
    evaluator = parties.memberships["evaluator"]
    ReviewComment.objects.bulk_create([
        ReviewComment(answer=a, author=evaluator.user, organisation=evaluator.organisation, result="comment",
                      text="確認しました") for a in answers[::5]])
    return assessment


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_page_queries_do_not_grow_with_the_form(client, parties) -> None:
    schema("yes-no")
    small = answered_assessment(parties, big_edition("small@1", 30))
    large = answered_assessment(parties, big_edition("large@1", 300))
    assert large.answers.count() == 300
    login_as(client, parties.memberships["staff"])
    for name, bound in (("detail", DETAIL_MAX), ("hispro", HISPRO_MAX)):
        few = count(client, reverse(f"assessments:{name}", args=[small.pk]))
        many = count(client, reverse(f"assessments:{name}", args=[large.pk]))
        assert many == few, (name, few, many)
        assert many <= bound, (name, many)
    node = large.answers.order_by("-node__position").first().node
    assert count(client, reverse("assessments:item", args=[large.pk, node.pk])) <= ITEM_MAX


def test_detail_of_300_items_three_rounds(client, parties, django_assert_max_num_queries) -> None:
    schema("yes-no")
    assessment = answered_assessment(parties, big_edition("big@1", 300))
    login_as(client, parties.memberships["evaluator"])
    with django_assert_max_num_queries(DETAIL_MAX):
        response = client.get(reverse("assessments:detail", args=[assessment.pk]))
    html = response.content.decode()
    assert html.count('class="item level-') == 300
    assert "10(30)" in html and "2回目" in html


def test_list_queries_are_bounded(client, parties, checklist, make_member, django_assert_max_num_queries) -> None:
    for year in range(2015, 2045):
        Assessment.objects.create(institution=parties.world.hospital, respondent=parties.world.vendor,
                                  edition=checklist.edition, form=checklist["V"], subject_kind=SubjectKind.VENDOR,
                                  fiscal_year=year)
    login_as(client, make_member("q-staff", parties.world.hospital, Role.STAFF))
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get(reverse("assessments:list"))
    assert response.content.decode().count("事業者確認用") >= 30
