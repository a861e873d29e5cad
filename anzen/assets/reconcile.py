"""Reconciling a network scan with the ledger (pure: dataclasses in, dataclasses out, no ORM).

Every host that answered is matched to at most one ledger device, in three passes so that the strongest
evidence wins across the whole scan, not host by host:

1. MAC address (only seen on the scanner's own segment, but unique to the hardware);
2. IP address, for hosts still unmatched;
3. host name (the short name, case-insensitive; `pc01.hosp.local` ≙ `PC01`), for hosts still unmatched.

An IP or host-name match is refused when both sides know a MAC address and they differ: another machine
on a registered address is exactly what the reconciliation must show (the host stays 未登録 and the
report names the device whose address it uses). Several hosts may match one device by MAC (a router
answering for several addresses); IP and host-name matches are one to one.

Outcomes: `matched`; `changed` (matched, but the IP moved, the host name or the OS family differs, or the
ledger says the device is in stock or disposed); `unregistered` (on the network, not in the ledger);
`missing` (a ledger device in use whose IP lies inside the scanned ranges and that no host matched).
Devices in use without an IP, or outside the scanned ranges, cannot be judged and are only counted.

The scanned ranges come from the targets on nmap's command line (addresses, CIDR blocks and nmap's octet
ranges such as 192.168.1.1-254 or 10.0.*.*), plus every address nmap reported (up or down), or from ranges
the user gives explicitly; `ScanRanges.method` says which, so the report can explain it.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MATCHED, CHANGED, UNREGISTERED, MISSING = "matched", "changed", "unregistered", "missing"
BY_MAC, BY_IP, BY_HOSTNAME = "mac", "ip", "hostname"

# Methods of deriving the scanned ranges.
EXPLICIT, ARGUMENTS, LISTED, RESPONDING = "explicit", "arguments", "listed", "responding"

STATUS_IN_USE = "in_use"
_STATUS_PREFERENCE = {"in_use": 0, "stock": 1, "disposed": 2}


@dataclass(frozen=True)
class LedgerDevice:
    id: int
    hostname: str = ""
    mac: str = ""  # normalised aa:bb:cc:dd:ee:ff
    ip: str = ""
    os_name: str = ""
    status: str = STATUS_IN_USE


@dataclass(frozen=True)
class Observed:
    """What the scan saw of one host (see `nmap.Host`)."""

    ip: str = ""
    mac: str = ""  # normalised aa:bb:cc:dd:ee:ff
    hostnames: tuple[str, ...] = ()
    os_guess: str = ""
    os_families: tuple[str, ...] = ()


@dataclass
class HostResult:
    outcome: str
    device_id: int | None = None
    matched_by: str = ""
    changes: list[dict[str, str]] = field(default_factory=list)
    conflict_device_id: int | None = None  # unregistered host on an address (or name) of this device


# --- scanned ranges ----------------------------------------------------------------------------------

Interval = tuple[int, int, int]  # (IP version, first, last) as integers


@dataclass(frozen=True)
class ScanRanges:
    intervals: tuple[Interval, ...] = ()
    method: str = RESPONDING
    targets: tuple[str, ...] = ()  # the targets as written (arguments or explicit)

    def contains(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        key = (address.version, int(address), int(address))
        index = bisect.bisect_right(self.intervals, key)
        for candidate in (index - 1, index):
            if 0 <= candidate < len(self.intervals):
                version, first, last = self.intervals[candidate]
                if version == address.version and first <= int(address) <= last:
                    return True
        return False

    @property
    def labels(self) -> list[str]:
        """The ranges for people: CIDR where exact, otherwise first–last."""
        labels = []
        for version, first, last in self.intervals:
            factory = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
            start, end = factory(first), factory(last)
            networks = list(ipaddress.summarize_address_range(start, end))
            if len(networks) == 1:
                net = networks[0]
                labels.append(str(net.network_address) if net.num_addresses == 1 else str(net))
            else:
                labels.append(f"{start}–{end}")
        return labels

    @property
    def address_count(self) -> int:
        return sum(last - first + 1 for _version, first, last in self.intervals)

    def as_dict(self) -> dict[str, Any]:
        """For the scan's stored summary: how the ranges were found and (at most 200 of) their labels."""
        labels = self.labels
        return {"method": self.method, "targets": list(self.targets[:200]), "ranges": labels[:200],
                "range_count": len(labels), "addresses": self.address_count}


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[list[int]] = []
    for version, first, last in sorted(intervals):
        if merged and merged[-1][0] == version and first <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], last)
        else:
            merged.append([version, first, last])
    return tuple((v, a, b) for v, a, b in merged)


