"""Answer once screens: suggestions (confirm / reject), copy last year, year-over-year, vendor cross-check.

Thin views: reads come from `suggestions`, `yoy`, `crosscheck` (all scoped), writes go through
`services.answer_set` and `services_copy.assessment_copy_previous`. A refusal that depends on the
object (not the respondent, not the institution, signed off …) is shown as a message on the page it
came from, never as a 403: the role × endpoint table keeps 403 for missing role permissions.

`assessment_page_context` is what CORE's assessment page adds to its context to show the
suggestions per item and the answer-once panel (see the includes in templates/assessments/answer_once/).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from anzen.accounts.roles import Perm
from anzen.assessments import crosscheck, policy, selectors, services_copy, suggestions, yoy
from anzen.assessments.models import Answer, Assessment, SubjectKind
from anzen.common.http import requires
from anzen.common.permissions import Actor
from anzen.common.wareki import fiscal_year_of
from anzen.library.models import Edition, RequirementNode

DISMISSED = "answer_once_dismissed"  # session: suggestions the user rejected (nothing is stored in the database)
MAX_DISMISSED = 2000


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def detail_url(assessment: Assessment) -> str:
    """CORE's assessment page (falls back to the suggestions page until it exists)."""
    try:
        return reverse("assessments:detail", args=[assessment.pk])
    except Exception:  # the URL name is CORE's
        return reverse("assessments:suggestions", args=[assessment.pk])


# --- suggestions --------------------------------------------------------------------------------


def _dismissed(request: HttpRequest, assessment: Assessment) -> set[str]:
    return set(request.session.get(DISMISSED, {}).get(str(assessment.pk), []))


Found = dict[int, list[suggestions.Suggestion]]


def _visible(found: Found, hidden: set[str]) -> Found:
    shown = {pk: [s for s in items if f"{pk}:{s.key}" not in hidden] for pk, items in found.items()}
    return {pk: items for pk, items in shown.items() if items}


def assessment_page_context(actor: Actor, assessment: Assessment, rows: list[Any] | None = None,
                            *, request: HttpRequest | None = None) -> dict[str, Any]:
    """Context for the assessment page: `answer_once` (panel) and, on each row, `row.suggestions`.

    Rows are CORE's `selectors.Row` objects (anything with `.node.pk`); each gets a `suggestions`
    list (possibly empty) of the suggestions that differ from its answer (the suggestions page shows
    all). Bounded: six queries for the suggestions, five for the cross-check.
    """
    found = suggestions.pending(suggestions.suggestions_for(actor, assessment))
    if request is not None:
        found = _visible(found, _dismissed(request, assessment))
    for row in rows or ():
        row.suggestions = found.get(row.node.pk, [])
    return {
        "answer_once": {
            "suggestions": found,
            "counts": suggestions.suggestion_count(found),
            "crosscheck": crosscheck.crosscheck_for_assessment(actor, assessment),
            "can_answer": policy.can_answer(actor, assessment),
            "can_copy": actor.can(Perm.ASSESSMENT_MANAGE) and policy.is_institution(actor, assessment),
            "has_previous": bool(assessment.copied_from_id),
        },
    }


def _suggestion_rows(assessment: Assessment, found: dict[int, list[suggestions.Suggestion]]) -> list[dict[str, Any]]:
    """Rows shaped like CORE's `selectors.Row` as far as the includes need: node, answer, options, suggestions."""
    nodes = (RequirementNode.objects.filter(pk__in=list(found)).select_related("answer_schema", "parent")
             .order_by("position"))
    answers = {a.node_id: a for a in Answer.objects.filter(assessment=assessment, node_id__in=list(found))}
    rows = []
    for node in nodes:
        answer = answers.get(node.pk)
        options = node.answer_schema.options if node.answer_schema_id else []
        rows.append({
            "node": node, "answer": answer, "suggestions": found[node.pk],
            "options": suggestions.option_pairs(options),
            "current_label": suggestions.option_label(options, answer.final_value) if answer and answer.final_value
            else "",
            "current_date": suggestions.answered_on(answer) if answer else None,
        })
    return rows


@requires(Perm.ASSESSMENT_VIEW)
def suggestions_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    assessment = selectors.assessment_detail(actor, pk)
    show_all = request.GET.get("all") == "1"
    found = suggestions.suggestions_for(actor, assessment)
    if not show_all:
        found = _visible(found, _dismissed(request, assessment))
    rows = _suggestion_rows(assessment, found)
    return render(request, "assessments/answer_once/suggestions.html", {
        "assessment": assessment, "rows": rows, "counts": suggestions.suggestion_count(found),
        "can_answer": policy.can_answer(actor, assessment), "show_all": show_all,
        "detail_url": detail_url(assessment),
    })


