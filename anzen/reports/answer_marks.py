"""Reading an answer from what a person typed in a form's cell (pure).

Accepted, for an item whose options are e.g. はい/いいえ(/対象外) or 該当/非該当:
- the label itself, with or without a mark: 「はい」「○はい」「◯ いいえ」「【対象外】」;
- the label followed by its date as the paper form prints it: 「はい (8 / 2)」 (the date is returned);
- English or short forms: yes / no / Y / N / N/A;
- a mark alone (○ ◯ 〇 ✓ ✔ ☑ レ): returned as MARK (the caller decides what it means: the chosen column of
  an MDS/SDS row, or はい in a rounds form); × ✕ alone: NO_MARK (いいえ in a rounds form);
- the form's placeholder listing every option without a mark (「はい・いいえ」) reads as unanswered.
Anything else is a `ChoiceProblem` naming what was found and the allowed labels.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

MARKS = frozenset("○◯〇●✓✔☑レ✅⭕")
CROSSES = frozenset("×✕✗")
MARK = "\x00mark"
NO_MARK = "\x00cross"
_DATE_PART = re.compile(r"[(（]([^()（）]*)[)）]")
_SEPARATORS = re.compile(r"[・/／,、\s|]+")
_BRACKETS = str.maketrans("", "", "【】[]「」")
SYNONYMS = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "n/a": "na", "na": "na", "対象外": "na",
            "該当": "applicable", "非該当": "not_applicable"}


class ChoiceProblem(ValueError):
    """The cell holds something that is not one of the item's options."""


def normalise(value: object) -> str:
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def has_mark(value: object) -> bool:
    text = normalise(value)
    return any(ch in MARKS for ch in text)


def split_date(value: object) -> tuple[str, str]:
    """「はい (8 / 2)」 → ("はい", "8 / 2"); the text without a parenthesised part → (text, "")."""
    text = normalise(value)
    found = _DATE_PART.search(text)
    if not found:
        return text, ""
    inside = found.group(1).strip()
    rest = (text[: found.start()] + text[found.end():]).strip()
    return rest, inside if any(ch.isdigit() for ch in inside) else ""


def read_choice(value: object, options: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """(option value or "" or MARK/NO_MARK, the date written in the same cell or "")."""
    text, day = split_date(value)
    text = text.translate(_BRACKETS).strip()
    if not text:
        return "", day
    marked = any(ch in MARKS for ch in text)
    crossed = any(ch in CROSSES for ch in text)
    core = "".join(ch for ch in text if ch not in MARKS and ch not in CROSSES).strip()
    by_label = {normalise(label): option for option, label in options}
    values = {option for option, _label in options}
    if not core:
        if marked and not crossed:
            return MARK, day
        if crossed and not marked:
            return NO_MARK, day
        raise ChoiceProblem(text)
    if core in by_label:
        return by_label[core], day
    tokens = [token for token in _SEPARATORS.split(core) if token]
    if tokens and all(token in by_label for token in tokens):
        if len(set(tokens)) == 1:
            return by_label[tokens[0]], day
        if not marked:
            return "", day  # the placeholder 「はい・いいえ」: nothing circled
        chosen = _marked_token(text, by_label)
        if chosen:
            return chosen, day
        raise ChoiceProblem(text)
    synonym = SYNONYMS.get(core.lower())
    if synonym in values:
        return synonym, day
    raise ChoiceProblem(text)


def _marked_token(text: str, by_label: dict[str, str]) -> str:
    """「はい・○いいえ」: the label right after a mark."""
    for index, ch in enumerate(text):
        if ch in MARKS:
            rest = text[index + 1:].lstrip()
            for label in sorted(by_label, key=len, reverse=True):
                if rest.startswith(label):
                    return by_label[label]
    return ""


def is_placeholder(value: object, options: Sequence[tuple[str, str]]) -> bool:
    """The cell lists the option labels with nothing chosen (「はい・いいえ」 or just the label in an MDS cell)."""
    try:
        chosen, _day = read_choice(value, options)
    except ChoiceProblem:
        return False
    return chosen == ""
