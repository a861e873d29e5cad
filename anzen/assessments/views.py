"""Assessment screens: the list, a new assessment, the form page, the HISPRO layout, settings.

Thin views: reads from `selectors` (scoped), writes through `services`. A refusal that depends on
the object (not the respondent, wrong state, signed off …) is shown as a message on the page, never
as a 403: 403 means the role lacks the permission (see tests/test_permission_table.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.roles import OrgKind, Perm
from anzen.assessments import forms, policy, selectors, services, structure
from anzen.assessments.models import Assessment, Status
from anzen.assessments.views_answer_once import assessment_page_context
from anzen.common.http import record_view, requires
from anzen.common.permissions import Actor, get_scoped, scope
from anzen.library.models import Edition, RequirementNode

PAGE_SIZE = 50


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def messages_of(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    if isinstance(error, PermissionDenied) and error.args and isinstance(error.args[0], str):
        return [error.args[0]]
    return [_("この操作は許可されていません。")]


def report(request: HttpRequest, error: Exception) -> None:
    """Show a service's refusal as a message (object-level refusals are not 403s, see above)."""
    for message in messages_of(error):
        messages.error(request, message)


def detail_url(assessment: Assessment | int, anchor: str = "") -> str:
    pk = assessment if isinstance(assessment, int) else assessment.pk
    url = reverse("assessments:detail", args=[pk])
    return f"{url}#{anchor}" if anchor else url


# --- list -----------------------------------------------------------------------------------------


@requires(Perm.ASSESSMENT_VIEW)
def assessment_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    years = selectors.fiscal_years(actor)
    form = forms.FilterForm(request.GET or None, years=years)
    criteria: dict[str, Any] = {}
    if form.is_valid():
        criteria = {key: value for key, value in form.cleaned_data.items() if value}
    queryset = selectors.assessments_for(actor, **criteria)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "assessments/list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "can_create": actor.can(Perm.ASSESSMENT_MANAGE),
    })


# --- new assessment --------------------------------------------------------------------------------


def _partners(actor: Actor, kind: str) -> Any:
    from anzen.accounts.models import Organisation

    return scope(actor, Organisation.objects.filter(kind=kind, is_active=True), Perm.ASSESSMENT_MANAGE).exclude(
        pk=actor.org_id).order_by("name")


def _targets(actor: Actor) -> list[tuple[str, str]]:
    editions = list(scope(actor, Edition.objects.filter(is_current=True), Perm.LIBRARY_VIEW)
                    .select_related("framework").order_by("framework__key", "-fiscal_year", "key"))
    by_edition: dict[int, list[RequirementNode]] = {}
    for node in RequirementNode.objects.filter(edition__in=editions, kind=RequirementNode.Kind.FORM).order_by(
            "position"):
        by_edition.setdefault(node.edition_id, []).append(node)
    return forms.form_choices(editions, by_edition)


def _default_target(targets: list[tuple[str, str]]) -> str:
    """The newest edition's 医療機関確認用 (editions are listed newest first within a framework)."""
    return next((value for value, label in targets if label.endswith("医療機関確認用")), "")


