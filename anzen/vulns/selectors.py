"""Reads of the vulnerability watch, always through `scope`.

Every page runs a fixed number of queries whatever the number of findings: lists are filtered, sorted
and paged in the database, counts are aggregates, and the CVE texts of a page come in one query (the
finding → CVE reference has no database constraint, so CVE rows are looked up by id, never joined).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.roles import OrgKind, Perm
from anzen.assets.models import Device, Software
from anzen.common.permissions import Actor, get_scoped, scope
from anzen.vulns import contracts, lifecycle, severity
from anzen.vulns.models import Cve, JvnAdvisory
from anzen.vulns.models_watch import (
    CveTally,
    DeviceTally,
    Finding,
    FindingEvent,
    Notice,
    NoticeResponse,
    VendorContract,
    WatchItem,
)

SEVERITY_ORDER = ("critical", "high", "medium", "low", "none", "")
FINDING_SORTS = ("severity", "cve", "device", "status", "first_seen", "confidence")
MAX_ROWS = 50


def today() -> dt.date:
    return timezone.localdate()


def severity_rank(key: str) -> int:
    return SEVERITY_ORDER.index(key) if key in SEVERITY_ORDER else len(SEVERITY_ORDER)


# --- findings -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingFilter:
    q: str = ""
    severity: str = ""
    status: str = "open"  # open | closed | all | one status key
    confidence: str = ""
    kev: bool | None = None
    device: int | None = None
    system: int | None = None
    vendor: int | None = None
    cve: str = ""
    sort: str = "severity"


def findings(actor: Actor, criteria: FindingFilter | None = None) -> QuerySet[Finding]:
    criteria = criteria or FindingFilter()
    queryset = scope(actor, Finding.objects.select_related("device"), Perm.VULN_VIEW)
    if criteria.status == "open":
        queryset = queryset.filter(status__in=sorted(lifecycle.OPEN))
    elif criteria.status == "closed":
        queryset = queryset.exclude(status__in=sorted(lifecycle.OPEN))
    elif criteria.status in lifecycle.STATUSES:
        queryset = queryset.filter(status=criteria.status)
    if criteria.severity:
        queryset = queryset.filter(severity="" if criteria.severity == "unscored" else criteria.severity)
    if criteria.confidence:
        queryset = queryset.filter(confidence=criteria.confidence)
    if criteria.kev is not None:
        queryset = queryset.filter(kev=criteria.kev)
    if criteria.device:  # ids first (the device index): SQLite would rather walk the list's order index
        queryset = queryset.filter(pk__in=list(Finding.objects.filter(device_id=criteria.device)
                                               .values_list("pk", flat=True)))
    if criteria.system:
        queryset = queryset.filter(device__systems=criteria.system)
    if criteria.vendor:
        queryset = queryset.filter(Q(device__systems__vendor_id=criteria.vendor)
                                   | Q(device__systems__remote_vendor_id=criteria.vendor)).distinct()
    if criteria.cve:
        queryset = queryset.filter(cve_id=criteria.cve.strip().upper())  # CVE ids are stored upper-case: indexed
    for word in criteria.q.split()[:5]:
        queryset = queryset.filter(Q(cve__cve_id__icontains=word) | Q(device_label__icontains=word)
                                   | Q(identity__icontains=word) | Q(reason__icontains=word))
    orders = {
        "severity": ["-kev", "-score", "cve_id", "device_label", "id"],
        "cve": ["-cve_id", "device_label", "id"],
        "device": ["device_label", "-score", "cve_id", "id"],
        "status": ["status", "-score", "id"],
        "first_seen": ["-first_seen", "-score", "id"],
        "confidence": ["confidence", "-score", "id"],
    }
    return queryset.order_by(*orders.get(criteria.sort, orders["severity"]))


@dataclass(frozen=True)
class CveText:
    cve_id: str
    title: str
    kev: bool = False
    description_ja: str = ""


def cve_texts(cve_ids: Any) -> dict[str, CveText]:
    """Titles of the CVEs of a page (Japanese from JVN when there is one), in one query."""
    wanted = sorted({c for c in cve_ids if c})
    rows = Cve.objects.filter(cve_id__in=wanted).only("cve_id", "title_ja", "description_en", "kev", "description_ja")
    return {row.cve_id: CveText(row.cve_id, row.title, row.kev, row.description_ja) for row in rows}


def finding_detail(actor: Actor, pk: int) -> Finding:
    return get_scoped(actor, Finding.objects.select_related("device", "system", "institution"), Perm.VULN_VIEW, pk=pk)


def finding_events(finding: Finding) -> list[FindingEvent]:
    """The finding's history; its detection is the finding itself (the rematch writes no event row for it)."""
    events = list(finding.events.order_by("at", "id"))
    if not events or events[0].kind != FindingEvent.Kind.MATCHED:
        events.insert(0, FindingEvent(finding=finding, at=finding.first_seen, kind=FindingEvent.Kind.MATCHED,
                                      actor_name=_("自動照合"), to_status=lifecycle.NEW,
                                      note=finding.reason if not any(e.kind == "updated" for e in events) else ""))
    return events


