"""Loading library files into the database (writes).

Loading is idempotent and versioned:

- same edition key and same content hash as the current version → nothing happens ("unchanged");
- same key, different hash → a new Edition row with version + 1; the old row is marked not current
  and its nodes stay exactly as they were, so answers given against them keep their text;
- mapping sets bind to the *current* version of both editions; the bound versions are part of the
  set's hash, so a new edition version also produces a new version of the sets that use it.

Nodes and mappings are written with bulk_create (no per-row audit signals: hundreds of entries per
file would drown the trail) and each loaded edition or mapping set gets one explicit IMPORT entry
with its key, version, size and content hash. The Edition and MappingSet rows themselves are also
bulk-created so that this one entry is the complete record of the load.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from anzen.common import audit
from anzen.library import domain, text, validation
from anzen.library.domain import Issue, Knowledge
from anzen.library.models import AnswerSchema, Edition, Framework, Mapping, MappingSet, RequirementNode

BUILTIN_DIR = Path(__file__).resolve().parent / "files"
ANSWER_SCHEMAS_FILE = "answer-schemas.yaml"
MAPPINGS_DIR = "mappings"
_KIND_ORDER = {"answer_schemas": 0, "edition": 1, "mapping_set": 2}


class LibraryLoadError(Exception):
    """Validation or binding problems; nothing was written."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__("\n".join(issue.format() for issue in issues))
        self.issues = list(issues)


@dataclass(frozen=True)
class Outcome:
    file: str
    kind: str  # edition | mapping_set | answer_schemas
    key: str
    status: str  # loaded | unchanged
    version: int | None = None
    count: int = 0  # items, mappings or schemas
    superseded_version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- file discovery and validation --------------------------------------------------------------


def builtin_files() -> list[Path]:
    """The shipped library: answer schemas, every edition file, then every mapping set."""
    editions = sorted(path for path in BUILTIN_DIR.glob("*/*.yaml") if path.parent.name != MAPPINGS_DIR)
    mappings = sorted((BUILTIN_DIR / MAPPINGS_DIR).glob("*.yaml"))
    return [BUILTIN_DIR / ANSWER_SCHEMAS_FILE, *editions, *mappings]


def builtin_label(path: Path) -> str:
    try:
        return f"library/{path.resolve().relative_to(BUILTIN_DIR)}"
    except ValueError:
        return str(path)


def knowledge_from_db(edition_keys: Iterable[str] = ()) -> Knowledge:
    known = Knowledge(schemas=set(AnswerSchema.objects.values_list("key", flat=True)))
    keys = set(edition_keys)
    if keys:
        rows = RequirementNode.objects.filter(edition__is_current=True, edition__key__in=keys).values_list(
            "edition__key", "node_id"
        )
        for key, node_id in rows:
            known.nodes.setdefault(key, set()).add(node_id)
    return known


def knowledge_from_builtin(edition_keys: Iterable[str]) -> Knowledge:
    """Node ids of shipped editions (for validating a mapping file before anything is loaded)."""
    known = Knowledge()
    schemas = validation.validate_file(BUILTIN_DIR / ANSWER_SCHEMAS_FILE)
    if schemas.parsed is not None:
        known.merge(validation.knowledge_of(schemas.parsed))
    for key in edition_keys:
        framework, _sep, code = key.partition("@")
        path = BUILTIN_DIR / framework / f"{code}.yaml"
        if framework and code and path.is_file() and path.resolve().parent.parent == BUILTIN_DIR:
            result = validation.validate_file(path, known)
            if result.parsed is not None:
                known.merge(validation.knowledge_of(result.parsed))
    return known


def validate_paths(
    paths: Sequence[Path],
    *,
    use_db: bool = True,
    use_builtin: bool = False,
    labels: dict[Path, str] | None = None,
) -> list[validation.Result]:
    """Validate several files together: schemas first, then editions, then mapping sets.

    A later file may refer to what an earlier one defines; references not in the batch are looked
    up in the database (current editions) and, for validation only, in the shipped library.
    """
    labels = labels or {}
    roots: dict[Path, Any] = {}
    results: dict[Path, validation.Result] = {}
    for path in paths:
        label = labels.get(path, str(path))
        content, problem = validation.read_file(path, label)
        if content is not None:
            root, problem = validation.parse_bytes(content, label)
            if problem is None:
                roots[path] = root
        if problem is not None:
            results[path] = problem
    referenced = set().union(*(validation.referenced_editions(root) for root in roots.values()))
    known = Knowledge()
    if use_builtin:
        known.merge(knowledge_from_builtin(referenced))
    if use_db:
        known.merge(knowledge_from_db(referenced))
    kinds = {path: validation.document_kind(root) or "" for path, root in roots.items()}
    for path in sorted(roots, key=lambda p: _KIND_ORDER.get(kinds[p], 1)):
        result = validation.validate_root(roots[path], labels.get(path, str(path)), known)
        if result.parsed is not None:
            batch = validation.knowledge_of(result.parsed)
            known.schemas |= batch.schemas
            known.nodes.update(batch.nodes)  # an edition in the batch replaces what the database has
        results[path] = result
    return [results[path] for path in paths]


