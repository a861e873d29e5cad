"""The English catalog (anzen/locale/en) is complete, compiled and consistent with the source.

UI strings are Japanese msgids; English is the second language. When a test here fails after you
added or changed a string, run `scripts/messages.sh`, translate the new entries in
anzen/locale/en/LC_MESSAGES/django.po (no fuzzy, no empty msgstr) and run the script again.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from tests.conftest import login_as

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "anzen" / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LOCALE / "django.po"
MO_PATH = LOCALE / "django.mo"
HINT = (
    "Run scripts/messages.sh, translate the new entries in anzen/locale/en/LC_MESSAGES/django.po "
    "(no fuzzy, no empty msgstr), then run scripts/messages.sh again to compile django.mo."
)

# printf-style placeholders (%(name)s, %s, %d, %5.2f …) and blocktranslate variables ({{ name }}).
PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")
NAMED_PERCENT = re.compile(r"%\([^)]*\)[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")
TEMPLATE_VAR = re.compile(r"\{\{\s*[\w.|:\"']+\s*\}\}")
BRACE = re.compile(r"\{[\w.]*(?:![rsa])?(?::[^{}]*)?\}")
# Untranslated Japanese UI text almost always contains hiragana; names of test data and the Japanese
# literals kept on purpose in a few English strings (厚生労働省, 「チェック項目」) do not.
HIRAGANA = re.compile(r"[\u3041-\u309f]+")
JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff\uff01-\uff60]+")


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _translations(entry: polib.POEntry | polib.MOEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _is_translated(entry: polib.POEntry) -> bool:
    values = _translations(entry)
    return "fuzzy" not in entry.flags and not entry.obsolete and bool(values) and all(values)


@pytest.fixture(scope="module")
def catalog() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


SOURCE_SUFFIXES = {".py", ".html", ".txt"}  # what makemessages reads for the "django" domain


def _copy_sources(source: Path, target: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if name in {"__pycache__", "locale"}
            or (not os.path.isdir(os.path.join(folder, name)) and Path(name).suffix not in SOURCE_SUFFIXES)
        }

    shutil.copytree(source, target, ignore=ignore)


def _regenerate(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> polib.POFile:
    """makemessages on a copy of the sources: the repository itself is never written to.

    In-process, with LOCALE_PATHS pointing into the copy; the copy has no locale folder, so every
    string lands in one fresh catalog (makemessages also writes temporary .py files next to each
    template while it runs, which is why it must not run on the checkout itself).
    """
    _copy_sources(ROOT / "anzen", workdir / "anzen")
    _copy_sources(ROOT / "config", workdir / "config")
    locale = workdir / "anzen" / "locale"
    monkeypatch.chdir(workdir)
    output = io.StringIO()
    with override_settings(LOCALE_PATHS=[str(locale)]):
        call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=1, stdout=output, stderr=output)
    generated = locale / "en" / "LC_MESSAGES" / "django.po"
    assert generated.is_file(), f"makemessages wrote no catalog:\n{output.getvalue()}"
    return polib.pofile(str(generated))


def test_every_source_string_has_an_english_translation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, catalog: polib.POFile
) -> None:
    fresh = _regenerate(tmp_path, monkeypatch)
    assert len(fresh) > 100, "makemessages found suspiciously few strings"
    committed = {_key(entry): entry for entry in catalog}
    missing = []
    for entry in fresh:
        found = committed.get(_key(entry))
        if found is None or not _is_translated(found) or bool(found.msgid_plural) != bool(entry.msgid_plural):
            where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
            state = "absent" if found is None else ("fuzzy" if "fuzzy" in found.flags else "untranslated")
            missing.append(f"  [{state}] {entry.msgid!r}  ({where})")
    report = "\n".join(missing)
    assert not missing, f"{len(missing)} msgid(s) without an English translation:\n{report}\n{HINT}"


def test_catalog_has_no_fuzzy_or_empty_entries(catalog: polib.POFile) -> None:
    assert catalog.metadata.get("Language") == "en"
    assert "nplurals=2" in catalog.metadata.get("Plural-Forms", "")
    bad = [entry.msgid for entry in catalog if not entry.obsolete and not _is_translated(entry)]
    assert not bad, f"fuzzy or empty entries in {PO_PATH.relative_to(ROOT)}: {bad}\n{HINT}"


def test_compiled_catalog_matches_the_po_file(catalog: polib.POFile) -> None:
    assert MO_PATH.is_file(), f"{MO_PATH.relative_to(ROOT)} is missing. {HINT}"
    expected = {_key(e): _translations(e) for e in catalog if _is_translated(e) and e.msgid}
    compiled = {_key(e): _translations(e) for e in polib.mofile(str(MO_PATH)) if e.msgid}
    stale = sorted(key[1] for key in expected.keys() ^ compiled.keys())
    stale += sorted(key[1] for key in expected.keys() & compiled.keys() if expected[key] != compiled[key])
    assert not stale, (
        f"django.mo does not match django.po ({len(stale)} entries differ, e.g. {stale[:5]}). "
        "Compile it with scripts/messages.sh."
    )


def _placeholders(text: str, entry: polib.POEntry) -> set[str]:
    # In a string without python-format a bare % is a literal; a named placeholder never is.
    pattern = PERCENT if "python-format" in entry.flags else NAMED_PERCENT
    tokens = set(pattern.findall(text))
    tokens |= {re.sub(r"\s+", "", token) for token in TEMPLATE_VAR.findall(text)}
    if "python-brace-format" in entry.flags:
        tokens |= set(BRACE.findall(text))
    return tokens


def test_translations_keep_the_placeholders(catalog: polib.POFile) -> None:
    wrong = []
    for entry in catalog:
        if entry.obsolete or not entry.msgid:
            continue
        expected = _placeholders(entry.msgid, entry) | _placeholders(entry.msgid_plural or "", entry)
        for text in _translations(entry):
            if text and _placeholders(text, entry) != expected:
                wrong.append(f"  {entry.msgid!r}: {sorted(expected)} ≠ {text!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def _switch_to_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


def _untranslated(html: str, pattern: re.Pattern[str] = HIRAGANA) -> list[str]:
    return sorted({match.group(0) for match in re.finditer(rf".{{0,12}}(?:{pattern.pattern}).{{0,12}}", html)})


@pytest.mark.django_db
def test_login_page_in_english(client: Client) -> None:
    _switch_to_english(client)
    page = client.get("/accounts/login/")
    html = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Language"] == "en"
    assert '<html lang="en">' in html
    assert "Log in" in html and "Login ID" in html and "Password" in html
    assert "ログインID" not in html
    assert not _untranslated(html, JAPANESE), f"Japanese text on the English login page: {_untranslated(html)}"


@pytest.mark.django_db
def test_main_pages_in_english(client: Client, member_of_role: Callable[[str], Membership]) -> None:
    _switch_to_english(client)
    login_as(client, member_of_role(Role.STAFF))
    expected = {
        "/": ["Dashboard", "Log out", "Checklists and guidelines", "Two-factor authentication"],
        "/accounts/profile/": ["Account", "Change password", "API token", "Set up an authenticator app"],
        "/accounts/organisation/": ["Members", "Full name", "Role", "Staff"],
        "/library/": ["Full-text search", "Compare editions", "The library has not been loaded"],
    }
    for path, phrases in expected.items():
        page = client.get(path)
        html = page.content.decode()
        assert page.status_code == 200, f"{path}: HTTP {page.status_code}"
        assert page["Content-Language"] == "en"
        for phrase in phrases:
            assert phrase in html, f"{path}: {phrase!r} missing"
        assert not _untranslated(html), f"{path}: untranslated Japanese: {_untranslated(html)}"


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_cli_help_in_english() -> None:
    from anzen.cli.main import build_parser

    with translation.override("en"):
        parsers = list(_parsers(build_parser()))
        helps = {parser.prog: parser.format_help() for parser in parsers}
    assert len(helps) > 5
    assert "Create or update the database" in helps["anzen"]
    japanese = {prog: _untranslated(text) for prog, text in helps.items() if HIRAGANA.search(text)}
    assert not japanese, f"untranslated CLI help: {japanese}"
