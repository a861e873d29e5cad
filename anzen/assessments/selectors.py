"""Reads of the assessments app. Lists start from `scope(actor, …)`; one assessment comes from
`get_scoped` (404 for a foreign one). `answer_rows` and `progress` read a fixed number of queries
whatever the size of the form."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from anzen.accounts.roles import Perm
from anzen.assessments import rules, scoring, structure
from anzen.assessments.models import Answer, Assessment, AssessmentEvent, Evidence, ReviewComment
from anzen.common.permissions import Actor, get_scoped, scope
from anzen.common.wareki import fiscal_year_of
from anzen.library.models import RequirementNode


def today() -> dt.date:
    return timezone.localdate()


def current_fiscal_year() -> int:
    return fiscal_year_of(today())


def _base() -> QuerySet[Assessment]:
    return Assessment.objects.select_related("institution", "respondent", "evaluator", "edition",
                                             "edition__framework", "form", "signed_off_by")


def assessments_for(actor: Actor, *, fiscal_year: int | None = None, institution: int | None = None,
                    subject_kind: str | None = None, status: str | None = None) -> QuerySet[Assessment]:
    """The assessments the actor takes part in: the institution's own and requested ones, a vendor's
    assigned ones, an evaluator's ones to evaluate. Annotated with answer and returned-item counts."""
    queryset = scope(actor, _base(), Perm.ASSESSMENT_VIEW)
    if fiscal_year:
        queryset = queryset.filter(fiscal_year=fiscal_year)
    if institution:
        queryset = queryset.filter(institution_id=institution)
    if subject_kind:
        queryset = queryset.filter(subject_kind=subject_kind)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.annotate(
        answer_count=Count("answers", filter=~Q(answers__round1_value=""), distinct=True),
        returned_count=Count("answers", filter=Q(answers__review_status=Answer.Review.RETURNED), distinct=True),
    ).order_by("-fiscal_year", "institution__name", "subject_kind", "subject_label", "pk")


def fiscal_years(actor: Actor) -> list[int]:
    years = scope(actor, Assessment.objects.all(), Perm.ASSESSMENT_VIEW).values_list("fiscal_year", flat=True)
    return sorted(set(years) | {current_fiscal_year()}, reverse=True)


def assessment_detail(actor: Actor, pk: int) -> Assessment:
    return get_scoped(actor, _base(), Perm.ASSESSMENT_VIEW, pk=pk)


def reviewer_name(assessment: Assessment) -> str:
    """Who reviews: the evaluator, or the institution for a vendor's answers; empty for a self-assessment."""
    if assessment.evaluator_id:
        return assessment.evaluator.name
    if assessment.respondent_id != assessment.institution_id:
        return assessment.institution.name
    return ""


def events(assessment: Assessment) -> list[AssessmentEvent]:
    return list(assessment.events.order_by("at", "id"))


# --- the rows of the form ------------------------------------------------------------------------


@dataclass
class Row:
    node: RequirementNode
    level: int
    answerable: bool
    section: RequirementNode | None
    answer: Answer | None = None
    values: rules.Values = field(default_factory=rules.Values)
    verdict: rules.Verdict | None = None
    problems: list[rules.Problem] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    layout: rules.Layout = field(default_factory=rules.Layout)
    evidence: list[Evidence] = field(default_factory=list)
    comments: list[ReviewComment] = field(default_factory=list)
    suggestions: list[Any] = field(default_factory=list)  # set by views_answer_once.assessment_page_context
    respondent_id: int | None = None
    group: RequirementNode | None = None  # the enclosing group heading (「サーバについて、以下を実施している。」)

    @property
    def is_heading(self) -> bool:
        return not self.answerable

    @property
    def incomplete(self) -> bool:
        """Required and not complete (what the inspection would find missing)."""
        return bool(self.verdict and self.verdict.required
                    and any(p.severity != rules.Severity.WARNING for p in self.problems))

    @property
    def review_status(self) -> str:
        return self.answer.review_status if self.answer else ""

    def _label(self, value: str) -> str:
        return next((label for option, label in self.options if option == value), value)

    @property
    def round1_label(self) -> str:
        return self._label(self.values.round1_value)

    @property
    def round2_label(self) -> str:
        return self._label(self.values.round2_value)

    @property
    def final_label(self) -> str:
        return self._label(self.values.final_value)

    @property
    def problem_fields(self) -> set[str]:
        return {name for problem in self.problems if problem.severity != rules.Severity.WARNING
                for name in problem.fields}

    @property
    def reviewer_comments(self) -> list[ReviewComment]:
        """The 評価者記入欄 comments: everything in the thread not written by the respondent."""
        return [c for c in self.comments if c.organisation_id != self.respondent_id]

    @property
    def anchor(self) -> str:
        return f"item-{self.node.pk}"


