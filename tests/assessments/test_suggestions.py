"""Answer once: suggestions from mapped items and from last year's answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from anzen.accounts.roles import Role
from anzen.assessments import suggestions as sg
from anzen.common.permissions import Actor
from anzen.library.loader import load_builtin_library
from tests.assessments.test_suggest_support import CYBER_R6, CYBER_R7, MDS, answer, equal_mapping, make_assessment

YES_NO = ("yes", "no")


def source(value: str = "yes", *, pk: int = 1, ref: str = "4.2", day: dt.date | None = dt.date(2025, 8, 2),
           edition: str = MDS, node_id: str = "4.2") -> sg.SourceAnswer:
    return sg.SourceAnswer(
        answer_pk=pk, assessment_pk=10, form_label="MDS/SDS", edition_key=edition, subject_label="製品X 2.1",
        respondent_name="事業者Y", fiscal_year=2025, node_id=node_id, ref=ref, text="アクセス管理機能があるか?",
        value=value, value_label={"yes": "はい", "no": "いいえ", "na": "対象外"}.get(value, value), answered_on=day)


def item(node_id: str = "V-2-4-server", *, pk: int = 7, current: str = "") -> sg.Item:
    return sg.Item(pk, node_id, "2(4)", YES_NO, current)


def link(relation: str, *, node_id: str = "V-2-4-server", basis: str = "inferred") -> sg.Link:
    return sg.Link(node_id, MDS, "4.2", relation, basis, "理由", "cyber-r7--mds-sds-v4-1")


# --- the pure core ------------------------------------------------------------------------------


def test_an_equal_relation_proposes_the_source_value() -> None:
    found = sg.build_suggestions([item()], [link("equal", basis="explicit")], {(MDS, "4.2"): [source("yes")]})
    [suggestion] = found[7]
    assert suggestion.proposed_value == "yes"
    assert not suggestion.needs_review
    assert suggestion.relation == "equal" and suggestion.basis == "explicit"
    assert suggestion.provenance()["mapping_set"] == "cyber-r7--mds-sds-v4-1"


@pytest.mark.parametrize("relation", ["subset", "superset", "intersect"])
def test_partial_relations_only_hint_and_show_the_source_value(relation: str) -> None:
    found = sg.build_suggestions([item()], [link(relation)], {(MDS, "4.2"): [source("yes")]})
    [suggestion] = found[7]
    assert suggestion.proposed_value == ""
    assert suggestion.needs_review
    assert suggestion.source.value_label == "はい"  # shown beside the 要確認 hint


@given(relation=st.sampled_from(["subset", "superset", "intersect", "not_related"]),
       value=st.sampled_from(["yes", "no", "na", "applicable", "not_applicable"]),
       current=st.sampled_from(["", "yes", "no"]))
def test_no_relation_but_equal_ever_proposes_a_value(relation: str, value: str, current: str) -> None:
    found = sg.build_suggestions([item(current=current)], [link(relation)], {(MDS, "4.2"): [source(value)]})
    assert all(s.proposed_value == "" for s in found.get(7, []))
    if relation == "not_related":
        assert found == {}


def test_an_equal_value_outside_the_items_schema_is_not_proposed() -> None:
    """MDS/SDS 対象外 has no counterpart on a はい/いいえ form."""
    found = sg.build_suggestions([item()], [link("equal")], {(MDS, "4.2"): [source("na")]})
    assert found[7][0].proposed_value == "" and found[7][0].needs_review


def test_blank_sources_and_unmapped_items_give_nothing() -> None:
    found = sg.build_suggestions([item(), item("V-1-1", pk=8)], [link("equal")], {(MDS, "4.2"): [source("")]})
    assert found == {}


def test_last_years_answer_comes_first_and_proposes_its_value() -> None:
    last = source("no", pk=99, ref="2(4)", edition=CYBER_R6, node_id="V-2-4-server")
    found = sg.build_suggestions([item()], [link("intersect")], {(MDS, "4.2"): [source("yes")]},
                                 {"V-2-4-server": last})
    first, second = found[7]
    assert first.origin == "previous_year" and first.relation == sg.SAME_ITEM
    assert first.proposed_value == "no" and first.key == "p99"
    assert second.origin == "mapping" and second.key == "m1" and second.needs_review


def test_provenance_names_form_item_subject_respondent_and_date() -> None:
    text = sg.provenance_text(source())
    for part in ("MDS/SDS 4.2", "製品X 2.1", "事業者Y", "2025年8月2日"):
        assert part in text, text
    assert "日付なし" in sg.provenance_text(source(day=None))
    assert "令和7年度" in sg.provenance_text(source(), previous_year=True)


def test_relations_are_read_from_the_item_being_answered() -> None:
    assert sg.seen_from("A", source_node_id="A", relation="subset") == "subset"
    assert sg.seen_from("B", source_node_id="A", relation="subset") == "superset"
    assert sg.seen_from("B", source_node_id="A", relation="intersect") == "intersect"


def test_the_strongest_link_per_pair_wins() -> None:
    links = sg.strongest([link("intersect"), link("equal", basis="explicit"), link("subset")])
    assert [(lk.relation, lk.basis) for lk in links] == [("equal", "explicit")]


# --- from the database --------------------------------------------------------------------------


@pytest.fixture
def library(db: None) -> dict[str, Any]:
    return load_builtin_library()


@pytest.fixture
def vendor_year(library: dict[str, Any], world: Any) -> dict[str, Any]:
    """The vendor's 事業者確認用 (R7, blank) and its MDS/SDS for the hospital, FY2025."""
    form = make_assessment(world.hospital, world.vendor, CYBER_R7, form="V", kind="vendor", year=2025)
    mds = make_assessment(world.hospital, world.vendor, MDS, form="MDS", kind="system", year=2025,
                          label="AobaPACS 3.2")
    answer(mds, "4.2", "yes", dt.date(2025, 8, 2))
    answer(mds, "4.3", "yes", dt.date(2025, 8, 2))
    answer(mds, "12.4.1", "no", dt.date(2025, 8, 2))
    return {"form": form, "mds": mds}


