"""Validation of library files (pure, no ORM): YAML → parsed dataclasses + a list of issues.

Every issue names the file, the line and the node id, in Japanese, so that
`anzen library validate` can print `FILE:LINE: [ID] message` and the author can jump to it.
The format is documented in docs/library-format.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from anzen.library import domain, yamlsafe
from anzen.library.domain import Issue, Knowledge, NodeSpec
from anzen.library.yamlsafe import LList, LMap

MAX_TEXT = 10_000
MAX_REF = 60
MAX_TOPIC = 300
MAX_TITLE = 300
MAX_NODES = 20_000
MAX_DEPTH = 20
MIN_YEAR, MAX_YEAR = 1900, 2200

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
_SET_KEYS = {"id", "title", "source_edition", "target_edition", "sources", "notes"}
_MAPPING_KEYS = {"source", "target", "relation", "basis", "rationale"}
_SCHEMA_KEYS = {"id", "label", "options", "remarks"}


@dataclass
class Result:
    file: str
    parsed: domain.Parsed | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues and self.parsed is not None


class _Checker:
    """Collects issues for one file; helpers read typed values and report wrong ones."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[Issue] = []

    def error(self, line: int | None, node_id: str, message: str) -> None:
        self.issues.append(Issue(self.file, line, node_id, message))

    def mapping(self, parent: LMap, key: str, node_id: str = "", *, required: bool = True) -> LMap | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.error(parent.line_of(key), node_id, _("'%(key)s' がありません") % {"key": key})
            return None
        if not isinstance(value, LMap):
            self.error(
                parent.line_of(key),
                node_id,
                _("'%(key)s' は key: value の形（マッピング）で書いてください") % {"key": key},
            )
            return None
        return value

    def unknown_keys(self, data: LMap, allowed: set[str], node_id: str = "", where: str = "") -> None:
        for key in data:
            if key not in allowed:
                self.error(
                    data.line_of(key),
                    node_id,
                    _("不明なキー '%(key)s'%(where)s（使えるキー: %(allowed)s）")
                    % {"key": key, "where": where, "allowed": ", ".join(sorted(allowed))},
                )

    def text(
        self,
        data: LMap,
        key: str,
        node_id: str = "",
        *,
        required: bool = False,
        max_length: int = MAX_TEXT,
        blank_ok: bool = True,
    ) -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.error(data.line_of(key), node_id, _("'%(key)s' がありません") % {"key": key})
            return ""
        if not isinstance(value, str):
            hint = _("（数字や日付は引用符で囲んでください）") if isinstance(value, int | float) else ""
            self.error(
                data.line_of(key),
                node_id,
                _("'%(key)s' は文字列で指定してください%(hint)s") % {"key": key, "hint": hint},
            )
            return ""
        value = value.strip() if key not in {"text", "text_partial"} else value
        if required and not blank_ok and not value.strip():
            self.error(data.line_of(key), node_id, _("'%(key)s' が空です") % {"key": key})
        if len(value) > max_length:
            self.error(
                data.line_of(key),
                node_id,
                _("'%(key)s' が長すぎます（%(length)s文字、上限 %(max_length)s文字）")
                % {"key": key, "length": len(value), "max_length": max_length},
            )
            return value[:max_length]
        return value

    def year(self, data: LMap, key: str, node_id: str = "") -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(
                data.line_of(key),
                node_id,
                _("'%(key)s' は整数（西暦の年度、例: 2024）で指定してください") % {"key": key},
            )
            return None
        if not MIN_YEAR <= value <= MAX_YEAR:
            self.error(
                data.line_of(key),
                node_id,
                _("'%(key)s' の年度 %(value)s は範囲外です（%(min_year)s〜%(max_year)s）")
                % {"key": key, "value": value, "min_year": MIN_YEAR, "max_year": MAX_YEAR},
            )
            return None
        return value

    def boolean(self, data: LMap, key: str, node_id: str = "", default: bool = False) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(
                data.line_of(key),
                node_id,
                _("'%(key)s' は true または false で指定してください") % {"key": key},
            )
            return default
        return value

    def verified(self, data: LMap, key: str, node_id: str, default: str) -> str:
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if value in domain.VERIFIED:
            return str(value)
        self.error(
            data.line_of(key),
            node_id,
            _("'%(key)s' は true / false / partial のいずれかで指定してください") % {"key": key},
        )
        return "false"

    def choice(
        self, data: LMap, key: str, choices: Iterable[str], node_id: str, label: str, default: str = ""
    ) -> str:
        value = data.get(key)
        if value is None:
            return default
        choices = tuple(choices)
        if value not in choices:
            self.error(
                data.line_of(key),
                node_id,
                _("%(label)s '%(value)s' は不明です（%(choices)s のいずれか）")
                % {"label": label, "value": value, "choices": " / ".join(choices)},
            )
            return default
        return str(value)

    def sources(
        self, data: LMap, key: str, node_id: str = "", *, required: bool = False
    ) -> list[dict[str, Any]]:
        value = data.get(key)
        if value is None:
            if required:
                self.error(data.line_of(key), node_id, _("'%(key)s'（出典）がありません") % {"key": key})
            return []
        if not isinstance(value, LList) or not value:
            self.error(
                data.line_of(key), node_id, _("'%(key)s' は出典のリストで指定してください") % {"key": key}
            )
            return []
        result = []
        for index, entry in enumerate(value):
            if not isinstance(entry, LMap) or not isinstance(entry.get("title"), str):
                self.error(value.line_at(index), node_id, _("出典には title（文字列）が必要です"))
                continue
            result.append(plain(entry))
        return result

    def meta(self, data: LMap, node_id: str) -> dict[str, Any]:
        value = data.get("meta")
        if value is None:
            return {}
        if not isinstance(value, LMap):
            self.error(
                data.line_of("meta"), node_id, _("'meta' は key: value の形（マッピング）で書いてください")
            )
            return {}
        self._check_meta(value, node_id)
        return plain(value)

    def _check_meta(self, meta: LMap, node_id: str) -> None:
        if "gating" in meta and not isinstance(meta["gating"], bool):
            self.error(
                meta.line_of("gating"), node_id, _("'meta.gating' は true または false で指定してください")
            )
        if "conditions" in meta:
            conditions = meta["conditions"]
            if not isinstance(conditions, LList) or not all(
                isinstance(c, str) and domain.CONDITION.match(c) for c in conditions
            ):
                self.error(
                    meta.line_of("conditions"),
                    node_id,
                    _(
                        "'meta.conditions' は英小文字の識別子のリストで指定してくだ"
                        "さい（例: [no_vendor_contract]）"
                    ),
                )
        for key in ("note", "condition_note", "scope"):
            if key in meta and not isinstance(meta[key], str):
                self.error(
                    meta.line_of(key), node_id, _("'meta.%(key)s' は文字列で指定してください") % {"key": key}
                )


