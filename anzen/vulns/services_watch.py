"""Findings: the rematch of an institution's ledger against the CVE store, and status changes.

Rematch (see `rematch`):

1. read the ledger once: the devices in use and the CPE names of their software; group them into
   distinct software identities (golden images make these a few hundred for thousands of devices);
2. ask the engine (`engine.match_identities`) about the identities that need it — every identity for a
   full run; for an incremental run only new identities (all CVEs) and the known ones against the CVEs
   that feed imports changed since the last run (`engine.changed_cve_ids`);
3. compare the engine's answers with what the last run stored per (identity, CVE) (`MatchedIdentity`)
   and each device's identities with what it had then (`DeviceMatchState`): only the (device, CVE)
   pairs touched by a difference are evaluated and compared with the stored findings — so a run where
   little changed costs little whatever the ledger's size;
4. write the differences in bulk (`lifecycle.diff`: create, update, reopen, close as fixed — never
   delete), keep each change in `FindingEvent`, one audit entry per run, then let the contracts turn
   new or re-scored findings into notices (`notices.notify_findings`).

`rebuild=True` compares every stored finding with a fresh evaluation (repair; tests use it to check
that incremental runs agree with it). Status changes by hand go through `finding_set_status`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation
from anzen.accounts.roles import OrgKind, Perm
from anzen.assets.models import Device, DeviceStatus, Software
from anzen.common import audit
from anzen.common.permissions import Actor, require
from anzen.vulns import engine, lifecycle, services_tallies
from anzen.vulns.models import Cve, FeedImport
from anzen.vulns.models_watch import (
    CveTally,
    DeviceMatchState,
    DeviceTally,
    Finding,
    FindingEvent,
    MatchedIdentity,
    MatchRun,
)

CHUNK = 2000
FULL, INCREMENTAL, REBUILD = "full", "incremental", "rebuild"


@dataclass
class RematchReport:
    institution: str
    mode: str
    devices: int = 0
    identities: int = 0
    identities_matched: int = 0  # identities the engine evaluated in this run
    cves_changed: int = 0  # CVEs changed by feed imports since the last run (incremental)
    keys_checked: int = 0  # (device, CVE) pairs compared with the stored findings
    created: int = 0
    reopened: int = 0
    updated: int = 0
    rescored: int = 0
    closed: int = 0
    notices: int = 0
    seconds: float = 0.0
    finding_ids: list[int] = field(default_factory=list, repr=False)  # new, reopened or re-scored

    @property
    def changed(self) -> int:
        return self.created + self.reopened + self.updated + self.closed

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "reopened": self.reopened, "updated": self.updated,
                "rescored": self.rescored, "closed": self.closed, "notices": self.notices}


# --- the ledger as the matcher sees it ----------------------------------------------------------------


@dataclass
class Ledger:
    device_ids: set[int]
    cpes: dict[int, frozenset[str]]  # device → its identities (normalised CPE 2.3 names)
    devices_of: dict[str, list[int]]  # identity → devices
    identities: dict[str, engine.Identity]

    def fingerprint(self, device_id: int) -> str:
        names = "\n".join(sorted(self.cpes.get(device_id, ())))
        return hashlib.sha1(names.encode(), usedforsecurity=False).hexdigest()


def _normal(cpe23: str, cache: dict[str, tuple[str, engine.Identity] | None]) -> tuple[str, engine.Identity] | None:
    if cpe23 not in cache:
        try:
            identity = engine.Identity.from_cpe23(cpe23)
            cache[cpe23] = (identity.cpe23(), identity)
        except ValueError:
            cache[cpe23] = None
    return cache[cpe23]


def load_ledger(institution_id: int) -> Ledger:
    """Devices in use (or in stock) and the CPE names of their software, in two queries."""
    device_ids = set(Device.objects.filter(institution_id=institution_id).exclude(status=DeviceStatus.DISPOSED)
                     .values_list("pk", flat=True))
    rows = (Software.objects.filter(device__institution_id=institution_id, no_cpe=False)
            .exclude(device__status=DeviceStatus.DISPOSED).exclude(cpe23="")
            .values_list("device_id", "cpe23").iterator(chunk_size=10000))
    cache: dict[str, tuple[str, engine.Identity] | None] = {}
    cpes: dict[int, set[str]] = defaultdict(set)
    identities: dict[str, engine.Identity] = {}
    for device_id, cpe23 in rows:
        normal = _normal(cpe23, cache)
        if normal is None:
            continue
        key, identity = normal
        cpes[device_id].add(key)
        identities[key] = identity
    devices_of: dict[str, list[int]] = defaultdict(list)
    frozen: dict[int, frozenset[str]] = {}
    shared: dict[frozenset[str], frozenset[str]] = {}
    for device_id, names in cpes.items():
        key = frozenset(names)
        frozen[device_id] = shared.setdefault(key, key)  # golden images share one set
        for name in names:
            devices_of[name].append(device_id)
    return Ledger(device_ids, frozen, dict(devices_of), identities)


# --- what the engine says -----------------------------------------------------------------------------

PairValue = tuple[str, str, tuple[str, ...], Decimal | None, str, bool]  # confidence, reason, platform, score …


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _scores(cve_ids: Iterable[str]) -> dict[str, tuple[Decimal | None, str, bool]]:
    wanted = sorted(set(cve_ids))
    found: dict[str, tuple[Decimal | None, str, bool]] = {}
    for chunk in _chunks(wanted):
        for cve_id, score, severity, kev in Cve.objects.filter(cve_id__in=chunk).values_list(
                "cve_id", "base_score", "severity", "kev"):
            found[cve_id] = (score, severity, kev)
    return found


def _engine_pairs(ledger: Ledger, names: Iterable[str], cve_ids: set[str] | None) -> dict[tuple[str, str], PairValue]:
    wanted = [ledger.identities[name] for name in names]
    if not wanted:
        return {}
    hits = engine.match_identities(wanted, cve_ids=cve_ids)
    pairs: dict[tuple[str, str], tuple[str, str, tuple[str, ...]]] = {}
    for identity, found in hits.items():
        name = identity.cpe23()
        for hit in found:
            pairs[(name, hit.cve_id)] = (hit.confidence, hit.reason, tuple(hit.requires_platform))
    scores = _scores(cve for _name, cve in pairs)
    return {key: (*value, *scores.get(key[1], (None, "", False))) for key, value in pairs.items()}


PAIR_FIELDS = ("identity", "cve_id", "confidence", "reason", "requires_platform", "score", "severity", "kev")


def _as_pairs(batches: Iterable[Iterable[tuple[Any, ...]]]) -> dict[tuple[str, str], PairValue]:
    """Stored answers (rows of PAIR_FIELDS, in batches) by (identity, CVE)."""
    return {(name, cve_id): (confidence, reason, tuple(platform or ()), score, severity, kev)
            for batch in batches for name, cve_id, confidence, reason, platform, score, severity, kev in batch}


def _stored_pairs(institution_id: int, cve_ids: set[str] | None) -> dict[tuple[str, str], PairValue]:
    queryset = MatchedIdentity.objects.filter(institution_id=institution_id)
    if cve_ids is None:
        return _as_pairs([queryset.values_list(*PAIR_FIELDS).iterator(chunk_size=10000)])
    return _as_pairs(queryset.filter(cve_id__in=chunk).values_list(*PAIR_FIELDS) for chunk in _chunks(sorted(cve_ids)))


# --- candidates for (device, CVE) pairs ---------------------------------------------------------------


class Evaluator:
    """Candidates per (device, CVE) from the per-identity answers, with the AND-platform check cached per
    (set of device CPE names, platform criteria): devices built from one image share the answer."""

    def __init__(self, ledger: Ledger, pairs: dict[tuple[str, str], PairValue],
                 fallback: Callable[[set[tuple[str, str]]], dict[tuple[str, str], PairValue]] | None = None) -> None:
        self.ledger = ledger
        self.by_identity: dict[str, dict[str, PairValue]] = defaultdict(dict)
        for (name, cve_id), value in pairs.items():
            self.by_identity[name][cve_id] = value
        self._fallback = fallback
        self._platform: dict[tuple[str, tuple[str, ...]], bool] = {}
        self._groups: dict[frozenset[str], list[lifecycle.Candidate]] = {}

    def prepare(self, keys: Iterable[lifecycle.Key]) -> None:
        """Load the stored answers that evaluating these (device, CVE) pairs needs beyond `pairs`."""
        if self._fallback is None:
            return
        needed = {(name, cve_id) for device_id, cve_id in keys for name in self.ledger.cpes.get(device_id, ())}
        for (name, cve_id), value in self._fallback(needed).items():
            self.by_identity[name].setdefault(cve_id, value)
        self._groups.clear()  # answers were added

    def _ok(self, device_cpes: frozenset[str], platform: tuple[str, ...]) -> bool:
        """A device has the platform when one of its CPE names has it: cached per (name, platform), which
        the images share far more than whole sets of names."""
        if not platform:
            return True
        for name in device_cpes:
            key = (name, platform)
            if key not in self._platform:
                self._platform[key] = engine.platform_satisfied(platform, (name,))
            if self._platform[key]:
                return True
        return False

    def _candidate(self, device_id: int, cve_id: str, options: list[tuple[str, PairValue]]) -> lifecycle.Candidate:
        made = [lifecycle.Candidate(device_id, cve_id, name, value[0], value[1], value[3], value[4], value[5])
                for name, value in options]
        return made[0] if len(made) == 1 else lifecycle.best(made)

    def _group(self, names: frozenset[str]) -> list[lifecycle.Candidate]:
        """The candidates of any device with exactly these CPE names (device_id 0), computed once per set:
        devices installed from one golden image share it."""
        if names not in self._groups:
            options: dict[str, list[tuple[str, PairValue]]] = defaultdict(list)
            for name in names:
                for cve_id, value in self.by_identity.get(name, {}).items():
                    if self._ok(names, value[2]):
                        options[cve_id].append((name, value))
            self._groups[names] = [self._candidate(0, cve_id, found) for cve_id, found in options.items()]
        return self._groups[names]

    def group_of(self, device_id: int) -> list[lifecycle.Candidate]:
        """The candidates of this device with device_id 0 (shared by the devices of its image)."""
        return self._group(self.ledger.cpes.get(device_id, frozenset()))

    def device(self, device_id: int) -> dict[lifecycle.Key, lifecycle.Candidate]:
        names = self.ledger.cpes.get(device_id, frozenset())
        return {(device_id, c.cve_id): dataclasses.replace(c, device_id=device_id) for c in self._group(names)}

    def template(self, names: frozenset[str], cve_id: str) -> lifecycle.Candidate | None:
        """The candidate (device_id 0) of any device with these CPE names for one CVE."""
        found = [(name, value) for name in names
                 if (value := self.by_identity.get(name, {}).get(cve_id)) is not None and self._ok(names, value[2])]
        return self._candidate(0, cve_id, found) if found else None

    def pair(self, device_id: int, cve_id: str) -> lifecycle.Candidate | None:
        names = self.ledger.cpes.get(device_id, frozenset())
        found = [(name, value) for name in names
                 if (value := self.by_identity.get(name, {}).get(cve_id)) is not None and self._ok(names, value[2])]
        return self._candidate(device_id, cve_id, found) if found else None


# --- stored findings ----------------------------------------------------------------------------------

_EXISTING = ("pk", "device_id", "cve_id", "status", "identity", "confidence", "reason", "score", "severity", "kev")


def _existing(rows: Iterable[tuple[Any, ...]]) -> dict[lifecycle.Key, lifecycle.Existing]:
    return {(row[1], row[2]): lifecycle.Existing(*row) for row in rows}


def _existing_for_devices(institution_id: int, device_ids: Iterable[int]) -> dict[lifecycle.Key, lifecycle.Existing]:
    found: dict[lifecycle.Key, lifecycle.Existing] = {}
    base = Finding.objects.filter(institution_id=institution_id).order_by()  # no ORDER BY: keep the device index
    for chunk in _chunks(sorted(device_ids)):
        found.update(_existing(base.filter(device_id__in=chunk).values_list(*_EXISTING)))
    return found


def _existing_for_keys(institution_id: int, keys: set[lifecycle.Key]) -> dict[lifecycle.Key, lifecycle.Existing]:
    by_cve: dict[str, set[int]] = defaultdict(set)
    for device_id, cve_id in keys:
        by_cve[cve_id].add(device_id)
    found: dict[lifecycle.Key, lifecycle.Existing] = {}
    base = Finding.objects.filter(institution_id=institution_id, device__isnull=False).order_by()
    for chunk in _chunks(sorted(by_cve)):
        for row in base.filter(cve_id__in=chunk).values_list(*_EXISTING).iterator(chunk_size=10000):
            if (row[1], row[2]) in keys:
                found[(row[1], row[2])] = lifecycle.Existing(*row)
    return found


def _cves_without_findings(institution_id: int, cve_ids: set[str]) -> set[str]:
    wanted = sorted(cve_ids)
    seen: set[str] = set()
    base = Finding.objects.filter(institution_id=institution_id).order_by()
    for chunk in _chunks(wanted):
        seen.update(base.filter(cve_id__in=chunk).values_list("cve_id", flat=True).distinct())
    return set(wanted) - seen


# --- writing ------------------------------------------------------------------------------------------


def _actor_name(actor: Actor | None) -> str:
    if actor is None or actor.user is None:
        return _("自動照合")
    return str(actor.user)


def _labels(device_ids: Iterable[int]) -> dict[int, str]:
    labels: dict[int, str] = {}
    for chunk in _chunks(sorted(set(device_ids))):
        for pk, hostname, model, mac in Device.objects.filter(pk__in=chunk).values_list(
                "pk", "hostname", "model_name", "mac"):
            labels[pk] = (hostname or model or mac or f"#{pk}")[:200]
    return labels


def _has_contracts(institution_id: int, now: dt.datetime) -> bool:
    from anzen.vulns import notices

    return bool(notices.active_contracts(institution_id, timezone.localdate(now)))


def _write(institution: Organisation, result: lifecycle.Diff, fresh: list[tuple[int, list[lifecycle.Candidate]]],
           *, gone: set[int], now: dt.datetime, actor: Actor | None, new_ids: bool = True) -> list[int]:
    """Apply a diff and the findings of devices seen for the first time in bulk; returns the ids of new
    (only when `new_ids`: without a contract nobody is notified, and a first run creates millions),
    reopened and re-scored findings."""
    user = actor.user if actor else None
    who = _actor_name(actor)
    events: list[FindingEvent] = []
    pairs = itertools.chain(((c.device_id, c) for c in result.create),
                            ((device_id, c) for device_id, group in fresh for c in group))
    devices = {c.device_id for c in result.create} | {device_id for device_id, _group in fresh}
    created = _insert_created(institution.pk, pairs, devices, now, new_ids=new_ids)
    changed: list[Finding] = []
    for found, candidate in result.update:
        changed.append(Finding(pk=found.finding_id, identity=candidate.identity, confidence=candidate.confidence,
                               reason=candidate.reason, score=candidate.score, severity=candidate.severity,
                               kev=candidate.kev, updated_at=now))
        rescored = found.finding_id in result.rescored
        note = (_("CVSS %(old)s → %(new)s") % {"old": found.score if found.score is not None else "-",
                                               "new": candidate.score if candidate.score is not None else "-"}
                if rescored else candidate.reason)
        events.append(FindingEvent(finding_id=found.finding_id, at=now, actor=user, actor_name=who, note=note,
                                   kind=FindingEvent.Kind.RESCORED if rescored else FindingEvent.Kind.UPDATED,
                                   from_status=found.status, to_status=found.status))
    Finding.objects.bulk_update(changed, ["identity", "confidence", "reason", "score", "severity", "kev",
                                          "updated_at"], batch_size=1000)
    reopened = [Finding(pk=found.finding_id, identity=c.identity, confidence=c.confidence, reason=c.reason,
                        score=c.score, severity=c.severity, kev=c.kev, status=lifecycle.NEW, status_note="",
                        accepted_until=None, closed_at=None, updated_at=now) for found, c in result.reopen]
    Finding.objects.bulk_update(reopened, ["identity", "confidence", "reason", "score", "severity", "kev", "status",
                                           "status_note", "accepted_until", "closed_at", "updated_at"],
                                batch_size=1000)
    events += [FindingEvent(finding_id=found.finding_id, at=now, kind=FindingEvent.Kind.REOPENED, actor=user,
                            actor_name=who, from_status=found.status, to_status=lifecycle.NEW, note=c.reason)
               for found, c in result.reopen]
    closed: list[Finding] = []
    for found in result.close:
        if found.device_id in gone or found.device_id is None or found.device_id < 0:
            note = _("機器が台帳にない（廃棄・削除）ため解消としました。")
        else:
            note = _("台帳のソフトウェアまたは CVE の構成情報が変わり、該当しなくなったため解消としました。")
        closed.append(Finding(pk=found.finding_id, status=lifecycle.FIXED, status_note=note, closed_at=now,
                              updated_at=now))
        events.append(FindingEvent(finding_id=found.finding_id, at=now, kind=FindingEvent.Kind.CLOSED, actor=user,
                                   actor_name=who, from_status=found.status, to_status=lifecycle.FIXED, note=note))
    Finding.objects.bulk_update(closed, ["status", "status_note", "closed_at", "updated_at"], batch_size=1000)
    FindingEvent.objects.bulk_create(events, batch_size=2000)
    return created + [found.finding_id for found, _c in result.reopen] + sorted(result.rescored)


_INSERT_COLUMNS = ("created_at", "updated_at", "institution_id", "device_id", "device_label", "cve_id", "identity",
                   "confidence", "reason", "score", "severity", "kev", "status", "status_note", "first_seen")


def _insert_created(institution_id: int, create: Iterable[tuple[int, lifecycle.Candidate]], devices: set[int],
                    now: dt.datetime, *, new_ids: bool = True) -> list[int]:
    """New findings through the driver's executemany of one prepared INSERT (prepared tuples, no model
    instances: the ORM's compilation cost several times the database's own work). It beats multi-row
    VALUES statements on both backends: psycopg pipelines it, and SQLite reuses one statement (~40,000
    vs ~30,000 rows/s measured; long statements cost more to parse than to run). The finding's
    creation is its own history entry (first_seen, reason; see selectors.finding_events), and the run's
    audit entry counts them — a FindingEvent row per new finding would double the writes."""
    if not devices:
        return []
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    labels = _labels(devices)
    table = connection.ops.quote_name(Finding._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _INSERT_COLUMNS)
    scores: dict[Decimal | None, Any] = {}  # a few dozen distinct scores: adapt each once

    def score(value: Decimal | None) -> Any:
        if value not in scores:
            scores[value] = ops.adapt_decimalfield_value(value, 3, 1)
        return scores[value]

    rows = ((at, at, institution_id, device_id, labels.get(device_id, ""), c.cve_id, c.identity, c.confidence,
             c.reason, score(c.score), c.severity, c.kev, lifecycle.NEW, "", at)
            for device_id, c in create)
    insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))})"  # noqa: S608
    with connection.cursor() as cursor:  # (quoted names, not input)
        while batch := list(itertools.islice(rows, 5000)):
            cursor.executemany(insert, batch)
    if not new_ids:
        return []
    return list(Finding.objects.filter(institution_id=institution_id, first_seen=now, created_at=now).order_by()
                .values_list("pk", flat=True))


def _save_pairs(institution_id: int, pairs: dict[tuple[str, str], PairValue],
                stored: dict[tuple[str, str], PairValue], *, scope_names: set[str] | None,
                scope_cves: set[str] | None) -> None:
    """Make MatchedIdentity say `pairs` within the scope looked at (names × cves; None = all)."""
    def inside(key: tuple[str, str]) -> bool:
        return (scope_names is None or key[0] in scope_names) and (scope_cves is None or key[1] in scope_cves)

    stale = [key for key, value in stored.items() if inside(key) and pairs.get(key) != value]
    fresh = [key for key, value in pairs.items() if inside(key) and stored.get(key) != value]
    base = MatchedIdentity.objects.filter(institution_id=institution_id)
    by_name: dict[str, list[str]] = defaultdict(list)
    for name, cve_id in stale:
        by_name[name].append(cve_id)
    for name, cve_ids in by_name.items():
        for chunk in _chunks(cve_ids):
            base.filter(identity=name, cve_id__in=chunk).delete()
    MatchedIdentity.objects.bulk_create([
        MatchedIdentity(institution_id=institution_id, identity=name, cve_id=cve_id, confidence=value[0],
                        reason=value[1], requires_platform=list(value[2]), score=value[3], severity=value[4],
                        kev=value[5]) for (name, cve_id) in fresh for value in (pairs[(name, cve_id)],)
    ], batch_size=1000)


def _save_fingerprints(institution_id: int, ledger: Ledger, devices: Iterable[int], stored: dict[int, str]) -> None:
    current = [d for d in devices if d in ledger.device_ids]
    gone = [d for d in devices if d not in ledger.device_ids and d in stored]
    for chunk in _chunks(sorted(gone)):
        DeviceMatchState.objects.filter(device_id__in=chunk).delete()
    update = [DeviceMatchState(device_id=d, institution_id=institution_id, fingerprint=ledger.fingerprint(d))
              for d in current if d in stored]
    DeviceMatchState.objects.bulk_update(update, ["fingerprint"], batch_size=1000)
    DeviceMatchState.objects.bulk_create(
        [DeviceMatchState(device_id=d, institution_id=institution_id, fingerprint=ledger.fingerprint(d))
         for d in current if d not in stored], batch_size=1000)


# --- the rematch --------------------------------------------------------------------------------------


def _check_institution(actor: Actor | None, institution: Organisation) -> None:
    if institution.kind != OrgKind.INSTITUTION:
        raise ValidationError(_("照合できるのは医療機関等の台帳だけです。"))
    if actor is not None and not actor.is_system:
        require(actor, Perm.VULN_MANAGE)
        if actor.org_id != institution.pk:
            raise PermissionDenied(_("自組織の台帳だけを照合できます。"))


def last_run(institution_id: int) -> MatchRun | None:
    return MatchRun.objects.filter(institution_id=institution_id).order_by("-at", "-id").first()


def ledger_signature(institution_id: int) -> str:
    """Changes whenever software or devices of the institution are added, edited or removed (two queries)."""
    software = Software.objects.filter(device__institution_id=institution_id).aggregate(n=Count("pk"),
                                                                                        at=Max("updated_at"))
    devices = Device.objects.filter(institution_id=institution_id).aggregate(n=Count("pk"), at=Max("updated_at"))
    return f"{software['n']}|{software['at']}|{devices['n']}|{devices['at']}"


@dataclass
class Pending:
    never: bool  # never matched
    feed_imports: int  # feed imports since the last run
    ledger: bool  # the ledger changed since the last run

    @property
    def any(self) -> bool:
        return self.never or bool(self.feed_imports) or self.ledger


def pending_changes(institution_id: int) -> Pending:
    """What happened since the institution's last rematch (the board offers a rematch; the daily task runs one)."""
    previous = last_run(institution_id)
    if previous is None:
        return Pending(True, FeedImport.objects.count(), True)
    imports = FeedImport.objects.filter(pk__gt=previous.last_import_id or 0).count()
    return Pending(False, imports, (previous.counts or {}).get("ledger") != ledger_signature(institution_id))


