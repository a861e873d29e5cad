"""The suggestions screen: confirm (with provenance) and reject (nothing stored), htmx and plain posts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from anzen.accounts.roles import Role
from anzen.assessments import services
from anzen.assessments.models import Answer
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from anzen.library.loader import load_builtin_library
from anzen.library.models import Edition
from tests.assessments.test_suggest_support import CYBER_R7, MDS, equal_mapping, node
from tests.conftest import login_as


@pytest.fixture
def forms(db: None, world: Any, make_member: Any) -> dict[str, Any]:
    """The vendor's 事業者確認用 (blank) and its MDS/SDS (answered), requested by the hospital's staff."""
    load_builtin_library()
    staff = make_member("sv-staff", world.hospital, Role.STAFF)
    vendor = make_member("sv-vendor", world.vendor, Role.VENDOR)
    staff_actor, vendor_actor = Actor(staff.user, staff), Actor(vendor.user, vendor)
    form = services.assessment_create(actor=staff_actor, edition=Edition.objects.get(key=CYBER_R7, is_current=True),
                                      subject_kind="vendor", fiscal_year=2025, respondent=world.vendor)
    mds = services.assessment_create(actor=staff_actor, edition=Edition.objects.get(key=MDS, is_current=True),
                                     subject_kind="system", fiscal_year=2025, respondent=world.vendor,
                                     subject_label="AobaPACS 3.2")
    for node_id, value in (("4.2", "yes"), ("4.3", "yes"), ("12.4.1", "no")):
        services.answer_set(actor=vendor_actor, assessment=mds, node=node(MDS, node_id), round1_value=value,
                            round1_date=dt.date(2025, 8, 2))
    equal_mapping((CYBER_R7, "V-2-6-server"), (MDS, "4.3"))
    return {"form": form, "mds": mds, "staff": staff, "vendor": vendor}


def _page(client: Client, forms: dict[str, Any]) -> str:
    response = client.get(reverse("assessments:suggestions", args=[forms["form"].pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_provenance_relation_and_the_hint(client: Client, forms: dict[str, Any],
                                                         django_assert_max_num_queries: Any) -> None:
    login_as(client, forms["vendor"])
    _page(client, forms)
    with django_assert_max_num_queries(25):
        html = _page(client, forms)
    for text in ("回答の候補", "AobaPACS 3.2", "MDS/SDS 4.2", "一部重複", "推定（要確認）", "要確認",
                 "同等", "明示（文書に記載）", "提案する回答", "確認して反映", "却下"):
        assert text in html, text


def test_confirming_a_proposal_saves_the_value_with_provenance(client: Client, forms: dict[str, Any]) -> None:
    login_as(client, forms["vendor"])
    item = node(CYBER_R7, "V-2-6-server")
    response = client.post(reverse("assessments:suggestion_confirm", args=[forms["form"].pk]), {
        "node": item.pk, "key": _key(forms, item, "equal"), "date": "2025-08-03"})
    assert response.status_code == 302
    answer = Answer.objects.get(assessment=forms["form"], node=item)
    assert (answer.round1_value, answer.round1_date) == ("yes", dt.date(2025, 8, 3))
    assert answer.provenance["relation"] == "equal" and answer.provenance["subject"] == "AobaPACS 3.2"
    assert "MDS/SDS 4.3" in answer.provenance["text"] and answer.provenance["confirmed_by"] == "sv-vendor"


def _key(forms: dict[str, Any], item: Any, relation: str) -> str:
    from anzen.assessments import suggestions

    found = suggestions.suggestions_for(Actor.system(), forms["form"], node_pk=item.pk)[item.pk]
    return next(s.key for s in found if s.relation == relation)


def test_a_hint_needs_a_value_chosen_by_the_user(client: Client, forms: dict[str, Any]) -> None:
    login_as(client, forms["vendor"])
    item = node(CYBER_R7, "V-2-4-server")
    url = reverse("assessments:suggestion_confirm", args=[forms["form"].pk])
    key = _key(forms, item, "intersect")
    htmx = {"HTTP_HX_REQUEST": "true",
            "HTTP_HX_CURRENT_URL": "http://testserver" + reverse("assessments:suggestions", args=[forms["form"].pk])}
    html = client.post(url, {"node": item.pk, "key": key}, **htmx).content.decode()
    assert "回答を選んでください" in html and 'id="sg-' in html
    assert not Answer.objects.filter(assessment=forms["form"], node=item).exists()
    html = client.post(url, {"node": item.pk, "key": key, "value": "no", "date": "2025-08-03",
                             "target_date": "2026-03-31"}, **htmx).content.decode()
    answer = Answer.objects.get(assessment=forms["form"], node=item)
    assert (answer.round1_value, answer.target_date) == ("no", dt.date(2026, 3, 31))
    assert answer.provenance["relation"] == "intersect" and answer.provenance["proposed"] == ""
    assert answer.provenance["confirmed_value"] == "no"
    assert html.lstrip().startswith(f'<div class="suggestions" id="sg-{item.pk}"') and "<html" not in html


def test_htmx_posts_from_another_page_reload_that_page(client: Client, forms: dict[str, Any]) -> None:
    """On an item or assessment page the answer shown above changes too: htmx navigates back there."""
    login_as(client, forms["vendor"])
    item = node(CYBER_R7, "V-2-6-server")
    back = reverse("assessments:item", args=[forms["form"].pk, item.pk])
    response = client.post(reverse("assessments:suggestion_confirm", args=[forms["form"].pk]),
                           {"node": item.pk, "key": _key(forms, item, "equal"), "next": back},
                           HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver" + back)
    assert response.status_code == 204 and response["HX-Redirect"] == back
    assert Answer.objects.get(assessment=forms["form"], node=item).round1_value == "yes"
    assert "候補を確認して回答に反映しました。" in client.get(back).content.decode()


def test_rejecting_stores_nothing(client: Client, forms: dict[str, Any]) -> None:
    login_as(client, forms["vendor"])
    item = node(CYBER_R7, "V-2-4-server")
    key = _key(forms, item, "intersect")
    entries, answers = AuditEntry.objects.count(), Answer.objects.count()
    response = client.post(reverse("assessments:suggestion_reject", args=[forms["form"].pk]),
                           {"node": item.pk, "key": key})
    assert response.status_code == 302
    assert (AuditEntry.objects.count(), Answer.objects.count()) == (entries, answers)
    assert f'id="item-{item.pk}"' not in _page(client, forms)  # its only suggestion is hidden for this session
    shown_all = client.get(reverse("assessments:suggestions", args=[forms["form"].pk]), {"all": "1"})
    assert f'id="item-{item.pk}"' in shown_all.content.decode()


def test_the_institution_sees_but_cannot_confirm_a_vendors_suggestion(client: Client, forms: dict[str, Any]) -> None:
    login_as(client, forms["staff"])
    html = _page(client, forms)
    assert "参照のみ" in html and "確認して反映" not in html
    item = node(CYBER_R7, "V-2-6-server")
    response = client.post(reverse("assessments:suggestion_confirm", args=[forms["form"].pk]),
                           {"node": item.pk, "key": _key(forms, item, "equal")}, follow=True)
    assert "回答できません" in response.content.decode()
    assert not Answer.objects.filter(assessment=forms["form"], node=item).exists()


def test_a_foreign_vendor_gets_404(client: Client, forms: dict[str, Any], world: Any, make_member: Any) -> None:
    login_as(client, make_member("sv-stranger", world.other_vendor, Role.VENDOR))
    assert client.get(reverse("assessments:suggestions", args=[forms["form"].pk])).status_code == 404
    assert client.post(reverse("assessments:suggestion_confirm", args=[forms["form"].pk]),
                       {"node": "1", "key": "m1"}).status_code == 404


def test_assessment_page_context_attaches_suggestions_to_rows(forms: dict[str, Any],
                                                             django_assert_max_num_queries: Any) -> None:
    from anzen.assessments import selectors
    from anzen.assessments.views_answer_once import assessment_page_context

    actor = Actor(forms["vendor"].user, forms["vendor"])
    rows = selectors.answer_rows(forms["form"])
    with django_assert_max_num_queries(14):
        context = assessment_page_context(actor, forms["form"], rows)
    by_id = {row.node.node_id: row.suggestions for row in rows}
    assert by_id["V-2-4-server"] and by_id["V-2-6-server"] and by_id["V-1-1"] == []
    panel = context["answer_once"]
    assert panel["can_answer"] and panel["crosscheck"] is not None and panel["counts"]["items"] == 3
