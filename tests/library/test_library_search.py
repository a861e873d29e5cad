"""Full-text search: width- and case-insensitive, Japanese substrings, AND of terms, safe highlighting."""

from __future__ import annotations

from typing import Any

import pytest

from anzen.common.permissions import Actor
from anzen.library import selectors, text


def test_normalise_folds_width_and_case() -> None:
    assert text.normalise("（保守）ＭＤＳ／ＳＤＳ　端末ＰＣ") == "(保守)mds/sds 端末pc"
    assert text.normalise("  a\u3000 b\n") == "a b"


def test_search_terms_split_and_dedupe() -> None:
    assert text.search_terms("（保守）  リモート （保守）") == ["(保守)", "リモート"]
    assert text.search_terms("   ") == []
    assert len(text.search_terms(" ".join(f"t{i}" for i in range(20)))) == text.MAX_TERMS


def test_highlight_marks_original_characters_and_escapes() -> None:
    html = text.highlight("リモートメンテナンス（保守）<b>", ["(保守)"])
    assert html == "リモートメンテナンス<mark>（保守）</mark>&lt;b&gt;"
    assert text.highlight("<script>", []) == "&lt;script&gt;"
    assert text.highlight("ＭＤＳとMDS", ["mds"]) == "<mark>ＭＤＳ</mark>と<mark>MDS</mark>"


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["（保守）", "(保守)", "リモートメンテナンス（保守）"])
def test_search_is_width_insensitive(library: dict[str, Any], query: str) -> None:
    found = set(selectors.search(Actor.system(), query).values_list("edition__key", "node_id"))
    assert ("mhlw-cyber-checklist@R5", "H-2-2") in found  # 「リモートメンテナンス(保守)を利用している…」
    assert ("mhlw-cyber-checklist@R5", "V-2-2") in found


@pytest.mark.django_db
def test_search_full_width_letters_and_case(library: dict[str, Any]) -> None:
    found = set(selectors.search(Actor.system(), "ｍｄｓ／ｓｄｓ").values_list("node_id", flat=True))
    assert {"H-2-3", "V-2-3"} <= found


@pytest.mark.django_db
def test_search_japanese_substring_and_terms(library: dict[str, Any]) -> None:
    actor = Actor.system()
    logs = set(selectors.search(actor, "アクセスログ").values_list("edition__key", "node_id"))
    assert ("mhlw-cyber-checklist@R5", "H-2-6-server") in logs
    assert ("jahis-mds-sds@4.1", "4.3.1") in logs
    both = set(selectors.search(actor, "アクセスログ 利用者").values_list("edition__key", "node_id"))
    assert both < logs  # AND: every result also matches the first term alone
    assert ("jahis-mds-sds@4.1", "4.3.1") in both  # アクセスログを利用者が確認する機能…
    assert ("mhlw-cyber-checklist@R5", "H-2-6-server") not in both
    assert not selectors.search(actor, "存在しない語句のはず").exists()
    assert not selectors.search(actor, "  ").exists()


@pytest.mark.django_db
def test_search_only_current_editions_and_by_edition(library: dict[str, Any]) -> None:
    actor = Actor.system()
    r5 = selectors.edition_by_ref(actor, "mhlw-cyber-checklist@R5")
    only_r5 = selectors.search(actor, "アクセスログ", edition_id=r5.pk)
    assert set(only_r5.values_list("edition_id", flat=True)) == {r5.pk}
    assert only_r5.count() == 2  # 医療機関確認用 2(6) and 事業者確認用 2(6)


@pytest.mark.django_db
def test_search_sees_section_titles(library: dict[str, Any]) -> None:
    found = set(
        selectors.search(Actor.system(), "体制構築").filter(kind="item").values_list("node_id", flat=True)
    )
    assert {"H-1-1", "V-1-1"} <= found
