"""CPE 2.3 name matching (NISTIR 7696) and the vendor/product alias table (pure, no ORM).

Names are CPE 2.3 formatted strings (NISTIR 7695 §6.2): ``cpe:2.3:part:vendor:product:version:update:
edition:language:sw_edition:target_sw:target_hw:other``. A component is ``*`` (ANY), ``-`` (NA) or a value
with backslash escapes (``15.4\\(3\\)m``); a *source* value (an NVD match criterion) may start or end with
the wildcards ``*`` (any number of characters) or ``?`` (one character each; a run at either end matches up
to that many). Comparison is case-insensitive.

`compare_component(source, target)` gives the NISTIR 7696 relation (Table 6-2); a name matches when every
component is SUPERSET or EQUAL. A target component that is ANY (the ledger does not know the value) gives
SUBSET: the match is *possible*, not confirmed.

Parsing user input with all of NISTIR 7695's checks is `anzen.assets.normalise.parse_cpe23`; `split` here is
the fast path for feed data, which is already well formed.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import yaml

ANY, NA = "*", "-"
PREFIX = "cpe:2.3:"
COMPONENTS = ("part", "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw",
              "target_hw", "other")
ALIASES_FILE = Path(__file__).with_name("data") / "aliases.yaml"


class Relation(enum.Enum):
    SUPERSET = "superset"
    SUBSET = "subset"
    EQUAL = "equal"
    DISJOINT = "disjoint"
    UNDEFINED = "undefined"


MATCHING = frozenset({Relation.SUPERSET, Relation.EQUAL})


@lru_cache(maxsize=200_000)
def split(name: str) -> tuple[str, ...]:
    """The eleven components of a CPE 2.3 formatted string, lower-cased, escapes kept.

    Raises ValueError (English: this is for feed data, user input goes through normalise.parse_cpe23)."""
    text = name.strip()
    if text[:8].lower() != PREFIX:
        raise ValueError(f"not a CPE 2.3 formatted string: {name[:80]!r}")
    body = text[8:].lower()
    if "\\" not in body:
        parts = body.split(":")
    else:
        parts, current, index = [], [], 0
        while index < len(body):
            char = body[index]
            if char == "\\" and index + 1 < len(body):
                current.append(body[index:index + 2])
                index += 2
                continue
            if char == ":":
                parts.append("".join(current))
                current = []
            else:
                current.append(char)
            index += 1
        parts.append("".join(current))
    if len(parts) < 11:  # a few feeds shorten trailing ANY components
        parts += [ANY] * (11 - len(parts))
    if len(parts) != 11:
        raise ValueError(f"a CPE 2.3 name has 11 components: {name[:80]!r}")
    return tuple(part if part != "" else ANY for part in parts)


def join(components: Iterable[str]) -> str:
    return PREFIX + ":".join(components)


def unescape(value: str) -> str:
    if value in (ANY, NA) or "\\" not in value:
        return value
    return re.sub(r"\\(.)", r"\1", value)


def _has_wildcards(value: str) -> bool:
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            index += 2
            continue
        if char in "*?":
            return True
        index += 1
    return False


@lru_cache(maxsize=50_000)
def _pattern(source: str) -> re.Pattern[str]:
    """A regular expression for a source value with unquoted wildcards at either end (NISTIR 7696 §6.1.3)."""
    body, prefix, suffix = source, "", ""
    if body.startswith("*"):
        body, prefix = body[1:], ".*"
    else:
        count = len(body) - len(body.lstrip("?"))
        if count:
            body, prefix = body[count:], f".{{0,{count}}}"
    if body.endswith("*") and not body.endswith("\\*"):
        body, suffix = body[:-1], ".*"
    else:
        stripped = body
        count = 0
        while stripped.endswith("?") and not stripped.endswith("\\?"):
            stripped, count = stripped[:-1], count + 1
        if count:
            body, suffix = stripped, f".{{0,{count}}}"
    return re.compile(prefix + re.escape(unescape(body)) + suffix, re.DOTALL)


def compare_component(source: str, target: str) -> Relation:
    """NISTIR 7696 Table 6-2 for one component (both as in the formatted string, lower-cased)."""
    if source == ANY:
        return Relation.EQUAL if target == ANY else Relation.SUPERSET
    if target == ANY:
        return Relation.SUBSET
    if source == NA:
        return Relation.EQUAL if target == NA else Relation.DISJOINT
    if target == NA:
        return Relation.DISJOINT
    if _has_wildcards(target):
        return Relation.UNDEFINED
    if _has_wildcards(source):
        return Relation.SUPERSET if _pattern(source).fullmatch(unescape(target)) else Relation.DISJOINT
    return Relation.EQUAL if unescape(source) == unescape(target) else Relation.DISJOINT


def compare(source: str | tuple[str, ...], target: str | tuple[str, ...]) -> tuple[Relation, ...]:
    """The relation of every component of two names (formatted strings or `split` tuples)."""
    left = split(source) if isinstance(source, str) else source
    right = split(target) if isinstance(target, str) else target
    return tuple(compare_component(a, b) for a, b in zip(left, right, strict=True))


def matches(source: str | tuple[str, ...], target: str | tuple[str, ...]) -> bool:
    """CPE name matching: the source name is a superset of or equal to the target name."""
    return all(relation in MATCHING for relation in compare(source, target))


def may_match(source: str | tuple[str, ...], target: str | tuple[str, ...]) -> bool:
    """Nothing rules the match out: no component is DISJOINT (unknown target values are allowed)."""
    return all(relation is not Relation.DISJOINT for relation in compare(source, target))


# --- aliases ----------------------------------------------------------------------------------------


def text_key(value: str) -> str:
    """A vendor or product name written as free text (CVE 5 `affected`, JVN) as a CPE-like key:
    「GE HealthCare」→ ``ge_healthcare``, 「Venue Go」→ ``venue_go``."""
    text = unicodedata.normalize("NFKC", value).lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def squash(value: str) -> str:
    """Letters and digits only: ``palo_alto_networks`` and ``paloaltonetworks`` meet."""
    return re.sub(r"[^0-9a-z]+", "", unicodedata.normalize("NFKC", unescape(value)).lower())


class Aliases:
    """Names of one vendor or product that differ between sources (data/aliases.yaml).

    `canonical(vendor, product)` gives one name per group; `variants(vendor, product)` every spelling to look
    up in the match index."""

    def __init__(self, vendor_groups: Iterable[Iterable[str]], product_groups: Iterable[Iterable[str]]) -> None:
        self._vendor: dict[str, str] = {}
        self._vendor_members: dict[str, tuple[str, ...]] = {}
        for group in vendor_groups:
            names = tuple(dict.fromkeys(str(name).lower() for name in group))
            for name in names:
                self._vendor[name] = names[0]
            self._vendor_members[names[0]] = names
        self._product: dict[tuple[str, str], tuple[str, str]] = {}
        self._product_members: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        for group in product_groups:
            pairs = tuple(dict.fromkeys(tuple(str(item).lower().split(":", 1)) for item in group))
            head = (self.vendor(pairs[0][0]), pairs[0][1])
            for vendor, product in pairs:
                self._product[(self.vendor(vendor), product)] = head
            self._product_members[head] = pairs

    def vendor(self, vendor: str) -> str:
        return self._vendor.get(vendor, vendor)

    def canonical(self, vendor: str, product: str) -> tuple[str, str]:
        canonical_vendor = self.vendor(vendor)
        return self._product.get((canonical_vendor, product), (canonical_vendor, product))

    def variants(self, vendor: str, product: str) -> set[tuple[str, str]]:
        head = self.canonical(vendor, product)
        pairs = set(self._product_members.get(head, ((head[0], head[1]),)))
        pairs.add((vendor, product))
        found: set[tuple[str, str]] = set()
        for pair_vendor, pair_product in pairs:
            for name in self._vendor_members.get(self.vendor(pair_vendor), (pair_vendor,)):
                found.add((name, pair_product))
        return found


@cache
def aliases() -> Aliases:
    data = yaml.safe_load(ALIASES_FILE.read_text(encoding="utf-8")) or {}
    return Aliases(data.get("vendors") or [], data.get("products") or [])
