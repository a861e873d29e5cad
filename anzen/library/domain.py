"""The parsed form of library files (pure dataclasses, no ORM).

Validation turns a YAML file into one of `ParsedEdition`, `ParsedMappingSet` or
`ParsedAnswerSchemas`; the loader turns those into rows. The Excel importer builds a
`ParsedEdition` too, so every way into the library ends in the same loader.

The content hash is the sha256 of the canonical JSON of the parsed content (not of the file's
bytes): comments, key order and quoting do not create new versions, a changed text does.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = 1

KINDS = ("form", "section", "group", "item")
AUDIENCES = ("institution", "vendor", "both")
VERIFIED = ("true", "partial", "false")
RELATIONS = ("equal", "subset", "superset", "intersect", "not_related")
BASES = ("explicit", "inferred")
FRAMEWORK_KINDS = ("checklist", "guideline", "checksheet", "standard")

FRAMEWORK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
EDITION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,119}$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$")
CONDITION = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def edition_key(framework: str, edition: str) -> str:
    return f"{framework}@{edition}"


def split_edition_ref(value: str) -> tuple[str, int | None]:
    """`mhlw-cyber-checklist@R5` → (key, None); `mhlw-cyber-checklist@R5#2` → (key, 2)."""
    key, _, version = value.strip().partition("#")
    if version:
        if not version.isdigit():
            raise ValueError(version)
        return key, int(version)
    return key, None


def content_hash(content: Any) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Issue:
    """One problem found in a file: where, which node, what (in Japanese)."""

    file: str
    line: int | None
    node_id: str
    message: str

    def format(self) -> str:
        return f"{self.file}:{self.line or 0}: [{self.node_id or '-'}] {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "id": self.node_id, "message": self.message}


@dataclass(frozen=True)
class FrameworkSpec:
    key: str
    title: str
    title_en: str = ""
    publisher: str = ""
    kind: str = "checklist"


@dataclass(frozen=True)
class EditionSpec:
    key: str
    framework_key: str
    edition: str
    title: str
    publisher: str = ""
    published: str = ""
    fiscal_year: int | None = None
    locale: str = "ja"
    verified: str = "true"
    default_answer_schema: str | None = None
    licence: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    kind: str = "item"
    parent_id: str | None = None
    ref: str = ""
    text: str = ""
    text_partial: str = ""
    topic: str = ""
    audience: str = ""
    answer_schema: str | None = None
    required_from: int | None = None
    reference_only: bool = False
    verified: str = "true"
    meta: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    def canonical(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("line")
        return data


@dataclass(frozen=True)
class ParsedEdition:
    file: str
    framework: FrameworkSpec
    edition: EditionSpec
    nodes: list[NodeSpec]

    def canonical(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "framework": asdict(self.framework),
            "edition": asdict(self.edition),
            "nodes": [node.canonical() for node in self.nodes],
        }

    @property
    def content_hash(self) -> str:
        return content_hash(self.canonical())

    @property
    def item_count(self) -> int:
        return sum(1 for node in self.nodes if node.kind == "item")

    def depth_of(self) -> dict[str, int]:
        depth: dict[str, int] = {}
        for node in self.nodes:  # parents always come first (validated)
            depth[node.node_id] = depth[node.parent_id] + 1 if node.parent_id else 0
        return depth


@dataclass(frozen=True)
class MappingSpec:
    source: str
    target: str
    relation: str
    basis: str
    rationale: str = ""
    line: int | None = None

    def canonical(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("line")
        return data


@dataclass(frozen=True)
class ParsedMappingSet:
    file: str
    key: str
    title: str
    source_edition: str
    target_edition: str
    mappings: list[MappingSpec]
    sources: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""

    def canonical(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "key": self.key,
            "title": self.title,
            "source_edition": self.source_edition,
            "target_edition": self.target_edition,
            "sources": self.sources,
            "notes": self.notes,
            "mappings": [mapping.canonical() for mapping in self.mappings],
        }

    def content_hash(self, bound_versions: dict[str, int]) -> str:
        """Includes the versions of the editions it binds to: a new edition version re-binds the set."""
        return content_hash({**self.canonical(), "bound": bound_versions})


@dataclass(frozen=True)
class AnswerSchemaSpec:
    key: str
    label: str
    options: list[dict[str, str]]
    remarks: bool = False
    line: int | None = None


@dataclass(frozen=True)
class ParsedAnswerSchemas:
    file: str
    schemas: list[AnswerSchemaSpec]


Parsed = ParsedEdition | ParsedMappingSet | ParsedAnswerSchemas


@dataclass
class Knowledge:
    """What a file may refer to: answer schema ids and the node ids of editions (by edition key)."""

    schemas: set[str] = field(default_factory=set)
    nodes: dict[str, set[str]] = field(default_factory=dict)

    def merge(self, other: Knowledge) -> None:
        self.schemas |= other.schemas
        for key, ids in other.nodes.items():
            self.nodes.setdefault(key, set()).update(ids)
