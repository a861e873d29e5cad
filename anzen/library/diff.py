"""Differences between two editions of a framework (pure, no ORM).

Nodes are matched by their stable id (`H-2-4-server`, `4.1.1` …). By default only items are
compared; sections and groups are layout. An item's *status* in an edition is derived from the
edition's fiscal year: 参考 when it is reference-only or required only from a later year, so
"参考項目 promoted to required" shows up as a change even though `required_from` stays the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

COMPARED_FIELDS = (
    "ref",
    "text",
    "text_partial",
    "topic",
    "required_from",
    "reference_only",
    "status",
    "verified",
    "audience",
)
CONTENT_FIELDS = frozenset(
    {"ref", "text", "text_partial", "topic", "required_from", "reference_only", "status", "audience"}
)


@dataclass(frozen=True)
class NodeSnapshot:
    node_id: str
    kind: str
    ref: str
    text: str
    text_partial: str
    topic: str
    required_from: int | None
    reference_only: bool
    verified: str
    audience: str
    status: str = "required"

    def label(self) -> str:
        return self.text or self.topic or self.text_partial


def status_of(required_from: int | None, reference_only: bool, fiscal_year: int | None) -> str:
    if reference_only:
        return "reference"
    if required_from is not None and fiscal_year is not None and required_from > fiscal_year:
        return "reference"
    return "required"


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class NodeChange:
    node_id: str
    before: NodeSnapshot
    after: NodeSnapshot
    changes: tuple[FieldChange, ...]

    @property
    def fields(self) -> list[str]:
        return [change.field for change in self.changes]

    @property
    def content_changed(self) -> bool:
        """False when only the verification status changed."""
        return any(change.field in CONTENT_FIELDS for change in self.changes)


@dataclass
class EditionDiff:
    added: list[NodeSnapshot] = field(default_factory=list)
    removed: list[NodeSnapshot] = field(default_factory=list)
    changed: list[NodeChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def content_changed(self) -> list[NodeChange]:
        return [change for change in self.changed if change.content_changed]

    @property
    def verification_only(self) -> list[NodeChange]:
        return [change for change in self.changed if not change.content_changed]

    def as_dict(self) -> dict[str, Any]:
        def snap(node: NodeSnapshot) -> dict[str, Any]:
            return {key: value for key, value in asdict(node).items()}

        return {
            "added": [snap(node) for node in self.added],
            "removed": [snap(node) for node in self.removed],
            "changed": [
                {
                    "id": change.node_id,
                    "ref": change.after.ref,
                    "fields": change.fields,
                    "content_changed": change.content_changed,
                    "changes": {c.field: {"before": c.before, "after": c.after} for c in change.changes},
                }
                for change in self.changed
            ],
            "unchanged": self.unchanged,
        }


def diff_nodes(
    before: Iterable[NodeSnapshot], after: Iterable[NodeSnapshot], *, kinds: Iterable[str] | None = ("item",)
) -> EditionDiff:
    """Added / removed / changed nodes from `before` to `after`, in document order."""
    wanted = set(kinds) if kinds is not None else None
    old = [node for node in before if wanted is None or node.kind in wanted]
    new = [node for node in after if wanted is None or node.kind in wanted]
    old_by_id = {node.node_id: node for node in old}
    new_ids = {node.node_id for node in new}
    result = EditionDiff()
    for node in new:
        previous = old_by_id.get(node.node_id)
        if previous is None:
            result.added.append(node)
            continue
        changes = tuple(
            FieldChange(name, getattr(previous, name), getattr(node, name))
            for name in COMPARED_FIELDS
            if getattr(previous, name) != getattr(node, name)
        )
        if changes:
            result.changed.append(NodeChange(node.node_id, previous, node, changes))
        else:
            result.unchanged += 1
    result.removed = [node for node in old if node.node_id not in new_ids]
    return result
