"""The life of a finding as pure rules: manual status changes, risk-acceptance expiry, rematch diffs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anzen.vulns import lifecycle as lc

TODAY = dt.date(2026, 4, 1)


@pytest.mark.parametrize(("current", "target", "note", "until"), [
    ("new", "mitigated", "ACL で接続元を制限", None),
    ("notified", "risk_accepted", "更新は来年度", dt.date(2026, 4, 2)),
    ("answered", "false_positive", "該当機能を使っていない", None),
    ("new", "fixed", "", None),
    ("mitigated", "fixed", "", None),
    ("risk_accepted", "new", "", None),
    ("false_positive", "new", "", None),
    ("fixed", "new", "", None),
])
def test_allowed_transitions(current: str, target: str, note: str, until: dt.date | None) -> None:
    lc.check_transition(current, target, note=note, until=until, today=TODAY)


@pytest.mark.parametrize(("current", "target", "note", "until", "message"), [
    ("new", "notified", "", None, "手動で変更できません"),
    ("new", "answered", "", None, "手動で変更できません"),
    ("notified", "new", "", None, "対応中"),
    ("new", "new", "", None, "すでに"),
    ("mitigated", "mitigated", "x", None, "すでに"),
    ("fixed", "mitigated", "x", None, "再オープン"),
    ("new", "mitigated", "  ", None, "理由"),
    ("new", "false_positive", "", None, "理由"),
    ("new", "risk_accepted", "x", None, "期限"),
    ("new", "risk_accepted", "x", TODAY, "明日以降"),
    ("new", "fixed", "", TODAY + dt.timedelta(days=3), "リスク受容だけ"),
    ("bogus", "fixed", "", None, "不明"),
])
def test_refused_transitions(current: str, target: str, note: str, until: dt.date | None, message: str) -> None:
    with pytest.raises(lc.TransitionError, match=message):
        lc.check_transition(current, target, note=note, until=until, today=TODAY)


def test_a_risk_acceptance_holds_through_its_date_and_expires_the_day_after() -> None:
    until = dt.date(2026, 6, 30)
    assert not lc.acceptance_expired("risk_accepted", until, until)
    assert lc.acceptance_expired("risk_accepted", until, until + dt.timedelta(days=1))
    assert not lc.acceptance_expired("mitigated", until, until + dt.timedelta(days=1))
    assert not lc.acceptance_expired("risk_accepted", None, until)


def cand(device: int, cve: str, *, score: str = "9.8", confidence: str = "confirmed", reason: str = "r",
         identity: str = "cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*") -> lc.Candidate:
    return lc.Candidate(device, cve, identity, confidence, reason, Decimal(score), "critical", False)


def stored(fid: int, candidate: lc.Candidate, status: str = "new") -> lc.Existing:
    return lc.Existing(fid, candidate.device_id, candidate.cve_id, status, candidate.identity, candidate.confidence,
                       candidate.reason, candidate.score, candidate.severity, candidate.kev)


def test_diff_creates_updates_reopens_and_closes() -> None:
    a, b, c, d, e = (cand(1, "CVE-A"), cand(1, "CVE-B"), cand(2, "CVE-A"), cand(3, "CVE-C"), cand(4, "CVE-D"))
    existing = {
        (1, "CVE-A"): stored(10, a),  # unchanged
        (1, "CVE-B"): stored(11, cand(1, "CVE-B", score="7.5")),  # re-scored
        (2, "CVE-A"): stored(12, c, "fixed"),  # matched again
        (5, "CVE-E"): stored(13, cand(5, "CVE-E"), "notified"),  # no longer matches
        (6, "CVE-F"): stored(14, cand(6, "CVE-F"), "false_positive"),  # stays a false positive
        (7, "CVE-G"): stored(15, cand(7, "CVE-G"), "fixed"),  # already fixed
        (4, "CVE-D"): stored(16, cand(4, "CVE-D", reason="old reason")),  # new reason only
    }
    result = lc.diff({(x.device_id, x.cve_id): x for x in (a, b, c, d, e)}, existing)
    assert [x.cve_id for x in result.create] == ["CVE-C"]
    assert sorted(found.finding_id for found, _ in result.update) == [11, 16]
    assert result.rescored == {11}
    assert [found.finding_id for found, _ in result.reopen] == [12]
    assert [found.finding_id for found in result.close] == [13]
    assert result.changed
    assert not lc.diff({(1, "CVE-A"): a}, {(1, "CVE-A"): stored(10, a)}).changed


def test_best_prefers_confirmed_then_the_first_cpe_name() -> None:
    possible = cand(1, "CVE-A", confidence="possible", identity="cpe:2.3:a:a:a:1:*:*:*:*:*:*:*")
    confirmed_b = cand(1, "CVE-A", identity="cpe:2.3:a:b:b:1:*:*:*:*:*:*:*")
    confirmed_c = cand(1, "CVE-A", identity="cpe:2.3:a:c:c:1:*:*:*:*:*:*:*")
    assert lc.best([confirmed_c, possible, confirmed_b]) is confirmed_b


keys = st.tuples(st.integers(1, 6), st.sampled_from(["CVE-A", "CVE-B", "CVE-C"]))


@given(st.dictionaries(keys, st.sampled_from(["7.5", "9.8"])), st.dictionaries(keys, st.sampled_from(lc.STATUSES)))
def test_applying_a_diff_leaves_exactly_the_matched_keys_open(now: dict, before: dict) -> None:
    candidates = {k: cand(k[0], k[1], score=s) for k, s in now.items()}
    existing = {k: stored(i, cand(k[0], k[1]), status) for i, (k, status) in enumerate(before.items())}
    result = lc.diff(candidates, existing)
    after = {k: e.status for k, e in existing.items()}
    after.update({(x.device_id, x.cve_id): "new" for x in result.create})
    after.update({(e.device_id, e.cve_id): "new" for e, _ in result.reopen})
    after.update({(e.device_id, e.cve_id): "fixed" for e in result.close})
    for key, status in after.items():
        if key in candidates:
            assert status != "fixed"
        else:
            assert status in ("fixed", "false_positive")
    assert lc.diff(candidates, {k: stored(0, candidates[k], s) for k, s in after.items() if k in candidates}
                   | {k: stored(0, cand(*k), s) for k, s in after.items() if k not in candidates}).create == []
