"""The form's rules (pure): which items are required and why not, and the problems of an answer."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from anzen.assessments.rules import (
    ItemSpec,
    ItemStatus,
    Layout,
    Severity,
    Values,
    Verdict,
    answer_problems,
    is_complete,
    item_statuses,
    value_errors,
)

MHLW = Layout.from_form_meta({"answer_rounds": ["1回目", "目標日", "2回目"]})
SINGLE = Layout.from_form_meta({})
D1 = dt.date(2025, 6, 2)
REQUIRED = Verdict(ItemStatus.REQUIRED)

GATE = ItemSpec("H-0", gating=True, required_from=2023)
ITEMS = [
    GATE,
    ItemSpec("1(1)", "1(1)", required_from=2023),
    ItemSpec("2(2)", "2(2)", required_from=2023, conditions=("no_vendor_contract",),
             condition_note="*2(2)及び2(3)については、事業者と契約していない場合には、記入不要です。"),
    ItemSpec("2(3)", "2(3)", required_from=2023, conditions=("no_vendor_contract",)),
    ItemSpec("2(9)", "2(9)", required_from=2024),
    ItemSpec("old", "old", reference_only=True),
]


def codes(problems):
    return [p.code for p in problems]


def test_layouts_follow_the_form() -> None:
    assert (MHLW.rounds, MHLW.target_date, MHLW.dated) == (2, True, True)
    assert (SINGLE.rounds, SINGLE.target_date, SINGLE.dated) == (1, False, False)
    assert MHLW.for_item(GATE) == Layout(rounds=1, target_date=False, dated=True)


def test_everything_required_in_a_plain_year() -> None:
    statuses = item_statuses(ITEMS, fiscal_year=2024, conditions={}, answers={})
    assert {k for k, v in statuses.items() if v.required} == {"H-0", "1(1)", "2(2)", "2(3)", "2(9)"}
    assert statuses["old"].status == ItemStatus.REFERENCE


def test_reference_items_before_their_year() -> None:
    statuses = item_statuses(ITEMS, fiscal_year=2023, conditions={}, answers={})
    assert statuses["2(9)"].status == ItemStatus.REFERENCE
    assert "2024年度から必須" in statuses["2(9)"].reason
    assert statuses["1(1)"].required


def test_no_vendor_contract_makes_2_2_and_2_3_not_needed() -> None:
    statuses = item_statuses(ITEMS, fiscal_year=2024, conditions={"no_vendor_contract": True}, answers={})
    assert statuses["2(2)"].status == statuses["2(3)"].status == ItemStatus.NOT_NEEDED
    assert "事業者と契約していない場合には、記入不要" in statuses["2(2)"].reason
    assert "記入不要" in statuses["2(3)"].reason
    assert statuses["1(1)"].required
    off = item_statuses(ITEMS, fiscal_year=2024, conditions={"no_vendor_contract": False}, answers={})
    assert off["2(2)"].required


def test_gating_no_makes_everything_else_unneeded() -> None:
    statuses = item_statuses(ITEMS, fiscal_year=2024, conditions={}, answers={"H-0": Values("no", D1)})
    assert statuses["H-0"].required
    assert all(v.status == ItemStatus.GATED for k, v in statuses.items() if k != "H-0")
    assert "確認不要" in statuses["1(1)"].reason
    yes = item_statuses(ITEMS, fiscal_year=2024, conditions={}, answers={"H-0": Values("yes", D1)})
    assert yes["1(1)"].required


def test_round2_no_on_gating_item_counts_as_final() -> None:
    answers = {"H-0": Values("yes", D1, None, "no", D1)}
    assert item_statuses(ITEMS, fiscal_year=2024, conditions={}, answers=answers)["1(1)"].status == ItemStatus.GATED


def test_value_without_date_is_incomplete() -> None:
    problems = answer_problems(Values("yes"), layout=MHLW, verdict=REQUIRED)
    assert codes(problems) == ["r1_no_date"]
    assert problems[0].severity == Severity.INCOMPLETE and "確認日" in problems[0].message
    assert not is_complete(Values("yes"), MHLW)
    assert is_complete(Values("yes"), SINGLE)  # MDS/SDS: no per-item date


def test_no_without_target_date() -> None:
    assert codes(answer_problems(Values("no", D1), layout=MHLW)) == ["no_target_date"]
    assert answer_problems(Values("no", D1, D1 + dt.timedelta(days=30)), layout=MHLW) == []
    assert answer_problems(Values("no", D1), layout=MHLW.for_item(GATE)) == []  # gating: いいえ is an answer


def test_date_without_value_and_round2_without_round1() -> None:
    assert codes(answer_problems(Values("", D1), layout=MHLW)) == ["r1_date_only"]
    assert codes(answer_problems(Values(round2_value="yes", round2_date=D1), layout=MHLW)) == ["r2_without_r1"]
    assert "r2_date_only" in codes(answer_problems(Values("no", D1, D1, "", D1), layout=MHLW))
    assert "r2_no_date" in codes(answer_problems(Values("no", D1, D1, "yes"), layout=MHLW))


def test_round2_before_round1_and_target_before_round1_are_errors() -> None:
    later = D1 + dt.timedelta(days=5)
    problems = answer_problems(Values("no", later, D1, "yes", D1), layout=MHLW)
    assert {"r2_before_r1", "target_before_r1"} <= set(codes(problems))
    assert all(p.severity == Severity.ERROR for p in problems if p.code in ("r2_before_r1", "target_before_r1"))


def test_warnings_target_without_no_future_and_overdue() -> None:
    today = dt.date(2025, 10, 1)
    assert codes(answer_problems(Values("yes", D1, D1), layout=MHLW, today=today)) == ["target_without_no"]
    assert codes(answer_problems(Values("yes", today + dt.timedelta(days=1)), layout=MHLW, today=today)) == [
        "future_date"]
    overdue = answer_problems(Values("no", D1, dt.date(2025, 9, 30)), layout=MHLW, today=today)
    assert codes(overdue) == ["overdue"] and overdue[0].severity == Severity.WARNING
    fixed = Values("no", D1, dt.date(2025, 9, 30), "yes", dt.date(2025, 9, 29))
    assert answer_problems(fixed, layout=MHLW, today=today) == []


def test_unanswered_only_for_required_items() -> None:
    assert codes(answer_problems(Values(), layout=MHLW, verdict=REQUIRED)) == ["unanswered"]
    assert answer_problems(Values(), layout=MHLW, verdict=Verdict(ItemStatus.REFERENCE)) == []


def test_value_errors() -> None:
    assert codes(value_errors(Values("maybe"), ("yes", "no"), MHLW)) == ["bad_value"]
    assert "はい／いいえ" in value_errors(Values("maybe"), ("yes", "no"), MHLW)[0].message
    assert codes(value_errors(Values("yes", round2_value="yes"), ("yes", "no"), SINGLE)) == ["no_round2"]
    assert codes(value_errors(Values("no", target_date=D1), ("yes", "no"), SINGLE)) == ["no_target_column"]
    assert value_errors(Values("na"), ("yes", "no", "na"), SINGLE) == []


dates = st.one_of(st.none(), st.dates(min_value=dt.date(2023, 4, 1), max_value=dt.date(2027, 3, 31)))
values = st.builds(Values, st.sampled_from(["", "yes", "no"]), dates, dates, st.sampled_from(["", "yes", "no"]), dates)


@given(values)
def test_complete_answers_have_a_dated_value(v: Values) -> None:
    if is_complete(v, MHLW):
        assert v.round1_value and v.round1_date
        assert v.round1_value != "no" or v.target_date
        assert not v.round2_value or v.round2_date
        assert not (v.round2_date and v.round2_date < v.round1_date)


@given(values)
def test_every_problem_names_a_field_and_explains_itself(v: Values) -> None:
    for problem in answer_problems(v, layout=MHLW, verdict=REQUIRED, today=dt.date(2025, 6, 1)):
        assert problem.fields and problem.message
        assert problem.severity in (Severity.ERROR, Severity.INCOMPLETE, Severity.WARNING)


@given(st.lists(st.sampled_from(ITEMS[1:]), unique=True), st.integers(2020, 2030), st.booleans())
def test_statuses_cover_every_item_and_only_required_have_no_reason(items, year, no_contract) -> None:
    statuses = item_statuses(items, fiscal_year=year, conditions={"no_vendor_contract": no_contract}, answers={})
    assert set(statuses) == {item.key for item in items}
    for verdict in statuses.values():
        assert bool(verdict.reason) != verdict.required
