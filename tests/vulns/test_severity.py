"""Which score Anzen uses and its Japanese label (seed 003 / JVN iPedia)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anzen.vulns import severity


def metric(kind: str, version: str, score: float, source: str = "") -> dict:
    return {"source": source or {"Primary": "nvd@nist.gov", "Secondary": "psirt@vendor.example",
                                 "ADP": "134c704f-9b21-4f2e-91b3-4a467353bcc0", "JVN": "JVN iPedia"}[kind],
            "type": kind, "cvssData": {"version": version, "baseScore": score, "vectorString": f"CVSS:{version}/x"}}


def metrics(*items: tuple[str, str, float]) -> dict:
    keys = {"3.1": "cvssMetricV31", "3.0": "cvssMetricV30", "4.0": "cvssMetricV40", "2.0": "cvssMetricV2"}
    found: dict = {}
    for kind, version, score in items:
        found.setdefault(keys[version], []).append(metric(kind, version, score))
    return found


@pytest.mark.parametrize(("value", "key", "label"), [
    ("10.0", "critical", "緊急"), ("9.0", "critical", "緊急"), ("8.9", "high", "重要"), ("7.0", "high", "重要"),
    ("6.9", "medium", "警告"), ("4.0", "medium", "警告"), ("3.9", "low", "注意"), ("0.1", "low", "注意"),
    ("0.0", "none", "なし"),
])
def test_labels_and_boundaries(value: str, key: str, label: str) -> None:
    assert severity.label_for(Decimal(value)) == key
    assert severity.label_ja(key) == label


def test_no_score_is_unscored() -> None:
    assert severity.label_for(None) == ""
    assert severity.label_ja("") == "未評価"
    assert severity.choose({}) == severity.Score(None, "", "", "")


@pytest.mark.parametrize(("given", "expected"), [
    # NVD primary v3.1 first, even when the CNA scores higher
    ([("Secondary", "3.1", 10.0), ("Primary", "3.1", 9.8), ("JVN", "3.0", 5.0)], ("9.8", "3.1", "nvd")),
    ([("Primary", "3.0", 6.8), ("Secondary", "3.1", 8.1), ("Primary", "2.0", 5.2)], ("6.8", "3.0", "nvd")),
    ([("Secondary", "3.1", 7.4), ("JVN", "3.0", 5.3), ("Primary", "4.0", 9.3)], ("7.4", "3.1", "cna")),
    ([("JVN", "3.0", 5.3), ("Secondary", "4.0", 9.3), ("Primary", "2.0", 10.0)], ("5.3", "3.0", "jvn")),
    ([("Secondary", "4.0", 9.3), ("Primary", "2.0", 10.0)], ("9.3", "4.0", "cna")),
])
def test_score_order(given: list, expected: tuple) -> None:
    score = severity.choose(metrics(*given))
    assert (str(score.value), score.version, score.source) == expected
    assert not score.v2_only


def test_v2_only_when_nothing_else_and_flagged() -> None:
    score = severity.choose(metrics(("Primary", "2.0", 9.3)))
    assert score.v2_only and score.value == Decimal("9.3") and score.label_ja == "緊急"


def test_merge_keeps_every_source_once() -> None:
    nvd = metrics(("Primary", "3.1", 9.8), ("Secondary", "3.1", 9.8))
    cna = metrics(("Secondary", "3.1", 9.8), ("Secondary", "4.0", 9.3))
    jvn = metrics(("JVN", "3.0", 9.8))
    merged = severity.merge(nvd, cna, jvn)
    kinds = sorted((key, item["type"]) for key, items in merged.items() for item in items)
    assert kinds == [("cvssMetricV30", "JVN"), ("cvssMetricV31", "Primary"), ("cvssMetricV31", "Secondary"),
                     ("cvssMetricV40", "Secondary")]


def test_label_follows_the_active_language() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert severity.label("critical") == "Critical" and severity.label("") == "Not scored"
    with translation.override("ja"):
        assert severity.label("critical") == "緊急" and severity.label("none") == "なし"
