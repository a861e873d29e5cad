"""Data generator for the assessment benchmarks: one institution with N vendors over several fiscal years.

For each fiscal year (edition R5, R6, R7 of the MHLW checklist, the newest edition not later than the
year): the institution's 医療機関確認用, one 事業者確認用 per vendor, an MDS/SDS for every other vendor,
all answered realistically (mostly はい with dates, some いいえ with 目標日 and a 2回目, 対象外 on MDS/SDS,
備考 that mention オプション or ご施設, a few blanks), a few evidence files, statuses as a real year goes:
past years signed off, the current year in every state. Bulk inserts (the audit trail gets one entry per
batch, as for other bulk operations), deterministic (seeded random).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

FIRST_YEAR = 2023
REMARKS = ("オプション契約で対応します。", "ご施設のNTPサーバーへのアクセスが必要になります。",
           "運用で対応してください。", "別途お見積りとなります。", "お客様と作業分担の取り決めを行います。",
           "ユーザID毎にアクセス権限を設定できます。", "")


@dataclass
class BenchWorld:
    institution: Any
    vendors: list[Any]
    evaluator: Any
    staff: Any  # Membership (担当者)
    years: list[int]
    by_year: dict[int, list[Any]] = field(default_factory=dict)  # fiscal year → assessments

    @property
    def current_year(self) -> int:
        return self.years[-1]


def _items(edition: Any, form: Any) -> list[Any]:
    from anzen.assessments.exports import _form_descendants
    from anzen.library.models import RequirementNode

    nodes = list(RequirementNode.objects.filter(edition=edition).select_related("answer_schema").order_by("position"))
    return [n for n in _form_descendants(nodes, form.pk if form else None)
            if n.kind == RequirementNode.Kind.ITEM and n.answer_schema_id]


def _answer_fields(rng: random.Random, node: Any, year: int, rounds: bool, remarks: bool) -> dict[str, Any] | None:
    options = [str(o["value"]) for o in node.answer_schema.options]
    roll = rng.random()
    if roll < 0.04:
        return None  # not answered yet
    day = dt.date(year, 6, 1) + dt.timedelta(days=rng.randrange(0, 90))
    if roll < 0.2 and "no" in options:
        fields: dict[str, Any] = {"round1_value": "no", "round1_date": day}
        if rounds:
            fields["target_date"] = day + dt.timedelta(days=rng.randrange(30, 200))
            if rng.random() < 0.5:
                fields.update(round2_value="yes", round2_date=day + dt.timedelta(days=rng.randrange(20, 120)))
    elif roll < 0.28 and len(options) > 2:
        fields = {"round1_value": options[-1], "round1_date": day}
    else:
        fields = {"round1_value": options[0], "round1_date": day}
    if remarks and rng.random() < 0.35:
        fields["remarks"] = rng.choice(REMARKS)
    if rng.random() < 0.15:
        fields["countermeasure"] = "運用管理規程に定め、年1回見直す。"
    return fields


def generate(*, vendors: int = 50, years: int = 3, seed: int = 7) -> BenchWorld:
    from anzen.accounts import services as account_services
    from anzen.accounts.roles import OrgKind, Role
    from anzen.assessments.models import Answer, Assessment, Evidence, Status, SubjectKind
    from anzen.assessments.services_evidence import evidence_path
    from anzen.common import audit
    from anzen.library.loader import load_builtin_library
    from anzen.library.models import Edition

    rng = random.Random(seed)
    load_builtin_library()
    institution = account_services.organisation_create(kind=OrgKind.INSTITUTION, name="ベンチ総合病院",
                                                       code="bench-hospital")
    evaluator = account_services.organisation_create(kind=OrgKind.EVALUATOR, name="ベンチ評価機関", code="bench-eval")
    account_services.relation_create(institution=institution, partner=evaluator)
    vendor_orgs = []
    for index in range(vendors):
        org = account_services.organisation_create(kind=OrgKind.VENDOR, name=f"ベンチ事業者{index + 1:02d}",
                                                   code=f"bench-v{index + 1:02d}")
        account_services.relation_create(institution=institution, partner=org)
        vendor_orgs.append(org)
    user = account_services.user_create(username="bench-staff", email="bench@example.test", display_name="ベンチ担当",
                                        password="Bench-Pass-2026!x")
    staff = account_services.membership_add(user=user, organisation=institution, role=Role.STAFF)
    cyber = sorted(Edition.objects.filter(framework__key="mhlw-cyber-checklist", is_current=True),
                   key=lambda e: e.fiscal_year or 0)
    mds = Edition.objects.get(key="jahis-mds-sds@4.1", is_current=True)
    mds_form = mds.nodes.get(node_id="MDS")
    world = BenchWorld(institution, vendor_orgs, evaluator, staff, [FIRST_YEAR + i for i in range(years)])
    evidence_blob = "機器台帳（ベンチマーク用）\n".encode() * 40
    sha = hashlib.sha256(evidence_blob).hexdigest()
    path = evidence_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(evidence_blob)
    current = world.years[-1]
    for year in world.years:
        edition = [e for e in cyber if (e.fiscal_year or 0) <= year][-1]
        h_form, v_form = edition.nodes.get(node_id="H"), edition.nodes.get(node_id="V")
        states = ([Status.SIGNED_OFF] if year < current else
                  [Status.ACCEPTED, Status.SUBMITTED, Status.IN_REVIEW, Status.RETURNED, Status.DRAFT])
        planned: list[Assessment] = [Assessment(
            institution=institution, respondent=institution, evaluator=evaluator, edition=edition, form=h_form,
            subject_kind=SubjectKind.INSTITUTION, fiscal_year=year,
            status=Status.SIGNED_OFF if year < current else Status.DRAFT)]
        for index, org in enumerate(vendor_orgs):
            planned.append(Assessment(institution=institution, respondent=org, edition=edition, form=v_form,
                                      subject_kind=SubjectKind.VENDOR, fiscal_year=year,
                                      status=states[index % len(states)], due_date=dt.date(year, 9, 30)))
            if index % 2 == 0:
                label = f"製品{index + 1:02d} 2.{year % 10}"
                planned.append(Assessment(institution=institution, respondent=org, edition=mds, form=mds_form,
                                          subject_kind=SubjectKind.SYSTEM, subject_label=label, fiscal_year=year,
                                          status=states[(index + 1) % len(states)]))
        created = Assessment.objects.bulk_create(planned)
        items = {key: _items(*key) for key in {(a.edition, a.form) for a in created}}
        answers: list[Answer] = []
        for assessment in created:
            rounds = assessment.subject_kind != SubjectKind.SYSTEM
            remarks = assessment.subject_kind != SubjectKind.INSTITUTION
            for node in items[(assessment.edition, assessment.form)]:
                fields = _answer_fields(rng, node, year, rounds, remarks)
                if fields is not None:
                    answers.append(Answer(assessment=assessment, node=node, **fields))
        Answer.objects.bulk_create(answers, batch_size=1000)
        chosen = list(Answer.objects.filter(assessment__in=created).order_by("pk")[:: max(1, len(answers) // 40)])
        Evidence.objects.bulk_create([Evidence(answer=a, kind=Evidence.Kind.FILE, title="機器台帳",
                                               original_name="機器台帳.txt", sha256=sha, size=len(evidence_blob),
                                               content_type="text/plain") for a in chosen])
        world.by_year[year] = created
        audit.record(audit.Action.CREATE, object_type_label="benchmark", object_id=str(year),
                     message=f"benchmark data {year}: {len(created)} assessments, {len(answers)} answers")
    return world
