"""Differences between editions: R5 → R6 (参考項目 promoted), R6 → R7 (additions, merges, wording)."""

from __future__ import annotations

from typing import Any

import pytest

from anzen.common.permissions import Actor
from anzen.library import diff, selectors


def snap(node_id: str, **values: Any) -> diff.NodeSnapshot:
    base = {
        "kind": "item",
        "ref": "1(1)",
        "text": "本文",
        "text_partial": "",
        "topic": "",
        "required_from": 2023,
        "reference_only": False,
        "verified": "true",
        "audience": "institution",
        "status": "required",
    }
    base.update(values)
    return diff.NodeSnapshot(node_id, **base)


def test_pure_diff_by_id() -> None:
    before = [snap("A"), snap("B"), snap("C"), snap("S", kind="section")]
    after = [
        snap("A"),
        snap("B", text="本文（改）"),
        snap("D"),
        snap("S", kind="section", text="見出し（改）"),
    ]
    result = diff.diff_nodes(before, after)
    assert [n.node_id for n in result.added] == ["D"]
    assert [n.node_id for n in result.removed] == ["C"]
    assert [(c.node_id, c.fields) for c in result.changed] == [("B", ["text"])]
    assert result.unchanged == 1
    everything = diff.diff_nodes(before, after, kinds=None)
    assert {c.node_id for c in everything.changed} == {"B", "S"}


def test_status_is_relative_to_the_fiscal_year() -> None:
    assert diff.status_of(2024, False, 2023) == "reference"
    assert diff.status_of(2024, False, 2024) == "required"
    assert diff.status_of(None, True, 2030) == "reference"
    assert diff.status_of(None, False, None) == "required"


def test_verification_only_changes_are_separated() -> None:
    result = diff.diff_nodes([snap("A")], [snap("A", verified="partial")])
    assert result.verification_only and not result.content_changed
    assert result.as_dict()["changed"][0]["content_changed"] is False


@pytest.mark.django_db
def test_r5_to_r6(library: dict[str, Any]) -> None:
    actor = Actor.system()
    r5 = selectors.edition_by_ref(actor, "mhlw-cyber-checklist@R5")
    r6 = selectors.edition_by_ref(actor, "mhlw-cyber-checklist@R6")
    result = selectors.edition_diff(r5, r6)
    assert result.added == [] and result.removed == []
    changed = {c.node_id: c for c in result.changed}
    promoted = {
        "H-2-7-server",
        "H-2-9-server",
        "H-2-4-pc",
        "H-2-5-pc",
        "H-2-7-pc",
        "H-2-9-pc",
        "H-3-2",
        "H-3-3",
    }
    assert set(changed) == promoted
    for node_id in promoted:
        status = next(c for c in changed[node_id].changes if c.field == "status")
        assert (status.before, status.after) == ("reference", "required")
    assert changed["H-3-3"].fields == ["text", "status"]
    assert result.unchanged == 19


@pytest.mark.django_db
def test_r6_to_r7(library: dict[str, Any]) -> None:
    actor = Actor.system()
    r6 = selectors.edition_by_ref(actor, "mhlw-cyber-checklist@R6")
    r7 = selectors.edition_by_ref(actor, "mhlw-cyber-checklist@R7#1")
    result = selectors.edition_diff(r6, r7)
    assert {n.node_id for n in result.added} == {
        "H-R7-patch-all",
        "H-R7-pw-length",
        "H-R7-pw-reuse",
        "H-R7-usb",
        "H-R7-2fa",
        "H-R7-rules",
        "V-R7-patch-all",
    }
    assert {n.node_id for n in result.removed} == {
        "H-2-7-server",
        "H-2-7-pc",
        "H-2-7-network",
        "V-2-7-network",
    }
    content = {c.node_id: c.fields for c in result.content_changed}
    assert content == {"H-2-2": ["text", "verified"]}
    verification = {c.node_id for c in result.verification_only}
    assert {"H-2-4-server", "H-2-4-pc", "H-1-1", "V-1-1"} <= verification
    assert len(result.changed) == 23 and result.unchanged == 0


def test_edition_refs() -> None:
    from anzen.library.domain import split_edition_ref

    assert split_edition_ref("mhlw-cyber-checklist@R5") == ("mhlw-cyber-checklist@R5", None)
    assert split_edition_ref("mhlw-cyber-checklist@R5#2") == ("mhlw-cyber-checklist@R5", 2)
    with pytest.raises(ValueError):
        split_edition_ref("x@R5#two")
