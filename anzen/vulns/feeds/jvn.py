"""JVN iPedia through MyJVN and the JVNDB data feeds: Japanese titles and overviews, JVNDB ids, JVN's CVSS
and the products JVN names (CPE 2.2 without versions; the version as Japanese free text).

Formats:
- VULDEF 3.2 XML (``VULDEF-Document``/``Vulinfo``): MyJVN HND ``getVulnDetailInfo`` and the detail feeds
  ``jvndb_detail_YYYY.rdf``;
- JVNRSS (RSS 1.0 + ``sec:`` mod_sec): MyJVN HND ``getVulnOverviewList`` and the feeds ``jvndb_YYYY.rdf``,
  ``jvndb_new.rdf``, ``jvndb.rdf``;
- MyJVN OKA JSON (API 4.0): the overview feed (``feed.entry``) and the CSAF-based detail
  (``getVulnDetailInfo`` with ``ft=jvncsaf``).

XML is parsed with defusedxml (no entities, no external references). Each advisory becomes one record per
CVE it names, or one record keyed by its JVNDB id when it names none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from defusedxml import ElementTree
from django.utils.translation import gettext as _

from anzen.vulns.feeds.records import JVN, FeedError, SourceRecord, timestamp, valid_id
from anzen.vulns.severity import KEY_OF_VERSION

JVN_SOURCE = "JVN iPedia"
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_JVN_REF = re.compile(r"^JVN(?:VU|TA)?#\w+$")
_TAGS = re.compile(r"<[^>]+>")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Any, name: str) -> Any:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Any, name: str) -> str:
    found = _child(element, name) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _plain(text: str) -> str:
    """JVN overviews carry escaped HTML lists: keep the words, one item per line."""
    text = text.replace("</li>", "\n").replace("<br>", "\n").replace("<br />", "\n")
    return re.sub(r"\n{3,}", "\n\n", _TAGS.sub("", text)).replace("\r", "").strip()


def _cvss(version: str, score: Any, vector: str, severity: str) -> tuple[str, dict[str, Any]] | None:
    try:
        value = float(score)
    except (TypeError, ValueError):
        return None
    key = KEY_OF_VERSION.get(version[:3] if version else "", "")
    if not key:
        return None
    data = {"version": version[:3], "vectorString": vector, "baseScore": value}
    if severity:
        data["baseSeverity"] = severity.upper()
    return key, {"source": JVN_SOURCE, "type": "JVN", "cvssData": data}


def _cpe23(cpe22: str) -> tuple[str, str]:
    from anzen.assets.normalise import cpe22_to_23, to_cpe23

    text = cpe22.strip()
    try:
        return text, (to_cpe23(text) if text.startswith("cpe:2.3:") else cpe22_to_23(text))
    except ValueError:
        return text, ""


def _advisory(jvndb_id: str, **fields: Any) -> dict[str, Any]:
    advisory = {"jvndb_id": jvndb_id, "title": "", "overview": "", "url": "", "published": "", "last_updated": "",
                "metrics": {}, "affected": [], "cve_ids": [], "jvn_refs": []}
    advisory.update(fields)
    advisory["cve_ids"] = sorted(dict.fromkeys(advisory["cve_ids"]))
    advisory["jvn_refs"] = sorted(dict.fromkeys(advisory["jvn_refs"]))
    return advisory


# --- VULDEF (detail) ---------------------------------------------------------------------------------


def _vuldef(vulinfo: Any) -> dict[str, Any]:
    jvndb_id = _text(vulinfo, "VulinfoID")
    data = _child(vulinfo, "VulinfoData")
    if data is None or not jvndb_id:
        raise ValueError(_("Vulinfo に VulinfoID または VulinfoData がありません"))
    metrics: dict[str, list[dict[str, Any]]] = {}
    impact = _child(data, "Impact")
    for cvss in _children(impact, "Cvss") if impact is not None else ():
        severity = _child(cvss, "Severity")
        entry = _cvss(cvss.get("version", ""), _text(cvss, "Base"), _text(cvss, "Vector"),
                      (severity.text or "").strip() if severity is not None else "")
        if entry:
            metrics.setdefault(entry[0], []).append(entry[1])
    affected = []
    block = _child(data, "Affected")
    for item in _children(block, "AffectedItem") if block is not None else ():
        for cpe in _children(item, "Cpe") or [None]:
            cpe22, cpe23 = _cpe23(cpe.text or "") if cpe is not None else ("", "")
            affected.append({"vendor": _text(item, "Name"), "product": _text(item, "ProductName"), "cpe22": cpe22,
                             "cpe23": cpe23, "version": "\n".join(
                                 (node.text or "").strip() for node in _children(item, "VersionNumber"))})
    cve_ids, jvn_refs = [], []
    related = _child(data, "Related")
    for item in _children(related, "RelatedItem") if related is not None else ():
        ref = _text(item, "VulinfoID")
        if _CVE.fullmatch(ref):
            cve_ids.append(ref)
        elif _JVN_REF.match(ref):
            jvn_refs.append(ref)
    overview = _text(_child(data, "VulinfoDescription"), "Overview")
    return _advisory(jvndb_id, title=_text(data, "Title"), overview=_plain(overview),
                     url=f"https://jvndb.jvn.jp/jvndb/{jvndb_id}", published=timestamp(_text(data, "DatePublic")),
                     first_published=timestamp(_text(data, "DateFirstPublished")),
                     last_updated=timestamp(_text(data, "DateLastUpdated") or _text(data, "DateFirstPublished")),
                     metrics=metrics, affected=affected, cve_ids=cve_ids, jvn_refs=jvn_refs)


# --- JVNRSS (overview) -------------------------------------------------------------------------------


def _rss_item(item: Any) -> dict[str, Any]:
    jvndb_id = _text(item, "identifier")
    if not jvndb_id:
        raise ValueError(_("item に sec:identifier がありません"))
    metrics: dict[str, list[dict[str, Any]]] = {}
    for cvss in _children(item, "cvss"):
        entry = _cvss(cvss.get("version", ""), cvss.get("score"), cvss.get("vector", ""), cvss.get("severity", ""))
        if entry:
            metrics.setdefault(entry[0], []).append(entry[1])
    affected = []
    for cpe in _children(item, "cpe"):
        cpe22, cpe23 = _cpe23(cpe.text or "")
        affected.append({"vendor": cpe.get("vendor", ""), "product": cpe.get("product", ""), "cpe22": cpe22,
                         "cpe23": cpe23, "version": ""})
    cve_ids, jvn_refs = [], []
    for ref in _children(item, "references"):
        ref_id = (ref.get("id") or "").strip()
        if _CVE.fullmatch(ref_id):
            cve_ids.append(ref_id)
        elif _JVN_REF.match(ref_id):
            jvn_refs.append(ref_id)
    return _advisory(jvndb_id, title=_text(item, "title"), overview=_plain(_text(item, "description")),
                     url=_text(item, "link"), published=timestamp(_text(item, "issued") or _text(item, "date")),
                     last_updated=timestamp(_text(item, "modified") or _text(item, "date")), metrics=metrics,
                     affected=affected, cve_ids=cve_ids, jvn_refs=jvn_refs)


def _check_status(root: Any) -> None:
    for element in root.iter():
        if _local(element.tag) == "Status" and element.get("retCd") not in (None, "", "0"):
            raise FeedError(_("MyJVN API がエラーを返しました: %(code)s %(message)s") % {
                "code": element.get("errCd", ""), "message": element.get("errMsg", "")})


def parse_xml(data: bytes) -> list[dict[str, Any]]:
    """The advisories of a VULDEF or JVNRSS document."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise FeedError(_("JVN の XML を読み込めません（%(error)s）。ファイルが壊れているか途中で切れています。")
                        % {"error": error}) from None
    _check_status(root)
    name = _local(root.tag)
    if name == "VULDEF-Document":
        return [_vuldef(vulinfo) for vulinfo in _children(root, "Vulinfo")]
    if name == "RDF":
        return [_rss_item(item) for item in _children(root, "item")]
    raise FeedError(_("JVN の XML ではありません（ルート要素 %(name)s）。") % {"name": name})


