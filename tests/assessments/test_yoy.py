"""Year-over-year comparison and copying last year's assessment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anzen.assessments import yoy
from anzen.common.permissions import Actor
from anzen.library.loader import load_builtin_library
from tests.assessments.test_suggest_support import CYBER_R6, CYBER_R7, answer, make_assessment


def year(node_id: str, value: str = "", ref: str = "") -> yoy.YearAnswer:
    return yoy.YearAnswer(node_id, ref or node_id, f"{node_id} の本文", value, value)


def test_states_of_the_comparison() -> None:
    previous = [year("A", "yes"), year("B", "no"), year("C", "yes"), year("D", "yes"), year("E", "")]
    current = [year("A", "yes"), year("B", "yes"), year("C", ""), year("N", "yes"), year("E", "no")]
    result = yoy.compare(previous, current, {"B": ("text",)})
    states = {row.node_id: row.state for row in result.rows}
    assert states == {"A": yoy.SAME, "B": yoy.CHANGED, "C": yoy.NOT_YET, "N": yoy.NEW_ITEM,
                      "D": yoy.REMOVED_ITEM, "E": yoy.CHANGED}
    assert [row.node_id for row in result.rows] == ["A", "B", "C", "N", "E", "D"]  # removed items last
    assert result.rows[1].edition_changes == ("text",)
    assert result.counts == {yoy.CHANGED: 2, yoy.NOT_YET: 1, yoy.NEW_ITEM: 1, yoy.REMOVED_ITEM: 1, yoy.SAME: 1}
    assert result.rows[0].state_label == "変更なし"


def test_without_a_previous_year_everything_is_new() -> None:
    result = yoy.compare([], [year("A", "yes"), year("B")])
    assert {row.state for row in result.rows} == {yoy.NEW_ITEM}


@pytest.fixture
def two_years(db: None, world: Any) -> dict[str, Any]:
    load_builtin_library()
    last = make_assessment(world.hospital, world.hospital, CYBER_R6, form="H", kind="institution", year=2024,
                           status="signed_off")
    day = dt.date(2024, 6, 30)
    answer(last, "H-0", "yes", day)
    answer(last, "H-1-1", "yes", day)
    answer(last, "H-2-1", "no", day, target_date=dt.date(2024, 12, 31))
    answer(last, "H-2-7-server", "yes", day)
    answer(last, "H-3-1", "yes", day)
    this = make_assessment(world.hospital, world.hospital, CYBER_R7, form="H", kind="institution", year=2025,
                           copied_from=last)
    day = dt.date(2025, 6, 30)
    answer(this, "H-0", "yes", day)
    answer(this, "H-1-1", "yes", day)
    answer(this, "H-2-1", "yes", day)
    answer(this, "H-R7-pw-reuse", "no", day, target_date=dt.date(2026, 3, 31))
    return {"last": last, "this": this}


def test_comparison_across_editions(two_years: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(8):
        result = yoy.yoy_for(Actor.system(), two_years["this"])
    assert result.previous == two_years["last"]
    rows = {row.node_id: row for row in result.comparison.rows}
    assert rows["H-1-1"].state == yoy.SAME
    assert rows["H-2-1"].state == yoy.CHANGED
    assert (rows["H-2-1"].previous.value, rows["H-2-1"].current.value) == ("no", "yes")
    assert rows["H-2-1"].previous.target_date == dt.date(2024, 12, 31)
    assert rows["H-3-1"].state == yoy.NOT_YET
    assert rows["H-R7-pw-reuse"].state == yoy.NEW_ITEM and rows["H-R7-pw-reuse"].current.value_label == "いいえ"
    assert rows["H-2-7-server"].state == yoy.REMOVED_ITEM
    # Repeated refs are told apart by their group heading: 2(4) under サーバ and under 端末PC.
    assert rows["H-2-4-server"].group.startswith("サーバ") and rows["H-2-4-pc"].group.startswith("端末PC")
    # The edition diff, limited to the institution form: R7 adds its new items and drops 2(7).
    assert result.edition_diff is not None
    added = {node.node_id for node in result.edition_diff.added}
    removed = {node.node_id for node in result.edition_diff.removed}
    assert {"H-R7-pw-reuse", "H-R7-usb", "H-R7-2fa"} <= added and not any(n.startswith("V-") for n in added)
    assert {"H-2-7-server", "H-2-7-pc", "H-2-7-network"} <= removed
    assert rows["H-2-2"].edition_changes  # reworded (「事業者等に」→「事業者に」)
    assert yoy.as_dict(result)["counts"][yoy.CHANGED] == 1


def test_previous_year_found_without_copied_from(two_years: dict[str, Any]) -> None:
    this = two_years["this"]
    this.copied_from = None
    this.save()
    assert yoy.yoy_for(Actor.system(), this).previous == two_years["last"]


def test_no_previous_year(two_years: dict[str, Any]) -> None:
    result = yoy.yoy_for(Actor.system(), two_years["last"])
    assert result.previous is None and result.edition_diff is None
    assert {row.state for row in result.comparison.rows} == {yoy.NEW_ITEM}
