"""The demo ledger: loaded through the services, realistic, deterministic, attached to 2(1) and 2(2), loaded
once; `anzen setup --demo` says what the demo hospital holds."""

from __future__ import annotations

from typing import Any

import pytest

from anzen.assessments.models import Evidence
from anzen.assets.models import Device, Disposal, InformationSystem, MediaLoan, PortableMedia, Software
from anzen.common.models import AuditEntry
from anzen.demo.loader import load_demo
from anzen.library.loader import load_builtin_library


@pytest.fixture
def demo(db: None, settings: Any, tmp_path: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path
    load_builtin_library()
    return load_demo()


def test_the_demo_ledger(demo: dict[str, Any]) -> None:
    assert demo["ledger"]["created"] and demo["ledger"]["attached"]
    devices = Device.objects.filter(institution__code="demo-sakuradai")
    assert 250 <= devices.count() <= 400
    assert {"server", "pc", "network", "printer", "medical", "storage", "iot", "mobile"} <= set(
        devices.values_list("kind", flat=True))
    assert devices.filter(remote_maintenance=True).count() >= 10
    assert devices.filter(status="disposed").count() == 3
    macs = list(devices.exclude(mac="").values_list("mac", flat=True))
    assert len(macs) == len(set(macs))
    systems = {s.name: s for s in InformationSystem.objects.select_related("vendor", "remote_vendor", "disclosure")}
    ehr, pacs, network = systems["電子カルテシステム"], systems["PACS（医用画像管理）"], systems["院内ネットワーク"]
    assert ehr.vendor.code == "demo-hikari-ehr" and ehr.remote_line_type == "ipsec"
    assert pacs.vendor.code == "demo-aoba-pacs" and pacs.disclosure is not None
    assert network.remote_vendor.code == "demo-minato-net" and network.remote_line_type == "ip_vpn"
    assert network.devices.filter(remote_maintenance=True, kind="network").count() >= 5
    # software from the CPE families, medical devices without a CPE on the manual path
    software = Software.objects.filter(device__institution__code="demo-sakuradai")
    assert software.filter(cpe_vendor="fortinet", cpe_product="fortios").exists()
    assert software.filter(cpe_product="windows_10_22h2").exists()
    assert software.filter(no_cpe=True, device__kind="medical").exists()
    assert PortableMedia.objects.count() == 8 and MediaLoan.objects.filter(returned_at=None).count() == 1
    assert Disposal.objects.count() == 4
    # one bulk registration entry for the devices, named after the demo staff user
    entry = AuditEntry.objects.get(action="import", object_type="assets.device")
    assert entry.actor_label == "sakura-staff" and entry.after["devices"] == devices.count()
    # the ledger export is the evidence of 2(1), dated
    evidence = Evidence.objects.get(answer__node__node_id="H-2-1", answer__assessment__fiscal_year__gte=2025,
                                    original_name__startswith="機器台帳_demo-sakuradai_")
    assert evidence.effective_date is not None and evidence.original_name.endswith(".xlsx")
    assert not Evidence.objects.filter(original_name="機器台帳_抜粋.csv",
                                       answer__assessment=evidence.answer.assessment).exists()
    # the remote-maintenance list is the evidence of 2(2), same checklist, same day
    remote = Evidence.objects.get(answer__node__node_id="H-2-2", answer__assessment=evidence.answer.assessment)
    assert remote.effective_date == evidence.effective_date and remote.original_name.endswith(".xlsx")
    assert remote.title.startswith("リモート保守の機器一覧（") and "時点" in remote.title


def test_the_demo_summary_and_what_setup_prints(demo: dict[str, Any]) -> None:
    from anzen.cli.setup import _human
    from anzen.demo.loader import summary

    counts = demo["summary"]
    devices = Device.objects.filter(institution__code="demo-sakuradai")
    assert counts["devices"] == devices.exclude(status="disposed").count() and counts["disposed"] == 3
    assert counts["systems"] == 7 and counts["remote_devices"] >= 10
    assert counts["cves"] > 0 and counts["open_findings"] >= counts["critical"] + counts["high"] > 0
    assert counts["notices"] > 0 and counts["kev"] > 0
    # a second load creates nothing and reports the same figures
    again = load_demo()
    assert again["created"] is False and again["summary"] == counts == summary(devices.first().institution)
    text = _human({"home": "var", "database": "sqlite3", "library": {"loaded": 0, "unchanged": 15},
                   "demo": again})
    assert f"機器 {counts['devices']}台" in text and f"医療情報システム {counts['systems']}件" in text
    assert f"CVE {counts['cves']}件" in text and f"未対応の検出 {counts['open_findings']}件" in text
    assert f"事業者への通知 {counts['notices']}件" in text


def test_demo_rows_are_deterministic_and_valid() -> None:
    from types import SimpleNamespace

    from anzen.assets.fields import clean_device
    from anzen.assets.services import clean_software
    from anzen.demo.assets import SYSTEMS, Builder

    systems: Any = {spec["key"]: SimpleNamespace(pk=index) for index, spec in enumerate(SYSTEMS, 1)}
    first, second = Builder(systems).build(), Builder(systems).build()
    assert first == second
    for row in first:
        fields = {k: v for k, v in row.items() if k != "software"}
        clean_device(fields)
        for item in row.get("software", []):
            clean_software(**item)