def finding_notices(finding: Finding) -> list[Notice]:
    return list(finding.notices.select_related("vendor", "contract").order_by("-sent_on", "-id"))


# --- the board (dashboard of the watch) ---------------------------------------------------------------


@dataclass
class SeverityCount:
    key: str
    label: str
    count: int = 0
    kev: int = 0


@dataclass
class GroupRow:
    pk: int | None
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    kev: int = 0

    def cells(self) -> list[int]:
        return [self.counts.get(key, 0) for key in SEVERITY_ORDER]


@dataclass
class CveRow:
    cve_id: str
    title: str
    score: Any
    severity: str
    kev: bool
    devices: int

    @property
    def severity_label(self) -> str:
        return severity.label(self.severity)


@dataclass
class Board:
    severities: list[SeverityCount]
    total: int
    kev_total: int
    top: list[CveRow]
    by_system: list[GroupRow]
    by_vendor: list[GroupRow]
    overdue: list[Notice]
    open_notices: int
    needs_check: int  # open manual or possible findings
    no_cpe: int  # software rows without CPE (watch list)
    last_run: Any = None


def _open(actor: Actor) -> QuerySet[Finding]:
    return scope(actor, Finding.objects.all(), Perm.VULN_VIEW).filter(status__in=sorted(lifecycle.OPEN))


def _tallies(actor: Actor) -> QuerySet[DeviceTally]:
    """Open findings per device counted by severity, KEV and confidence (kept by the rematch)."""
    return scope(actor, DeviceTally.objects.all(), Perm.VULN_VIEW)


def severity_counts(actor: Actor) -> tuple[list[SeverityCount], int, int]:
    counts = {key: SeverityCount(key, severity.label(key)) for key in SEVERITY_ORDER}
    for key, kev, n in _tallies(actor).values_list("severity", "kev").annotate(n=Sum("count")).order_by():
        row = counts.setdefault(key, SeverityCount(key, severity.label(key)))
        row.count += n
        if kev:
            row.kev += n
    rows = [counts[key] for key in SEVERITY_ORDER]
    return rows, sum(r.count for r in rows), sum(r.kev for r in rows)


def open_summary(institution_id: int) -> dict[str, Any]:
    """An institution's open findings by severity and by confidence (the CLI's `vulns match` report)."""
    from anzen.vulns.models_watch import Confidence

    rows = list(Finding.objects.filter(institution_id=institution_id, status__in=sorted(lifecycle.OPEN))
                .values_list("severity", "confidence", "kev").annotate(n=Count("id")).order_by())
    by_severity = {key: 0 for key in SEVERITY_ORDER}
    by_confidence = {key: 0 for key in Confidence.values}
    for key, confidence, _kev, n in rows:
        by_severity[key] = by_severity.get(key, 0) + n
        by_confidence[confidence] = by_confidence.get(confidence, 0) + n
    return {
        "open": sum(n for *_rest, n in rows), "kev": sum(n for *_rest, kev, n in rows if kev),
        "by_severity": [{"key": key or "unscored", "label": severity.label_ja(key), "count": n}
                        for key, n in by_severity.items()],
        "by_confidence": [{"key": key, "label": str(Confidence(key).label), "count": n}
                          for key, n in by_confidence.items()],
    }