def by_node_id(found: dict[int, list[sg.Suggestion]], assessment: Any) -> dict[str, list[sg.Suggestion]]:
    ids = dict(assessment.edition.nodes.values_list("pk", "node_id"))
    return {ids[pk]: value for pk, value in found.items()}


def test_vendor_form_gets_hints_from_its_mds_sds_through_the_shipped_mappings(vendor_year: dict[str, Any]) -> None:
    found = by_node_id(sg.suggestions_for(Actor.system(), vendor_year["form"]), vendor_year["form"])
    [hint] = found["V-2-4-server"]  # V-2-4-server ↔ MDS 4.2: intersect, inferred
    assert hint.relation == "intersect" and hint.basis == "inferred"
    assert hint.needs_review and hint.source.value == "yes"
    assert "AobaPACS 3.2" in hint.provenance_text and "MDS/SDS 4.2" in hint.provenance_text
    assert "テスト事業者" in hint.provenance_text
    assert hint.provenance()["relation"] == "intersect"
    # V-2-2 ↔ 12.4.1 (intersect): the MDS says いいえ; shown, nothing proposed.
    assert [s.source.value for s in found["V-2-2"]] == ["no"]
    assert all(s.proposed_value == "" for found_for in found.values() for s in found_for)


def test_an_equal_mapping_proposes_the_value(vendor_year: dict[str, Any]) -> None:
    equal_mapping((CYBER_R7, "V-2-6-server"), (MDS, "4.3"))
    found = by_node_id(sg.suggestions_for(Actor.system(), vendor_year["form"]), vendor_year["form"])
    [proposal] = [s for s in found["V-2-6-server"] if s.relation == "equal"]
    assert proposal.proposed_value == "yes" and proposal.basis == "explicit"
    # The shipped intersect links of the same item stay hints.
    assert all(s.needs_review for s in found["V-2-6-server"] if s.relation != "equal")


def test_mappings_work_in_both_directions(vendor_year: dict[str, Any]) -> None:
    answer(vendor_year["form"], "V-2-4-server", "yes")
    equal_mapping((CYBER_R7, "V-2-5-server"), (MDS, "4.1.1"), relation="subset", basis="inferred")
    answer(vendor_year["form"], "V-2-5-server", "yes")
    found = by_node_id(sg.suggestions_for(Actor.system(), vendor_year["mds"]), vendor_year["mds"])
    assert [s.source.ref for s in found["4.2"]] == ["2(4)"]
    assert found["4.2"][0].source.form_label == "事業者確認用"
    # Read from the MDS item, "V-2-5-server is a subset of 4.1.1" is a superset relation — still a hint.
    assert found["4.1.1"][0].relation == "superset" and found["4.1.1"][0].needs_review


