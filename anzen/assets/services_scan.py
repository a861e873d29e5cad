"""Network scans: importing an nmap XML file and reconciling it with the ledger, and registering the hosts
nobody had registered (writes; the report's reads are in `scan_report`).

- `scan_import` parses the whole file first (`nmap.parse`: safe XML, size limit, clear Japanese errors),
  keeps it by SHA-256 outside the web root (FileStore), reads the ledger once, reconciles (`reconcile`),
  then writes the Scan and its ScanHost rows in bulk with one explicit audit entry — all in one
  transaction, so a refused file changes nothing.
- `scan_register_hosts` registers unregistered hosts as devices in one step, pre-filled from the scan
  (IP, MAC, vendor from the MAC prefix as manufacturer, host name, OS guess, services with CPEs as software,
  source "scan") through the ledger's `devices_bulk_create`, and links each host to its new device.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation
from anzen.accounts.roles import Perm
from anzen.assets import cpe_help, nmap, normalise, oui, reconcile
from anzen.assets import services as ledger_services
from anzen.assets.models import Device, DeviceKind, DeviceStatus, Scan, ScanHost, SoftwareSource
from anzen.common import audit
from anzen.common.filestore import FileStore, TooLarge
from anzen.common.permissions import Actor, require

SCAN_STORE = FileStore("scans", suffix=".xml", fan_out=True)
BATCH = 1000
DEFAULT_MAX_SCAN_BYTES = 200 * 1024 * 1024


def max_scan_bytes() -> int:
    """Upper limit of a scan file (ANZEN_MAX_SCAN_BYTES; nmap XML of a large -sV scan is big)."""
    return int(getattr(settings, "ANZEN_MAX_SCAN_BYTES", DEFAULT_MAX_SCAN_BYTES))


def _mac(value: str) -> str:
    try:
        return normalise.normalise_mac(value) if value else ""
    except ValueError:
        return ""


def _ip(value: str) -> str:
    try:
        return normalise.normalise_ip(value) if value else ""
    except ValueError:
        return ""


def ledger_snapshot(institution_id: int) -> list[reconcile.LedgerDevice]:
    """The institution's devices as the reconciliation needs them (one query)."""
    rows = Device.objects.filter(institution_id=institution_id).values_list(
        "pk", "hostname", "mac", "ip", "os_name", "status").order_by("hostname", "pk")
    return [reconcile.LedgerDevice(id=pk, hostname=hostname or "", mac=(mac or "").lower(), ip=ip or "",
                                   os_name=os_name or "", status=status)
            for pk, hostname, mac, ip, os_name, status in rows.iterator(chunk_size=5000)]


def observed(host: nmap.Host) -> reconcile.Observed:
    return reconcile.Observed(ip=_ip(host.ip), mac=_mac(host.mac), hostnames=tuple(
        name for name in (*host.hostnames, host.netbios_name) if name),
        os_guess=host.os_guess, os_families=host.os_families)


def _service_dicts(host: nmap.Host) -> list[dict[str, Any]]:
    return [service.as_dict() for service in host.services]


def _parse_ranges(run: nmap.ScanRun, explicit: Sequence[str] | None) -> reconcile.ScanRanges:
    words = [word for text in (explicit or ()) for word in text.replace(",", " ").split()]
    try:
        return reconcile.scanned_ranges(arguments=nmap.arguments(run), listed_addresses=run.scanned_addresses,
                                        explicit=words or None)
    except ValueError as error:
        raise ValidationError({"ranges": _("スキャン範囲「%(value)s」を読めません（例: 192.168.1.0/24、"
                                           "10.0.0.1-254、172.16.5.10）。") % {"value": str(error)[:60]}}) from None