# nmap options whose value is the next word (so that e.g. `-p 22` or `-oX out.xml` is not a target).
_OPTIONS_WITH_VALUE = {
    "-p", "-e", "-iL", "-iR", "-oN", "-oX", "-oG", "-oA", "-oS", "-oM", "-S", "-D", "-g", "-b", "-sI", "-PS", "-PA",
    "-PU", "-PY", "-PO", "-M",
    "--exclude", "--excludefile", "--script", "--script-args", "--script-args-file", "--top-ports", "--max-retries",
    "--host-timeout", "--min-rate", "--max-rate", "--data-length", "--data", "--data-string", "--ttl",
    "--spoof-mac", "--dns-servers", "--source-port", "--version-intensity", "--min-hostgroup", "--max-hostgroup",
    "--min-parallelism", "--max-parallelism", "--scan-delay", "--max-scan-delay", "--mtu", "--proxies",
    "--stylesheet", "--datadir", "--servicedb", "--versiondb", "--resume", "--port-ratio", "--exclude-ports",
    "--initial-rtt-timeout", "--min-rtt-timeout", "--max-rtt-timeout", "--ip-options", "--scanflags",
}
_OCTET_TARGET = re.compile(r"^([0-9,\-*]+)\.([0-9,\-*]+)\.([0-9,\-*]+)\.([0-9,\-*]+)$")
_MAX_OCTET_COMBINATIONS = 65_536


def _octet_values(spec: str) -> list[tuple[int, int]] | None:
    ranges = []
    for item in spec.split(","):
        if item == "*":
            ranges.append((0, 255))
            continue
        if "-" in item:
            low_text, _sep, high_text = item.partition("-")
            low = int(low_text) if low_text else 0
            high = int(high_text) if high_text else 255
        elif item.isdigit():
            low = high = int(item)
        else:
            return None
        if not 0 <= low <= high <= 255:
            return None
        ranges.append((low, high))
    return ranges


def _octet_intervals(match: re.Match[str]) -> list[Interval] | None:
    octets = [_octet_values(spec) for spec in match.groups()]
    if any(values is None for values in octets):
        return None
    first_three = [[v for low, high in values for v in range(low, high + 1)] for values in octets[:3]]  # type: ignore[union-attr]
    combinations = len(first_three[0]) * len(first_three[1]) * len(first_three[2])
    last = octets[3]
    assert last is not None
    if combinations > _MAX_OCTET_COMBINATIONS:  # approximate a huge pattern by its bounds
        low = (min(first_three[0]) << 24) | (min(first_three[1]) << 16) | (min(first_three[2]) << 8)
        high = (max(first_three[0]) << 24) | (max(first_three[1]) << 16) | (max(first_three[2]) << 8) | 255
        return [(4, low, high)]
    intervals = []
    for a, b, c in itertools.product(*first_three):
        base = (a << 24) | (b << 16) | (c << 8)
        intervals.extend((4, base | low, base | high) for low, high in last)
    return intervals


def parse_target(word: str) -> list[Interval] | None:
    """One nmap target as address intervals; None when it is not an address form (e.g. a host name)."""
    text = word.strip()
    if not text:
        return None
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None
        return [(network.version, int(network.network_address), int(network.broadcast_address))]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return [(address.version, int(address), int(address))]
    match = _OCTET_TARGET.match(text)
    return _octet_intervals(match) if match else None


def targets_from_arguments(words: Sequence[str]) -> tuple[list[str], list[Interval]]:
    """The address targets on an nmap command line (option values skipped) and their intervals."""
    targets: list[str] = []
    intervals: list[Interval] = []
    skip = False
    for word in words[1:] if words and not words[0].startswith("-") else words:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in _OPTIONS_WITH_VALUE
            continue
        parsed = parse_target(word)
        if parsed:
            targets.append(word)
            intervals.extend(parsed)
    return targets, intervals


