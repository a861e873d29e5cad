"""Library pages: status, key content, unverified texts never shown as official, bounded queries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from anzen.library import services
from anzen.library.models import Edition, RequirementNode

from .conftest import fixture_yaml
from .excel_helpers import EXPECTED_IDS, workbook_bytes

pytestmark = pytest.mark.django_db
MAX_QUERIES = (
    14  # session, user, membership, session save … plus the page's own few; independent of data size
)
ACCESS_LOG_QUERIES = 5  # first view in a session: savepoint, lock the chain head, append, advance, release


def edition(key: str) -> Edition:
    return Edition.objects.get(key=key, is_current=True)


def node(key: str, node_id: str) -> RequirementNode:
    return RequirementNode.objects.get(edition__key=key, edition__is_current=True, node_id=node_id)


def item_html(html: str, node_id: str) -> str:
    """The <li> of one node in the tree (up to its nested list or the next item)."""
    start = html.index(f'id="n-{node_id}"')
    end = html.find("<li", start)
    return html[start : end if end != -1 else None]


def test_login_required(client: Client, library: dict[str, Any]) -> None:
    response = client.get(reverse("library:framework_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_framework_list(
    staff_client: Client, library: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("library:framework_list"))
    assert response.status_code == 200
    html = response.content.decode()
    for key in (
        "mhlw-cyber-checklist@R5",
        "jahis-mds-sds@4.1",
        "iso-iec-27001@2013",
        "hispro-checksheets@2019",
    ):
        assert reverse("library:edition_detail", args=[edition(key).pk]) in html
    assert "医療機関におけるサイバーセキュリティ対策チェックリスト 令和5年度版" in html
    assert "確認済み" in html and "一部確認" in html
    assert "JAHIS" in html  # licence column
    assert reverse("library:import_upload") not in html  # staff may not import


def test_framework_list_shows_import_to_admin(admin_client: Client, library: dict[str, Any]) -> None:
    assert (
        reverse("library:import_upload")
        in admin_client.get(reverse("library:framework_list")).content.decode()
    )


def test_r5_edition_page_shows_every_item_as_in_the_reference(
    staff_client: Client, library: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    r5 = edition("mhlw-cyber-checklist@R5")
    with django_assert_max_num_queries(MAX_QUERIES + ACCESS_LOG_QUERIES):
        response = staff_client.get(reverse("library:edition_detail", args=[r5.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for item in fixture_yaml("mhlw-cyber-checklist-R5.yaml")["items"]:
        block = item_html(html, item["id"])
        assert f'<span class="node-text">{item["text"]}</span>' in block, item["id"]
        assert "unverified-text" not in block and "未確認" not in block
    assert "参考（令和6年度（2024年度）から必須）" in item_html(html, "H-2-9-pc")
    assert "参考（" not in item_html(html, "H-2-8-network")
    assert "*2(2)及び2(3)については、事業者と契約していない場合には、記入不要です。" in html
    assert "利用条件（著作権）" in html and "厚生労働省の著作物" in html
    assert "data-print" in html


def test_unverified_items_are_never_shown_as_official(staff_client: Client, library: dict[str, Any]) -> None:
    html = staff_client.get(
        reverse("library:edition_detail", args=[edition("mhlw-cyber-checklist@R7").pk])
    ).content.decode()
    usb = item_html(html, "H-R7-usb")
    assert "unverified-text" in usb and "本文未収録" in usb and "未確認" in usb
    assert "USBストレージ等の外部接続機器に対する接続制限" in usb
    draft = item_html(html, "H-R7-pw-reuse")
    assert '<span class="node-text unverified-text">パスワードの使い回しを禁止している。</span>' in draft
    carried = item_html(html, "H-1-1")
    assert "unverified-text" in carried and "一部確認" in carried


def test_copyrighted_edition_shows_its_licence(staff_client: Client, library: dict[str, Any]) -> None:
    html = staff_client.get(
        reverse("library:edition_detail", args=[edition("jahis-mds-sds@4.1").pk])
    ).content.decode()
    assert "再配布の許諾は確認していません" in html
    iso = staff_client.get(
        reverse("library:edition_detail", args=[edition("iso-iec-27001@2013").pk])
    ).content.decode()
    assert "本文は収録していません" in iso and "本文未収録" in item_html(iso, "4.1")


def test_node_detail_with_mappings_both_ways(
    staff_client: Client, library: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    item = node("mhlw-cyber-checklist@R5", "H-2-4-server")
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("library:node_detail", args=[item.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    target = node("jahis-mds-sds@4.1", "4.2")
    assert reverse("library:node_detail", args=[target.pk]) in html
    assert "推定（要確認）" in html and "利用する前に内容を確認してください" in html
    assert "文言がほぼ同一" in html
    assert reverse("common:object_history", args=["library.requirementnode", item.pk]) in html
    assert "令和6年度版" in html  # the same item in other editions
    reverse_html = staff_client.get(reverse("library:node_detail", args=[target.pk])).content.decode()
    assert "←" in reverse_html and reverse("library:node_detail", args=[item.pk]) in reverse_html
    explicit = staff_client.get(
        reverse("library:node_detail", args=[node("mhlw-cyber-checklist@R5", "H-2-3").pk])
    )
    assert "明示（文書に記載）" in explicit.content.decode()


def test_node_detail_shows_notes_as_not_official(staff_client: Client, library: dict[str, Any]) -> None:
    html = staff_client.get(
        reverse("library:node_detail", args=[node("mhlw-cyber-checklist@R5", "H-1-1").pk])
    ).content.decode()
    assert "公式の文言ではありません" in html and "マニュアルの要旨" in html


def test_search_page(
    staff_client: Client, library: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("library:search"), {"q": "（保守）"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>(保守)</mark>" in html
    assert reverse("library:node_detail", args=[node("mhlw-cyber-checklist@R5", "H-2-2").pk]) in html
    many = staff_client.get(reverse("library:search"), {"q": "こと"})  # hundreds of GL items
    assert many.status_code == 200 and 'class="pager"' in many.content.decode()
    escaped = staff_client.get(reverse("library:search"), {"q": "<script>"}).content.decode()
    assert "<script>" not in escaped.split("<main", 1)[1]


def test_search_query_count_does_not_grow_with_results(
    staff_client: Client, library: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("library:search"), {"q": "こと"})
    assert len(re.findall(r"<tr>", response.content.decode())) > 40


def test_diff_page(staff_client: Client, library: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    r5, r6 = edition("mhlw-cyber-checklist@R5"), edition("mhlw-cyber-checklist@R6")
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("library:diff"), {"a": r5.pk, "b": r6.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "H-3-3" in html and "区分（必須／参考）" in html
    assert "変更 8" in html
    default = staff_client.get(reverse("library:diff"), {"b": r6.pk}).content.decode()
    assert "変更 8" in default  # the previous edition is chosen
    other = staff_client.get(reverse("library:diff"), {"a": r5.pk, "b": edition("jahis-mds-sds@4.1").pk})
    assert "同じフレームワークの版を選んでください" in other.content.decode()


def test_import_is_for_administrators(staff_client: Client, library: dict[str, Any]) -> None:
    assert staff_client.get(reverse("library:import_upload")).status_code == 403
    assert staff_client.post(reverse("library:import_cancel")).status_code == 403


def upload(client: Client, data: bytes, name: str = "r8.xlsx") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("library:import_upload"),
        {
            "file": SimpleUploadedFile(name, data),
            "framework": "mhlw-cyber-checklist",
            "edition_code": "R8",
            "title": "令和8年度版（取込）",
            "publisher": "厚生労働省",
            "fiscal_year": "2026",
            "profile": "builtin:mhlw-checklist-institution",
        },
    )


def test_import_wizard_happy_path(admin_client: Client, library: dict[str, Any]) -> None:
    response = upload(admin_client, workbook_bytes())
    assert response.status_code == 302 and response["Location"] == reverse("library:import_configure")
    configure = admin_client.get(reverse("library:import_configure"))
    assert configure.status_code == 200 and "医療機関確認用" in configure.content.decode()
    form = {
        "sheet": "医療機関確認用",
        "text_col": "B",
        "ref_col": "B",
        "section_col": "A",
        "audience": "institution",
        "header_text": "チェック項目",
        "id_prefix": "H",
    }
    preview = admin_client.post(reverse("library:import_configure"), {**form, "action": "preview"})
    html = preview.content.decode()
    for node_id in EXPECTED_IDS:
        assert node_id in html
    assert 'value="confirm"' in html
    assert not Edition.objects.filter(key="mhlw-cyber-checklist@R8").exists()
    stored = list(services.UPLOADS.root.glob("*.xlsx"))
    assert stored
    done = admin_client.post(reverse("library:import_configure"), {**form, "action": "confirm"})
    created = Edition.objects.get(key="mhlw-cyber-checklist@R8")
    assert done.status_code == 302 and done["Location"] == reverse(
        "library:edition_detail", args=[created.pk]
    )
    assert created.verified == "false" and created.origin == "excel"
    assert (
        list(created.nodes.filter(kind="item").order_by("position").values_list("node_id", flat=True))
        == EXPECTED_IDS
    )
    assert not any(path.exists() for path in stored)  # the stored upload is removed after confirming
    page = admin_client.get(done["Location"]).content.decode()
    assert "Excel取込" in page and "未確認" in item_html(page, "H-1-1")


def test_import_wizard_rejects_bad_files(admin_client: Client, library: dict[str, Any]) -> None:
    before = Edition.objects.count()
    response = upload(admin_client, b"PK\x03\x04 truncated zip")
    assert response.status_code == 200
    assert "壊れている" in response.content.decode() or "切れて" in response.content.decode()
    response = upload(admin_client, b"plain text", name="r8.csv")
    assert ".xlsx" in response.content.decode()
    assert Edition.objects.count() == before
    assert admin_client.get(reverse("library:import_configure")).status_code == 302  # nothing to configure


def test_import_preview_errors_block_confirmation(
    admin_client: Client, library: dict[str, Any], tmp_path: Path
) -> None:
    upload(admin_client, workbook_bytes(formula_at="B11"))
    form = {
        "sheet": "医療機関確認用",
        "text_col": "B",
        "ref_col": "B",
        "section_col": "A",
        "audience": "institution",
        "header_text": "チェック項目",
        "id_prefix": "H",
    }
    html = admin_client.post(
        reverse("library:import_configure"), {**form, "action": "preview"}
    ).content.decode()
    assert "数式" in html and 'value="confirm"' not in html
    admin_client.post(reverse("library:import_configure"), {**form, "action": "confirm"})
    assert not Edition.objects.filter(key="mhlw-cyber-checklist@R8").exists()


def test_edition_page_queries_do_not_depend_on_size(staff_client: Client, library: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for key in ("iso-iec-27001@2013", "mhlw-guideline@6.0"):  # 32 and 121 nodes
        with CaptureQueriesContext(connection) as queries:
            assert (
                staff_client.get(reverse("library:edition_detail", args=[edition(key).pk])).status_code == 200
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