# --- loading ------------------------------------------------------------------------------------


@transaction.atomic
def load_paths(
    paths: Sequence[Path], *, labels: dict[Path, str] | None = None, keep_newer: bool = False
) -> list[Outcome]:
    """Validate then load files in one transaction; raise LibraryLoadError (nothing written) on problems."""
    results = validate_paths(paths, labels=labels)
    issues = [issue for result in results for issue in result.issues]
    if issues:
        raise LibraryLoadError(issues)
    ordered = sorted(results, key=lambda r: _KIND_ORDER[_kind_of(r.parsed)])
    outcomes: list[Outcome] = []
    in_batch: dict[str, Edition] = {}
    for result in ordered:
        parsed = result.parsed
        if isinstance(parsed, domain.ParsedAnswerSchemas):
            outcomes.append(load_answer_schemas(parsed=parsed))
        elif isinstance(parsed, domain.ParsedEdition):
            edition, outcome = load_edition(parsed=parsed, keep_newer=keep_newer)
            in_batch[edition.key] = edition
            outcomes.append(outcome)
        elif isinstance(parsed, domain.ParsedMappingSet):
            outcomes.append(load_mapping_set(parsed=parsed, editions=in_batch)[1])
    return outcomes


def _kind_of(parsed: domain.Parsed | None) -> str:
    if isinstance(parsed, domain.ParsedAnswerSchemas):
        return "answer_schemas"
    if isinstance(parsed, domain.ParsedMappingSet):
        return "mapping_set"
    return "edition"


def load_builtin_library() -> dict[str, Any]:
    """Load the shipped library (called by `anzen setup`); a second run changes nothing."""
    paths = builtin_files()
    outcomes = load_paths(paths, labels={path: builtin_label(path) for path in paths}, keep_newer=True)
    counted = [o for o in outcomes if o.kind != "answer_schemas"]
    return {
        "loaded": sum(1 for o in counted if o.status == "loaded"),
        "unchanged": sum(1 for o in counted if o.status == "unchanged"),
        "editions": [o.as_dict() for o in outcomes if o.kind == "edition"],
        "mapping_sets": [o.as_dict() for o in outcomes if o.kind == "mapping_set"],
        "answer_schemas": next((o.as_dict() for o in outcomes if o.kind == "answer_schemas"), None),
    }


@transaction.atomic
def load_answer_schemas(*, parsed: domain.ParsedAnswerSchemas) -> Outcome:
    """Create missing answer schemas. Options of an existing schema never change (answers depend on them)."""
    existing = {
        schema.key: schema
        for schema in AnswerSchema.objects.filter(key__in=[spec.key for spec in parsed.schemas])
    }
    issues = [
        Issue(
            parsed.file,
            spec.line,
            spec.key,
            _(
                "既存の回答形式 '%(key)s' の選択肢は変更できません（既存"
                "の回答の意味が変わるため）。新しい id を使ってください"
            )
            % {"key": spec.key},
        )
        for spec in parsed.schemas
        if spec.key in existing and existing[spec.key].options != spec.options
    ]
    if issues:
        raise LibraryLoadError(issues)
    created = 0
    for spec in parsed.schemas:
        schema = existing.get(spec.key)
        if schema is None:
            AnswerSchema.objects.create(
                key=spec.key, label=spec.label, options=spec.options, remarks=spec.remarks
            )
            created += 1
        elif (schema.label, schema.remarks) != (spec.label, spec.remarks):
            schema.label, schema.remarks = spec.label, spec.remarks
            schema.save(update_fields=["label", "remarks", "updated_at"])
    return Outcome(
        parsed.file,
        "answer_schemas",
        ANSWER_SCHEMAS_FILE,
        "loaded" if created else "unchanged",
        count=len(parsed.schemas),
    )


def _framework(spec: domain.FrameworkSpec) -> Framework:
    values = {"title": spec.title, "title_en": spec.title_en, "publisher": spec.publisher, "kind": spec.kind}
    framework = Framework.objects.filter(key=spec.key).first()
    if framework is None:
        return Framework.objects.create(key=spec.key, **values)
    changed = [name for name, value in values.items() if getattr(framework, name) != value]
    if changed:
        for name in changed:
            setattr(framework, name, values[name])
        framework.save(update_fields=[*changed, "updated_at"])
    return framework


