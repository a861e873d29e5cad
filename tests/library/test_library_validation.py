"""Validation of library files: every problem names the file, the line and the node id."""

from __future__ import annotations

from pathlib import Path

import pytest

from anzen.library import domain, validation, yamlsafe
from anzen.library.domain import Knowledge

VALID = """\
format: 1
kind: edition
framework:
  id: test-fw
  title: テスト用チェックリスト
edition:
  id: test-fw@E1
  edition: E1
  title: テスト版
  verified: true
  licence: テスト用の本文です。
  sources:
    - title: テスト
  default_answer_schema: yes-no
nodes:
  - id: F
    kind: form
    text: 様式
    audience: institution
  - id: S1
    kind: section
    parent: F
    ref: "1"
    text: 区分
  - id: I-1
    parent: S1
    ref: 1(1)
    text: 項目の本文
    required_from: 2024
"""
KNOWN = Knowledge(schemas={"yes-no"}, nodes={"other@A": {"A-1", "A-2"}})
FILE = "test.yaml"


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(needle)


def check(text: str, knowledge: Knowledge = KNOWN) -> validation.Result:
    return validation.validate_bytes(text.encode("utf-8"), FILE, knowledge)


def only_issue(result: validation.Result) -> domain.Issue:
    assert result.parsed is None
    assert len(result.issues) == 1, [issue.format() for issue in result.issues]
    return result.issues[0]


def test_valid_file_parses_with_inheritance() -> None:
    result = check(VALID)
    assert result.ok, [issue.format() for issue in result.issues]
    parsed = result.parsed
    assert isinstance(parsed, domain.ParsedEdition)
    item = parsed.nodes[-1]
    assert (item.node_id, item.parent_id, item.ref, item.required_from) == ("I-1", "S1", "1(1)", 2024)
    assert item.audience == "institution"  # inherited from the form
    assert item.answer_schema == "yes-no"  # the edition's default, for items only
    assert parsed.nodes[1].answer_schema is None
    assert item.verified == "true"
    assert parsed.depth_of() == {"F": 0, "S1": 1, "I-1": 2}


def test_content_hash_ignores_comments_and_formatting() -> None:
    first = check(VALID).parsed
    second = check("# a comment\n" + VALID.replace("text: 項目の本文", "text: '項目の本文'")).parsed
    changed = check(VALID.replace("項目の本文", "項目の本文（改）")).parsed
    assert first.content_hash == second.content_hash
    assert first.content_hash != changed.content_hash


def test_bad_yaml_syntax_gives_line() -> None:
    text = VALID.replace("    text: 項目の本文", "    text: [項目の本文")
    issue = only_issue(check(text))
    assert issue.file == FILE
    assert "構文" in issue.message
    assert issue.line is not None and issue.line >= line_of(text, "text: [項目の本文")


def test_wrong_types_name_the_line_and_id() -> None:
    text = VALID.replace("required_from: 2024", 'required_from: "2024"').replace("ref: 1(1)", "ref: 1.5")
    result = check(text)
    assert result.parsed is None
    by_message = {issue.message: issue for issue in result.issues}
    year = next(issue for message, issue in by_message.items() if "required_from" in message)
    assert (year.line, year.node_id) == (line_of(text, "required_from"), "I-1")
    ref = next(issue for message, issue in by_message.items() if "'ref'" in message)
    assert (ref.line, ref.node_id) == (line_of(text, "ref: 1.5"), "I-1")
    assert "引用符" in ref.message


def test_boolean_and_verified_values_are_checked() -> None:
    text = VALID.replace(
        "required_from: 2024", "required_from: 2024\n    reference_only: maybe\n    verified: perhaps"
    )
    result = check(text)
    messages = {issue.message: issue for issue in result.issues}
    assert any("reference_only" in m and "true または false" in m for m in messages)
    verified = next(issue for m, issue in messages.items() if "true / false / partial" in m)
    assert (verified.line, verified.node_id) == (line_of(text, "verified: perhaps"), "I-1")


