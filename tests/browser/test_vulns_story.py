"""The vulnerability watch in Chromium, through each party's own account, on the demo data:

1. 担当者 (sakura-staff) opens 脆弱性: the board counts the demo hospital's real CVEs under 緊急/重要/警告,
   KEV first; the findings list and a finding show the confidence (確定) and why it matched;
2. みなとネットワーク保守 (minato-vendor) sees only its own notices, opens one that waits for an answer and
   answers it (affected, countermeasure, schedule, a PDF);
3. the 担当者 sees the answer on the notice and the finding moved to 事業者回答あり.

Screenshots go to test-artifacts/ (see conftest.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from anzen.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def log_in(page: Any, username: str) -> None:
    page.goto("/")
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()


def log_out(page: Any) -> None:
    page.locator("header").get_by_role("button", name="ログアウト").click()
    expect(page.get_by_text("ログアウトしました。")).to_be_visible()


def test_staff_sees_findings_vendor_answers_staff_sees_the_answer(page: Any, demo_data: dict[str, Any],
                                                                  screenshot: Any, tmp_path: Any) -> None:
    from anzen.vulns.models_watch import Finding, Notice

    waiting = (Notice.objects.filter(vendor__code="demo-minato-net", status="sent")
               .order_by("-level", "-score", "cve_id").first())
    assert waiting is not None and demo_data["vulns"]["notices"] >= 2

    # 1. The institution's staff: board, findings, one finding with its reason.
    log_in(page, "sakura-staff")
    page.locator("header").get_by_role("link", name="脆弱性").click()
    expect(page.get_by_role("heading", name="脆弱性", exact=True)).to_be_visible()
    counts = page.locator(".sev-counts")
    for label in ("緊急", "重要", "警告"):
        expect(counts.get_by_text(label, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="CVE 別（KEV を先頭に）")).to_be_visible()
    first_row = page.locator("section", has=page.get_by_role("heading", name="CVE 別（KEV を先頭に）")).locator(
        "tbody tr").first
    expect(first_row.locator(".badge.kev")).to_be_visible()  # KEV first
    screenshot(page, "vulns-1-board")
    page.get_by_role("link", name="検出された脆弱性").first.click()
    expect(page.get_by_role("heading", name="検出された脆弱性")).to_be_visible()
    page.get_by_label("CVE ID", exact=True).fill("CVE-2018-13379")
    page.get_by_role("button", name="絞り込む").click()
    row = page.locator("table.findings tbody tr").first
    expect(row.get_by_text("緊急", exact=True)).to_be_visible()
    expect(row.get_by_text("確定", exact=True)).to_be_visible()
    expect(row.locator(".reason")).to_contain_text("該当")
    screenshot(page, "vulns-2-findings")
    row.get_by_role("link", name="CVE-2018-13379").click()
    expect(page.get_by_text("該当の理由")).to_be_visible()
    expect(page.locator("dd", has_text="fortios")).not_to_have_count(0)
    log_out(page)

    # 2. The vendor: its inbox, the waiting notice, the answer with a file.
    log_in(page, "minato-vendor")
    page.locator("header").get_by_role("link", name="脆弱性の通知").click()
    expect(page.get_by_role("heading", name="脆弱性の通知")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(  # open ones; one is already answered in the demo
        Notice.objects.filter(vendor__code="demo-minato-net", status__in=["sent", "answered", "returned"]).count())
    page.locator(f'a[href$="/vulns/inbox/{waiting.pk}/"]').click()
    expect(page.get_by_text(waiting.cve_id).first).to_be_visible()
    page.get_by_label("該当する", exact=True).check()
    page.get_by_label("対応策").fill("保守作業で修正版ファームウェアへ更新します。")
    page.get_by_label("実施予定日").fill("2026-12-15")
    plan = tmp_path / "update-plan.pdf"
    plan.write_bytes(b"%PDF-1.4\n% update plan\n")
    page.get_by_label("添付ファイル（任意）").set_input_files(str(plan))
    page.get_by_role("button", name="回答を送信").click()
    expect(page.get_by_text("回答を送信しました。")).to_be_visible()
    expect(page.get_by_text("保守作業で修正版ファームウェアへ更新します。")).to_be_visible()
    screenshot(page, "vulns-3-vendor-answer")
    log_out(page)

    # 3. The staff sees the answer; the findings of the notice are now 事業者回答あり.
    log_in(page, "sakura-staff")
    page.goto(f"/vulns/notices/{waiting.pk}/")
    expect(page.get_by_text("保守作業で修正版ファームウェアへ更新します。")).to_be_visible()
    expect(page.get_by_role("link", name="update-plan.pdf")).to_be_visible()
    expect(page.get_by_text("回答あり（確認待ち）")).to_be_visible()
    screenshot(page, "vulns-4-staff-sees-answer")
    assert all(f.status == "answered" for f in Finding.objects.filter(notices=waiting))
    expect(page).to_have_url(re.compile(rf"/vulns/notices/{waiting.pk}/$"))
