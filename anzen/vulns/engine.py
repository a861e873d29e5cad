"""Matching software identities against the CVE store.

The ledger names software by CPE 2.3. A hospital has thousands of devices but a few hundred distinct
software identities (golden images), so matching works on distinct `Identity` values: look the
(part, vendor, product) of each — under every alias — up in the `CveProduct` index, evaluate the compact
criteria stored there, and return `Hit`s per identity. Callers (the findings service) fan the hits out to
devices, checking `platform_satisfied` for hits that need a platform (AND configurations).

Confidence:
- ``confirmed``: an NVD configuration names the product, every attribute matches and the version is in range;
- ``possible``: an NVD configuration names the product but the ledger does not know the version or another
  attribute the criterion needs, or only a JVN advisory names the product (JVN gives no versions);
- ``manual``: NVD has no configurations for the CVE; the CNA's (or CISA's) CVE 5 `affected` data names the
  product and its version entries do not exclude the device's version — someone has to check.

Sources are used in that order per CVE: when NVD analysed a CVE, its configurations alone decide.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from anzen.vulns import cpe, versions

CONFIRMED, POSSIBLE, MANUAL = "confirmed", "possible", "manual"
_RANK = {CONFIRMED: 3, POSSIBLE: 2, MANUAL: 1}
_SQL_IN_LIMIT = 2000
_ATTRIBUTE_NAMES = {4: "update", 5: "edition", 6: "language", 7: "sw_edition", 8: "target_sw", 9: "target_hw",
                    10: "other"}


@dataclass(frozen=True)
class Identity:
    """A distinct software identity from a Software row's CPE 2.3 name (components lower-cased, as written in
    the formatted string with their escapes; ``*`` where the ledger does not know the value)."""

    part: str
    vendor: str
    product: str
    version: str = cpe.ANY
    update: str = cpe.ANY
    target_sw: str = cpe.ANY
    target_hw: str = cpe.ANY
    other: str = cpe.ANY
    edition: str = cpe.ANY
    language: str = cpe.ANY
    sw_edition: str = cpe.ANY

    @classmethod
    def from_cpe23(cls, text: str) -> Identity:
        c = cpe.split(text)
        return cls(part=c[0], vendor=c[1], product=c[2], version=c[3], update=c[4], edition=c[5], language=c[6],
                   sw_edition=c[7], target_sw=c[8], target_hw=c[9], other=c[10])

    def components(self) -> tuple[str, ...]:
        return (self.part, self.vendor, self.product, self.version, self.update, self.edition, self.language,
                self.sw_edition, self.target_sw, self.target_hw, self.other)

    def cpe23(self) -> str:
        return cpe.join(self.components())

    @property
    def label(self) -> str:
        """「fortios 6.0.4」: product and version for reasons."""
        version = cpe.unescape(self.version) if versions.is_known(self.version) else ""
        update = cpe.unescape(self.update) if versions.is_known(self.update) else ""
        return " ".join(part for part in (cpe.unescape(self.product), version, update) if part)


@dataclass(frozen=True)
class Hit:
    """A CVE that applies to an identity, how sure Anzen is, and why (Japanese text).

    `requires_platform`: CPE match criteria of which the device must have at least one (the CVE's AND
    configuration puts the vulnerable product on given platforms); empty when none is needed."""

    cve_id: str
    confidence: str
    reason: str
    requires_platform: tuple[str, ...] = ()
    origin: str = "nvd"  # nvd | cve5 | jvn
    criteria: str = ""  # the match criterion (NVD) or the source's product name that matched


# --- lookup ------------------------------------------------------------------------------------------

_FIRMWARE_SUFFIX = re.compile(r"_(firmware|software|os)$")


def lookup_keys(identity: Identity) -> set[tuple[str, str, str]]:
    """Every (part, vendor, product) under which the index may name this identity: aliases, and the free-text
    keys of CVE 5 `affected` entries (part "", ``ge_healthcare``/``venue`` for gehealthcare:venue_firmware)."""
    aliases = cpe.aliases()
    keys: set[tuple[str, str, str]] = set()
    for vendor, product in aliases.variants(identity.vendor, identity.product):
        keys.add((identity.part, vendor, product))
        text_vendor = cpe.text_key(cpe.unescape(vendor))
        text_product = cpe.text_key(cpe.unescape(product))
        keys.add(("", text_vendor, text_product))
        bare = _FIRMWARE_SUFFIX.sub("", text_product)
        if bare and bare != text_product:
            keys.add(("", text_vendor, bare))
    return keys


def _rows(keys: set[tuple[str, str, str]], cve_ids: set[str] | None) -> Iterable[tuple[Any, ...]]:
    from anzen.vulns.models import CveProduct

    vendors = sorted({key[1] for key in keys})
    products = sorted({key[2] for key in keys})
    queryset = CveProduct.objects.filter(vendor__in=vendors, product__in=products)
    if cve_ids is not None and len(cve_ids) <= _SQL_IN_LIMIT:
        queryset = queryset.filter(cve__cve_id__in=sorted(cve_ids))
    return queryset.values_list("cve__cve_id", "part", "vendor", "product", "origin", "criteria").iterator(
        chunk_size=5000)


def match_identities(identities: Iterable[Identity], *, cve_ids: set[str] | None = None,
                     ) -> dict[Identity, list[Hit]]:
    """The CVEs that apply to each distinct identity (every identity given is a key, maybe with no hits).

    `cve_ids` restricts matching to those CVEs (incremental rematch after a feed import)."""
    wanted = list(dict.fromkeys(identities))
    result: dict[Identity, list[Hit]] = {identity: [] for identity in wanted}
    if not wanted or (cve_ids is not None and not cve_ids):
        return result
    by_key: dict[tuple[str, str, str], list[Identity]] = defaultdict(list)
    for identity in wanted:
        for key in lookup_keys(identity):
            by_key[key].append(identity)
    # (identity, cve) → the index rows naming the identity; one origin per CVE by construction.
    candidates: dict[tuple[Identity, str], list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    for cve_id, part, vendor, product, origin, criteria in _rows(set(by_key), cve_ids):
        if cve_ids is not None and cve_id not in cve_ids:
            continue
        for identity in by_key.get((part, vendor, product), ()):
            candidates[(identity, cve_id)].append((origin, criteria))
    for (identity, cve_id), rows in candidates.items():
        hit = evaluate(identity, cve_id, rows)
        if hit is not None:
            result[identity].append(hit)
    for hits in result.values():
        hits.sort(key=lambda hit: (-_RANK[hit.confidence], hit.cve_id))
    return result


def check(cpe23: str) -> list[Hit]:
    """The CVEs that apply to one product and version (``anzen vulns check``); ValueError (Japanese) when the
    name is not a valid CPE 2.3 formatted string."""
    from anzen.assets.normalise import parse_cpe23

    parse_cpe23(cpe23)  # the user's input gets NISTIR 7695's checks and a Japanese message
    identity = Identity.from_cpe23(cpe23)
    return match_identities([identity])[identity]


def changed_cve_ids(since_import_id: int | None) -> set[str]:
    """The CVE ids that imports after `since_import_id` created or changed (all CVEs for None)."""
    from anzen.vulns.models import Cve

    queryset = Cve.objects.all()
    if since_import_id is not None:
        queryset = queryset.filter(changed_by_id__gt=since_import_id)
    return set(queryset.values_list("cve_id", flat=True).iterator(chunk_size=10000))


def platform_satisfied(requires_platform: Sequence[str], device_cpes: Iterable[str]) -> bool:
    """Whether a device has one of the platforms an AND configuration requires (always, when none is).

    A device CPE satisfies a platform criterion when nothing rules it out: the model must be the same, a
    version the ledger does not know is accepted."""
    if not requires_platform:
        return True
    aliases = cpe.aliases()
    platforms = [_canonical(cpe.split(item), aliases) for item in requires_platform]
    for text in device_cpes:
        try:
            device = _canonical(cpe.split(text), aliases)
        except ValueError:
            continue
        if any(cpe.may_match(platform, device) for platform in platforms):
            return True
    return False


def _canonical(components: tuple[str, ...], aliases: cpe.Aliases) -> tuple[str, ...]:
    vendor, product = aliases.canonical(components[1], components[2])
    return (components[0], vendor, product, *components[3:])


# --- evaluation --------------------------------------------------------------------------------------


def evaluate(identity: Identity, cve_id: str, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> Hit | None:
    """The hit (or none) for one identity and CVE from the index rows naming the identity."""
    nvd = [criteria for origin, criteria in rows if origin == "nvd"]
    if nvd:
        return _evaluate_nvd(identity, cve_id, nvd)
    cve5 = [criteria for origin, criteria in rows if origin == "cve5"]
    if cve5:
        return _evaluate_cve5(identity, cve_id, cve5)
    jvn = [criteria for origin, criteria in rows if origin == "jvn"]
    if jvn:
        return _evaluate_jvn(identity, cve_id, jvn)
    return None


def _range_text(start_including: str, start_excluding: str, end_including: str, end_excluding: str) -> str:
    return versions.describe_range(start_including=start_including, start_excluding=start_excluding,
                                   end_including=end_including, end_excluding=end_excluding)


def _check_entry(identity: Identity, target: tuple[str, ...], entry: Sequence[Any]) -> tuple[str, str] | None:
    """(confidence, reason) for one NVD cpeMatch entry [criteria, si, se, ei, ee, config, platform index]."""
    criteria, start_incl, start_excl, end_incl, end_excl, config = entry[:6]
    aliases = cpe.aliases()
    try:
        source = _canonical(cpe.split(criteria), aliases)
    except ValueError:
        return None
    unknown: list[str] = []
    for index in (0, 1, 2, 4, 5, 6, 7, 8, 9, 10):
        relation = cpe.compare_component(source[index], target[index])
        if relation is cpe.Relation.SUBSET:
            unknown.append(_ATTRIBUTE_NAMES.get(index, cpe.COMPONENTS[index]))
        elif relation not in cpe.MATCHING:
            return None
    where = _("NVD 構成 %(number)s") % {"number": config}
    version = identity.version
    if start_incl or start_excl or end_incl or end_excl:
        wanted = _range_text(start_incl, start_excl, end_incl, end_excl)
        if (source[3] not in (cpe.ANY, cpe.NA) and versions.is_known(version)
                and cpe.compare_component(source[3], version) not in cpe.MATCHING):
            return None
        if not versions.is_known(version):
            reason = _("%(product)s のバージョンが台帳にないため要確認: %(range)s が影響を受けます（%(where)s）")
            return POSSIBLE, reason % {"product": identity.label, "range": wanted, "where": where}
        if not versions.in_range(cpe.unescape(version), start_including=start_incl, start_excluding=start_excl,
                                 end_including=end_incl, end_excluding=end_excl):
            return None
        reason = _("%(product)s は %(range)sの範囲に該当（%(where)s）") % {
            "product": identity.label, "range": wanted, "where": where}
    else:
        relation = cpe.compare_component(source[3], version)
        if relation is cpe.Relation.DISJOINT and versions.is_known(source[3]) and versions.is_known(version) \
                and "*" not in source[3] and "?" not in source[3] \
                and versions.compare(cpe.unescape(source[3]), cpe.unescape(version)) == 0:
            relation = cpe.Relation.EQUAL  # 6.0.04 and 6.0.4, 1.0 and 1.0.0
        if relation is cpe.Relation.SUBSET:
            reason = _("%(product)s のバージョンが台帳にないため要確認: %(criteria)s が影響を受けます（%(where)s）")
            return POSSIBLE, reason % {"product": identity.label, "criteria": criteria, "where": where}
        if relation not in cpe.MATCHING:
            return None
        reason = _("%(product)s は %(criteria)s に一致（%(where)s）") % {
            "product": identity.label, "criteria": criteria, "where": where}
    if unknown:
        note = _("台帳に %(attributes)s がないため要確認") % {"attributes": ", ".join(unknown)}
        return POSSIBLE, f"{reason} — {note}"
    return CONFIRMED, reason


def _evaluate_nvd(identity: Identity, cve_id: str, rows: Sequence[Mapping[str, Any]]) -> Hit | None:
    target = identity.components()
    found: list[tuple[int, bool, str, str, tuple[str, ...]]] = []
    for criteria in rows:
        platforms = criteria.get("p") or []
        for entry in criteria.get("m") or ():
            outcome = _check_entry(identity, target, entry)
            if outcome is None:
                continue
            index = entry[6] if len(entry) > 6 else -1
            platform = tuple(platforms[index]) if isinstance(index, int) and 0 <= index < len(platforms) else ()
            confidence, reason = outcome
            found.append((_RANK[confidence], not platform, reason, entry[0], platform))
    if not found:
        return None
    best_rank = max(item[0] for item in found)
    best = [item for item in found if item[0] == best_rank]
    free = [item for item in best if item[1]]
    confidence = CONFIRMED if best_rank == _RANK[CONFIRMED] else POSSIBLE
    if free:
        _rank, _free, reason, criteria, _platform = free[0]
        return Hit(cve_id, confidence, reason, (), "nvd", criteria)
    platforms = tuple(dict.fromkeys(item for entry in best for item in entry[4]))
    _rank, _free, reason, criteria, _platform = best[0]
    shown = ", ".join(_short(item) for item in platforms[:3])
    if len(platforms) > 3:
        shown += _(" ほか %(count)s 件") % {"count": len(platforms) - 3}
    reason = f"{reason} — " + _("次のいずれかの上で動作する場合: %(platforms)s") % {"platforms": shown}
    return Hit(cve_id, confidence, reason, platforms, "nvd", criteria)


def _short(criteria: str) -> str:
    try:
        c = cpe.split(criteria)
    except ValueError:
        return criteria
    version = "" if c[3] in (cpe.ANY, cpe.NA) else " " + cpe.unescape(c[3])
    return f"{cpe.unescape(c[1])}:{cpe.unescape(c[2])}{version}"


def _cve5_verdict(version: str, entry: Mapping[str, Any]) -> tuple[bool | None, str]:
    """(affected?, the version text that decided) for one CVE 5 `affected` entry; None when undecided."""
    for item in entry.get("versions") or ():
        status = item.get("status", "affected")
        start = str(item.get("version", "") or "")
        upper_incl = str(item.get("lessThanOrEqual", "") or "")
        upper_excl = str(item.get("lessThan", "") or "")
        if upper_incl or upper_excl:
            low = "" if start in ("0", "*", "", "n/a", "unspecified") else start
            if upper_incl in ("*",) or upper_excl in ("*",):
                upper_incl = upper_excl = ""
            inside = versions.in_range(version, start_including=low, end_including=upper_incl,
                                       end_excluding=upper_excl)
            text = _range_text(low, "", upper_incl, upper_excl)
        else:
            inside = start not in ("", "*", "n/a", "unspecified") and versions.compare(version, start) == 0
            text = start
        if inside:
            return status == "affected", text
    if entry.get("defaultStatus") == "affected":
        return True, _("既定で影響あり（defaultStatus）")
    return False, ""


def _evaluate_cve5(identity: Identity, cve_id: str, rows: Sequence[Mapping[str, Any]]) -> Hit | None:
    version = cpe.unescape(identity.version)
    if versions.is_known(identity.update):
        # CNA texts write the update into the version (OpenSSH "8.5p1"; NVD: version 8.5, update p1)
        version = f"{version}.{cpe.unescape(identity.update)}"
    for criteria in rows:
        for entry in criteria.get("a") or ():
            name = f"{entry.get('vendor', '')} {entry.get('product', '')}".strip() or str(entry.get("packageName", ""))
            via = _("CISA の補足情報") if entry.get("via") == "adp" else _("CNA")
            if not versions.is_known(identity.version):
                reason = _("NVD の構成情報がなく、%(via)s の影響製品「%(name)s」に該当する可能性があります"
                           "（台帳にバージョンがないため要手動確認）") % {"via": via, "name": name}
                return Hit(cve_id, MANUAL, reason, (), "cve5", name)
            affected, text = _cve5_verdict(version, entry)
            if affected:
                reason = _("NVD の構成情報がなく、%(via)s の影響製品「%(name)s」の %(versions)s に %(product)s が"
                           "該当（CVE 5 レコード、要手動確認）") % {"via": via, "name": name, "versions": text,
                                                           "product": identity.label}
                return Hit(cve_id, MANUAL, reason, (), "cve5", name)
    return None


_JVN_RANGE = (
    (re.compile(r"^(?P<low>.+?)\s*(?:以上|から)\s*(?P<high>.+?)\s*(?:未満)"), "range_excl"),
    (re.compile(r"^(?P<low>.+?)\s*(?:以上|から)\s*(?P<high>.+?)\s*(?:以下|まで)"), "range_incl"),
    (re.compile(r"^(?P<high>.+?)\s*未満"), "lt"),
    (re.compile(r"^(?P<high>.+?)\s*(?:(?:および|及び)?それ(?:より)?以前|以前|以下)"), "le"),
)


def jvn_version_verdict(version: str, text: str) -> bool | None:
    """Whether JVN's free-text version (「5.16.3 未満」「v6 R4 およびそれ以前のバージョン」) covers `version`;
    None when the text cannot be read."""
    verdicts: list[bool] = []
    for line in re.split(r"[\n、,;]+", text or ""):
        line = line.strip()
        if not line:
            continue
        for pattern, kind in _JVN_RANGE:
            found = pattern.match(line)
            if not found:
                continue
            high = found.group("high").strip()
            low = found.groupdict().get("low") or ""
            if kind == "range_excl":
                verdicts.append(versions.in_range(version, start_including=low.strip(), end_excluding=high))
            elif kind == "range_incl":
                verdicts.append(versions.in_range(version, start_including=low.strip(), end_including=high))
            elif kind == "lt":
                verdicts.append(versions.in_range(version, end_excluding=high))
            else:
                verdicts.append(versions.in_range(version, end_including=high))
            break
        else:
            if re.fullmatch(r"[\w.\-()]+", line):
                verdicts.append(versions.compare(version, line) == 0)
                continue
            return None
    if not verdicts:
        return None
    return any(verdicts)


def _evaluate_jvn(identity: Identity, cve_id: str, rows: Sequence[Mapping[str, Any]]) -> Hit | None:
    version = cpe.unescape(identity.version)
    for criteria in rows:
        for entry in criteria.get("j") or ():
            text = str(entry.get("version", "") or "")
            values = {"id": entry.get("id", ""), "cpe": entry.get("cpe", ""), "text": text or "-",
                      "product": identity.label}
            if versions.is_known(identity.version):
                verdict = jvn_version_verdict(version, text)
                if verdict is False:
                    continue
                if verdict:
                    reason = _("JVN iPedia（%(id)s）が %(cpe)s を挙げ、バージョン「%(text)s」に %(product)s が該当"
                               "（JVN のみの情報のため要確認）") % values
                    return Hit(cve_id, POSSIBLE, reason, (), "jvn", str(entry.get("cpe", "")))
            reason = _("JVN iPedia（%(id)s）が %(cpe)s を挙げています。バージョン「%(text)s」は自動で照合できないため"
                       "要確認") % values
            return Hit(cve_id, POSSIBLE, reason, (), "jvn", str(entry.get("cpe", "")))
    return None
