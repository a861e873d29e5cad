"""The demo's vulnerability watch: real CVEs on the demo hospital's devices with Japanese labels and reasons,
the network contract's notices to みなとネットワーク保守 with the vendor's answer; loading twice changes nothing."""

from __future__ import annotations

import pytest

from anzen.assets.models import Device
from anzen.demo.loader import load_demo
from anzen.vulns.models_watch import Finding, Notice, NoticeResponse

pytestmark = pytest.mark.django_db


def test_demo_findings_notice_and_answer_and_a_second_load_changes_nothing(mailoutbox) -> None:
    first = load_demo()["vulns"]
    assert first["created"] and first["imported"]["new"] > 0 and first["answered"] == 1
    findings = Finding.objects.filter(institution__code="demo-sakuradai")
    assert findings.count() == first["findings"] > 100
    fortios = findings.filter(cve_id="CVE-2018-13379").select_related("device").first()
    assert fortios is not None and fortios.confidence == "confirmed" and fortios.severity_label == "緊急"
    assert "fortios" in fortios.reason.lower() and "該当" in fortios.reason
    assert findings.filter(kev=True).exists() and findings.filter(confidence="manual").exists()
    notices = Notice.objects.filter(vendor__code="demo-minato-net", institution__code="demo-sakuradai")
    assert notices.count() == first["notices"] >= 1
    assert not Notice.objects.exclude(vendor__code="demo-minato-net").exists()  # only the network is covered
    network = {d.pk for d in Device.objects.filter(systems__name="院内ネットワーク")}
    assert all(f.device_id in network for n in notices for f in n.findings.all())  # the contract's coverage
    answered = notices.get(status="answered")
    answer = NoticeResponse.objects.get(notice=answered, kind="answer")
    assert answered.level == "urgent" and answer.evidence_name.endswith(".pdf")
    assert "ファームウェア" in answer.countermeasure
    assert mailoutbox == []  # the demo's addresses are .invalid: nothing is e-mailed

    state = sorted(findings.values_list("pk", "status", "score"))
    second = load_demo()["vulns"]
    assert not second["created"] and second["findings"] == second["notices"] == second["answered"] == 0
    assert sorted(findings.values_list("pk", "status", "score")) == state
    assert NoticeResponse.objects.filter(kind="answer").count() == 1
