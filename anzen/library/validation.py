"""Validation of library files (pure, no ORM): YAML → parsed dataclasses + a list of issues.

Every issue names the file, the line and the node id, in Japanese, so that
`anzen library validate` can print `FILE:LINE: [ID] message` and the author can jump to it.
The format is documented in docs/library-format.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from anzen.library import domain, validation_sets, yamlsafe
from anzen.library.domain import Issue, Knowledge, NodeSpec
from anzen.library.validation_checker import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    MAX_TOPIC,
    Checker,
    Result,
)
from anzen.library.yamlsafe import LList, LMap

_TOP_KEYS = {
    "edition": {"format", "kind", "framework", "edition", "nodes"},
    "mapping_set": {"format", "kind", "mapping_set", "mappings"},
    "answer_schemas": {"format", "kind", "answer_schemas"},
}
_FRAMEWORK_KEYS = {"id", "title", "title_en", "publisher", "kind"}
_EDITION_KEYS = {
    "id",
    "edition",
    "title",
    "publisher",
    "date",
    "fiscal_year",
    "locale",
    "verified",
    "default_answer_schema",
    "licence",
    "sources",
    "notes",
    "meta",
}
_NODE_KEYS = {
    "id",
    "kind",
    "parent",
    "ref",
    "text",
    "text_partial",
    "topic",
    "audience",
    "answer_schema",
    "required_from",
    "reference_only",
    "verified",
    "meta",
}


# --- entry points -------------------------------------------------------------------------------


def parse_bytes(data: bytes, file: str) -> tuple[Any, Result | None]:
    """The YAML tree of a file, or a Result holding the reading problem."""
    try:
        return yamlsafe.load(data), None
    except yamlsafe.YamlProblem as problem:
        return None, Result(file, issues=[Issue(file, problem.line, "", problem.message)])


def validate_root(root: Any, file: str, knowledge: Knowledge | None = None) -> Result:
    checker = Checker(file)
    parsed = _validate_root(checker, root, knowledge or Knowledge())
    return Result(file, parsed if not checker.issues else None, checker.issues)


def validate_bytes(data: bytes, file: str, knowledge: Knowledge | None = None) -> Result:
    """Validate one file's content. `knowledge` supplies schema ids and other editions' node ids."""
    root, problem = parse_bytes(data, file)
    if problem is not None:
        return problem
    return validate_root(root, file, knowledge)


def read_file(path: Path, label: str | None = None) -> tuple[bytes | None, Result | None]:
    """The file's bytes, or a Result with the problem (too big, unreadable)."""
    file = label or str(path)
    try:
        size = path.stat().st_size
        if size > yamlsafe.MAX_FILE_BYTES:
            return None, Result(
                file,
                issues=[
                    Issue(
                        file,
                        None,
                        "",
                        (
                            _("ファイルが大きすぎます（%(size)s バイト、上限 %(limit)s バイト）")
                            % {
                                "size": format(size, ","),
                                "limit": format(yamlsafe.MAX_FILE_BYTES, ","),
                            }
                        ),
                    )
                ],
            )
        return path.read_bytes(), None
    except OSError as error:
        return None, Result(
            file,
            issues=[
                Issue(
                    file,
                    None,
                    "",
                    _("ファイルを読めません: %(error)s") % {"error": error.strerror or error},
                )
            ],
        )


def validate_file(path: Path, knowledge: Knowledge | None = None, *, label: str | None = None) -> Result:
    data, problem = read_file(path, label)
    if data is None:
        assert problem is not None
        return problem
    return validate_bytes(data, label or str(path), knowledge)


def document_kind(root: Any) -> str | None:
    """The top-level `kind:` of a parsed file (for ordering a batch)."""
    return root.get("kind") if isinstance(root, LMap) and isinstance(root.get("kind"), str) else None


def referenced_editions(root: Any) -> set[str]:
    """The edition keys a mapping set refers to."""
    head = root.get("mapping_set") if isinstance(root, LMap) else None
    if not isinstance(head, LMap):
        return set()
    return {
        value for value in (head.get("source_edition"), head.get("target_edition")) if isinstance(value, str)
    }


def knowledge_of(parsed: domain.Parsed) -> Knowledge:
    """What later files in the same batch may refer to."""
    known = Knowledge()
    if isinstance(parsed, domain.ParsedAnswerSchemas):
        known.schemas = {schema.key for schema in parsed.schemas}
    elif isinstance(parsed, domain.ParsedEdition):
        known.nodes[parsed.edition.key] = {node.node_id for node in parsed.nodes}
    return known


