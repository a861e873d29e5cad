# ruff: noqa: E501  (the item texts of the forms are quoted whole)
"""Fixtures of the assessment tests: a small MHLW-like edition built in code (fast), the parties of an
assessment as actors, and helpers to create and answer assessments.

The mini edition copies the shape of the 令和5年度 checklist (seed 003): form H (医療機関確認用) with the
gating item 医療情報システムの有無, sections, a group, 2(2)/2(3) with the no-vendor-contract condition and
a 参考項目 required from the next fiscal year; form V (事業者確認用) with 備考; and a single-round
MDS/SDS-like edition (はい/いいえ/対象外 + 備考, a 該当/非該当 item and a heading item without answer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from anzen.assessments import services
from anzen.assessments.models import Assessment, SubjectKind
from anzen.common.permissions import Actor
from anzen.library.models import AnswerSchema, Edition, Framework, RequirementNode

FY = 2025
ROUNDS = {"answer_rounds": ["1回目", "目標日", "2回目"]}

SCHEMAS = {
    "yes-no": ("はい／いいえ", False, [("yes", "はい"), ("no", "いいえ")]),
    "yes-no-remarks": ("はい／いいえ（備考あり）", True, [("yes", "はい"), ("no", "いいえ")]),
    "yes-no-na-remarks": ("はい／いいえ／対象外（備考あり）", True, [("yes", "はい"), ("no", "いいえ"), ("na", "対象外")]),
    "applicable-remarks": ("該当／非該当（備考あり）", True, [("applicable", "該当"), ("not_applicable", "非該当")]),
}


def schema(key: str) -> AnswerSchema:
    label, remarks, options = SCHEMAS[key]
    found, _created = AnswerSchema.objects.get_or_create(
        key=key, defaults={"label": label, "remarks": remarks,
                           "options": [{"value": v, "label": lab} for v, lab in options]})
    return found


@dataclass
class MiniEdition:
    edition: Edition
    nodes: dict[str, RequirementNode] = field(default_factory=dict)

    def __getitem__(self, node_id: str) -> RequirementNode:
        return self.nodes[node_id]


# (node_id, parent, kind, ref, text, extra)
CHECKLIST = [
    ("H", None, "form", "", "医療機関確認用", {"audience": "institution", "meta": ROUNDS}),
    ("H-0", "H", "item", "", "医療情報システムを導入、運用している。", {"required_from": 2023, "meta": {"gating": True}}),
    ("H-S1", "H", "section", "1", "体制構築", {}),
    ("H-1-1", "H-S1", "item", "1(1)", "医療情報システム安全管理責任者を設置している。", {"required_from": 2023}),
    ("H-S2", "H", "section", "2", "医療情報システムの管理・運用", {}),
    ("H-G2", "H-S2", "group", "", "医療情報システム全般について、以下を実施している。", {}),
    ("H-2-1", "H-G2", "item", "2(1)", "サーバ、端末PC、ネットワーク機器の台帳管理を行っている。", {"required_from": 2023}),
    ("H-2-2", "H-G2", "item", "2(2)", "リモートメンテナンス(保守)を利用している機器の有無を事業者等に確認した。",
     {"required_from": 2023, "meta": {"conditions": ["no_vendor_contract"],
                                      "condition_note": "*2(2)及び2(3)については、事業者と契約していない場合には、記入不要です。"}}),
    ("H-2-3", "H-G2", "item", "2(3)", "事業者から製造業者/サービス事業者による医療情報セキュリティ開示書(MDS/SDS)を提出してもらう。",
     {"required_from": 2023, "meta": {"conditions": ["no_vendor_contract"]}}),
    ("H-2-9", "H-G2", "item", "2(9)", "バックグラウンドで動作している不要なソフトウェア及びサービスを停止している。",
     {"required_from": 2026}),
    ("V", None, "form", "", "事業者確認用", {"audience": "vendor", "meta": {**ROUNDS, "extra_fields": ["事業者名"]}}),
    ("V-S1", "V", "section", "1", "体制構築", {}),
    ("V-1-1", "V-S1", "item", "1(1)", "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。",
     {"required_from": 2023, "schema": "yes-no-remarks"}),
    ("V-S2", "V", "section", "2", "医療情報システムの管理・運用", {}),
    ("V-2-2", "V-S2", "item", "2(2)", "リモートメンテナンス（保守）している機器の有無を確認した。",
     {"required_from": 2023, "schema": "yes-no-remarks"}),
]

MDS = [
    ("MDS", None, "form", "", "MDS/SDS チェックリスト", {"audience": "vendor"}),
    ("S-6.5", "MDS", "section", "6.5", "技術的安全対策", {}),
    ("4", "S-6.5", "item", "4", "アクセス管理の機能があるか?", {}),
    ("4.1", "4", "item", "4.1", "利用者の認証方式は?", {"schema": None}),
    ("4.2", "4", "item", "4.2", "利用者の職種・担当業務別の情報区分ごとのアクセス管理機能があるか?", {}),
    ("12", "S-6.5", "item", "12", "「リモートメンテナンス機能」を有するか?", {"schema": "applicable-remarks"}),
]


def build_edition(key: str, spec: list[tuple[Any, ...]], *, default_schema: str, fiscal_year: int | None = FY,
                  framework_key: str | None = None) -> MiniEdition:
    framework_key = framework_key or key.split("@")[0]
    framework, _created = Framework.objects.get_or_create(key=framework_key, defaults={"title": framework_key})
    edition = Edition.objects.create(framework=framework, key=key, edition=key.split("@")[1], title=f"{key} 版",
                                     fiscal_year=fiscal_year, content_hash="0" * 64)
    mini = MiniEdition(edition)
    for position, (node_id, parent_id, kind, ref, text, extra) in enumerate(spec):
        parent = mini.nodes.get(parent_id) if parent_id else None
        schema_key = extra.get("schema", default_schema) if kind == "item" else None
        mini.nodes[node_id] = RequirementNode.objects.create(
            edition=edition, node_id=node_id, urn=f"urn:test:{key}:{node_id}", parent=parent, position=position,
            depth=(parent.depth + 1) if parent else 0, kind=kind, ref=ref, text=text,
            audience=extra.get("audience", parent.audience if parent else ""),
            answer_schema=schema(schema_key) if schema_key else None,
            required_from=extra.get("required_from"), meta=extra.get("meta", {}),
        )
    return mini


@pytest.fixture
def checklist(db: None) -> MiniEdition:
    return build_edition("mini-checklist@R5", CHECKLIST, default_schema="yes-no")


@pytest.fixture
def mds(db: None) -> MiniEdition:
    return build_edition("mini-mds@4.1", MDS, default_schema="yes-no-na-remarks", fiscal_year=None)


@dataclass
class Parties:
    world: Any
    memberships: dict[str, Membership]

    def actor(self, name: str) -> Actor:
        membership = self.memberships[name]
        return Actor(membership.user, membership)

    def __getitem__(self, name: str) -> Actor:
        return self.actor(name)


@pytest.fixture
def parties(world: Any, make_member: Callable[..., Membership]) -> Parties:
    spec = {
        "staff": (world.hospital, Role.STAFF), "admin": (world.hospital, Role.ADMIN),
        "manager": (world.hospital, Role.MANAGER), "auditor": (world.hospital, Role.AUDITOR),
        "vendor": (world.vendor, Role.VENDOR), "vendor_admin": (world.vendor, Role.ADMIN),
        "other_vendor": (world.other_vendor, Role.VENDOR), "evaluator": (world.evaluator, Role.EVALUATOR),
        "other_staff": (world.other_hospital, Role.STAFF),
    }
    memberships = {name: make_member(f"p-{name}", org, role, mfa=role in (Role.ADMIN, Role.EVALUATOR))
                   for name, (org, role) in spec.items()}
    return Parties(world, memberships)


def own_checklist(parties: Parties, checklist: MiniEdition, **extra: Any) -> Assessment:
    return services.assessment_create(actor=parties["staff"], edition=checklist.edition,
                                      subject_kind=SubjectKind.INSTITUTION, fiscal_year=FY, **extra)


def vendor_form(parties: Parties, checklist: MiniEdition, **extra: Any) -> Assessment:
    return services.assessment_create(actor=parties["staff"], edition=checklist.edition,
                                      subject_kind=SubjectKind.VENDOR, fiscal_year=FY,
                                      respondent=parties.world.vendor, due_date=dt.date(FY, 9, 30), **extra)


DAY = dt.date(FY, 6, 2)


def answer_all(actor: Actor, assessment: Assessment, value: str = "yes", day: dt.date = DAY) -> None:
    """Answer every answerable item of the form completely."""
    from anzen.assessments import structure

    for node in structure.form_nodes(assessment):
        if structure.is_answerable(node):
            options = [v for v, _label in structure.options_of(node)]
            chosen = value if value in options else options[0]
            fields: dict[str, Any] = {"round1_value": chosen}
            if structure.layout_of(assessment).dated:
                fields["round1_date"] = day
            if chosen == "no":
                fields["target_date"] = day + dt.timedelta(days=90)
            services.answer_set(actor=actor, assessment=assessment, node=node, **fields)
