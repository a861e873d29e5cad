"""The cross-check screens: one vendor's forms, and every vendor of a year (bounded queries)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from anzen.accounts import services as account_services
from anzen.accounts.roles import OrgKind, Role
from anzen.assessments import crosscheck
from anzen.common.permissions import Actor
from anzen.library.loader import load_builtin_library
from tests.assessments.test_suggest_support import CYBER_R7, MDS, answer, make_assessment
from tests.conftest import login_as


@pytest.fixture
def received(db: None, world: Any) -> dict[str, Any]:
    load_builtin_library()
    form = make_assessment(world.hospital, world.vendor, CYBER_R7, form="V", kind="vendor", year=2025,
                           status="submitted")
    mds = make_assessment(world.hospital, world.vendor, MDS, form="MDS", kind="system", year=2025,
                          label="AobaPACS 3.2", status="submitted")
    answer(form, "V-2-4-server", "yes")
    answer(mds, "4.2", "no", remarks="権限設定はオプション契約で対応します。")
    return {"form": form, "mds": mds}


def add_vendor(world: Any, n: int, *, form: bool = True, mds: bool = True) -> None:
    vendor = account_services.organisation_create(kind=OrgKind.VENDOR, name=f"事業者{n}", code=f"cc-v{n}")
    account_services.relation_create(institution=world.hospital, partner=vendor)
    if form:
        answer(make_assessment(world.hospital, vendor, CYBER_R7, form="V", kind="vendor", year=2025),
               "V-2-4-server", "yes")
    if mds:
        answer(make_assessment(world.hospital, vendor, MDS, form="MDS", kind="system", year=2025, label=f"製品{n}"),
               "4.2", "na", remarks="別途ご相談ください")


def test_the_vendor_page(client: Client, received: dict[str, Any], world: Any, make_member: Any) -> None:
    login_as(client, make_member("ccv-staff", world.hospital, Role.STAFF))
    html = client.get(reverse("assessments:crosscheck", args=[received["mds"].pk])).content.decode()
    for text in ("MDS/SDSとの整合", "MDS/SDS との不一致 1件", "利用者の職種・担当業務別の情報区分毎のアクセス利用権限",
                 "一部重複", "推定（要確認）", "契約で確認する備考 1件", "<mark>オプション</mark>",
                 "オプション契約が前提の対策です", "未記入の項目"):
        assert text in html, text


def test_the_page_of_an_institution_checklist_says_it_does_not_apply(client: Client, received: dict[str, Any],
                                                                     world: Any, make_member: Any) -> None:
    own = make_assessment(world.hospital, world.hospital, CYBER_R7, form="H", kind="institution", year=2025)
    login_as(client, make_member("ccv-staff2", world.hospital, Role.STAFF))
    html = client.get(reverse("assessments:crosscheck", args=[own.pk])).content.decode()
    assert "事業者確認用と MDS/SDS の評価で行います" in html


def test_the_index_has_one_row_per_vendor_in_bounded_queries(client: Client, received: dict[str, Any], world: Any,
                                                             make_member: Any,
                                                             django_assert_max_num_queries: Any) -> None:
    login_as(client, make_member("ccv-admin", world.hospital, Role.ADMIN, mfa=True))
    url = reverse("assessments:crosscheck_index")
    client.get(url, {"fiscal_year": 2025})
    with django_assert_max_num_queries(20) as few:
        client.get(url, {"fiscal_year": 2025})
    for n in range(6):
        add_vendor(world, n, form=n != 4, mds=n != 5)  # one vendor without a form, one without an MDS/SDS
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url, {"fiscal_year": 2025}).content.decode()
    assert html.count("<tr>") == 1 + 7  # header + seven vendors
    assert "事業者5" in html and "事業者4" in html and "テスト事業者" in html


def test_a_vendor_sees_only_its_own_row(client: Client, received: dict[str, Any], world: Any,
                                        make_member: Any) -> None:
    add_vendor(world, 1)
    login_as(client, make_member("ccv-vendor", world.vendor, Role.VENDOR))
    html = client.get(reverse("assessments:crosscheck_index"), {"fiscal_year": 2025}).content.decode()
    assert "テスト事業者" in html and "事業者1" not in html
    assert client.get(reverse("assessments:crosscheck", args=[received["mds"].pk])).status_code == 200
    stranger = make_member("ccv-stranger", world.other_vendor, Role.VENDOR)
    login_as(client, stranger)
    assert client.get(reverse("assessments:crosscheck", args=[received["mds"].pk])).status_code == 404
    assert crosscheck.crosschecks(Actor(stranger.user, stranger), fiscal_year=2025) == []


def test_several_vendors_are_checked_separately(received: dict[str, Any], world: Any) -> None:
    add_vendor(world, 1)
    checks = {c.vendor_name: c for c in crosscheck.crosschecks(Actor.system(), fiscal_year=2025)}
    assert set(checks) == {"テスト事業者", "事業者1"}
    assert [f.keyword for f in checks["事業者1"].result.remark_flags] == ["別途", "ご相談"]
    assert [d.system_item.value for d in checks["事業者1"].result.disagreements] == ["na"]
    assert checks["テスト事業者"].result.remark_flags[0].item.subject_label == "AobaPACS 3.2"