def answer_rows(assessment: Assessment, *, day: dt.date | None = None) -> list[Row]:
    """The form in document order (headings and items) with answers, evidence and threads. 4 queries."""
    nodes = structure.form_nodes(assessment)
    answers = {a.node_id: a for a in assessment.answers.select_related("answered_by")}
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for item in Evidence.objects.filter(answer__assessment=assessment).order_by("created_at", "id"):
        evidence[item.answer_id].append(item)
    comments: dict[int, list[ReviewComment]] = defaultdict(list)
    for comment in (ReviewComment.objects.filter(answer__assessment=assessment)
                    .select_related("author", "organisation").order_by("created_at", "id")):
        comments[comment.answer_id].append(comment)
    verdicts = structure.verdicts(assessment, nodes, answers)
    layout = structure.layout_of(assessment)
    sections = structure.section_of(nodes)
    base_depth = (assessment.form.depth + 1) if assessment.form_id else min((n.depth for n in nodes), default=0)
    day = day or today()
    by_pk = {node.pk: node for node in nodes}
    rows = []
    for node in nodes:
        answerable = structure.is_answerable(node)
        row = Row(node=node, level=max(0, node.depth - base_depth), answerable=answerable,
                  section=sections.get(node.pk), respondent_id=assessment.respondent_id)
        parent = by_pk.get(node.parent_id) if node.parent_id else None
        if parent is not None and parent.kind == RequirementNode.Kind.GROUP:
            row.group = parent
        if answerable:
            answer = answers.get(node.pk)
            row.answer = answer
            row.values = structure.values_of(answer)
            row.verdict = verdicts.get(node.pk)
            row.layout = structure.item_layout(layout, node)
            row.problems = rules.answer_problems(row.values, layout=row.layout, verdict=row.verdict, today=day)
            row.options = structure.options_of(node)
            if answer is not None:
                row.evidence = evidence.get(answer.pk, [])
                row.comments = comments.get(answer.pk, [])
        rows.append(row)
    return rows


def score_items(rows: list[Row]) -> list[scoring.ScoreItem]:
    return [
        scoring.ScoreItem(
            key=row.node.pk, ref=row.node.ref, label=structure.item_label(row.node),
            section_key=row.section.pk if row.section else None,
            section_label=(f"{row.section.ref} {row.section.text}".strip() if row.section else ""),
            required=bool(row.verdict and row.verdict.required), values=row.values,
            has_yes=any(value == rules.YES for value, _label in row.options), layout=row.layout,
        )
        for row in rows if row.answerable
    ]


def progress(assessment: Assessment, rows: list[Row] | None = None, *, day: dt.date | None = None) -> scoring.Result:
    """Progress and achievement per section and overall, いいえ items and overdue ones."""
    day = day or today()
    rows = rows if rows is not None else answer_rows(assessment, day=day)
    return scoring.score(score_items(rows), layout=structure.layout_of(assessment), today=day)


def answer_for_item(actor: Actor, assessment_pk: int, node_pk: int) -> tuple[Assessment, Row]:
    """One item of a visible assessment (the item page), with its answer, evidence and thread."""
    assessment = assessment_detail(actor, assessment_pk)
    rows = answer_rows(assessment)
    for row in rows:
        if row.node.pk == node_pk and row.answerable:
            return assessment, row
    from django.http import Http404

    raise Http404


def max_upload_mb() -> int:
    from django.conf import settings

    return max(1, settings.ANZEN_MAX_UPLOAD_BYTES // (1024 * 1024))


def evidence_item(actor: Actor, pk: int) -> Evidence:
    return get_scoped(actor, Evidence.objects.select_related("answer__assessment", "answer__node"),
                      Perm.ASSESSMENT_VIEW, pk=pk)
