"""Progress and achievement of an assessment, per section and overall, per round (pure, no ORM).

- progress: required items answered completely (value, and its date where the form asks for one);
- achievement: required items answered はい (the form's aim: 「すべての項目で「はい」にマルが付くよう」).
  Items answered 対象外 (or 該当/非該当) leave the achievement count: they are neither done nor missing;
- round 1 and the final answer (2回目 when given, otherwise 1回目) are counted separately; round 2 is
  needed for the items answered いいえ in round 1;
- いいえ items with their 目標日, and the overdue ones (目標日 passed without a 2回目 はい).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from anzen.assessments.rules import NEUTRAL, NO, YES, Layout, Values, is_complete


@dataclass(frozen=True)
class ScoreItem:
    key: int | str
    ref: str
    label: str
    section_key: int | str | None
    section_label: str
    required: bool
    values: Values
    has_yes: bool = True
    layout: Layout | None = None  # the item's own when it differs from the form's (the gating item)


@dataclass
class Tally:
    key: int | str | None = None
    label: str = ""
    required: int = 0
    answered_r1: int = 0  # required items with a complete 1回目
    yes_r1: int = 0
    no_r1: int = 0
    answered: int = 0  # required items complete in their final answer
    yes: int = 0  # required items whose final answer is はい
    neutral: int = 0  # required items answered 対象外 / 該当 / 非該当
    r2_needed: int = 0  # required items answered いいえ in round 1
    r2_answered: int = 0
    r2_yes: int = 0

    @property
    def achievable(self) -> int:
        return self.required - self.neutral

    @property
    def progress_pct(self) -> int:
        return _pct(self.answered, self.required)

    @property
    def progress_r1_pct(self) -> int:
        return _pct(self.answered_r1, self.required)

    @property
    def achievement_pct(self) -> int:
        return _pct(self.yes, self.achievable)

    @property
    def achievement_r1_pct(self) -> int:
        return _pct(self.yes_r1, self.achievable)

    @property
    def is_complete(self) -> bool:
        return self.answered == self.required


@dataclass(frozen=True)
class NoItem:
    key: int | str
    ref: str
    label: str
    target_date: dt.date | None
    round2_value: str
    overdue: bool


@dataclass
class Result:
    overall: Tally
    sections: list[Tally] = field(default_factory=list)
    no_items: list[NoItem] = field(default_factory=list)

    @property
    def overdue(self) -> list[NoItem]:
        return [item for item in self.no_items if item.overdue]

    @property
    def missing_target_dates(self) -> list[NoItem]:
        return [item for item in self.no_items if item.target_date is None and item.round2_value != YES]


def _pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _count(tally: Tally, item: ScoreItem, layout: Layout) -> None:
    values = item.values
    tally.required += 1
    r1 = Values(values.round1_value, values.round1_date, values.target_date)
    if is_complete(r1, layout):
        tally.answered_r1 += 1
        tally.yes_r1 += values.round1_value == YES
        tally.no_r1 += values.round1_value == NO
    if is_complete(values, layout):
        tally.answered += 1
        final = values.final_value
        tally.yes += final == YES
        tally.neutral += final in NEUTRAL or not item.has_yes
    elif not item.has_yes:
        tally.neutral += 1
    if layout.rounds >= 2 and values.round1_value == NO:
        tally.r2_needed += 1
        if values.round2_value and (values.round2_date or not layout.dated):
            tally.r2_answered += 1
            tally.r2_yes += values.round2_value == YES


def score(items: Iterable[ScoreItem], *, layout: Layout, today: dt.date) -> Result:
    overall = Tally(label="")
    sections: dict[int | str | None, Tally] = {}
    no_items: list[NoItem] = []
    for item in items:
        item_layout = item.layout or layout
        if item.values.round1_value == NO and item.required and item_layout.target_date:
            overdue = bool(item_layout.target_date and item.values.target_date and item.values.target_date < today
                           and item.values.round2_value != YES)
            no_items.append(NoItem(item.key, item.ref, item.label, item.values.target_date,
                                   item.values.round2_value, overdue))
        if not item.required:
            continue
        section = sections.get(item.section_key)
        if section is None:
            section = sections[item.section_key] = Tally(key=item.section_key, label=item.section_label)
        _count(section, item, item.layout or layout)
        _count(overall, item, item.layout or layout)
    return Result(overall, list(sections.values()), no_items)
