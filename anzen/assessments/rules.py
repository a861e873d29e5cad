"""The form's own rules, as pure functions (no ORM): which items an assessment requires, and what is
wrong or missing in an answer. Every verdict carries a Japanese explanation for the screen.

Sources (seed 003, the MHLW 医療機関確認用/事業者確認用 forms):
- 「医療情報システムの有無 … (「いいえ」の場合、以下すべての項目は確認不要)」 → a gating item answered
  いいえ makes every other item of the form not needed;
- 「*2(2)及び2(3)については、事業者と契約していない場合には、記入不要です。」 → items whose
  `meta.conditions` lists a condition that holds for the assessment need no answer;
- 「参考項目は令和5年度の立入検査では確認しません。」 → an item whose `required_from` is later than the
  assessment's fiscal year (or that is reference-only) is 参考 and not checked;
- 「*1回目の確認で「いいえ」の場合、…対応目標日を記入してください。」 and 「確認結果（日付）」 → an answer needs
  its date, and いいえ needs a 目標日.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext as _

YES = "yes"
NO = "no"
# Values that say "does not apply" rather than "done" or "not done" (they leave the achievement count).
NEUTRAL = frozenset({"na", "applicable", "not_applicable"})

# Conditions an institution can declare on an assessment, with their label on screen.
KNOWN_CONDITIONS = ("no_vendor_contract",)


def condition_label(key: str) -> str:
    labels = {"no_vendor_contract": _("事業者と契約していない（2(2)・2(3)は記入不要）")}
    return labels.get(key, key)


class ItemStatus(StrEnum):
    REQUIRED = "required"  # 必須: must be answered for the inspection
    REFERENCE = "reference"  # 参考: not checked in this fiscal year
    NOT_NEEDED = "not_needed"  # 記入不要: a declared condition makes it unnecessary
    GATED = "gated"  # 確認不要: the gating item (医療情報システムの有無) was answered いいえ


class Severity(StrEnum):
    ERROR = "error"  # refused when saving
    INCOMPLETE = "incomplete"  # saved, but the item is not complete (blocks submission)
    WARNING = "warning"  # shown, blocks nothing


@dataclass(frozen=True)
class Layout:
    """How the form is answered: rounds (1回目 / 目標日 / 2回目) and whether each answer needs a date."""

    rounds: int = 1
    target_date: bool = False
    dated: bool = False

    def for_item(self, item: ItemSpec) -> Layout:
        """The gating item (医療情報システムの有無) is answered once with its date: 「はい・いいえ (/)」."""
        if item.gating:
            return Layout(rounds=1, target_date=False, dated=self.dated)
        return self

    @classmethod
    def from_form_meta(cls, meta: Mapping[str, object] | None) -> Layout:
        raw = (meta or {}).get("answer_rounds") or []
        rounds = [str(name) for name in raw] if isinstance(raw, list) else []
        if "2回目" in rounds:
            return cls(rounds=2, target_date="目標日" in rounds, dated=True)
        if rounds:
            return cls(rounds=1, target_date="目標日" in rounds, dated=True)
        return cls()


@dataclass(frozen=True)
class ItemSpec:
    """What the rules need to know about one answerable item."""

    key: int | str
    ref: str = ""
    options: tuple[str, ...] = (YES, NO)
    required_from: int | None = None
    reference_only: bool = False
    gating: bool = False
    conditions: tuple[str, ...] = ()
    condition_note: str = ""


@dataclass(frozen=True)
class Values:
    """The answer columns the rules look at."""

    round1_value: str = ""
    round1_date: dt.date | None = None
    target_date: dt.date | None = None
    round2_value: str = ""
    round2_date: dt.date | None = None

    @property
    def final_value(self) -> str:
        return self.round2_value or self.round1_value

    @property
    def is_blank(self) -> bool:
        return not (self.round1_value or self.round1_date or self.target_date or self.round2_value
                    or self.round2_date)


@dataclass(frozen=True)
class Verdict:
    status: ItemStatus
    reason: str = ""

    @property
    def required(self) -> bool:
        return self.status == ItemStatus.REQUIRED


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    message: str
    fields: tuple[str, ...] = field(default=())


def item_statuses(items: Iterable[ItemSpec], *, fiscal_year: int, conditions: Mapping[str, object],
                  answers: Mapping[int | str, Values]) -> dict[int | str, Verdict]:
    """Whether each item is required in this assessment, and why not when it is not."""
    items = list(items)
    gated_by = next((item for item in items if item.gating and answers.get(item.key, Values()).final_value == NO),
                    None)
    active = {key for key, value in conditions.items() if value}
    verdicts: dict[int | str, Verdict] = {}
    for item in items:
        if gated_by is not None and item.key != gated_by.key:
            verdicts[item.key] = Verdict(ItemStatus.GATED,
                                         _("医療情報システムの有無が「いいえ」のため、確認不要です。"))
        elif item.reference_only:
            verdicts[item.key] = Verdict(ItemStatus.REFERENCE, _("参考項目です（確認の対象外）。"))
        elif item.required_from is not None and item.required_from > fiscal_year:
            verdicts[item.key] = Verdict(
                ItemStatus.REFERENCE,
                _("参考項目です（%(year)s年度から必須。この年度の立入検査では確認しません）。")
                % {"year": item.required_from},
            )
        elif active.intersection(item.conditions):
            note = item.condition_note or _("事業者と契約していない場合には、記入不要です。")
            verdicts[item.key] = Verdict(ItemStatus.NOT_NEEDED,
                                         _("記入不要です: %(note)s") % {"note": note.lstrip("*＊※ ")})
        else:
            verdicts[item.key] = Verdict(ItemStatus.REQUIRED)
    return verdicts


def value_errors(values: Values, options: Iterable[str], layout: Layout) -> list[Problem]:
    """Values the form cannot hold at all (refused on save)."""
    allowed = set(options)
    labels = "／".join(allowed_labels(options))
    problems = []
    for name, value, label in (("round1_value", values.round1_value, _("1回目")),
                               ("round2_value", values.round2_value, _("2回目"))):
        if value and value not in allowed:
            problems.append(Problem("bad_value", Severity.ERROR,
                                    _("%(round)sの回答「%(value)s」は選択肢（%(labels)s）にありません。")
                                    % {"round": label, "value": value, "labels": labels}, (name,)))
    if layout.rounds < 2 and (values.round2_value or values.round2_date):
        problems.append(Problem("no_round2", Severity.ERROR, _("この様式に2回目の欄はありません。"),
                                ("round2_value", "round2_date")))
    if not layout.target_date and values.target_date:
        problems.append(Problem("no_target_column", Severity.ERROR, _("この様式に目標日の欄はありません。"),
                                ("target_date",)))
    return problems


def answer_problems(values: Values, *, layout: Layout, verdict: Verdict | None = None,
                    today: dt.date | None = None) -> list[Problem]:
    """What is wrong or missing in one answer, in the order the columns appear."""
    problems: list[Problem] = []
    required = verdict is None or verdict.required
    if values.is_blank:
        if required and verdict is not None:
            problems.append(Problem("unanswered", Severity.INCOMPLETE, _("未回答です。"), ("round1_value",)))
        return problems
    if layout.dated:
        if values.round1_value and not values.round1_date:
            problems.append(Problem("r1_no_date", Severity.INCOMPLETE, _("1回目の回答に確認日がありません。"),
                                    ("round1_date",)))
        if values.round2_value and not values.round2_date:
            problems.append(Problem("r2_no_date", Severity.INCOMPLETE, _("2回目の回答に確認日がありません。"),
                                    ("round2_date",)))
    if values.round1_date and not values.round1_value:
        problems.append(Problem("r1_date_only", Severity.INCOMPLETE, _("1回目の確認日だけがあり、回答がありません。"),
                                ("round1_value",)))
    if values.round2_date and not values.round2_value:
        problems.append(Problem("r2_date_only", Severity.INCOMPLETE, _("2回目の確認日だけがあり、回答がありません。"),
                                ("round2_value",)))
    if (values.round2_value or values.round2_date) and not values.round1_value:
        problems.append(Problem("r2_without_r1", Severity.INCOMPLETE, _("2回目がありますが、1回目が未回答です。"),
                                ("round1_value",)))
    if layout.target_date and values.round1_value == NO and not values.target_date:
        problems.append(Problem("no_target_date", Severity.INCOMPLETE,
                                _("1回目が「いいえ」の項目には目標日（対応の目標日）が必要です。"), ("target_date",)))
    if layout.target_date and values.target_date and values.round1_value and values.round1_value != NO:
        problems.append(Problem("target_without_no", Severity.WARNING,
                                _("目標日は1回目が「いいえ」の項目に記入します。"), ("target_date",)))
    if values.round1_date and values.round2_date and values.round2_date < values.round1_date:
        problems.append(Problem("r2_before_r1", Severity.ERROR, _("2回目の確認日が1回目の確認日より前です。"),
                                ("round2_date",)))
    if values.round1_date and values.target_date and values.target_date < values.round1_date:
        problems.append(Problem("target_before_r1", Severity.ERROR, _("目標日が1回目の確認日より前です。"),
                                ("target_date",)))
    if today is not None:
        for name, day in (("round1_date", values.round1_date), ("round2_date", values.round2_date)):
            if day and day > today:
                problems.append(Problem("future_date", Severity.WARNING, _("確認日が未来の日付です。"), (name,)))
        if (layout.target_date and values.round1_value == NO and values.target_date
                and values.target_date < today and values.round2_value != YES):
            problems.append(Problem("overdue", Severity.WARNING,
                                    _("目標日を過ぎていますが、2回目で「はい」になっていません。"), ("round2_value",)))
    return problems


def is_complete(values: Values, layout: Layout) -> bool:
    """The item has an answer the inspection accepts: a value, with its date where the form asks for one."""
    if not values.round1_value:
        return False
    return not any(p.severity != Severity.WARNING for p in answer_problems(values, layout=layout))


def allowed_labels(options: Iterable[str]) -> list[str]:
    return [option_label(value) for value in options]


def option_label(value: str) -> str:
    labels = {YES: _("はい"), NO: _("いいえ"), "na": _("対象外"), "applicable": _("該当"),
              "not_applicable": _("非該当")}
    return labels.get(value, value)
