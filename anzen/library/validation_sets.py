"""Validation of mapping sets and answer schemas (pure, no ORM)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from anzen.library import domain
from anzen.library.domain import Knowledge
from anzen.library.validation_checker import MAX_TITLE, Checker
from anzen.library.yamlsafe import LList, LMap

_SET_KEYS = {"id", "title", "source_edition", "target_edition", "sources", "notes"}
_MAPPING_KEYS = {"source", "target", "relation", "basis", "rationale"}
_SCHEMA_KEYS = {"id", "label", "options", "remarks"}


# --- mapping sets -------------------------------------------------------------------------------


def mapping_set(checker: Checker, root: LMap, knowledge: Knowledge) -> domain.ParsedMappingSet | None:
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
    checker: Checker,
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


def answer_schemas(checker: Checker, root: LMap) -> domain.ParsedAnswerSchemas | None:
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