def plain(value: Any) -> Any:
    """LMap/LList → dict/list (for JSON fields and hashing)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


# --- entry points -------------------------------------------------------------------------------


def parse_bytes(data: bytes, file: str) -> tuple[Any, Result | None]:
    """The YAML tree of a file, or a Result holding the reading problem."""
    try:
        return yamlsafe.load(data), None
    except yamlsafe.YamlProblem as problem:
        return None, Result(file, issues=[Issue(file, problem.line, "", problem.message)])


def validate_root(root: Any, file: str, knowledge: Knowledge | None = None) -> Result:
    checker = _Checker(file)
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


def _validate_root(checker: _Checker, root: Any, knowledge: Knowledge) -> domain.Parsed | None:
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
        return _mapping_set(checker, root, knowledge)
    return _answer_schemas(checker, root)


# --- editions -----------------------------------------------------------------------------------


def _edition(checker: _Checker, root: LMap, knowledge: Knowledge) -> domain.ParsedEdition | None:
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


def _nodes(
    checker: _Checker, root: LMap, edition: domain.EditionSpec, knowledge: Knowledge
) -> list[NodeSpec]:
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
    checker: _Checker,
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


# --- mapping sets -------------------------------------------------------------------------------


def _mapping_set(checker: _Checker, root: LMap, knowledge: Knowledge) -> domain.ParsedMappingSet | None:
    head = checker.mapping(root, "mapping_set")
    if head is None:
        return None
    checker.unknown_keys(head, _SET_KEYS, where=_("（mapping_set）"))
    key = checker.text(head, "id", required=True, max_length=120)
    if key and not domain.SLUG.match(key):
        checker.error(head.line_of("id"), "", _("mapping_set.id は英数字・ハイフン・下線で指定してください"))
    editions = {}
    for side in ("source_edition", "target_edition"):
        value = checker.text(head, side, required=True, max_length=120)
        editions[side] = value
        if value and value not in knowledge.nodes:
            checker.error(
                head.line_of(side),
                "",
                _("版 '%(value)s' が見つかりません（先に読み込むか、同じコマンドで一緒に指定してください）")
                % {"value": value},
            )
    raw = root.get("mappings")
    mappings: list[domain.MappingSpec] = []
    if not isinstance(raw, LList) or not raw:
        checker.error(root.line_of("mappings"), "", _("'mappings' に要素（対応のリスト）がありません"))
    else:
        source_ids = knowledge.nodes.get(editions["source_edition"])
        target_ids = knowledge.nodes.get(editions["target_edition"])
        pairs: dict[tuple[str, str], int | None] = {}
        for index, entry in enumerate(raw):
            if not isinstance(entry, LMap):
                checker.error(
                    raw.line_at(index),
                    "",
                    _("mappings の各要素は key: value の形（マッピング）で書いてください"),
                )
                continue
            mapping = _mapping(checker, entry, source_ids, target_ids, editions)
            if mapping is None:
                continue
            pair = (mapping.source, mapping.target)
            if pair in pairs:
                checker.error(
                    entry.line,
                    mapping.source,
                    _("対応 %(source)s → %(target)s が重複しています（最初は %(first_line)s 行目）")
                    % {
                        "source": mapping.source,
                        "target": mapping.target,
                        "first_line": pairs[pair],
                    },
                )
                continue
            pairs[pair] = entry.line
            mappings.append(mapping)
    return domain.ParsedMappingSet(
        file=checker.file,
        key=key,
        title=checker.text(head, "title", required=True, max_length=MAX_TITLE, blank_ok=False),
        source_edition=editions["source_edition"],
        target_edition=editions["target_edition"],
        mappings=mappings,
        sources=checker.sources(head, "sources"),
        notes=checker.text(head, "notes"),
    )


def _mapping(
    checker: _Checker,
    entry: LMap,
    source_ids: set[str] | None,
    target_ids: set[str] | None,
    editions: dict[str, str],
) -> domain.MappingSpec | None:
    source = entry.get("source")
    node_label = source if isinstance(source, str) else ""
    checker.unknown_keys(entry, _MAPPING_KEYS, node_label)
    ends = {}
    for side, ids, edition in (
        ("source", source_ids, editions["source_edition"]),
        ("target", target_ids, editions["target_edition"]),
    ):
        value = entry.get(side)
        if not isinstance(value, str) or not value:
            checker.error(
                entry.line_of(side),
                node_label,
                _("'%(side)s' に項目IDを文字列で指定してください（数字だけのIDは引用符で囲んでください）")
                % {"side": side},
            )
            return None
        if ids is not None and value not in ids:
            label = _("対応元") if side == "source" else _("対応先")
            checker.error(
                entry.line_of(side),
                value,
                _("%(label)s '%(value)s' は版 '%(edition)s' にありません")
                % {"label": label, "value": value, "edition": edition},
            )
        ends[side] = value
    if "relation" not in entry or "basis" not in entry:
        checker.error(entry.line, node_label, _("'relation' と 'basis' は必須です"))
    relation = checker.choice(entry, "relation", domain.RELATIONS, node_label, _("関係（relation）"))
    basis = checker.choice(entry, "basis", domain.BASES, node_label, _("根拠（basis）"))
    if not relation or not basis:
        return None
    return domain.MappingSpec(
        ends["source"],
        ends["target"],
        relation,
        basis,
        checker.text(entry, "rationale", node_label),
        entry.line,
    )


# --- answer schemas -----------------------------------------------------------------------------


def _answer_schemas(checker: _Checker, root: LMap) -> domain.ParsedAnswerSchemas | None:
    raw = root.get("answer_schemas")
    if not isinstance(raw, LList) or not raw:
        checker.error(root.line_of("answer_schemas"), "", _("'answer_schemas' に要素がありません"))
        return None
    schemas: list[domain.AnswerSchemaSpec] = []
    seen: dict[str, int | None] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, LMap):
            checker.error(
                raw.line_at(index), "", _("answer_schemas の各要素は key: value の形で書いてください")
            )
            continue
        key = entry.get("id")
        if not isinstance(key, str) or not domain.SLUG.match(key):
            checker.error(
                entry.line_of("id"),
                str(key or ""),
                _("回答形式の id は英数字・ハイフン・下線で指定してください"),
            )
            continue
        checker.unknown_keys(entry, _SCHEMA_KEYS, key)
        if key in seen:
            checker.error(
                entry.line_of("id"),
                key,
                _("回答形式 '%(key)s' が重複しています（最初は %(first_line)s 行目）")
                % {"key": key, "first_line": seen[key]},
            )
            continue
        seen[key] = entry.line
        options = entry.get("options")
        parsed_options: list[dict[str, str]] = []
        if not isinstance(options, LList) or not options:
            checker.error(entry.line_of("options"), key, _("'options' に選択肢のリストを指定してください"))
        else:
            values: set[str] = set()
            for position, option in enumerate(options):
                value = option.get("value") if isinstance(option, LMap) else None
                label = option.get("label") if isinstance(option, LMap) else None
                if not isinstance(value, str) or not isinstance(label, str) or not value or not label:
                    checker.error(
                        options.line_at(position),
                        key,
                        _(
                            "選択肢には value と label（文字列）が必要です（yes / no"
                            " は引用符で囲んでください）"
                        ),
                    )
                elif value in values:
                    checker.error(
                        options.line_at(position),
                        key,
                        _("選択肢の値 '%(value)s' が重複しています") % {"value": value},
                    )
                else:
                    values.add(value)
                    parsed_options.append({"value": value, "label": label})
        schemas.append(
            domain.AnswerSchemaSpec(
                key=key,
                label=checker.text(entry, "label", key, required=True, max_length=200, blank_ok=False),
                options=parsed_options,
                remarks=checker.boolean(entry, "remarks", key),
                line=entry.line,
            )
        )
    return domain.ParsedAnswerSchemas(checker.file, schemas)
