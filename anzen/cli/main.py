"""The `anzen` command: set-up, server, worker, library, audit trail, and Django's commands.

Help is in Japanese, or in English with `--lang en` (or LANG=en_*). Commands that report data take
`--json`. Errors go to stderr with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from anzen.cli.base import CliError

# Each module registers its subcommands with `register(subparsers)`.
COMMAND_MODULES = (
    "anzen.cli.setup",
    "anzen.cli.server",
    "anzen.library.cli",
    "anzen.common.cli",
    "anzen.accounts.cli",
    "anzen.assessments.cli",
    "anzen.assets.cli",
    "anzen.vulns.cli",
)


def _language(argv: Sequence[str]) -> str:
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    if os.environ.get("ANZEN_LANG"):
        return os.environ["ANZEN_LANG"]
    return "en" if os.environ.get("LANG", "").lower().startswith("en") else "ja"


def build_parser() -> argparse.ArgumentParser:
    from django.utils.translation import gettext as _

    parser = argparse.ArgumentParser(
        prog="anzen",
        description=_("Anzen — 医療情報システムの安全管理ワークベンチ（厚生労働省ガイドライン・チェックリスト対応）"),
    )
    parser.add_argument("--lang", choices=["ja", "en"], help=_("ヘルプと出力の言語（既定: ja）"))
    subparsers = parser.add_subparsers(dest="command", metavar=_("コマンド"))
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    if argv[:1] == ["manage"]:  # hand everything after `manage` to Django untouched
        from django.core.management import execute_from_command_line

        execute_from_command_line(["anzen manage", *argv[1:]])
        return 0
    import django

    django.setup()
    from django.utils import translation

    translation.activate(_language(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CliError as error:
        print(f"anzen: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("anzen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
