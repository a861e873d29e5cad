"""Reads of the ledger, always through `scope` (except `device_index`, which the import and the
reconciliation call for an institution they already hold).

List pages run a fixed number of queries whatever the ledger's size: filtering and sorting happen in
the database, systems of the page's devices come in one prefetch, counts are one aggregate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from anzen.accounts.roles import Perm
from anzen.assets.models import (
    Device,
    DeviceKind,
    DeviceStatus,
    Disposal,
    InformationSystem,
    MediaLoan,
    PortableMedia,
    Software,
)
from anzen.common.permissions import Actor, get_scoped, scope

DEVICE_SORTS = ("hostname", "kind", "status", "ip", "mac", "owner", "os_name", "model_name", "location",
                "first_registered", "last_patch_date", "updated_at")
SYSTEM_SORTS = ("name", "category", "vendor", "hosting", "end_of_support", "devices")


def today() -> dt.date:
    return timezone.localdate()


# --- devices -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceFilter:
    q: str = ""
    kind: str = ""
    status: str = ""
    system: int | None = None
    remote: bool | None = None
    sort: str = "hostname"


def _sort_key(sort: str, allowed: tuple[str, ...], default: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    return (name, descending) if name in allowed else (default, False)


def devices(actor: Actor, *, criteria: DeviceFilter | None = None, institution: int | None = None,
            **filters: Any) -> QuerySet[Device]:
    """The actor's devices, filtered and sorted in the database (`criteria` or the same keywords)."""
    criteria = criteria or DeviceFilter(**filters)
    queryset = scope(actor, Device.objects.all(), Perm.ASSET_VIEW)
    if institution is not None:
        queryset = queryset.filter(institution_id=institution)
    if criteria.kind:
        queryset = queryset.filter(kind=criteria.kind)
    if criteria.status:
        queryset = queryset.filter(status=criteria.status)
    if criteria.system:
        queryset = queryset.filter(systems=criteria.system)
    if criteria.remote is not None:
        queryset = queryset.filter(remote_maintenance=criteria.remote)
    for word in criteria.q.split()[:5]:
        mac_word = word.lower().replace("-", ":")
        queryset = queryset.filter(
            Q(hostname__icontains=word) | Q(ip__startswith=word) | Q(mac__contains=mac_word)
            | Q(owner__icontains=word) | Q(model_name__icontains=word) | Q(serial__icontains=word)
            | Q(location__icontains=word) | Q(outlet__icontains=word)
        )
    name, descending = _sort_key(criteria.sort, DEVICE_SORTS, "hostname")
    order = f"-{name}" if descending else name
    return queryset.order_by(order, "-id" if descending else "id")


def device_page_rows(page_devices: QuerySet[Device] | list[Device]) -> list[Device]:
    """The page's devices with their systems (one query for the whole page)."""
    ids = [device.pk for device in page_devices]
    links: dict[int, list[InformationSystem]] = defaultdict(list)
    through = Device.systems.through.objects.filter(device_id__in=ids).select_related("informationsystem")
    for link in through.order_by("informationsystem__name"):
        links[link.device_id].append(link.informationsystem)
    rows = list(page_devices)
    for device in rows:
        device.system_list = links.get(device.pk, [])  # type: ignore[attr-defined]
    return rows


def device_detail(actor: Actor, pk: int) -> Device:
    return get_scoped(actor, Device.objects.select_related("institution").prefetch_related(
        Prefetch("systems", queryset=InformationSystem.objects.select_related("vendor", "remote_vendor")),
        Prefetch("software", queryset=Software.objects.order_by("name", "id")),
        Prefetch("disposals", queryset=Disposal.objects.order_by("-disposed_on")),
    ), Perm.ASSET_VIEW, pk=pk)


def device_scan_hosts(device: Device, limit: int = 5) -> list[Any]:
    """The device's latest sightings in network scans (newest first)."""
    from anzen.assets.models import ScanHost

    return list(ScanHost.objects.filter(device=device).select_related("scan")
                .order_by(F("scan__started_at").desc(nulls_last=True), "-scan_id")[:limit])


def software_item(actor: Actor, pk: int) -> Software:
    return get_scoped(actor, Software.objects.select_related("device"), Perm.ASSET_VIEW, pk=pk)


