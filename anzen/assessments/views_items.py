"""One item of an assessment: saving its row (htmx or plain POST), its page with evidence and the
review thread, evidence upload/link/removal, and evidence downloads (attachment only, audited)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.assessments import forms, policy, selectors, services, structure
from anzen.assessments.models import Answer, Assessment, Evidence
from anzen.assessments.services_evidence import evidence_path
from anzen.assessments.views import actor_of, detail_url, messages_of, report
from anzen.assessments.views_answer_once import assessment_page_context
from anzen.common import audit
from anzen.common.http import requires, stored_file_download
from anzen.library.models import RequirementNode


def item_url(assessment: Assessment | int, node_pk: int, anchor: str = "") -> str:
    pk = assessment if isinstance(assessment, int) else assessment.pk
    url = reverse("assessments:item", args=[pk, node_pk])
    return f"{url}#{anchor}" if anchor else url


def _back(request: HttpRequest, assessment: Assessment, node_pk: int) -> HttpResponse:
    """Back to where the form was posted from: the item page or the row on the assessment page."""
    if request.POST.get("from") == "item":
        return redirect(item_url(assessment, node_pk))
    return redirect(detail_url(assessment, f"item-{node_pk}"))


def _node(assessment: Assessment, node_pk: int) -> RequirementNode:
    node = RequirementNode.objects.filter(pk=node_pk, edition_id=assessment.edition_id).select_related(
        "answer_schema").first()
    if node is None or not structure.is_answerable(node):
        raise Http404
    return node


def _existing_answer(assessment: Assessment, node: RequirementNode) -> Answer | None:
    return Answer.objects.filter(assessment=assessment, node=node).select_related("node").first()


def _answer(request: HttpRequest, assessment: Assessment, node: RequirementNode) -> Answer:
    """The item's answer, created empty when evidence or a comment comes first."""
    answer = _existing_answer(assessment, node)
    if answer is None:
        answer = services.answer_set(actor=actor_of(request), assessment=assessment, node=node)
    return answer


# --- the item page ---------------------------------------------------------------------------------