def test_duplicate_ids() -> None:
    text = VALID + "  - id: I-1\n    parent: S1\n    text: 二つ目\n"
    issue = only_issue(check(text))
    assert issue.node_id == "I-1"
    assert issue.line == line_of(text, "- id: I-1", occurrence=2)
    assert f"{line_of(text, '- id: I-1')} 行目" in issue.message


def test_unknown_answer_schema() -> None:
    text = VALID.replace("required_from: 2024", "required_from: 2024\n    answer_schema: maru-batsu")
    issue = only_issue(check(text))
    assert (issue.line, issue.node_id) == (line_of(text, "answer_schema: maru-batsu"), "I-1")
    assert "maru-batsu" in issue.message


def test_unknown_default_answer_schema() -> None:
    issue = only_issue(check(VALID, Knowledge()))
    assert issue.line == line_of(VALID, "default_answer_schema")
    assert "yes-no" in issue.message


def test_missing_text_and_missing_topic() -> None:
    text = VALID + "  - id: I-2\n    parent: S1\n    ref: 1(2)\n    verified: false\n"
    issue = only_issue(check(text))
    assert (issue.line, issue.node_id) == (line_of(text, "- id: I-2"), "I-2")
    assert "topic" in issue.message


def test_topic_without_text_is_accepted() -> None:
    text = VALID + "  - id: I-2\n    parent: S1\n    topic: 本文未確認の項目\n    verified: false\n"
    result = check(text)
    assert result.ok
    assert result.parsed.nodes[-1].text == ""


def test_bad_parent() -> None:
    text = VALID + "  - id: I-2\n    parent: NOPE\n    text: 親がない\n"
    issue = only_issue(check(text))
    assert (issue.line, issue.node_id) == (line_of(text, "parent: NOPE"), "I-2")
    assert "NOPE" in issue.message


def test_parent_defined_later_is_rejected() -> None:
    text = VALID.replace("    parent: S1\n    ref: 1(1)", "    parent: LATER\n    ref: 1(1)") + (
        "  - id: LATER\n    kind: section\n    parent: F\n    text: 後の区分\n"
    )
    issue = only_issue(check(text))
    assert issue.node_id == "I-1"
    assert "前に定義" in issue.message


def test_form_must_be_top_level() -> None:
    text = VALID + "  - id: F2\n    kind: form\n    parent: F\n    text: 入れ子の様式\n"
    issue = only_issue(check(text))
    assert issue.node_id == "F2"
    assert issue.line == line_of(text, "kind: form", occurrence=2)


def test_unknown_keys_and_kind() -> None:
    text = VALID.replace("    required_from: 2024", "    required_form: 2024\n    kind: chapter")
    result = check(text)
    assert {issue.node_id for issue in result.issues} == {"I-1"}
    lines = {issue.line for issue in result.issues}
    assert lines == {line_of(text, "required_form"), line_of(text, "kind: chapter")}


def test_edition_id_must_match_framework_and_edition() -> None:
    text = VALID.replace("id: test-fw@E1", "id: other@E1")
    issue = only_issue(check(text))
    assert issue.line == line_of(text, "id: other@E1")
    assert "test-fw@E1" in issue.message


def test_licence_and_sources_are_required() -> None:
    text = VALID.replace("  licence: テスト用の本文です。\n", "").replace(
        "  sources:\n    - title: テスト\n", ""
    )
    result = check(text)
    messages = " ".join(issue.message for issue in result.issues)
    assert "licence" in messages and "sources" in messages


def test_duplicate_yaml_keys_are_errors() -> None:
    text = VALID.replace("    text: 項目の本文", "    text: 項目の本文\n    text: 上書き")
    issue = only_issue(check(text))
    assert issue.line == line_of(text, "text: 上書き")
    assert "重複" in issue.message


def test_alias_bomb_is_refused() -> None:
    bomb = (
        'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: [*b,*b,*b,*b,*b,*b]\n"
    )
    issue = only_issue(check(bomb))
    assert issue.line == 1
    assert "アンカー" in issue.message or "エイリアス" in issue.message


