"""`anzen assessments export`: write the inspection pack (立入検査用) of an institution and a fiscal year
into a folder — the PDF, the zip and the answers CSV — synchronously, with progress on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit, institution_by_code_or_id


def register(commands: Any) -> None:
    from django.utils.translation import gettext as _

    export = commands.add_parser(
        "export",
        help=_("立入検査用の一式（PDF・zip・全回答の CSV）をフォルダに書き出す"),
        description=_("医療機関等の年度の評価（医療機関確認用・事業者確認用・MDS/SDS など）を公式様式の PDF と "
                      "Excel にし、目次・全回答の CSV・エビデンスとその SHA-256 の一覧とともに書き出します。"),
    )
    export.add_argument("--fiscal-year", type=int, required=True, metavar="YYYY", help=_("年度（西暦、例: 2025）"))
    export.add_argument("--institution", required=True, metavar="CODE_OR_ID",
                        help=_("医療機関等のコードまたは ID"))
    export.add_argument("--out", required=True, metavar="DIR", help=_("書き出すフォルダ（なければ作成）"))
    add_json_flag(export)
    export.set_defaults(handler=export_run)


def export_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.assessments import pack
    from anzen.common.permissions import Actor

    institution = institution_by_code_or_id(args.institution)
    if not 2000 <= args.fiscal_year <= 2100:
        raise CliError(_("年度は西暦で指定してください（例: 2025）"))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(_("%(path)s はフォルダではありません") % {"path": out})

    terminal = sys.stderr.isatty()
    shown = [-1]

    def progress(done: int, total: int, label: str) -> None:
        if terminal:
            sys.stderr.write(f"\r{_('作成中')}: {done}/{total} {label[:60]}\033[K" + ("\n" if done == total else ""))
        elif done == total or done * 10 // total != shown[0]:
            shown[0] = done * 10 // total
            sys.stderr.write(f"{_('作成中')}: {done}/{total} {label[:60]}\n")
        sys.stderr.flush()

    try:
        with cli_context("assessments-export"):
            result = pack.build_pack(actor=Actor.system(), institution=institution, fiscal_year=args.fiscal_year,
                                     out_dir=out, progress=progress, prepared_by="")
    except OSError as error:
        raise CliError(_("書き出せません: %(error)s") % {"error": error}) from error
    data = result.as_dict()

    def human(value: dict[str, Any]) -> str:
        lines = [_("%(name)s %(year)s年度: 評価 %(count)s 件") % {"name": value["institution"],
                                                             "year": value["fiscal_year"],
                                                             "count": len(value["documents"])}]
        lines += [f"  {kind}: {path}" for kind, path in value["files"].items()]
        return "\n".join(lines)

    emit(args, data, human)
    return 0
