"""Who may do what with one assessment: object-level rules on top of the role permissions.

- The respondent organisation answers (the institution for its own checklist, the vendor for its
  事業者確認用 or MDS/SDS), while the assessment is a draft or was returned.
- The reviewer is the evaluator organisation when one is set; otherwise, when the respondent is not
  the institution (vendor forms, MDS/SDS), the institution reviews. An institution's own checklist
  without an evaluator has no reviewer: submitting it accepts it (self-assessment).
- The institution manages (conditions, due date, evaluator, reopening) and signs off (経営層, 管理者).
- Signed-off assessments are read-only for everyone until the institution reopens them.

Each `can_*` answers for the current state too, so screens show exactly the buttons that work.
"""

from __future__ import annotations

from typing import Any

from anzen.accounts.roles import Perm
from anzen.assessments.models import Assessment, Status
from anzen.common.permissions import Actor

ANSWERABLE = frozenset({Status.DRAFT, Status.RETURNED})
REVIEWABLE = frozenset({Status.SUBMITTED, Status.IN_REVIEW})
REOPENABLE = frozenset({Status.ACCEPTED, Status.SIGNED_OFF})


def reviewer_id(assessment: Assessment) -> int | None:
    if assessment.evaluator_id:
        return assessment.evaluator_id
    if assessment.respondent_id != assessment.institution_id:
        return assessment.institution_id
    return None


def has_reviewer(assessment: Assessment) -> bool:
    return reviewer_id(assessment) is not None


def _member_of(actor: Actor | None, org_id: int | None) -> bool:
    if actor is None:
        return False
    return actor.is_system or (org_id is not None and actor.org_id == org_id)


def is_respondent(actor: Actor | None, assessment: Assessment) -> bool:
    return _member_of(actor, assessment.respondent_id)


def is_reviewer(actor: Actor | None, assessment: Assessment) -> bool:
    return _member_of(actor, reviewer_id(assessment))


def is_institution(actor: Actor | None, assessment: Assessment) -> bool:
    return _member_of(actor, assessment.institution_id)


def can_answer(actor: Actor | None, assessment: Assessment) -> bool:
    """Change answers and evidence: the respondent, while the assessment is a draft or returned."""
    return (actor is not None and actor.can(Perm.ASSESSMENT_ANSWER) and is_respondent(actor, assessment)
            and assessment.status in ANSWERABLE)


def can_submit(actor: Actor | None, assessment: Assessment) -> bool:
    return can_answer(actor, assessment)


def can_review(actor: Actor | None, assessment: Assessment) -> bool:
    """Review items, return, accept: the reviewer, while the assessment is submitted or in review."""
    return (actor is not None and actor.can(Perm.ASSESSMENT_REVIEW) and has_reviewer(assessment)
            and is_reviewer(actor, assessment) and assessment.status in REVIEWABLE)


def can_comment(actor: Actor | None, assessment: Assessment) -> bool:
    """Write in an item's thread: the reviewer or the respondent, while the assessment is not signed off."""
    if actor is None or assessment.is_read_only:
        return False
    return ((actor.can(Perm.ASSESSMENT_REVIEW) and has_reviewer(assessment) and is_reviewer(actor, assessment))
            or (actor.can(Perm.ASSESSMENT_ANSWER) and is_respondent(actor, assessment)))


def can_manage(actor: Actor | None, assessment: Assessment) -> bool:
    """Conditions, due date, evaluator: the institution, unless signed off (reopen first)."""
    return (actor is not None and actor.can(Perm.ASSESSMENT_MANAGE) and is_institution(actor, assessment)
            and not assessment.is_read_only)


def can_reopen(actor: Actor | None, assessment: Assessment) -> bool:
    """Reopen an accepted or signed-off assessment (with a reason) for changes: the institution."""
    return (actor is not None and actor.can(Perm.ASSESSMENT_MANAGE) and is_institution(actor, assessment)
            and assessment.status in REOPENABLE)


def can_sign_off(actor: Actor | None, assessment: Assessment) -> bool:
    """Sign off an accepted assessment: the institution's 経営層 or 管理者."""
    return (actor is not None and actor.can(Perm.ASSESSMENT_SIGN_OFF) and is_institution(actor, assessment)
            and assessment.status == Status.ACCEPTED)


def actions(actor: Actor | None, assessment: Assessment) -> dict[str, Any]:
    """The workflow buttons to show, by name."""
    review = can_review(actor, assessment)
    return {
        "answer": can_answer(actor, assessment),
        "submit": can_submit(actor, assessment),
        "start_review": review and assessment.status == Status.SUBMITTED,
        "review": review,
        "return": review,
        "accept": review,
        "comment": can_comment(actor, assessment),
        "manage": can_manage(actor, assessment),
        "sign_off": can_sign_off(actor, assessment),
        "reopen": can_reopen(actor, assessment),
    }
