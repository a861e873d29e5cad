"""The board's counts kept up to date (`DeviceTally`, `CveTally`): recomputed from the findings for the
devices and CVEs a rematch or a status change touched, so the board reads a few thousand rows instead of
grouping millions of findings on every visit.

Only open findings (new, notified, answered) of devices still in the ledger are counted: moving between
open statuses (notices) changes nothing here; opening or closing a finding, a new score, label, KEV flag
or confidence does, and those go through the rematch, `finding_set_status` and `expire_acceptances`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Case, Count, Max, Q, QuerySet, When

from anzen.vulns import lifecycle
from anzen.vulns.models_watch import CveTally, DeviceTally, Finding

CHUNK = 2000


OPEN = Q(status__in=sorted(lifecycle.OPEN))


def _findings(institution_id: int) -> QuerySet[Finding]:
    """The status is tested inside the aggregates, not in WHERE: the query then stays on the device or CVE
    index (SQLite otherwise may walk the status index over every open finding of the institution)."""
    return Finding.objects.filter(institution_id=institution_id, device__isnull=False).order_by()


def _score(value: object) -> Decimal | None:
    """MAX over a decimal comes back as a float on SQLite (9.80000000000000)."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))


def _device_rows(institution_id: int, device_ids: list[int] | None) -> list[DeviceTally]:
    queryset = _findings(institution_id)
    if device_ids is not None:
        queryset = queryset.filter(device_id__in=device_ids)
    return [DeviceTally(institution_id=institution_id, device_id=device_id, severity=severity, kev=kev,
                        confidence=confidence, count=n)
            for device_id, severity, kev, confidence, n in queryset.values_list(
                "device_id", "severity", "kev", "confidence").annotate(n=Count("id", filter=OPEN)) if n]


def _cve_rows(institution_id: int, cve_ids: list[str] | None) -> list[CveTally]:
    queryset = _findings(institution_id)
    if cve_ids is not None:
        queryset = queryset.filter(cve_id__in=cve_ids)
    rows = queryset.values_list("cve_id").annotate(
        devices=Count("device_id", distinct=True, filter=OPEN), score=Max("score", filter=OPEN),
        kev=Max(Case(When(OPEN & Q(kev=True), then=1), default=0)))
    return [CveTally(institution_id=institution_id, cve_id=cve_id, devices=devices, score=_score(score),
                     kev=bool(kev)) for cve_id, devices, score, kev in rows if devices]


def refresh(institution_id: int, *, devices: Iterable[int | None] | None = None,
            cves: Iterable[str] | None = None, everything: bool = False) -> None:
    """Recompute the tallies of these devices and CVEs (all of the institution's with `everything`)."""
    if everything:
        DeviceTally.objects.filter(institution_id=institution_id).delete()
        CveTally.objects.filter(institution_id=institution_id).delete()
        DeviceTally.objects.bulk_create(_device_rows(institution_id, None), batch_size=2000)
        CveTally.objects.bulk_create(_cve_rows(institution_id, None), batch_size=2000)
        return
    device_ids = sorted({d for d in devices or () if d is not None and d > 0})
    for start in range(0, len(device_ids), CHUNK):
        chunk = device_ids[start:start + CHUNK]
        DeviceTally.objects.filter(institution_id=institution_id, device_id__in=chunk).delete()
        DeviceTally.objects.bulk_create(_device_rows(institution_id, chunk), batch_size=2000)
    cve_ids = sorted(set(cves or ()))
    for start in range(0, len(cve_ids), CHUNK):
        chunk = cve_ids[start:start + CHUNK]
        CveTally.objects.filter(institution_id=institution_id, cve_id__in=chunk).delete()
        CveTally.objects.bulk_create(_cve_rows(institution_id, chunk), batch_size=2000)


def add(institution_id: int, devices: dict[tuple[int, str, bool, str], int],
        cves: dict[str, tuple[int, Decimal | None, bool]]) -> None:
    """Add new open findings to the tallies without reading the findings: `devices` counts them per
    (device, severity, KEV, confidence), `cves` gives per CVE the devices added, their highest score and
    whether one is KEV. Only for findings that did not exist before (a new finding adds one device to its
    CVE); the rematch recounts devices and CVEs whose existing findings changed with `refresh`."""
    device_ids = sorted({key[0] for key in devices})
    for start in range(0, len(device_ids), CHUNK):
        chunk = device_ids[start:start + CHUNK]
        merged = {key: n for key, n in devices.items() if chunk[0] <= key[0] <= chunk[-1]}
        stored = DeviceTally.objects.filter(institution_id=institution_id, device_id__in=chunk)
        for device_id, severity, kev, confidence, n in stored.values_list("device_id", "severity", "kev",
                                                                          "confidence", "count"):
            key = (device_id, severity, kev, confidence)
            merged[key] = merged.get(key, 0) + n
        stored.delete()
        DeviceTally.objects.bulk_create([
            DeviceTally(institution_id=institution_id, device_id=key[0], severity=key[1], kev=key[2],
                        confidence=key[3], count=n) for key, n in merged.items()], batch_size=2000)
    cve_ids = sorted(cves)
    for start in range(0, len(cve_ids), CHUNK):
        chunk = cve_ids[start:start + CHUNK]
        merged_cves = {cve_id: cves[cve_id] for cve_id in chunk}
        stored_cves = CveTally.objects.filter(institution_id=institution_id, cve_id__in=chunk)
        for cve_id, n, score, kev in stored_cves.values_list("cve_id", "devices", "score", "kev"):
            added, new_score, new_kev = merged_cves[cve_id]
            best = max((s for s in (score, new_score) if s is not None), default=None)
            merged_cves[cve_id] = (n + added, best, kev or new_kev)
        stored_cves.delete()
        CveTally.objects.bulk_create([
            CveTally(institution_id=institution_id, cve_id=cve_id, devices=n, score=score, kev=kev)
            for cve_id, (n, score, kev) in merged_cves.items()], batch_size=2000)
