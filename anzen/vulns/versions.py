"""A tolerant version comparator for the version strings vendors really use (pure, no Django).

    6.0.4  5.16.2  rev.11.01.31  9.1(7.16)  13.1-49.13  08-10-04  update_202  2.0.0-beta  7.4p1  1.0.2k
    R3.3  22.7r2.3  10.0.19045.2965  19c  6.5.4.4-44v-21-1551

A version is cut into tokens at every character that is not a letter or digit and between digits and
letters. Numbers compare as numbers (``08`` == ``8``), words as text, with these rules:

- pre-release words (dev, snapshot, alpha, beta, pre, preview, rc, cr, ea, milestone) sort *before* the
  release they precede: ``2.0.0-beta < 2.0.0 < 2.0.0.1``;
- any other word after a version sorts *after* it: ``7.4 < 7.4p1 < 7.5``, ``1.0.2 < 1.0.2k``;
- zeros that end a version (or come just before a word) do not count: ``6.0 == 6.0.0``,
  ``2.0-beta == 2.0.0-beta``;
- a leading ``v``, ``ver``, ``version``, ``rev``, ``r`` or ``release`` before a digit is dropped:
  ``rev.11.01.31 == 11.1.31``, ``R3 < R3.3``.

`key()` maps a string to a tuple; `compare()` compares those tuples. Every string has a key, so this
is a total preorder on all strings (reflexive, transitive, antisymmetric up to equal keys) — the
property tests check exactly that.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PRE_RELEASE = {"dev": 0, "snapshot": 0, "alpha": 1, "ea": 1, "beta": 2, "milestone": 2, "pre": 3, "preview": 3,
               "rc": 4, "cr": 4}
PREFIXES = frozenset({"v", "ver", "version", "rev", "r", "release"})

_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")
_EPOCH_ZERO = re.compile(r"^0+:(?=\d)")  # rpm/deb epoch 0 (the default) says nothing

# Token classes: a pre-release word < the end of the version < another word < a number.
_PRE, _END, _WORD, _NUM = 0, 1, 2, 3
Key = tuple[tuple[int, int | str], ...]
_END_TOKEN: tuple[int, int | str] = (_END, 0)


@lru_cache(maxsize=65536)
def key(version: str) -> Key:
    """The sort key of a version string (any string, never raises)."""
    text = _EPOCH_ZERO.sub("", unicodedata.normalize("NFKC", str(version)).lower())
    raw = _TOKEN.findall(text)
    if len(raw) > 1 and raw[0] in PREFIXES and raw[1].isdigit():
        raw = raw[1:]
    tokens: list[tuple[int, int | str]] = []
    for item in raw:
        if item.isdigit():
            tokens.append((_NUM, int(item)))
        elif item in PRE_RELEASE:
            tokens.append((_PRE, PRE_RELEASE[item]))
        else:
            tokens.append((_WORD, item))
    # Zeros that end the version or stand just before a word do not count (6.0 == 6.0.0).
    cleaned: list[tuple[int, int | str]] = []
    for token in tokens:
        if token[0] != _NUM:
            while cleaned and cleaned[-1] == (_NUM, 0) and len(cleaned) > 1:
                cleaned.pop()
        cleaned.append(token)
    while len(cleaned) > 1 and cleaned[-1] == (_NUM, 0):
        cleaned.pop()
    cleaned.append(_END_TOKEN)
    return tuple(cleaned)


def compare(left: str, right: str) -> int:
    """-1, 0 or 1 as `left` is older than, the same as or newer than `right`."""
    a, b = key(left), key(right)
    return (a > b) - (a < b)


def is_known(version: str | None) -> bool:
    """False for what a ledger or CPE says when the version is not known: empty, ``*``, ``-``."""
    return bool(version) and version not in ("*", "-", "?")


def in_range(version: str, *, start_including: str = "", start_excluding: str = "", end_including: str = "",
             end_excluding: str = "") -> bool:
    """Whether `version` lies within the bounds given (NVD cpeMatch versionStart/End…)."""
    k = key(version)
    if start_including and k < key(start_including):
        return False
    if start_excluding and k <= key(start_excluding):
        return False
    if end_including and k > key(end_including):
        return False
    return not (end_excluding and k >= key(end_excluding))


def describe_range(*, start_including: str = "", start_excluding: str = "", end_including: str = "",
                   end_excluding: str = "") -> str:
    """The range in Japanese words: 「6.0.0 以上 6.0.16 未満」."""
    from django.utils.translation import gettext as _

    parts = []
    if start_including:
        parts.append(_("%(version)s 以上") % {"version": start_including})
    if start_excluding:
        parts.append(_("%(version)s より後") % {"version": start_excluding})
    if end_including:
        parts.append(_("%(version)s 以下") % {"version": end_including})
    if end_excluding:
        parts.append(_("%(version)s 未満") % {"version": end_excluding})
    return " ".join(parts) if parts else _("全バージョン")