@requires(Perm.ASSESSMENT_MANAGE)
def assessment_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    targets = _targets(actor)
    kwargs = {"targets": targets, "vendors": _partners(actor, OrgKind.VENDOR),
              "evaluators": _partners(actor, OrgKind.EVALUATOR)}
    initial = {"fiscal_year": selectors.current_fiscal_year(), "target": _default_target(targets)}
    form = forms.CreateForm(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        edition_pk, form_pk = form.split_target()
        edition = get_scoped(actor, Edition.objects.all(), Perm.LIBRARY_VIEW, pk=edition_pk)
        form_node = RequirementNode.objects.filter(pk=form_pk, edition=edition).first() if form_pk else None
        try:
            assessment = services.assessment_create(
                actor=actor, edition=edition, form=form_node, subject_kind=data["subject_kind"],
                fiscal_year=data["fiscal_year"], respondent=data["respondent"], subject_label=data["subject_label"],
                due_date=data["due_date"], evaluator=data["evaluator"],
                conditions={"no_vendor_contract": True} if data["no_vendor_contract"] else None,
            )
        except (ValidationError, PermissionDenied) as error:
            report(request, error)
        else:
            messages.success(request, _("評価を作成しました。"))
            return redirect(detail_url(assessment))
    return render(request, "assessments/create.html", {"form": form})


# --- the form page ---------------------------------------------------------------------------------


def page_context(request: HttpRequest, assessment: Assessment) -> dict[str, Any]:
    actor = actor_of(request)
    rows = selectors.answer_rows(assessment)
    result = selectors.progress(assessment, rows)
    context: dict[str, Any] = {
        "assessment": assessment, "rows": rows, "result": result, "actions": policy.actions(actor, assessment),
        "layout": structure.layout_of(assessment), "events": selectors.events(assessment),
        "reviewer": selectors.reviewer_name(assessment),
        "incomplete": sum(1 for row in rows if row.incomplete),
    }
    context.update(workflow_context(assessment))
    if context["actions"]["manage"]:
        context["settings_form"] = _settings_form(actor, assessment)
    context.update(assessment_page_context(actor, assessment, rows, request=request))  # panel, row suggestions
    return context


def workflow_context(assessment: Assessment) -> dict[str, Any]:
    """The steps shown above the form, what happens next, and the signer's role label."""
    reviewer = selectors.reviewer_name(assessment)
    steps = [Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.RETURNED, Status.ACCEPTED, Status.SIGNED_OFF]
    if not reviewer:
        steps = [Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED, Status.SIGNED_OFF]
    texts = {
        Status.DRAFT: _("%(who)s が回答して提出します。") % {"who": assessment.respondent.name},
        Status.SUBMITTED: _("確認者（%(who)s）の確認を待っています。") % {"who": reviewer},
        Status.IN_REVIEW: _("確認者（%(who)s）が確認しています。") % {"who": reviewer},
        Status.RETURNED: _("差し戻された項目を %(who)s が修正して再提出します。") % {"who": assessment.respondent.name},
        Status.ACCEPTED: _("%(who)s の経営層または管理者の承認を待っています。") % {"who": assessment.institution.name},
        Status.SIGNED_OFF: _("承認済みです（読み取り専用）。"),
    }
    return {
        "statuses": [(status.value, status.label) for status in steps],
        "next_step": texts.get(assessment.status, ""),
        "signer_role": assessment.signed_off_role_label,
    }


@requires(Perm.ASSESSMENT_VIEW)
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = selectors.assessment_detail(actor_of(request), pk)
    record_view(request, assessment)
    return render(request, "assessments/detail.html", page_context(request, assessment))


@requires(Perm.ASSESSMENT_VIEW)
def assessment_hispro(request: HttpRequest, pk: int) -> HttpResponse:
    """The HISPRO layout: 確認者記入欄 (対応策, エビデンス) beside 評価者記入欄 (評価結果, コメント)."""
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    rows = selectors.answer_rows(assessment)
    return render(request, "assessments/hispro.html", {
        "assessment": assessment, "rows": rows, "reviewer": selectors.reviewer_name(assessment),
        "actions": policy.actions(actor, assessment),
    })


# --- settings (conditions, due date, evaluator) ------------------------------------------------------


def _settings_form(actor: Actor, assessment: Assessment, data: Any = None) -> forms.SettingsForm:
    conditions = structure.known_conditions(structure.form_nodes(assessment))
    initial = {"due_date": assessment.due_date, "evaluator": assessment.evaluator_id}
    initial.update({f"condition_{key}": bool((assessment.conditions or {}).get(key)) for key in conditions})
    return forms.SettingsForm(data, initial=initial, conditions=conditions,
                              evaluators=_partners(actor, OrgKind.EVALUATOR))


@require_POST
@requires(Perm.ASSESSMENT_MANAGE)
def assessment_settings(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    if not policy.can_manage(actor, assessment):
        messages.error(request,
                       _("この評価の設定は依頼元の医療機関等だけが変更できます（承認済みの評価は再開が必要です）。"))
        return redirect(detail_url(assessment))
    form = _settings_form(actor, assessment, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(detail_url(assessment))
    try:
        services.assessment_update(actor=actor, assessment=assessment, conditions=form.conditions(),
                                   due_date=form.cleaned_data["due_date"], evaluator=form.cleaned_data["evaluator"])
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, _("評価の設定を保存しました。"))
    return redirect(detail_url(assessment, "settings"))
