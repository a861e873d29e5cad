"""The ledger in Chromium, as the demo hospital's 担当者 (sakura-staff) uses it.

1. the device list of the demo ledger, filtered (servers) and sorted (host name, descending);
2. the 検査室 segment's device list, saved by Excel as 「CSV (コンマ区切り)」 (CP932, CRLF, with
   characters that only CP932 has: 髙, ①), uploaded through upload → mapping → preview → confirm;
3. a real nmap scan of that segment (python-libnmap's full_sudo6.xml, 192.168.1.0/24) imported: the
   report shows the 未登録機器 (the hosts nobody registered) and the 未検出 device (registered, in
   the scanned range, silent); one unregistered host is registered in one step;
4. today's ledger export attached to this year's 2(1) and seen on the item page.

Screenshots go to test-artifacts/ (see conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from anzen.demo.loader import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SCAN = Path(__file__).resolve().parents[1] / "assets" / "fixtures" / "scan" / "libnmap-full_sudo6.xml"
# seed 003's device-list columns (the built-in `device-list` profile), rows of the scanned segment:
# lab-pc01 is the Intel host of the scan (matched by MAC, its IP moved from .50 to .5), lab-nas01 is
# registered in the scanned range and does not answer (未検出).
LAB_CSV = (
    "筐体名,申請者,OS,支払区分,機器名,MACアドレス,IP アドレス,登録情報コンセント番号,初回登録\r\n"
    "lab-pc01,髙橋 誠,Windows 10,病院負担,ThinkCentre M75q,00:1F:3C:87:66:50,192.168.1.50,検査①-03,2023/4/1\r\n"
    "lab-nas01,髙橋 誠,,部門予算,TeraStation TS5410,00:07:40:12:34:56,192.168.1.20,検査①-07,R5.4.1\r\n"
    "lab-pc02,渡辺 光,Windows 11,研究費,OptiPlex 7010,00:08:74:aa:bb:cc,192.168.1.60,検査①-11,令和6年4月1日\r\n"
)


def log_in(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", name="ダッシュボード", level=1)).to_be_visible()


def host_names(page: Any) -> list[str]:
    return [cell.strip() for cell in page.locator("table.ledger tbody tr td:first-child").all_inner_texts()]


def test_ledger_from_the_device_list_to_the_checklist(page: Any, demo_data: dict[str, Any], tmp_path: Path,
                                                       screenshot: Any) -> None:
    from anzen.assessments.models import Evidence
    from anzen.assets.models import Device

    assert demo_data["ledger"]["created"]
    log_in(page, "sakura-staff")

    # 1. The demo ledger: filter the servers, sort by host name (descending).
    page.get_by_role("navigation").get_by_role("link", name="台帳").first.click()
    expect(page.get_by_role("heading", name="機器台帳", level=1)).to_be_visible()
    total = Device.objects.filter(institution__code="demo-sakuradai").count()
    expect(page.get_by_text(f"{total} 台", exact=True)).to_be_visible()
    page.get_by_label("種類").select_option(label="サーバ")
    page.get_by_role("button", name="絞り込む").click()
    servers = Device.objects.filter(institution__code="demo-sakuradai", kind="server").count()
    expect(page.get_by_text(f"{servers} 台", exact=True)).to_be_visible()
    expect(page.locator("table.ledger th[aria-sort=ascending]")).to_contain_text("ホスト名")  # the default
    ascending = host_names(page)
    assert ascending == sorted(ascending)
    page.locator("table.ledger thead").get_by_role("link", name=re.compile("^ホスト名")).click()
    expect(page.locator("table.ledger th[aria-sort=descending]")).to_contain_text("ホスト名")
    names = host_names(page)
    assert names == sorted(names, reverse=True) and len(names) == servers
    assert set(page.locator("table.ledger tbody tr td:nth-child(2)").all_inner_texts()) == {"サーバ"}
    expect(page).to_have_url(re.compile(r"kind=server"))
    screenshot(page, "ledger-01-servers-sorted")

    # 2. The lab segment's list, a CP932 CSV from Excel, through the import screens.
    csv_file = tmp_path / "検査室_機器一覧.csv"
    csv_file.write_bytes(LAB_CSV.encode("cp932"))
    page.goto("/assets/import/")
    expect(page.get_by_role("heading", name="機器一覧の取込（CSV・Excel）")).to_be_visible()
    page.locator("#id_file").set_input_files(str(csv_file))
    page.get_by_label("取込設定（列の対応付け）").select_option(value="device-list")
    page.get_by_role("button", name="アップロードして列を確認").click()
    expect(page.get_by_role("heading", name="列の対応付け", level=1)).to_be_visible()
    expect(page.locator("dl.meta")).to_contain_text("Shift_JIS")
    expect(page.locator("table.import-columns")).to_contain_text("髙橋 誠")
    screenshot(page, "ledger-02-mapping")
    page.get_by_role("button", name="取り込む内容を確認").click()
    expect(page.get_by_role("heading", name="取り込む内容の確認", level=1)).to_be_visible()
    counts = page.locator("dd.import-count").all_inner_texts()
    assert [c.strip() for c in counts] == ["3", "0", "0", "0"], counts
    expect(page.get_by_role("heading", name="新しく登録される機器")).to_be_visible()
    screenshot(page, "ledger-03-preview")
    page.get_by_role("button", name="この内容で取り込む").click()
    expect(page.locator(".message").first).to_contain_text("3")
    lab_pc = Device.objects.get(institution__code="demo-sakuradai", hostname="lab-pc01")
    assert lab_pc.owner == "髙橋 誠" and lab_pc.outlet == "検査①-03" and lab_pc.mac == "00:1f:3c:87:66:50"
    assert str(lab_pc.first_registered) == "2023-04-01"
    assert str(Device.objects.get(hostname="lab-nas01").first_registered) == "2023-04-01"

    # 3. A real nmap scan of 192.168.1.0/24: unregistered and missing devices, one registered in one step.
    page.goto("/assets/scans/")
    page.locator("#id_file").set_input_files(str(SCAN))
    page.get_by_role("button", name="取り込んで台帳と突合する").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("スキャンと台帳の突合")
    tabs = page.locator("nav.scan-tabs")
    expect(tabs.get_by_role("link", name=re.compile("未登録機器"))).to_contain_text("3")
    expect(tabs.get_by_role("link", name=re.compile("未検出"))).to_contain_text("2")
    tabs.get_by_role("link", name=re.compile("未登録機器")).click()
    hosts = page.locator("table.scan-hosts tbody")
    for address in ("192.168.1.1", "192.168.1.2", "192.168.1.3"):
        expect(hosts).to_contain_text(address)
    expect(hosts).to_contain_text("Sagemcom")
    screenshot(page, "ledger-04-unregistered")
    tabs.get_by_role("link", name=re.compile("未検出")).click()
    missing = page.locator("table tbody")
    expect(missing).to_contain_text("lab-nas01")
    expect(missing).to_contain_text("lab-pc02")
    screenshot(page, "ledger-05-missing")
    tabs.get_by_role("link", name=re.compile("変更あり")).click()
    expect(page.locator("table.scan-hosts tbody")).to_contain_text("lab-pc01")
    tabs.get_by_role("link", name=re.compile("未登録機器")).click()
    router = page.locator("table.scan-hosts tbody tr").filter(has_text="Sagemcom")  # 192.168.1.1
    router.get_by_role("button", name="台帳に登録").click()
    expect(page.locator(".message").first).to_be_visible()
    registered = Device.objects.get(institution__code="demo-sakuradai", mac="6c:2e:85:19:af:00")
    assert registered.ip == "192.168.1.1"
    expect(page.locator("table.scan-hosts tbody tr").filter(has_text="Sagemcom")).to_contain_text(
        "このスキャンから登録済み")
    screenshot(page, "ledger-06-registered")

    # 4. Today's ledger export attached to this year's 2(1), seen on the item page.
    page.goto("/assets/")
    page.locator("details.attach-panel summary").click()
    page.get_by_role("button", name="添付する").click()
    expect(page.get_by_text("機器台帳を 2(1) に")).to_be_visible()
    evidence = Evidence.objects.filter(answer__node__node_id="H-2-1").order_by("-pk").first()
    assert evidence is not None and evidence.original_name.startswith("機器台帳_demo-sakuradai_")
    assessment = evidence.answer.assessment
    page.goto(f"/assessments/{assessment.pk}/items/{evidence.answer.node.pk}/")
    table = page.locator("#evidence table")
    expect(table).to_contain_text(evidence.title)
    expect(table).to_contain_text(evidence.original_name)
    screenshot(page, "ledger-07-evidence-on-2-1")

    assert page.console_errors == [], "errors in the browser:\n" + "\n".join(page.console_errors)