# --- MyJVN OKA JSON ----------------------------------------------------------------------------------


def _oka_metrics(items: Any) -> dict[str, list[dict[str, Any]]]:
    metrics: dict[str, list[dict[str, Any]]] = {}
    for metric in items or ():
        content = metric.get("content") if isinstance(metric, Mapping) else None
        for name in ("cvss_v2", "cvss_v3", "cvss_v4"):
            data = (content or {}).get(name)
            if isinstance(data, Mapping):
                entry = _cvss(str(data.get("version", "")), data.get("baseScore"), str(data.get("vectorString", "")),
                              str(data.get("baseSeverity", "")))
                if entry:
                    metrics.setdefault(entry[0], []).append(entry[1])
    return metrics


def _oka_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    jvndb_id = str(entry.get("id", ""))
    affected = []
    for product in entry.get("products") or ():
        cpe = str((product.get("product_ids") or {}).get("cpe", ""))
        if product.get("version") or not cpe:
            continue  # versioned product entries repeat the product; JVN versions are free text anyway
        affected.append({"vendor": product.get("vname", ""), "product": product.get("pname", ""), "cpe22": "",
                         "cpe23": _cpe23(cpe)[1], "version": ""})
    cve_ids, jvn_refs = [], []
    for ref in entry.get("references") or ():
        summary = str(ref.get("summary", ""))
        if ref.get("source") in ("CVE", "NVD") and _CVE.fullmatch(summary):
            cve_ids.append(summary)
        elif _JVN_REF.match(summary):
            jvn_refs.append(summary)
    return _advisory(jvndb_id, title=str(entry.get("title", "")), overview=_plain(str(entry.get("summary", ""))),
                     url=str(entry.get("link", "")), published=timestamp(entry.get("public") or entry.get("created")),
                     last_updated=timestamp(entry.get("modified") or entry.get("created")),
                     metrics=_oka_metrics(entry.get("metrics")), affected=affected, cve_ids=cve_ids,
                     jvn_refs=jvn_refs)