def test_alias_without_anchor_in_the_same_node_is_refused() -> None:
    text = VALID + "  - id: I-2\n    parent: S1\n    text: 別名\n    meta: *missing\n"
    issue = only_issue(check(text))
    assert issue.line == line_of(text, "meta: *missing")


def test_python_tags_are_refused() -> None:
    text = VALID.replace("    text: 項目の本文", "    text: !!python/object/apply:os.system ['true']")
    issue = only_issue(check(text))
    assert issue.line == line_of(text, "python/object")


def test_oversize_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * (yamlsafe.MAX_FILE_BYTES + 10) + b"\n")
    result = validation.validate_file(path, KNOWN)
    issue = only_issue(result)
    assert issue.file == str(path)
    assert "大きすぎます" in issue.message


def test_deep_nesting_is_refused() -> None:
    issue = only_issue(check("a: " + "[" * 200 + "]" * 200 + "\n"))
    assert "入れ子" in issue.message


def test_issue_format() -> None:
    issue = domain.Issue("lib/x.yaml", 12, "H-2-4", "本文がありません")
    assert issue.format() == "lib/x.yaml:12: [H-2-4] 本文がありません"


MAPPING = """\
format: 1
kind: mapping_set
mapping_set:
  id: test-map
  title: テスト対応表
  source_edition: test-fw@E1
  target_edition: other@A
mappings:
  - source: I-1
    target: A-1
    relation: equal
    basis: explicit
    rationale: 同じ
"""


def test_mapping_set_refers_to_known_nodes() -> None:
    known = Knowledge(schemas={"yes-no"}, nodes={"test-fw@E1": {"I-1"}, "other@A": {"A-1"}})
    result = check(MAPPING, known)
    assert result.ok, [issue.format() for issue in result.issues]
    assert result.parsed.mappings[0].relation == "equal"


def test_unknown_relation_and_basis() -> None:
    known = Knowledge(nodes={"test-fw@E1": {"I-1"}, "other@A": {"A-1"}})
    text = MAPPING.replace("relation: equal", "relation: equals").replace("basis: explicit", "basis: guess")
    result = check(text, known)
    relation = next(issue for issue in result.issues if "equals" in issue.message)
    assert (relation.line, relation.node_id, relation.file) == (
        line_of(text, "relation: equals"),
        "I-1",
        FILE,
    )
    assert "not_related" in relation.message
    basis = next(issue for issue in result.issues if "guess" in issue.message)
    assert basis.line == line_of(text, "basis: guess")


def test_mapping_target_must_exist_in_the_edition() -> None:
    known = Knowledge(nodes={"test-fw@E1": {"I-1"}, "other@A": {"A-2"}})
    issue = only_issue(check(MAPPING, known))
    assert (issue.line, issue.node_id) == (line_of(MAPPING, "target: A-1"), "A-1")
    assert "other@A" in issue.message


def test_mapping_to_unknown_edition() -> None:
    known = Knowledge(nodes={"test-fw@E1": {"I-1"}})
    issue = only_issue(check(MAPPING, known))
    assert issue.line == line_of(MAPPING, "target_edition")
    assert "other@A" in issue.message


def test_duplicate_mapping_pairs() -> None:
    known = Knowledge(nodes={"test-fw@E1": {"I-1"}, "other@A": {"A-1"}})
    text = MAPPING + "  - source: I-1\n    target: A-1\n    relation: subset\n    basis: inferred\n"
    issue = only_issue(check(text, known))
    assert issue.line == line_of(text, "- source: I-1", occurrence=2)


@pytest.mark.parametrize("value", ["yes", "True"])
def test_answer_schema_option_values_must_be_strings(value: str) -> None:
    text = (
        f"format: 1\nkind: answer_schemas\nanswer_schemas:\n  - id: yn\n    label: はい／いいえ\n"
        f"    options:\n      - {{value: {value}, label: はい}}\n"
    )
    issue = only_issue(check(text))
    assert (issue.line, issue.node_id) == (line_of(text, "value:"), "yn")
    assert "引用符" in issue.message


def test_unknown_document_kind() -> None:
    issue = only_issue(check("format: 1\nkind: recipe\n"))
    assert issue.line == 2