def _round_fields(answer: Answer | None, value: str, day: dt.date, target: dt.date | None) -> dict[str, Any]:
    """Which round a confirmed value fills: 1回目 when empty; 2回目 after a 1回目 いいえ or once 2回目 exists."""
    second = answer is not None and bool(answer.round1_value) and (bool(answer.round2_value)
                                                                   or answer.round1_value == "no")
    fields: dict[str, Any] = {"round2_value": value, "round2_date": day} if second else {
        "round1_value": value, "round1_date": day}
    if target is not None and value == "no":
        fields["target_date"] = target
    return fields


def _parse_date(raw: str | None, default: dt.date | None) -> dt.date | None:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise ValidationError(_("日付の形式が正しくありません（%(value)s）。") % {"value": raw}) from error


def _item_response(request: HttpRequest, assessment: Assessment, node_pk: int, error: str = "") -> HttpResponse:
    """The item's suggestion block again (htmx) — after confirming, rejecting or failing."""
    actor = _actor(request)
    found = _visible(suggestions.suggestions_for(actor, assessment, node_pk=node_pk), _dismissed(request, assessment))
    rows = _suggestion_rows(assessment, found)
    return render(request, "assessments/answer_once/_suggestion_item.html", {
        "assessment": assessment, "row": rows[0] if rows else {"node": {"pk": node_pk}, "suggestions": []},
        "error": error, "can_answer": policy.can_answer(actor, assessment), "next": request.POST.get("next", ""),
    })


def _swap_in_place(request: HttpRequest, assessment: Assessment) -> bool:
    """True for htmx posts from the suggestions page (the block is replaced in place). Other pages (an
    item page, where the answer above changes too) are reloaded: see `_back`."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    page = urlsplit(htmx.current_url or "").path
    return page == reverse("assessments:suggestions", args=[assessment.pk])


def _back(request: HttpRequest, url: str) -> HttpResponse:
    """Back to the page the post came from: a redirect, or for htmx a whole-page navigation (HX-Redirect)."""
    if getattr(request, "htmx", None):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@requires(Perm.ASSESSMENT_ANSWER)
def suggestion_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm one suggestion: its proposed value (or the value the user chose for a 要確認 hint) with provenance."""
    from anzen.assessments import services

    actor = _actor(request)
    assessment = selectors.assessment_detail(actor, pk)
    back = _next_url(request, reverse("assessments:suggestions", args=[assessment.pk]))
    if request.method != "POST":
        return redirect(back)
    try:
        node_pk = int(request.POST.get("node", ""))
    except ValueError:
        return HttpResponseBadRequest(_("項目が指定されていません。"))
    key = request.POST.get("key", "")
    suggestion = next((s for s in suggestions.suggestions_for(actor, assessment, node_pk=node_pk).get(node_pk, [])
                       if s.key == key), None)
    error = ""
    if suggestion is None:
        error = _("この候補は見つかりません（元の回答が変わった可能性があります）。")
    elif not policy.can_answer(actor, assessment):
        error = _("この評価には回答できません（回答者でないか、提出済み・承認済みです）。")
    else:
        value = suggestion.proposed_value or request.POST.get("value", "")
        node = RequirementNode.objects.select_related("answer_schema").get(pk=node_pk)
        options = suggestions.option_values(node.answer_schema.options if node.answer_schema_id else [])
        try:
            if value not in options:
                raise ValidationError(_("%(ref)s: 回答を選んでください。") % {"ref": node.ref or node.node_id})
            day = _parse_date(request.POST.get("date"), timezone.localdate())
            target = _parse_date(request.POST.get("target_date"), None)
            answer = Answer.objects.filter(assessment=assessment, node=node).first()
            fields = _round_fields(answer, value, day, target)
            if suggestion.origin == "previous_year" and request.POST.get("carry_text"):
                if suggestion.source.remarks and not (answer and answer.remarks):
                    fields["remarks"] = suggestion.source.remarks
                if suggestion.source.countermeasure and not (answer and answer.countermeasure):
                    fields["countermeasure"] = suggestion.source.countermeasure
            provenance = {**suggestion.provenance(), "confirmed_value": value,
                          "confirmed_on": timezone.localdate().isoformat(),
                          "confirmed_by": actor.user.get_username() if actor.user else "system"}
            services.answer_set(actor=actor, assessment=assessment, node=node, provenance=provenance, **fields)
        except (ValidationError, PermissionDenied) as failure:
            error = _error_text(failure) if isinstance(failure, ValidationError) else _("回答できません。")
    if _swap_in_place(request, assessment):
        return _item_response(request, assessment, node_pk, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("候補を確認して回答に反映しました。"))
    return _back(request, back)


