"""The shipped library files carry the reference texts exactly (R5 checklist, MDS/SDS Ver.4.1)."""

from __future__ import annotations

from typing import Any

import pytest

from anzen.library.models import Edition, RequirementNode, Verified

from .conftest import fixture_yaml

pytestmark = pytest.mark.django_db


def r5_expectations() -> list[dict[str, Any]]:
    rows = []
    for item in fixture_yaml("mhlw-cyber-checklist-R5.yaml")["items"]:
        section_number = item["section"].split()[0]
        rows.append(
            {
                "id": item["id"],
                "text": item["text"],
                "ref": f"{section_number}{item['number']}" if item["number"] else "",
                "required_from": 2023 if item["r5_status"] == "required" else 2024,
                "audience": "institution" if item["form"] == "hospital" else "vendor",
                "group": item["group"],
            }
        )
    return rows


def test_r5_fixture_covers_both_forms_and_the_reference_items() -> None:
    rows = r5_expectations()
    assert len(rows) == 27
    assert sum(1 for r in rows if r["audience"] == "institution") == 19
    assert sum(1 for r in rows if r["audience"] == "vendor") == 8
    assert sum(1 for r in rows if r["required_from"] == 2024) == 8  # 参考項目(令和6年度中)


def test_every_r5_item_equals_the_reference(library: dict[str, Any]) -> None:
    edition = Edition.objects.get(key="mhlw-cyber-checklist@R5", is_current=True)
    assert edition.fiscal_year == 2023
    assert edition.verified == Verified.TRUE
    nodes = {
        n.node_id: n for n in edition.nodes.filter(kind=RequirementNode.Kind.ITEM).select_related("parent")
    }
    expected = r5_expectations()
    assert set(nodes) == {row["id"] for row in expected}
    for row in expected:
        node = nodes[row["id"]]
        assert node.text == row["text"], row["id"]
        assert node.ref == row["ref"], row["id"]
        assert node.required_from == row["required_from"], row["id"]
        assert node.reference_only is False
        assert node.audience == row["audience"], row["id"]
        assert node.verified == Verified.TRUE and node.is_official_text, row["id"]
        if row["group"]:
            assert node.parent.kind == RequirementNode.Kind.GROUP
            assert node.parent.text == row["group"], row["id"]
        assert node.is_required_in(2023) is (row["required_from"] == 2023)
        assert node.is_required_in(2024) is True


def test_r5_conditions_and_gating(library: dict[str, Any]) -> None:
    edition = Edition.objects.get(key="mhlw-cyber-checklist@R5")
    nodes = {n.node_id: n for n in edition.nodes.all()}
    assert nodes["H-0"].meta["gating"] is True
    for node_id in ("H-2-2", "H-2-3"):
        assert nodes[node_id].meta["conditions"] == ["no_vendor_contract"]
        assert (
            nodes[node_id].meta["condition_note"]
            == "*2(2)及び2(3)については、事業者と契約していない場合には、記入不要です。"
        )
    assert "conditions" not in nodes["H-2-1"].meta
    reference_block = nodes["H-B2"]
    assert reference_block.text == "参考項目(令和6年度中)"
    assert nodes["H-3-3"].parent.parent_id == reference_block.pk


def test_r6_and_r7_status(library: dict[str, Any]) -> None:
    r6 = {n.node_id: n for n in Edition.objects.get(key="mhlw-cyber-checklist@R6").nodes.all()}
    assert r6["H-3-3"].text == "サイバー攻撃を想定した事業継続計画(BCP)を策定している。"
    assert all(r6[i].is_required_in(2024) for i in ("H-2-7-server", "H-2-4-pc", "H-3-2"))
    r7 = {n.node_id: n for n in Edition.objects.get(key="mhlw-cyber-checklist@R7").nodes.all()}
    for node_id in ("H-R7-usb", "H-R7-2fa", "H-R7-rules", "V-R7-patch-all"):
        node = r7[node_id]
        assert node.text == "" and node.topic and node.verified == Verified.FALSE
        assert not node.is_official_text
    assert r7["H-R7-usb"].text_partial == "USB ストレージ等の外部記録媒…"
    assert r7["H-R7-pw-reuse"].text == "パスワードの使い回しを禁止している。"
    assert not r7["H-R7-pw-reuse"].is_official_text  # draft wording
    assert r7["H-1-1"].verified == Verified.PARTIAL and not r7["H-1-1"].is_official_text


def mds_expectations() -> list[dict[str, Any]]:
    schemas = {"standard": "yes-no-na-remarks", "applicability": "applicable-remarks", None: None}
    rows = []
    for item in fixture_yaml("jahis-mds-sds-4.1.yaml")["items"]:
        rows.append(
            {
                "id": item["id"],
                "text": item["text"],
                "schema": schemas[item["answers"]],
                "parent": item["parent"] or item["section"],
            }
        )
        for sub in item["sub_items"]:
            rows.append(
                {
                    "id": sub["id"],
                    "text": sub["text"],
                    "schema": schemas[sub["answers"]],
                    "parent": item["id"],
                }
            )
    return rows


def test_every_mds_item_equals_the_reference(library: dict[str, Any]) -> None:
    edition = Edition.objects.get(key="jahis-mds-sds@4.1")
    nodes = {
        n.node_id: n
        for n in edition.nodes.filter(kind=RequirementNode.Kind.ITEM).select_related(
            "parent", "answer_schema"
        )
    }
    expected = mds_expectations()
    assert len(expected) == 37
    assert set(nodes) == {row["id"] for row in expected}
    for row in expected:
        node = nodes[row["id"]]
        assert node.text == row["text"], row["id"]
        assert (node.answer_schema.key if node.answer_schema else None) == row["schema"], row["id"]
        assert node.parent.node_id == row["parent"], row["id"]
        assert node.is_official_text, row["id"]
    assert "JAHIS" in edition.licence and "再配布" in edition.licence
