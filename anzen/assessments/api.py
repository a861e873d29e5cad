"""API for assessments, answers, reviews and the workflow (mounted at /api/assessments/).

Same services and scoping as the screens: a foreign assessment is a 404, a step the role may not take
is a 403 (the endpoint's permission or the object-level rule), a refused value or state is a 400 with
the Japanese messages. Signed-off assessments are read-only here too.
"""


import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from anzen.accounts.models import Organisation
from anzen.accounts.roles import OrgKind, Perm
from anzen.api.routing import endpoint
from anzen.assessments import policy, selectors, services
from anzen.assessments.models import Answer, Assessment, ReviewComment
from anzen.common.permissions import Actor, scope
from anzen.library.models import Edition, RequirementNode

router = Router(tags=["assessments"])


class Org(Schema):
    id: int
    code: str
    name: str


class AssessmentOut(Schema):
    id: int
    fiscal_year: int
    institution: Org
    respondent: Org
    evaluator: Org | None
    subject_kind: str
    subject_label: str
    edition: str
    edition_version: int
    form: str | None
    status: str
    status_label: str
    due_date: dt.date | None
    conditions: dict[str, Any]
    submitted_at: dt.datetime | None
    signed_off_at: dt.datetime | None
    signed_off_by: str | None
    signed_off_role: str | None


class Tally(Schema):
    label: str
    required: int
    answered: int
    answered_round1: int
    yes: int
    achievable: int
    progress_pct: int
    achievement_pct: int
    round2_needed: int
    round2_answered: int


class AssessmentDetail(AssessmentOut):
    progress: Tally
    sections: list[Tally]
    overdue: list[str]
    actions: dict[str, bool]


class EvidenceOut(Schema):
    id: int
    kind: str
    title: str
    url: str
    original_name: str
    sha256: str
    size: int
    effective_date: dt.date | None
    download: str | None


class ProblemOut(Schema):
    code: str
    severity: str
    message: str


class AnswerRow(Schema):
    node: int
    node_id: str
    ref: str
    text: str
    status: str
    reason: str
    round1_value: str
    round1_date: dt.date | None
    target_date: dt.date | None
    round2_value: str
    round2_date: dt.date | None
    remarks: str
    countermeasure: str
    effective_date: dt.date | None
    review_status: str
    provenance: dict[str, Any]
    evidence: list[EvidenceOut]
    comments: int
    problems: list[ProblemOut]


class AnswerIn(Schema):
    round1_value: str | None = None
    round1_date: dt.date | None = None
    target_date: dt.date | None = None
    round2_value: str | None = None
    round2_date: dt.date | None = None
    remarks: str | None = None
    countermeasure: str | None = None
    effective_date: dt.date | None = None


class CreateIn(Schema):
    edition: str  # framework@edition (current version) or framework@edition#N
    subject_kind: Literal["institution", "vendor", "system", "checksheet"]
    fiscal_year: int
    form: str | None = None  # node_id of the form, e.g. "H" or "V"
    respondent: str | None = None  # organisation code
    evaluator: str | None = None
    subject_label: str = ""
    due_date: dt.date | None = None
    conditions: dict[str, bool] | None = None


class CommentIn(Schema):
    text: str = ""


class ReviewIn(Schema):
    result: Literal["accept", "return", "comment"]
    text: str = ""


class ReopenIn(Schema):
    reason: str


class CommentOut(Schema):
    id: int
    result: str
    text: str
    author: str
    organisation: str
    created_at: dt.datetime


class Error(Schema):
    detail: list[str]


ERRORS = {400: Error, 403: Error}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _org(org: Organisation | None) -> dict[str, Any] | None:
    return {"id": org.pk, "code": org.code, "name": org.name} if org else None


def _out(a: Assessment) -> dict[str, Any]:
    return {
        "id": a.pk, "fiscal_year": a.fiscal_year, "institution": _org(a.institution), "respondent": _org(a.respondent),
        "evaluator": _org(a.evaluator), "subject_kind": a.subject_kind, "subject_label": a.subject_label,
        "edition": a.edition.key, "edition_version": a.edition.version, "form": a.form.node_id if a.form else None,
        "status": a.status, "status_label": str(a.get_status_display()), "due_date": a.due_date,
        "conditions": a.conditions or {}, "submitted_at": a.submitted_at, "signed_off_at": a.signed_off_at,
        "signed_off_by": a.signed_off_name or None, "signed_off_role": a.signed_off_role or None,
    }


