"""NVD CVE API 2.0: response pages (``/rest/json/cves/2.0``), the 2.0 feed files
(``nvdcve-2.0-YYYY.json.gz``, ``-modified``, ``-recent``: the same shape) and single `cve` objects as
mirrors store them (one JSON per CVE). The `cve` object is already the internal form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from anzen.vulns.feeds.records import NVD, FeedError, SourceRecord, timestamp, valid_id


def is_page(document: Any) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("vulnerabilities"), list):
        return False
    items = document["vulnerabilities"]
    return document.get("format") == "NVD_CVE" or "resultsPerPage" in document \
        or bool(items and isinstance(items[0], dict) and isinstance(items[0].get("cve"), dict))


def is_cve(document: Any) -> bool:
    return isinstance(document, dict) and str(document.get("id", "")).startswith("CVE-") \
        and ("sourceIdentifier" in document or "lastModified" in document)


def is_wrapped_cve(document: Any) -> bool:
    return isinstance(document, dict) and set(document) == {"cve"} and is_cve(document["cve"])


def normalise(cve: dict[str, Any]) -> dict[str, Any]:
    cve["published"] = timestamp(cve.get("published"))
    cve["lastModified"] = timestamp(cve.get("lastModified"))
    return cve


def records(document: dict[str, Any], *, errors: list[str]) -> Iterator[SourceRecord]:
    if is_cve(document):
        items: list[Any] = [{"cve": document}]
    elif is_wrapped_cve(document):
        items = [document]
    else:
        items = document.get("vulnerabilities")
        if not isinstance(items, list):
            raise FeedError(_("NVD API 2.0 の vulnerabilities が配列ではありません。"))
        declared = document.get("resultsPerPage")
        total = document.get("totalResults")
        start = document.get("startIndex", 0)
        if isinstance(declared, int) and isinstance(total, int) and isinstance(start, int) \
                and len(items) < min(declared, max(total - start, 0)):
            raise FeedError(_("NVD API 2.0 の件数が一致しません（resultsPerPage %(declared)s 件、実際 %(actual)s 件）。"
                              "応答が途中で切れている可能性があります。") % {
                                  "declared": declared, "actual": len(items)})
    for index in range(len(items)):
        item, items[index] = items[index], None
        cve = item.get("cve") if isinstance(item, dict) else None
        if not isinstance(cve, dict) or not valid_id(str(cve.get("id", ""))):
            errors.append(_("#%(index)s: CVE ID のないレコードを飛ばしました") % {"index": index + 1})
            continue
        cve = normalise(cve)
        yield SourceRecord(NVD, cve["id"], cve["lastModified"], cve, "nvd20")
