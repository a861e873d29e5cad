"""Contract duties as pure rules: defaults from the seed, thresholds, score sources, coverage, notice
planning (grouping, upgrades, new devices), deadlines and overdue notices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from anzen.vulns import contracts as c

D = Decimal
DAY = dt.date(2026, 4, 1)


def test_defaults_are_the_seed_example_clause() -> None:
    rules = c.defaults().rules
    assert [(r.level, r.min_score) for r in rules] == [("urgent", D("9.0")), ("report", D("7.0"))]
    urgent, report = rules
    assert urgent.countermeasure_required and urgent.countermeasure_days is not None
    assert "対応策を提示" in urgent.action
    assert not report.countermeasure_required and report.countermeasure_days is None
    assert "協議" in report.action
    assert c.defaults().score_source == "chosen"


@pytest.mark.parametrize(("score", "level"), [
    (D("10.0"), "urgent"), (D("9.0"), "urgent"), (D("8.9"), "report"), (D("7.0"), "report"),
    (D("6.9"), None), (D("0.0"), None), (None, None),
])
def test_rule_for_takes_the_strictest_threshold_reached(score: Decimal | None, level: str | None) -> None:
    rule = c.rule_for(score, c.defaults().rules)
    assert (rule.level if rule else None) == level


def test_deadlines_count_calendar_days_from_the_day_sent() -> None:
    urgent, report = c.defaults().rules
    assert c.deadlines(urgent, DAY) == (DAY + dt.timedelta(days=urgent.report_days),
                                         DAY + dt.timedelta(days=urgent.countermeasure_days or 0))
    assert c.deadlines(report, dt.date(2026, 12, 25)) == (dt.date(2027, 1, 8), None)


@pytest.mark.parametrize(("raw", "message"), [
    ([], "1つもありません"),
    ([{"level": "loud", "min_score": "7", "report_days": 1}], "通知の種類"),
    ([{"level": "report", "min_score": "11", "report_days": 1}], "0.1〜10.0"),
    ([{"level": "report", "min_score": "x", "report_days": 1}], "0.1〜10.0"),
    ([{"level": "report", "min_score": "7", "report_days": -1}], "0〜3650"),
    ([{"level": "report", "min_score": "7", "report_days": "soon"}], "整数"),
    ([{"level": "urgent", "min_score": "9", "report_days": 1, "countermeasure_required": True}], "対応策の期限"),
    ([{"level": "report", "min_score": "7", "report_days": 1}, {"level": "urgent", "min_score": "7.0",
                                                                "report_days": 1}], "重複"),
    ([{"level": "report", "min_score": "9", "report_days": 1}, {"level": "urgent", "min_score": "7",
                                                                "report_days": 1}], "重い通知"),
])
def test_bad_rules_are_refused_in_japanese(raw: list[dict[str, object]], message: str) -> None:
    with pytest.raises(c.RuleError, match=message):
        c.parse_rules(raw)


def test_rules_round_trip_through_their_stored_form() -> None:
    stored = c.default_rules_data()
    assert c.parse_rules(stored) == c.defaults().rules
    assert stored[0]["min_score"] == "9.0"


METRICS = {
    "cvssMetricV31": [
        {"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "3.1", "baseScore": 9.8}},
        {"source": "psirt@fortinet.com", "type": "Secondary", "cvssData": {"version": "3.1", "baseScore": 9.6}},
    ],
    "cvssMetricV2": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "2.0", "baseScore": 10.0}}],
    "cvssMetricV40": [{"source": "psirt@fortinet.com", "type": "Secondary",
                       "cvssData": {"version": "4.0", "baseScore": 9.3}}],
    "jvn": [{"source": "jvndb", "type": "JVN", "cvssData": {"version": "3.0", "baseScore": 8.1}}],
}


def test_every_score_source_is_read_from_the_metrics() -> None:
    entries = c.entries_from_metrics(METRICS)
    assert {(e.source, e.version, e.value) for e in entries} == {
        ("nvd", "3.1", D("9.8")), ("cna", "3.1", D("9.6")), ("nvd", "2.0", D("10.0")), ("cna", "4.0", D("9.3")),
        ("jvn", "3.0", D("8.1"))}
    assert c.entries_from_metrics(None) == ()
    assert c.entries_from_metrics({"cvssMetricV31": "broken", "x": [1, {"cvssData": {}}]}) == ()


@pytest.mark.parametrize(("source", "expected"), [
    ("chosen", D("7.5")), ("nvd", D("9.8")), ("cna", D("9.6")), ("jvn", D("8.1")), ("max", D("9.8")),
])
def test_the_contract_chooses_which_score_counts(source: str, expected: Decimal) -> None:
    entries = c.entries_from_metrics(METRICS)
    assert c.contract_score(D("7.5"), entries, source) == expected


def test_max_ignores_v2_unless_it_is_all_there_is() -> None:
    v2_only = (c.ScoreEntry("nvd", "2.0", D("10.0")),)
    assert c.contract_score(None, v2_only, "max") == D("10.0")
    assert c.contract_score(None, (*v2_only, c.ScoreEntry("cna", "3.1", D("6.1"))), "max") == D("6.1")
    assert c.contract_score(D("5.0"), (), "nvd") is None
    with pytest.raises(c.RuleError):
        c.contract_score(D("5.0"), (), "guess")


NETWORK = c.DeviceFact(1, "network", frozenset({10}), frozenset({100}))
PC = c.DeviceFact(2, "pc", frozenset({20}), frozenset({200}))
LONE = c.DeviceFact(3, "server")


def contract(**overrides: object) -> c.ContractFact:
    base: dict[str, object] = {"contract_id": 1, "vendor_id": 100, "rules": c.defaults().rules}
    return c.ContractFact(**{**base, **overrides})  # type: ignore[arg-type]


def test_coverage_by_vendor_systems_named_systems_devices_and_kinds() -> None:
    by_vendor = contract()
    assert c.covers(by_vendor, NETWORK) and not c.covers(by_vendor, PC) and not c.covers(by_vendor, LONE)
    assert not c.covers(contract(cover_vendor_systems=False), NETWORK)
    assert c.covers(contract(cover_vendor_systems=False, system_ids=frozenset({20})), PC)
    assert c.covers(contract(cover_vendor_systems=False, device_ids=frozenset({3})), LONE)
    assert c.covers(contract(cover_vendor_systems=False, device_kinds=frozenset({"server"})), LONE)


def finding(fid: int, device: int, cve: str, score: str | None, *, status: str = "new",
            confidence: str = "confirmed") -> c.FindingFact:
    return c.FindingFact(fid, device, cve, status, confidence, D(score) if score else None)


DEVICES = {d.device_id: d for d in (NETWORK, PC, LONE)}


def test_plan_groups_covered_findings_per_cve_at_the_level_reached() -> None:
    findings = [
        finding(1, 1, "CVE-2018-13379", "9.8"),
        finding(2, 1, "CVE-2022-42475", "9.8"),
        finding(3, 1, "CVE-2019-0001", "7.5"),
        finding(4, 1, "CVE-2019-0002", "6.5"),  # below every threshold
        finding(5, 2, "CVE-2018-13379", "9.8"),  # not covered (another vendor's PC)
        finding(6, 1, "CVE-2019-0003", "9.1", status="false_positive"),
        finding(7, 1, "CVE-2019-0004", "9.1", confidence="manual"),
    ]
    planned = c.plan(findings, DEVICES, [contract()], [])
    assert [(p.cve_id, p.level, p.finding_ids, p.notice_id) for p in planned] == [
        ("CVE-2018-13379", "urgent", [1], None), ("CVE-2022-42475", "urgent", [2], None),
        ("CVE-2019-0001", "report", [3], None)]


def test_possible_matches_count_only_when_the_contract_says_so() -> None:
    findings = [finding(1, 1, "CVE-2018-0665", "7.2", confidence="possible")]
    assert len(c.plan(findings, DEVICES, [contract()], [])) == 1
    assert c.plan(findings, DEVICES, [contract(include_possible=False)], []) == []


def test_an_existing_notice_takes_new_devices_and_a_rescore_upwards_is_a_new_notice() -> None:
    second = c.DeviceFact(4, "network", frozenset({10}), frozenset({100}))
    devices = {**DEVICES, 4: second}
    sent = c.NoticeFact(50, 1, "CVE-2018-13379", "urgent", frozenset({1}))
    findings = [finding(1, 1, "CVE-2018-13379", "9.8"), finding(8, 4, "CVE-2018-13379", "9.8", status="new")]
    (extend,) = c.plan(findings, devices, [contract()], [sent])
    assert (extend.notice_id, extend.finding_ids) == (50, [8])
    assert c.plan(findings[:1], devices, [contract()], [sent]) == []  # nothing new: nothing planned
    reported = c.NoticeFact(51, 1, "CVE-2019-0001", "report", frozenset({3}))
    (upgrade,) = c.plan([finding(3, 1, "CVE-2019-0001", "9.0")], devices, [contract()], [reported])
    assert (upgrade.notice_id, upgrade.level, upgrade.finding_ids) == (None, "urgent", [3])
    # a lower score after an urgent notice does not send a second, milder one
    assert c.plan([finding(1, 1, "CVE-2018-13379", "7.1")], devices, [contract()], [sent]) == []


def test_each_contract_gets_its_own_notice_with_its_own_score_source() -> None:
    entries = c.entries_from_metrics(METRICS)
    fact = c.FindingFact(1, 1, "CVE-2018-13379", "new", "confirmed", D("6.0"), entries)
    chosen = contract(contract_id=1)
    by_jvn = contract(contract_id=2, score_source="jvn")
    planned = c.plan([fact], DEVICES, [chosen, by_jvn], [])
    assert [(p.contract_id, p.level, p.score) for p in planned] == [(2, "report", D("8.1"))]


def due(status: str = "sent", *, required: bool = True, has: bool = False) -> c.NoticeDue:
    return c.NoticeDue(1, status, dt.date(2026, 4, 4), dt.date(2026, 4, 15), required, has)


def test_overdue_counts_the_due_day_itself_as_in_time() -> None:
    assert c.overdue(due(), dt.date(2026, 4, 4)) == ()
    assert c.overdue(due(), dt.date(2026, 4, 5)) == (c.REPORT_OVERDUE,)
    assert c.overdue(due(), dt.date(2026, 4, 16)) == (c.REPORT_OVERDUE, c.COUNTERMEASURE_OVERDUE)
    assert c.overdue(due("answered"), dt.date(2026, 4, 16)) == (c.COUNTERMEASURE_OVERDUE,)
    assert c.overdue(due("answered", has=True), dt.date(2026, 4, 16)) == ()
    assert c.overdue(due("returned", has=True), dt.date(2026, 4, 16)) == (c.REPORT_OVERDUE,)
    assert c.overdue(due("answered", required=False), dt.date(2027, 1, 1)) == ()
    assert c.overdue(due("accepted"), dt.date(2027, 1, 1)) == ()
    assert c.overdue(due("withdrawn"), dt.date(2027, 1, 1)) == ()
