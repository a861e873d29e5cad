"""The main flow in Chromium: 管理者 logs in with TOTP, browses the audit log and the library, logs out.

Screenshots land in test-artifacts/ (see conftest.py); the Japanese-rendering check asks Chromium
which platform font actually drew the glyphs.
"""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from anzen.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "sakura-admin"


def log_in_with_password(page: Any, username: str = ADMIN) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def enrol_totp(page: Any, authenticator: Any) -> list[str]:
    """First login of an admin: the enrolment page, then the recovery codes; returns the codes."""
    expect(page).to_have_url(re.compile(r"/accounts/mfa/enrol/$"))
    expect(page.get_by_role("heading", name="二要素認証の登録")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    authenticator.secret = page.get_by_test_id("totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", authenticator.secret), authenticator.secret
    page.get_by_label("確認コード").fill(authenticator.code())
    page.get_by_role("button", name="登録する").click()
    expect(page).to_have_url(re.compile(r"/accounts/mfa/recovery-codes/$"))
    expect(page.get_by_text("二要素認証を登録しました。")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    return codes


def log_out(page: Any) -> None:
    page.locator("header").get_by_role("button", name="ログアウト").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_text("ログアウトしました。")).to_be_visible()


def used_fonts(page: Any, selector: str) -> dict[str, int]:
    """The platform fonts Chromium used to draw the element's text, with glyph counts (CDP)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})
    node = cdp.send("DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}


def test_admin_totp_login_audit_log_and_logout(page: Any, demo_data: dict[str, Any], authenticator: Any,
                                               screenshot: Any) -> None:
    assert any(login["username"] == ADMIN for login in demo_data["logins"])

    # First login: password, then the compulsory TOTP enrolment, then the recovery codes.
    log_in_with_password(page)
    codes = enrol_totp(page, authenticator)
    assert len(codes) == 10
    assert all(re.fullmatch(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}", code) for code in codes), codes
    screenshot(page, "02-recovery-codes")
    page.get_by_role("link", name="ダッシュボードへ").click()

    # The dashboard, in Japanese, drawn with a Japanese font.
    expect(page).to_have_url(re.compile(r"/$"))
    heading = page.get_by_role("heading", name="ダッシュボード", level=1)
    expect(heading).to_be_visible()
    expect(page.get_by_text("さくら台総合病院（デモ）").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    shot = screenshot(page, "03-dashboard")
    assert shot.stat().st_size > 20_000, "the dashboard screenshot is suspiciously small"
    fonts = used_fonts(page, "main h1")
    assert fonts, "Chromium reports no font for the heading"
    assert any("IPAex" in name for name in fonts), f"heading drawn with {fonts}, not with IPAex"
    installed = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True,
                               check=True).stdout
    assert "IPAexGothic" in installed, f"fc-list :lang=ja lists no IPAex font:\n{installed}"
    assert page.console_errors == [], "errors in the browser:\n" + "\n".join(page.console_errors)

    # The audit log shows this session's login and the TOTP enrolment.
    page.locator("header").get_by_role("link", name="監査ログ").click()
    expect(page).to_have_url(re.compile(r"/audit/$"))
    expect(page.get_by_role("heading", name="監査ログ", level=1)).to_be_visible()
    rows = page.locator("table.audit tbody tr")
    expect(rows.filter(has_text="二要素認証").filter(has_text="totp_enrolled")).to_have_count(1)
    expect(rows.filter(has=page.locator("td", has_text=re.compile(r"^ログイン$"))).filter(has_text=ADMIN)
           .first).to_be_visible()
    screenshot(page, "04-audit-log")

    # Search the audit log for the enrolment.
    page.get_by_label("キーワード").fill("totp_enrolled")
    page.get_by_role("button", name="検索").click()
    expect(page).to_have_url(re.compile(r"/audit/\?.*q=totp_enrolled"))
    expect(rows).to_have_count(1)

    log_out(page)

    # Second login: password, then a TOTP code; a wrong code first is refused in Japanese.
    log_in_with_password(page)
    expect(page).to_have_url(re.compile(r"/accounts/login/verify/$"))
    expect(page.get_by_role("heading", name="二要素認証")).to_be_visible()
    page.get_by_label("確認コード").fill(authenticator.wrong_code())
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_text("確認コードが正しくありません。")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/verify/$"))
    screenshot(page, "05-wrong-totp")
    # django-otp throttles a device after a failure (OTP_TOTP_THROTTLE_FACTOR, 1 s after the first):
    # a correct code sent at once would be refused too.
    time.sleep(1.5)
    page.get_by_label("確認コード").fill(authenticator.code())
    page.get_by_role("button", name="確認").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="ダッシュボード", level=1)).to_be_visible()

    # The failed attempt is in the audit trail too.
    page.goto("/audit/?action=login_failed")
    expect(page.locator("table.audit tbody tr").filter(has_text=ADMIN)).to_have_count(1)
    log_out(page)

    # After logging out, pages need a login again.
    page.goto("/audit/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_admin_browses_and_searches_the_r5_checklist(page: Any, demo_data: dict[str, Any], authenticator: Any,
                                                     screenshot: Any) -> None:
    """Open the 令和5年度 checklist, read item 2(1), search for 台帳 and find that item."""
    item_text = "サーバ、端末PC、ネットワーク機器の台帳管理を行っている。"
    log_in_with_password(page)
    enrol_totp(page, authenticator)

    page.locator("header").get_by_role("link", name="チェックリスト・ガイドライン").click()
    expect(page).to_have_url(re.compile(r"/library/$"))
    expect(page.get_by_role("heading", name="チェックリスト・ガイドライン", level=1)).to_be_visible()
    r5_title = re.compile(r"サイバーセキュリティ対策チェックリスト\s*令和5年度")
    page.get_by_role("link", name=r5_title).first.click()

    expect(page).to_have_url(re.compile(r"/library/editions/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("令和5年度")
    item = page.locator("ul.tree li.node-item").filter(
        has=page.locator(".ref", has_text=re.compile(r"^2\(1\)$"))).filter(has_text=item_text)
    expect(item).to_have_count(1)
    item.scroll_into_view_if_needed()
    expect(item).to_be_visible()
    screenshot(page, "06-checklist-r5")
    assert page.console_errors == [], "errors in the browser:\n" + "\n".join(page.console_errors)

    # Search within this edition (the edition page links to the search with the edition chosen).
    page.get_by_role("link", name="この版を検索").click()
    expect(page).to_have_url(re.compile(r"/library/search/\?edition=\d+"))
    page.get_by_role("searchbox").fill("台帳")
    page.get_by_role("button", name="検索").click()
    expect(page).to_have_url(re.compile(r"q=%E5%8F%B0%E5%B8%B3"))
    results = page.locator("main table tbody tr")
    ref_2_1 = page.locator("td.ref", has_text=re.compile(r"^2\(1\)$"))
    hit = results.filter(has=ref_2_1).filter(has_text=item_text)
    expect(hit).to_have_count(1)
    expect(hit.locator("mark", has_text="台帳")).to_be_visible()
    expect(results.filter(has_text="令和5年度").first).to_be_visible()
    screenshot(page, "07-checklist-search")

    # The hit leads back to the item in the checklist.
    hit.get_by_role("link", name=re.compile(r"令和5年度")).click()
    expect(page).to_have_url(re.compile(r"/library/editions/\d+/#n-"))
    expect(page.get_by_text(item_text)).to_be_visible()
