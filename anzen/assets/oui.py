"""Vendor names from MAC address prefixes, from the IEEE registries shipped inside Anzen.

`data/oui.csv.gz` holds the public IEEE MA-L (24-bit), MA-M (28-bit), MA-S (36-bit) and IAB assignments
(prefix → organisation; see data/oui.csv.README.md for source, date and terms). The table is read once,
lazily, into a dict; a missing or damaged file is logged and gives empty vendors, never an error.
Pure apart from reading that one file.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import logging
from collections.abc import Iterable
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "oui.csv.gz"
_PREFIX_LENGTHS = (9, 7, 6)  # MA-S / IAB, MA-M, MA-L: the longest (most specific) assignment wins
_HEX = set("0123456789ABCDEF")

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def table(path: Path = DATA_FILE) -> dict[str, str]:
    """prefix (upper-case hex, 6, 7 or 9 digits) → organisation name."""
    try:
        with gzip.open(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            reader = csv.reader(text)
            next(reader, None)
            result = {row[0]: row[1] for row in reader if len(row) >= 2 and row[0] and row[1]}
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as error:
        log.warning("OUI table %s could not be read (%s): vendors from MAC prefixes are not shown", path, error)
        return {}
    return result


def _hex(mac: str) -> str:
    digits = "".join(ch for ch in (mac or "").upper() if ch in _HEX or ch.isalnum())
    if len(digits) != 12 or any(ch not in _HEX for ch in digits):
        return ""
    return digits


def is_local(mac: str) -> bool:
    """Locally administered (randomised) addresses carry no vendor (second-lowest bit of the first octet)."""
    digits = _hex(mac)
    return bool(digits) and bool(int(digits[:2], 16) & 0x02)


def vendor_for(mac: str, *, path: Path = DATA_FILE) -> str:
    """The registered organisation of a MAC address (any usual notation), or "" when unknown."""
    digits = _hex(mac)
    if not digits or is_local(digits):
        return ""
    known = table(path)
    for length in _PREFIX_LENGTHS:
        found = known.get(digits[:length])
        if found:
            return found
    return ""


def vendors_for(macs: Iterable[str]) -> dict[str, str]:
    """mac → organisation for many addresses (unknown ones left out)."""
    result = {}
    for mac in macs:
        vendor = vendor_for(mac)
        if vendor:
            result[mac] = vendor
    return result
