"""`anzen audit verify` and `anzen audit list`."""

from __future__ import annotations

import argparse
from typing import Any

from anzen.cli.base import CliError, add_json_flag, emit


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    audit = subparsers.add_parser("audit", help=_("監査ログ（改ざん検知付き）"))
    commands = audit.add_subparsers(dest="audit_command", metavar=_("操作"))
    commands.required = True

    verify = commands.add_parser("verify", help=_("ハッシュチェーンを検証する（改ざん・削除があれば終了コード1）"))
    add_json_flag(verify)
    verify.set_defaults(handler=verify_run)

    listing = commands.add_parser("list", help=_("監査ログを新しい順に表示する"))
    listing.add_argument("--limit", type=int, default=50, help=_("表示件数（既定: 50）"))
    listing.add_argument("--action", default="", help=_("操作の種類で絞り込む（例: login_failed）"))
    add_json_flag(listing)
    listing.set_defaults(handler=list_run)


def verify_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.common.audit import verify_chain

    report = verify_chain()
    reasons = {
        "missing": _("記録が削除されています"),
        "broken_link": _("前の記録とのつながりが壊れています"),
        "altered": _("記録が変更されています"),
        "truncated": _("末尾の記録が削除されています"),
    }
    data: dict[str, Any] = {"ok": report.ok, "checked": report.checked}
    if report.problem:
        data["first_bad_seq"] = report.problem.seq
        data["reason"] = report.problem.reason
    if report.ok:
        emit(args, data, lambda d: _("監査ログは正常です（%(n)d件を検証）。") % {"n": d["checked"]})
        return 0
    message = _("監査ログの改ざんを検知しました: 記録 #%(seq)d — %(reason)s（正常に検証できたのは %(n)d件）") % {
        "seq": report.problem.seq, "reason": reasons[report.problem.reason], "n": report.checked}
    if args.json:
        emit(args, data, str)
    raise CliError(message, exit_code=1)


def list_run(args: argparse.Namespace) -> int:
    from anzen.common.permissions import Actor
    from anzen.common.selectors import AuditFilter, audit_search

    entries = audit_search(Actor.system(), AuditFilter(action=args.action))[: max(args.limit, 0)]
    rows = [
        {"seq": e.seq, "at": e.at.isoformat(), "action": e.action, "actor": e.actor_label,
         "organisation": e.organisation_label, "object_type": e.object_type, "object_id": e.object_id,
         "object": e.object_repr, "message": e.message, "client_ip": e.client_ip}
        for e in entries
    ]
    emit(args, rows, lambda rs: "\n".join(
        f"#{r['seq']:>6} {r['at'][:19]} {r['action']:<13} {r['actor']:<20} {r['object_type']} {r['object']}"
        for r in rs))
    return 0
