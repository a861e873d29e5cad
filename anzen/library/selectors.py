"""Reads of the library. Every query starts from `scope(actor, …, Perm.LIBRARY_VIEW)`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from anzen.accounts.roles import Perm
from anzen.common.permissions import Actor, get_scoped, scope
from anzen.library import diff, domain, text
from anzen.library.models import AnswerSchema, Edition, ImportProfile, Mapping, MappingSet, RequirementNode

_ITEM = Q(nodes__kind=RequirementNode.Kind.ITEM)


@dataclass(frozen=True)
class FrameworkSummary:
    edition_id: int
    title: str
    edition_label: str
    item_count: int


def framework_summaries(actor: Actor) -> list[FrameworkSummary]:
    editions = (
        scope(actor, Edition.objects.filter(is_current=True), Perm.LIBRARY_VIEW)
        .annotate(item_count=Count("nodes", filter=_ITEM))
        .select_related("framework")
        .order_by("framework__key", "key")
    )
    return [FrameworkSummary(e.pk, e.title, e.edition, e.item_count) for e in editions]


def editions(actor: Actor, *, include_superseded: bool = False) -> QuerySet[Edition]:
    """Editions with item and node counts, framework by framework (one query)."""
    queryset = Edition.objects.all() if include_superseded else Edition.objects.filter(is_current=True)
    return (
        scope(actor, queryset, Perm.LIBRARY_VIEW)
        .annotate(item_count=Count("nodes", filter=_ITEM), node_count=Count("nodes"))
        .select_related("framework")
        .order_by("framework__key", "fiscal_year", "key", "-version")
    )


def edition(actor: Actor, pk: int) -> Edition:
    return get_scoped(actor, Edition.objects.select_related("framework"), Perm.LIBRARY_VIEW, pk=pk)


def edition_by_ref(actor: Actor, value: str) -> Edition:
    """`framework@edition` (current version) or `framework@edition#version`; DoesNotExist otherwise."""
    try:
        key, version = domain.split_edition_ref(value)
    except ValueError as error:
        raise Edition.DoesNotExist(value) from error
    queryset = scope(actor, Edition.objects.select_related("framework"), Perm.LIBRARY_VIEW).filter(key=key)
    queryset = queryset.filter(version=version) if version is not None else queryset.filter(is_current=True)
    found = queryset.first()
    if found is None:
        raise Edition.DoesNotExist(value)
    return found


def edition_label(edition: Edition) -> str:
    return f"{edition.key}#{edition.version}"


# --- the item tree ------------------------------------------------------------------------------


@dataclass
class TreeNode:
    node: RequirementNode
    status: str
    mapping_count: int = 0
    children: list[TreeNode] = field(default_factory=list)
    show_audience: bool = False  # differs from the enclosing node's (forms say it once)
    show_schema: bool = False  # differs from the edition's default answer schema


def edition_tree(edition: Edition) -> list[TreeNode]:
    """All nodes of an edition as a tree, with status and mapping counts (three queries)."""
    nodes = list(edition.nodes.select_related("answer_schema").order_by("position"))
    out_counts = dict(
        Mapping.objects.filter(source__edition=edition)
        .values("source_id")
        .annotate(n=Count("id"))
        .values_list("source_id", "n")
    )
    in_counts = dict(
        Mapping.objects.filter(target__edition=edition)
        .values("target_id")
        .annotate(n=Count("id"))
        .values_list("target_id", "n")
    )
    default_schema = (edition.meta or {}).get("default_answer_schema")
    by_pk: dict[int, TreeNode] = {}
    roots: list[TreeNode] = []
    for node in nodes:
        parent = by_pk.get(node.parent_id) if node.parent_id else None
        entry = TreeNode(
            node,
            diff.status_of(node.required_from, node.reference_only, edition.fiscal_year),
            out_counts.get(node.pk, 0) + in_counts.get(node.pk, 0),
            show_audience=bool(node.audience) and (parent is None or parent.node.audience != node.audience),
            show_schema=node.answer_schema is not None and node.answer_schema.key != default_schema,
        )
        by_pk[node.pk] = entry
        (parent.children if parent else roots).append(entry)
    return roots


# --- one node -----------------------------------------------------------------------------------


@dataclass
class NodeDetail:
    node: RequirementNode
    status: str
    ancestors: list[dict[str, Any]]
    children: list[RequirementNode]
    mappings_out: list[Mapping]
    mappings_in: list[Mapping]
    other_versions: list[RequirementNode]


def node_detail(actor: Actor, pk: int) -> NodeDetail:
    node = get_scoped(
        actor,
        RequirementNode.objects.select_related("edition__framework", "answer_schema"),
        Perm.LIBRARY_VIEW,
        pk=pk,
    )
    outline = {
        row["pk"]: row for row in node.edition.nodes.values("pk", "parent_id", "ref", "text", "topic", "kind")
    }
    ancestors: list[dict[str, Any]] = []
    parent_id = node.parent_id
    while parent_id and parent_id in outline and len(ancestors) < 50:
        ancestors.insert(0, outline[parent_id])
        parent_id = outline[parent_id]["parent_id"]
    children = list(node.children.order_by("position"))
    mappings = scope(actor, Mapping.objects.all(), Perm.LIBRARY_VIEW).select_related("mapping_set")
    mappings_out = list(
        mappings.filter(source=node).select_related("target__edition").order_by("target__position")
    )
    mappings_in = list(
        mappings.filter(target=node).select_related("source__edition").order_by("source__position")
    )
    others = list(
        scope(actor, RequirementNode.objects.filter(urn=node.urn), Perm.LIBRARY_VIEW)
        .exclude(pk=node.pk)
        .select_related("edition")
        .order_by("edition__fiscal_year", "edition__key", "edition__version")
    )
    return NodeDetail(
        node,
        diff.status_of(node.required_from, node.reference_only, node.edition.fiscal_year),
        ancestors,
        children,
        mappings_out,
        mappings_in,
        others,
    )


# --- search -------------------------------------------------------------------------------------


def search(actor: Actor, query: str, *, edition_id: int | None = None) -> QuerySet[RequirementNode]:
    """Nodes of current editions whose normalised text contains every term (width- and case-insensitive)."""
    terms = text.search_terms(query)
    nodes = scope(actor, RequirementNode.objects.filter(edition__is_current=True), Perm.LIBRARY_VIEW)
    if not terms:
        return nodes.none()
    for term in terms:
        nodes = nodes.filter(search_text__contains=term)
    if edition_id is not None:
        nodes = nodes.filter(edition_id=edition_id)
    return nodes.select_related("edition", "parent").order_by(
        "edition__framework__key", "edition__key", "position"
    )


# --- diff ---------------------------------------------------------------------------------------


def snapshots(edition: Edition) -> list[diff.NodeSnapshot]:
    rows = edition.nodes.order_by("position").values_list(
        "node_id",
        "kind",
        "ref",
        "text",
        "text_partial",
        "topic",
        "required_from",
        "reference_only",
        "verified",
        "audience",
    )
    return [
        diff.NodeSnapshot(*row, status=diff.status_of(row[6], row[7], edition.fiscal_year))  # type: ignore[misc]
        for row in rows
    ]


def edition_diff(
    before: Edition, after: Edition, *, kinds: tuple[str, ...] | None = ("item",)
) -> diff.EditionDiff:
    return diff.diff_nodes(snapshots(before), snapshots(after), kinds=kinds)


def previous_edition(actor: Actor, edition: Edition) -> Edition | None:
    """The edition before `edition` in the same framework (an older version of it, or the previous year)."""
    if edition.version > 1:
        older = (
            scope(
                actor, Edition.objects.filter(key=edition.key, version__lt=edition.version), Perm.LIBRARY_VIEW
            )
            .order_by("-version")
            .first()
        )
        if older is not None:
            return older
    candidates = [
        e
        for e in scope(
            actor, Edition.objects.filter(framework=edition.framework, is_current=True), Perm.LIBRARY_VIEW
        ).exclude(key=edition.key)
        if (e.fiscal_year or 0, e.key) < (edition.fiscal_year or 0, edition.key)
    ]
    return max(candidates, key=lambda e: (e.fiscal_year or 0, e.key), default=None)


# --- mapping sets and import profiles -----------------------------------------------------------


def mapping_sets(actor: Actor, edition: Edition | None = None) -> QuerySet[MappingSet]:
    sets = scope(actor, MappingSet.objects.filter(is_current=True), Perm.LIBRARY_VIEW)
    if edition is not None:
        sets = sets.filter(Q(source_edition=edition) | Q(target_edition=edition))
    return sets.select_related("source_edition", "target_edition").annotate(mapping_count=Count("mappings"))


def answer_schema(actor: Actor, key: str | None) -> AnswerSchema | None:
    if not key:
        return None
    return scope(actor, AnswerSchema.objects.filter(key=key), Perm.LIBRARY_VIEW).first()


def import_profiles(actor: Actor) -> QuerySet[ImportProfile]:
    return scope(actor, ImportProfile.objects.all(), Perm.LIBRARY_VIEW)


def grouped_by_framework(rows: list[Edition]) -> list[tuple[Any, list[Edition]]]:
    groups: dict[int, list[Edition]] = defaultdict(list)
    frameworks: dict[int, Any] = {}
    for row in rows:
        groups[row.framework_id].append(row)
        frameworks[row.framework_id] = row.framework
    return [(frameworks[key], groups[key]) for key in groups]