def device_index(institution_id: int, *, include_disposed: bool = False) -> dict[str, dict[str, list[int]]]:
    """{"mac"|"ip"|"hostname"|"serial": {value: [device ids]}} for an institution, in one query.

    Host names and serials are lower-cased (they are compared case-insensitively); disposed devices are
    left out unless asked for. Used for duplicate detection and scan reconciliation."""
    index: dict[str, dict[str, list[int]]] = {"mac": {}, "ip": {}, "hostname": {}, "serial": {}}
    rows = Device.objects.filter(institution_id=institution_id)
    if not include_disposed:
        rows = rows.exclude(status=DeviceStatus.DISPOSED)
    for pk, mac, ip, hostname, serial in rows.values_list("pk", "mac", "ip", "hostname", "serial").iterator(
            chunk_size=5000):
        for key, value in (("mac", mac), ("ip", ip), ("hostname", (hostname or "").lower()),
                           ("serial", (serial or "").lower())):
            if value:
                index[key].setdefault(value, []).append(pk)
    return index


# --- information systems ----------------------------------------------------------------------------


def systems(actor: Actor, *, sort: str = "name", q: str = "", category: str = "") -> QuerySet[InformationSystem]:
    queryset = scope(actor, InformationSystem.objects.select_related("vendor", "remote_vendor", "disclosure"),
                     Perm.ASSET_VIEW).annotate(device_count=Count("devices", distinct=True))
    if category:
        queryset = queryset.filter(category=category)
    for word in q.split()[:5]:
        queryset = queryset.filter(Q(name__icontains=word) | Q(product__icontains=word)
                                   | Q(vendor__name__icontains=word) | Q(vendor_name__icontains=word))
    name, descending = _sort_key(sort, SYSTEM_SORTS, "name")
    column = {"vendor": "vendor__name", "devices": "device_count"}.get(name, name)
    return queryset.order_by(f"-{column}" if descending else column, "id")


def system_detail(actor: Actor, pk: int) -> InformationSystem:
    return get_scoped(actor, InformationSystem.objects.select_related(
        "institution", "vendor", "remote_vendor", "disclosure"), Perm.ASSET_VIEW, pk=pk)


def system_devices(system: InformationSystem) -> QuerySet[Device]:
    return system.devices.order_by("hostname", "id")


def system_choices(actor: Actor) -> list[tuple[int, str]]:
    return list(scope(actor, InformationSystem.objects.all(), Perm.ASSET_VIEW)
                .order_by("name").values_list("pk", "name"))


# --- who reaches what (remote maintenance) ----------------------------------------------------------


@dataclass
class RemotePath:
    vendor: str
    vendor_id: int | None
    line_type: str
    line_label: str
    systems: list[InformationSystem] = field(default_factory=list)
    device_count: int = 0


def remote_paths(actor: Actor, *, institution: int | None = None) -> tuple[list[RemotePath], list[Device]]:
    """Vendor → line type → systems (with their devices under remote maintenance), and the devices
    flagged as remotely maintained that belong to no remotely maintained system (path unknown).
    Three queries."""
    remote_devices = Prefetch("devices", queryset=Device.objects.filter(remote_maintenance=True)
                              .exclude(status=DeviceStatus.DISPOSED).order_by("hostname", "id"),
                              to_attr="remote_devices")
    system_rows = (scope(actor, InformationSystem.objects.filter(remote_maintenance=True), Perm.ASSET_VIEW)
                   .select_related("remote_vendor", "vendor").prefetch_related(remote_devices)
                   .order_by("remote_vendor__name", "remote_line_type", "name"))
    device_rows = scope(actor, Device.objects.filter(remote_maintenance=True), Perm.ASSET_VIEW)
    if institution is not None:
        system_rows = system_rows.filter(institution_id=institution)
        device_rows = device_rows.filter(institution_id=institution)
    paths: dict[tuple[int | None, str, str], RemotePath] = {}
    covered: set[int] = set()
    for system in system_rows:
        vendor = system.remote_vendor
        vendor_label = vendor.name if vendor else (system.vendor_name or (system.vendor.name if system.vendor else ""))
        key = (vendor.pk if vendor else None, vendor_label, system.remote_line_type)
        path = paths.get(key)
        if path is None:
            path = paths[key] = RemotePath(vendor=vendor_label, vendor_id=key[0], line_type=system.remote_line_type,
                                           line_label=str(system.get_remote_line_type_display()))
        path.systems.append(system)
        path.device_count += len(system.remote_devices)
        covered.update(device.pk for device in system.remote_devices)
    orphans = list(device_rows.exclude(status=DeviceStatus.DISPOSED).exclude(systems__remote_maintenance=True)
                   .order_by("hostname", "id")[:500])
    return list(paths.values()), [device for device in orphans if device.pk not in covered]


