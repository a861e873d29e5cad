"""Writes of the assessments app: creating assessments, answering items, evidence, the workflow.

Every function takes keyword-only arguments, runs in one transaction, checks who acts (`policy`),
validates against the form's rules (`rules`) and raises `ValidationError` with Japanese messages
naming the item, or `PermissionDenied` when the actor is not a party to the step.
Evidence lives in `services_evidence`, the workflow in `services_workflow`; both are re-exported here
so that callers have one module to import.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation, OrganisationRelation
from anzen.accounts.roles import OrgKind, Perm
from anzen.assessments import policy, rules, structure
from anzen.assessments.models import Answer, Assessment, Status, SubjectKind
from anzen.assessments.services_evidence import evidence_add_file, evidence_add_link, evidence_remove
from anzen.assessments.services_workflow import (
    assessment_accept,
    assessment_reopen,
    assessment_return,
    assessment_sign_off,
    assessment_start_review,
    assessment_submit,
    item_comment,
    item_review,
    record_event,
    sync,
)
from anzen.common.permissions import Actor, require
from anzen.library.models import Edition, RequirementNode

__all__ = [
    "answer_set", "assessment_accept", "assessment_create", "assessment_reopen", "assessment_return",
    "assessment_sign_off", "assessment_start_review", "assessment_submit", "assessment_update",
    "evidence_add_file", "evidence_add_link", "evidence_remove", "item_comment", "item_review",
]

_UNSET: Any = object()


# --- creating and changing assessments -------------------------------------------------------------


def _partner(institution: Organisation, org: Organisation | None, kind: str, label: str) -> Organisation:
    if org is None:
        raise ValidationError(_("%(label)sを選んでください。") % {"label": label})
    if org.kind != kind:
        raise ValidationError(_("%(name)s は%(label)sではありません。") % {"name": org.name, "label": label})
    linked = OrganisationRelation.objects.filter(institution=institution, partner=org, is_active=True).exists()
    if not linked:
        raise ValidationError(_("%(name)s は取引関係にある%(label)sではありません。")
                              % {"name": org.name, "label": label})
    return org


def _default_form(edition: Edition, subject_kind: str) -> RequirementNode | None:
    forms = list(edition.nodes.filter(kind=RequirementNode.Kind.FORM).order_by("position"))
    wanted = {SubjectKind.INSTITUTION: RequirementNode.Audience.INSTITUTION,
              SubjectKind.VENDOR: RequirementNode.Audience.VENDOR,
              SubjectKind.SYSTEM: RequirementNode.Audience.VENDOR}.get(subject_kind)
    matching = [form for form in forms if form.audience == wanted] if wanted else []
    if len(matching) == 1:
        return matching[0]
    if len(forms) == 1:
        return forms[0]
    if forms:
        raise ValidationError(_("この版には複数の様式があります。回答する様式を選んでください。"))
    return None


def _clean_conditions(conditions: dict[str, Any] | None, form_nodes: list[RequirementNode]) -> dict[str, bool]:
    if not conditions:
        return {}
    known = set(structure.known_conditions(form_nodes)) | set(rules.KNOWN_CONDITIONS)
    unknown = sorted(set(conditions) - known)
    if unknown:
        raise ValidationError(_("不明な前提条件です: %(keys)s") % {"keys": "、".join(unknown)})
    return {key: bool(value) for key, value in conditions.items() if value}


@transaction.atomic
def assessment_create(*, actor: Actor, edition: Edition, subject_kind: str, fiscal_year: int,
                      respondent: Organisation | None = None, form: RequirementNode | None = None,
                      subject_label: str = "", due_date: dt.date | None = None,
                      evaluator: Organisation | None = None, conditions: dict[str, Any] | None = None,
                      institution: Organisation | None = None) -> Assessment:
    """A new draft. `institution` is the actor's own organisation (only the system actor names one)."""
    require(actor, Perm.ASSESSMENT_MANAGE)
    if not actor.is_system:
        institution = actor.organisation
    if institution is None or institution.kind != OrgKind.INSTITUTION:
        raise PermissionDenied(_("評価を作成できるのは医療機関等だけです。"))
    if subject_kind not in SubjectKind.values:
        raise ValidationError(_("評価の種類が正しくありません。"))
    if not 2000 <= int(fiscal_year) <= 2100:
        raise ValidationError(_("年度が正しくありません。"))
    if subject_kind == SubjectKind.INSTITUTION:
        if respondent not in (None, institution):
            raise ValidationError(_("医療機関確認用は医療機関等自身が回答します。"))
        respondent = institution
    elif subject_kind in (SubjectKind.VENDOR, SubjectKind.SYSTEM):
        respondent = _partner(institution, respondent, OrgKind.VENDOR, _("事業者"))
    else:  # checksheet: answered by the institution itself or by a vendor (e.g. a service it uses)
        respondent = respondent or institution
        if respondent != institution:
            respondent = _partner(institution, respondent, OrgKind.VENDOR, _("事業者"))
    if subject_kind == SubjectKind.SYSTEM and not subject_label.strip():
        raise ValidationError(_("MDS/SDS の対象（製品・サービス名とバージョン）を入力してください。"))
    if evaluator is not None:
        evaluator = _partner(institution, evaluator, OrgKind.EVALUATOR, _("評価機関"))
    if form is None:
        form = _default_form(edition, subject_kind)
    elif form.edition_id != edition.pk or form.kind != RequirementNode.Kind.FORM:
        raise ValidationError(_("様式がこの版のものではありません。"))
    assessment = Assessment(institution=institution, respondent=respondent, evaluator=evaluator, edition=edition,
                            form=form, subject_kind=subject_kind, subject_label=subject_label.strip(),
                            fiscal_year=int(fiscal_year), due_date=due_date)
    assessment.conditions = _clean_conditions(conditions, structure.form_nodes(assessment))
    duplicate = Assessment.objects.filter(
        institution=institution, respondent=respondent, fiscal_year=assessment.fiscal_year,
        subject_kind=subject_kind, subject_label=assessment.subject_label, edition__framework_id=edition.framework_id,
    )
    duplicate = duplicate.filter(form__node_id=form.node_id) if form else duplicate.filter(form__isnull=True)
    if duplicate.exists():
        raise ValidationError(_("同じ年度・対象・様式の評価がすでにあります。"))
    assessment.save()
    record_event(actor, assessment, "", Status.DRAFT, _("作成"))
    return assessment


