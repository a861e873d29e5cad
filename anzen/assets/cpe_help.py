"""CPE help: suggest CPE 2.3 names for what people type about a device's OS and software, offline.

The vocabulary (`data/cpe-vocabulary.csv`, sources in data/cpe-vocabulary.README.md) lists product
identities (part, vendor, product) with a title, search words (Japanese names too), a CPE 2.3 template with
a `{v}` version slot, example versions, and products that have no CPE at all (many Japanese medical
devices): those are suggested with `no_cpe`, i.e. the manual vulnerability path (MDS/SDS, JVN, the maker).

Matching is normalised token matching: NFKC, lower case, words split on spaces and `_`; a product whose
words all occur in the text ranks above one that matches partly; the vendor and search words add to the
score; what is left that looks like a version fills the version slot ("Windows 10 22H2" →
cpe:2.3:o:microsoft:windows_10_22h2:*:…, "Tomcat 9.0.80" → cpe:2.3:a:apache:tomcat:9.0.80:…).
Pure apart from reading the vocabulary file once.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from anzen.assets.normalise import ANY, escape, parse_cpe23

DATA_FILE = Path(__file__).resolve().parent / "data" / "cpe-vocabulary.csv"
_SPLIT = re.compile(r"[\s_/,;:\[\]「」・、]+")
_VERSIONISH = re.compile(r"^(?:v|rev\.?|r)?\d[\w.\-+()]*$")


@dataclass(frozen=True)
class Entry:
    part: str
    vendor: str
    product: str
    title: str
    keywords: tuple[str, ...]
    template: str
    versions: tuple[str, ...]
    no_cpe: bool
    checked: str  # yes: the name occurs in NVD data; no: to be checked; n/a: no CPE
    alias_of: str  # vendor:product of the dictionary's name, when this is another tool's name
    category: str
    source: str

    @property
    def identity(self) -> str:
        return f"{self.vendor}:{self.product}"


@dataclass(frozen=True)
class Suggestion:
    cpe23: str  # "" for products without a CPE
    title: str
    part: str
    vendor: str
    product: str
    version: str  # the version read from the text ("" when none)
    no_cpe: bool
    checked: str
    score: float
    example_versions: tuple[str, ...] = ()

    @property
    def part_label(self) -> str:
        from django.utils.translation import gettext as _

        return {"a": _("アプリケーション"), "o": "OS", "h": _("ハードウェア")}.get(self.part, "")


def tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return [token for token in _SPLIT.split(folded) if token]


@functools.lru_cache(maxsize=2)
def vocabulary(path: Path = DATA_FILE) -> tuple[Entry, ...]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError):
        return ()
    return tuple(
        Entry(part=row["part"], vendor=row["vendor"], product=row["product"], title=row["title"],
              keywords=tuple(tokens(row["keywords"])), template=row["template"],
              versions=tuple(v for v in row["versions"].split(";") if v and v != "-"), no_cpe=row["no_cpe"] == "1",
              checked=row["checked"], alias_of=row["alias_of"], category=row["category"], source=row["source"])
        for row in rows
    )


@functools.lru_cache(maxsize=2)
def _by_identity(path: Path = DATA_FILE) -> dict[tuple[str, str, str], Entry]:
    return {(e.part, e.vendor, e.product): e for e in vocabulary(path)}


def _product_words(entry: Entry) -> list[str]:
    return [word for word in re.split(r"[_]+", entry.product) if word]


def _fill(template: str, version: str) -> str:
    value = escape(version) if version else ANY
    if "{v}" not in template:
        return template
    return template.replace("{v}", value)


def _score(entry: Entry, words: list[str], joined: str) -> tuple[float, set[str]]:
    product_words = _product_words(entry)
    used: set[str] = set()
    hits = [w for w in product_words if w in words]
    used.update(hits)
    fraction = len(hits) / len(product_words) if product_words else 0.0
    product_joined = entry.product.replace("_", "").replace("-", "")
    if len(product_joined) >= 4 and product_joined in joined:
        fraction = 1.0
        used.update(w for w in words if w in product_joined)
    vendor_words = [w for w in re.split(r"[_\-]+", entry.vendor) if w]
    vendor_hit = any(w in words for w in vendor_words) or (len(entry.vendor) >= 4 and entry.vendor in joined)
    if vendor_hit:
        used.update(w for w in words if w in vendor_words)
    keyword_hits = [w for w in words if w in entry.keywords]
    used.update(keyword_hits)
    title_words = set(tokens(entry.title))
    title_hits = [w for w in words if w in title_words and w not in used]
    used.update(title_hits)
    # Digits alone ("10") never make a match: at least one word with a letter must fit.
    if not any(re.search(r"[^\d.]", w) for w in used):
        return 0.0, set()
    score = 3.0 * fraction + 0.2 * len(hits) + (1.0 if vendor_hit else 0.0) + 0.8 * len(keyword_hits) \
        + 0.3 * len(title_hits)
    if fraction == 0.0 and not keyword_hits and not title_hits:
        return 0.0, set()
    return score, used


def _version(words: list[str], used: set[str]) -> str:
    for word in words:
        if word not in used and _VERSIONISH.match(word):
            return word
    return ""


def suggest(text: str, *, parts: tuple[str, ...] | None = None, limit: int = 8,
            path: Path = DATA_FILE) -> list[Suggestion]:
    """CPE names for a free-text product (and version), best first; products without a CPE included."""
    words = tokens(text)
    if not words:
        return []
    joined = "".join(words).replace("-", "")
    scored: list[tuple[float, Entry, str]] = []
    for entry in vocabulary(path):
        if parts and entry.part not in parts and not entry.no_cpe:
            continue
        score, used = _score(entry, words, joined)
        if score <= 0:
            continue
        scored.append((score, entry, _version(words, used)))
    scored.sort(key=lambda item: (-item[0], item[1].alias_of != "", item[1].source != "hospital-cpe-families",
                                  item[1].product))
    results: list[Suggestion] = []
    seen: set[str] = set()
    for score, entry, version in scored:
        target = _canonical_entry(entry, path)
        key = target.identity
        if key in seen:
            continue
        seen.add(key)
        cpe = "" if target.no_cpe else _fill(target.template, version)
        results.append(Suggestion(cpe23=cpe, title=target.title, part=target.part, vendor=target.vendor,
                                  product=target.product, version=version, no_cpe=target.no_cpe,
                                  checked=target.checked, score=round(score, 2), example_versions=target.versions))
        if len(results) >= limit:
            break
    return results


def suggest_os(os_name: str, os_version: str = "", *, limit: int = 5) -> list[Suggestion]:
    """CPE names for a device's OS (name and version as the ledger holds them)."""
    return suggest(f"{os_name} {os_version}", parts=("o",), limit=limit)


