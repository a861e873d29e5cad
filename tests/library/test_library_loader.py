"""Loading: idempotent, versioned, one audit entry per loaded edition or mapping set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from anzen.common.models import AuditEntry
from anzen.library import loader
from anzen.library.models import AnswerSchema, Edition, Framework, Mapping, MappingSet, RequirementNode

from .test_library_validation import VALID

MAPPING = """\
format: 1
kind: mapping_set
mapping_set:
  id: test-to-r5
  title: テスト → R5
  source_edition: test-fw@E1
  target_edition: mhlw-cyber-checklist@R5
mappings:
  - source: I-1
    target: H-1-1
    relation: intersect
    basis: inferred
    rationale: テスト
"""


def counts() -> dict[str, int]:
    return {
        "editions": Edition.objects.count(),
        "nodes": RequirementNode.objects.count(),
        "sets": MappingSet.objects.count(),
        "mappings": Mapping.objects.count(),
        "schemas": AnswerSchema.objects.count(),
        "frameworks": Framework.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


@pytest.mark.django_db
def test_builtin_library_loads_every_file_once() -> None:
    result = loader.load_builtin_library()
    editions = {entry["key"]: entry for entry in result["editions"]}
    assert set(editions) == {
        "mhlw-cyber-checklist@R5",
        "mhlw-cyber-checklist@R6",
        "mhlw-cyber-checklist@R7",
        "jahis-mds-sds@4.1",
        "mhlw-guideline@6.0",
        "mhlw-guideline@4.x",
        "hispro-checksheets@2019",
        "iso-iec-27001@2013",
    }
    assert editions["mhlw-cyber-checklist@R5"]["count"] == 27
    assert editions["mhlw-cyber-checklist@R7"]["count"] == 30
    assert editions["jahis-mds-sds@4.1"]["count"] == 37
    assert result["loaded"] == len(result["editions"]) + len(result["mapping_sets"]) == 15
    assert result["unchanged"] == 0
    assert AnswerSchema.objects.count() == 4
    # one IMPORT entry per edition and mapping set; no entry per node
    imports = AuditEntry.objects.filter(action="import", message="library_load")
    assert imports.count() == 15
    assert not AuditEntry.objects.filter(object_type="library.requirementnode").exists()
    r5 = Edition.objects.get(key="mhlw-cyber-checklist@R5")
    entry = imports.get(object_type="library.edition", object_id=str(r5.pk))
    assert entry.after["items"] == 27 and entry.after["version"] == 1
    assert entry.after["content_hash"] == r5.content_hash


@pytest.mark.django_db
def test_second_load_adds_no_rows_and_no_audit_entries() -> None:
    loader.load_builtin_library()
    before = counts()
    result = loader.load_builtin_library()
    assert result["loaded"] == 0
    assert result["unchanged"] == 15
    assert counts() == before


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_changed_file_creates_version_two_and_keeps_old_nodes(
    library: dict[str, Any], tmp_path: Path
) -> None:
    first = write(tmp_path, "e1.yaml", VALID)
    (outcome,) = loader.load_paths([first])
    assert (outcome.status, outcome.version) == ("loaded", 1)
    old_edition = Edition.objects.get(key="test-fw@E1")
    old_node = old_edition.nodes.get(node_id="I-1")
    mapping_path = write(tmp_path, "map.yaml", MAPPING)
    (mapped,) = loader.load_paths([mapping_path])
    assert mapped.version == 1
    old_mapping = Mapping.objects.get(mapping_set__key="test-to-r5")
    assert old_mapping.source_id == old_node.pk

    audit_before = AuditEntry.objects.count()
    changed = write(tmp_path, "e1.yaml", VALID.replace("項目の本文", "項目の本文（改訂）"))
    (outcome,) = loader.load_paths([changed])
    assert (outcome.status, outcome.version, outcome.superseded_version) == ("loaded", 2, 1)
    new_edition = Edition.objects.get(key="test-fw@E1", is_current=True)
    assert new_edition.version == 2 and new_edition.pk != old_edition.pk
    old_edition.refresh_from_db()
    assert old_edition.is_current is False
    # the old node is untouched and still referenced by the old mapping
    old_node.refresh_from_db()
    assert old_node.text == "項目の本文" and old_node.edition_id == old_edition.pk
    old_mapping.refresh_from_db()
    assert old_mapping.source_id == old_node.pk
    assert new_edition.nodes.get(node_id="I-1").text == "項目の本文（改訂）"
    entry = AuditEntry.objects.filter(action="import").latest("seq")
    assert entry.before["version"] == 1 and entry.after["version"] == 2
    assert AuditEntry.objects.count() == audit_before + 1

    # the mapping set re-binds to the new edition version on the next load
    (rebound,) = loader.load_paths([mapping_path])
    assert (rebound.status, rebound.version) == ("loaded", 2)
    current = MappingSet.objects.get(key="test-to-r5", is_current=True)
    assert current.mappings.get().source.edition_id == new_edition.pk
    assert MappingSet.objects.get(key="test-to-r5", version=1).mappings.get().source_id == old_node.pk
    (again,) = loader.load_paths([mapping_path])
    assert again.status == "unchanged"


@pytest.mark.django_db
def test_invalid_batch_writes_nothing(library: dict[str, Any], tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", VALID)
    bad = write(
        tmp_path, "bad.yaml", VALID.replace("test-fw", "test-bad").replace("parent: S1", "parent: NOPE")
    )
    before = counts()
    with pytest.raises(loader.LibraryLoadError) as raised:
        loader.load_paths([good, bad])
    assert counts() == before
    assert raised.value.issues[0].file == str(bad)
    assert raised.value.issues[0].node_id == "I-1"


@pytest.mark.django_db
def test_answer_schema_options_cannot_change(library: dict[str, Any], tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schemas.yaml",
        (
            "format: 1\nkind: answer_schemas\nanswer_schemas:\n  - id: yes-no\n    label: はい／いいえ\n"
            "    options:\n      - {value: 'yes', label: はい}\n      - {value: 'maybe', label: たぶん}\n"
        ),
    )
    with pytest.raises(loader.LibraryLoadError) as raised:
        loader.load_paths([path])
    assert raised.value.issues[0].node_id == "yes-no"
    assert AnswerSchema.objects.get(key="yes-no").options[1]["value"] == "no"


@pytest.mark.django_db
def test_nodes_are_written_in_tree_order_with_search_text(library: dict[str, Any]) -> None:
    r5 = Edition.objects.get(key="mhlw-cyber-checklist@R5")
    node = r5.nodes.get(node_id="H-2-4-server")
    assert node.parent.node_id == "H-G2-server"
    assert node.parent.parent.node_id == "H-S2"
    assert node.depth == 4  # form › 令和5年度中 › 2 › サーバ group › item
    assert node.urn == "urn:anzen:mhlw-cyber-checklist:H-2-4-server"
    assert node.answer_schema.key == "yes-no"
    assert node.audience == "institution"
    assert "サーバについて" in node.search_text  # group heading included
    positions = list(r5.nodes.order_by("position").values_list("node_id", flat=True))
    assert positions.index("H-S2") < positions.index("H-G2-server") < positions.index("H-2-4-server")
    vendor = r5.nodes.get(node_id="V-2-3")
    assert (vendor.audience, vendor.answer_schema.key) == ("vendor", "yes-no-remarks")


@pytest.mark.django_db
def test_setup_keeps_a_newer_version_loaded_by_an_administrator(
    library: dict[str, Any], tmp_path: Path
) -> None:
    shipped = (loader.BUILTIN_DIR / "mhlw-cyber-checklist" / "R5.yaml").read_text(encoding="utf-8")
    changed = write(
        tmp_path,
        "R5.yaml",
        shipped.replace("アクセスログを管理している。", "アクセスログを管理している。（院内版）", 1),
    )
    (outcome,) = loader.load_paths([changed])
    assert (outcome.status, outcome.version) == ("loaded", 2)
    before = counts()
    result = loader.load_builtin_library()
    assert result["loaded"] == 0 and counts() == before
    current = Edition.objects.get(key="mhlw-cyber-checklist@R5", is_current=True)
    assert current.version == 2
    # an explicit load of the shipped file (a revert) does make a new version
    (reverted,) = loader.load_paths([loader.BUILTIN_DIR / "mhlw-cyber-checklist" / "R5.yaml"])
    assert (reverted.status, reverted.version) == ("loaded", 3)
