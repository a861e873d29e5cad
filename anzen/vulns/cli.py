"""`anzen vulns …`: the vulnerability watch on the command line.

`match` (this module) rematches the ledger against the CVE store and prints the open findings by severity
and confidence; `daily` reopens expired risk acceptances and escalates overdue notices (what the daily
task does); `import`, `fetch` and `check` (feeds and the CVE store) come from `cli_feeds`.
The CLI acts as `Actor.system()` but reads and writes through the same selectors and services as
the screens.
"""

from __future__ import annotations

import argparse
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    from anzen.vulns import cli_feeds

    parser = subparsers.add_parser("vulns", help=_("脆弱性の監視（CVE の取込・照合・確認）"))
    commands = parser.add_subparsers(dest="vulns_command", metavar=_("操作"))
    commands.required = True
    cli_feeds.register(commands)
    for name in ("import", "fetch"):  # a feed import from the command line is followed by a rematch
        if name in commands.choices:
            feed = commands.choices[name]
            feed.set_defaults(handler=_then_rematch(feed.get_default("handler")))

    match = commands.add_parser("match", help=_("台帳を CVE と照合し、対応中の検出を深刻度・確度別に表示"))
    match.add_argument("--institution", metavar="CODE_OR_ID", help=_("医療機関等のコードまたは ID（省略時はすべて）"))
    mode = match.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help=_("差分ではなく、すべてのソフトウェアを照合し直す"))
    mode.add_argument("--rebuild", action="store_true", help=_("保存済みの検出をすべて評価し直す（修復用）"))
    match.add_argument("--no-notify", action="store_true", help=_("保守契約による事業者への通知を行わない"))
    add_json_flag(match)
    match.set_defaults(handler=match_run)

    daily = commands.add_parser("daily", help=_("期限切れのリスク受容の再オープンと、期限超過の通知の連絡"))
    add_json_flag(daily)
    daily.set_defaults(handler=daily_run)


def _then_rematch(handler: Any) -> Any:
    """Run ENGINE's feed command, then request an incremental rematch of every institution (a django-tasks
    job for `anzen worker`; immediate with the immediate backend). The command's own output is unchanged."""
    def run(args: argparse.Namespace) -> int:
        from anzen.vulns import tasks

        code = handler(args)
        if code == 0:
            tasks.request_rematch()
        return code

    return run


def _institutions(value: str | None) -> list[Any]:
    from anzen.accounts.models import Organisation
    from anzen.accounts.roles import OrgKind

    if value:
        from anzen.assets.cli import institution_of

        return [institution_of(value)]
    return list(Organisation.objects.filter(kind=OrgKind.INSTITUTION).order_by("code"))


def match_run(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from anzen.vulns import selectors, services_watch

    results = []
    with cli_context():
        for institution in _institutions(args.institution):
            try:
                report = services_watch.rematch(institution=institution, full=args.full, rebuild=args.rebuild,
                                                notify=not args.no_notify)
            except ValidationError as error:
                raise CliError("; ".join(error.messages)) from error
            summary = selectors.open_summary(institution.pk)
            results.append({
                "institution": institution.code, "name": institution.name, "mode": report.mode,
                "devices": report.devices, "identities": report.identities, "seconds": report.seconds,
                "changes": report.counts(), "open": summary["open"], "kev": summary["kev"],
                "by_severity": summary["by_severity"], "by_confidence": summary["by_confidence"],
            })

    def human(data: list[dict[str, Any]]) -> str:
        if not data:
            return _("医療機関等が登録されていません。")
        lines: list[str] = []
        for row in data:
            lines.append(_("%(name)s: 照合（%(mode)s）%(seconds)s秒・機器 %(devices)s 台"
                           "・ソフトウェア %(identities)s 種") % row)
            lines.append("  " + _("新規 %(created)s件・再検出 %(reopened)s件・更新 %(updated)s件・解消 %(closed)s件"
                                  "・通知 %(notices)s件") % row["changes"])
            lines.append("  " + _("対応中 %(n)s 件（うち KEV %(k)s 件）") % {"n": row["open"], "k": row["kev"]})
            lines.append("  " + "  ".join(f"{item['label']} {item['count']}" for item in row["by_severity"]))
            lines.append("  " + "  ".join(f"{item['label']} {item['count']}" for item in row["by_confidence"]))
        return "\n".join(lines)

    emit(args, results, human)
    return 0


def daily_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.vulns import notices, services_watch

    with cli_context():
        reopened = services_watch.expire_acceptances()
        escalated = notices.escalate_overdue()
    data = {"reopened": reopened, "escalated": [
        {"notice": e.notice_id, "institution": e.institution, "vendor": e.vendor, "cve": e.cve_id, "late": list(e.late)}
        for e in escalated]}
    emit(args, data, lambda d: _("リスク受容の期限切れで再オープン: %(n)s件") % {"n": d["reopened"]} + "\n"
         + _("期限を過ぎた通知: %(n)s件") % {"n": len(d["escalated"])})
    return 0
