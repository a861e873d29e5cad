"""Reconciliation of a scan with the ledger (pure): precedence MAC → IP → host name, changes, unregistered,
missing only inside the scanned ranges, and how the ranges are read from nmap's command line."""

from __future__ import annotations

import pytest

from anzen.assets import reconcile as rc
from anzen.assets.reconcile import LedgerDevice, Observed


def ranges(*targets: str) -> rc.ScanRanges:
    return rc.scanned_ranges(explicit=list(targets))


NET = ranges("10.0.0.0/24")


def outcome(observed: list[Observed], ledger: list[LedgerDevice], scanned: rc.ScanRanges = NET) -> rc.Reconciliation:
    return rc.reconcile(observed, ledger, scanned)


def test_match_by_mac_wins_over_ip_of_another_device() -> None:
    ledger = [LedgerDevice(1, "pc01", "aa:bb:cc:00:00:01", "10.0.0.5"),
              LedgerDevice(2, "pc02", "aa:bb:cc:00:00:02", "10.0.0.9")]
    # pc02's NIC now answers on pc01's old address; pc01 is not on the network.
    result = outcome([Observed(ip="10.0.0.5", mac="aa:bb:cc:00:00:02")], ledger)
    host = result.hosts[0]
    assert (host.device_id, host.matched_by, host.outcome) == (2, rc.BY_MAC, rc.CHANGED)
    assert host.changes == [{"field": "ip", "ledger": "10.0.0.9", "scan": "10.0.0.5"}]
    assert result.missing == [1]


def test_match_by_ip_then_hostname() -> None:
    ledger = [LedgerDevice(1, "srv-a", "", "10.0.0.10"), LedgerDevice(2, "PC-B", "", "10.0.0.20")]
    result = outcome([Observed(ip="10.0.0.10"), Observed(ip="10.0.0.77", hostnames=("pc-b.hosp.local",))], ledger)
    assert [(h.device_id, h.matched_by) for h in result.hosts] == [(1, rc.BY_IP), (2, rc.BY_HOSTNAME)]
    assert result.hosts[0].outcome == rc.MATCHED
    assert result.hosts[1].changes == [{"field": "ip", "ledger": "10.0.0.20", "scan": "10.0.0.77"}]
    assert result.missing == []


def test_ip_match_is_one_to_one_and_mac_pass_claims_first() -> None:
    ledger = [LedgerDevice(1, "a", "", "10.0.0.1")]
    result = outcome([Observed(ip="10.0.0.1"), Observed(ip="10.0.0.1", hostnames=("a",))], ledger)
    assert [h.outcome for h in result.hosts] == [rc.MATCHED, rc.UNREGISTERED]


def test_different_mac_on_a_registered_address_is_unregistered_with_a_conflict() -> None:
    ledger = [LedgerDevice(7, "ehr-db", "00:11:22:33:44:55", "10.0.0.30")]
    result = outcome([Observed(ip="10.0.0.30", mac="66:77:88:99:aa:bb", hostnames=("ehr-db",))], ledger)
    host = result.hosts[0]
    assert host.outcome == rc.UNREGISTERED and host.device_id is None and host.conflict_device_id == 7
    assert result.missing == [7]


def test_ledger_without_mac_matches_by_ip_even_when_scan_has_one() -> None:
    ledger = [LedgerDevice(3, "printer1", "", "10.0.0.40")]
    result = outcome([Observed(ip="10.0.0.40", mac="00:00:85:12:34:56")], ledger)
    assert result.hosts[0].outcome == rc.MATCHED and result.hosts[0].matched_by == rc.BY_IP


def test_several_hosts_may_share_a_device_by_mac() -> None:
    ledger = [LedgerDevice(1, "rtr", "aa:aa:aa:aa:aa:01", "10.0.0.1")]
    result = outcome([Observed(ip="10.0.0.1", mac="aa:aa:aa:aa:aa:01"),
                      Observed(ip="10.0.0.2", mac="AA:AA:AA:AA:AA:01")], ledger)
    assert [(h.device_id, h.outcome) for h in result.hosts] == [(1, rc.MATCHED), (1, rc.MATCHED)]


def test_os_changed_only_when_the_family_differs() -> None:
    ledger = [LedgerDevice(1, "a", "", "10.0.0.1", os_name="Windows 10"),
              LedgerDevice(2, "b", "", "10.0.0.2", os_name="Windows 11 23H2"),
              LedgerDevice(3, "c", "", "10.0.0.3", os_name="RHEL 8"),
              LedgerDevice(4, "d", "", "10.0.0.4", os_name="")]
    seen = [Observed(ip="10.0.0.1", os_guess="Linux 4.15 - 5.6", os_families=("Linux",)),
            Observed(ip="10.0.0.2", os_guess="Microsoft Windows Server 2008", os_families=("Windows",)),
            Observed(ip="10.0.0.3", os_guess="Linux 3.x", os_families=("Linux",)),
            Observed(ip="10.0.0.4", os_guess="Linux 3.x", os_families=("Linux",))]
    hosts = outcome(seen, ledger).hosts
    assert hosts[0].changes == [{"field": "os", "ledger": "Windows 10", "scan": "Linux 4.15 - 5.6"}]
    assert [h.outcome for h in hosts[1:]] == [rc.MATCHED, rc.MATCHED, rc.MATCHED]


def test_ambiguous_os_guess_does_not_count_as_changed() -> None:
    ledger = [LedgerDevice(1, "a", "", "10.0.0.1", os_name="macOS 14")]
    seen = [Observed(ip="10.0.0.1", os_families=("Mac OS X", "iOS"))]
    assert outcome(seen, ledger).hosts[0].outcome == rc.MATCHED


