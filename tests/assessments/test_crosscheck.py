"""Vendor cross-check: 事業者確認用 against MDS/SDS through the mappings, blank items, flagged 備考."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from anzen.accounts.roles import Role
from anzen.assessments import crosscheck as cc
from anzen.common.permissions import Actor
from anzen.library.loader import load_builtin_library
from tests.assessments.test_suggest_support import CYBER_R7, MDS, answer, make_assessment

RULES = (cc.FlagRule("オプション", "オプション契約が前提", "option"),
         cc.FlagRule("ご施設", "医療機関側の対応が前提", "shift"))


def vendor_item(node_id: str, value: str, **fields: Any) -> cc.CheckItem:
    return cc.CheckItem(1, "vendor", "事業者確認用", "", CYBER_R7, node_id, fields.pop("ref", "2(4)"), "本文", value,
                        **fields)


def system_item(node_id: str, value: str, **fields: Any) -> cc.CheckItem:
    return cc.CheckItem(2, "system", "MDS/SDS", "AobaPACS 3.2", MDS, node_id, node_id, "本文", value, **fields)


def pair(vendor: str = "V-2-4-server", system: str = "4.2") -> cc.PairLink:
    return cc.PairLink(vendor, MDS, system, "intersect", "inferred", "文言がほぼ同一")


# --- the pure core ------------------------------------------------------------------------------


@pytest.mark.parametrize(("vendor", "system", "disagrees"), [
    ("yes", "no", True), ("yes", "na", True), ("yes", "", True), ("no", "yes", True), ("", "yes", True),
    ("yes", "yes", False), ("no", "no", False), ("no", "na", False), ("", "", False),
    ("yes", "not_applicable", False), ("yes", "applicable", False),
])
def test_one_side_yes_and_the_other_no_na_or_blank_disagree(vendor: str, system: str, disagrees: bool) -> None:
    result = cc.cross_check([vendor_item("V-2-4-server", vendor)], [system_item("4.2", system)], [pair()], [])
    assert bool(result.disagreements) is disagrees
    if disagrees:
        [found] = result.disagreements
        assert (found.relation, found.basis, found.rationale) == ("intersect", "inferred", "文言がほぼ同一")
        assert found.says_yes == ("vendor" if vendor == "yes" else "system")
    assert result.agreements == (1 if vendor and vendor == system else 0)


def test_unmapped_items_are_not_compared() -> None:
    result = cc.cross_check([vendor_item("V-1-1", "yes")], [system_item("4.2", "no")], [pair()], [])
    assert result.disagreements == [] and result.compared == 0


def test_blank_required_items_are_flagged_unless_waived_by_a_non_applicable_parent() -> None:
    items = [
        system_item("12.4", "not_applicable"),
        system_item("12.4.1", "", parent_node_id="12.4"),  # no remote maintenance: nothing to answer
        system_item("4.2", ""),  # blank: flagged
        system_item("4.1-a", "", required=False),  # not required
    ]
    result = cc.cross_check([], items, [], [])
    assert [flag.item.node_id for flag in result.blank_flags] == ["4.2"]
    assert "未記入" in result.blank_flags[0].reason


def test_remarks_with_keywords_are_flagged_with_the_reason() -> None:
    items = [system_item("11", "yes", remarks="非常時アカウントはｵﾌﾟｼｮﾝ契約で対応します。"),
             system_item("5", "yes", remarks="ご施設のNTPサーバーへのアクセスが必要になります。"),
             system_item("6", "yes", remarks="対策ソフトを導入済みです。")]
    result = cc.cross_check([], items, [], RULES)
    flagged = {(flag.item.node_id, flag.keyword, flag.reason) for flag in result.remark_flags}
    assert flagged == {("11", "オプション", "オプション契約が前提"), ("5", "ご施設", "医療機関側の対応が前提")}
    assert "オプション契約" in next(f.excerpt for f in result.remark_flags if f.item.node_id == "11")


def test_the_shipped_keywords_cover_seed_003_and_each_has_a_reason() -> None:
    data = yaml.safe_load(cc.FLAGS_FILE.read_text(encoding="utf-8"))
    assert data["kind"] == "remark_flags"
    rules = cc.flag_rules()
    keywords = {rule.keyword for rule in rules}
    for expected in ("オプション", "別途", "ご施設", "お客様", "対応していません", "運用で", "要相談", "有償"):
        assert expected in keywords
    assert all(rule.reason and rule.category in {"option", "shift", "limit", "consult"} for rule in rules)
    # Real 備考 quoted in seed 003 are caught.
    for remark in ("データベース・ファイルサーバーのHDD冗長化及びバックアップを行います。（オプション）",
                   "パターンファイルの定期更新作業は、お客様と作業分担の取り決めを行わせていただきます。",
                   "セキュリティデバイスによる認証には対応していません。",
                   "ユーザーによるアクセスはできないので、サービスにご相談ください。"):
        assert cc.flag_remark(remark, rules), remark
    assert cc.flag_remark("一定時間操作されない時に、ログアウトする機能が有ります。", rules) == []


# --- from the database, with the shipped mapping sets -------------------------------------------


@pytest.fixture
def vendor_forms(db: None, world: Any) -> dict[str, Any]:
    load_builtin_library()
    form = make_assessment(world.hospital, world.vendor, CYBER_R7, form="V", kind="vendor", year=2025,
                           status="submitted")
    mds = make_assessment(world.hospital, world.vendor, MDS, form="MDS", kind="system", year=2025,
                          label="AobaPACS 3.2", status="submitted")
    day = dt.date(2025, 8, 2)
    for node_id in ("V-1-1", "V-2-3", "V-2-4-server", "V-2-5-server", "V-2-6-server", "V-2-8-network",
                    "V-R7-patch-all"):
        answer(form, node_id, "yes", day)
    answer(form, "V-2-2", "yes", day, remarks="リモート保守回線は病院で用意される回線を利用します。")
    answer(mds, "4.2", "no", day)  # disagrees with V-2-4-server はい
    answer(mds, "4.3", "yes", day)
    answer(mds, "4.3.1", "yes", day)
    answer(mds, "4.3.2", "yes", day)
    answer(mds, "11", "yes", day, remarks="オプション契約で対応")
    answer(mds, "12", "applicable", day)
    answer(mds, "12.4", "applicable", day)
    # 12.4.1 left blank: disagrees with V-2-2 はい and is flagged as blank.
    return {"form": form, "mds": mds}


def test_disagreements_and_flags_with_the_shipped_mappings(vendor_forms: dict[str, Any], world: Any) -> None:
    found = cc.crosscheck_for(Actor.system(), institution_id=world.hospital.pk, vendor_id=world.vendor.pk,
                              fiscal_year=2025)
    assert found.has_both and found.vendor_name == "テスト事業者"
    pairs = {(d.vendor_item.node_id, d.system_item.node_id): d for d in found.result.disagreements}
    assert set(pairs) == {("V-2-4-server", "4.2"), ("V-2-2", "12.4.1")}
    access = pairs[("V-2-4-server", "4.2")]
    assert access.relation == "intersect" and access.basis == "inferred"
    assert access.vendor_item.text == "利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。"
    assert access.system_item.text.startswith("利用者の職種・担当業務別の情報区分ごとのアクセス管理機能")
    assert (access.vendor_item.value_label, access.system_item.value_label) == ("はい", "いいえ")
    assert found.result.agreements == 3  # V-2-6-server ↔ 4.3, 4.3.1, 4.3.2
    remarks = {(f.item.node_id, f.keyword) for f in found.result.remark_flags}
    assert remarks == {("11", "オプション"), ("V-2-2", "病院で用意")}
    blank = {f.item.node_id for f in found.result.blank_flags}
    assert "12.4.1" in blank and "4.2" not in blank
    assert not {"12.1", "12.2"} - blank  # 12 is 該当: its sub-items are due


def test_another_vendor_sees_nothing_and_the_vendor_sees_its_own(vendor_forms: dict[str, Any], world: Any,
                                                                  make_member: Any) -> None:
    stranger = make_member("cc-stranger", world.other_vendor, Role.VENDOR)
    found = cc.crosscheck_for(Actor(stranger.user, stranger), institution_id=world.hospital.pk,
                              vendor_id=world.vendor.pk, fiscal_year=2025)
    assert found.vendor_forms == [] and found.systems == [] and found.result.issue_count == 0
    staff = make_member("cc-staff", world.hospital, Role.STAFF)
    assert cc.crosscheck_for_assessment(Actor(staff.user, staff), vendor_forms["mds"]).result.disagreements


def test_crosscheck_is_for_vendor_forms_and_mds_sds_only(vendor_forms: dict[str, Any], world: Any) -> None:
    own = make_assessment(world.hospital, world.hospital, CYBER_R7, form="H", kind="institution", year=2025)
    assert cc.crosscheck_for_assessment(Actor.system(), own) is None


def test_queries_stay_bounded(vendor_forms: dict[str, Any], world: Any, django_assert_max_num_queries: Any) -> None:
    for n in range(5):
        mds = make_assessment(world.hospital, world.vendor, MDS, form="MDS", kind="system", year=2025, label=f"P{n}")
        for node_id in ("4.2", "4.3", "11", "12.4.1"):
            answer(mds, node_id, "no", remarks="別途お見積り")
    with django_assert_max_num_queries(5):
        found = cc.crosscheck_for(Actor.system(), institution_id=world.hospital.pk, vendor_id=world.vendor.pk,
                                  fiscal_year=2025)
    assert len(found.systems) == 6 and len(found.result.disagreements) > 10
