"""Workflow buttons of an assessment: submit, start review, return, accept, sign off, reopen.

Each is a POST that calls one service and comes back to the assessment page with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.assessments import forms, selectors, services
from anzen.assessments.models import Status
from anzen.assessments.views import actor_of, detail_url, report
from anzen.common.http import requires


def _step(request: HttpRequest, pk: int, call: Callable[..., Any], done: str, **extra: Any) -> HttpResponse:
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    try:
        call(actor=actor, assessment=assessment, **extra)
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, done)
    return redirect(detail_url(assessment, "workflow"))


def _comment(request: HttpRequest) -> str:
    form = forms.TransitionForm(request.POST)
    return form.cleaned_data["comment"] if form.is_valid() else ""


@require_POST
@requires(Perm.ASSESSMENT_ANSWER)
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    try:
        services.assessment_submit(actor=actor, assessment=assessment, comment=_comment(request))
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        if assessment.status == Status.ACCEPTED:
            messages.success(request, _("提出しました（確認者のいない自己評価のため受理されました）。"
                                        "経営層・管理者の承認に進めます。"))
        else:
            messages.success(request, _("提出しました。確認者（%(who)s）の確認を待ちます。")
                             % {"who": selectors.reviewer_name(assessment)})
    return redirect(detail_url(assessment, "workflow"))


@require_POST
@requires(Perm.ASSESSMENT_REVIEW)
def start_review(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, services.assessment_start_review, _("確認を開始しました。"))


@require_POST
@requires(Perm.ASSESSMENT_REVIEW)
def return_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, services.assessment_return, _("回答者に差し戻しました。"), comment=_comment(request))


@require_POST
@requires(Perm.ASSESSMENT_REVIEW)
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, services.assessment_accept, _("受理しました。"), comment=_comment(request))


@require_POST
@requires(Perm.ASSESSMENT_SIGN_OFF)
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, services.assessment_sign_off, _("承認しました。この評価は読み取り専用になりました。"))


@require_POST
@requires(Perm.ASSESSMENT_MANAGE)
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.ReopenForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    done = _("評価を再開しました（作成中に戻りました）。")
    return _step(request, pk, services.assessment_reopen, done, reason=reason)
