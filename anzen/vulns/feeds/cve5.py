"""CVE JSON 5 records (CVE Record Format 5.x: the CVE List, cvelistV5 releases, CISA vulnrichment).

A record gives the CNA's container (vendor statement: affected products and versions, CVSS, problem types)
and ADP containers — CISA's "Vulnrichment" adds KEV markers, SSVC, CVSS and CPE 2.3 names. Anzen keeps the
compact part it needs (`payload`): the NVD record stays the internal form when NVD has one; otherwise
`synthesise` builds an NVD API 2.0-shaped record from this part.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.utils.translation import gettext as _

from anzen.vulns.feeds.records import CVE5, FeedError, SourceRecord, timestamp, valid_id

_CVSS_KEYS = {"cvssV4_0": "cvssMetricV40", "cvssV3_1": "cvssMetricV31", "cvssV3_0": "cvssMetricV30",
              "cvssV2_0": "cvssMetricV2"}
_VERSION_KEYS = ("version", "status", "lessThan", "lessThanOrEqual", "versionType")


def is_record(document: Any) -> bool:
    return isinstance(document, dict) and "cveMetadata" in document and "containers" in document


def _metrics(container: Mapping[str, Any], kind: str, source: str, into: dict[str, list[dict[str, Any]]]) -> None:
    for metric in container.get("metrics") or ():
        if not isinstance(metric, Mapping):
            continue
        for key, target in _CVSS_KEYS.items():
            data = metric.get(key)
            if isinstance(data, Mapping) and data.get("baseScore") is not None:
                into.setdefault(target, []).append({"source": source, "type": kind, "cvssData": dict(data)})


def _kev(container: Mapping[str, Any]) -> dict[str, Any] | None:
    for metric in container.get("metrics") or ():
        other = metric.get("other") if isinstance(metric, Mapping) else None
        if isinstance(other, Mapping) and str(other.get("type", "")).lower() == "kev":
            content = other.get("content") or {}
            return {"dateAdded": str(content.get("dateAdded", ""))[:10], "reference": content.get("reference", "")}
    return None


def _affected(container: Mapping[str, Any], via: str) -> list[dict[str, Any]]:
    found = []
    for entry in container.get("affected") or ():
        if not isinstance(entry, Mapping):
            continue
        compact: dict[str, Any] = {"vendor": str(entry.get("vendor", "") or ""),
                                   "product": str(entry.get("product", "") or ""), "via": via}
        compact["versions"] = [{key: item[key] for key in _VERSION_KEYS if item.get(key) not in (None, "")}
                               for item in entry.get("versions") or () if isinstance(item, Mapping)]
        if entry.get("defaultStatus"):
            compact["defaultStatus"] = entry["defaultStatus"]
        if entry.get("packageName"):
            compact["packageName"] = str(entry["packageName"])
        cpes = [str(item) for item in entry.get("cpes") or () if isinstance(item, str)]
        if cpes:
            compact["cpes"] = cpes
        found.append(compact)
    return found


def part(document: Mapping[str, Any]) -> dict[str, Any]:
    """The compact part of a CVE 5 record that Anzen keeps."""
    meta = document["cveMetadata"]
    containers = document.get("containers") or {}
    cna = containers.get("cna") or {}
    short = str((cna.get("providerMetadata") or {}).get("shortName") or meta.get("assignerShortName") or "CNA")
    metrics: dict[str, list[dict[str, Any]]] = {}
    _metrics(cna, "Secondary", short, metrics)
    affected = _affected(cna, "cna")
    kev = None
    for adp in containers.get("adp") or ():
        if not isinstance(adp, Mapping):
            continue
        adp_name = str((adp.get("providerMetadata") or {}).get("shortName") or "ADP")
        _metrics(adp, "ADP", adp_name, metrics)
        affected.extend(_affected(adp, "adp"))
        kev = kev or _kev(adp)
    description = next((item.get("value", "") for item in cna.get("descriptions") or ()
                        if str(item.get("lang", "")).lower().startswith("en")), "")
    if not description:
        description = next((item.get("value", "") for item in (cna.get("rejectedReasons") or ())), "")
    weaknesses = sorted({str(item.get("cweId")) for problem in cna.get("problemTypes") or ()
                         for item in problem.get("descriptions") or () if item.get("cweId")})
    result: dict[str, Any] = {
        "updated": timestamp(meta.get("dateUpdated")),
        "published": timestamp(meta.get("datePublished")),
        "state": str(meta.get("state", "")),
        "assigner": short,
        "title": str(cna.get("title", "") or ""),
        "description": description,
        "metrics": metrics,
        "affected": affected,
        "weaknesses": weaknesses,
        "references": [ref.get("url", "") for ref in cna.get("references") or () if isinstance(ref, Mapping)][:50],
    }
    if kev:
        result["kev"] = kev
    return result


def synthesise(cve_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """An NVD API 2.0-shaped record from a CVE 5 part, for CVEs NVD has not published (yet)."""
    record: dict[str, Any] = {
        "id": cve_id,
        "sourceIdentifier": payload.get("assigner", ""),
        "published": payload.get("published", ""),
        "lastModified": payload.get("updated", ""),
        "vulnStatus": "Rejected" if payload.get("state") == "REJECTED" else "",
        "descriptions": [{"lang": "en", "value": payload.get("description", "")}],
        "metrics": payload.get("metrics") or {},
        "weaknesses": [{"source": payload.get("assigner", ""), "type": "Secondary",
                        "description": [{"lang": "en", "value": cwe} for cwe in payload.get("weaknesses") or ()]}]
        if payload.get("weaknesses") else [],
        "references": [{"url": url, "source": payload.get("assigner", "")} for url in payload.get("references") or ()],
    }
    return record


def record_of(document: Mapping[str, Any]) -> SourceRecord:
    meta = document.get("cveMetadata")
    if not isinstance(meta, Mapping) or not valid_id(str(meta.get("cveId", ""))):
        raise ValueError(_("CVE 5 レコードに cveMetadata.cveId がありません"))
    payload = part(document)
    return SourceRecord(CVE5, str(meta["cveId"]), payload["updated"], payload, "cve5")


def records(document: Any, *, errors: list[str]) -> Iterator[SourceRecord]:
    """One record, or a list of records (some bundles ship arrays)."""
    items = document if isinstance(document, list) else [document]
    for index, item in enumerate(items):
        if not is_record(item):
            raise FeedError(_("CVE JSON 5 のレコードではありません（#%(index)s）。") % {"index": index + 1})
        try:
            yield record_of(item)
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            errors.append(f"#{index + 1}: {error}"[:300])