def top_cves(actor: Actor, limit: int = 20, *, kev_only: bool = False) -> list[CveRow]:
    """The CVEs with open findings, KEV first, then by score: how many devices each (from `CveTally`)."""
    queryset = scope(actor, CveTally.objects.all(), Perm.VULN_VIEW).filter(devices__gt=0)
    if kev_only:
        queryset = queryset.filter(kev=True)
    rows = list(queryset.order_by("-kev", "-score", "cve_id").values_list("cve_id", "score", "kev", "devices")[:limit])
    texts = cve_texts(r[0] for r in rows)
    return [CveRow(cve_id, texts[cve_id].title if cve_id in texts else "", score,
                   severity.label_for(score) if score is not None else "", kev, devices)
            for cve_id, score, kev, devices in rows]


def _tally_by_device(actor: Actor) -> dict[int, list[tuple[str, bool, int]]]:
    tallies: dict[int, list[tuple[str, bool, int]]] = defaultdict(list)
    for device_id, key, kev, n in _tallies(actor).values_list("device_id", "severity", "kev").annotate(
            n=Sum("count")).order_by():
        tallies[device_id].append((key, kev, n))
    return tallies


def _grouped(actor: Actor, tallies: dict[int, list[tuple[str, bool, int]]], id_path: str,
             name_path: str) -> list[GroupRow]:
    """Open findings by system or by vendor. A device counts once per group even when two of its systems
    fall in the same group (same vendor): (device, group) pairs are made distinct before summing."""
    rows: dict[int | None, GroupRow] = {}
    links = (scope(actor, Device.objects.all(), Perm.VULN_VIEW).filter(pk__in=_tallies(actor).values("device_id"))
             .values_list("pk", id_path, name_path).distinct().order_by())
    for device_id, pk, name in links:
        row = rows.setdefault(pk, GroupRow(pk, name or ""))
        for key, kev, n in tallies.get(device_id, ()):
            row.counts[key] = row.counts.get(key, 0) + n
            row.total += n
            if kev:
                row.kev += n
    ordered = sorted(rows.values(), key=lambda r: (r.pk is None, -r.kev, -r.counts.get("critical", 0), -r.total,
                                                   r.name))
    return ordered[:MAX_ROWS]


def board(actor: Actor, *, day: dt.date | None = None) -> Board | None:
    if actor.kind != OrgKind.INSTITUTION or not actor.can(Perm.VULN_VIEW):
        return None
    from anzen.vulns.services_watch import last_run

    day = day or today()
    severities, total, kev_total = severity_counts(actor)
    tallies = _tally_by_device(actor)
    return Board(
        severities=severities, total=total, kev_total=kev_total, top=top_cves(actor),
        by_system=_grouped(actor, tallies, "systems__id", "systems__name"),
        by_vendor=_grouped(actor, tallies, "systems__vendor_id", "systems__vendor__name"),
        overdue=overdue_notices(actor, day=day), open_notices=institution_notices(actor).exclude(
            status__in=sorted(contracts.CLOSED_NOTICE)).count(),
        needs_check=needs_check_count(actor),
        no_cpe=scope(actor, Software.objects.all(), Perm.VULN_VIEW).filter(no_cpe=True).count(),
        last_run=last_run(actor.org_id) if actor.org_id else None,
    )


# --- devices and CVEs ---------------------------------------------------------------------------------


def device_detail(actor: Actor, pk: int) -> Device:
    return get_scoped(actor, Device.objects.prefetch_related("systems"), Perm.VULN_VIEW, pk=pk)


def device_software(device: Device) -> list[Software]:
    return list(device.software.order_by("name", "pk"))


def device_findings(actor: Actor, device: Device) -> QuerySet[Finding]:
    return findings(actor, FindingFilter(device=device.pk, status="all"))


