"""Contract duties as pure rules (no ORM): which findings a vendor contract turns into notices, with
which deadlines, and when a notice is overdue.

A contract between an institution and a vendor carries notification rules (data, defaulting to the
seed's example clause: CVSS ≥ 7 → report, response agreed; CVSS ≥ 9 → urgent notice with a
countermeasure; see watch_data/contract-rules-default.yaml), which CVSS score counts, and which
devices it covers (named devices, the devices of named systems, the devices of every system the
vendor supplies or maintains remotely, or every device of given kinds such as network equipment).

Notices group findings per (contract, CVE): the vendor gets one notice for CVE-2018-13379 listing
both FortiGates. A higher level (report → urgent, after a re-score) is a new notice; a finding on one
more device joins the existing notice of its level.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anzen.vulns import lifecycle, severity

DEFAULTS_FILE = Path(__file__).with_name("watch_data") / "contract-rules-default.yaml"

REPORT = "report"
URGENT = "urgent"
LEVELS = {REPORT: 1, URGENT: 2}
LEVEL_LABELS = {REPORT: gettext_lazy("報告"), URGENT: gettext_lazy("緊急通知")}

SCORE_SOURCES = {
    "chosen": gettext_lazy("Anzen の採用スコア（NVD v3.1 → v3.0 → CNA → JVN → v4.0 → v2）"),
    "nvd": gettext_lazy("NVD（Primary）の CVSS v3"),
    "cna": gettext_lazy("CNA（Secondary）の CVSS v3"),
    "jvn": gettext_lazy("JVN の CVSS v3"),
    "max": gettext_lazy("全ソースのうち最も高い値"),
}
CONFIDENCES_NOTIFIED = frozenset({"confirmed", "possible"})  # "manual" findings are never sent automatically


class RuleError(ValueError):
    """Rules that cannot be used; the message is Japanese."""


@dataclass(frozen=True)
class Rule:
    level: str
    min_score: Decimal
    report_days: int
    countermeasure_days: int | None
    countermeasure_required: bool
    action: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "min_score": str(self.min_score), "report_days": self.report_days,
                "countermeasure_days": self.countermeasure_days,
                "countermeasure_required": self.countermeasure_required, "action": self.action}


@dataclass(frozen=True)
class Defaults:
    rules: tuple[Rule, ...]
    score_source: str
    include_possible: bool


def _int(value: Any, label: str, *, allow_none: bool = False) -> int | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise RuleError(_("%(label)s を入力してください。") % {"label": label})
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise RuleError(_("%(label)s は日数（整数）で入力してください。") % {"label": label}) from error
    if not 0 <= number <= 3650:
        raise RuleError(_("%(label)s は 0〜3650 日で入力してください。") % {"label": label})
    return number


def parse_rules(raw: Iterable[Mapping[str, Any]]) -> tuple[Rule, ...]:
    """Rules from their stored (JSON/YAML) form, checked; highest threshold first."""
    rules: list[Rule] = []
    for item in raw:
        level = str(item.get("level", ""))
        if level not in LEVELS:
            raise RuleError(_("通知の種類は「報告」か「緊急通知」です。"))
        try:
            min_score = Decimal(str(item.get("min_score"))).quantize(Decimal("0.1"))
        except (ArithmeticError, ValueError) as error:
            raise RuleError(_("しきい値は CVSS スコア（0.1〜10.0）で入力してください。")) from error
        if not Decimal("0.1") <= min_score <= Decimal("10.0"):
            raise RuleError(_("しきい値は CVSS スコア（0.1〜10.0）で入力してください。"))
        report_days = _int(item.get("report_days"), _("報告期限（日）"))
        counter_days = _int(item.get("countermeasure_days"), _("対応策の期限（日）"), allow_none=True)
        required = bool(item.get("countermeasure_required", False))
        if required and counter_days is None:
            raise RuleError(_("対応策を求める規則には対応策の期限（日）が必要です。"))
        rules.append(Rule(level, min_score, report_days or 0, counter_days, required, str(item.get("action", ""))))
    if not rules:
        raise RuleError(_("通知の規則が1つもありません。"))
    thresholds = [rule.min_score for rule in rules]
    if len(set(thresholds)) != len(thresholds):
        raise RuleError(_("同じしきい値の規則が重複しています。"))
    rules.sort(key=lambda rule: rule.min_score, reverse=True)
    for higher, lower in pairwise(rules):
        if LEVELS[higher.level] < LEVELS[lower.level]:
            raise RuleError(_("しきい値の高い規則ほど重い通知（緊急通知）にしてください。"))
    return tuple(rules)


@lru_cache(maxsize=1)
def defaults() -> Defaults:
    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return Defaults(parse_rules(data["rules"]), str(data.get("score_source", "chosen")),
                    bool(data.get("include_possible", True)))


def default_rules_data() -> list[dict[str, Any]]:
    return [rule.as_dict() for rule in defaults().rules]


def rule_for(score: Decimal | None, rules: Sequence[Rule]) -> Rule | None:
    """The strictest rule whose threshold the score reaches (rules sorted highest first)."""
    if score is None:
        return None
    for rule in rules:
        if score >= rule.min_score:
            return rule
    return None


def deadlines(rule: Rule, sent_on: dt.date) -> tuple[dt.date, dt.date | None]:
    """(report due, countermeasure due): calendar days counted from the day the notice is sent."""
    report = sent_on + dt.timedelta(days=rule.report_days)
    counter = sent_on + dt.timedelta(days=rule.countermeasure_days) if rule.countermeasure_days is not None else None
    return report, counter


# --- which score counts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreEntry:
    """One CVSS score of a CVE: who gave it (nvd, cna, jvn, adp), the CVSS version and the value."""

    source: str
    version: str
    value: Decimal


def _v3(entries: Iterable[ScoreEntry], source: str) -> Decimal | None:
    by_version = {e.version: e.value for e in entries if e.source == source and e.version.startswith("3")}
    return by_version.get("3.1", by_version.get("3.0"))


def contract_score(chosen: Decimal | None, entries: Sequence[ScoreEntry], source: str) -> Decimal | None:
    """The score a contract's rules compare with its thresholds, per the contract's `score_source`."""
    if source == "chosen":
        return chosen
    if source in ("nvd", "cna", "jvn"):
        return _v3(entries, source)
    if source == "max":
        modern = [e.value for e in entries if not e.version.startswith("2")]
        values = modern or [e.value for e in entries]
        return max(values) if values else chosen
    raise RuleError(_("スコアの採用元が不明です: %(source)s") % {"source": source})


def entries_from_metrics(metrics: Mapping[str, Any] | None) -> tuple[ScoreEntry, ...]:
    """Every CVSS score kept on a CVE, read from its NVD API 2.0 `metrics` object.

    Entries of type Primary are NVD's own; Secondary are the CNA's (or an ADP's such as CISA);
    entries whose source names JVN (or that sit under a `jvn` key) are JVN iPedia's.
    """
    found: list[ScoreEntry] = []
    for key, item in severity.metric_items(metrics):
        data = item.get("cvssData") or {}
        score = data.get("baseScore", item.get("baseScore"))
        if score is None:
            continue
        version = str(data.get("version") or _version_of_key(key))
        origin = str(item.get("source", "")).lower()
        kind = str(item.get("type", "")).lower()
        if "jvn" in origin or "jvn" in key.lower() or kind == "jvn":
            source = "jvn"
        elif kind == "primary" or origin == "nvd@nist.gov":
            source = "nvd"
        elif kind == "adp" or "cisa" in origin:
            source = "adp"
        else:
            source = "cna"
        try:
            found.append(ScoreEntry(source, version, Decimal(str(score)).quantize(Decimal("0.1"))))
        except ArithmeticError:
            continue
    return tuple(found)


def _version_of_key(key: str) -> str:
    digits = "".join(ch for ch in key if ch.isdigit())
    return {"31": "3.1", "30": "3.0", "40": "4.0", "2": "2.0"}.get(digits, "")


# --- coverage and notice planning -------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceFact:
    device_id: int
    kind: str
    system_ids: frozenset[int] = frozenset()
    system_vendor_ids: frozenset[int] = frozenset()  # vendor or remote-maintenance vendor of its systems


@dataclass(frozen=True)
class ContractFact:
    contract_id: int
    vendor_id: int
    rules: tuple[Rule, ...]
    score_source: str = "chosen"
    include_possible: bool = True
    device_ids: frozenset[int] = frozenset()
    system_ids: frozenset[int] = frozenset()
    device_kinds: frozenset[str] = frozenset()
    cover_vendor_systems: bool = True


def covers(contract: ContractFact, device: DeviceFact) -> bool:
    return (device.device_id in contract.device_ids
            or bool(contract.system_ids & device.system_ids)
            or device.kind in contract.device_kinds
            or (contract.cover_vendor_systems and contract.vendor_id in device.system_vendor_ids))


@dataclass(frozen=True)
class FindingFact:
    finding_id: int
    device_id: int
    cve_id: str
    status: str
    confidence: str
    score: Decimal | None  # the chosen score
    entries: tuple[ScoreEntry, ...] = ()


@dataclass(frozen=True)
class NoticeFact:
    notice_id: int
    contract_id: int
    cve_id: str
    level: str
    finding_ids: frozenset[int] = frozenset()


@dataclass
class PlannedNotice:
    contract_id: int
    cve_id: str
    rule: Rule
    score: Decimal
    finding_ids: list[int] = field(default_factory=list)
    notice_id: int | None = None  # an existing notice of this level gets the new findings

    @property
    def level(self) -> str:
        return self.rule.level


def plan(findings: Iterable[FindingFact], devices: Mapping[int, DeviceFact], contracts: Sequence[ContractFact],
         existing: Iterable[NoticeFact]) -> list[PlannedNotice]:
    """Notices to create (notice_id None) or to extend (new findings for an existing notice).

    Only open findings count (new, notified, answered); manual matches never go out on their own,
    possible ones only when the contract says so. Per (contract, CVE) the strictest rule reached by
    any of its findings decides the level; an existing notice of that level or above takes the
    findings it does not list yet, otherwise a new notice is planned.
    """
    notices: dict[tuple[int, str], list[NoticeFact]] = defaultdict(list)
    for notice in existing:
        notices[(notice.contract_id, notice.cve_id)].append(notice)
    grouped: dict[tuple[int, str], PlannedNotice] = {}
    for finding in findings:
        if finding.status not in lifecycle.OPEN or finding.confidence not in CONFIDENCES_NOTIFIED:
            continue
        device = devices.get(finding.device_id)
        if device is None:
            continue
        for contract in contracts:
            if finding.confidence == "possible" and not contract.include_possible:
                continue
            if not covers(contract, device):
                continue
            score = contract_score(finding.score, finding.entries, contract.score_source)
            rule = rule_for(score, contract.rules)
            if rule is None or score is None:
                continue
            key = (contract.contract_id, finding.cve_id)
            planned = grouped.get(key)
            if planned is None or LEVELS[rule.level] > LEVELS[planned.level]:
                ids = planned.finding_ids if planned else []
                planned = grouped[key] = PlannedNotice(contract.contract_id, finding.cve_id, rule, score, ids)
            if finding.finding_id not in planned.finding_ids:
                planned.finding_ids.append(finding.finding_id)
    result: list[PlannedNotice] = []
    for key, planned in grouped.items():
        sent = [n for n in notices.get(key, []) if LEVELS.get(n.level, 0) >= LEVELS[planned.level]]
        if sent:
            target = max(sent, key=lambda n: (LEVELS.get(n.level, 0), n.notice_id))
            known = set().union(*(n.finding_ids for n in sent))
            fresh = [fid for fid in planned.finding_ids if fid not in known]
            if not fresh:
                continue
            planned.notice_id = target.notice_id
            planned.finding_ids = fresh
        result.append(planned)
    result.sort(key=lambda p: (p.contract_id, -LEVELS[p.level], p.cve_id))
    return result


# --- overdue notices --------------------------------------------------------------------------------

SENT = "sent"
ANSWERED = "answered"
RETURNED = "returned"
ACCEPTED = "accepted"
WITHDRAWN = "withdrawn"
NOTICE_STATUS_LABELS = {
    SENT: gettext_lazy("回答待ち"),
    ANSWERED: gettext_lazy("回答あり（確認待ち）"),
    RETURNED: gettext_lazy("差戻し（再回答待ち）"),
    ACCEPTED: gettext_lazy("受理"),
    WITHDRAWN: gettext_lazy("取下げ"),
}
AWAITING_VENDOR = frozenset({SENT, RETURNED})
CLOSED_NOTICE = frozenset({ACCEPTED, WITHDRAWN})

REPORT_OVERDUE = "report_overdue"
COUNTERMEASURE_OVERDUE = "countermeasure_overdue"


@dataclass(frozen=True)
class NoticeDue:
    notice_id: int
    status: str
    report_due: dt.date
    countermeasure_due: dt.date | None
    countermeasure_required: bool
    has_countermeasure: bool  # an answer named a countermeasure (accepted or waiting for review)


def overdue(notice: NoticeDue, today: dt.date) -> tuple[str, ...]:
    """Which deadlines of a notice have passed without what was due (the day itself still counts)."""
    if notice.status in CLOSED_NOTICE:
        return ()
    late: list[str] = []
    if notice.status in AWAITING_VENDOR and today > notice.report_due:
        late.append(REPORT_OVERDUE)
    if (notice.countermeasure_required and notice.countermeasure_due is not None
            and not notice.has_countermeasure and today > notice.countermeasure_due):
        late.append(COUNTERMEASURE_OVERDUE)
    return tuple(late)
