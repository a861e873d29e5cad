"""The hash chain of the audit trail, as pure functions (no ORM).

Each entry's hash is SHA-256 over a canonical JSON of its fields and the previous entry's hash,
so editing or removing any entry breaks every link after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq", "at", "action", "actor_id", "actor_label", "organisation_id", "organisation_label",
    "object_type", "object_id", "object_repr", "before", "after", "message", "client_ip", "source",
    "prev_hash",
)


def canonical(payload: Mapping[str, Any]) -> bytes:
    data = {name: payload.get(name) for name in HASHED_FIELDS}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(entries: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str) -> ChainReport:
    """Walk entries in seq order; report the first one that was changed, removed or inserted."""
    expected_seq, expected_prev, checked = 1, GENESIS, 0
    for entry in entries:
        seq = entry["seq"]
        if seq != expected_seq:
            return ChainReport(checked, ChainProblem(expected_seq, "missing"))
        if entry["prev_hash"] != expected_prev:
            return ChainReport(checked, ChainProblem(seq, "broken_link"))
        if entry_hash(entry) != entry["hash"]:
            return ChainReport(checked, ChainProblem(seq, "altered"))
        expected_prev, expected_seq, checked = entry["hash"], seq + 1, checked + 1
    if head_seq != expected_seq - 1 or (head_seq and head_hash != expected_prev):
        return ChainReport(checked, ChainProblem(expected_seq, "truncated"))
    return ChainReport(checked, None)
