"""Answer once: suggestions for an item from mapped items and from last year's answer.

Two halves in one module:

* a pure core (`build_suggestions`, dataclasses, no ORM) that turns the mapped answers of the same
  respondent's other assessments and last year's answers into suggestions with provenance and a
  proposed value — only an `equal` relation or the same item last year proposes a value; `subset`,
  `superset` and `intersect` only ever give a 「要確認」 hint with the source's answer shown;
* the selector `suggestions_for(actor, assessment)` that gathers those answers for a whole
  assessment in a fixed number of queries (six, whatever the number of items), always through
  `scope`.

A suggestion is never written by itself: the user confirms it (→ `services.answer_set(...,
provenance=...)`, see `views_answer_once`) or rejects it (nothing is stored).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anzen.accounts.roles import Perm
from anzen.assessments.models import Answer, Assessment, SubjectKind
from anzen.common import wareki
from anzen.common.permissions import Actor, scope
from anzen.library.models import Mapping, RequirementNode

# Relations that carry an answer across (not_related never does).
USABLE_RELATIONS = ("equal", "subset", "superset", "intersect")
SAME_ITEM = "same_item"  # the relation of last year's answer to the same item
_INVERSE = {"subset": "superset", "superset": "subset"}
_RELATION_ORDER = {SAME_ITEM: 0, "equal": 1, "superset": 2, "subset": 3, "intersect": 4}
_BASIS_ORDER = {"explicit": 0, "inferred": 1, "": 2}
# Relations as read from the item being answered (the library's labels read from a mapping's source).
RELATION_LABELS = {
    SAME_ITEM: gettext_lazy("昨年度の同じ項目"),
    "equal": gettext_lazy("同等"),
    "subset": gettext_lazy("この項目は元の項目の一部"),
    "superset": gettext_lazy("この項目は元の項目を含む"),
    "intersect": gettext_lazy("一部重複"),
}
BASIS_LABELS = {"explicit": gettext_lazy("明示（文書に記載）"), "inferred": gettext_lazy("推定（要確認）")}


# --- pure core ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """An item of the assessment being answered."""

    node_pk: int
    node_id: str
    ref: str
    options: tuple[str, ...]  # the values its answer schema allows
    current_value: str = ""  # its final answer now ("" = not answered)


@dataclass(frozen=True)
class SourceAnswer:
    """An answer given elsewhere (another assessment of the same respondent, or last year)."""

    answer_pk: int
    assessment_pk: int
    form_label: str  # 医療機関確認用 / 事業者確認用 / MDS/SDS / the checksheet's title
    edition_key: str
    subject_label: str  # e.g. the product and version of an MDS/SDS
    respondent_name: str
    fiscal_year: int
    node_id: str
    ref: str
    text: str
    value: str
    value_label: str
    answered_on: dt.date | None
    remarks: str = ""
    countermeasure: str = ""


@dataclass(frozen=True)
class Link:
    """A mapping seen from the item being answered: relation as read from *our* item."""

    node_id: str
    other_edition_key: str
    other_node_id: str
    relation: str
    basis: str
    rationale: str = ""
    mapping_set: str = ""


@dataclass(frozen=True)
class Suggestion:
    node_pk: int
    origin: str  # "mapping" | "previous_year"
    source: SourceAnswer
    relation: str  # equal / subset / superset / intersect, or same_item (last year)
    basis: str  # explicit / inferred ("" for last year)
    rationale: str
    proposed_value: str  # "" when nothing is proposed (a hint to check)
    mapping_set: str = ""
    current_value: str = ""

    @property
    def key(self) -> str:
        """Stable id of the suggestion within its item (the confirm form posts it back)."""
        prefix = "p" if self.origin == "previous_year" else "m"
        return f"{prefix}{self.source.answer_pk}"

    @property
    def needs_review(self) -> bool:
        """要確認: the source answers a related but different question; nothing is proposed."""
        return not self.proposed_value

    @property
    def relation_label(self) -> str:
        return str(RELATION_LABELS.get(self.relation, self.relation))

    @property
    def basis_label(self) -> str:
        return str(BASIS_LABELS.get(self.basis, self.basis))

    @property
    def agrees(self) -> bool:
        return bool(self.current_value) and self.current_value == self.source.value

    @property
    def provenance_text(self) -> str:
        return provenance_text(self.source, previous_year=self.origin == "previous_year")

    def provenance(self) -> dict[str, Any]:
        """What `Answer.provenance` keeps when the user confirms this suggestion."""
        source = self.source
        return {
            "origin": self.origin,
            "text": self.provenance_text,
            "assessment": source.assessment_pk,
            "answer": source.answer_pk,
            "edition": source.edition_key,
            "node_id": source.node_id,
            "ref": source.ref,
            "form": source.form_label,
            "subject": source.subject_label,
            "respondent": source.respondent_name,
            "fiscal_year": source.fiscal_year,
            "value": source.value,
            "answered_on": source.answered_on.isoformat() if source.answered_on else None,
            "relation": self.relation,
            "basis": self.basis,
            "mapping_set": self.mapping_set,
            "proposed": self.proposed_value,
        }


def provenance_text(source: SourceAnswer, *, previous_year: bool = False) -> str:
    """「MDS/SDS 4.2（AobaPACS 3.2） — あおば画像システム株式会社が2025年8月2日（令和7年）に回答」."""
    where = " ".join(part for part in (source.form_label, source.ref) if part)
    if source.subject_label:
        where = f"{where}（{source.subject_label}）"
    if previous_year:
        where = _("%(year)sの%(where)s") % {"year": wareki.fiscal_year_label(source.fiscal_year), "where": where}
    if source.answered_on:
        return _("%(where)s — %(respondent)sが%(date)sに回答") % {
            "where": where, "respondent": source.respondent_name, "date": wareki.format_with_era(source.answered_on)}
    return _("%(where)s — %(respondent)s の回答（日付なし）") % {"where": where, "respondent": source.respondent_name}


def seen_from(node_id: str, *, source_node_id: str, relation: str) -> str:
    """The relation as read from `node_id` (mapping relations are read from the mapping's source)."""
    return relation if node_id == source_node_id else _INVERSE.get(relation, relation)


def build_suggestions(
    items: Iterable[Item],
    links: Iterable[Link],
    sources: dict[tuple[str, str], list[SourceAnswer]],
    previous: dict[str, SourceAnswer] | None = None,
) -> dict[int, list[Suggestion]]:
    """Suggestions per item (node pk), best first: last year's answer, then equal, explicit before inferred.

    `sources` maps (edition key, node id) to the answers given to that item; `previous` maps a
    node id to last year's answer to the same item. Blank sources give no suggestion. A value is
    proposed only for `equal` or the same item last year, and only when the item's schema allows it.
    """
    previous = previous or {}
    links_by_node: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        if link.relation in USABLE_RELATIONS:
            links_by_node[link.node_id].append(link)
    result: dict[int, list[Suggestion]] = {}
    for item in items:
        found: list[Suggestion] = []
        last = previous.get(item.node_id)
        if last is not None and last.value:
            found.append(Suggestion(
                item.node_pk, "previous_year", last, SAME_ITEM, "", "",
                proposed_value=last.value if last.value in item.options else "", current_value=item.current_value,
            ))
        seen: set[int] = set()
        for link in links_by_node.get(item.node_id, ()):
            for source in sources.get((link.other_edition_key, link.other_node_id), ()):
                if not source.value or source.answer_pk in seen:
                    continue
                seen.add(source.answer_pk)
                proposed = source.value if link.relation == "equal" and source.value in item.options else ""
                found.append(Suggestion(
                    item.node_pk, "mapping", source, link.relation, link.basis, link.rationale,
                    proposed_value=proposed, mapping_set=link.mapping_set, current_value=item.current_value,
                ))
        if found:
            found.sort(key=lambda s: (_RELATION_ORDER.get(s.relation, 9), _BASIS_ORDER.get(s.basis, 9),
                                      s.source.form_label, s.source.ref))
            result[item.node_pk] = found
    return result


def strongest(links: Iterable[Link]) -> list[Link]:
    """One link per (our node, other node): the strongest relation, explicit before inferred."""
    best: dict[tuple[str, str, str], Link] = {}
    for link in links:
        key = (link.node_id, link.other_edition_key, link.other_node_id)
        rank = (_RELATION_ORDER.get(link.relation, 9), _BASIS_ORDER.get(link.basis, 9))
        held = best.get(key)
        if held is None or rank < (_RELATION_ORDER.get(held.relation, 9), _BASIS_ORDER.get(held.basis, 9)):
            best[key] = link
    return list(best.values())


# --- reading from the database ------------------------------------------------------------------


@dataclass
class FormItems:
    """The answerable items of an assessment (its form's subtree), in document order."""

    nodes: list[dict[str, Any]] = field(default_factory=list)  # rows of `_NODE_FIELDS`
    groups: dict[int, str] = field(default_factory=dict)  # pk of a group heading → its text

    @property
    def node_ids(self) -> list[str]:
        return [row["node_id"] for row in self.nodes]

    def group_of(self, row: dict[str, Any]) -> str:
        """The group heading an item stands under (「サーバについて、以下を実施している。」), if any."""
        return self.groups.get(row["parent_id"], "")


_NODE_FIELDS = ("pk", "node_id", "parent_id", "kind", "ref", "text", "topic", "text_partial", "position",
                "required_from", "reference_only", "answer_schema__options")


def form_items(edition_id: int, form_id: int | None) -> FormItems:
    """Items with an answer schema under the form node (the whole edition without a form); one query."""
    rows = list(RequirementNode.objects.filter(edition_id=edition_id).order_by("position").values(*_NODE_FIELDS))
    inside: set[int] = set()
    out = FormItems()
    for row in rows:
        in_form = form_id is None or row["pk"] == form_id or row["parent_id"] in inside
        if in_form:
            inside.add(row["pk"])
            if row["kind"] == RequirementNode.Kind.ITEM and row["answer_schema__options"] is not None:
                out.nodes.append(row)
            elif row["kind"] == RequirementNode.Kind.GROUP:
                out.groups[row["pk"]] = row["text"] or row["topic"]
    return out


def option_values(options: Any) -> tuple[str, ...]:
    return tuple(str(option.get("value")) for option in options or () if isinstance(option, dict))


def option_pairs(options: Any) -> list[tuple[str, str]]:
    return [(str(o.get("value")), str(o.get("label") or o.get("value"))) for o in options or () if isinstance(o, dict)]


def option_label(options: Any, value: str) -> str:
    if not value:
        return _("未回答")
    for option in options or ():
        if isinstance(option, dict) and str(option.get("value")) == value:
            return str(option.get("label") or value)
    return value


def form_label(assessment: Assessment) -> str:
    labels = {
        SubjectKind.INSTITUTION: _("医療機関確認用"),
        SubjectKind.VENDOR: _("事業者確認用"),
        SubjectKind.SYSTEM: _("MDS/SDS"),
    }
    return labels.get(assessment.subject_kind) or assessment.edition.title


def answered_on(answer: Answer) -> dt.date | None:
    """The date of the final answer (2回目 when given, else 1回目); forms without dates: when it was saved."""
    day = answer.round2_date if answer.round2_value else answer.round1_date
    if day is None and answer.final_value and answer.updated_at:
        return timezone.localdate(answer.updated_at)
    return day


def source_answer(answer: Answer) -> SourceAnswer:
    """Needs answer.node(.answer_schema), answer.assessment(.edition, .respondent) loaded."""
    assessment = answer.assessment
    node = answer.node
    options = node.answer_schema.options if node.answer_schema_id else []
    value = answer.final_value
    return SourceAnswer(
        answer_pk=answer.pk, assessment_pk=assessment.pk, form_label=form_label(assessment),
        edition_key=assessment.edition.key, subject_label=assessment.subject_label,
        respondent_name=assessment.respondent.name, fiscal_year=assessment.fiscal_year, node_id=node.node_id,
        ref=node.ref, text=node.text or node.topic or node.text_partial, value=value,
        value_label=option_label(options, value), answered_on=answered_on(answer), remarks=answer.remarks,
        countermeasure=answer.countermeasure,
    )


def links_between(edition_key: str, node_ids: Collection[str], other_keys: Collection[str]) -> list[Link]:
    """Mappings of current mapping sets between our items and the other editions, both directions (one query).

    Matched by edition key and node id, so an assessment of an older version of an edition still
    finds the mappings bound to the current version.
    """
    if not node_ids or not other_keys:
        return []
    rows = Mapping.objects.filter(mapping_set__is_current=True, relation__in=USABLE_RELATIONS).filter(
        Q(source__edition__key=edition_key, source__node_id__in=node_ids, target__edition__key__in=other_keys)
        | Q(target__edition__key=edition_key, target__node_id__in=node_ids, source__edition__key__in=other_keys)
    ).values_list("source__edition__key", "source__node_id", "target__edition__key", "target__node_id",
                  "relation", "basis", "rationale", "mapping_set__key")
    wanted = set(node_ids)
    links: list[Link] = []
    for s_key, s_id, t_key, t_id, relation, basis, rationale, set_key in rows:
        if s_key == edition_key and s_id in wanted and t_key in other_keys:
            links.append(Link(s_id, t_key, t_id, relation, basis, rationale, set_key))
        if t_key == edition_key and t_id in wanted and s_key in other_keys:
            links.append(Link(t_id, s_key, s_id, _INVERSE.get(relation, relation), basis, rationale, set_key))
    return strongest(links)


def sibling_assessments(actor: Actor, assessment: Assessment) -> list[Assessment]:
    """The same respondent's other assessments for the same institution and fiscal year (one query)."""
    return list(
        scope(actor, Assessment.objects.all(), Perm.ASSESSMENT_VIEW)
        .filter(institution_id=assessment.institution_id, fiscal_year=assessment.fiscal_year,
                respondent_id=assessment.respondent_id)
        .exclude(pk=assessment.pk)
        .select_related("edition", "respondent")
    )


def _answers(actor: Actor, queryset: Any) -> list[Answer]:
    return list(
        scope(actor, queryset, Perm.ASSESSMENT_VIEW)
        .select_related("node__answer_schema", "assessment__edition", "assessment__respondent")
    )


def suggestions_for(actor: Actor, assessment: Assessment, *, node_pk: int | None = None) -> dict[int, list[Suggestion]]:
    """Suggestions for every item of `assessment` (or one item), keyed by node pk; six queries at most."""
    items_found = form_items(assessment.edition_id, assessment.form_id)
    rows = [row for row in items_found.nodes if node_pk is None or row["pk"] == node_pk]
    if not rows:
        return {}
    current = {
        node_id: r2 or r1
        for node_id, r1, r2 in Answer.objects.filter(assessment=assessment, node_id__in=[r["pk"] for r in rows])
        .values_list("node_id", "round1_value", "round2_value")
    }
    items = [Item(r["pk"], r["node_id"], r["ref"], option_values(r["answer_schema__options"]),
                  current.get(r["pk"], "")) for r in rows]
    node_ids = [item.node_id for item in items]

    siblings = sibling_assessments(actor, assessment)
    sources: dict[tuple[str, str], list[SourceAnswer]] = defaultdict(list)
    links: list[Link] = []
    if siblings:
        other_keys = {sibling.edition.key for sibling in siblings}
        links = links_between(assessment.edition.key, node_ids, other_keys)
        wanted = {(link.other_edition_key, link.other_node_id) for link in links}
        if wanted:
            queryset = Answer.objects.filter(
                assessment__in=[s.pk for s in siblings], node__node_id__in={n for _k, n in wanted}
            ).exclude(round1_value="", round2_value="")
            for answer in _answers(actor, queryset):
                key = (answer.assessment.edition.key, answer.node.node_id)
                if key in wanted:
                    sources[key].append(source_answer(answer))

    previous: dict[str, SourceAnswer] = {}
    if assessment.copied_from_id:
        queryset = Answer.objects.filter(assessment_id=assessment.copied_from_id, node__node_id__in=node_ids)
        previous = {answer.node.node_id: source_answer(answer) for answer in _answers(actor, queryset)}
    return build_suggestions(items, links, sources, previous)


def pending(suggestions: dict[int, list[Suggestion]]) -> dict[int, list[Suggestion]]:
    """Only the suggestions that differ from the item's current answer (those still to decide)."""
    found = {pk: [s for s in items if not s.agrees] for pk, items in suggestions.items()}
    return {pk: items for pk, items in found.items() if items}


def suggestion_count(suggestions: dict[int, list[Suggestion]]) -> dict[str, int]:
    """Counts for a summary: items with a suggestion, proposals, hints, open items (not yet answered)."""
    flat = [s for found in suggestions.values() for s in found]
    return {
        "items": len(suggestions),
        "proposals": sum(1 for s in flat if not s.needs_review),
        "hints": sum(1 for s in flat if s.needs_review),
        "open_items": sum(1 for found in suggestions.values() if found and not found[0].current_value),
    }