@dataclass
class ScoreRow:
    source: str
    origin: str
    version: str
    value: Any
    vector: str
    label: str
    chosen: bool = False


@dataclass
class CveView:
    cve_id: str
    cve: Cve | None
    scores: list[ScoreRow]
    advisories: list[JvnAdvisory]
    findings: list[Finding]
    references: list[str]
    affected: Any = None  # the actor's findings of this CVE (a queryset the page pages through)


def cve_view_public(cve_id: str) -> CveView:
    """A CVE from the (global, public) store with every CVSS source and its JVN advisories."""
    cve_id = cve_id.strip().upper()
    cve = Cve.objects.filter(cve_id=cve_id).first()
    scores: list[ScoreRow] = []
    advisories: list[JvnAdvisory] = []
    references: list[str] = []
    if cve is not None:
        for entry in severity.entries(cve.metrics):
            scores.append(ScoreRow(entry.source, entry.origin, entry.version, entry.value, entry.vector,
                                   severity.label(severity.label_for(entry.value)),
                                   chosen=(entry.value == cve.base_score and entry.version == cve.score_version
                                           and entry.source == cve.score_source)))
        scores.sort(key=lambda s: (not s.chosen, s.version.startswith("2"), s.source, s.version))
        jvn_ids = [j for j in (cve.jvn_ids or []) if isinstance(j, str) and j.startswith("JVNDB")]
        advisories = list(JvnAdvisory.objects.filter(jvndb_id__in=jvn_ids).order_by("jvndb_id")[:10])
        references = [str(r.get("url", "")) for r in (cve.record or {}).get("references", [])[:30]
                      if isinstance(r, dict) and str(r.get("url", "")).startswith(("http://", "https://"))]
    return CveView(cve_id, cve, scores, advisories, [], references)


def cve_view(actor: Actor, cve_id: str) -> CveView:
    """A CVE with every CVSS source, its JVN advisories and the actor's findings (404 for a CVE that is
    neither in the store nor among the actor's findings)."""
    from django.http import Http404

    view = cve_view_public(cve_id)
    view.affected = findings(actor, FindingFilter(cve=view.cve_id, status="all")).order_by("device_label", "id")
    if view.cve is None and not view.affected.exists():
        raise Http404
    return view


# --- notices ------------------------------------------------------------------------------------------


def institution_notices(actor: Actor) -> QuerySet[Notice]:
    return (scope(actor, Notice.objects.select_related("vendor", "contract"), Perm.VULN_VIEW)
            .filter(institution_id=actor.org_id))


def vendor_notices(actor: Actor) -> QuerySet[Notice]:
    """The notices addressed to the actor's organisation (a vendor's inbox)."""
    return (scope(actor, Notice.objects.select_related("institution", "contract"), Perm.NOTICE_ANSWER)
            .filter(vendor_id=actor.org_id))


def notices_by_status(queryset: QuerySet[Notice], status: str) -> QuerySet[Notice]:
    """The notices shown under a status filter, earliest report due first: "open" (the default) hides the
    closed ones, a known status keeps only it, anything else shows all (screens and API alike)."""
    if status == "open":
        queryset = queryset.exclude(status__in=sorted(contracts.CLOSED_NOTICE))
    elif status in contracts.NOTICE_STATUS_LABELS:
        queryset = queryset.filter(status=status)
    return queryset.order_by("report_due", "-pk")


def notice_for_institution(actor: Actor, pk: int) -> Notice:
    return get_scoped(actor, Notice.objects.select_related("vendor", "contract", "institution"), Perm.VULN_VIEW,
                      pk=pk)


def notice_for_vendor(actor: Actor, pk: int) -> Notice:
    return get_scoped(actor, Notice.objects.select_related("vendor", "contract", "institution"), Perm.NOTICE_ANSWER,
                      pk=pk)


def notice_findings(notice: Notice) -> list[Finding]:
    return list(notice.findings.select_related("device").order_by("device_label", "id")[:500])


def notice_responses(notice: Notice) -> list[NoticeResponse]:
    return list(notice.responses.select_related("organisation").order_by("created_at", "id"))


