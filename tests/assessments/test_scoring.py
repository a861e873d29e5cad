"""Scoring (pure): progress and achievement per section and overall, per round; いいえ and overdue items."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from anzen.assessments.rules import Layout, Values
from anzen.assessments.scoring import ScoreItem, score

MHLW = Layout(rounds=2, target_date=True, dated=True)
SINGLE = Layout()
TODAY = dt.date(2025, 10, 1)
D1 = dt.date(2025, 6, 2)


def item(key, section, values, *, required=True, has_yes=True, layout=None):
    return ScoreItem(key=key, ref=str(key), label=str(key), section_key=section, section_label=f"S{section}",
                     required=required, values=values, has_yes=has_yes, layout=layout)


def test_progress_and_achievement_per_section_and_round() -> None:
    items = [
        item(1, 1, Values("yes", D1)),
        item(2, 1, Values("no", D1, dt.date(2025, 9, 30))),  # overdue
        item(3, 2, Values("no", D1, dt.date(2025, 12, 31), "yes", dt.date(2025, 9, 1))),
        item(4, 2, Values("yes")),  # no date: incomplete
        item(5, 2, Values()),  # unanswered
        item(6, 2, Values("yes", D1), required=False),  # 参考: not counted
    ]
    result = score(items, layout=MHLW, today=TODAY)
    overall = result.overall
    assert (overall.required, overall.answered_r1, overall.answered, overall.yes_r1, overall.yes) == (5, 3, 3, 1, 2)
    assert (overall.r2_needed, overall.r2_answered, overall.r2_yes) == (2, 1, 1)
    assert overall.progress_pct == 60 and overall.achievement_pct == 40 and overall.achievement_r1_pct == 20
    s1, s2 = result.sections
    assert (s1.label, s1.required, s1.answered, s1.yes) == ("S1", 2, 2, 1)
    assert (s2.label, s2.required, s2.answered, s2.yes) == ("S2", 3, 1, 1)
    assert [n.key for n in result.no_items] == [2, 3]
    assert [n.key for n in result.overdue] == [2]
    assert result.missing_target_dates == []


def test_neutral_answers_leave_the_achievement_count() -> None:
    items = [item(1, None, Values("yes")), item(2, None, Values("na")),
             item(3, None, Values("applicable"), has_yes=False), item(4, None, Values("no"))]
    overall = score(items, layout=SINGLE, today=TODAY).overall
    assert overall.required == 4 and overall.answered == 4 and overall.achievable == 2
    assert overall.achievement_pct == 50
    assert score(items, layout=SINGLE, today=TODAY).no_items == []  # single-round forms have no 目標日


def test_missing_target_dates_are_listed() -> None:
    result = score([item(1, None, Values("no", D1))], layout=MHLW, today=TODAY)
    assert [n.key for n in result.missing_target_dates] == [1]
    assert result.overall.answered == 0  # いいえ without 目標日 is not complete


def test_gating_item_uses_its_own_layout() -> None:
    gate = Layout(rounds=1, target_date=False, dated=True)
    result = score([item("H-0", None, Values("yes", D1), layout=gate)], layout=MHLW, today=TODAY)
    assert result.overall.answered == 1 and result.no_items == []


dates = st.one_of(st.none(), st.dates(min_value=dt.date(2025, 4, 1), max_value=dt.date(2026, 3, 31)))
values = st.builds(Values, st.sampled_from(["", "yes", "no", "na"]), dates, dates,
                   st.sampled_from(["", "yes", "no"]), dates)
items_strategy = st.lists(st.tuples(st.integers(0, 3), values, st.booleans()), max_size=40)


@given(items_strategy)
def test_sections_add_up_and_bounds_hold(raw) -> None:
    items = [item(i, section, v, required=req) for i, (section, v, req) in enumerate(raw)]
    result = score(items, layout=MHLW, today=TODAY)
    overall = result.overall
    assert overall.required == sum(1 for _s, _v, req in raw if req)
    for name in ("required", "answered", "answered_r1", "yes", "yes_r1", "r2_needed", "r2_answered"):
        assert getattr(overall, name) == sum(getattr(s, name) for s in result.sections)
    assert 0 <= overall.yes <= overall.answered <= overall.required
    assert 0 <= overall.r2_answered <= overall.r2_needed <= overall.required
    assert 0 <= overall.achievement_pct <= 100 and 0 <= overall.progress_pct <= 100
    assert all(n.target_date is not None for n in result.overdue)
