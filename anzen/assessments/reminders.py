"""Reminders: target dates coming due or overdue, vendors who have not submitted by the due date,
items returned to a respondent. Shown on the dashboard and e-mailed once a day.

- `compute` is pure: facts in, reminders out (who must act, about what, why).
- `facts` reads them from the database (a fixed number of queries, scoped for the dashboard).
- `send` e-mails each recipient organisation's members whose role acts on it (one mail per
  organisation and day). What was sent is recorded in the audit trail (one entry per reminder,
  object type `assessments.reminder`), which also makes sending idempotent per day: a second run on
  the same day sends nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.roles import OrgKind, Perm, Role
from anzen.assessments.models import Answer, Assessment, Status
from anzen.assessments.rules import NO, YES
from anzen.common import audit
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor, scope
from anzen.common.wareki import fiscal_year_label, format_with_era

DEFAULT_WITHIN_DAYS = 14
OBJECT_TYPE = "assessments.reminder"
OPEN = (Status.DRAFT, Status.RETURNED)

TARGET_DUE = "target_due"
TARGET_OVERDUE = "target_overdue"
NOT_SUBMITTED = "not_submitted"
RETURNED = "returned"


# --- the pure part ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentFact:
    pk: int
    title: str  # e.g. 令和7年度 事業者確認用 ひかり電子カルテ
    institution_id: int
    respondent_id: int
    respondent_kind: str
    status: str
    due_date: dt.date | None = None


@dataclass(frozen=True)
class ItemFact:
    assessment_pk: int
    label: str
    round1_value: str
    target_date: dt.date | None
    round2_value: str
    review_status: str = ""


@dataclass(frozen=True)
class Reminder:
    kind: str
    assessment_pk: int
    recipient_id: int  # the organisation that must act
    institution_id: int
    title: str
    message: str
    items: tuple[str, ...] = field(default=())
    due: dt.date | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.assessment_pk}"


def compute(assessments: Iterable[AssessmentFact], items: Iterable[ItemFact], *, today: dt.date,
            within_days: int = DEFAULT_WITHIN_DAYS) -> list[Reminder]:
    """The reminders of the day, most urgent first (overdue, then due soon, then returned)."""
    by_pk = {fact.pk: fact for fact in assessments}
    horizon = today + dt.timedelta(days=within_days)
    due: dict[tuple[str, int], list[tuple[dt.date, str]]] = defaultdict(list)
    returned: dict[int, list[str]] = defaultdict(list)
    for item in items:
        fact = by_pk.get(item.assessment_pk)
        if fact is None or fact.status == Status.SIGNED_OFF:
            continue
        if item.round1_value == NO and item.target_date and item.round2_value != YES:
            if item.target_date < today:
                due[(TARGET_OVERDUE, fact.pk)].append((item.target_date, item.label))
            elif item.target_date <= horizon:
                due[(TARGET_DUE, fact.pk)].append((item.target_date, item.label))
        if item.review_status == Answer.Review.RETURNED and fact.status == Status.RETURNED:
            returned[fact.pk].append(item.label)
    found: list[Reminder] = []
    for (kind, pk), entries in due.items():
        fact = by_pk[pk]
        entries.sort()
        first = entries[0][0]
        if kind == TARGET_OVERDUE:
            message = _("目標日を過ぎた「いいえ」の項目が%(n)s件あります（最も古い目標日 %(day)s）。"
                        "2回目の確認をしてください。")
        else:
            message = _("目標日が近い「いいえ」の項目が%(n)s件あります（最も近い目標日 %(day)s）。")
        found.append(Reminder(kind, pk, fact.respondent_id, fact.institution_id, fact.title,
                              message % {"n": len(entries), "day": format_with_era(first)},
                              tuple(label for _day, label in entries), first))
    for fact in by_pk.values():
        late = fact.due_date is not None and fact.due_date < today
        if fact.respondent_kind == OrgKind.VENDOR and fact.status == Status.DRAFT and late:
            text = _("提出期限 %(day)s を過ぎていますが、まだ提出されていません。") % {
                "day": format_with_era(fact.due_date) if fact.due_date else ""}
            found.append(Reminder(NOT_SUBMITTED, fact.pk, fact.respondent_id, fact.institution_id, fact.title, text,
                                  due=fact.due_date))
        if fact.status == Status.RETURNED:
            labels = tuple(returned.get(fact.pk, []))
            text = (_("差し戻された項目が%(n)s件あります。修正して再提出してください。") % {"n": len(labels)}
                    if labels else _("評価が差し戻されています。修正して再提出してください。"))
            found.append(Reminder(RETURNED, fact.pk, fact.respondent_id, fact.institution_id, fact.title, text,
                                  labels, fact.due_date))
    order = {TARGET_OVERDUE: 0, NOT_SUBMITTED: 1, RETURNED: 2, TARGET_DUE: 3}
    return sorted(found, key=lambda r: (order[r.kind], r.due or dt.date.max, r.assessment_pk))


# --- reading the facts -----------------------------------------------------------------------------


def _title(assessment: Assessment) -> str:
    label = assessment.subject_label or assessment.respondent.name
    kind = assessment.get_subject_kind_display()
    title = f"{fiscal_year_label(assessment.fiscal_year)} {kind} {label}"
    if assessment.respondent_id == assessment.institution_id:
        return title
    return f"{title}（{assessment.institution.name}）"


def _item_label(ref: str, text: str) -> str:
    short = text if len(text) <= 24 else text[:24] + "…"
    return f"{ref}「{short}」" if ref else f"「{short}」"


def facts(assessments: QuerySet[Assessment]) -> tuple[list[AssessmentFact], list[ItemFact]]:
    """Facts of the open assessments of the queryset (two queries)."""
    open_ones = list(assessments.exclude(status=Status.SIGNED_OFF).select_related("institution", "respondent"))
    found = [AssessmentFact(a.pk, _title(a), a.institution_id, a.respondent_id, a.respondent.kind, a.status,
                            a.due_date) for a in open_ones]
    rows = (Answer.objects.filter(assessment__in=[a.pk for a in open_ones])
            .filter(Q(round1_value=NO, target_date__isnull=False) | Q(review_status=Answer.Review.RETURNED))
            .values_list("assessment_id", "node__ref", "node__text", "node__topic", "round1_value", "target_date",
                         "round2_value", "review_status").order_by("node__position"))
    items = [ItemFact(pk, _item_label(ref, text or topic), r1, target, r2, review)
             for pk, ref, text, topic, r1, target, r2, review in rows]
    return found, items


def for_actor(actor: Actor, *, today: dt.date | None = None,
              within_days: int = DEFAULT_WITHIN_DAYS) -> list[Reminder]:
    """The dashboard's reminders: what the actor's organisation must do, and, for an institution, what
    its vendors still owe it."""
    today = today or timezone.localdate()
    visible = scope(actor, Assessment.objects.all(), Perm.ASSESSMENT_VIEW)
    reminders = compute(*facts(visible), today=today, within_days=within_days)
    return [r for r in reminders if r.recipient_id == actor.org_id
            or (r.institution_id == actor.org_id and r.kind in (NOT_SUBMITTED, RETURNED, TARGET_OVERDUE))]


# --- sending -----------------------------------------------------------------------------------------


# Roles that act on a reminder in each kind of organisation (answering, resubmitting).
ACTING_ROLES = {OrgKind.INSTITUTION: (Role.ADMIN, Role.STAFF), OrgKind.VENDOR: (Role.ADMIN, Role.VENDOR),
                OrgKind.EVALUATOR: (Role.ADMIN, Role.EVALUATOR)}


@dataclass
class SentMail:
    organisation: str
    recipients: list[str]
    reminders: list[Reminder]


@dataclass
class SendReport:
    day: dt.date
    due: list[Reminder] = field(default_factory=list)  # every reminder of the day
    new: list[Reminder] = field(default_factory=list)  # not sent before today
    mails: list[SentMail] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(), "dry_run": self.dry_run, "reminders": len(self.due),
            "new": len(self.new), "already_sent": len(self.due) - len(self.new),
            "mails": [{"organisation": m.organisation, "recipients": m.recipients,
                       "reminders": [{"kind": r.kind, "assessment": r.assessment_pk, "title": r.title,
                                      "message": r.message, "items": list(r.items)} for r in m.reminders]}
                      for m in self.mails],
        }


def _log_id(day: dt.date, reminder: Reminder) -> str:
    return f"{day.isoformat()}:{reminder.recipient_id}:{reminder.key}"


def _body(reminders: list[Reminder]) -> str:
    base = settings.ANZEN_BASE_URL.rstrip("/")
    lines = [_("Anzen からのお知らせです。対応が必要なチェックリストがあります。"), ""]
    for reminder in reminders:
        lines.append(f"■ {reminder.title}")
        lines.append(f"  {reminder.message}")
        lines += [f"  - {label}" for label in reminder.items[:20]]
        lines.append(f"  {base}{reverse('assessments:detail', args=[reminder.assessment_pk])}")
        lines.append("")
    lines.append(_("このメールは Anzen が1日1回送信しています。"))
    return "\n".join(lines)


def send(*, today: dt.date | None = None, within_days: int = DEFAULT_WITHIN_DAYS, dry_run: bool = False) -> SendReport:
    """E-mail today's reminders not sent yet today: one mail per recipient organisation."""
    from anzen.accounts.models import Membership, Organisation

    today = today or timezone.localdate()
    reminders = compute(*facts(Assessment.objects.all()), today=today, within_days=within_days)
    report = SendReport(day=today, due=reminders, dry_run=dry_run)
    sent = set(AuditEntry.objects.filter(object_type=OBJECT_TYPE, object_id__startswith=f"{today.isoformat()}:")
               .values_list("object_id", flat=True))
    report.new = [r for r in reminders if _log_id(today, r) not in sent]
    by_org: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in report.new:
        by_org[reminder.recipient_id].append(reminder)
    organisations = Organisation.objects.in_bulk(list(by_org))
    members = (Membership.objects.filter(organisation_id__in=list(by_org), is_active=True, user__is_active=True)
               .exclude(user__email="").select_related("user"))
    emails: dict[int, list[str]] = defaultdict(list)
    for membership in members:
        org = organisations[membership.organisation_id]
        if membership.role in ACTING_ROLES.get(org.kind, ()) and membership.user.email not in emails[org.pk]:
            emails[org.pk].append(membership.user.email)
    for org_id, items in by_org.items():
        org = organisations[org_id]
        mail = SentMail(org.name, sorted(emails.get(org_id, [])), items)
        report.mails.append(mail)
        if dry_run or not mail.recipients:
            continue
        subject = _("[Anzen] チェックリストの対応のお願い（%(n)s件）") % {"n": len(items)}
        send_mail(subject, _body(items), settings.DEFAULT_FROM_EMAIL, mail.recipients)
        with transaction.atomic():
            for reminder in items:
                audit.record(audit.Action.EXPORT, object_type_label=OBJECT_TYPE, object_id=_log_id(today, reminder),
                             object_repr=reminder.title[:300],
                             message=_("リマインダーをメールで送信: %(org)s（%(n)s名）%(text)s")
                             % {"org": org.name, "n": len(mail.recipients), "text": reminder.message})
    return report

