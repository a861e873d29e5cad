"""The checklist year in Chromium, through each party's own account.

The demo hospital's current fiscal year starts over (the demo's own current-year forms are
removed; last year's signed-off checklist stays): the year's checklist is copied from last year and
most items are already answered through the services, as after a few days of work; in the browser

1. 担当者 (sakura-staff) confirms a suggestion from last year, answers two items (one いいえ with
   目標日) and submits;
2. ひかり電子カルテ (hikari-vendor) fills its 事業者確認用 and submits; あおば画像システム
   (aoba-vendor) fills the MDS/SDS of its PACS — with a 備考 that the cross-check flags — and submits;
3. the evaluator (eval-evaluator, TOTP with a known secret) returns item 3(1) with a comment;
4. the 担当者 reads the comment, fixes the item, attaches evidence and resubmits;
5. the evaluator accepts; the 経営層 (sakura-manager) signs off;
6. the 担当者 builds the inspection pack and downloads its PDF and zip.

Every page is asserted in Japanese; screenshots go to test-artifacts/ (see conftest.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from anzen.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser

TOTP_KEY = "3132333435363738393031323334353637383930"  # hex; the evaluator's authenticator app holds it


@pytest.fixture
def story(demo_data: dict[str, Any]) -> dict[str, Any]:
    """This year's forms: the checklist copied from last year and mostly answered, the two vendor forms."""
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from anzen.accounts.models import Membership, Organisation, User
    from anzen.assessments import services, structure
    from anzen.assessments.models import Assessment
    from anzen.assessments.services_copy import assessment_copy_previous
    from anzen.common.permissions import Actor
    from anzen.library.models import Edition

    year = demo_data["assessments"]["fiscal_year"]
    Assessment.objects.filter(institution__code="demo-sakuradai", fiscal_year=year).delete()
    last = Assessment.objects.get(institution__code="demo-sakuradai", fiscal_year=year - 1, subject_kind="institution")
    evaluator = User.objects.get(username="eval-evaluator")
    TOTPDevice.objects.create(user=evaluator, name="authenticator", key=TOTP_KEY, confirmed=True)

    def actor(username: str) -> Actor:
        membership = Membership.objects.select_related("user", "organisation").get(user__username=username)
        return Actor(membership.user, membership)

    today = timezone.localdate()
    staff = actor("sakura-staff")
    checklist = assessment_copy_previous(actor=staff, previous=last, fiscal_year=year)
    left_for_the_browser = {"H-1-1", "H-2-1", "H-3-1"}
    nodes = {node.node_id: node for node in structure.form_nodes(checklist) if structure.is_answerable(node)}
    for node_id, node in nodes.items():
        if node_id not in left_for_the_browser:
            services.answer_set(actor=staff, assessment=checklist, node=node, round1_value="yes", round1_date=today)
    r7 = checklist.edition
    vendor_form = services.assessment_create(
        actor=staff, edition=r7, subject_kind="vendor", fiscal_year=year,
        respondent=Organisation.objects.get(code="demo-hikari-ehr"), due_date=today + dt.timedelta(days=30))
    hikari = actor("hikari-vendor")
    vendor_nodes = {n.node_id: n for n in structure.form_nodes(vendor_form) if structure.is_answerable(n)}
    for node_id, node in vendor_nodes.items():
        if node_id not in {"V-1-1", "V-2-2"}:
            services.answer_set(actor=hikari, assessment=vendor_form, node=node, round1_value="yes", round1_date=today)
    mds = services.assessment_create(
        actor=staff, edition=Edition.objects.get(key="jahis-mds-sds@4.1", is_current=True), subject_kind="system",
        fiscal_year=year, respondent=Organisation.objects.get(code="demo-aoba-pacs"), subject_label="AobaPACS 3.2")
    aoba = actor("aoba-vendor")
    mds_nodes = {n.node_id: n for n in structure.form_nodes(mds) if structure.is_answerable(n)}
    for node_id, node in mds_nodes.items():
        if node_id not in {"4.2", "11"}:
            value = "yes" if "yes" in [v for v, _label in structure.options_of(node)] else "applicable"
            services.answer_set(actor=aoba, assessment=mds, node=node, round1_value=value)
    return {"year": year, "today": today, "checklist": checklist, "vendor_form": vendor_form, "mds": mds,
            "nodes": {**{k: v.pk for k, v in nodes.items()}, **{k: v.pk for k, v in vendor_nodes.items()},
                      **{f"MDS-{k}": v.pk for k, v in mds_nodes.items()}}}


