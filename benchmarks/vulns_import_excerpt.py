"""Build the demo CVE excerpt (anzen/vulns/data/demo/) from the real feeds in ../shared/data.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python benchmarks/vulns_import_excerpt.py

Not a benchmark: a one-off builder kept beside the import benchmark because it reads the same bulk data.
Every software identity the demo ledger can hold (anzen/assets/data/hospital-cpe-families.csv, every
example version) is matched, with Anzen's own engine (pure: no database), against every NVD 1.1 record
in ../shared/data/nvd/legacy-1.1, the NVD 2.0 records in api2-fixtures and the CISA vulnrichment CVE 5
records. From the hits a small set is kept: for each identity its most severe CVEs (KEV first), plus every
AND configuration (a platform required) among them, within a size budget. NVD records are written in the
NVD API 2.0 page form (`nvd-demo.json.gz`); CVE 5 records (CNA data for CVEs NVD never analysed) as
JSON lines (`cve5-demo.jsonl.gz`).
"""

from __future__ import annotations

import csv
import gzip
import lzma
import sys
from collections import defaultdict
from pathlib import Path

import django
import orjson

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "anzen" / "vulns" / "data" / "demo"
PER_IDENTITY = 4
MAX_CVES = 140
# The cases the issue names, kept whenever they hit a demo identity (FortiOS SSL-VPN, ActiveMQ, PAN-OS,
# GE HealthCare Venue without NVD configurations).
MUST = ("CVE-2018-13379", "CVE-2022-42475", "CVE-2023-46604", "CVE-2024-3400", "CVE-2024-1486")


