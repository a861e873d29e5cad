"""Safe YAML reading that keeps line numbers (pure, no ORM).

Library files come from outside (a user's `anzen library load FILE`), so reading them is defensive:
a size cap, safe constructors only (no Python tags), no anchors or aliases (no "billion laughs"),
a nesting cap, and duplicate keys are errors instead of silently overwriting. PyYAML's composer
gives every node its start mark; mappings and lists remember the line of each key / element.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from django.utils.translation import gettext as _
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 200_000


class YamlProblem(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class LMap(dict[str, Any]):
    """A mapping with the line of the mapping itself and of each key (1-based)."""

    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key, self.line)


class LList(list[Any]):
    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []

    def line_at(self, index: int) -> int | None:
        return self.lines[index] if index < len(self.lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer refuses anchors/aliases and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._count = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, AliasEvent):
            raise YamlProblem(_("エイリアス（*）は使用できません（展開による肥大化を防ぐため）"), line)
        if isinstance(event, ScalarEvent | MappingStartEvent | SequenceStartEvent) and event.anchor:
            raise YamlProblem(_("アンカー（&）は使用できません"), line)
        self._count += 1
        if self._count > MAX_NODES:
            raise YamlProblem(_("要素が多すぎます（上限 %(max_nodes)s）") % {"max_nodes": MAX_NODES}, line)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlProblem(
                    _("入れ子が深すぎます（上限 %(max_depth)s 段）") % {"max_depth": MAX_DEPTH}, line
                )
            return super().compose_node(parent, index)  # type: ignore[return-value]
        finally:
            self._depth -= 1


def _line(node: Node) -> int:
    return node.start_mark.line + 1


_ALLOWED_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


def _convert(loader: _Loader, node: Node) -> Any:
    if node.tag not in _ALLOWED_TAGS:
        raise YamlProblem(_("タグ '%(tag)s' は使用できません") % {"tag": node.tag}, _line(node))
    if isinstance(node, MappingNode):
        result = LMap()
        result.line = _line(node)
        for key_node, value_node in node.value:
            key = _convert(loader, key_node)
            if not isinstance(key, str):
                raise YamlProblem(
                    _("キーは文字列にしてください（%(key)s）") % {"key": repr(key)}, _line(key_node)
                )
            if key in result:
                raise YamlProblem(
                    _("キー '%(key)s' が重複しています（最初は %(first_line)s 行目）")
                    % {"key": key, "first_line": result.lines[key]},
                    _line(key_node),
                )
            result[key] = _convert(loader, value_node)
            result.lines[key] = _line(key_node)
        return result
    if isinstance(node, SequenceNode):
        items = LList()
        items.line = _line(node)
        for child in node.value:
            items.append(_convert(loader, child))
            items.lines.append(_line(child))
        return items
    if isinstance(node, ScalarNode):
        value = loader.construct_object(node, deep=True)
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if isinstance(value, bytes):
            raise YamlProblem(_("バイナリ値は使用できません"), _line(node))
        return value
    raise YamlProblem(_("解釈できない要素です"), _line(node))  # pragma: no cover - composer yields only these


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)  # libyaml: same safe constructors, much faster


def _check_events(text: str) -> None:
    """First pass over the events (in C): no anchors or aliases, bounded depth and size."""
    assert _FAST_LOADER is not None
    loader = _FAST_LOADER(text)
    depth = count = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, AliasEvent):
                raise YamlProblem(_("エイリアス（*）は使用できません（展開による肥大化を防ぐため）"), line)
            if isinstance(event, ScalarEvent | MappingStartEvent | SequenceStartEvent):
                if event.anchor:
                    raise YamlProblem(_("アンカー（&）は使用できません"), line)
                count += 1
                if count > MAX_NODES:
                    raise YamlProblem(
                        _("要素が多すぎます（上限 %(max_nodes)s）") % {"max_nodes": MAX_NODES}, line
                    )
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlProblem(
                        _("入れ子が深すぎます（上限 %(max_depth)s 段）") % {"max_depth": MAX_DEPTH}, line
                    )
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def load(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Parse one YAML document into LMap / LList / scalars, or raise YamlProblem."""
    if len(data) > max_bytes:
        raise YamlProblem(
            _("ファイルが大きすぎます（%(size)s バイト、上限 %(max_bytes)s バイト）")
            % {"size": format(len(data), ","), "max_bytes": format(max_bytes, ",")},
            None,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise YamlProblem(_("UTF-8 として読めません（文字コードを確認してください）"), line) from error
    loader: Any = None
    try:
        if _FAST_LOADER is not None:
            _check_events(text)
            loader = _FAST_LOADER(text)
        else:  # pragma: no cover - PyYAML without libyaml
            loader = _Loader(text)
        root = loader.get_single_node()
        if root is None:
            raise YamlProblem(_("ファイルが空です"), 1)
        return _convert(loader, root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        mark_line = mark.line + 1 if mark else None
        detail = error.problem or error.context or str(error)
        raise YamlProblem(_("YAMLの構文エラー: %(detail)s") % {"detail": detail}, mark_line) from error
    except yaml.YAMLError as error:
        raise YamlProblem(_("YAMLの構文エラー: %(error)s") % {"error": error}, None) from error
    except RecursionError as error:
        raise YamlProblem(
            _("入れ子が深すぎます（上限 %(max_depth)s 段）") % {"max_depth": MAX_DEPTH}, None
        ) from error
    finally:
        if loader is not None:
            loader.dispose()