def scanned_ranges(*, arguments: Sequence[str] = (), listed_addresses: Iterable[str] = (),
                   explicit: Sequence[str] | None = None) -> ScanRanges:
    """Which addresses the scan covered: explicit ranges if given (and valid), else the command line's
    targets, plus every address nmap reported on. Raises ValueError for an explicit range it cannot read."""
    listed: list[Interval] = []
    for address in listed_addresses:
        parsed = parse_target(address)
        if parsed:
            listed.extend(parsed)
    if explicit:
        intervals: list[Interval] = []
        for word in explicit:
            parsed = parse_target(word)
            if not parsed:
                raise ValueError(word)
            intervals.extend(parsed)
        return ScanRanges(_merge([*intervals, *listed]), EXPLICIT, tuple(explicit))
    targets, intervals = targets_from_arguments(arguments)
    if intervals:
        return ScanRanges(_merge([*intervals, *listed]), ARGUMENTS, tuple(targets))
    return ScanRanges(_merge(listed), LISTED if listed else RESPONDING, ())


# --- OS families -------------------------------------------------------------------------------------

_FAMILY_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("cisco", re.compile(r"\bcisco\b|\bios[ -]?xe\b|\bnx-?os\b|\bios[ -]?xr\b|catalyst")),
    ("android", re.compile(r"android")),
    ("macos", re.compile(r"mac ?os|os ?x\b|macintosh|darwin")),
    ("apple_ios", re.compile(r"\bi(?:os|pados|phone ?os)\b|iphone|ipad")),
    ("windows", re.compile(r"windows|\bwin ?(?:\d|xp|vista|7|8|10|11|2k)|microsoft")),
    ("esxi", re.compile(r"esxi|vmware esx")),
    ("linux", re.compile(r"linux|ubuntu|debian|cent ?os|rhel|red ?hat|suse|fedora|rocky|alma ?linux|amazon linux"
                         r"|oracle linux|raspbian|synology|dsm\b")),
    ("bsd", re.compile(r"freebsd|openbsd|netbsd|bsd\b")),
    ("solaris", re.compile(r"solaris|sunos")),
    ("aix", re.compile(r"\baix\b")),
    ("hpux", re.compile(r"hp-?ux")),
    ("fortios", re.compile(r"fortios|fortigate")),
    ("panos", re.compile(r"pan-?os|palo ?alto")),
    ("junos", re.compile(r"junos|juniper")),
    ("vxworks", re.compile(r"vxworks")),
]
# Families that may legitimately appear for one another (nmap often says Linux for Android or appliances).
_COMPATIBLE = {("android", "linux"), ("linux", "android"), ("esxi", "linux"), ("linux", "esxi"),
               ("fortios", "linux"), ("panos", "linux"), ("linux", "fortios"), ("linux", "panos"),
               ("macos", "apple_ios"), ("apple_ios", "macos"), ("bsd", "macos"), ("macos", "bsd")}


def os_family(text: str) -> str:
    """A coarse OS family of free text ("Windows 10 22H2" → windows); "" when it cannot tell."""
    lowered = " ".join((text or "").lower().split())
    if not lowered:
        return ""
    if re.match(r"^IOS\b", (text or "").strip()):  # nmap writes Cisco's family "IOS", Apple's "iOS"
        return "cisco"
    for family, pattern in _FAMILY_PATTERNS:
        if pattern.search(lowered):
            return family
    return ""


def os_differs(ledger_os: str, scan_families: Sequence[str]) -> bool:
    """True only when both sides name a known family and none of the scan's best guesses fits the ledger."""
    ledger_family = os_family(ledger_os)
    families = {family for family in (os_family(text) for text in scan_families) if family}
    if not ledger_family or not families:
        return False
    return all(family != ledger_family and (ledger_family, family) not in _COMPATIBLE for family in families)


# --- matching -----------------------------------------------------------------------------------------


def short_name(hostname: str) -> str:
    name = (hostname or "").strip().lower().rstrip(".")
    if not name:
        return ""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name.split(".", 1)[0]
    return name  # an address written as a name stays whole


@dataclass
class Reconciliation:
    hosts: list[HostResult]
    missing: list[int]  # device ids, in ledger order
    ranges: ScanRanges
    not_judged: int = 0  # devices in use without an IP address
    outside: int = 0  # devices in use with an IP outside the scanned ranges

    def counts(self) -> dict[str, int]:
        counts = {MATCHED: 0, CHANGED: 0, UNREGISTERED: 0}
        for host in self.hosts:
            counts[host.outcome] += 1
        counts[MISSING] = len(self.missing)
        counts["hosts"] = len(self.hosts)
        counts["not_judged"] = self.not_judged
        counts["outside"] = self.outside
        return counts


def _rank(device: LedgerDevice) -> tuple[int, int]:
    return _STATUS_PREFERENCE.get(device.status, 3), device.id


