"""`anzen library …`: list, validate, load, diff, import-excel."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    library = subparsers.add_parser("library", help=_("チェックリスト・ガイドライン等のライブラリ"))
    commands = library.add_subparsers(dest="library_command", metavar=_("操作"))
    commands.required = True

    listing = commands.add_parser("list", help=_("読み込まれている版の一覧（識別子・版・項目数）"))
    listing.add_argument("--all", action="store_true", help=_("置き換えられた古い読込版も表示する"))
    add_json_flag(listing)
    listing.set_defaults(handler=list_run)

    validate = commands.add_parser(
        "validate", help=_("ライブラリファイルを検査する（問題があれば終了コード1）")
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help=_("YAML のライブラリファイル"))
    add_json_flag(validate)
    validate.set_defaults(handler=validate_run)

    load = commands.add_parser("load", help=_("ライブラリファイルを読み込む（内容が同じなら何もしない）"))
    load.add_argument("files", nargs="+", metavar="FILE", help=_("YAML のライブラリファイル"))
    add_json_flag(load)
    load.set_defaults(handler=load_run)

    diff = commands.add_parser(
        "diff",
        help=_("2つの版の差分（追加・削除・変更された項目）"),
        description=_(
            "版は framework@edition（最新の読込版）または framework@edition#版数 で指定します。"
            "例: mhlw-cyber-checklist@R5 mhlw-cyber-checklist@R6"
        ),
    )
    diff.add_argument("before", metavar="EDITION_A")
    diff.add_argument("after", metavar="EDITION_B")
    diff.add_argument("--all-nodes", action="store_true", help=_("見出し（章・グループ）も比較する"))
    add_json_flag(diff)
    diff.set_defaults(handler=diff_run)

    excel = commands.add_parser("import-excel", help=_("公式の Excel チェックリストから新しい版を作る"))
    excel.add_argument("file", metavar="FILE", help=_("Excel ブック（.xlsx）"))
    excel.add_argument(
        "--profile",
        help=_("取込設定（組込み: mhlw-checklist-institution / mhlw-checklist-vendor、または保存したもの）"),
    )
    excel.add_argument("--sheet", help=_("シート名（既定: 最初のシート）"))
    excel.add_argument("--ref-col", help=_("番号の列（本文の列と同じなら本文先頭の (1) を番号とする）"))
    excel.add_argument("--text-col", help=_("本文（チェック項目）の列"))
    excel.add_argument("--section-col", help=_("区分（1 体制構築 …）の列"))
    excel.add_argument("--audience-col", help=_("対象（医療機関 / 事業者）の列"))
    excel.add_argument(
        "--audience", choices=["institution", "vendor", "both"], help=_("対象（既定: institution）")
    )
    excel.add_argument("--id-prefix", help=_("項目IDの接頭辞（例: H）"))
    excel.add_argument(
        "--start-row", type=int, help=_("データの開始行（既定: 「チェック項目」見出しの次の行）")
    )
    excel.add_argument(
        "--framework", required=True, help=_("フレームワークの識別子（例: mhlw-cyber-checklist）")
    )
    excel.add_argument("--framework-title", default="", help=_("新しいフレームワークの名称"))
    excel.add_argument("--edition", required=True, help=_("版の識別子（例: R8）"))
    excel.add_argument("--title", required=True, help=_("版の名称"))
    excel.add_argument("--publisher", default="", help=_("発行者（例: 厚生労働省）"))
    excel.add_argument("--fiscal-year", type=int, help=_("対象年度（西暦、例: 2026）"))
    excel.add_argument(
        "--official",
        action="store_true",
        help=_(
            "本文が発行元の公式ファイルから変更せずに取り込んだものであることを申告する（確認済みとして登録）"
        ),
    )
    excel.add_argument("--dry-run", action="store_true", help=_("取り込む項目を表示するだけで登録しない"))
    add_json_flag(excel)
    excel.set_defaults(handler=import_excel_run)


def _actor() -> Any:
    from anzen.common.permissions import Actor

    return Actor.system()


def list_run(args: argparse.Namespace) -> int:
    from anzen.library import selectors

    rows = [
        {
            "id": e.key,
            "framework": e.framework.key,
            "edition": e.edition,
            "title": e.title,
            "version": e.version,
            "current": e.is_current,
            "items": e.item_count,
            "nodes": e.node_count,
            "verified": e.verified,
            "fiscal_year": e.fiscal_year,
            "origin": e.origin,
        }
        for e in selectors.editions(_actor(), include_superseded=args.all)
    ]

    def human(data: list[dict[str, Any]]) -> str:
        from django.utils.translation import gettext as _

        if not data:
            return _("ライブラリが読み込まれていません（anzen setup を実行してください）。")
        lines = [f"{'ID':<34} {'#':>2} {_('項目'):>4} {_('確認'):<8} {_('名称')}"]
        for r in data:
            mark = "" if r["current"] else " *"
            lines.append(
                f"{r['id']:<34} {r['version']:>2} {r['items']:>5} {r['verified']:<8} {r['title']}{mark}"
            )
        return "\n".join(lines)

    emit(args, rows, human)
    return 0


def _issues_output(args: argparse.Namespace, results: list[Any]) -> int:
    import sys

    from django.utils.translation import gettext as _

    issues = [issue for result in results for issue in result.issues]
    data = {
        "ok": not issues,
        "files": [
            {
                "file": r.file,
                "ok": not r.issues,
                "kind": type(r.parsed).__name__ if r.parsed else None,
                "items": getattr(r.parsed, "item_count", None),
                "issues": [i.as_dict() for i in r.issues],
            }
            for r in results
        ],
    }
    if args.json:
        emit(args, data, str)
    else:
        for issue in issues:
            print(issue.format(), file=sys.stderr)
        if not issues:
            print(_("問題はありません（%(n)d ファイル）。") % {"n": len(results)})
    return 1 if issues else 0


def validate_run(args: argparse.Namespace) -> int:
    from anzen.library import loader

    paths = [Path(name) for name in args.files]
    results = loader.validate_paths(paths, use_db=True, use_builtin=True)
    return _issues_output(args, results)


def load_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.library import loader

    paths = [Path(name) for name in args.files]
    try:
        with cli_context("library-load"):
            outcomes = loader.load_paths(paths)
    except loader.LibraryLoadError as error:
        if args.json:
            emit(args, {"ok": False, "issues": [issue.as_dict() for issue in error.issues]}, str)
        raise CliError(
            "\n".join(
                [
                    _("読み込めませんでした（何も変更していません）:"),
                    *(issue.format() for issue in error.issues),
                ]
            )
        ) from error
    data = {"ok": True, "results": [outcome.as_dict() for outcome in outcomes]}

    def human(d: dict[str, Any]) -> str:
        lines = []
        for o in d["results"]:
            status = _("読込") if o["status"] == "loaded" else _("変更なし")
            version = f"#{o['version']}" if o["version"] else ""
            lines.append(f"{status:<6} {o['key']}{version}（{o['count']}） {o['file']}")
        return "\n".join(lines)

    emit(args, data, human)
    return 0


def diff_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.library import selectors
    from anzen.library.models import Edition

    actor = _actor()
    editions = []
    for value in (args.before, args.after):
        try:
            editions.append(selectors.edition_by_ref(actor, value))
        except Edition.DoesNotExist as error:
            raise CliError(
                _("版 %(ref)s が見つかりません（anzen library list で確認してください）") % {"ref": value}
            ) from error
    before, after = editions
    if before.framework_id != after.framework_id:
        raise CliError(
            _("異なるフレームワークの版は比較できません: %(a)s と %(b)s") % {"a": before.key, "b": after.key}
        )
    result = selectors.edition_diff(before, after, kinds=None if args.all_nodes else ("item",))
    data = {
        "before": selectors.edition_label(before),
        "after": selectors.edition_label(after),
        **result.as_dict(),
    }

    def human(d: dict[str, Any]) -> str:
        lines = [f"{d['before']} → {d['after']}"]
        for node in d["added"]:
            lines.append(f"+ {node['node_id']:<18} {node['ref']:<8} {(node['text'] or node['topic'])[:60]}")
        for node in d["removed"]:
            lines.append(f"- {node['node_id']:<18} {node['ref']:<8} {(node['text'] or node['topic'])[:60]}")
        for change in d["changed"]:
            only = "" if change["content_changed"] else _("（確認状況のみ）")
            lines.append(f"~ {change['id']:<18} {change['ref']:<8} {', '.join(change['fields'])}{only}")
        lines.append(
            _("追加 %(a)d・削除 %(r)d・変更 %(c)d・変更なし %(u)d")
            % {"a": len(d["added"]), "r": len(d["removed"]), "c": len(d["changed"]), "u": d["unchanged"]}
        )
        return "\n".join(lines)

    emit(args, data, human)
    return 0


def _import_settings(args: argparse.Namespace) -> Any:
    from django.utils.translation import gettext as _

    from anzen.library import excel_import, selectors

    base: dict[str, Any] = {}
    if args.profile:
        builtin = excel_import.builtin_profiles()
        if args.profile in builtin:
            base = dict(builtin[args.profile]["settings"])
        else:
            saved = selectors.import_profiles(_actor()).filter(key=args.profile).first()
            if saved is None:
                raise CliError(
                    _("取込設定 %(name)s がありません（組込み: %(builtin)s）")
                    % {"name": args.profile, "builtin": ", ".join(builtin)}
                )
            base = dict(saved.settings)
    overrides = {
        "sheet": args.sheet,
        "ref_col": args.ref_col,
        "text_col": args.text_col,
        "section_col": args.section_col,
        "audience_col": args.audience_col,
        "audience": args.audience,
        "id_prefix": args.id_prefix,
        "start_row": args.start_row,
    }
    base.update({key: value for key, value in overrides.items() if value is not None})
    if args.start_row is not None:
        base["header_text"] = ""
    if not base.get("text_col"):
        raise CliError(_("--profile か --text-col を指定してください"))
    return excel_import.ImportSettings.from_dict(base)


def import_excel_run(args: argparse.Namespace) -> int:
    import hashlib

    from django.conf import settings as django_settings
    from django.utils.translation import gettext as _

    from anzen.library import excel_import, services

    path = Path(args.file)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise CliError(_("ファイルを読めません: %(e)s") % {"e": error.strerror or error}) from error
    problems = excel_import.check_upload(path.name, size, head, django_settings.ANZEN_MAX_UPLOAD_BYTES)
    if problems:
        raise CliError("\n".join(problems))
    import_settings = _import_settings(args)
    try:
        result = services.preview(path, import_settings)
    except services.ExcelImportError as error:
        raise CliError("\n".join(error.errors)) from error
    items = [
        {
            "row": n.row,
            "id": n.node_id,
            "ref": n.ref,
            "text": n.text,
            "topic": n.topic,
            "audience": n.audience or import_settings.audience,
        }
        for n in result.items
    ]
    errors = [error.format() for error in result.errors]
    data: dict[str, Any] = {"sheet": result.sheet, "items": items, "errors": errors, "dry_run": args.dry_run}
    if errors or not items:
        if args.json:
            emit(args, {**data, "ok": False}, str)
        raise CliError("\n".join([_("取り込めません（何も変更していません）:"), *errors]))
    if not args.dry_run:
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            with cli_context("library-import"):
                edition, outcome = services.import_excel_edition(
                    path=path,
                    import_settings=import_settings,
                    framework_key=args.framework,
                    framework_title=args.framework_title,
                    edition_code=args.edition,
                    title=args.title,
                    publisher=args.publisher,
                    fiscal_year=args.fiscal_year,
                    official=args.official,
                    file_label=path.name,
                    sha256=sha256,
                    declared_by="cli" if args.official else "",
                )
        except services.ExcelImportError as error:
            raise CliError(
                "\n".join([_("取り込めません（何も変更していません）:"), *error.errors])
            ) from error
        data.update(
            {
                "edition": edition.key,
                "version": edition.version,
                "status": outcome.status,
                "verified": edition.verified,
            }
        )

    def human(d: dict[str, Any]) -> str:
        lines = [
            f"{i['row']:>4} {i['id']:<18} {i['ref']:<6} {(i['text'] or i['topic'])[:60]}" for i in d["items"]
        ]
        if d["dry_run"]:
            lines.append(_("%(n)d 項目（試行のため登録していません）") % {"n": len(d["items"])})
        else:
            lines.append(
                _("%(key)s#%(v)d として登録しました（%(n)d 項目、%(status)s）")
                % {"key": d["edition"], "v": d["version"], "n": len(d["items"]), "status": d["status"]}
            )
        return "\n".join(lines)

    emit(args, {**data, "ok": True}, human)
    return 0
