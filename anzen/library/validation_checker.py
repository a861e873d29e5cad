"""The building blocks of library-file validation (pure, no ORM): typed reads that report problems.

`Checker` reads values out of the located YAML tree (yamlsafe.LMap / LList) and records an `Issue`
with file, line and node id for every value of the wrong type or form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from anzen.library import domain
from anzen.library.domain import Issue
from anzen.library.yamlsafe import LList, LMap

MAX_TEXT = 10_000
MAX_REF = 60
MAX_TOPIC = 300
MAX_TITLE = 300
MAX_NODES = 20_000
MAX_DEPTH = 20
MIN_YEAR, MAX_YEAR = 1900, 2200


@dataclass
class Result:
    file: str
    parsed: domain.Parsed | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues and self.parsed is not None


class Checker:
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
