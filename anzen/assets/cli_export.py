"""`anzen assets export --format xlsx|csv --out FILE [--remote] [--include-disposed] [--institution CODE]
[--json]`: the same ledger (or remote-maintenance list) file as the screens' export, recorded in the audit
log. The file is written whole or not at all (a temporary file renamed into place)."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit


def register(commands: Any) -> None:
    """Add `export` to `anzen assets`."""
    from django.utils.translation import gettext as _

    parser = commands.add_parser("export", help=_("機器台帳を Excel または CSV に出力する"))
    parser.add_argument("--format", dest="fmt", choices=("xlsx", "csv"), default="xlsx",
                        help=_("出力形式（既定: xlsx）"))
    parser.add_argument("--out", required=True, metavar="FILE", help=_("出力先のファイル"))
    parser.add_argument("--remote", action="store_true", help=_("機器台帳の代わりにリモート保守の機器一覧を出力する"))
    parser.add_argument("--include-disposed", action="store_true", help=_("廃棄済みの機器も含める"))
    parser.add_argument("--institution", metavar="CODE_OR_ID", help=_("医療機関等のコードまたは ID"))
    add_json_flag(parser)
    parser.set_defaults(handler=export_run)


def export_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.assets import exports
    from anzen.assets.cli import institution_of
    from anzen.common.permissions import Actor

    out = Path(args.out)
    if out.is_dir():
        raise CliError(_("出力先がディレクトリです: %(path)s") % {"path": out})
    if not out.parent.is_dir():
        raise CliError(_("出力先のディレクトリがありません: %(path)s") % {"path": out.parent})
    institution = institution_of(args.institution)
    actor = Actor.system()
    if args.remote:
        export = exports.remote_export(actor, institution, args.fmt)
    else:
        export = exports.ledger_export(actor, institution, args.fmt, include_disposed=args.include_disposed)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=".anzen-export-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(export.content)
        os.replace(temporary, out)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise CliError(_("書き込めません: %(path)s（%(error)s）") % {"path": out, "error": error.strerror}) from None
    with cli_context("assets-export"):
        exports.record_export(institution, export)
    data = {"institution": institution.code, "kind": "remote" if args.remote else "ledger", "format": args.fmt,
            "rows": export.rows, "out": str(out), "bytes": len(export.content), "filename": export.filename}
    emit(args, data, lambda d: _("%(rows)s 行を %(out)s に出力しました（%(bytes)s バイト）。") % d)
    return 0
