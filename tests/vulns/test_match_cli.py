"""`anzen vulns match --json` (findings by severity and confidence) and `anzen vulns daily`."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from anzen.cli.main import main
from anzen.vulns.models_watch import Finding
from tests.vulns.watch_support import Ledger, cves_fixture, ledger_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_match_json_reports_the_open_findings_by_severity_and_confidence(ledger: Ledger, capsys) -> None:
    code, out, err = run(capsys, "vulns", "match", "--institution", ledger.world.hospital.code, "--json")
    assert code == 0 and err == ""
    [row] = json.loads(out)
    stored = Finding.objects.filter(institution=ledger.world.hospital)
    assert row["mode"] == "full" and row["changes"]["created"] == stored.count() == row["open"]
    severities = {item["key"]: item for item in row["by_severity"]}
    assert severities["critical"]["label"] == "緊急"
    assert severities["critical"]["count"] == stored.filter(severity="critical").count() >= 3
    assert sum(item["count"] for item in row["by_severity"]) == row["open"]
    confidences = {item["key"]: item["count"] for item in row["by_confidence"]}
    assert confidences["confirmed"] == stored.filter(confidence="confirmed").count() >= 4
    assert row["kev"] == stored.filter(kev=True).count() >= 1
    code, out, _err = run(capsys, "vulns", "match", "--institution", ledger.world.hospital.code, "--json")
    [again] = json.loads(out)
    assert again["mode"] == "incremental" and again["changes"]["created"] == 0 and again["open"] == row["open"]


def test_match_human_output_and_unknown_institution(ledger: Ledger, capsys) -> None:
    code, out, _err = run(capsys, "vulns", "match", "--institution", ledger.world.hospital.code)
    assert code == 0 and "緊急" in out and "確定" in out and "対応中" in out
    code, out, err = run(capsys, "vulns", "match", "--institution", "no-such-code")
    assert code != 0 and out == "" and "見つかりません" in err


def test_daily_reopens_expired_risk_acceptances(ledger: Ledger, capsys) -> None:
    run(capsys, "vulns", "match", "--institution", ledger.world.hospital.code, "--json")
    accepted = Finding.objects.filter(institution=ledger.world.hospital).first()
    Finding.objects.filter(pk=accepted.pk).update(status="risk_accepted", accepted_until=dt.date(2020, 1, 1))
    code, out, _err = run(capsys, "vulns", "daily", "--json")
    assert code == 0 and json.loads(out)["reopened"] == 1
    accepted.refresh_from_db()
    assert accepted.status == "new" and accepted.events.filter(kind="expired").exists()


def test_a_feed_import_from_the_cli_is_followed_by_a_rematch(ledger: Ledger, capsys, tmp_path,
                                                             django_capture_on_commit_callbacks) -> None:
    from decimal import Decimal

    from tests.vulns.test_rematch import _rescored

    run(capsys, "vulns", "match", "--json")
    with django_capture_on_commit_callbacks(execute=True):  # the rematch is requested on commit
        code, out, _err = run(capsys, "vulns", "import", str(_rescored(tmp_path)), "--json")
    assert code == 0 and json.loads(out)["updated"] == 1  # the import's own output is unchanged
    item = Finding.objects.get(device=ledger.mq, cve_id="CVE-2023-46604")
    assert item.score == Decimal("7.5") and item.events.filter(kind="rescored").exists()


def test_ledger_changes_are_pending_until_the_next_rematch_and_the_daily_task_catches_them(ledger: Ledger) -> None:
    from anzen.vulns import services_watch, tasks

    hospital = ledger.world.hospital
    assert services_watch.pending_changes(hospital.pk).never
    tasks.rematch_task.enqueue()  # every institution
    assert not services_watch.pending_changes(hospital.pk).any
    ledger.add(ledger.rtx_alone, "cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*")
    pending = services_watch.pending_changes(hospital.pk)
    assert pending.ledger and not pending.feed_imports
    result = tasks.daily_task.enqueue().return_value
    assert [row["institution"] for row in result["rematched"]] == [hospital.code]
    assert Finding.objects.filter(device=ledger.rtx_alone, cve_id="CVE-2018-0665").exists()
    assert not services_watch.pending_changes(hospital.pk).any
    assert tasks.daily_task.enqueue().return_value["rematched"] == []
