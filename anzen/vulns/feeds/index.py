"""The match index (`CveProduct` rows) of one CVE, derived from its merged state (pure, no ORM).

One row per distinct (part, vendor, product) the CVE names as vulnerable, with the compact criteria
matching needs for that product alone:

- NVD configurations (``origin nvd``): ``{"m": [[criteria, startIncl, startExcl, endIncl, endExcl,
  configuration number, platform index], …], "p": [[platform criteria, …], …]}``. In an AND configuration the
  platform of a vulnerable match is every criterion of the configuration's other nodes (any one of them
  satisfies it; with three or more nodes this is an approximation that errs on the side of a hit).
- CVE 5 `affected` (``origin cve5``, only when NVD has no configurations): ``{"a": [entry, …]}``; the key is
  the entry's CPE names, or its free-text vendor and product as ``text_key`` with an empty part.
- JVN (``origin jvn``, only when neither of the above names anything): ``{"j": [{id, cpe, version}, …]}``.

Rejected CVEs have no rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from anzen.vulns import cpe
from anzen.vulns.feeds.merge import State

_RANGES = ("versionStartIncluding", "versionStartExcluding", "versionEndIncluding", "versionEndExcluding")
_NO_NAME = frozenset({"", "n/a", "unknown", "*", "-"})
MAX_NAME = 255


class ProductRow(NamedTuple):
    part: str
    vendor: str
    product: str
    origin: str
    has_platform_condition: bool
    manual_only: bool
    criteria: dict[str, Any]


def _key(criteria: str) -> tuple[str, str, str] | None:
    if "\\" in criteria:
        try:
            parts = cpe.split(criteria)
        except ValueError:
            return None
        return parts[0], parts[1][:MAX_NAME], parts[2][:MAX_NAME]
    pieces = criteria.lower().split(":", 6)
    if len(pieces) < 6 or pieces[0] != "cpe" or pieces[1] != "2.3":
        return None
    return pieces[2], pieces[3][:MAX_NAME], pieces[4][:MAX_NAME]


def _nvd(configurations: Iterable[Mapping[str, Any]]) -> list[ProductRow]:
    rows: dict[tuple[str, str, str], tuple[list[Any], list[list[str]], dict[tuple[str, ...], int]]] = {}
    for number, config in enumerate(configurations, 1):
        nodes = [node for node in config.get("nodes") or () if not node.get("negate")]
        config_and = config.get("operator") == "AND" and len(nodes) > 1
        for node_index, node in enumerate(nodes):
            matches = node.get("cpeMatch") or ()
            node_and = node.get("operator") == "AND" and len(matches) > 1
            for match_index, match in enumerate(matches):
                if not match.get("vulnerable"):
                    continue
                criteria = match.get("criteria", "")
                key = _key(criteria)
                if key is None:
                    continue
                platform: tuple[str, ...] = ()
                if config_and:
                    platform = tuple(dict.fromkeys(
                        other.get("criteria", "") for index, other_node in enumerate(nodes)
                        if index != node_index for other in other_node.get("cpeMatch") or ()))
                elif node_and:
                    platform = tuple(other.get("criteria", "") for index, other in enumerate(matches)
                                     if index != match_index)
                entries, platforms, seen = rows.setdefault(key, ([], [], {}))
                platform_index = -1
                if platform:
                    platform_index = seen.get(platform, -1)
                    if platform_index < 0:
                        platform_index = seen[platform] = len(platforms)
                        platforms.append(list(platform))
                entries.append([criteria, match.get(_RANGES[0], ""), match.get(_RANGES[1], ""),
                                match.get(_RANGES[2], ""), match.get(_RANGES[3], ""), number, platform_index])
    found = []
    for (part, vendor, product), (entries, platforms, _seen) in rows.items():
        criteria: dict[str, Any] = {"m": entries}
        if platforms:
            criteria["p"] = platforms
        found.append(ProductRow(part, vendor, product, "nvd", bool(platforms), False, criteria))
    return found


def _affected_keys(entry: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    """The package name when the entry is about the package itself (CNA "OpenSSH" with no product); else the
    entry's CPE names, or its free-text vendor and product. An entry naming a package inside another product
    (Red Hat's build of openssh in "Red Hat Ceph Storage 6") is about that product, not about the upstream
    package in a ledger: it is indexed under the product, never under the package name."""
    package = cpe.text_key(str(entry.get("packageName", "") or ""))
    product_key = cpe.text_key(str(entry.get("product", "") or ""))
    if package and package not in _NO_NAME and (
            product_key in _NO_NAME or product_key == "n_a" or product_key.endswith(package)):
        return {("", package[:MAX_NAME], package[:MAX_NAME])}
    keys = set()
    for name in entry.get("cpes") or ():
        text = str(name)
        if text.startswith("cpe:/"):
            from anzen.assets.normalise import cpe22_to_23

            try:
                text = cpe22_to_23(text)
            except ValueError:
                continue
        key = _key(text)
        if key and key[1] not in _NO_NAME and key[2] not in _NO_NAME:
            keys.add(key)
    if not keys:
        vendor, product = cpe.text_key(entry.get("vendor", "")), cpe.text_key(entry.get("product", ""))
        if vendor not in _NO_NAME and product not in _NO_NAME and vendor != "n_a" and product != "n_a":
            keys.add(("", vendor[:MAX_NAME], product[:MAX_NAME]))
    return keys


_DISTRIBUTION_TYPES = frozenset({"rpm", "deb", "apk", "ebuild", "alpm"})


def _is_affected(entry: Mapping[str, Any]) -> bool:
    """Some version is affected. Entries about a distribution's build of a package (rpm/deb versions with
    epochs and release suffixes) are left out: they say nothing about the upstream versions in a ledger."""
    items = entry.get("versions") or ()
    if items and all(str(item.get("versionType", "")).lower() in _DISTRIBUTION_TYPES for item in items):
        return False
    return entry.get("defaultStatus") == "affected" or any(
        item.get("status", "affected") == "affected" for item in entry.get("versions") or ())


def _cve5(part: Mapping[str, Any]) -> list[ProductRow]:
    rows: dict[tuple[str, str, str], list[Any]] = {}
    for entry in part.get("affected") or ():
        if not _is_affected(entry):
            continue
        for key in _affected_keys(entry):
            rows.setdefault(key, []).append(dict(entry))
    return [ProductRow(*key, "cve5", False, True, {"a": entries}) for key, entries in rows.items()]


def _jvn(jvn: Mapping[str, Any]) -> list[ProductRow]:
    rows: dict[tuple[str, str, str], list[Any]] = {}
    for jvndb_id, payload in sorted(jvn.items()):
        for product in payload.get("products") or ():
            key = _key(str(product.get("cpe", "")))
            if key and key[1] not in _NO_NAME and key[2] not in _NO_NAME:
                rows.setdefault(key, []).append({"id": jvndb_id, "cpe": product.get("cpe", ""),
                                                 "version": product.get("version", "")})
    return [ProductRow(*key, "jvn", False, False, {"j": entries}) for key, entries in rows.items()]


def products(state: State) -> list[ProductRow]:
    """The index rows of a CVE (see the module docstring for which source counts)."""
    record = state.record
    if str(record.get("vulnStatus", "")).lower() == "rejected" or state.cve5.get("state") == "REJECTED":
        return []
    found = _nvd(record.get("configurations") or ()) if state.record_origin == "nvd" else []
    if found:
        return found
    if state.cve5:
        found = _cve5(state.cve5)
        if found:
            return found
    return _jvn(state.jvn) if state.jvn else []
