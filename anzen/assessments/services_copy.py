"""Copy last year's assessment: a new draft for the new fiscal year whose old answers are suggestions.

Nothing is copied as an answer: the new assessment starts empty (status 作成中, no review results)
and points at last year's through `copied_from`; `suggestions.suggestions_for` then offers each of
last year's final answers for the same item (matched by node id across editions) for the user to
confirm. Creation goes through `services.assessment_create`, so the same checks and audit apply.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anzen.accounts.roles import Perm
from anzen.assessments.models import Assessment
from anzen.common.permissions import Actor, require, scope
from anzen.library.models import Edition, RequirementNode


def newest_edition(framework_id: int, fiscal_year: int) -> Edition | None:
    """The current edition of the framework for a fiscal year: the newest whose year is not later.

    Editions without a fiscal year (MDS/SDS 4.1, ISO 27001:2013) count as valid for every year; when
    every edition is for a later year the oldest of them is taken.
    """
    editions = list(Edition.objects.filter(framework_id=framework_id, is_current=True))
    fitting = [e for e in editions if e.fiscal_year is None or e.fiscal_year <= fiscal_year]
    if fitting:
        return max(fitting, key=lambda e: (e.fiscal_year or 0, e.key))
    return min(editions, key=lambda e: (e.fiscal_year or 0, e.key), default=None)


def matching_form(form: RequirementNode | None, edition: Edition) -> RequirementNode | None:
    """The node with the same id as `form` in `edition` (医療機関確認用 "H" → "H")."""
    if form is None:
        return None
    found = edition.nodes.filter(node_id=form.node_id).first()
    if found is None:
        raise ValidationError(
            _("%(edition)s には様式「%(form)s」（%(id)s）がありません。")
            % {"edition": edition.title, "form": form.text, "id": form.node_id})
    return found


@transaction.atomic
def assessment_copy_previous(
    *, actor: Actor, previous: Assessment, fiscal_year: int, edition: Edition | None = None
) -> Assessment:
    """A new draft of the same subject for `fiscal_year`, copied from `previous` (its answers become suggestions)."""
    from anzen.assessments import policy, services

    require(actor, Perm.ASSESSMENT_MANAGE)
    if not scope(actor, Assessment.objects.filter(pk=previous.pk), Perm.ASSESSMENT_VIEW).exists():
        raise PermissionDenied
    if not policy.is_institution(actor, previous):  # a signed-off year may be copied: no can_manage here
        raise PermissionDenied(_("評価を複写できるのは依頼元の医療機関等だけです。"))
    if fiscal_year <= previous.fiscal_year:
        raise ValidationError(
            _("複写先の年度（%(to)s年度）は複写元（%(from)s年度）より後の年度にしてください。")
            % {"to": fiscal_year, "from": previous.fiscal_year})
    if edition is None:
        edition = newest_edition(previous.edition.framework_id, fiscal_year)
    if edition is None or edition.framework_id != previous.edition.framework_id:
        raise ValidationError(_("複写元と同じチェックリストの版を選んでください。"))
    duplicate = Assessment.objects.filter(
        institution_id=previous.institution_id, respondent_id=previous.respondent_id,
        subject_kind=previous.subject_kind, subject_label=previous.subject_label, fiscal_year=fiscal_year,
        edition__framework_id=edition.framework_id,
    ).first()
    if duplicate is not None:
        raise ValidationError(
            _("%(year)s年度の同じ対象の評価はすでにあります（%(name)s）。") % {"year": fiscal_year, "name": duplicate})
    created = services.assessment_create(
        actor=actor, edition=edition, subject_kind=previous.subject_kind, fiscal_year=fiscal_year,
        respondent=previous.respondent, form=matching_form(previous.form, edition),
        subject_label=previous.subject_label, evaluator=previous.evaluator, conditions=dict(previous.conditions or {}),
    )
    created.copied_from = previous
    created.save(update_fields=["copied_from", "updated_at"])
    return created