def _tally(t: Any) -> dict[str, Any]:
    return {"label": t.label, "required": t.required, "answered": t.answered, "answered_round1": t.answered_r1,
            "yes": t.yes, "achievable": t.achievable, "progress_pct": t.progress_pct,
            "achievement_pct": t.achievement_pct, "round2_needed": t.r2_needed, "round2_answered": t.r2_answered}


def _refused(error: ValidationError) -> Status:
    return Status(400, {"detail": [str(message) for message in error.messages]})


def _detail(actor: Actor, assessment: Assessment) -> dict[str, Any]:
    rows = selectors.answer_rows(assessment)
    result = selectors.progress(assessment, rows)
    return {**_out(assessment), "progress": _tally(result.overall),
            "sections": [_tally(s) for s in result.sections], "overdue": [n.label for n in result.overdue],
            "actions": policy.actions(actor, assessment)}


def _row(row: selectors.Row) -> dict[str, Any]:
    from django.urls import reverse

    answer = row.answer
    return {
        "node": row.node.pk, "node_id": row.node.node_id, "ref": row.node.ref,
        "text": row.node.text or row.node.topic or row.node.text_partial,
        "status": row.verdict.status if row.verdict else "", "reason": row.verdict.reason if row.verdict else "",
        "round1_value": row.values.round1_value, "round1_date": row.values.round1_date,
        "target_date": row.values.target_date, "round2_value": row.values.round2_value,
        "round2_date": row.values.round2_date, "remarks": answer.remarks if answer else "",
        "countermeasure": answer.countermeasure if answer else "",
        "effective_date": answer.effective_date if answer else None, "review_status": row.review_status,
        "provenance": answer.provenance if answer else {}, "comments": len(row.comments),
        "evidence": [{"id": e.pk, "kind": e.kind, "title": e.title, "url": e.url, "original_name": e.original_name,
                      "sha256": e.sha256, "size": e.size, "effective_date": e.effective_date,
                      "download": reverse("assessments:evidence_download", args=[e.pk]) if e.kind == "file" else None}
                     for e in row.evidence],
        "problems": [{"code": p.code, "severity": p.severity, "message": p.message} for p in row.problems],
    }


# --- assessments -------------------------------------------------------------------------------------


@endpoint(router, "get", "", perm=Perm.ASSESSMENT_VIEW, response=list[AssessmentOut],
          summary="評価の一覧（自組織が関わるものだけ）")
def assessment_list(request: HttpRequest, fiscal_year: int | None = None, subject_kind: str | None = None,
                    status: str | None = None) -> list[dict[str, Any]]:
    queryset = selectors.assessments_for(_actor(request), fiscal_year=fiscal_year, subject_kind=subject_kind,
                                         status=status)
    return [_out(a) for a in queryset[:1000]]


@endpoint(router, "post", "", perm=Perm.ASSESSMENT_MANAGE, response={201: AssessmentOut, **ERRORS},
          summary="評価を作成（医療機関確認用、事業者への依頼、MDS/SDS、チェックシート）")
def assessment_create(request: HttpRequest, payload: CreateIn) -> Any:
    from anzen.library import selectors as library_selectors

    actor = _actor(request)
    try:
        edition = library_selectors.edition_by_ref(actor, payload.edition)
    except Edition.DoesNotExist:
        return Status(400, {"detail": [_("版 %(edition)s が見つかりません。") % {"edition": payload.edition}]})
    form = None
    if payload.form:
        form = RequirementNode.objects.filter(edition=edition, node_id=payload.form, kind="form").first()
        if form is None:
            return Status(400, {"detail": [_("様式 %(form)s がこの版にありません。") % {"form": payload.form}]})
    partners = scope(actor, Organisation.objects.all(), Perm.ASSESSMENT_MANAGE)
    respondent = partners.filter(code=payload.respondent, kind=OrgKind.VENDOR).first() if payload.respondent else None
    evaluator = partners.filter(code=payload.evaluator, kind=OrgKind.EVALUATOR).first() if payload.evaluator else None
    if (payload.respondent and respondent is None) or (payload.evaluator and evaluator is None):
        return Status(400, {"detail": [_("取引関係にある組織のコードを指定してください。")]})
    try:
        made = services.assessment_create(
            actor=actor, edition=edition, subject_kind=payload.subject_kind, fiscal_year=payload.fiscal_year,
            respondent=respondent, form=form, subject_label=payload.subject_label, due_date=payload.due_date,
            evaluator=evaluator, conditions=payload.conditions)
    except ValidationError as error:
        return _refused(error)
    return Status(201, _out(selectors.assessment_detail(actor, made.pk)))