def response_for(actor: Actor, pk: int, perm: Perm) -> NoticeResponse:
    return get_scoped(actor, NoticeResponse.objects.select_related("notice"), perm, pk=pk)


@dataclass
class NoticeRow:
    notice: Notice
    title: str
    late: tuple[str, ...]
    devices: int = 0


def notice_rows(notices: list[Notice], day: dt.date) -> list[NoticeRow]:
    texts = cve_texts(n.cve_id for n in notices)
    counts = dict(Notice.findings.through.objects.filter(notice_id__in=[n.pk for n in notices])
                  .values_list("notice_id").annotate(n=Count("finding_id")).order_by())
    return [NoticeRow(n, texts[n.cve_id].title if n.cve_id in texts else "", contracts.overdue(n.due(), day),
                      counts.get(n.pk, 0)) for n in notices]


def overdue_notices(actor: Actor, *, day: dt.date | None = None) -> list[Notice]:
    day = day or today()
    candidates = list(institution_notices(actor).exclude(status__in=sorted(contracts.CLOSED_NOTICE))
                      .filter(Q(report_due__lt=day) | Q(countermeasure_due__lt=day))
                      .order_by("report_due", "pk")[:MAX_ROWS * 2])
    return [n for n in candidates if contracts.overdue(n.due(), day)][:MAX_ROWS]


def vendor_open_notices(actor: Actor) -> list[Notice]:
    return list(vendor_notices(actor).exclude(status__in=sorted(contracts.CLOSED_NOTICE))
                .order_by("report_due", "pk")[:MAX_ROWS])


# --- contracts and the watch list ---------------------------------------------------------------------


def contracts_for(actor: Actor) -> QuerySet[VendorContract]:
    perm = Perm.VULN_VIEW if actor.kind == OrgKind.INSTITUTION else Perm.NOTICE_ANSWER
    return (scope(actor, VendorContract.objects.select_related("vendor", "institution"), perm)
            .annotate(notice_count=Count("notices", distinct=True)).order_by("vendor__name", "title", "pk"))


def contract_detail(actor: Actor, pk: int) -> VendorContract:
    return get_scoped(actor, VendorContract.objects.select_related("vendor", "institution")
                      .prefetch_related("systems", "devices"), Perm.VULN_VIEW, pk=pk)


def vendor_choices(actor: Actor) -> list[tuple[int, str]]:
    from anzen.accounts.models import Organisation

    return list(Organisation.objects.filter(kind=OrgKind.VENDOR, customer_links__institution_id=actor.org_id,
                                            customer_links__is_active=True).order_by("name")
                .values_list("pk", "name"))


@dataclass
class WatchRow:
    software: Software
    item: WatchItem | None


def watchlist(actor: Actor) -> tuple[list[WatchRow], QuerySet[Finding]]:
    """Products without CPE (checked by hand, with notes; the first 500) and the open findings that need a
    manual check (a queryset the page pages through)."""
    software = list(scope(actor, Software.objects.select_related("device"), Perm.VULN_VIEW)
                    .filter(no_cpe=True).exclude(device__status="disposed").order_by("name", "version", "pk")[:500])
    items = {w.software_id: w for w in WatchItem.objects.filter(software__in=software)}
    manual = (_open(actor).filter(confidence__in=["manual", "possible"], device__isnull=False)
              .select_related("device").order_by("-kev", "-score", "cve_id", "pk"))
    return [WatchRow(s, items.get(s.pk)) for s in software], manual


def needs_check_count(actor: Actor) -> int:
    """Open manual or possible findings on the ledger's devices, from the tallies (counting millions of
    findings takes seconds on SQLite; the watch list pages through them with this count)."""
    return _tallies(actor).filter(confidence__in=["manual", "possible"]).aggregate(n=Sum("count"))["n"] or 0


def software_for_watch(actor: Actor, pk: int) -> Software:
    return get_scoped(actor, Software.objects.select_related("device"), Perm.VULN_MANAGE, pk=pk)


def group_by_cve(rows: list[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for row in rows:
        grouped[row.cve_id].append(row)
    return grouped
