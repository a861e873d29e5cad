"""The workflow of an assessment and the per-item review (re-exported by `services`).

draft → submitted → in review → returned (items with comments) → submitted … → accepted → signed off.
An institution's own checklist without an evaluator has no reviewer: submitting it accepts it.
Signed-off assessments are read-only; reopening (with a reason) makes a draft again. Every step is an
AssessmentEvent (the history on screen and in the inspection pack) and, through the model signals,
an audit entry.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.roles import Perm
from anzen.assessments import policy, structure
from anzen.assessments.models import Answer, Assessment, AssessmentEvent, ReviewComment, Status
from anzen.common import audit
from anzen.common.permissions import Actor, require

MAX_LISTED = 10


def _actor_name(actor: Actor) -> str:
    if actor.user is None:
        return _("システム")
    return str(actor.user)


def record_event(actor: Actor, assessment: Assessment, from_status: str, to_status: str,
                 comment: str = "") -> AssessmentEvent:
    organisation = actor.organisation
    return AssessmentEvent.objects.create(
        assessment=assessment, actor=actor.user, actor_name=_actor_name(actor),
        organisation_name=organisation.name if organisation else "", from_status=from_status,
        to_status=to_status, comment=comment,
    )


def sync(target: Assessment, source: Assessment) -> Assessment:
    """Bring the caller's instance up to date with the locked copy a service changed."""
    if target is not source:
        for model_field in Assessment._meta.concrete_fields:
            setattr(target, model_field.attname, getattr(source, model_field.attname))
        target._audit_loaded = source.audit_loaded()  # type: ignore[attr-defined]
    return target


def _move(actor: Actor, assessment: Assessment, to_status: str, comment: str = "") -> Assessment:
    from_status = assessment.status
    assessment.status = to_status
    assessment.save()
    record_event(actor, assessment, from_status, to_status, comment)
    return assessment


def _locked(assessment: Assessment) -> Assessment:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the form's outer join.
    locked = Assessment.objects.select_for_update(of=("self",)).select_related("form", "institution")
    return locked.get(pk=assessment.pk)


def _listed(labels: list[str]) -> str:
    shown = "、".join(labels[:MAX_LISTED])
    return shown + (_(" ほか%(n)s件") % {"n": len(labels) - MAX_LISTED} if len(labels) > MAX_LISTED else "")


def _require_reviewer(actor: Actor, assessment: Assessment) -> None:
    require(actor, Perm.ASSESSMENT_REVIEW)
    if not policy.has_reviewer(assessment):
        raise ValidationError(_("この評価には確認者がいません（自己評価）。"))
    if not policy.is_reviewer(actor, assessment):
        raise PermissionDenied(_("この評価を確認できるのは確認者（評価機関または依頼元）だけです。"))
    if assessment.status not in policy.REVIEWABLE:
        raise ValidationError(_("確認できるのは提出済みまたは確認中の評価だけです。"))


@transaction.atomic
def assessment_submit(*, actor: Actor, assessment: Assessment, comment: str = "") -> Assessment:
    """The respondent submits (or resubmits after a return). Every required item must be complete."""
    original, assessment = assessment, _locked(assessment)
    require(actor, Perm.ASSESSMENT_ANSWER)
    if not policy.is_respondent(actor, assessment):
        raise PermissionDenied(_("提出できるのは回答者の組織だけです。"))
    if assessment.status not in policy.ANSWERABLE:
        raise ValidationError(_("この評価は提出できる状態ではありません（%(status)s）。")
                              % {"status": assessment.get_status_display()})
    missing = structure.incomplete_required(assessment)
    if missing:
        raise ValidationError(
            _("未回答または確認日・目標日が不足している必須項目があります（%(n)s件）: %(items)s")
            % {"n": len(missing), "items": _listed(missing)})
    assessment.submitted_at = timezone.now()
    _move(actor, assessment, Status.SUBMITTED, comment.strip())
    if not policy.has_reviewer(assessment):
        _move(actor, assessment, Status.ACCEPTED, _("確認者がいない自己評価のため、提出により受理しました。"))
    return sync(original, assessment)


@transaction.atomic
def assessment_start_review(*, actor: Actor, assessment: Assessment) -> Assessment:
    original, assessment = assessment, _locked(assessment)
    _require_reviewer(actor, assessment)
    if assessment.status != Status.SUBMITTED:
        raise ValidationError(_("確認を開始できるのは提出済みの評価だけです。"))
    return sync(original, _move(actor, assessment, Status.IN_REVIEW))


@transaction.atomic
def item_review(*, actor: Actor, answer: Answer, result: str, text: str = "") -> ReviewComment:
    """The reviewer accepts or returns one item, or comments on it (the thread of that item)."""
    if result not in ReviewComment.Result.values:
        raise ValidationError(_("評価結果が正しくありません。"))
    if result == ReviewComment.Result.COMMENT:
        return item_comment(actor=actor, answer=answer, text=text)
    assessment = _locked(answer.assessment)
    _require_reviewer(actor, assessment)
    label = structure.item_label(answer.node)
    if result == ReviewComment.Result.RETURN and not text.strip():
        raise ValidationError({"text": _("%(item)s: 差し戻す理由をコメントに書いてください。") % {"item": label}})
    if assessment.status == Status.SUBMITTED:
        _move(actor, assessment, Status.IN_REVIEW)
    answer.review_status = (Answer.Review.ACCEPTED if result == ReviewComment.Result.ACCEPT
                            else Answer.Review.RETURNED)
    answer.save()
    return _comment(actor, answer, result, text)