def test_only_the_same_respondent_institution_and_year_are_sources(vendor_year: dict[str, Any], world: Any) -> None:
    others = [
        make_assessment(world.hospital, world.other_vendor, MDS, form="MDS", kind="system", year=2025, label="他社"),
        make_assessment(world.other_hospital, world.vendor, MDS, form="MDS", kind="system", year=2025, label="他院"),
        make_assessment(world.hospital, world.vendor, MDS, form="MDS", kind="system", year=2024, label="昨年"),
    ]
    for other in others:
        answer(other, "4.2", "no")
    found = by_node_id(sg.suggestions_for(Actor.system(), vendor_year["form"]), vendor_year["form"])
    assert [s.source.subject_label for s in found["V-2-4-server"]] == ["AobaPACS 3.2"]


def test_last_years_answers_by_node_id_across_editions(library: dict[str, Any], world: Any) -> None:
    last = make_assessment(world.hospital, world.hospital, CYBER_R6, form="H", kind="institution", year=2024,
                           status="signed_off")
    answer(last, "H-2-1", "yes", dt.date(2024, 6, 30))
    answer(last, "H-1-1", "no", dt.date(2024, 6, 30), target_date=dt.date(2024, 12, 31))
    answer(last, "H-2-7-server", "yes", dt.date(2024, 6, 30))  # removed in R7
    this = make_assessment(world.hospital, world.hospital, CYBER_R7, form="H", kind="institution", year=2025,
                           copied_from=last)
    found = by_node_id(sg.suggestions_for(Actor.system(), this), this)
    assert set(found) == {"H-2-1", "H-1-1"}
    assert found["H-2-1"][0].origin == "previous_year" and found["H-2-1"][0].proposed_value == "yes"
    assert found["H-1-1"][0].proposed_value == "no"
    assert "令和6年度" in found["H-2-1"][0].provenance_text
    assert found["H-2-1"][0].source.edition_key == CYBER_R6


def test_one_item_only(vendor_year: dict[str, Any]) -> None:
    form = vendor_year["form"]
    pk = form.edition.nodes.get(node_id="V-2-4-server").pk
    assert list(sg.suggestions_for(Actor.system(), form, node_pk=pk)) == [pk]


def test_a_foreign_vendor_sees_no_sources(vendor_year: dict[str, Any], world: Any, make_member: Any) -> None:
    stranger = make_member("sg-stranger", world.other_vendor, Role.VENDOR)
    assert sg.suggestions_for(Actor(stranger.user, stranger), vendor_year["form"]) == {}
    own = make_member("sg-own", world.vendor, Role.VENDOR)
    assert sg.suggestions_for(Actor(own.user, own), vendor_year["form"]) != {}


def test_queries_stay_bounded_whatever_the_number_of_sources(vendor_year: dict[str, Any], world: Any,
                                                             make_member: Any,
                                                             django_assert_max_num_queries: Any) -> None:
    own = make_member("sg-count", world.vendor, Role.VENDOR)
    actor = Actor(own.user, own)
    form = vendor_year["form"]
    sg.suggestions_for(actor, form)  # warm the actor's membership → organisation cache
    with CaptureQueriesContext(connection) as small:
        sg.suggestions_for(actor, form)
    for n in range(4):  # four more products, every MDS item answered, and the vendor form answered
        mds = make_assessment(world.hospital, world.vendor, MDS, form="MDS", kind="system", year=2025,
                              label=f"製品{n}")
        for node_id in mds.edition.nodes.filter(kind="item", answer_schema__isnull=False).values_list(
                "node_id", flat=True):
            answer(mds, node_id, "yes")
    for node_id in ("V-1-1", "V-2-2", "V-2-3", "V-2-4-server"):
        answer(form, node_id, "yes")
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as large:
        found = sg.suggestions_for(actor, form)
    assert sum(len(v) for v in found.values()) > 10
    assert len(large) == len(small)