@transaction.atomic
def rematch(*, institution: Organisation, actor: Actor | None = None, full: bool = False, rebuild: bool = False,
            device_ids: Iterable[int] = (), notify: bool = True, now: dt.datetime | None = None) -> RematchReport:
    """Bring the institution's findings up to date with its ledger and the CVE store.

    Incremental by default: devices whose software changed since the last run (and `device_ids`) are
    evaluated afresh, and every identity is checked against the CVEs that feed imports changed since
    then. The first run of an institution, `full` and `rebuild` evaluate every identity against every CVE.

    Reasons are stored text, compared on every run: they are always written in the site's language
    (LANGUAGE_CODE, Japanese), whoever runs the match, or a run from an English screen or `--lang en`
    would rewrite every finding.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _rematch(institution=institution, actor=actor, full=full, rebuild=rebuild, device_ids=device_ids,
                        notify=notify, now=now)


def _rematch(*, institution: Organisation, actor: Actor | None, full: bool, rebuild: bool,
             device_ids: Iterable[int], notify: bool, now: dt.datetime | None) -> RematchReport:
    _check_institution(actor, institution)
    started = time.perf_counter()
    now = now or timezone.now()
    Organisation.objects.select_for_update().filter(pk=institution.pk).first()  # one rematch at a time
    previous = last_run(institution.pk)
    mode = REBUILD if rebuild else FULL if (full or previous is None) else INCREMENTAL
    import_id = FeedImport.objects.aggregate(last=Max("pk"))["last"]
    signature = ledger_signature(institution.pk)  # before reading: a change made meanwhile shows as pending
    ledger = load_ledger(institution.pk)
    report = RematchReport(institution=institution.code, mode=mode, devices=len(ledger.device_ids),
                           identities=len(ledger.identities))
    stored_fp = dict(DeviceMatchState.objects.filter(institution_id=institution.pk)
                     .values_list("device_id", "fingerprint"))
    changed_devices = {d for d in ledger.device_ids if stored_fp.get(d) != ledger.fingerprint(d)}
    changed_devices |= {d for d in stored_fp if d not in ledger.device_ids}
    changed_devices |= {d for d in device_ids if d in ledger.device_ids or d in stored_fp}
    gone = {d for d in stored_fp if d not in ledger.device_ids}
    answered_cves: set[str] | None = None  # CVEs the evaluator knows for every identity (None: all)
    if mode == INCREMENTAL:
        evaluator, changed_pairs, answered_cves = _incremental_answers(institution.pk, ledger, changed_devices,
                                                                       previous, report)
    else:
        pairs = _engine_pairs(ledger, list(ledger.identities), None)
        stored = _stored_pairs(institution.pk, None)
        report.identities_matched = len(ledger.identities)
        changed_pairs = {key for key in set(pairs) | set(stored) if pairs.get(key) != stored.get(key)}
        _save_pairs(institution.pk, pairs, stored, scope_names=None, scope_cves=None)
        evaluator = Evaluator(ledger, pairs)
        if mode == REBUILD:
            changed_devices |= ledger.device_ids
            changed_devices |= set(Finding.objects.filter(institution_id=institution.pk, device__isnull=False)
                                   .order_by().values_list("device_id", flat=True).distinct())

    candidates: dict[lifecycle.Key, lifecycle.Candidate] = {}
    existing = _existing_for_devices(institution.pk, changed_devices)
    with_findings = {device_id for device_id, _cve in existing}
    fresh: list[tuple[int, list[lifecycle.Candidate]]] = []  # devices without any finding yet: all new
    for device_id in changed_devices:
        if device_id in with_findings:
            candidates.update(evaluator.device(device_id))
        elif device_id in ledger.device_ids and (group := evaluator.group_of(device_id)):
            fresh.append((device_id, group))  # the group's candidates are shared, not copied per device
    # CVEs that no finding of the institution names yet (typically new to the store): every match is a
    # creation, so it fans out per image like a new device instead of going through the pair-level diff
    answered = answered_cves if answered_cves is not None else {cve for _name, cve in changed_pairs}
    unseen = _cves_without_findings(institution.pk, {cve for _name, cve in changed_pairs} & answered)
    keys: set[lifecycle.Key] = set()
    spread: dict[int, set[str]] = defaultdict(set)
    for name, cve_id in changed_pairs:
        target = spread if cve_id in unseen else None
        for device_id in ledger.devices_of.get(name, ()):
            if device_id in changed_devices:
                continue
            if target is None:
                keys.add((device_id, cve_id))
            else:
                target[device_id].add(cve_id)
    shared: dict[tuple[frozenset[str], frozenset[str]], list[lifecycle.Candidate]] = {}
    for device_id, cve_ids in spread.items():
        names = ledger.cpes.get(device_id, frozenset())
        key = (names, frozenset(cve_ids))
        if key not in shared:
            shared[key] = [c for cve_id in sorted(cve_ids) if (c := evaluator.template(names, cve_id)) is not None]
        if shared[key]:
            fresh.append((device_id, shared[key]))
    evaluator.prepare(keys)
    for key in keys:
        candidate = evaluator.pair(*key)
        if candidate is not None:
            candidates[key] = candidate
    existing.update(_existing_for_keys(institution.pk, keys))
    if mode != INCREMENTAL:  # findings of deleted devices (device set to NULL) close on full runs
        orphans = Finding.objects.filter(institution_id=institution.pk, device__isnull=True).order_by().exclude(
            status__in=lifecycle.KEPT_WHEN_UNMATCHED).values_list(*_EXISTING)
        existing.update({(-row[0], row[2]): lifecycle.Existing(*row) for row in orphans})
    fresh_count = sum(len(group) for _device, group in fresh)
    report.keys_checked = len(existing.keys() | candidates.keys()) + fresh_count
    result = lifecycle.diff(candidates, existing)
    report.created, report.reopened = len(result.create) + fresh_count, len(result.reopen)
    report.updated, report.rescored, report.closed = len(result.update), len(result.rescored), len(result.close)
    if result.changed or fresh:
        report.finding_ids = _write(institution, result, fresh, gone=gone, now=now, actor=actor,
                                    new_ids=notify and _has_contracts(institution.pk, now))
    _save_fingerprints(institution.pk, ledger, changed_devices, stored_fp)
    _refresh_tallies(institution.pk, result, fresh, everything=mode == REBUILD)
    if report.changed >= ANALYZE_AFTER and connection.vendor == "postgresql":
        _analyze()
    if notify and report.finding_ids:
        from anzen.vulns import notices

        report.notices = len(notices.notify_findings(institution=institution, finding_ids=report.finding_ids,
                                                     actor=actor, now=now))
    report.seconds = round(time.perf_counter() - started, 3)
    MatchRun.objects.create(institution=institution, at=now, mode=mode, last_import_id=import_id,
                            counts={**report.counts(), "ledger": signature},
                            seconds=report.seconds)
    if result.changed or fresh or report.notices:
        audit.record(audit.Action.UPDATE, object_type_label="vulns.finding", object_id=str(institution.pk),
                     object_repr=institution.name,
                     message=_("脆弱性の照合（%(mode)s）: 新規 %(created)s件・再検出 %(reopened)s件・更新 %(updated)s件"
                               "・解消 %(closed)s件・通知 %(notices)s件")
                     % {"mode": mode, **report.counts()})
    return report


ANALYZE_AFTER = 10_000  # rows written by one run


def _analyze() -> None:
    """Fresh planner statistics after a large write (PostgreSQL; autovacuum would get there later): on a
    first run's tables the planner otherwise expects a handful of rows and sorts every finding of the
    institution for the list's first page (0.2 s at 326,000 findings instead of 1 ms). SQLite keeps no
    statistics unless asked; its queries are written for the rule-based planner (`.order_by()`)."""
    names = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in (Finding, DeviceTally, CveTally))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}")


def _refresh_tallies(institution_id: int, result: lifecycle.Diff, fresh: list[tuple[int, list[lifecycle.Candidate]]],
                     *, everything: bool) -> None:
    """The board's counts after this run's writes: devices and CVEs whose existing findings changed are
    recounted from the findings; new findings elsewhere are added to the tallies (computed once per image
    for the fan-out), so a first run does not group millions of rows again."""
    if everything:
        services_tallies.refresh(institution_id, everything=True)
        return
    changed = [(found.device_id, found.cve_id) for found, _c in result.update + result.reopen]
    changed += [(found.device_id, found.cve_id) for found in result.close]
    recount_devices = {device_id for device_id, _cve in changed}
    recount_cves = {cve_id for _device, cve_id in changed}
    devices: dict[tuple[int, str, bool, str], int] = defaultdict(int)
    cves: dict[str, list[Any]] = {}

    def count(device_id: int, found: Iterable[lifecycle.Candidate], times: int = 1) -> None:
        for c in found:
            if device_id not in recount_devices:
                devices[(device_id, c.severity, c.kev, c.confidence)] += 1
            if c.cve_id not in recount_cves:
                entry = cves.setdefault(c.cve_id, [0, None, False])
                entry[0] += times
                entry[1] = c.score if entry[1] is None or (c.score is not None and c.score > entry[1]) else entry[1]
                entry[2] = entry[2] or c.kev

    for c in result.create:
        count(c.device_id, (c,))
    images: dict[int, tuple[list[lifecycle.Candidate], list[int]]] = {}
    for device_id, group in fresh:
        images.setdefault(id(group), (group, []))[1].append(device_id)
    for group, members in images.values():
        per_device = defaultdict(int)  # (severity, KEV, confidence) → findings, the same for every member
        for c in group:
            per_device[(c.severity, c.kev, c.confidence)] += 1
        for device_id in members:
            if device_id not in recount_devices:
                for (sev, kev, confidence), n in per_device.items():
                    devices[(device_id, sev, kev, confidence)] += n
        count(-1, group, times=len(members))  # CVEs only (-1 is never recounted nor a device)
    devices = {key: n for key, n in devices.items() if key[0] > 0}
    services_tallies.refresh(institution_id, devices=recount_devices, cves=recount_cves)
    services_tallies.add(institution_id, devices, {k: (v[0], v[1], v[2]) for k, v in cves.items()})


def _incremental_answers(institution_id: int, ledger: Ledger, changed_devices: set[int], previous: MatchRun | None,
                         report: RematchReport) -> tuple[Evaluator, set[tuple[str, str]], set[str] | None]:
    """The engine's answers an incremental run needs, saved, and the (identity, CVE) pairs that changed.

    The identities of changed devices are evaluated against every CVE (one of them may be new); the others
    only against the CVEs that feed imports changed since the previous run."""
    changed_cves = engine.changed_cve_ids(previous.last_import_id if previous else None)
    report.cves_changed = len(changed_cves)
    refresh = {name for d in changed_devices for name in ledger.cpes.get(d, ())}
    others = set(ledger.identities) - refresh
    pairs = _engine_pairs(ledger, refresh, None)
    stored = _stored_pairs_for_names(institution_id, refresh)
    changed = {key for key in set(pairs) | set(stored) if pairs.get(key) != stored.get(key)}
    _save_pairs(institution_id, pairs, stored, scope_names=refresh, scope_cves=None)
    report.identities_matched = len(refresh)
    if changed_cves and others:
        fresh = _engine_pairs(ledger, others, changed_cves)
        before = {key: value for key, value in _stored_pairs(institution_id, changed_cves).items() if key[0] in others}
        changed |= {key for key in set(fresh) | set(before) if fresh.get(key) != before.get(key)}
        _save_pairs(institution_id, fresh, before, scope_names=others, scope_cves=changed_cves)
        pairs.update(fresh)
        report.identities_matched += len(others)

    def stored_outside(needed: set[tuple[str, str]]) -> dict[tuple[str, str], PairValue]:
        """Answers outside what this run re-evaluated (unchanged since they were stored)."""
        wanted = {(name, cve) for name, cve in needed if name not in refresh and cve not in changed_cves}
        if not wanted:
            return {}
        cves = {cve for _name, cve in wanted}
        return {key: value for key, value in _stored_pairs(institution_id, cves).items() if key in wanted}

    return Evaluator(ledger, pairs, fallback=stored_outside), changed, changed_cves if others else None


def _stored_pairs_for_names(institution_id: int, names: set[str]) -> dict[tuple[str, str], PairValue]:
    base = MatchedIdentity.objects.filter(institution_id=institution_id)
    return _as_pairs(base.filter(identity__in=chunk).values_list(*PAIR_FIELDS).iterator(chunk_size=10000)
                     for chunk in _chunks(sorted(names), 500))


# --- status changes -----------------------------------------------------------------------------------


@transaction.atomic
def finding_set_status(*, actor: Actor, finding: Finding, status: str, note: str = "",
                       until: dt.date | None = None, today: dt.date | None = None) -> Finding:
    """The institution records what it did about a finding (mitigated, risk accepted until a date, false
    positive, fixed) or reopens it. Every change is kept in the finding's history and the audit trail."""
    require(actor, Perm.VULN_MANAGE)
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if actor.org_id != finding.institution_id and not actor.is_system:
        raise PermissionDenied(_("自組織の検出だけを変更できます。"))
    today = today or timezone.localdate()
    try:
        lifecycle.check_transition(finding.status, status, note=note, until=until, today=today)
    except lifecycle.TransitionError as error:
        raise ValidationError(str(error)) from error
    now = timezone.now()
    before = finding.status
    finding.status = status
    finding.status_note = (note or "").strip()
    finding.accepted_until = until if status == lifecycle.RISK_ACCEPTED else None
    finding.closed_at = now if status == lifecycle.FIXED else None
    finding.save()
    FindingEvent.objects.create(finding=finding, at=now, kind=FindingEvent.Kind.STATUS, actor=actor.user,
                                actor_name=_actor_name(actor), from_status=before, to_status=status,
                                note=finding.status_note + (f"（{until.isoformat()} まで）" if until else ""))
    if (before in lifecycle.OPEN) != (status in lifecycle.OPEN):
        services_tallies.refresh(finding.institution_id, devices=[finding.device_id], cves=[finding.cve_id])
    return finding


