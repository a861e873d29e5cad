"""Text normalisation for the library search (pure, no ORM).

Official texts mix full-width and half-width forms (（保守） / (保守), ＭＤＳ / MDS, 端末ＰＣ / 端末PC).
Both the stored `search_text` and the query go through the same NFKC + case-folding, so a search
matches whatever width the user typed. Highlighting maps the matches back onto the original text
character by character and escapes everything else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAX_TERMS = 8
MAX_TERM_LENGTH = 100
_SPACES = re.compile(r"\s+")


def normalise(value: str) -> str:
    """NFKC, case-folded, whitespace collapsed to single spaces."""
    folded = unicodedata.normalize("NFKC", value or "").casefold()
    return _SPACES.sub(" ", folded).strip()


def search_text(parts: Iterable[str | None]) -> str:
    """The concatenation stored in RequirementNode.search_text."""
    return normalise(" ".join(part for part in parts if part))


def search_terms(query: str) -> list[str]:
    """Whitespace-separated terms of a query (AND), normalised, without duplicates, bounded."""
    terms: list[str] = []
    for term in normalise(query).split(" "):
        term = term[:MAX_TERM_LENGTH]
        if term and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def _normalised_with_map(value: str) -> tuple[str, list[int]]:
    """The normalised form of `value` and, for each of its characters, the index in `value`."""
    out: list[str] = []
    index_map: list[int] = []
    for index, char in enumerate(value):
        piece = unicodedata.normalize("NFKC", char).casefold()
        if piece.isspace():
            piece = " "
        out.append(piece)
        index_map.extend([index] * len(piece))
    return "".join(out), index_map


def highlight(value: str, terms: Iterable[str]) -> SafeString:
    """`value` with every occurrence of the (normalised) terms wrapped in <mark>, HTML-escaped."""
    value = value or ""
    terms = [term for term in terms if term]
    if not terms or not value:
        return mark_safe(escape(value))
    normalised, index_map = _normalised_with_map(value)
    marked = [False] * len(value)
    for term in terms:
        start = normalised.find(term)
        while start != -1:
            end = start + len(term)
            for position in range(start, end):
                marked[index_map[position]] = True
            start = normalised.find(term, end)
    pieces: list[str] = []
    run_start = 0
    for index in range(1, len(value) + 1):
        if index == len(value) or marked[index] != marked[run_start]:
            chunk = escape(value[run_start:index])
            pieces.append(f"<mark>{chunk}</mark>" if marked[run_start] else chunk)
            run_start = index
    return mark_safe("".join(pieces))
