"""NVD JSON 1.1 feeds (``nvdcve-1.1-YYYY.json.gz``, ``-modified``, ``-recent``; retired by NIST on
2023-12-15 but still the bulk data many offline sites hold) converted to the NVD API 2.0 `cve` object.

Conversion: ``CVE_data_meta`` → id/sourceIdentifier; ``description_data`` → descriptions; ``impact``
→ metrics (``baseMetricV3`` → cvssMetricV31/V30 by its version, ``baseMetricV2`` → cvssMetricV2, all
NVD's own: type Primary, source nvd@nist.gov); ``problemtype`` → weaknesses; each top-level configuration
node → one configuration (an AND node with children → operator AND with the children as nodes; deeper
nesting is flattened into the child); ``cpe_match`` → cpeMatch (``cpe23Uri`` → criteria).
1.1 has no vulnStatus: it is "Rejected" for ``** REJECT **`` descriptions and empty otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.utils.translation import gettext as _

from anzen.vulns.feeds.records import NVD, FeedError, SourceRecord, timestamp, valid_id

NVD_SOURCE = "nvd@nist.gov"
_RANGE_KEYS = ("versionStartIncluding", "versionStartExcluding", "versionEndIncluding", "versionEndExcluding")


def _match(item: Mapping[str, Any]) -> dict[str, Any]:
    converted = {"vulnerable": bool(item.get("vulnerable")), "criteria": item.get("cpe23Uri", "")}
    for key in _RANGE_KEYS:
        value = item.get(key)
        if value:
            converted[key] = value
    return converted


def _flatten(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = [_match(item) for item in node.get("cpe_match") or ()]
    for child in node.get("children") or ():
        found.extend(_flatten(child))
    return found


def configurations(nodes: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    for node in nodes:
        operator = node.get("operator", "OR")
        children = node.get("children") or []
        if children:
            inner = [{"operator": child.get("operator", "OR"), "negate": bool(child.get("negate", False)),
                      "cpeMatch": _flatten(child)} for child in children]
            own = node.get("cpe_match") or []
            if own:
                inner.append({"operator": "OR", "negate": False, "cpeMatch": [_match(item) for item in own]})
            config: dict[str, Any] = {"nodes": inner}
            if operator == "AND":
                config = {"operator": "AND", "nodes": inner}
            converted.append(config)
        else:
            converted.append({"nodes": [{"operator": operator, "negate": bool(node.get("negate", False)),
                                         "cpeMatch": [_match(item) for item in node.get("cpe_match") or ()]}]})
    return converted


def _metrics(impact: Mapping[str, Any]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    v3 = impact.get("baseMetricV3")
    if v3 and v3.get("cvssV3"):
        data = v3["cvssV3"]
        key = "cvssMetricV31" if str(data.get("version")) == "3.1" else "cvssMetricV30"
        metrics[key] = [{"source": NVD_SOURCE, "type": "Primary", "cvssData": data,
                         "exploitabilityScore": v3.get("exploitabilityScore"), "impactScore": v3.get("impactScore")}]
    v2 = impact.get("baseMetricV2")
    if v2 and v2.get("cvssV2"):
        entry = {"source": NVD_SOURCE, "type": "Primary", "cvssData": v2["cvssV2"],
                 "baseSeverity": v2.get("severity")}
        for key in ("exploitabilityScore", "impactScore", "acInsufInfo", "obtainAllPrivilege", "obtainUserPrivilege",
                    "obtainOtherPrivilege", "userInteractionRequired"):
            if key in v2:
                entry[key] = v2[key]
        metrics["cvssMetricV2"] = [entry]
    return metrics


def convert(item: Mapping[str, Any]) -> dict[str, Any]:
    """One ``CVE_Items`` entry as an NVD API 2.0 `cve` object."""
    cve = item["cve"]
    meta = cve["CVE_data_meta"]
    descriptions = [{"lang": entry.get("lang", "en"), "value": entry.get("value", "")}
                    for entry in (cve.get("description") or {}).get("description_data") or ()]
    rejected = any(entry["value"].startswith("** REJECT **") for entry in descriptions)
    weaknesses = []
    for problem in (cve.get("problemtype") or {}).get("problemtype_data") or ():
        values = [{"lang": entry.get("lang", "en"), "value": entry.get("value", "")}
                  for entry in problem.get("description") or ()]
        if values:
            weaknesses.append({"source": NVD_SOURCE, "type": "Primary", "description": values})
    references = [{"url": ref.get("url", ""), "source": ref.get("refsource", ""), "tags": ref.get("tags") or []}
                  for ref in (cve.get("references") or {}).get("reference_data") or ()]
    record: dict[str, Any] = {
        "id": meta["ID"],
        "sourceIdentifier": meta.get("ASSIGNER", ""),
        "published": timestamp(item.get("publishedDate")),
        "lastModified": timestamp(item.get("lastModifiedDate")),
        "vulnStatus": "Rejected" if rejected else "",
        "descriptions": descriptions,
        "metrics": _metrics(item.get("impact") or {}),
        "weaknesses": weaknesses,
        "configurations": configurations((item.get("configurations") or {}).get("nodes") or []),
        "references": references,
    }
    if not record["configurations"]:
        del record["configurations"]
    return record


def is_feed(document: Any) -> bool:
    return isinstance(document, dict) and "CVE_Items" in document


def is_item(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("cve"), dict) \
        and "CVE_data_meta" in document["cve"]


def records(document: dict[str, Any], *, errors: list[str]) -> Iterator[SourceRecord]:
    """The records of a 1.1 feed (or of one ``CVE_Items`` entry). Entries are released as they are
    converted, so the parsed file shrinks while it is imported."""
    if is_item(document):
        items: list[Any] = [document]
    else:
        items = document.get("CVE_Items")
        if not isinstance(items, list):
            raise FeedError(_("NVD 1.1 フィードの CVE_Items が配列ではありません。"))
        declared = document.get("CVE_data_numberOfCVEs")
        if declared is not None and str(declared).isdigit() and int(declared) != len(items):
            raise FeedError(_("NVD 1.1 フィードの件数が一致しません（宣言 %(declared)s 件、実際 %(actual)s 件）。"
                              "ファイルが途中で切れている可能性があります。") % {
                                  "declared": declared, "actual": len(items)})
    for index in range(len(items)):
        item, items[index] = items[index], None
        try:
            record = convert(item)
        except (KeyError, TypeError, AttributeError) as error:
            errors.append(f"#{index + 1}: {type(error).__name__} {error}"[:300])
            continue
        if not valid_id(record["id"]):
            errors.append(_("#%(index)s: CVE ID が正しくありません: %(id)s") % {
                "index": index + 1, "id": str(record["id"])[:40]})
            continue
        yield SourceRecord(NVD, record["id"], record["lastModified"], record, "nvd11")