def _comment(actor: Actor, answer: Answer, result: str, text: str) -> ReviewComment:
    if actor.user is None or actor.organisation is None:
        raise PermissionDenied(_("コメントは利用者として書いてください。"))
    return ReviewComment.objects.create(answer=answer, author=actor.user, organisation=actor.organisation,
                                        result=result, text=text.strip())


@transaction.atomic
def item_comment(*, actor: Actor, answer: Answer, text: str) -> ReviewComment:
    """A message in an item's thread, by the reviewer or the respondent."""
    assessment = _locked(answer.assessment)
    if not policy.can_comment(actor, assessment):
        if assessment.is_read_only:
            raise ValidationError(_("承認済みの評価は変更できません。"))
        raise PermissionDenied(_("この項目にコメントできるのは確認者と回答者だけです。"))
    if not text.strip():
        raise ValidationError({"text": _("コメントを入力してください。")})
    return _comment(actor, answer, ReviewComment.Result.COMMENT, text)


@transaction.atomic
def assessment_return(*, actor: Actor, assessment: Assessment, comment: str = "") -> Assessment:
    """The reviewer returns the assessment to the respondent (returned items, or a comment, say why)."""
    original, assessment = assessment, _locked(assessment)
    _require_reviewer(actor, assessment)
    returned = assessment.answers.filter(review_status=Answer.Review.RETURNED).exists()
    if not returned and not comment.strip():
        raise ValidationError(_("差し戻す項目を選ぶか、差戻しの理由をコメントに書いてください。"))
    return sync(original, _move(actor, assessment, Status.RETURNED, comment.strip()))


@transaction.atomic
def assessment_accept(*, actor: Actor, assessment: Assessment, comment: str = "") -> Assessment:
    """The reviewer accepts the assessment; items not yet reviewed are accepted with it."""
    original, assessment = assessment, _locked(assessment)
    _require_reviewer(actor, assessment)
    returned = list(assessment.answers.filter(review_status=Answer.Review.RETURNED).select_related("node")
                    .order_by("node__position"))
    if returned:
        raise ValidationError(_("差戻し中の項目があります: %(items)s")
                              % {"items": _listed([structure.item_label(a.node, length=16) for a in returned])})
    pending = assessment.answers.filter(review_status=Answer.Review.PENDING)
    count = pending.update(review_status=Answer.Review.ACCEPTED, updated_at=timezone.now())
    if count:
        audit.record(audit.Action.UPDATE, obj=assessment, after={"review_status": Answer.Review.ACCEPTED,
                                                                  "answers": count},
                     message=_("受理により未確認の回答%(n)s件を確認済みにしました") % {"n": count})
    return sync(original, _move(actor, assessment, Status.ACCEPTED, comment.strip()))


@transaction.atomic
def assessment_sign_off(*, actor: Actor, assessment: Assessment) -> Assessment:
    """経営層 or 管理者 of the institution sign off an accepted assessment; it becomes read-only."""
    original, assessment = assessment, _locked(assessment)
    require(actor, Perm.ASSESSMENT_SIGN_OFF)
    if not policy.is_institution(actor, assessment):
        raise PermissionDenied(_("承認できるのは依頼元の医療機関等の経営層・管理者だけです。"))
    if assessment.status != Status.ACCEPTED:
        raise ValidationError(_("承認できるのは受理済みの評価だけです（現在: %(status)s）。")
                              % {"status": assessment.get_status_display()})
    assessment.signed_off_at = timezone.now()
    assessment.signed_off_by = actor.user
    assessment.signed_off_name = _actor_name(actor)
    assessment.signed_off_role = actor.role or ""
    return sync(original, _move(actor, assessment, Status.SIGNED_OFF))


@transaction.atomic
def assessment_reopen(*, actor: Actor, assessment: Assessment, reason: str) -> Assessment:
    """The institution reopens an accepted or signed-off assessment as a draft; the reason is recorded."""
    original, assessment = assessment, _locked(assessment)
    require(actor, Perm.ASSESSMENT_MANAGE)
    if not policy.is_institution(actor, assessment):
        raise PermissionDenied(_("再開できるのは依頼元の医療機関等だけです。"))
    if assessment.status not in policy.REOPENABLE:
        raise ValidationError(_("再開できるのは受理済みまたは承認済みの評価だけです。"))
    if not reason.strip():
        raise ValidationError({"reason": _("再開の理由を入力してください。")})
    assessment.signed_off_at = None
    assessment.signed_off_by = None
    assessment.signed_off_name = ""
    assessment.signed_off_role = ""
    return sync(original, _move(actor, assessment, Status.DRAFT, _("再開: %(reason)s") % {"reason": reason.strip()}))
