"""Year-over-year comparison: last year's final answers against this year's, item by item.

Items are matched by node id across editions (R6 → R7), so the comparison also shows what the
edition changed (added, removed, reworded or promoted from 参考 to required items, from
`anzen.library.selectors.edition_diff`). The core (`compare`) is pure; `yoy_for` reads.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from anzen.accounts.roles import Perm
from anzen.assessments.models import Answer, Assessment
from anzen.assessments.suggestions import answered_on, form_items, option_label
from anzen.common.permissions import Actor, scope
from anzen.library import diff as library_diff
from anzen.library import selectors as library_selectors

CHANGED = "changed"
SAME = "same"
NEW_ITEM = "new_item"
REMOVED_ITEM = "removed_item"
NOT_YET = "not_yet"  # in both years, not answered this year yet

STATE_LABELS = {
    CHANGED: _("変更あり"),
    SAME: _("変更なし"),
    NEW_ITEM: _("新しい項目"),
    REMOVED_ITEM: _("削除された項目"),
    NOT_YET: _("未回答"),
}
STATE_ORDER = (CHANGED, NOT_YET, NEW_ITEM, REMOVED_ITEM, SAME)


@dataclass(frozen=True)
class YearAnswer:
    """One item of one year's assessment with its final answer ("" = not answered)."""

    node_id: str
    ref: str
    text: str
    value: str = ""
    value_label: str = ""
    answered_on: dt.date | None = None
    target_date: dt.date | None = None
    remarks: str = ""
    group: str = ""  # the group heading, which tells repeated refs apart (2(4) サーバ / 端末PC)


@dataclass(frozen=True)
class YoyRow:
    node_id: str
    ref: str
    text: str
    state: str
    previous: YearAnswer | None
    current: YearAnswer | None
    edition_changes: tuple[str, ...] = ()  # fields the edition changed for this item (text, status …)

    @property
    def group(self) -> str:
        answer = self.current or self.previous
        return answer.group if answer else ""

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass
class Comparison:
    rows: list[YoyRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(row.state for row in self.rows)
        return {state: found.get(state, 0) for state in STATE_ORDER}

    def counted_states(self) -> list[tuple[str, str, int]]:
        counts = self.counts
        return [(state, str(STATE_LABELS[state]), counts[state]) for state in STATE_ORDER]


def compare(
    previous: Iterable[YearAnswer],
    current: Iterable[YearAnswer],
    edition_changes: dict[str, tuple[str, ...]] | None = None,
) -> Comparison:
    """Rows in this year's document order; items that no longer exist follow at the end."""
    edition_changes = edition_changes or {}
    before = {answer.node_id: answer for answer in previous}
    result = Comparison()
    seen: set[str] = set()
    for now in current:
        seen.add(now.node_id)
        last = before.get(now.node_id)
        if last is None:
            state = NEW_ITEM
        elif not now.value:
            state = NOT_YET
        elif now.value == last.value:
            state = SAME
        else:
            state = CHANGED
        result.rows.append(YoyRow(now.node_id, now.ref, now.text, state, last, now,
                                  edition_changes.get(now.node_id, ())))
    for node_id, last in before.items():
        if node_id not in seen:
            result.rows.append(YoyRow(node_id, last.ref, last.text, REMOVED_ITEM, last, None))
    return result


def changes_by_node(edition_diff: library_diff.EditionDiff) -> dict[str, tuple[str, ...]]:
    """Node id → the compared fields that changed (verification-only changes left out)."""
    return {change.node_id: tuple(change.fields) for change in edition_diff.content_changed}


# --- reading ------------------------------------------------------------------------------------


@dataclass
class YearOverYear:
    assessment: Assessment
    previous: Assessment | None
    comparison: Comparison
    edition_diff: library_diff.EditionDiff | None  # None when both years use the same edition


def year_answers(assessment: Assessment, answers: dict[int, Answer]) -> list[YearAnswer]:
    out = []
    items = form_items(assessment.edition_id, assessment.form_id)
    for row in items.nodes:
        answer = answers.get(row["pk"])
        value = answer.final_value if answer else ""
        out.append(YearAnswer(
            node_id=row["node_id"], ref=row["ref"], text=row["text"] or row["topic"] or row["text_partial"],
            value=value, value_label=option_label(row["answer_schema__options"], value) if value else "",
            answered_on=answered_on(answer) if answer else None,
            target_date=answer.target_date if answer else None, remarks=answer.remarks if answer else "",
            group=items.group_of(row),
        ))
    return out


def previous_assessment(actor: Actor, assessment: Assessment) -> Assessment | None:
    """Last year's assessment: the one this was copied from, else the same subject one year earlier."""
    visible = scope(actor, Assessment.objects.select_related("edition"), Perm.ASSESSMENT_VIEW)
    if assessment.copied_from_id:
        found = visible.filter(pk=assessment.copied_from_id).first()
        if found is not None:
            return found
    return (
        visible.filter(institution_id=assessment.institution_id, respondent_id=assessment.respondent_id,
                       subject_kind=assessment.subject_kind, subject_label=assessment.subject_label,
                       edition__framework_id=assessment.edition.framework_id,
                       fiscal_year__lt=assessment.fiscal_year)
        .order_by("-fiscal_year", "-pk")
        .first()
    )


def _answers_by_node(actor: Actor, assessment: Assessment) -> dict[int, Answer]:
    answers = scope(actor, Answer.objects.filter(assessment=assessment), Perm.ASSESSMENT_VIEW)
    return {answer.node_id: answer for answer in answers}


def yoy_for(actor: Actor, assessment: Assessment) -> YearOverYear:
    """The comparison with last year; without a previous assessment every item is new (bounded queries)."""
    previous = previous_assessment(actor, assessment)
    current = year_answers(assessment, _answers_by_node(actor, assessment))
    if previous is None:
        return YearOverYear(assessment, None, compare([], current), None)
    before = year_answers(previous, _answers_by_node(actor, previous))
    edition_diff = None
    changes: dict[str, tuple[str, ...]] = {}
    if previous.edition_id != assessment.edition_id:
        edition_diff = library_selectors.edition_diff(previous.edition, assessment.edition)
        ours = {answer.node_id for answer in [*before, *current]}
        edition_diff.added = [node for node in edition_diff.added if node.node_id in ours]
        edition_diff.removed = [node for node in edition_diff.removed if node.node_id in ours]
        edition_diff.changed = [change for change in edition_diff.changed if change.node_id in ours]
        changes = changes_by_node(edition_diff)
    return YearOverYear(assessment, previous, compare(before, current, changes), edition_diff)


def as_dict(result: YearOverYear) -> dict[str, Any]:
    """A JSON-friendly form (API, tests)."""
    return {
        "assessment": result.assessment.pk,
        "previous": result.previous.pk if result.previous else None,
        "counts": result.comparison.counts,
        "rows": [
            {"node_id": row.node_id, "ref": row.ref, "state": row.state,
             "previous": row.previous.value if row.previous else None,
             "current": row.current.value if row.current else None,
             "edition_changes": list(row.edition_changes)}
            for row in result.comparison.rows
        ],
    }