def _csaf(document: Mapping[str, Any]) -> dict[str, Any]:
    doc = document.get("document") or {}
    tracking = doc.get("tracking") or {}
    jvndb_id = str(tracking.get("id", ""))
    products: dict[str, dict[str, Any]] = {}

    def walk(branches: Any, vendor: str) -> None:
        for branch in branches or ():
            if not isinstance(branch, Mapping):
                continue
            owner = str(branch.get("name", "")) if branch.get("category") == "vendor" else vendor
            product = branch.get("product")
            if isinstance(product, Mapping):
                cpe = str((product.get("product_identification_helper") or {}).get("cpe", ""))
                products[str(product.get("product_id", ""))] = {
                    "vendor": owner, "product": str(product.get("name", "")), "cpe22": "",
                    "cpe23": _cpe23(cpe)[1] if cpe else "", "version": ""}
            walk(branch.get("branches"), owner)

    walk((document.get("product_tree") or {}).get("branches"), "")
    metrics: dict[str, list[dict[str, Any]]] = {}
    cve_ids = []
    for vulnerability in document.get("vulnerabilities") or ():
        if _CVE.fullmatch(str(vulnerability.get("cve", ""))):
            cve_ids.append(vulnerability["cve"])
        for key, items in _oka_metrics(vulnerability.get("metrics")).items():
            for item in items:
                if item not in metrics.get(key, []):
                    metrics.setdefault(key, []).append(item)
    jvn_refs = [str(ref.get("summary", "")) for ref in doc.get("references") or ()
                if _JVN_REF.match(str(ref.get("summary", "")))]
    overview = next((note.get("text", "") for note in doc.get("notes") or ()
                     if note.get("category") == "description"), "")
    return _advisory(jvndb_id, title=str(doc.get("title", "")), overview=_plain(str(overview)),
                     url=f"https://jvndb.jvn.jp/jvndb/{jvndb_id}", published=timestamp(tracking.get("public_date")),
                     last_updated=timestamp(tracking.get("current_release_date")), metrics=metrics,
                     affected=list(products.values()), cve_ids=cve_ids, jvn_refs=jvn_refs)


def is_json(document: Any) -> bool:
    if not isinstance(document, Mapping):
        return False
    if isinstance(document.get("feed"), Mapping) and "entry" in document["feed"]:
        return True
    return isinstance(document.get("document"), Mapping) and "product_tree" in document \
        and str((document["document"].get("tracking") or {}).get("id", "")).startswith("JVNDB-")


def parse_json(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    status = document.get("status")
    if isinstance(status, Mapping) and status.get("retCd") not in (None, 0, "0"):
        raise FeedError(_("MyJVN API がエラーを返しました: %(code)s %(message)s") % {
            "code": status.get("errCd", ""), "message": status.get("errMsg", "")})
    if isinstance(document.get("feed"), Mapping):
        return [_oka_entry(entry) for entry in document["feed"].get("entry") or () if isinstance(entry, Mapping)]
    return [_csaf(document)]


# --- records -----------------------------------------------------------------------------------------


def payload_for(advisory: Mapping[str, Any]) -> dict[str, Any]:
    """What a CVE row keeps of one advisory."""
    return {"modified": advisory["last_updated"], "published": advisory.get("published", ""),
            "title": advisory["title"], "overview": advisory["overview"], "url": advisory.get("url", ""),
            "metrics": advisory["metrics"], "refs": advisory["jvn_refs"],
            "products": [{"cpe": item["cpe23"], "version": item.get("version", ""),
                          "name": f"{item.get('vendor', '')} {item.get('product', '')}".strip()}
                         for item in advisory["affected"] if item.get("cpe23")]}


def records(advisories: list[dict[str, Any]], *, errors: list[str]) -> Iterator[SourceRecord]:
    for advisory in advisories:
        jvndb_id = advisory["jvndb_id"]
        if not valid_id(jvndb_id):
            errors.append(_("JVNDB ID が正しくありません: %(id)s") % {"id": jvndb_id[:40]})
            continue
        payload = payload_for(advisory)
        for cve_id in advisory["cve_ids"] or [jvndb_id]:
            yield SourceRecord(JVN, cve_id, advisory["last_updated"], payload, "jvn", key=jvndb_id, advisory=advisory)


def synthesise(cve_id: str, payloads: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """An NVD API 2.0-shaped record for a CVE (or JVNDB id) only JVN knows."""
    latest = max(payloads.values(), key=lambda item: item.get("modified", ""))
    metrics: dict[str, list[dict[str, Any]]] = {}
    for payload in payloads.values():
        for key, items in (payload.get("metrics") or {}).items():
            metrics.setdefault(key, []).extend(items)
    return {"id": cve_id, "sourceIdentifier": JVN_SOURCE, "published": latest.get("published", ""),
            "lastModified": latest.get("modified", ""), "vulnStatus": "",
            "descriptions": [{"lang": "ja", "value": latest.get("overview", "")}], "metrics": metrics,
            "references": [{"url": payload.get("url", ""), "source": JVN_SOURCE} for payload in payloads.values()]}