def identities() -> list:
    from anzen.vulns.engine import Identity

    found = []
    with (ROOT / "anzen" / "assets" / "data" / "hospital-cpe-families.csv").open(encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            template = row["cpe23_template"]
            if not template.startswith("cpe:2.3:"):
                continue
            for version in (row["example_versions"] or "*").split(";"):
                name = template.replace("{v}", version.strip() or "*")
                try:
                    found.append(Identity.from_cpe23(name))
                except ValueError:
                    print("skipped", name, file=sys.stderr)
    return list(dict.fromkeys(found))


def nvd_records():
    from anzen.vulns.feeds import nvd11, nvd20

    errors: list[str] = []
    for path in sorted((SHARED / "nvd" / "legacy-1.1").glob("nvdcve-1.1-*.json.gz")):
        yield from nvd11.records(orjson.loads(gzip.decompress(path.read_bytes())), errors=errors)
    for path in sorted((SHARED / "nvd" / "api2-fixtures" / "fkie-records").glob("*.json")):
        yield from nvd20.records(orjson.loads(path.read_bytes()), errors=errors)


def cve5_records():
    from anzen.vulns.feeds import cve5

    with lzma.open(SHARED / "cve5" / "vulnrichment-20241024.cve5.jsonl.xz", "rb") as stream:
        for line in stream:
            document = orjson.loads(line)
            if cve5.is_record(document):
                yield document


def main() -> None:
    django.setup()
    from anzen.vulns import engine, severity
    from anzen.vulns.feeds import cve5 as cve5_format
    from anzen.vulns.feeds import index, merge

    wanted = identities()
    by_key = defaultdict(list)
    for identity in wanted:
        for key in engine.lookup_keys(identity):
            by_key[key].append(identity)
    print(len(wanted), "identities", file=sys.stderr)

    latest: dict[str, tuple[str, dict]] = {}  # cve id → (modified, record) for NVD
    hits: dict[str, list[tuple[object, engine.Hit]]] = defaultdict(list)

    def consider(state: merge.State) -> list:
        found = []
        rows_by_identity = defaultdict(list)
        for row in index.products(state):
            for identity in by_key.get((row.part, row.vendor, row.product), ()):
                rows_by_identity[identity].append((row.origin, row.criteria))
        for identity, rows in rows_by_identity.items():
            hit = engine.evaluate(identity, state.cve_id, rows)
            if hit is not None and hit.confidence != engine.POSSIBLE:
                found.append((identity, hit))
        return found

    for record in nvd_records():
        found = consider(merge.apply(None, record)[1])
        if found:
            previous = latest.get(record.cve_id)
            if previous is None or record.modified >= previous[0]:
                latest[record.cve_id] = (record.modified, record.payload)
                hits[record.cve_id] = found
    cve5_documents: dict[str, dict] = {}
    enrich: dict[str, dict] = {}
    for document in cve5_records():
        record = cve5_format.record_of(document)
        if record.cve_id in latest:  # kept for its CISA ADP part (KEV, SSVC), not for choosing CVEs
            enrich[record.cve_id] = document
            continue
        found = consider(merge.apply(None, record)[1])
        if found:
            cve5_documents[record.cve_id] = document
            hits[record.cve_id] = found
    print(len(hits), "CVEs hit the demo identities", file=sys.stderr)

    def score(cve_id: str) -> tuple:
        if cve_id in latest:
            metrics = latest[cve_id][1].get("metrics") or {}
            kev = bool(latest[cve_id][1].get("cisaExploitAdd"))
        else:
            part = cve5_format.part(cve5_documents[cve_id])
            metrics, kev = part.get("metrics") or {}, bool(part.get("kev"))
        chosen = severity.choose(metrics)
        return (kev, chosen.value or 0, cve_id)

    chosen: dict[str, None] = {}
    per_identity = defaultdict(list)
    for cve_id, found in hits.items():
        for identity, _hit in found:
            per_identity[identity].append(cve_id)
    labels_seen: set[str] = set()
    for identity in wanted:
        ranked = sorted(per_identity.get(identity, ()), key=score, reverse=True)
        for cve_id in ranked[:PER_IDENTITY]:
            chosen[cve_id] = None
        # one medium (警告) CVE per identity too, so the demo shows the whole scale
        for cve_id in ranked:
            label = severity.label_for(score(cve_id)[1])
            if label not in labels_seen or label == "medium":
                chosen[cve_id] = None
                labels_seen.add(label)
                break
    platform = [cve_id for cve_id, found in hits.items() if any(hit.requires_platform for _i, hit in found)]
    for cve_id in sorted(platform, key=score, reverse=True)[:6]:
        chosen[cve_id] = None
    must = [cve_id for cve_id in MUST if cve_id in hits]
    selected = must + [cve_id for cve_id in sorted(chosen, key=score, reverse=True) if cve_id not in must]
    selected = selected[:MAX_CVES]
    nvd_ids = sorted(cve_id for cve_id in selected if cve_id in latest)
    cve5_documents.update({cve_id: enrich[cve_id] for cve_id in nvd_ids if cve_id in enrich})
    cve5_ids = sorted(cve_id for cve_id in selected if cve_id in cve5_documents)
    OUT.mkdir(parents=True, exist_ok=True)
    page = {"resultsPerPage": len(nvd_ids), "startIndex": 0, "totalResults": len(nvd_ids), "format": "NVD_CVE",
            "version": "2.0", "timestamp": max(latest[cve_id][0] for cve_id in nvd_ids),
            "vulnerabilities": [{"cve": latest[cve_id][1]} for cve_id in nvd_ids]}
    (OUT / "nvd-demo.json.gz").write_bytes(gzip.compress(orjson.dumps(page), mtime=0))
    lines = b"".join(orjson.dumps(cve5_documents[cve_id]) + b"\n" for cve_id in cve5_ids)
    (OUT / "cve5-demo.jsonl.gz").write_bytes(gzip.compress(lines, mtime=0))
    counts = defaultdict(int)
    for cve_id in selected:
        counts[severity.label_ja(severity.label_for(score(cve_id)[1]))] += 1
    print(f"{len(nvd_ids)} NVD + {len(cve5_ids)} CVE 5 records; KEV {sum(score(c)[0] for c in selected)}; "
          f"AND configurations {len(set(platform) & set(selected))}; {dict(counts)}")
    for name in ("nvd-demo.json.gz", "cve5-demo.jsonl.gz"):
        print(name, (OUT / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
