"""`anzen assessments ...`: listing (core) and exports (files)."""

from typing import Any


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    from anzen.assessments import cli_core, cli_files

    parser = subparsers.add_parser("assessments", help=_("チェックリストの評価（一覧・出力）"))
    commands = parser.add_subparsers(dest="assessments_command", metavar=_("操作"))
    commands.required = True
    cli_core.register(commands)
    cli_files.register(commands)
