"""Site-wide pages: the menu marks where the user is, error pages keep the site's header and speak Japanese
(Django's own 403/404/500 pages are bare English), and every ledger screen carries the ledger's menu."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.template import loader
from django.test import Client
from django.urls import reverse

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from tests.conftest import World, login_as


@pytest.fixture
def staff_client(client: Client, member_of_role: Callable[[str], Membership]) -> Client:
    return login_as(client, member_of_role(Role.STAFF))


def _nav(html: str) -> str:
    return re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)


def test_main_menu_marks_the_current_section(staff_client: Client) -> None:
    nav = _nav(staff_client.get(reverse("assets:device_list")).content.decode())
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', nav)
    assert current == [reverse("assets:device_list")]
    nav = _nav(staff_client.get(reverse("vulns:board")).content.decode())
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == [reverse("vulns:board")]
    nav = _nav(staff_client.get(reverse("common:dashboard")).content.decode())
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == [reverse("common:dashboard")]


def test_forbidden_page_is_japanese_with_the_menu(client: Client, world: World,
                                                  make_member: Callable[..., Membership]) -> None:
    login_as(client, make_member("vendor-user", world.vendor, Role.VENDOR))
    response = client.get(reverse("assets:device_list"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "この画面を開く権限がありません" in html and 'class="main-nav"' in html
    assert f'href="{reverse("common:dashboard")}"' in html and "403 Forbidden" not in html


def test_not_found_page_is_japanese_with_the_menu(staff_client: Client) -> None:
    response = staff_client.get(reverse("assets:device_detail", args=[999_999]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "ページが見つかりません" in html and 'class="main-nav"' in html and "Not Found" not in html


def test_server_error_page_renders_without_a_request() -> None:
    html = loader.get_template("500.html").render()
    assert "エラーが発生しました" in html and "app.css" in html


@pytest.mark.parametrize("name", ["scan_list", "scan_upload", "import_upload", "import_profiles", "cpe_suggest"])
def test_scan_and_import_screens_carry_the_ledger_menu(staff_client: Client, name: str) -> None:
    html = staff_client.get(reverse(f"assets:{name}")).content.decode()
    assert 'class="subnav ledger-nav"' in html
    assert f'href="{reverse("assets:system_list")}"' in html


def test_dates_in_the_product_format_per_language() -> None:
    import datetime as dt

    from django.template import Context, Template
    from django.utils import translation
    from django.utils.timezone import make_aware

    template = Template("{% load anzen %}{{ d|wareki_date }} / {{ t|wareki_date }} / {{ y|fiscal_year_label }}")
    context = Context({"d": dt.date(2025, 4, 1), "t": make_aware(dt.datetime(2026, 11, 22, 2, 57)), "y": 2025})
    with translation.override("ja"):
        assert template.render(context) == ("2025年4月1日（令和7年） / 2026年11月22日（令和8年）02:57"
                                            " / 令和7年度（2025年度）")
    with translation.override("en"):  # no 和暦 in the English UI
        assert template.render(context) == "2025-04-01 / 2026-11-22 02:57 / FY2025"
