"""Screens of contracts and notices.

- the institution: its notices (overdue first), a notice with the vendor's answers (accept / return,
  withdraw), its contracts with the notification rules (create, edit);
- the vendor: its inbox (only the notices addressed to its organisation), a notice with the devices,
  the CVE and the deadlines, and the answer form (affected or not, countermeasure, schedule, file).

Evidence files are downloaded only as attachments, through scoped views, and each download is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.models import Organisation
from anzen.accounts.roles import Perm
from anzen.assets import selectors as asset_selectors
from anzen.assets.views import actor_of, form_errors, report
from anzen.common import audit
from anzen.common.http import requires, stored_file_download
from anzen.common.permissions import Actor
from anzen.vulns import contracts, forms, notices, selectors, services_contracts
from anzen.vulns.models_watch import NoticeResponse

PAGE_SIZE = 50


def _notice_context(notice: Any) -> dict[str, Any]:
    day = selectors.today()
    rows = selectors.notice_findings(notice)
    view = selectors.cve_view_public(notice.cve_id)
    return {"notice": notice, "findings": rows, "responses": selectors.notice_responses(notice), "cve": view,
            "late": contracts.overdue(notice.due(), day), "today": day,
            "level_label": contracts.LEVEL_LABELS.get(notice.level, notice.level)}


# --- the institution's notices ------------------------------------------------------------------------


def _notice_page(request: HttpRequest, queryset: Any, template: str, **extra: Any) -> HttpResponse:
    """A page of notices (the institution's list or the vendor's inbox) under the status filter."""
    status = request.GET.get("status", "open")
    page = Paginator(selectors.notices_by_status(queryset, status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, template, {
        "rows": selectors.notice_rows(list(page.object_list), selectors.today()), "page": page,
        "status": status, "statuses": contracts.NOTICE_STATUS_LABELS, "query": f"status={status}", **extra,
    })


@requires(Perm.VULN_VIEW)
def notice_list(request: HttpRequest) -> HttpResponse:
    return _notice_page(request, selectors.institution_notices(actor_of(request)), "vulns/notice_list.html",
                        section="notices", vendor_view=False)


@requires(Perm.VULN_VIEW)
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    return _institution_page(request, actor, selectors.notice_for_institution(actor, pk))


def _institution_page(request: HttpRequest, actor: Actor, notice: Any, *,
                      review_form: forms.NoticeReviewForm | None = None,
                      withdraw_form: forms.NoticeWithdrawForm | None = None, status: int = 200) -> HttpResponse:
    # A refused review or withdrawal comes back here (400) with the bound form, so the comment typed is kept.
    return render(request, "vulns/notice_detail.html", {
        **_notice_context(notice), "vendor_view": False, "section": "notices",
        "can_review": actor.can(Perm.VULN_MANAGE) and notice.status == contracts.ANSWERED,
        "can_withdraw": actor.can(Perm.VULN_MANAGE) and notice.status not in contracts.CLOSED_NOTICE,
        "review_form": review_form or forms.NoticeReviewForm(),
        "withdraw_form": withdraw_form or forms.NoticeWithdrawForm(),
    }, status=status)


@require_POST
@requires(Perm.VULN_MANAGE)
def notice_review(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    notice = selectors.notice_for_institution(actor, pk)
    form = forms.NoticeReviewForm(request.POST)
    if not form.is_valid():
        return _institution_page(request, actor, notice, review_form=form, status=400)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        notices.notice_review(actor=actor, notice=notice, accept=accept, text=form.cleaned_data["text"])
    except ValidationError as error:
        form.add_error(None, error)
        return _institution_page(request, actor, notice, review_form=form, status=400)
    except PermissionDenied as error:
        report(request, error)
    else:
        messages.success(request, _("回答を受理しました。") if accept else _("回答を差し戻しました。"))
    return redirect("vulns:notice_detail", pk=notice.pk)


@require_POST
@requires(Perm.VULN_MANAGE)
def notice_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    notice = selectors.notice_for_institution(actor, pk)
    form = forms.NoticeWithdrawForm(request.POST)
    if not form.is_valid():
        return _institution_page(request, actor, notice, withdraw_form=form, status=400)
    try:
        notices.notice_withdraw(actor=actor, notice=notice, text=form.cleaned_data["text"])
    except ValidationError as error:
        form.add_error(None, error)
        return _institution_page(request, actor, notice, withdraw_form=form, status=400)
    except PermissionDenied as error:
        report(request, error)
    else:
        messages.success(request, _("通知を取り下げました。"))
    return redirect("vulns:notice_detail", pk=notice.pk)


def _download(response_row: NoticeResponse) -> HttpResponse:
    if not response_row.evidence_sha256:
        raise Http404
    result = stored_file_download(notices.evidence_path(response_row.evidence_sha256),
                                  response_row.evidence_name or response_row.evidence_sha256)
    audit.record(audit.Action.EXPORT, obj=response_row,
                 message=_("通知への回答の添付ファイルをダウンロード: %(name)s (SHA-256 %(sha)s)")
                 % {"name": response_row.evidence_name, "sha": response_row.evidence_sha256})
    return result


@requires(Perm.VULN_VIEW)
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    return _download(selectors.response_for(actor_of(request), pk, Perm.VULN_VIEW))


# --- the vendor's inbox -------------------------------------------------------------------------------


@requires(Perm.NOTICE_ANSWER)
def inbox(request: HttpRequest) -> HttpResponse:
    return _notice_page(request, selectors.vendor_notices(actor_of(request)), "vulns/inbox.html", vendor_view=True)


@requires(Perm.NOTICE_ANSWER)
def inbox_notice(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    notice = selectors.notice_for_vendor(actor, pk)
    can_answer = notices.is_vendor_of(actor, notice) and notice.status not in contracts.CLOSED_NOTICE
    return render(request, "vulns/notice_detail.html", {
        **_notice_context(notice), "vendor_view": True, "can_answer": can_answer,
        "answer_form": forms.NoticeAnswerForm(),
    })


@require_POST
@requires(Perm.NOTICE_ANSWER)
def inbox_answer(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    notice = selectors.notice_for_vendor(actor, pk)
    form = forms.NoticeAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            notices.notice_answer(actor=actor, notice=notice, affected=data["affected"],
                                  countermeasure=data["countermeasure"], scheduled_on=data["scheduled_on"],
                                  text=data["text"], evidence=data["evidence"])
        except ValidationError as error:
            form_errors(form, error)
        except PermissionDenied as error:
            report(request, error)
            return redirect("vulns:inbox_notice", pk=notice.pk)
        else:
            messages.success(request, _("回答を送信しました。"))
            return redirect("vulns:inbox_notice", pk=notice.pk)
    return render(request, "vulns/notice_detail.html", {
        **_notice_context(notice), "vendor_view": True, "can_answer": notices.is_vendor_of(actor, notice),
        "answer_form": form,
    }, status=200)


@requires(Perm.NOTICE_ANSWER)
def inbox_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    return _download(selectors.response_for(actor_of(request), pk, Perm.NOTICE_ANSWER))


# --- contracts ----------------------------------------------------------------------------------------


@requires(Perm.VULN_VIEW)
def contract_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    return render(request, "vulns/contract_list.html", {
        "contracts": list(selectors.contracts_for(actor)[:200]), "can_manage": actor.can(Perm.VULN_MANAGE),
        "levels": contracts.LEVEL_LABELS, "section": "contracts",
    })


@requires(Perm.VULN_VIEW)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    contract = selectors.contract_detail(actor, pk)
    return render(request, "vulns/contract_detail.html", {
        "contract": contract, "levels": contracts.LEVEL_LABELS, "sources": contracts.SCORE_SOURCES,
        "notices": selectors.notice_rows(list(contract.notices.select_related("vendor").order_by("-sent_on",
                                                                                                 "-pk")[:100]),
                                         selectors.today()),
        "can_manage": actor.can(Perm.VULN_MANAGE), "section": "contracts",
    })


def _contract_form(request: HttpRequest, contract: Any | None) -> HttpResponse:
    actor = actor_of(request)
    form = forms.ContractForm(request.POST or None, initial=forms.ContractForm.initial_for(contract),
                              vendors=selectors.vendor_choices(actor), systems=asset_selectors.system_choices(actor),
                              vendor_fixed=contract is not None)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            if contract is None:
                vendor = Organisation.objects.get(pk=form.cleaned_data["vendor"])
                saved = services_contracts.contract_create(actor=actor, vendor=vendor, **values)
            else:
                saved = services_contracts.contract_update(actor=actor, contract=contract, **values)
        except ValidationError as error:
            form_errors(form, error)
        except PermissionDenied as error:
            report(request, error)
        else:
            messages.success(request, _("契約「%(title)s」を保存しました。") % {"title": saved.title})
            return redirect("vulns:contract_detail", pk=saved.pk)
    return render(request, "vulns/contract_form.html", {"form": form, "contract": contract, "section": "contracts"})


@requires(Perm.VULN_MANAGE)
def contract_create(request: HttpRequest) -> HttpResponse:
    return _contract_form(request, None)


@requires(Perm.VULN_MANAGE)
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_detail(actor_of(request), pk)
    return _contract_form(request, contract)
