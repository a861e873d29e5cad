"""`anzen assessments list` and `anzen assessments remind` (the core's commands).

The CLI acts as `Actor.system()` (shell access to the database already implies every right) but
reads through `scope` like the screens.
"""

from __future__ import annotations

import argparse
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit, institution_by_code_or_id


def register(commands: Any) -> None:
    from django.utils.translation import gettext as _

    listing = commands.add_parser("list", help=_("評価の一覧（年度・医療機関等で絞り込み）"))
    listing.add_argument("--fiscal-year", type=int, metavar="YYYY", help=_("年度（西暦、例: 2025）"))
    listing.add_argument("--institution", metavar="CODE_OR_ID", help=_("医療機関等のコードまたは ID"))
    listing.add_argument("--kind", choices=["institution", "vendor", "system", "checksheet"],
                         help=_("種類で絞り込む"))
    listing.add_argument("--status", choices=["draft", "submitted", "in_review", "returned", "accepted",
                                              "signed_off"], help=_("状態で絞り込む"))
    add_json_flag(listing)
    listing.set_defaults(handler=list_run)

    remind = commands.add_parser(
        "remind", help=_("リマインダーをメールで送る（目標日・未提出・差戻し。同じ日の2回目以降は送信済みを除く）"))
    remind.add_argument("--dry-run", action="store_true", help=_("送信せず、送る内容だけを表示する"))
    remind.add_argument("--within-days", type=int, default=14, metavar="N",
                        help=_("目標日が N 日以内の項目を知らせる（既定: 14）"))
    remind.add_argument("--enqueue", action="store_true", help=_("ワーカー（anzen worker）に実行を依頼する"))
    add_json_flag(remind)
    remind.set_defaults(handler=remind_run)


def _institution_id(value: str | None) -> int | None:
    return institution_by_code_or_id(value).pk if value else None


def list_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.assessments import selectors
    from anzen.common.permissions import Actor

    if args.fiscal_year is not None and not 2000 <= args.fiscal_year <= 2100:
        raise CliError(_("年度は西暦で指定してください（例: 2025）"))
    queryset = selectors.assessments_for(Actor.system(), fiscal_year=args.fiscal_year,
                                         institution=_institution_id(args.institution),
                                         subject_kind=args.kind, status=args.status)
    rows = [{
        "id": a.pk, "fiscal_year": a.fiscal_year, "institution": a.institution.code,
        "institution_name": a.institution.name, "kind": a.subject_kind, "kind_label": str(a.get_subject_kind_display()),
        "respondent": a.respondent.code, "respondent_name": a.respondent.name, "subject_label": a.subject_label,
        "evaluator": a.evaluator.code if a.evaluator else None, "edition": a.edition.key,
        "edition_version": a.edition.version, "form": a.form.node_id if a.form else None, "status": a.status,
        "status_label": str(a.get_status_display()), "due_date": a.due_date.isoformat() if a.due_date else None,
        "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
        "signed_off_at": a.signed_off_at.isoformat() if a.signed_off_at else None,
        "signed_off_by": a.signed_off_name or None, "answers": a.answer_count, "returned": a.returned_count,
    } for a in queryset.iterator(chunk_size=500)]

    def human(data: list[dict[str, Any]]) -> str:
        if not data:
            return _("評価はありません。")
        lines = [f"{'ID':>5}  {_('年度'):<6} {_('種類'):<12} {_('状態'):<8} {_('回答者・対象')}"]
        for row in data:
            target = f"{row['respondent_name']}" + (f"「{row['subject_label']}」" if row["subject_label"] else "")
            if row["respondent"] != row["institution"]:
                target += f"（{row['institution_name']}）"
            lines.append(f"{row['id']:>5}  {row['fiscal_year']:<8} {row['kind_label']:<12} {row['status_label']:<8} "
                         f"{target}")
        return "\n".join(lines)

    emit(args, rows, human)
    return 0


def remind_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.assessments import reminders

    if args.within_days < 0:
        raise CliError(_("--within-days は 0 以上で指定してください"))
    if args.enqueue:
        from anzen.assessments.tasks import remind_task

        result = remind_task.enqueue(within_days=args.within_days)
        emit(args, {"enqueued": True, "task": str(result.id)},
             lambda data: _("ワーカーに依頼しました（タスク %(id)s）") % {"id": data["task"]})
        return 0
    with cli_context("remind"):
        report = reminders.send(within_days=args.within_days, dry_run=args.dry_run)

    def human(data: dict[str, Any]) -> str:
        lines = [_("%(day)s: リマインダー %(n)s件（新規 %(new)s件、本日送信済み %(old)s件）")
                 % {"day": data["day"], "n": data["reminders"], "new": data["new"], "old": data["already_sent"]}]
        for mail in data["mails"]:
            verb = _("送信予定") if data["dry_run"] else _("送信")
            recipients = ", ".join(mail["recipients"]) or _("（宛先なし: メールアドレスのある担当者がいません）")
            lines.append(f"{verb}: {mail['organisation']} → {recipients}")
            lines += [f"  - {r['title']}: {r['message']}" for r in mail["reminders"]]
        return "\n".join(lines)

    emit(args, report.as_dict(), human)
    return 0