def read_scan(stream: IO[bytes]) -> tuple[nmap.ScanRun, Any]:
    """Parse and store a scan file; ValidationError (Japanese) when it is refused. Nothing is kept then."""
    holder: dict[str, nmap.ScanRun] = {}
    limit = max_scan_bytes()

    def check(path: Any) -> None:
        with open(path, "rb") as handle:
            holder["run"] = nmap.parse(handle, max_bytes=limit)

    try:
        stored = SCAN_STORE.put(stream, max_bytes=limit, check=check)
    except TooLarge:
        raise ValidationError({"file": _("ファイルが大きすぎます（上限 %(mb)s MB）。")
                               % {"mb": max(1, limit // (1024 * 1024))}}) from None
    except nmap.NmapError as error:
        raise ValidationError({"file": str(error)}) from None
    return holder["run"], stored


@transaction.atomic
def scan_import(*, actor: Actor, stream: IO[bytes], name: str, institution: Organisation | None = None,
                ranges: Sequence[str] | None = None) -> Scan:
    """Import an nmap XML scan for the actor's institution and reconcile it with the ledger."""
    from anzen.assessments.uploads import safe_name

    institution = ledger_services._institution(actor, institution, _("スキャンを取り込めるのは医療機関等だけです。"))
    run, stored = read_scan(stream)
    scanned = _parse_ranges(run, ranges)
    seen = [observed(host) for host in run.hosts]
    result = reconcile.reconcile(seen, ledger_snapshot(institution.pk), scanned)
    counts = result.counts()
    counts["services"] = sum(len(host.services) for host in run.hosts)
    scan = Scan.objects.create(
        institution=institution, name=safe_name(name)[:255] or "scan.xml", sha256=stored.sha256,
        scanner=run.scanner_label[:100], arguments=run.args, started_at=run.started_at,
        hosts_up=len(run.hosts), imported_by=actor.user,
        summary={"counts": counts, "ranges": scanned.as_dict(), "missing": result.missing,
                 "hosts_down": len(run.down_addresses),
                 "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                 "elapsed": run.elapsed, "size": stored.size, "scan_types": list(run.scan_types),
                 "summary": run.summary},
    )
    hosts = []
    for host, seen_host, outcome in zip(run.hosts, seen, result.hosts, strict=True):
        changes = list(outcome.changes)
        if outcome.conflict_device_id:
            changes.append({"field": "conflict", "device": outcome.conflict_device_id, "ledger": "", "scan": ""})
        hosts.append(ScanHost(
            scan=scan, ip=seen_host.ip or None, mac=seen_host.mac,
            mac_vendor=(host.mac_vendor or oui.vendor_for(seen_host.mac))[:200], hostname=host.hostname[:255],
            os_guess=host.os_guess[:300], os_cpes=list(host.os_cpes), services=_service_dicts(host),
            device_id=outcome.device_id, matched_by=outcome.matched_by, outcome=outcome.outcome, changes=changes,
        ))
    ScanHost.objects.bulk_create(hosts, batch_size=BATCH)
    audit.record(audit.Action.IMPORT, obj=scan, after={"sha256": stored.sha256, **counts},
                 message=_("ネットワークスキャンを取り込み、台帳と突合しました（応答 %(hosts)s 台: 一致 %(matched)s、"
                           "変更あり %(changed)s、未登録 %(unregistered)s、未検出 %(missing)s）。") % {
                     "hosts": counts["hosts"], "matched": counts["matched"], "changed": counts["changed"],
                     "unregistered": counts["unregistered"], "missing": counts["missing"]})
    return scan


# --- registering unregistered hosts -------------------------------------------------------------------

_NETWORK_TYPES = {"router", "switch", "firewall", "wap", "broadband router", "load balancer", "bridge", "hub",
                  "proxy server", "security-misc", "terminal server", "remote management"}
_IOT_TYPES = {"webcam", "media device", "game console", "power-device", "specialized", "voip phone", "voip adapter",
              "pbx", "telecom-misc", "printer-misc", "lights", "sensor"}


def guess_kind(host: ScanHost | nmap.Host) -> str:
    """A device kind from nmap's device type (of the services; of the best OS guess when parsed) and the
    OS family."""
    types = [t.lower() for t in (host.device_types if isinstance(host, nmap.Host) else _stored_types(host))]
    first = types[0] if types else ""
    os_guess = host.os_guess or ""
    family = reconcile.os_family(os_guess)
    if first in _NETWORK_TYPES:
        return DeviceKind.NETWORK
    if first in ("printer", "print server"):
        return DeviceKind.PRINTER
    if first == "storage-misc":
        return DeviceKind.STORAGE
    if first == "phone":
        return DeviceKind.MOBILE
    if first in _IOT_TYPES:
        return DeviceKind.IOT
    if family == "windows":
        return DeviceKind.SERVER if "server" in os_guess.lower() else DeviceKind.PC
    if family in ("linux", "bsd", "solaris", "aix", "hpux", "esxi"):
        return DeviceKind.SERVER
    if family == "macos":
        return DeviceKind.PC
    if family in ("apple_ios", "android"):
        return DeviceKind.MOBILE
    if family in ("cisco", "fortios", "panos", "junos"):
        return DeviceKind.NETWORK
    return DeviceKind.OTHER


def _stored_types(host: ScanHost) -> list[str]:
    return [service.get("device_type", "") for service in host.services if service.get("device_type")]


def os_cpe(os_cpes: Sequence[str]) -> str:
    """The OS as one CPE when the best guesses agree on the product (versions differing → version ANY);
    "" when nmap could not tell (Windows 7 or Vista or Server 2008 …)."""
    parsed = []
    for value in os_cpes:
        try:
            parsed.append(normalise.parse_cpe23(value).lower())
        except ValueError:
            continue
    if not parsed or len({(c.part, c.vendor, c.product) for c in parsed}) != 1:
        return ""
    first = parsed[0]
    if len({c.to_fs() for c in parsed}) > 1:
        first = dataclasses.replace(first, version=normalise.ANY, update=normalise.ANY, edition=normalise.ANY)
    return cpe_help.canonical(first.to_fs())


def _software(host: ScanHost) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    system = os_cpe(host.os_cpes)
    if system:
        seen.add(system)
        items.append({"name": host.os_guess[:200] or cpe_help.title_of(system), "cpe23": system})
    for service in host.services:
        for raw in service.get("cpe") or []:
            cpe = cpe_help.canonical(raw)
            if cpe in seen or not cpe.startswith("cpe:2.3:a:"):
                continue
            seen.add(cpe)
            name = service.get("product") or cpe_help.title_of(cpe) or service.get("name") or ""
            items.append({"name": name[:200], "version": (service.get("version") or "")[:100], "cpe23": cpe})
    return items


def host_row(host: ScanHost, scan: Scan, *, kind: str = "") -> dict[str, Any]:
    """The device a scan host becomes when registered (values for `devices_bulk_create`)."""
    name = host.hostname or ""
    short = reconcile.short_name(name)
    when = timezone.localtime(scan.started_at).strftime("%Y-%m-%d %H:%M") if scan.started_at else ""
    notes = _("ネットワークスキャン「%(name)s」（%(when)s）で検出して登録。") % {"name": scan.name, "when": when}
    if short and short != name.lower():
        notes += " " + _("DNS名: %(name)s") % {"name": name}
    ports = ", ".join(f"{s.get('port')}/{s.get('protocol')}" for s in host.services[:30])
    if ports:
        notes += " " + _("開いているポート: %(ports)s") % {"ports": ports}
    return {
        "kind": kind or guess_kind(host), "hostname": short[:200], "ip": host.ip or "", "mac": host.mac,
        "manufacturer": host.mac_vendor[:200], "os_name": host.os_guess[:200], "status": DeviceStatus.IN_USE,
        "first_registered": timezone.localdate(), "notes": notes, "software": _software(host),
    }


@transaction.atomic
def scan_register_hosts(*, actor: Actor, scan: Scan, host_ids: Sequence[int], kind: str = "") -> list[Device]:
    """Register the chosen unregistered hosts of a scan as devices (all or none)."""
    require(actor, Perm.ASSET_MANAGE)
    if not actor.is_system and actor.org_id != scan.institution_id:
        raise PermissionDenied(_("他の医療機関等のスキャンです。"))
    if kind and kind not in DeviceKind.values:
        raise ValidationError({"kind": _("機器の種類が正しくありません。")})
    wanted = {int(pk) for pk in host_ids}
    hosts = list(ScanHost.objects.select_for_update().filter(
        scan=scan, pk__in=wanted, outcome=ScanHost.Outcome.UNREGISTERED, device__isnull=True).order_by("pk"))
    if not hosts:
        raise ValidationError(_("登録できる未登録機器が選ばれていません（登録済みのものは除きます）。"))
    rows = [host_row(host, scan, kind=kind) for host in hosts]
    try:
        devices = ledger_services.devices_bulk_create(actor=actor, rows=rows, source=SoftwareSource.SCAN,
                                                      institution=scan.institution)
    except ledger_services.RowErrors as errors:
        messages = []
        for index, problems in sorted(errors.rows.items()):
            label = hosts[index].ip or hosts[index].mac or hosts[index].hostname
            messages.append(f"{label}: {' / '.join(problems.values())}")
        raise ValidationError(messages) from None
    for host, device in zip(hosts, devices, strict=True):
        host.device = device
    ScanHost.objects.bulk_update(hosts, ["device"], batch_size=BATCH)
    return devices


def local_date(value: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(value).date() if value else None