@transaction.atomic
def expire_acceptances(*, today: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Reopen every risk acceptance whose date has passed (run daily: `anzen vulns daily` or the task)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    rows = list(Finding.objects.filter(status=lifecycle.RISK_ACCEPTED, accepted_until__lt=today).order_by()
                .values_list("pk", "accepted_until", "institution_id"))
    due = [(pk, until, inst) for pk, until, inst in rows if lifecycle.acceptance_expired(lifecycle.RISK_ACCEPTED,
                                                                                       until, today)]
    if not due:
        return 0
    Finding.objects.filter(pk__in=[pk for pk, _u, _i in due]).update(status=lifecycle.NEW, updated_at=now)
    FindingEvent.objects.bulk_create([
        FindingEvent(finding_id=pk, at=now, kind=FindingEvent.Kind.EXPIRED, actor_name=_("自動"),
                     from_status=lifecycle.RISK_ACCEPTED, to_status=lifecycle.NEW,
                     note=_("リスク受容の期限（%(day)s）を過ぎたため再オープンしました。") % {"day": until.isoformat()})
        for pk, until, _i in due])
    for institution_id in sorted({inst for _pk, _u, inst in due}):
        count = sum(1 for _pk, _u, inst in due if inst == institution_id)
        reopened = Finding.objects.filter(pk__in=[pk for pk, _u, inst in due if inst == institution_id])
        services_tallies.refresh(institution_id, devices=reopened.values_list("device_id", flat=True),
                                 cves=reopened.values_list("cve_id", flat=True))
        audit.record(audit.Action.UPDATE, object_type_label="vulns.finding", object_id=str(institution_id),
                     message=_("リスク受容の期限切れで再オープン: %(n)s件") % {"n": count})
    return len(due)
