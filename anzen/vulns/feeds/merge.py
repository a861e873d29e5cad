"""How a record from one source combines with what the store holds from the others (pure, no ORM).

Each source keeps its own part of a CVE row — NVD the `record`, CVE 5 the `cve5` part, every JVN advisory
its entry in `jvn` — with its timestamp and hash in `sources`. A record is:

- ``new`` when the store has no row for the CVE;
- ``skipped`` when the store holds a newer record of the same source (an older feed imported after a
  newer one);
- ``unchanged`` when the store holds the same record (same hash) of that source;
- ``updated`` otherwise: that source's part is replaced; the previous row goes to the history.

`derive` computes the row's columns (merged metrics, chosen score and label, KEV, texts) from the parts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from anzen.vulns import severity
from anzen.vulns.feeds import cve5 as cve5_format
from anzen.vulns.feeds import jvn as jvn_format
from anzen.vulns.feeds.records import CVE5, JVN, NVD, SourceRecord, to_date, to_datetime

NEW, UPDATED, UNCHANGED, SKIPPED = "new", "updated", "unchanged", "skipped"


@dataclass
class State:
    cve_id: str
    record: dict[str, Any] = field(default_factory=dict)
    record_origin: str = ""
    cve5: dict[str, Any] = field(default_factory=dict)
    jvn: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    record_json: str | None = None  # `record` already serialised (saves a second dump when it is written)

    def copy(self) -> State:
        return State(self.cve_id, self.record, self.record_origin, dict(self.cve5), dict(self.jvn),
                     dict(self.sources))


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def source_key(record: SourceRecord) -> str:
    return f"jvn:{record.key}" if record.source == JVN else record.source


def prepare(record: SourceRecord) -> SourceRecord:
    """Serialise and hash the payload once (the same bytes are written to the database)."""
    if record.data is None:
        record.data = orjson.dumps(record.payload)
        record.digest = _digest(record.data)
    return record


def decide(sources: dict[str, Any] | None, record: SourceRecord) -> str:
    """new / updated / unchanged / skipped for `record` given the row's `sources` (None: no row)."""
    if sources is None:
        return NEW
    stored = sources.get(source_key(record))
    if stored:
        if record.modified and stored.get("modified") and record.modified < stored["modified"]:
            return SKIPPED
        if stored.get("hash") == prepare(record).digest:
            return UNCHANGED
    return UPDATED


def stamp(record: SourceRecord) -> dict[str, str]:
    return {"modified": record.modified, "hash": prepare(record).digest, "format": record.fmt}


def apply(state: State | None, record: SourceRecord) -> tuple[str, State]:
    """The outcome of importing `record` over `state` (None: no row yet) and the resulting state."""
    prepare(record)
    data = record.data or b""
    outcome = decide(state.sources if state is not None else None, record)
    if outcome in (SKIPPED, UNCHANGED):
        return outcome, state  # type: ignore[return-value]
    state = State(record.cve_id) if state is None else state.copy()
    state.sources[source_key(record)] = stamp(record)
    if record.source == NVD:
        state.record, state.record_origin, state.record_json = record.payload, NVD, data.decode()
    elif record.source == CVE5:
        state.cve5 = record.payload
        if state.record_origin != NVD:
            state.record, state.record_origin = cve5_format.synthesise(record.cve_id, record.payload), CVE5
            state.record_json = None
    else:
        state.jvn[record.key] = record.payload
        if state.record_origin not in (NVD, CVE5):
            state.record, state.record_origin = jvn_format.synthesise(record.cve_id, state.jvn), JVN
            state.record_json = None
    return outcome, state


def _english(record: dict[str, Any]) -> str:
    for item in record.get("descriptions") or ():
        if str(item.get("lang", "")).startswith("en"):
            return str(item.get("value", ""))
    return ""


def derive(state: State) -> dict[str, Any]:
    """The Cve columns that follow from the parts."""
    record, part = state.record, state.cve5
    if part or state.jvn:
        metrics = severity.merge(record.get("metrics") if state.record_origin == NVD else None,
                                 part.get("metrics"), *(item.get("metrics") for item in state.jvn.values()))
    else:
        metrics = record.get("metrics") or {}
    score = severity.choose(metrics)
    kev: dict[str, Any] = {"kev": False, "kev_date_added": None, "kev_due_date": None, "kev_required_action": "",
                           "kev_vulnerability_name": ""}
    if record.get("cisaExploitAdd"):
        kev = {"kev": True, "kev_date_added": to_date(record.get("cisaExploitAdd")),
               "kev_due_date": to_date(record.get("cisaActionDue")),
               "kev_required_action": str(record.get("cisaRequiredAction", "")),
               "kev_vulnerability_name": str(record.get("cisaVulnerabilityName", ""))[:300]}
    elif part.get("kev"):
        kev["kev"], kev["kev_date_added"] = True, to_date(part["kev"].get("dateAdded"))
    latest_jvn = max(state.jvn.values(), key=lambda item: item.get("modified", "")) if state.jvn else {}
    jvn_ids = sorted(state.jvn) + sorted({ref for item in state.jvn.values() for ref in item.get("refs") or ()})
    status = str(record.get("vulnStatus", "") or ("Rejected" if part.get("state") == "REJECTED" else ""))
    modified = max((item.get("modified", "") for item in state.sources.values()), default="")
    columns = {
        "published": to_datetime(record.get("published") or part.get("published", "")),
        "last_modified": to_datetime(modified),
        "vuln_status": status[:40],
        "source_identifier": str(record.get("sourceIdentifier", ""))[:200],
        "description_en": _english(record) or str(part.get("description", "")),
        "title_ja": str(latest_jvn.get("title", ""))[:500],
        "description_ja": str(latest_jvn.get("overview", "")),
        "jvn_ids": jvn_ids,
        "record_origin": state.record_origin,
        "metrics": metrics,
        "base_score": score.value,
        "score_version": score.version,
        "score_source": score.source,
        "severity": score.label,
        "v2_only": score.v2_only,
        "has_configurations": bool(record.get("configurations")),
        "sources": state.sources,
        "content_hash": _digest("|".join(f"{key}={value.get('hash')}"
                                         for key, value in sorted(state.sources.items())).encode()),
        "cve5": part,
        "jvn": state.jvn,
    }
    columns.update(kev)
    return columns