def remote_devices(actor: Actor) -> QuerySet[Device]:
    """Devices under remote maintenance (the list attached to checklist item 2(2))."""
    return (scope(actor, Device.objects.filter(remote_maintenance=True), Perm.ASSET_VIEW)
            .exclude(status=DeviceStatus.DISPOSED).order_by("hostname", "id"))


# --- portable media and disposals -------------------------------------------------------------------


def media_list(actor: Actor, *, q: str = "", status: str = "") -> QuerySet[PortableMedia]:
    open_loans = Prefetch("loans", queryset=MediaLoan.objects.filter(returned_at__isnull=True)
                          .order_by("-checked_out_at"), to_attr="open_loans")
    queryset = scope(actor, PortableMedia.objects.all(), Perm.ASSET_VIEW).prefetch_related(open_loans)
    if status:
        queryset = queryset.filter(status=status)
    for word in q.split()[:5]:
        queryset = queryset.filter(Q(media_id__icontains=word) | Q(owner__icontains=word)
                                   | Q(location__icontains=word))
    return queryset.order_by("media_id", "id")


def media_detail(actor: Actor, pk: int) -> PortableMedia:
    return get_scoped(actor, PortableMedia.objects.prefetch_related(
        Prefetch("loans", queryset=MediaLoan.objects.select_related("recorded_by").order_by("-checked_out_at")),
        Prefetch("disposals", queryset=Disposal.objects.order_by("-disposed_on")),
    ), Perm.ASSET_VIEW, pk=pk)


def disposals(actor: Actor) -> QuerySet[Disposal]:
    return scope(actor, Disposal.objects.select_related("device", "media"), Perm.ASSET_VIEW).order_by(
        "-disposed_on", "-id")


def disposal_detail(actor: Actor, pk: int) -> Disposal:
    return get_scoped(actor, Disposal.objects.select_related("device", "media"), Perm.ASSET_VIEW, pk=pk)


# --- dashboard --------------------------------------------------------------------------------------


@dataclass
class LedgerSummary:
    total: int = 0
    by_kind: list[tuple[str, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    remote: int = 0
    systems: int = 0
    past_end_of_support: list[InformationSystem] = field(default_factory=list)
    last_scan: Any = None
    last_scan_unregistered: int | None = None


def ledger_summary(actor: Actor) -> LedgerSummary | None:
    """The dashboard's ledger panel: counts by kind and status (one aggregate), remote maintenance,
    systems past their end of support, and the last scan's unregistered hosts. None without access."""
    from anzen.assets.models import Scan, ScanHost

    if not actor.can(Perm.ASSET_VIEW):
        return None
    summary = LedgerSummary()
    kinds: dict[str, int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    counts = (scope(actor, Device.objects.all(), Perm.ASSET_VIEW).values("kind", "status", "remote_maintenance")
              .annotate(n=Count("id")).order_by())
    for row in counts:
        summary.total += row["n"]
        statuses[row["status"]] += row["n"]
        if row["status"] != DeviceStatus.DISPOSED:
            kinds[row["kind"]] += row["n"]
            if row["remote_maintenance"]:
                summary.remote += row["n"]
    kind_labels = dict(DeviceKind.choices)
    status_labels = dict(DeviceStatus.choices)
    summary.by_kind = [(str(kind_labels.get(kind, kind)), kinds[kind]) for kind in DeviceKind.values if kinds[kind]]
    summary.by_status = [(str(status_labels.get(status, status)), statuses[status]) for status in DeviceStatus.values
                         if statuses[status]]
    system_rows = scope(actor, InformationSystem.objects.all(), Perm.ASSET_VIEW)
    summary.systems = system_rows.count()
    summary.past_end_of_support = list(system_rows.filter(end_of_support__lt=today()).order_by("end_of_support")[:10])
    summary.last_scan = scope(actor, Scan.objects.all(), Perm.ASSET_VIEW).order_by(
        F("started_at").desc(nulls_last=True), "-id").first()
    if summary.last_scan is not None:
        summary.last_scan_unregistered = ScanHost.objects.filter(
            scan=summary.last_scan, outcome=ScanHost.Outcome.UNREGISTERED).count()
    return summary