def totp_code(used: set[int]) -> str:
    from tests.browser.conftest import Authenticator

    app = Authenticator(secret=base64.b32encode(bytes.fromhex(TOTP_KEY)).decode(), used_steps=used)
    return app.code()


def log_in(browser: Any, live_server: Any, username: str, *, used_steps: set[int] | None = None) -> Any:
    """A fresh context (own cookies) logged in as `username`; TOTP when the account has a device."""
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", timezone_id="Asia/Tokyo",
                                  viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and page.console_errors.append(f"HTTP {r.status} {r.url}"))
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    if used_steps is not None:
        expect(page).to_have_url(re.compile(r"/accounts/login/verify/$"))
        page.get_by_label("確認コード").fill(totp_code(used_steps))
        page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("heading", name="ダッシュボード", level=1)).to_be_visible()
    return page


def open_assessment(page: Any, assessment: Any) -> None:
    page.goto(f"/assessments/{assessment.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(assessment.form.text)
    expect(page.get_by_role("heading", name="提出・確認・承認")).to_be_visible()


def save_row(page: Any, pk: int, value: str, *, day: dt.date | None = None, target: dt.date | None = None,
             remarks: str = "") -> None:
    """Fill one item's row on the assessment page and save it (htmx replaces the row)."""
    row = page.locator(f"#item-{pk}")
    row.locator(f"#r1-{pk}").select_option(label=value)
    if day is not None:
        row.locator(f"#r1d-{pk}").fill(day.isoformat())
    if target is not None:
        row.locator(f"#t-{pk}").fill(target.isoformat())
    if remarks:
        row.locator(f"#rm-{pk}").fill(remarks)
    row.get_by_role("button", name="保存").click()
    expect(page.locator(f"#item-{pk}").get_by_text("保存しました")).to_be_visible()


def submit(page: Any, *, again: bool = False) -> None:
    page.get_by_role("button", name="再提出する" if again else "提出する").click()
    expect(page.locator(".workflow .steps li.current")).to_have_text("提出済み")


def test_checklist_year_from_first_answer_to_the_inspection_pack(browser: Any, live_server: Any,
                                                                story: dict[str, Any], screenshot: Any,
                                                                tmp_path: Path) -> None:
    nodes, today = story["nodes"], story["today"]
    checklist, vendor_form, mds = story["checklist"], story["vendor_form"], story["mds"]
    totp_steps: set[int] = set()

    # 1. The 担当者 confirms last year's answer to 1(1), answers 2(1) いいえ with 目標日 and 3(1), submits.
    staff = log_in(browser, live_server, "sakura-staff")
    open_assessment(staff, checklist)
    expect(staff.get_by_role("heading", name="回答の再利用")).to_be_visible()
    suggestion = staff.locator(f"#sg-{nodes['H-1-1']}")
    expect(suggestion).to_contain_text("昨年度の回答")
    expect(suggestion).to_contain_text("提案する回答: はい")
    screenshot(staff, "story-01-checklist-with-suggestions")
    suggestion.get_by_role("button", name="確認して反映").click()
    expect(staff.get_by_text("候補を確認して回答に反映しました。")).to_be_visible()
    expect(staff.locator(f"#item-{nodes['H-1-1']}")).to_contain_text("出所")
    save_row(staff, nodes["H-2-1"], "いいえ", day=today, target=today + dt.timedelta(days=60))
    save_row(staff, nodes["H-3-1"], "はい", day=today)
    open_assessment(staff, checklist)
    expect(staff.locator("#form-title")).not_to_contain_text("未完了")
    submit(staff)
    expect(staff.get_by_text("「いいえ」の項目と目標日")).to_be_visible()
    screenshot(staff, "story-02-checklist-submitted")

    # 2. The vendors answer in their own accounts.
    hikari = log_in(browser, live_server, "hikari-vendor")
    open_assessment(hikari, vendor_form)
    expect(hikari.get_by_text("事業者確認用").first).to_be_visible()
    save_row(hikari, nodes["V-1-1"], "はい", day=today)
    save_row(hikari, nodes["V-2-2"], "はい", day=today, remarks="リモート保守はVPN装置経由（作業ごとに承認）。")
    submit(hikari)
    screenshot(hikari, "story-03-vendor-form-submitted")
    aoba = log_in(browser, live_server, "aoba-vendor")
    open_assessment(aoba, mds)
    expect(aoba.get_by_role("heading", level=1)).to_contain_text("AobaPACS 3.2")
    save_row(aoba, nodes["MDS-4.2"], "はい")
    save_row(aoba, nodes["MDS-11"], "はい", remarks="非常時アカウントはオプション契約で対応")
    expect(aoba.get_by_role("heading", name="事業者の回答の確認（MDS/SDSとの整合・備考）")).to_be_visible()
    submit(aoba)
    aoba.goto(f"/assessments/{mds.pk}/crosscheck/")
    expect(aoba.locator("#remark-flags")).to_contain_text("オプション契約が前提の対策です")
    screenshot(aoba, "story-04-mds-crosscheck")

    # 3. The evaluator returns 3(1) with a comment.
    evaluator = log_in(browser, live_server, "eval-evaluator", used_steps=totp_steps)
    open_assessment(evaluator, checklist)
    evaluator.get_by_role("button", name="確認を開始する").click()
    expect(evaluator.locator(".workflow .steps li.current")).to_have_text("確認中")
    evaluator.goto(f"/assessments/{checklist.pk}/items/{nodes['H-3-1']}/")
    expect(evaluator.get_by_role("heading", name="確認とコメント")).to_be_visible()
    evaluator.locator("input[name=result][value=return]").check()
    comment = "連絡体制図の最終更新日が確認できません。最新版を添付してください。"
    evaluator.locator("textarea[name=text]").fill(comment)
    evaluator.get_by_role("button", name="記録する").click()
    expect(evaluator.locator("#thread")).to_contain_text(comment)
    open_assessment(evaluator, checklist)
    evaluator.locator("#return-comment").fill("3(1) を確認してください。")
    evaluator.get_by_role("button", name="差し戻す").click()
    expect(evaluator.locator(".workflow .steps li.current")).to_have_text("差戻し")
    screenshot(evaluator, "story-05-returned")

    # 4. The 担当者 reads the comment, fixes 3(1) with evidence and resubmits.
    staff.goto(f"/assessments/{checklist.pk}/items/{nodes['H-3-1']}/")
    expect(staff.locator("#thread")).to_contain_text(comment)
    staff.locator("#i-rm").fill("連絡体制図を更新しました（夜間・休日の連絡先を追記）。")
    staff.get_by_role("button", name="保存").first.click()
    chart = tmp_path / "連絡体制図.txt"
    chart.write_text("連絡体制図（最終更新日を記載）\n情報システム課 → 安全管理責任者 → 院長\n", encoding="utf-8")
    evidence = staff.locator("#evidence")
    evidence.locator("input[type=file]").set_input_files(str(chart))
    evidence.get_by_role("button", name="登録する").first.click()
    expect(staff.locator("#evidence table")).to_contain_text("連絡体制図")
    open_assessment(staff, checklist)
    submit(staff, again=True)

    # 5. The evaluator accepts, the 経営層 signs off.
    open_assessment(evaluator, checklist)
    evaluator.get_by_role("button", name="受理する").click()
    expect(evaluator.locator(".workflow .steps li.current")).to_have_text("受理")
    manager = log_in(browser, live_server, "sakura-manager")
    open_assessment(manager, checklist)
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.get_by_role("button", name="承認する").click()
    expect(manager.locator(".workflow .steps li.current")).to_have_text("承認済み")
    expect(manager.get_by_text("承認済みのため読み取り専用です。")).to_be_visible()
    screenshot(manager, "story-06-signed-off")

    # 6. The inspection pack: one PDF and one zip, in Japanese, every answer with its date.
    staff.goto("/assessments/pack/")
    expect(staff.get_by_role("heading", name="立入検査用の一式", level=1)).to_be_visible()
    staff.get_by_role("button", name="作成する").click()
    expect(staff.get_by_text("作成しました。ダウンロードしてください。")).to_be_visible(timeout=60_000)
    screenshot(staff, "story-07-pack")
    with staff.expect_download() as pdf_download:
        staff.get_by_role("link", name="PDF（目次と全書類）").click()
    pdf = Path(pdf_download.value.path())
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("さくら台総合病院（デモ）", "医療情報システム安全管理責任者を設置している。", "AobaPACS 3.2",
                     "ひかり電子カルテ株式会社（デモ）"):
        assert expected in text, expected
    with staff.expect_download() as zip_download:
        staff.get_by_role("link", name="zip（全ファイルとエビデンス）").click()
    with zipfile.ZipFile(zip_download.value.path()) as archive:
        names = archive.namelist()
    assert any(name.endswith(".pdf") for name in names) and any(name.endswith(".csv") for name in names)
    assert any("連絡体制図" in name for name in names), names

    for page in (staff, hikari, aoba, evaluator, manager):
        assert page.console_errors == [], "errors in the browser:\n" + "\n".join(page.console_errors)
        page.context.close()
