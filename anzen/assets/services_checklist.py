"""The ledger as dated evidence of the MHLW checklist (医療機関確認用): the device-ledger export is
attached to item 2(1) (サーバ、端末PC、ネットワーク機器の台帳管理) and the remote-maintenance list to
item 2(2) (リモートメンテナンスを利用している機器の有無) through the assessments' evidence service,
with the day of the export as the evidence's effective date and in the file name.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.roles import OrgKind, Perm
from anzen.assessments import policy
from anzen.assessments import services as assessment_services
from anzen.assessments.models import Answer, Assessment, Evidence, SubjectKind
from anzen.assets import exports
from anzen.common.permissions import Actor, require, scope
from anzen.common.wareki import fiscal_year_of
from anzen.library.models import RequirementNode

LEDGER_NODE = "H-2-1"  # 2(1) サーバ、端末PC、ネットワーク機器の台帳管理を行っている。
REMOTE_NODE = "H-2-2"  # 2(2) リモートメンテナンス(保守)を利用している機器の有無を事業者等に確認した。
INSTITUTION_FORM = "H"


def checklist_candidates(actor: Actor, *, fiscal_year: int | None = None) -> QuerySet[Assessment]:
    """The actor's institution's own checklists (医療機関確認用) of the fiscal year, newest edition first."""
    year = fiscal_year or fiscal_year_of(timezone.localdate())
    return (scope(actor, Assessment.objects.select_related("edition", "form"), Perm.ASSESSMENT_VIEW)
            .filter(institution_id=actor.org_id, respondent_id=actor.org_id, subject_kind=SubjectKind.INSTITUTION,
                    fiscal_year=year, form__node_id=INSTITUTION_FORM)
            .order_by("-edition__version", "-pk"))


def answer_for(actor: Actor, assessment: Assessment, node_id: str) -> Answer:
    """The assessment's answer to item `node_id`, created (unanswered) when there is none yet."""
    node = RequirementNode.objects.filter(edition_id=assessment.edition_id, node_id=node_id).first()
    if node is None:
        raise ValidationError(_("この評価の様式に項目 %(node)s がありません。") % {"node": node_id})
    answer = Answer.objects.filter(assessment=assessment, node=node).select_related("node").first()
    return answer or assessment_services.answer_set(actor=actor, assessment=assessment, node=node)


@transaction.atomic
def attach_ledger_to_checklist(*, actor: Actor, assessment: Assessment, fmt: str = "xlsx",
                               day: dt.date | None = None) -> list[Evidence]:
    """Attach today's ledger export to 2(1) and the remote-maintenance list to 2(2) as dated evidence.

    Refused with a clear message when the assessment is not the institution's own 医療機関確認用 or
    cannot be answered now (submitted, accepted, signed off)."""
    require(actor, Perm.ASSET_VIEW)
    require(actor, Perm.ASSESSMENT_ANSWER)
    institution = actor.organisation
    if not actor.is_system and (institution is None or institution.kind != OrgKind.INSTITUTION):
        raise PermissionDenied(_("台帳を添付できるのは医療機関等だけです。"))
    if actor.is_system:
        institution = assessment.institution
    if (assessment.institution_id != institution.pk or assessment.subject_kind != SubjectKind.INSTITUTION
            or assessment.form is None or assessment.form.node_id != INSTITUTION_FORM):
        raise ValidationError(_("台帳を添付できるのは自院の医療機関確認用チェックリストだけです。"))
    if assessment.status not in policy.ANSWERABLE:
        message = _("「%(title)s」は%(status)sのため添付できません（作成中か差戻しの評価だけに添付できます）。")
        raise ValidationError(message % {"title": assessment.edition.title,
                                         "status": assessment.get_status_display()})
    day = day or timezone.localdate()
    attached = []
    ledger_title, remote_title = _("機器台帳（%(date)s 時点）"), _("リモート保守の機器一覧（%(date)s 時点）")
    for node_id, export, title in (
        (LEDGER_NODE, exports.ledger_export(actor, institution, fmt, day=day), ledger_title),
        (REMOTE_NODE, exports.remote_export(actor, institution, fmt, day=day), remote_title),
    ):
        answer = answer_for(actor, assessment, node_id)
        upload = SimpleUploadedFile(export.filename, export.content, content_type=export.content_type)
        evidence = assessment_services.evidence_add_file(
            actor=actor, answer=answer, uploaded_file=upload, title=title % {"date": day.strftime("%Y/%m/%d")},
            effective_date=day)
        exports.record_export(institution, export)
        attached.append(evidence)
    return attached