@requires(Perm.ASSESSMENT_ANSWER)
def suggestion_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a suggestion: hidden for this session; nothing is written."""
    actor = _actor(request)
    assessment = selectors.assessment_detail(actor, pk)
    back = _next_url(request, reverse("assessments:suggestions", args=[assessment.pk]))
    if request.method != "POST":
        return redirect(back)
    node, key = request.POST.get("node", ""), request.POST.get("key", "")
    if node.isdigit() and key:
        store = request.session.get(DISMISSED, {})
        hidden = store.get(str(assessment.pk), [])
        if f"{node}:{key}" not in hidden and len(hidden) < MAX_DISMISSED:
            hidden.append(f"{node}:{key}")
        store[str(assessment.pk)] = hidden
        request.session[DISMISSED] = store
    if _swap_in_place(request, assessment) and node.isdigit():
        return _item_response(request, assessment, int(node))
    messages.info(request, _("候補を表示しないようにしました（回答は変わっていません）。"))
    return _back(request, back)


# --- copy last year, year-over-year -------------------------------------------------------------


def _edition_choices(assessment: Assessment) -> list[Edition]:
    return list(Edition.objects.filter(framework_id=assessment.edition.framework_id, is_current=True)
                .order_by("-fiscal_year", "key"))


@requires(Perm.ASSESSMENT_MANAGE)
def copy_previous(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy an assessment into a later fiscal year: a new draft whose old answers are offered as suggestions."""
    actor = _actor(request)
    previous = selectors.assessment_detail(actor, pk)
    choices = _edition_choices(previous)
    fiscal_year = max(previous.fiscal_year + 1, fiscal_year_of(timezone.localdate()))
    default = services_copy.newest_edition(previous.edition.framework_id, fiscal_year)
    allowed = policy.is_institution(actor, previous)
    if request.method == "POST" and allowed:
        try:
            fiscal_year = int(request.POST.get("fiscal_year", ""))
            chosen = request.POST.get("edition", "")
            edition = next((e for e in choices if str(e.pk) == chosen), None) if chosen else None
            created = services_copy.assessment_copy_previous(actor=actor, previous=previous, fiscal_year=fiscal_year,
                                                            edition=edition)
        except ValueError:
            messages.error(request, _("年度を数字で入力してください。"))
        except ValidationError as error:
            messages.error(request, _error_text(error))
        except PermissionDenied:
            messages.error(request, _("評価を複写できるのは依頼元の医療機関等だけです。"))
        else:
            messages.success(request, _("昨年度の評価を複写しました。昨年度の回答は候補として表示されます。"))
            return redirect("assessments:suggestions", created.pk)
    elif request.method == "POST":
        messages.error(request, _("評価を複写できるのは依頼元の医療機関等だけです。"))
    return render(request, "assessments/answer_once/copy_previous.html", {
        "assessment": previous, "editions": choices, "default_edition": default, "fiscal_year": fiscal_year,
        "allowed": allowed, "detail_url": detail_url(previous),
    })


@requires(Perm.ASSESSMENT_VIEW)
def year_over_year(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    assessment = selectors.assessment_detail(actor, pk)
    result = yoy.yoy_for(actor, assessment)
    state = request.GET.get("state", "")
    rows = [row for row in result.comparison.rows if not state or row.state == state]
    return render(request, "assessments/answer_once/yoy.html", {
        "assessment": assessment, "result": result, "rows": rows, "state": state,
        "states": result.comparison.counted_states(), "detail_url": detail_url(assessment),
    })


# --- vendor cross-check -------------------------------------------------------------------------


@requires(Perm.ASSESSMENT_VIEW)
def crosscheck_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    assessment = selectors.assessment_detail(actor, pk)
    found = crosscheck.crosscheck_for_assessment(actor, assessment)
    return render(request, "assessments/answer_once/crosscheck.html", {
        "assessment": assessment, "check": found, "detail_url": detail_url(assessment),
    })


@requires(Perm.ASSESSMENT_VIEW)
def crosscheck_index(request: HttpRequest) -> HttpResponse:
    """Every vendor of the year with its cross-check counts (for the institution; a vendor sees its own)."""
    actor = _actor(request)
    try:
        fiscal_year = int(request.GET.get("fiscal_year") or fiscal_year_of(timezone.localdate()))
    except ValueError:
        fiscal_year = fiscal_year_of(timezone.localdate())
    checks = crosscheck.crosschecks(actor, fiscal_year=fiscal_year)
    years = sorted(set(selectors.fiscal_years(actor)) | {fiscal_year}, reverse=True)
    return render(request, "assessments/answer_once/crosscheck_index.html", {
        "checks": checks, "fiscal_year": fiscal_year, "years": years,
        "kinds": {"vendor": SubjectKind.VENDOR.label, "system": SubjectKind.SYSTEM.label},
    })
