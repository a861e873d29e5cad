"""The shape of an assessment's form, read from the library: its nodes in document order, which of
them are answered, and the rule specs of those items. Shared by services and selectors; it reads
only what the caller already may see (an assessment fetched through `scope`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from anzen.assessments import rules
from anzen.assessments.models import Answer, Assessment
from anzen.assessments.rules import ItemSpec, Layout, Values
from anzen.library.models import RequirementNode

ANSWER_FIELDS = ("round1_value", "round1_date", "target_date", "round2_value", "round2_date",
                 "remarks", "countermeasure", "effective_date")
VALUE_FIELDS = ANSWER_FIELDS[:5]


def form_nodes(assessment: Assessment) -> list[RequirementNode]:
    """The nodes of the assessment's form (all nodes of the edition when it has no form), in order.

    One query. Parents precede their children in document order (library format rule)."""
    nodes = RequirementNode.objects.filter(edition_id=assessment.edition_id).select_related(
        "answer_schema").order_by("position")
    if assessment.form_id is None:
        return [node for node in nodes if node.kind != RequirementNode.Kind.FORM]
    inside = {assessment.form_id}
    found = []
    for node in nodes:
        if node.parent_id in inside:
            inside.add(node.pk)
            found.append(node)
    return found


def is_answerable(node: RequirementNode) -> bool:
    return node.kind == RequirementNode.Kind.ITEM and node.answer_schema_id is not None


def options_of(node: RequirementNode) -> list[tuple[str, str]]:
    schema = node.answer_schema
    if schema is None:
        return []
    return [(str(option.get("value", "")), str(option.get("label", option.get("value", ""))))
            for option in (schema.options or []) if isinstance(option, dict)]


def item_spec(node: RequirementNode) -> ItemSpec:
    meta = node.meta or {}
    conditions = meta.get("conditions") or ()
    return ItemSpec(
        key=node.pk,
        ref=node.ref,
        options=tuple(value for value, _label in options_of(node)),
        required_from=node.required_from,
        reference_only=node.reference_only,
        gating=bool(meta.get("gating")),
        conditions=tuple(str(c) for c in conditions) if isinstance(conditions, list | tuple) else (),
        condition_note=str(meta.get("condition_note") or ""),
    )


def layout_of(assessment: Assessment) -> Layout:
    form = assessment.form if assessment.form_id else None
    return Layout.from_form_meta(form.meta if form is not None else None)


def item_layout(layout: Layout, node: RequirementNode) -> Layout:
    return layout.for_item(item_spec(node)) if (node.meta or {}).get("gating") else layout


def values_of(answer: Answer | Any | None) -> Values:
    if answer is None:
        return Values()
    return Values(answer.round1_value, answer.round1_date, answer.target_date, answer.round2_value,
                   answer.round2_date)


def item_label(node: RequirementNode, *, length: int = 24) -> str:
    """How messages name an item: its official ref and the start of its text (refs repeat, e.g. 2(4))."""
    text = node.text or node.topic or node.text_partial
    short = text if len(text) <= length else text[:length] + "…"
    if node.ref and short:
        return f"{node.ref}「{short}」"
    return node.ref or f"「{short}」"


def known_conditions(nodes: Iterable[RequirementNode]) -> list[str]:
    """Conditions the form's items depend on (e.g. no_vendor_contract), in order of appearance."""
    found: list[str] = []
    for node in nodes:
        for condition in (node.meta or {}).get("conditions") or ():
            if isinstance(condition, str) and condition not in found:
                found.append(condition)
    return found


def section_of(nodes: list[RequirementNode]) -> dict[int, RequirementNode | None]:
    """Each node's nearest enclosing section (None for nodes directly under the form)."""
    by_pk = {node.pk: node for node in nodes}
    result: dict[int, RequirementNode | None] = {}
    for node in nodes:
        parent = by_pk.get(node.parent_id) if node.parent_id else None
        if parent is None:
            result[node.pk] = None
        elif parent.kind == RequirementNode.Kind.SECTION:
            result[node.pk] = parent
        else:
            result[node.pk] = result.get(parent.pk)
    return result


def verdicts(assessment: Assessment, nodes: list[RequirementNode],
             answers: dict[int, Answer]) -> dict[int | str, rules.Verdict]:
    """Required / 参考 / 記入不要 / 確認不要 for each answerable node, with the reason."""
    items = [item_spec(node) for node in nodes if is_answerable(node)]
    return rules.item_statuses(items, fiscal_year=assessment.fiscal_year, conditions=assessment.conditions or {},
                               answers={pk: values_of(answer) for pk, answer in answers.items()})


def incomplete_required(assessment: Assessment) -> list[str]:
    """Labels of the required items that are unanswered or incomplete (what blocks submission)."""
    nodes = form_nodes(assessment)
    answers = {a.node_id: a for a in Answer.objects.filter(assessment=assessment)}
    layout = layout_of(assessment)
    found = []
    statuses = verdicts(assessment, nodes, answers)
    for node in nodes:
        verdict = statuses.get(node.pk)
        if verdict is None or not verdict.required:
            continue
        values = values_of(answers.get(node.pk))
        if not rules.is_complete(values, item_layout(layout, node)):
            found.append(item_label(node, length=16))
    return found