def _index(ledger: Sequence[LedgerDevice]) -> tuple[dict[str, list[LedgerDevice]], ...]:
    by_mac: dict[str, list[LedgerDevice]] = defaultdict(list)
    by_ip: dict[str, list[LedgerDevice]] = defaultdict(list)
    by_name: dict[str, list[LedgerDevice]] = defaultdict(list)
    for device in sorted(ledger, key=_rank):
        if device.mac:
            by_mac[device.mac.lower()].append(device)
        if device.ip:
            by_ip[device.ip].append(device)
        name = short_name(device.hostname)
        if name:
            by_name[name].append(device)
    return by_mac, by_ip, by_name


def _mac_conflict(device: LedgerDevice, host: Observed) -> bool:
    return bool(device.mac and host.mac and device.mac.lower() != host.mac.lower())


def _changes(device: LedgerDevice, hosts: list[Observed]) -> list[dict[str, str]]:
    changes: list[dict[str, str]] = []
    host = hosts[0]
    same_version = [h for h in hosts if h.ip and device.ip and (":" in h.ip) == (":" in device.ip)]
    if same_version and all(h.ip != device.ip for h in same_version):
        changes.append({"field": "ip", "ledger": device.ip, "scan": same_version[0].ip})
    ledger_name = short_name(device.hostname)
    names = [name for h in hosts for name in h.hostnames if short_name(name)]
    if ledger_name and names and ledger_name not in {short_name(name) for name in names}:
        changes.append({"field": "hostname", "ledger": device.hostname, "scan": names[0]})
    if os_differs(device.os_name, host.os_families):
        changes.append({"field": "os", "ledger": device.os_name, "scan": host.os_guess or " / ".join(host.os_families)})
    if device.status != STATUS_IN_USE:
        changes.append({"field": "status", "ledger": device.status, "scan": STATUS_IN_USE})
    return changes


def reconcile(observed: Sequence[Observed], ledger: Sequence[LedgerDevice], ranges: ScanRanges) -> Reconciliation:
    by_mac, by_ip, by_name = _index(ledger)
    assigned: dict[int, tuple[int, str]] = {}  # host index → (device id, matched by)
    claimed: set[int] = set()
    conflicts: dict[int, int] = {}

    for index, host in enumerate(observed):  # 1. MAC (several hosts may share one device)
        candidates = by_mac.get(host.mac.lower()) if host.mac else None
        if candidates:
            preferred = next((d for d in candidates if d.ip and d.ip == host.ip), candidates[0])
            assigned[index] = (preferred.id, BY_MAC)
            claimed.add(preferred.id)

    def second_pass(keyed: dict[str, list[LedgerDevice]], key_of: Callable[[Observed], list[str]], how: str) -> None:
        for index, host in enumerate(observed):
            if index in assigned:
                continue
            for key in key_of(host):
                for device in keyed.get(key, ()):
                    if device.id in claimed:
                        continue
                    if _mac_conflict(device, host):
                        conflicts.setdefault(index, device.id)
                        continue
                    assigned[index] = (device.id, how)
                    claimed.add(device.id)
                    conflicts.pop(index, None)
                    break
                if index in assigned:
                    break

    second_pass(by_ip, lambda h: [h.ip] if h.ip else [], BY_IP)
    second_pass(by_name, lambda h: [n for n in (short_name(x) for x in h.hostnames) if n], BY_HOSTNAME)

    devices = {device.id: device for device in ledger}
    hosts_of: dict[int, list[Observed]] = defaultdict(list)
    for index, (device_id, _how) in assigned.items():
        hosts_of[device_id].append(observed[index])
    results: list[HostResult] = []
    for index, _host in enumerate(observed):
        if index not in assigned:
            results.append(HostResult(UNREGISTERED, conflict_device_id=conflicts.get(index)))
            continue
        device_id, how = assigned[index]
        changes = _changes(devices[device_id], [observed[index], *(h for h in hosts_of[device_id]
                                                                     if h is not observed[index])])
        results.append(HostResult(CHANGED if changes else MATCHED, device_id, how, changes))

    missing: list[int] = []
    not_judged = outside = 0
    for device in ledger:
        if device.status != STATUS_IN_USE or device.id in claimed:
            continue
        if not device.ip:
            not_judged += 1
        elif ranges.contains(device.ip):
            missing.append(device.id)
        else:
            outside += 1
    return Reconciliation(results, missing, ranges, not_judged, outside)