def _validate_root(checker: Checker, root: Any, knowledge: Knowledge) -> domain.Parsed | None:
    if not isinstance(root, LMap):
        checker.error(
            getattr(root, "line", 1), "", _("ファイルの最上位は key: value の形（マッピング）にしてください")
        )
        return None
    version = root.get("format")
    if version != domain.FORMAT_VERSION:
        checker.error(
            root.line_of("format"),
            "",
            _("'format: %(version)s' を指定してください（この版の形式のみ読み込めます）")
            % {"version": domain.FORMAT_VERSION},
        )
    kind = root.get("kind")
    if kind not in _TOP_KEYS:
        checker.error(
            root.line_of("kind"),
            "",
            _("'kind' は edition / mapping_set / answer_schemas のいずれかで指定してください"),
        )
        return None
    checker.unknown_keys(root, _TOP_KEYS[kind], where=_("（最上位）"))
    if kind == "edition":
        return _edition(checker, root, knowledge)
    if kind == "mapping_set":
        return validation_sets.mapping_set(checker, root, knowledge)
    return validation_sets.answer_schemas(checker, root)


# --- editions -----------------------------------------------------------------------------------


def _edition(checker: Checker, root: LMap, knowledge: Knowledge) -> domain.ParsedEdition | None:
    fw = checker.mapping(root, "framework")
    ed = checker.mapping(root, "edition")
    if fw is None or ed is None:
        return None
    checker.unknown_keys(fw, _FRAMEWORK_KEYS, where=_("（framework）"))
    checker.unknown_keys(ed, _EDITION_KEYS, where=_("（edition）"))
    framework_key = checker.text(fw, "id", required=True, max_length=80)
    if framework_key and not domain.FRAMEWORK_ID.match(framework_key):
        checker.error(fw.line_of("id"), "", _("framework.id は英小文字・数字・ハイフンで指定してください"))
    framework = domain.FrameworkSpec(
        key=framework_key,
        title=checker.text(fw, "title", required=True, max_length=MAX_TITLE, blank_ok=False),
        title_en=checker.text(fw, "title_en", max_length=MAX_TITLE),
        publisher=checker.text(fw, "publisher", max_length=MAX_TITLE),
        kind=checker.choice(fw, "kind", domain.FRAMEWORK_KINDS, "", "framework.kind", "checklist"),
    )
    code = checker.text(ed, "edition", required=True, max_length=60)
    if code and not domain.EDITION_CODE.match(code):
        checker.error(
            ed.line_of("edition"), "", _("edition.edition は英数字と . _ - で指定してください（例: R5, 6.0）")
        )
    key = checker.text(ed, "id", required=True, max_length=120)
    if key and framework_key and code and key != domain.edition_key(framework_key, code):
        checker.error(
            ed.line_of("id"),
            "",
            _("edition.id は '%(expected)s'（framework.id@edition）にしてください")
            % {"expected": domain.edition_key(framework_key, code)},
        )
    default_schema = ed.get("default_answer_schema")
    if default_schema is not None and default_schema not in knowledge.schemas:
        checker.error(
            ed.line_of("default_answer_schema"),
            "",
            _("回答形式 '%(default_schema)s' は定義されていません") % {"default_schema": default_schema},
        )
        default_schema = None
    if "verified" not in ed:
        checker.error(ed.line, "", _("edition.verified（true / partial / false）がありません"))
    licence = checker.text(ed, "licence", required=True, max_length=MAX_TEXT, blank_ok=False)
    edition = domain.EditionSpec(
        key=key,
        framework_key=framework_key,
        edition=code,
        title=checker.text(ed, "title", required=True, max_length=MAX_TITLE, blank_ok=False),
        publisher=checker.text(ed, "publisher", max_length=MAX_TITLE),
        published=checker.text(ed, "date", max_length=60),
        fiscal_year=checker.year(ed, "fiscal_year"),
        locale=checker.text(ed, "locale", max_length=10) or "ja",
        verified=checker.verified(ed, "verified", "", "false"),
        default_answer_schema=default_schema if isinstance(default_schema, str) else None,
        licence=licence,
        sources=checker.sources(ed, "sources", required=True),
        notes=checker.text(ed, "notes"),
        meta=checker.meta(ed, ""),
    )
    nodes = _nodes(checker, root, edition, knowledge)
    return domain.ParsedEdition(checker.file, framework, edition, nodes)