@requires(Perm.ASSESSMENT_VIEW)
def item_detail(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    actor = actor_of(request)
    assessment, row = selectors.answer_for_item(actor, pk, node_pk)
    context = {"assessment": assessment, "row": row, "actions": policy.actions(actor, assessment),
               "layout": structure.layout_of(assessment), "reviewer": selectors.reviewer_name(assessment),
               "file_form": forms.EvidenceFileForm(), "link_form": forms.EvidenceLinkForm(),
               "review_form": forms.ReviewForm(), "comment_form": forms.CommentForm(),
               "max_upload_mb": selectors.max_upload_mb(),
               **assessment_page_context(actor, assessment, [row], request=request)}
    return render(request, "assessments/item.html", context)


# --- saving one row --------------------------------------------------------------------------------


@require_POST
@requires(Perm.ASSESSMENT_ANSWER)
def answer_save(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    node = _node(assessment, node_pk)
    form = forms.AnswerForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = [f"{structure.item_label(node)}: {error}" for field_errors in form.errors.values()
                  for error in field_errors]
    else:
        try:
            services.answer_set(actor=actor, assessment=assessment, node=node, **form.changed_fields(request.POST))
        except (ValidationError, PermissionDenied) as error:
            errors = messages_of(error)
    if request.headers.get("HX-Request"):
        assessment.refresh_from_db()
        rows = selectors.answer_rows(assessment)
        row = next(r for r in rows if r.node.pk == node.pk)
        return render(request, "assessments/_row.html", {
            "assessment": assessment, "row": row, "actions": policy.actions(actor, assessment),
            "layout": structure.layout_of(assessment), "row_errors": errors, "saved": not errors,
        })
    for message in errors:
        messages.error(request, message)
    if not errors:
        messages.success(request, _("%(item)s を保存しました。") % {"item": structure.item_label(node)})
    return _back(request, assessment, node.pk)


# --- evidence --------------------------------------------------------------------------------------


def _evidence_add(request: HttpRequest, pk: int, node_pk: int, form: Form, add: Callable[..., object], *,
                  invalid: str, done: str, **fields: str) -> HttpResponse:
    """Shared by file and link evidence: `fields` maps the service's keyword to the form field."""
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    node = _node(assessment, node_pk)
    if not form.is_valid():
        messages.error(request, invalid)
        return redirect(item_url(assessment, node.pk, "evidence"))
    try:
        answer = _answer(request, assessment, node)
        add(actor=actor, answer=answer, title=form.cleaned_data["title"],
            effective_date=form.cleaned_data["effective_date"],
            **{keyword: form.cleaned_data[name] for keyword, name in fields.items()})
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, done)
    return redirect(item_url(assessment, node.pk, "evidence"))


@require_POST
@requires(Perm.ASSESSMENT_ANSWER)
def evidence_upload(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    return _evidence_add(request, pk, node_pk, forms.EvidenceFileForm(request.POST, request.FILES),
                         services.evidence_add_file, invalid=_("ファイルを選んでください。"),
                         done=_("エビデンスを登録しました。"), uploaded_file="file")


@require_POST
@requires(Perm.ASSESSMENT_ANSWER)
def evidence_link(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    return _evidence_add(request, pk, node_pk, forms.EvidenceLinkForm(request.POST),
                         services.evidence_add_link, invalid=_("リンクの URL と名称を入力してください。"),
                         done=_("リンクを登録しました。"), url="url")


@require_POST
@requires(Perm.ASSESSMENT_ANSWER)
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    evidence = selectors.evidence_item(actor, pk)
    answer = evidence.answer
    try:
        services.evidence_remove(actor=actor, evidence=evidence)
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, _("エビデンスを外しました。"))
    return redirect(item_url(answer.assessment_id, answer.node_id, "evidence"))


@requires(Perm.ASSESSMENT_VIEW)
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A file as an attachment only: octet-stream, nosniff, sandboxed, never rendered inline; audited."""
    evidence = selectors.evidence_item(actor_of(request), pk)
    if evidence.kind != Evidence.Kind.FILE or not evidence.sha256:
        raise Http404
    response = stored_file_download(evidence_path(evidence.sha256), evidence.original_name or evidence.sha256)
    audit.record(audit.Action.EXPORT, obj=evidence,
                 message=_("エビデンスのダウンロード: %(name)s (SHA-256 %(sha)s)")
                 % {"name": evidence.original_name, "sha": evidence.sha256})
    return response


# --- review thread ---------------------------------------------------------------------------------


@require_POST
@requires(Perm.ASSESSMENT_REVIEW)
def item_review(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    node = _node(assessment, node_pk)
    form = forms.ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("評価結果を選んでください。"))
        return _back(request, assessment, node.pk)
    answer = _existing_answer(assessment, node)
    if answer is None:
        messages.error(request, _("未回答の項目は確認できません。"))
        return _back(request, assessment, node.pk)
    try:
        services.item_review(actor=actor, answer=answer, result=form.cleaned_data["result"],
                             text=form.cleaned_data["text"])
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, _("%(item)s の評価を記録しました。") % {"item": structure.item_label(node)})
    return _back(request, assessment, node.pk)


@require_POST
@requires(Perm.ASSESSMENT_ANSWER)
def item_comment(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    """The respondent's reply in the item's thread."""
    actor = actor_of(request)
    assessment = selectors.assessment_detail(actor, pk)
    node = _node(assessment, node_pk)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("コメントを入力してください。"))
        return _back(request, assessment, node.pk)
    try:
        answer = (_answer(request, assessment, node) if policy.can_answer(actor, assessment)
                  else _existing_answer(assessment, node))
        if answer is None:
            raise ValidationError(_("未回答の項目にはコメントできません。"))
        services.item_comment(actor=actor, answer=answer, text=form.cleaned_data["text"])
    except (ValidationError, PermissionDenied) as error:
        report(request, error)
    else:
        messages.success(request, _("コメントを書き込みました。"))
    return _back(request, assessment, node.pk)