@transaction.atomic
def assessment_update(*, actor: Actor, assessment: Assessment, conditions: Any = _UNSET, due_date: Any = _UNSET,
                      evaluator: Any = _UNSET, subject_label: Any = _UNSET) -> Assessment:
    """Change the institution's settings of an assessment (only the given ones)."""
    original, assessment = assessment, Assessment.objects.select_for_update().get(pk=assessment.pk)
    require(actor, Perm.ASSESSMENT_MANAGE)
    if not policy.is_institution(actor, assessment):
        raise PermissionDenied(_("この評価の設定を変更できるのは依頼元の医療機関等だけです。"))
    if assessment.is_read_only:
        raise ValidationError(_("承認済みの評価は変更できません（再開してから変更してください）。"))
    if conditions is not _UNSET:
        assessment.conditions = _clean_conditions(conditions, structure.form_nodes(assessment))
    if due_date is not _UNSET:
        assessment.due_date = due_date
    if evaluator is not _UNSET:
        if evaluator is not None:
            evaluator = _partner(assessment.institution, evaluator, OrgKind.EVALUATOR, _("評価機関"))
        if assessment.status not in (Status.DRAFT, Status.RETURNED) and evaluator != assessment.evaluator:
            raise ValidationError(_("評価機関は作成中または差戻し中にだけ変更できます。"))
        assessment.evaluator = evaluator
    if subject_label is not _UNSET:
        if assessment.subject_kind == SubjectKind.SYSTEM and not str(subject_label).strip():
            raise ValidationError(_("MDS/SDS の対象（製品・サービス名とバージョン）を入力してください。"))
        assessment.subject_label = str(subject_label).strip()
    assessment.save()
    return sync(original, assessment)