@endpoint(router, "get", "/{assessment_id}", perm=Perm.ASSESSMENT_VIEW, response=AssessmentDetail,
          summary="評価の詳細（進捗・達成率・可能な操作）")
def assessment_detail(request: HttpRequest, assessment_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return _detail(actor, selectors.assessment_detail(actor, assessment_id))


@endpoint(router, "get", "/{assessment_id}/answers", perm=Perm.ASSESSMENT_VIEW, response=list[AnswerRow],
          summary="評価の項目と回答（文書順、規則による必須・参考・記入不要、回答の問題点）")
def answer_list(request: HttpRequest, assessment_id: int) -> list[dict[str, Any]]:
    assessment = selectors.assessment_detail(_actor(request), assessment_id)
    return [_row(row) for row in selectors.answer_rows(assessment) if row.answerable]


def _set_answer(request: HttpRequest, assessment_id: int, node: int, payload: AnswerIn) -> Any:
    actor = _actor(request)
    assessment = selectors.assessment_detail(actor, assessment_id)
    found = RequirementNode.objects.filter(pk=node, edition_id=assessment.edition_id).select_related(
        "answer_schema").first()
    if found is None:
        raise Http404
    try:
        services.answer_set(actor=actor, assessment=assessment, node=found, **payload.dict(exclude_unset=True))
    except ValidationError as error:
        return _refused(error)
    row = next(r for r in selectors.answer_rows(assessment) if r.node.pk == found.pk)
    return Status(200, _row(row))


@endpoint(router, "patch", "/{assessment_id}/answers/{node}", perm=Perm.ASSESSMENT_ANSWER,
          response={200: AnswerRow, **ERRORS}, summary="項目の回答を設定（送った欄だけを変更）")
def answer_patch(request: HttpRequest, assessment_id: int, node: int, payload: AnswerIn) -> Any:
    return _set_answer(request, assessment_id, node, payload)


@endpoint(router, "post", "/{assessment_id}/answers/{node}", perm=Perm.ASSESSMENT_ANSWER,
          response={200: AnswerRow, **ERRORS}, summary="項目の回答を設定（PATCH と同じ）")
def answer_post(request: HttpRequest, assessment_id: int, node: int, payload: AnswerIn) -> Any:
    return _set_answer(request, assessment_id, node, payload)


# --- reviews -----------------------------------------------------------------------------------------


def _answer(actor: Actor, assessment_id: int, node: int) -> Answer:
    assessment = selectors.assessment_detail(actor, assessment_id)
    answer = Answer.objects.filter(assessment=assessment, node_id=node).select_related("node", "assessment").first()
    if answer is None:
        raise Http404
    return answer


def _comment_out(c: ReviewComment) -> dict[str, Any]:
    return {"id": c.pk, "result": c.result, "text": c.text, "author": str(c.author),
            "organisation": c.organisation.name, "created_at": c.created_at}


@endpoint(router, "get", "/{assessment_id}/answers/{node}/reviews", perm=Perm.ASSESSMENT_VIEW,
          response=list[CommentOut], summary="項目の確認とコメントのスレッド")
def review_list(request: HttpRequest, assessment_id: int, node: int) -> list[dict[str, Any]]:
    answer = _answer(_actor(request), assessment_id, node)
    return [_comment_out(c) for c in answer.comments.select_related("author", "organisation").order_by("created_at")]


@endpoint(router, "post", "/{assessment_id}/answers/{node}/reviews", perm=Perm.ASSESSMENT_REVIEW,
          response={201: CommentOut, **ERRORS}, summary="確認者が項目を確認・差戻し・コメント")
def review_create(request: HttpRequest, assessment_id: int, node: int, payload: ReviewIn) -> Any:
    actor = _actor(request)
    try:
        comment = services.item_review(actor=actor, answer=_answer(actor, assessment_id, node),
                                       result=payload.result, text=payload.text)
    except ValidationError as error:
        return _refused(error)
    return Status(201, _comment_out(comment))


@endpoint(router, "post", "/{assessment_id}/answers/{node}/comments", perm=Perm.ASSESSMENT_ANSWER,
          response={201: CommentOut, **ERRORS}, summary="回答者が項目のスレッドに返信")
def comment_create(request: HttpRequest, assessment_id: int, node: int, payload: CommentIn) -> Any:
    actor = _actor(request)
    try:
        comment = services.item_comment(actor=actor, answer=_answer(actor, assessment_id, node), text=payload.text)
    except ValidationError as error:
        return _refused(error)
    return Status(201, _comment_out(comment))


# --- workflow ----------------------------------------------------------------------------------------


class TransitionIn(Schema):
    comment: str = ""


def _step(request: HttpRequest, assessment_id: int, call: Any, **extra: Any) -> Any:
    actor = _actor(request)
    assessment = selectors.assessment_detail(actor, assessment_id)
    try:
        call(actor=actor, assessment=assessment, **extra)
    except ValidationError as error:
        return _refused(error)
    return Status(200, _detail(actor, selectors.assessment_detail(actor, assessment_id)))


STEP = {200: AssessmentDetail, **ERRORS}


@endpoint(router, "post", "/{assessment_id}/submit", perm=Perm.ASSESSMENT_ANSWER, response=STEP,
          summary="提出（確認者のいない自己評価はそのまま受理）")
def submit(request: HttpRequest, assessment_id: int, payload: TransitionIn) -> Any:
    return _step(request, assessment_id, services.assessment_submit, comment=payload.comment)


@endpoint(router, "post", "/{assessment_id}/start-review", perm=Perm.ASSESSMENT_REVIEW, response=STEP,
          summary="確認を開始")
def start_review(request: HttpRequest, assessment_id: int) -> Any:
    return _step(request, assessment_id, services.assessment_start_review)


@endpoint(router, "post", "/{assessment_id}/return", perm=Perm.ASSESSMENT_REVIEW, response=STEP,
          summary="回答者に差戻し")
def return_assessment(request: HttpRequest, assessment_id: int, payload: TransitionIn) -> Any:
    return _step(request, assessment_id, services.assessment_return, comment=payload.comment)


@endpoint(router, "post", "/{assessment_id}/accept", perm=Perm.ASSESSMENT_REVIEW, response=STEP, summary="受理")
def accept(request: HttpRequest, assessment_id: int, payload: TransitionIn) -> Any:
    return _step(request, assessment_id, services.assessment_accept, comment=payload.comment)


@endpoint(router, "post", "/{assessment_id}/sign-off", perm=Perm.ASSESSMENT_SIGN_OFF, response=STEP,
          summary="承認（経営層・管理者）。以後は読み取り専用")
def sign_off(request: HttpRequest, assessment_id: int) -> Any:
    return _step(request, assessment_id, services.assessment_sign_off)


@endpoint(router, "post", "/{assessment_id}/reopen", perm=Perm.ASSESSMENT_MANAGE, response=STEP,
          summary="再開（理由を記録して作成中に戻す）")
def reopen(request: HttpRequest, assessment_id: int, payload: ReopenIn) -> Any:
    return _step(request, assessment_id, services.assessment_reopen, reason=payload.reason)


@endpoint(router, "get", "/{assessment_id}/events", perm=Perm.ASSESSMENT_VIEW, response=list[dict[str, Any]],
          summary="提出・確認・承認の経過")
def events(request: HttpRequest, assessment_id: int) -> list[dict[str, Any]]:
    assessment = selectors.assessment_detail(_actor(request), assessment_id)
    return [{"at": e.at.isoformat(), "actor": e.actor_name, "organisation": e.organisation_name,
             "from_status": e.from_status, "to_status": e.to_status, "comment": e.comment}
            for e in selectors.events(assessment)]

