"""Helpers shared by the CLI commands: errors, JSON output, acting as a user."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any


class CliError(Exception):
    """A failure to report on stderr; the message is already translated for the user."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    from django.utils.translation import gettext as _

    parser.add_argument("--json", action="store_true", help=_("結果をJSONで出力する"))


def emit(args: argparse.Namespace, data: Any, human: Callable[[Any], str]) -> None:
    """Print `data` as JSON with --json, otherwise as the human-readable text."""
    if getattr(args, "json", False):
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        text = human(data)
        if text:
            print(text)


@contextlib.contextmanager
def cli_context(label: str = "cli") -> Iterator[None]:
    """Changes made by a CLI command are recorded with source "cli" and the OS user name."""
    import getpass

    from anzen.common import context

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    with context.acting(context.AuditContext(actor_label=f"{label}:{who}", source="cli")):
        yield


def progress(iterable: Any, total: int | None, label: str) -> Iterator[Any]:
    """A simple progress line on stderr for long work (only when stderr is a terminal)."""
    show = sys.stderr.isatty() and total
    for index, item in enumerate(iterable, 1):
        if show and (index == total or index % max(1, (total or 1) // 100) == 0):
            sys.stderr.write(f"\r{label}: {index}/{total}")
            sys.stderr.flush()
        yield item
    if show:
        sys.stderr.write("\n")


def institution_by_code_or_id(value: str) -> Any:
    """The institution whose code is `value` (or, for digits, whose id is); otherwise a CliError."""
    from django.utils.translation import gettext as _

    from anzen.accounts.models import Organisation
    from anzen.accounts.roles import OrgKind

    institutions = Organisation.objects.filter(kind=OrgKind.INSTITUTION)
    found = institutions.filter(code=value).first()
    if found is None and value.isdigit():
        found = institutions.filter(pk=int(value)).first()
    if found is None:
        raise CliError(_("医療機関等「%(value)s」が見つかりません（コードまたは ID を指定してください）")
                       % {"value": value})
    return found