def _search_text(spec: domain.NodeSpec, by_id: dict[str, domain.NodeSpec]) -> str:
    parts = [spec.ref, spec.text, spec.text_partial, spec.topic]
    parent_id = spec.parent_id
    while parent_id:
        parent = by_id[parent_id]
        if parent.kind in ("section", "group"):
            parts.extend([parent.ref, parent.text, parent.topic])
        parent_id = parent.parent_id
    return text.search_text(parts)


@transaction.atomic
def load_edition(
    *,
    parsed: domain.ParsedEdition,
    origin: str = Edition.Origin.LIBRARY_FILE,
    extra_meta: dict[str, Any] | None = None,
    keep_newer: bool = False,
) -> tuple[Edition, Outcome]:
    """Load one parsed edition: no-op when unchanged, otherwise a new version with all its nodes."""
    spec = parsed.edition
    content_hash = parsed.content_hash
    current = Edition.objects.select_for_update().filter(key=spec.key, is_current=True).first()
    loaded = _already_loaded(current, content_hash, keep_newer) if current is not None else None
    if loaded is not None:
        return loaded, Outcome(
            parsed.file, "edition", spec.key, "unchanged", loaded.version, parsed.item_count
        )
    needed = {node.answer_schema for node in parsed.nodes if node.answer_schema}
    schemas = {schema.key: schema for schema in AnswerSchema.objects.filter(key__in=needed)}
    missing = sorted(needed - schemas.keys())
    if missing:
        raise LibraryLoadError(
            [
                Issue(parsed.file, None, "", _("回答形式 '%(key)s' が読み込まれていません") % {"key": key})
                for key in missing
            ]
        )
    framework = _framework(parsed.framework)
    if framework.key != spec.framework_key:  # pragma: no cover - guarded by validation
        raise LibraryLoadError([Issue(parsed.file, None, "", _("framework.id と edition.id が一致しません"))])
    last = Edition.objects.filter(key=spec.key).aggregate(last=Max("version"))["last"] or 0
    if current is not None:
        Edition.objects.filter(pk=current.pk).update(is_current=False)
    meta = {
        **spec.meta,
        **(extra_meta or {}),
        "source_file": parsed.file,
        "default_answer_schema": spec.default_answer_schema,
    }
    edition = Edition(
        framework=framework,
        key=spec.key,
        version=last + 1,
        is_current=True,
        edition=spec.edition,
        title=spec.title,
        publisher=spec.publisher,
        published=spec.published,
        fiscal_year=spec.fiscal_year,
        locale=spec.locale,
        sources=spec.sources,
        licence=spec.licence,
        verified=spec.verified,
        notes=spec.notes,
        origin=origin,
        content_hash=content_hash,
        meta=meta,
    )
    Edition.objects.bulk_create([edition])
    _create_nodes(edition, parsed, schemas)
    audit.record(
        audit.Action.IMPORT,
        obj=edition,
        before={"key": spec.key, "version": current.version, "content_hash": current.content_hash}
        if current is not None
        else None,
        after={
            "key": spec.key,
            "version": edition.version,
            "items": parsed.item_count,
            "nodes": len(parsed.nodes),
            "content_hash": content_hash,
            "origin": origin,
            "file": parsed.file,
        },
        message="library_load",
    )
    return edition, Outcome(
        parsed.file,
        "edition",
        spec.key,
        "loaded",
        edition.version,
        parsed.item_count,
        current.version if current is not None else None,
    )


def _already_loaded(current: Edition, content_hash: str, keep_newer: bool) -> Edition | None:
    """The version that already holds this content, if loading it again should change nothing.

    Normally only the current version counts (loading older content again makes a new version).
    With `keep_newer` (the shipped library, loaded by every `anzen setup`) any earlier version with
    the same content counts too: a newer version an administrator loaded or imported from Excel for
    the same edition key is not silently superseded by the shipped file.
    """
    if current.content_hash == content_hash:
        return current
    if keep_newer:
        return Edition.objects.filter(key=current.key, content_hash=content_hash).order_by("-version").first()
    return None


