"""What the dashboard shows about assessments, per kind of organisation (bounded queries).

- institution: this fiscal year's own checklist (status, progress) and each vendor's form (requested,
  submitted, accepted, due dates), MDS/SDS received per system, what the inspection still lacks,
  overdue target dates, and the vendor forms waiting for its review;
- vendor: the requests of each customer with due dates and status;
- evaluator: the assessments and items waiting for its review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation
from anzen.accounts.roles import OrgKind, Perm
from anzen.assessments import reminders, scoring, selectors
from anzen.assessments.models import Answer, Assessment, Status, SubjectKind
from anzen.common.permissions import Actor

RECEIVED = (Status.SUBMITTED, Status.IN_REVIEW, Status.ACCEPTED, Status.SIGNED_OFF)
OPEN = (Status.DRAFT, Status.RETURNED)
MAX_ROWS = 50


@dataclass
class Lack:
    text: str
    url: str = ""
    severity: str = "bad"  # bad | warn


@dataclass
class InstitutionView:
    fiscal_year: int
    own: Assessment | None = None
    own_result: scoring.Result | None = None
    own_missing: int = 0
    vendor_forms: list[Assessment] = field(default_factory=list)
    systems: list[Assessment] = field(default_factory=list)
    checksheets: list[Assessment] = field(default_factory=list)
    to_review: list[Assessment] = field(default_factory=list)
    lacks: list[Lack] = field(default_factory=list)


@dataclass
class Dashboard:
    kind: str
    fiscal_year: int
    institution: InstitutionView | None = None
    requests: list[Assessment] = field(default_factory=list)  # vendor: what customers asked for
    to_review: list[Assessment] = field(default_factory=list)  # evaluator (and institution): waiting for review
    reminders: list[reminders.Reminder] = field(default_factory=list)
    today: dt.date | None = None


def _url(assessment: Assessment) -> str:
    from django.urls import reverse

    return reverse("assessments:detail", args=[assessment.pk])


def _with_counts(queryset: Any) -> Any:
    return queryset.annotate(
        pending_count=Count("answers", filter=Q(answers__review_status=Answer.Review.PENDING)
                            & ~Q(answers__round1_value=""), distinct=True),
        returned_count=Count("answers", filter=Q(answers__review_status=Answer.Review.RETURNED), distinct=True),
    )


def _institution(actor: Actor, fiscal_year: int, today: dt.date) -> InstitutionView:
    view = InstitutionView(fiscal_year)
    year = list(_with_counts(selectors.assessments_for(actor, fiscal_year=fiscal_year,
                                                        institution=actor.org_id))[:MAX_ROWS * 3])
    own = [a for a in year if a.subject_kind == SubjectKind.INSTITUTION]
    view.vendor_forms = [a for a in year if a.subject_kind == SubjectKind.VENDOR][:MAX_ROWS]
    view.systems = [a for a in year if a.subject_kind == SubjectKind.SYSTEM][:MAX_ROWS]
    view.checksheets = [a for a in year if a.subject_kind == SubjectKind.CHECKSHEET][:MAX_ROWS]
    view.to_review = [a for a in year if a.respondent_id != actor.org_id and not a.evaluator_id
                      and a.status in (Status.SUBMITTED, Status.IN_REVIEW)]
    lacks = view.lacks
    if not own:
        lacks.append(Lack(_("今年度の医療機関確認用がまだ作成されていません。")))
    else:
        view.own = own[0]
        rows = selectors.answer_rows(view.own, day=today)
        view.own_result = selectors.progress(view.own, rows, day=today)
        overall = view.own_result.overall
        view.own_missing = overall.required - overall.answered
        url = _url(view.own)
        if view.own_missing:
            lacks.append(Lack(_("医療機関確認用: 回答（確認日つき）が揃っていない必須項目が%(n)s件あります。")
                              % {"n": view.own_missing}, url))
        missing_targets = view.own_result.missing_target_dates
        if missing_targets:
            lacks.append(Lack(_("医療機関確認用: 目標日のない「いいえ」が%(n)s件あります。")
                              % {"n": len(missing_targets)}, url))
        if view.own_result.overdue:
            lacks.append(Lack(_("医療機関確認用: 目標日を過ぎた「いいえ」が%(n)s件あります。")
                              % {"n": len(view.own_result.overdue)}, url, "warn"))
        if view.own.status != Status.SIGNED_OFF:
            lacks.append(Lack(_("医療機関確認用がまだ承認（経営層・管理者）されていません（現在: %(status)s）。")
                              % {"status": view.own.get_status_display()}, url, "warn"))
    no_contract = bool(view.own and (view.own.conditions or {}).get("no_vendor_contract"))
    if not no_contract:
        requested = {a.respondent_id for a in view.vendor_forms}
        partners = Organisation.objects.filter(kind=OrgKind.VENDOR, is_active=True,
                                               customer_links__institution_id=actor.org_id,
                                               customer_links__is_active=True).exclude(pk__in=requested)
        for vendor in partners.order_by("name")[:MAX_ROWS]:
            lacks.append(Lack(_("%(vendor)s に事業者確認用を依頼していません。") % {"vendor": vendor.name},
                              severity="warn"))
        for form in view.vendor_forms:
            if form.status not in RECEIVED:
                late = form.due_date is not None and form.due_date < today
                text = (_("%(vendor)s の事業者確認用が未提出です（提出期限 %(day)s を超過）。") if late
                        else _("%(vendor)s の事業者確認用がまだ提出されていません。"))
                lacks.append(Lack(text % {"vendor": form.respondent.name, "day": form.due_date}, _url(form),
                                  "bad" if late else "warn"))
        if not any(system.status in RECEIVED for system in view.systems):
            lacks.append(Lack(_("MDS/SDS がまだ1件も提出されていません（医療機関確認用 2(3)）。")))
    return view


def dashboard(actor: Actor, *, fiscal_year: int | None = None, today: dt.date | None = None) -> Dashboard | None:
    if not actor.can(Perm.ASSESSMENT_VIEW) or actor.org_id is None:
        return None
    today = today or selectors.today()
    fiscal_year = fiscal_year or selectors.current_fiscal_year()
    board = Dashboard(kind=actor.kind or "", fiscal_year=fiscal_year, today=today)
    if actor.kind == OrgKind.INSTITUTION:
        board.institution = _institution(actor, fiscal_year, today)
        board.to_review = board.institution.to_review
    elif actor.kind == OrgKind.VENDOR:
        board.requests = list(_with_counts(selectors.assessments_for(actor)).filter(respondent_id=actor.org_id)
                              .exclude(status=Status.SIGNED_OFF).order_by("due_date", "institution__name", "pk")
                              [:MAX_ROWS])
    else:
        board.to_review = list(_with_counts(selectors.assessments_for(actor)).filter(
            evaluator_id=actor.org_id, status__in=(Status.SUBMITTED, Status.IN_REVIEW)).order_by("submitted_at", "pk")
            [:MAX_ROWS])
    board.reminders = reminders.for_actor(actor, today=today)[:MAX_ROWS]
    return board