def _canonical_entry(entry: Entry, path: Path = DATA_FILE) -> Entry:
    if not entry.alias_of:
        return entry
    vendor, _sep, product = entry.alias_of.partition(":")
    return _by_identity(path).get((entry.part, vendor, product), entry)


def canonical(cpe23: str) -> str:
    """The CPE with the dictionary's vendor:product where the vocabulary knows another tool's name for it
    (nmap's `igor_sysoev:nginx` → `f5:nginx`, `mysql:mysql` → `oracle:mysql`); unchanged otherwise."""
    try:
        cpe = parse_cpe23(cpe23).lower()
    except ValueError:
        return cpe23
    entry = _by_identity().get((cpe.part, cpe.vendor, cpe.product))
    if entry is None or not entry.alias_of:
        return cpe.to_fs()
    vendor, _sep, product = entry.alias_of.partition(":")
    return cpe.__class__(cpe.part, vendor, product, *(getattr(cpe, name) for name in (
        "version", "update", "edition", "language", "sw_edition", "target_sw", "target_hw", "other"))).to_fs()


def title_of(cpe23: str) -> str:
    """A readable name for a CPE from the vocabulary ("" when unknown)."""
    try:
        cpe = parse_cpe23(cpe23).lower()
    except ValueError:
        return ""
    entry = _by_identity().get((cpe.part, cpe.vendor, cpe.product))
    return entry.title if entry else ""


def known_without_cpe(text: str) -> Suggestion | None:
    """The vocabulary's product without a CPE that the text names, if it is the best match."""
    found = suggest(text, limit=1)
    return found[0] if found and found[0].no_cpe else None