def _create_nodes(edition: Edition, parsed: domain.ParsedEdition, schemas: dict[str, AnswerSchema]) -> None:
    by_id = {node.node_id: node for node in parsed.nodes}
    depth = parsed.depth_of()
    levels: dict[int, list[tuple[int, domain.NodeSpec]]] = defaultdict(list)
    for position, node in enumerate(parsed.nodes):
        levels[depth[node.node_id]].append((position, node))
    rows: dict[str, RequirementNode] = {}
    framework_key = parsed.framework.key
    for level in sorted(levels):
        batch = []
        for position, node in levels[level]:
            row = RequirementNode(
                edition=edition,
                node_id=node.node_id,
                urn=f"urn:anzen:{framework_key}:{node.node_id}",
                parent=rows[node.parent_id] if node.parent_id else None,
                position=position,
                depth=level,
                kind=node.kind,
                ref=node.ref,
                text=node.text,
                text_partial=node.text_partial,
                topic=node.topic,
                audience=node.audience,
                answer_schema=schemas.get(node.answer_schema or ""),
                required_from=node.required_from,
                reference_only=node.reference_only,
                verified=node.verified,
                meta=node.meta,
                search_text=_search_text(node, by_id),
            )
            rows[node.node_id] = row
            batch.append(row)
        RequirementNode.objects.bulk_create(batch, batch_size=500)


@transaction.atomic
def load_mapping_set(
    *, parsed: domain.ParsedMappingSet, editions: dict[str, Edition] | None = None
) -> tuple[MappingSet, Outcome]:
    """Bind to the versions loaded in the same batch (`editions`), otherwise to the current versions."""
    batch = editions or {}
    bound_editions = {
        key: batch.get(key) or Edition.objects.filter(key=key, is_current=True).first()
        for key in (parsed.source_edition, parsed.target_edition)
    }
    missing = [key for key, edition in bound_editions.items() if edition is None]
    if missing:
        raise LibraryLoadError(
            [
                Issue(parsed.file, None, "", _("版 '%(key)s' が読み込まれていません") % {"key": key})
                for key in missing
            ]
        )
    source, target = bound_editions[parsed.source_edition], bound_editions[parsed.target_edition]
    assert source is not None and target is not None
    bound = {source.key: source.version, target.key: target.version}
    content_hash = parsed.content_hash(bound)
    current = MappingSet.objects.select_for_update().filter(key=parsed.key, is_current=True).first()
    if current is not None and current.content_hash == content_hash:
        return current, Outcome(
            parsed.file, "mapping_set", parsed.key, "unchanged", current.version, len(parsed.mappings)
        )
    source_nodes = dict(
        RequirementNode.objects.filter(
            edition=source, node_id__in={m.source for m in parsed.mappings}
        ).values_list("node_id", "pk")
    )
    target_nodes = dict(
        RequirementNode.objects.filter(
            edition=target, node_id__in={m.target for m in parsed.mappings}
        ).values_list("node_id", "pk")
    )
    issues = [
        Issue(
            parsed.file,
            m.line,
            m.source if m.source not in source_nodes else m.target,
            _("対応元または対応先の項目が読み込まれた版にありません"),
        )
        for m in parsed.mappings
        if m.source not in source_nodes or m.target not in target_nodes
    ]
    if issues:
        raise LibraryLoadError(issues)
    last = MappingSet.objects.filter(key=parsed.key).aggregate(last=Max("version"))["last"] or 0
    if current is not None:
        MappingSet.objects.filter(pk=current.pk).update(is_current=False)
    mapping_set = MappingSet(
        key=parsed.key,
        version=last + 1,
        is_current=True,
        title=parsed.title,
        sources=parsed.sources,
        notes=parsed.notes,
        content_hash=content_hash,
        source_edition=source,
        target_edition=target,
    )
    MappingSet.objects.bulk_create([mapping_set])
    Mapping.objects.bulk_create(
        [
            Mapping(
                mapping_set=mapping_set,
                source_id=source_nodes[m.source],
                target_id=target_nodes[m.target],
                relation=m.relation,
                basis=m.basis,
                rationale=m.rationale,
            )
            for m in parsed.mappings
        ],
        batch_size=500,
    )
    audit.record(
        audit.Action.IMPORT,
        obj=mapping_set,
        before={"key": parsed.key, "version": current.version, "content_hash": current.content_hash}
        if current is not None
        else None,
        after={
            "key": parsed.key,
            "version": mapping_set.version,
            "mappings": len(parsed.mappings),
            "content_hash": content_hash,
            "source_edition": f"{source.key}#{source.version}",
            "target_edition": f"{target.key}#{target.version}",
            "file": parsed.file,
        },
        message="library_load",
    )
    return mapping_set, Outcome(
        parsed.file,
        "mapping_set",
        parsed.key,
        "loaded",
        mapping_set.version,
        len(parsed.mappings),
        current.version if current is not None else None,
    )
