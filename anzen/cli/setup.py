"""`anzen setup [--demo]`: database, static files, library and (optionally) the demo data."""

from __future__ import annotations

import argparse
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    parser = subparsers.add_parser(
        "setup", help=_("データベースを作成・更新し、ライブラリ（とデモデータ）を読み込む"),
        description=_(
            "ANZEN_HOME のデータベースを移行し、静的ファイルを集め、チェックリスト等のライブラリを読み込みます。"
            "何度実行しても結果は同じです。"
        ),
    )
    parser.add_argument("--demo", action="store_true", help=_("架空の病院・事業者・利用者のデモデータも読み込む"))
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import DatabaseError
    from django.utils.translation import gettext as _

    try:
        call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as error:
        raise CliError(_("データベースに接続・移行できません: %(error)s") % {"error": error}) from error
    if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]:
        call_command("collectstatic", interactive=False, verbosity=0)

    from anzen.library.loader import LibraryLoadError, load_builtin_library

    with cli_context("setup"):
        try:
            library = load_builtin_library()
        except LibraryLoadError as error:
            raise CliError(_("ライブラリを読み込めません:\n%(error)s") % {"error": error}) from error
        demo: dict[str, Any] | None = None
        if args.demo:
            from anzen.demo.loader import load_demo

            demo = load_demo()
    result = {
        "home": str(settings.ANZEN_HOME),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "library": library,
        "demo": demo,
    }
    emit(args, result, _human)
    return 0


def _human(result: dict[str, Any]) -> str:
    from django.utils.translation import gettext as _

    lines = [
        _("ANZEN_HOME: %(home)s（データベース: %(db)s）") % {"home": result["home"], "db": result["database"]},
        _("ライブラリ: %(new)d件を新規読込、%(same)d件は変更なし") % {
            "new": result["library"]["loaded"], "same": result["library"]["unchanged"]},
    ]
    demo = result["demo"]
    if demo:
        lines.append(_("デモデータ: %(org)s（%(status)s）") % {
            "org": demo["institution"], "status": _("新規作成") if demo["created"] else _("変更なし")})
        if demo.get("summary"):
            counts = demo["summary"]
            lines.append(_("  台帳: 医療情報システム %(systems)d件、機器 %(devices)d台（うちリモート保守 %(remote)d台、"
                           "ほかに廃棄済み %(disposed)d台）") % {
                "systems": counts["systems"], "devices": counts["devices"], "remote": counts["remote_devices"],
                "disposed": counts["disposed"]})
            lines.append(_("  脆弱性: CVE %(cves)d件、未対応の検出 %(open)d件（緊急 %(critical)d・重要 %(high)d・"
                           "KEV %(kev)d）、事業者への通知 %(notices)d件") % {
                "cves": counts["cves"], "open": counts["open_findings"], "critical": counts["critical"],
                "high": counts["high"], "kev": counts["kev"], "notices": counts["notices"]})
        lines.append(_("デモのログイン（パスワードは共通: %(pw)s）:") % {"pw": demo["password"]})
        for login in demo["logins"]:
            lines.append(f"  {login['username']:<18} {login['organisation']}（{login['role']}）")
        lines.append(_("管理者・評価者は初回ログイン時に認証アプリ（TOTP）の登録を求められます。"))
    return "\n".join(lines)
