"""`anzen assets import FILE --profile NAME`: import a CSV or Excel device list into an institution's ledger.

The same reading, mapping, checks and plan as the import screen. Exit status 0 when the import was
written (or, with --dry-run, would be), 2 when rows have errors and --skip-errors was not given (nothing
is written then), 1 when the file cannot be read.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit

EXIT_ROW_ERRORS = 2


def register(commands: Any) -> None:
    """Add `import` to `anzen assets`."""
    from django.utils.translation import gettext as _

    parser = commands.add_parser(
        "import",
        help=_("CSV・Excel の機器一覧を台帳に取り込む"),
        description=_("CSV（UTF-8・Shift_JIS (CP932) を自動判別）または Excel ブック（.xlsx）の機器一覧を、"
                      "取込設定（列の対応付け）に従って台帳に取り込みます。MACアドレス・シリアル番号・ホスト名で"
                      "台帳の機器と照合し、一致すれば更新、なければ登録します。問題のある行があれば何も書き込みません"
                      "（--skip-errors でその行だけ飛ばします）。"),
    )
    parser.add_argument("file", metavar="FILE", help=_("取り込むファイル（.csv・.txt・.tsv・.xlsx）"))
    parser.add_argument("--profile", required=True, metavar="NAME",
                        help=_("取込設定の名前（組み込み: device-list、または画面で保存した名前）"))
    parser.add_argument("--institution", metavar="CODE_OR_ID", help=_("医療機関等のコードまたは ID"))
    parser.add_argument("--encoding", choices=["auto", "utf-8", "cp932"], default="auto",
                        help=_("CSV の文字コード（既定: 自動判別）"))
    parser.add_argument("--sheet", metavar="NAME", help=_("Excel のシート名（既定: 先頭のシート）"))
    parser.add_argument("--dry-run", action="store_true", help=_("書き込まずに結果だけを表示する"))
    parser.add_argument("--skip-errors", action="store_true", help=_("問題のある行を飛ばして残りを取り込む"))
    add_json_flag(parser)
    parser.set_defaults(handler=import_run)


def _read(path: Path, args: argparse.Namespace) -> Any:
    from django.conf import settings
    from django.utils.translation import gettext as _

    from anzen.assets import import_files, services_import

    if not path.is_file():
        raise CliError(_("ファイルがありません: %(path)s") % {"path": path})
    max_bytes = settings.ANZEN_MAX_UPLOAD_BYTES
    try:
        with path.open("rb") as stream:
            head = stream.read(8)
        fmt = import_files.check_received(path.name, path.stat().st_size, head, max_bytes)
        if fmt == "xlsx":
            import_files.check_xlsx_package(path)
    except import_files.ImportFileError as problem:
        raise CliError(str(problem)) from problem
    try:
        return services_import.read_file(path, fmt, encoding=args.encoding, sheet=args.sheet)
    except services_import.ImportRejected as rejected:
        raise CliError("\n".join(rejected.errors)) from rejected


def import_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.assets import importing, services_import
    from anzen.assets.cli import institution_of
    from anzen.common.permissions import Actor

    actor = Actor.system()
    institution = institution_of(args.institution)
    profile = services_import.profile_named(actor, institution, args.profile)
    if profile is None:
        names = ", ".join(p.key if p.builtin else p.name for p in services_import.profiles(actor, institution))
        raise CliError(_("取込設定「%(name)s」がありません（%(names)s）。") % {"name": args.profile, "names": names})
    path = Path(args.file)
    table = _read(path, args)
    mapping = importing.suggest_mapping(table.rows, profile)
    try:
        with cli_context("assets-import"):
            if args.dry_run:
                outcome = services_import.import_dry_run(actor=actor, institution=institution, table=table,
                                                         mapping=mapping)
            else:
                outcome = services_import.import_commit(actor=actor, institution=institution, table=table,
                                                        mapping=mapping, skip_errors=args.skip_errors,
                                                        file_name=path.name, sha256=_sha256(path))
    except services_import.ImportRejected as rejected:
        if rejected.plan is None:
            raise CliError("\n".join(rejected.errors)) from rejected
        outcome = services_import.ImportOutcome(plan=rejected.plan, dry_run=True)
        data = {**outcome.as_dict(), "written": False, **_file_info(table, institution)}
        emit(args, data, _human)
        return EXIT_ROW_ERRORS
    data = {**outcome.as_dict(), "written": not args.dry_run, **_file_info(table, institution)}
    emit(args, data, _human)
    if args.dry_run and data["errors"] and not args.skip_errors:
        return EXIT_ROW_ERRORS
    return 0


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_info(table: Any, institution: Any) -> dict[str, Any]:
    return {"institution": institution.code or institution.name, "format": table.format,
            "encoding": table.encoding_label, "sheet": table.sheet}


def _human(data: dict[str, Any]) -> str:
    from django.utils.translation import gettext as _

    if data["written"]:
        head = _("取り込みました")
    elif data["dry_run"] and not data["errors"]:
        head = _("確認のみ（書き込んでいません）")
    else:
        head = _("問題のある行があるため取り込みませんでした（何も変更していません）")
    lines = [f"{head}: {data['institution']} ({data['format']} {data['encoding'] or data['sheet']})",
             _("登録 %(created)s 件・更新 %(updated)s 件・変更なし %(unchanged)s 件・問題 %(errors)s 行")
             % {"created": data["created"], "updated": data["updated"], "unchanged": data["unchanged"],
                "errors": len(data["errors"])}]
    for entry in data["errors"][:100]:
        lines.append(_("  %(row)s 行目: %(errors)s") % {"row": entry["row"], "errors": " / ".join(entry["errors"])})
    if len(data["errors"]) > 100:
        lines.append(_("  ほかに %(count)s 行") % {"count": len(data["errors"]) - 100})
    return "\n".join(lines)