def test_hostname_changed_and_disposed_device_seen() -> None:
    ledger = [LedgerDevice(1, "old-name", "aa:00:00:00:00:01", "10.0.0.1"),
              LedgerDevice(2, "gone", "aa:00:00:00:00:02", "10.0.0.2", status="disposed")]
    seen = [Observed(ip="10.0.0.1", mac="aa:00:00:00:00:01", hostnames=("new-name.example",)),
            Observed(ip="10.0.0.2", mac="aa:00:00:00:00:02")]
    hosts = outcome(seen, ledger).hosts
    assert hosts[0].changes == [{"field": "hostname", "ledger": "old-name", "scan": "new-name.example"}]
    assert hosts[1].changes == [{"field": "status", "ledger": "disposed", "scan": "in_use"}]


def test_same_short_name_is_not_a_change() -> None:
    ledger = [LedgerDevice(1, "FHEJ0002", "", "10.0.0.1")]
    assert outcome([Observed(ip="10.0.0.1", hostnames=("fhej0002.hosp.local",))], ledger).hosts[0].changes == []


def test_missing_only_inside_the_scanned_range_and_in_use() -> None:
    ledger = [LedgerDevice(1, "in-range", "", "10.0.0.50"),
              LedgerDevice(2, "outside", "", "10.0.1.50"),
              LedgerDevice(3, "no-ip", "", ""),
              LedgerDevice(4, "stock", "", "10.0.0.60", status="stock"),
              LedgerDevice(5, "disposed", "", "10.0.0.70", status="disposed"),
              LedgerDevice(6, "seen", "", "10.0.0.80")]
    result = outcome([Observed(ip="10.0.0.80")], ledger)
    assert result.missing == [1]
    assert (result.outside, result.not_judged) == (1, 1)
    assert result.counts() == {"matched": 1, "changed": 0, "unregistered": 0, "missing": 1, "hosts": 1,
                               "not_judged": 1, "outside": 1}


def test_prefers_the_in_use_device_when_a_mac_is_registered_twice() -> None:
    ledger = [LedgerDevice(1, "old", "aa:00:00:00:00:09", "10.0.0.9", status="disposed"),
              LedgerDevice(2, "new", "aa:00:00:00:00:09", "10.0.0.9")]
    host = outcome([Observed(ip="10.0.0.9", mac="aa:00:00:00:00:09")], ledger).hosts[0]
    assert (host.device_id, host.outcome) == (2, rc.MATCHED)


# --- ranges ---------------------------------------------------------------------------------------------


def test_ranges_from_nmap_arguments() -> None:
    words = ["nmap", "-sV", "-p", "22,80", "-oX", "out.xml", "--exclude", "10.9.9.9", "192.168.1.0/24", "10.0.0.1-20",
             "172.16.*.1"]
    targets, _intervals = rc.targets_from_arguments(words)
    assert targets == ["192.168.1.0/24", "10.0.0.1-20", "172.16.*.1"]
    scanned = rc.scanned_ranges(arguments=words)
    assert scanned.method == rc.ARGUMENTS
    assert scanned.contains("192.168.1.200") and scanned.contains("10.0.0.20") and scanned.contains("172.16.77.1")
    assert not scanned.contains("10.0.0.21") and not scanned.contains("10.9.9.9")
    assert not scanned.contains("172.16.77.2")
    assert "192.168.1.0/24" in scanned.labels and "10.0.0.1–10.0.0.20" in scanned.labels


def test_ranges_from_listed_hosts_when_targets_are_names() -> None:
    scanned = rc.scanned_ranges(arguments=["nmap", "-sV", "-O", "dionaea"], listed_addresses=["172.28.1.3"])
    assert scanned.method == rc.LISTED and scanned.contains("172.28.1.3") and not scanned.contains("172.28.1.4")
    assert rc.scanned_ranges(arguments=["nmap", "-iL", "hosts.txt"]).method == rc.RESPONDING


def test_explicit_ranges_and_refusal() -> None:
    scanned = rc.scanned_ranges(explicit=["10.1.0.0/16", "2001:db8::/64"], arguments=["nmap", "192.168.0.0/24"])
    assert scanned.method == rc.EXPLICIT
    assert scanned.contains("10.1.200.3") and scanned.contains("2001:db8::1") and not scanned.contains("192.168.0.1")
    with pytest.raises(ValueError):
        rc.scanned_ranges(explicit=["hospital.local"])


def test_huge_octet_pattern_is_bounded() -> None:
    scanned = rc.scanned_ranges(arguments=["nmap", "10.*.*.*"])
    assert scanned.contains("10.200.3.4") and not scanned.contains("11.0.0.1")
    assert scanned.address_count == 2 ** 24


@pytest.mark.parametrize(("text", "family"), [
    ("Windows 10 22H2", "windows"), ("Win10", "windows"), ("Microsoft Windows Server 2019", "windows"),
    ("Red Hat Enterprise Linux 8", "linux"), ("Ubuntu 22.04", "linux"), ("Linux 4.15 - 5.6", "linux"),
    ("Mac OS X", "macos"), ("iOS", "apple_ios"), ("IOS", "cisco"), ("iPadOS 17", "apple_ios"),
    ("Cisco IOS 15.2", "cisco"), ("IOS XE", "cisco"),
    ("FortiOS 7.0", "fortios"), ("VMware ESXi 7.0", "esxi"), ("", ""), ("RTX1210 firmware", ""),
])
def test_os_family(text: str, family: str) -> None:
    assert rc.os_family(text) == family
