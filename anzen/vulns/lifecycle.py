"""The life of a finding, as pure rules (no ORM): statuses, who may move a finding where, when a risk
acceptance expires, and what a rematch changes (create, update, reopen, close).

Status flow::

    new ──(notice sent)──▶ notified ──(vendor answers)──▶ answered
     │                        │                              │
     └────────────┬───────────┴──────────────┬───────────────┘
                  ▼                          ▼
      mitigated / risk_accepted (until a date) / false_positive / fixed
                  │
                  └── reopen ──▶ new   (by hand; automatically when an acceptance expires, or when a
                                        fixed finding is matched again)

A finding that no longer matches (software upgraded, CVE configuration corrected, device retired) is
closed as fixed with the reason; it is never deleted. False positives stay false positives whatever
the matcher says: that is the point of marking them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NEW = "new"
NOTIFIED = "notified"
ANSWERED = "answered"
MITIGATED = "mitigated"
RISK_ACCEPTED = "risk_accepted"
FALSE_POSITIVE = "false_positive"
FIXED = "fixed"

STATUS_LABELS = {
    NEW: gettext_lazy("新規"),
    NOTIFIED: gettext_lazy("事業者に通知済み"),
    ANSWERED: gettext_lazy("事業者回答あり"),
    MITIGATED: gettext_lazy("緩和策実施済み"),
    RISK_ACCEPTED: gettext_lazy("リスク受容"),
    FALSE_POSITIVE: gettext_lazy("誤検知"),
    FIXED: gettext_lazy("解消"),
}
STATUSES = tuple(STATUS_LABELS)
OPEN = frozenset({NEW, NOTIFIED, ANSWERED})  # still needs someone to act
# What the institution may set by hand (NOTIFIED and ANSWERED follow the notices).
MANUAL_TARGETS = frozenset({MITIGATED, RISK_ACCEPTED, FALSE_POSITIVE, FIXED, NEW})
NEEDS_NOTE = frozenset({MITIGATED, RISK_ACCEPTED, FALSE_POSITIVE})
# Statuses a rematch leaves alone when the finding no longer matches.
KEPT_WHEN_UNMATCHED = frozenset({FIXED, FALSE_POSITIVE})

CONFIDENCE_RANK = {"confirmed": 0, "possible": 1, "manual": 2}


class TransitionError(ValueError):
    """A status change that the rules refuse; the message is Japanese and shown as is."""


def check_transition(current: str, target: str, *, note: str = "", until: dt.date | None = None,
                     today: dt.date) -> None:
    """Raise TransitionError unless the institution may move a finding from `current` to `target`."""
    if target not in MANUAL_TARGETS:
        raise TransitionError(_("この状態には手動で変更できません（通知・回答に連動します）。"))
    if current not in STATUS_LABELS:
        raise TransitionError(_("現在の状態が不明です。"))
    if target == current:
        raise TransitionError(_("すでにこの状態です。"))
    if target == NEW and current in OPEN:
        raise TransitionError(_("対応中の検出は再オープンできません。"))
    if current == FIXED and target != NEW:
        raise TransitionError(_("解消済みの検出は、再オープンしてから変更してください。"))
    if target in NEEDS_NOTE and not (note or "").strip():
        raise TransitionError(_("理由・内容を入力してください。"))
    if target == RISK_ACCEPTED:
        if until is None:
            raise TransitionError(_("リスク受容には期限（見直し日）が必要です。"))
        if until <= today:
            raise TransitionError(_("リスク受容の期限は明日以降の日付にしてください。"))
    elif until is not None:
        raise TransitionError(_("期限を指定できるのはリスク受容だけです。"))


def acceptance_expired(status: str, until: dt.date | None, today: dt.date) -> bool:
    """A risk acceptance holds through its `until` date and reopens the day after."""
    return status == RISK_ACCEPTED and until is not None and today > until


# --- rematch ------------------------------------------------------------------------------------------

Key = tuple[int, str]  # (device id, CVE id)


@dataclass(frozen=True)
class Candidate:
    """What the matcher says now about one device and one CVE."""

    device_id: int
    cve_id: str
    identity: str  # the CPE 2.3 name of the software that matched
    confidence: str
    reason: str
    score: Decimal | None
    severity: str
    kev: bool


@dataclass(frozen=True)
class Existing:
    """The stored finding for the same key (only the fields a rematch compares)."""

    finding_id: int
    device_id: int
    cve_id: str
    status: str
    identity: str
    confidence: str
    reason: str
    score: Decimal | None
    severity: str
    kev: bool


@dataclass
class Diff:
    create: list[Candidate] = field(default_factory=list)
    update: list[tuple[Existing, Candidate]] = field(default_factory=list)  # same status, new facts
    rescored: set[int] = field(default_factory=set)  # finding ids of `update` whose score or label changed
    reopen: list[tuple[Existing, Candidate]] = field(default_factory=list)  # fixed → new
    close: list[Existing] = field(default_factory=list)  # open (or mitigated/accepted) → fixed

    @property
    def changed(self) -> bool:
        return bool(self.create or self.update or self.reopen or self.close)


def _same(existing: Existing, candidate: Candidate) -> bool:
    return (existing.identity == candidate.identity and existing.confidence == candidate.confidence
            and existing.reason == candidate.reason and existing.score == candidate.score
            and existing.severity == candidate.severity and existing.kev == candidate.kev)


def diff(candidates: Mapping[Key, Candidate], existing: Mapping[Key, Existing]) -> Diff:
    """What a rematch must write so that the stored findings for these keys say what the matcher says.

    Both mappings must cover the same ground (the same devices and CVEs were looked at): a key in
    `existing` and not in `candidates` means "no longer matches".
    """
    result = Diff()
    for key, candidate in candidates.items():
        found = existing.get(key)
        if found is None:
            result.create.append(candidate)
        elif found.status == FIXED:
            result.reopen.append((found, candidate))
        elif not _same(found, candidate):
            result.update.append((found, candidate))
            if found.score != candidate.score or found.severity != candidate.severity:
                result.rescored.add(found.finding_id)
    for key, found in existing.items():
        if key not in candidates and found.status not in KEPT_WHEN_UNMATCHED:
            result.close.append(found)
    return result


def best(candidates: Iterable[Candidate]) -> Candidate:
    """One device may hit the same CVE through several software rows: keep the most certain one
    (confirmed before possible before manual), then the first CPE name, so reruns agree."""
    return min(candidates, key=lambda c: (CONFIDENCE_RANK.get(c.confidence, 9), c.identity))
