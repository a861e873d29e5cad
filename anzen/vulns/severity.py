"""Which CVSS score Anzen uses for a CVE, and its Japanese severity label (pure, no ORM).

`metrics` is an NVD API 2.0 `metrics` object (``cvssMetricV31``, ``cvssMetricV30``, ``cvssMetricV40``,
``cvssMetricV2``: lists of ``{source, type, cvssData: {version, vectorString, baseScore}}``) into which the
import merges every source: NVD's own entries (type ``Primary``), the CNA's (``Secondary``), ADPs such as
CISA's (``ADP``) and JVN iPedia's (``JVN``).

The score used is, in this order: NVD primary v3.1, NVD primary v3.0, CNA v3.x, ADP v3.x, JVN v3.x, then
any v4.0 (NVD, CNA, ADP, JVN); CVSS v2 only when nothing else exists, and flagged (`v2_only`).

Labels (data/severity-jvn.yaml, from seed 003 / JVN iPedia): 緊急 9.0–10.0, 重要 7.0–8.9, 警告 4.0–6.9,
注意 0.1–3.9, なし 0.0. A CVE without any score is 未評価 (key "").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).with_name("data") / "severity-jvn.yaml"
UNSCORED = ""

NVD, CNA, ADP, JVN = "nvd", "cna", "adp", "jvn"
_V3_ORDER = ((NVD, "3.1"), (NVD, "3.0"), (CNA, "3.1"), (CNA, "3.0"), (ADP, "3.1"), (ADP, "3.0"),
             (JVN, "3.1"), (JVN, "3.0"))
_SOURCE_ORDER = (NVD, CNA, ADP, JVN)
METRIC_KEYS = {"cvssMetricV40": "4.0", "cvssMetricV31": "3.1", "cvssMetricV30": "3.0", "cvssMetricV2": "2.0"}
KEY_OF_VERSION = {version: key for key, version in METRIC_KEYS.items()}  # "3.1" → "cvssMetricV31"


@dataclass(frozen=True)
class Level:
    key: str
    label_ja: str
    label_en: str
    min: Decimal
    max: Decimal


@dataclass(frozen=True)
class Entry:
    """One CVSS score kept on a CVE."""

    source: str  # nvd | cna | adp | jvn
    origin: str  # who: nvd@nist.gov, psirt@fortinet.com, CISA-ADP, JVN iPedia …
    version: str  # 2.0 | 3.0 | 3.1 | 4.0
    value: Decimal
    vector: str


@dataclass(frozen=True)
class Score:
    """The score used for a CVE: value, CVSS version, which source gave it, the label key and the v2 flag."""

    value: Decimal | None
    version: str
    source: str
    label: str
    v2_only: bool = False

    @property
    def label_ja(self) -> str:
        return label_ja(self.label)


@cache
def levels() -> tuple[Level, ...]:
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    found = tuple(Level(str(item["key"]), str(item["label_ja"]), str(item["label_en"]), Decimal(str(item["min"])),
                        Decimal(str(item["max"]))) for item in data["levels"])
    return tuple(sorted(found, key=lambda level: level.min, reverse=True))


def label_for(value: Decimal | float | str | None) -> str:
    """The label key (critical, high, medium, low, none) of a base score; "" when there is none."""
    if value is None or value == "":
        return UNSCORED
    try:
        score = Decimal(str(value))
    except InvalidOperation:
        return UNSCORED
    for level in levels():
        if score >= level.min:
            return level.key
    return UNSCORED


def label_ja(key: str) -> str:
    """緊急 / 重要 / 警告 / 注意 / なし, or 未評価 for no score."""
    for level in levels():
        if level.key == key:
            return level.label_ja
    return "未評価"


def label(key: str) -> str:
    """The label in the active language: 緊急 … なし in Japanese, Critical … None in English (screens, exports).
    `label_ja` stays Japanese whatever the language (notices to vendors, the CLI's JSON `label`)."""
    from django.utils import translation

    return label_en(key) if (translation.get_language() or "ja").startswith("en") else label_ja(key)


def label_en(key: str) -> str:
    for level in levels():
        if level.key == key:
            return level.label_en
    return "Not scored"


def classify(entry: Mapping[str, Any]) -> str:
    """nvd / cna / adp / jvn for one NVD-form metric entry."""
    kind = str(entry.get("type", "")).lower()
    origin = str(entry.get("source", "")).lower()
    if kind == "jvn" or "jvn" in origin:
        return JVN
    if kind == "primary":
        return NVD
    if kind == "adp":
        return ADP
    return CNA


def metric_items(metrics: Mapping[str, Any] | None) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(metric key, entry) for every well-formed entry of an NVD-form metrics object; malformed lists and
    entries are passed over."""
    for metric_key, items in (metrics or {}).items():
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping):
                    yield metric_key, item


def entries(metrics: Mapping[str, Any] | None) -> list[Entry]:
    """Every score in an NVD-form metrics object, flattened."""
    found: list[Entry] = []
    for metric_key, item in metric_items(metrics):
        data = item.get("cvssData") or {}
        raw = data.get("baseScore")
        if raw is None:
            continue
        try:
            value = Decimal(str(raw)).quantize(Decimal("0.1"))
        except InvalidOperation:
            continue
        version = str(data.get("version") or METRIC_KEYS.get(metric_key, ""))
        if version.startswith("2"):
            version = "2.0"
        found.append(Entry(classify(item), str(item.get("source", "")), version, value,
                           str(data.get("vectorString", ""))))
    return found


def _pick(all_entries: Iterable[Entry], source: str, version: str) -> Entry | None:
    for entry in all_entries:
        if entry.source == source and entry.version == version:
            return entry
    return None


def choose(metrics: Mapping[str, Any] | None) -> Score:
    """The score Anzen uses for a CVE (see the module docstring for the order)."""
    found = entries(metrics)
    for source, version in _V3_ORDER:
        entry = _pick(found, source, version)
        if entry:
            return Score(entry.value, entry.version, entry.source, label_for(entry.value))
    for version, v2 in (("4.0", False), ("2.0", True)):
        for source in _SOURCE_ORDER:
            entry = _pick(found, source, version)
            if entry:
                return Score(entry.value, entry.version, entry.source, label_for(entry.value), v2_only=v2)
    return Score(None, "", "", UNSCORED)


def merge(*metric_objects: Mapping[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """Several NVD-form metrics objects as one; an entry equal in type, version, vector and score to one
    already kept (NVD's copy of the CNA's score, say) is not repeated."""
    merged: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for metrics in metric_objects:
        for metric_key, item in metric_items(metrics):
            data = item.get("cvssData") or {}
            kind = classify(item)
            fingerprint = (kind if kind in (NVD, JVN) else CNA, metric_key, str(data.get("vectorString", "")),
                           str(data.get("baseScore", "")))
            if fingerprint in seen:
                continue
            seen.add(fingerprint)
            merged.setdefault(metric_key, []).append(dict(item))
    return merged