def _nodes(checker: Checker, root: LMap, edition: domain.EditionSpec, knowledge: Knowledge) -> list[NodeSpec]:
    raw = root.get("nodes")
    if not isinstance(raw, LList) or not raw:
        checker.error(root.line_of("nodes"), "", _("'nodes' に要素（項目のリスト）がありません"))
        return []
    if len(raw) > MAX_NODES:
        checker.error(
            raw.line,
            "",
            _("要素が多すぎます（%(count)s件、上限 %(max_nodes)s件）")
            % {"count": len(raw), "max_nodes": MAX_NODES},
        )
        return []
    nodes: list[NodeSpec] = []
    seen: dict[str, NodeSpec] = {}
    depth: dict[str, int] = {}
    for index, entry in enumerate(raw):
        line = raw.line_at(index)
        if not isinstance(entry, LMap):
            checker.error(line, "", _("nodes の各要素は key: value の形（マッピング）で書いてください"))
            continue
        node = _node(checker, entry, edition, knowledge, seen, depth)
        if node is None:
            continue
        if node.node_id in seen:
            checker.error(
                entry.line_of("id"),
                node.node_id,
                _("項目ID '%(node_id)s' が重複しています（最初の定義は %(first_line)s 行目）")
                % {"node_id": node.node_id, "first_line": seen[node.node_id].line},
            )
            continue
        seen[node.node_id] = node
        depth[node.node_id] = depth[node.parent_id] + 1 if node.parent_id in depth else 0
        nodes.append(node)
    return nodes


def _node(
    checker: Checker,
    entry: LMap,
    edition: domain.EditionSpec,
    knowledge: Knowledge,
    seen: dict[str, NodeSpec],
    depth: dict[str, int],
) -> NodeSpec | None:
    raw_id = entry.get("id")
    if not isinstance(raw_id, str) or not domain.NODE_ID.match(raw_id):
        if raw_id is None:
            checker.error(entry.line, "", _("項目に 'id' がありません"))
        else:
            checker.error(
                entry.line_of("id"),
                str(raw_id),
                _(
                    "項目ID は英数字で始まり、英数字と . _ + - だけからなる文字列（1"
                    "20文字以内）にしてください（数字だけのIDは引用符で囲んでください）"
                ),
            )
        return None
    node_id = raw_id
    checker.unknown_keys(entry, _NODE_KEYS, node_id)
    kind = checker.choice(entry, "kind", domain.KINDS, node_id, _("種類（kind）"), "item")
    parent_id = entry.get("parent")
    parent: NodeSpec | None = None
    if parent_id is not None:
        if not isinstance(parent_id, str):
            checker.error(entry.line_of("parent"), node_id, _("'parent' は項目IDの文字列で指定してください"))
        elif parent_id == node_id:
            checker.error(entry.line_of("parent"), node_id, _("自分自身を親にはできません"))
        elif parent_id not in seen:
            checker.error(
                entry.line_of("parent"),
                node_id,
                _("親 '%(parent_id)s' が見つかりません（親は子より前に定義してください）")
                % {"parent_id": parent_id},
            )
        else:
            parent = seen[parent_id]
            if depth[parent_id] + 1 >= MAX_DEPTH:
                checker.error(
                    entry.line_of("parent"),
                    node_id,
                    _("階層が深すぎます（上限 %(max_depth)s 段）") % {"max_depth": MAX_DEPTH},
                )
    if kind == "form" and parent_id is not None:
        checker.error(
            entry.line_of("kind"),
            node_id,
            _("様式（form）は最上位に置いてください（parent は指定できません）"),
        )

    text = checker.text(entry, "text", node_id)
    text_partial = checker.text(entry, "text_partial", node_id)
    topic = checker.text(entry, "topic", node_id, max_length=MAX_TOPIC)
    if not text.strip() and not topic and not text_partial.strip():
        what = _("項目") if kind == "item" else _("見出し")
        checker.error(
            entry.line,
            node_id,
            _(
                "%(what)sに本文（text）がありません。本文が不明な場合は topi"
                "c か text_partial を書き、verified: false に"
                "してください"
            )
            % {"what": what},
        )
    audience = checker.choice(
        entry, "audience", domain.AUDIENCES, node_id, _("対象（audience）"), parent.audience if parent else ""
    )

    answer_schema: str | None = None
    if "answer_schema" in entry:
        value = entry["answer_schema"]
        if kind != "item" and value is not None:
            checker.error(
                entry.line_of("answer_schema"), node_id, _("回答形式は項目（kind: item）にのみ指定できます")
            )
        elif value is not None and value not in knowledge.schemas:
            checker.error(
                entry.line_of("answer_schema"),
                node_id,
                _("回答形式 '%(value)s' は定義されていません") % {"value": value},
            )
        elif isinstance(value, str):
            answer_schema = value
    elif kind == "item":
        answer_schema = edition.default_answer_schema

    return NodeSpec(
        node_id=node_id,
        kind=kind,
        parent_id=parent_id if isinstance(parent_id, str) else None,
        ref=checker.text(entry, "ref", node_id, max_length=MAX_REF),
        text=text,
        text_partial=text_partial,
        topic=topic,
        audience=audience,
        answer_schema=answer_schema,
        required_from=checker.year(entry, "required_from", node_id),
        reference_only=checker.boolean(entry, "reference_only", node_id),
        verified=checker.verified(entry, "verified", node_id, edition.verified),
        meta=checker.meta(entry, node_id),
        line=entry.line,
    )