# --- answering ------------------------------------------------------------------------------------------


def _as_date(name: str, value: Any, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise ValidationError({name: _("%(item)s: 日付の形式が正しくありません（%(value)s）。")
                                     % {"item": label, "value": value}}) from error


def _as_value(value: Any, options: list[tuple[str, str]]) -> str:
    text = "" if value is None else str(value).strip()
    for option_value, option_label in options:
        if text == option_label:
            return option_value
    return text


def _check_can_answer(actor: Actor, assessment: Assessment) -> None:
    require(actor, Perm.ASSESSMENT_ANSWER)
    if not policy.is_respondent(actor, assessment):
        raise PermissionDenied(_("この評価に回答できるのは回答者の組織だけです。"))
    if assessment.is_read_only:
        raise ValidationError(_("承認済みの評価は変更できません。"))
    if assessment.status not in policy.ANSWERABLE:
        raise ValidationError(_("提出後は回答を変更できません（差戻しまたは再開を待ってください）。"))


def check_node(assessment: Assessment, node: RequirementNode) -> None:
    if node.edition_id != assessment.edition_id or not structure.is_answerable(node):
        raise ValidationError(_("この評価で回答する項目ではありません。"))
    if assessment.form_id and not any(n.pk == node.pk for n in structure.form_nodes(assessment)):
        raise ValidationError(_("この評価の様式に含まれない項目です。"))


@transaction.atomic
def answer_set(*, actor: Actor, assessment: Assessment, node: RequirementNode,
               provenance: dict[str, Any] | None = None, **fields: Any) -> Answer:
    """Set the given answer fields of one item (the others stay as they are) and return the answer.

    Values are option values of the item's answer schema (its labels, e.g. はい, are accepted too);
    dates are dates or ISO strings. Values the form cannot hold are refused; incomplete answers
    (a value without its date, いいえ without 目標日 …) are saved and reported by `rules`.
    A change resets the item's review result; a change of value without `provenance` clears it.
    """
    unknown = set(fields) - set(structure.ANSWER_FIELDS)
    if unknown:
        raise TypeError(f"answer_set: unknown fields {sorted(unknown)}")
    assessment = Assessment.objects.select_for_update(of=("self",)).select_related("form").get(pk=assessment.pk)
    _check_can_answer(actor, assessment)
    check_node(assessment, node)
    label = structure.item_label(node)
    options = structure.options_of(node)
    answer = Answer.objects.filter(assessment=assessment, node=node).first()
    created = answer is None
    if answer is None:
        answer = Answer(assessment=assessment, node=node)
    before = {name: getattr(answer, name) for name in structure.ANSWER_FIELDS}
    for name, value in fields.items():
        if name in ("round1_value", "round2_value"):
            setattr(answer, name, _as_value(value, options))
        elif name in ("remarks", "countermeasure"):
            setattr(answer, name, "" if value is None else str(value).strip())
        else:
            setattr(answer, name, _as_date(name, value, label))
    layout = structure.item_layout(structure.layout_of(assessment), node)
    values = structure.values_of(answer)
    errors = rules.value_errors(values, [value for value, _label in options], layout)
    errors += [p for p in rules.answer_problems(values, layout=layout) if p.severity == rules.Severity.ERROR]
    if errors:
        raise ValidationError({problem.fields[0]: f"{label}: {problem.message}" for problem in reversed(errors)})
    after = {name: getattr(answer, name) for name in structure.ANSWER_FIELDS}
    changed = before != after
    if provenance is not None:
        answer.provenance = provenance
    elif changed and any(before[name] != after[name] for name in ("round1_value", "round2_value")):
        answer.provenance = {}
    if changed:
        answer.review_status = Answer.Review.PENDING
        answer.answered_by = actor.user
    if created or changed or provenance is not None:
        answer.save()
    return answer
