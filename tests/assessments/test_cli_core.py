"""`anzen assessments list` and `anzen assessments remind`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail

from anzen.cli.main import main
from tests.assessments.conftest import own_checklist, vendor_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANZEN_LANG", "ja")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_filters(capsys, parties, checklist) -> None:
    own = own_checklist(parties, checklist)
    request = vendor_form(parties, checklist)
    code, out, _err = run(capsys, "assessments", "list", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert set(rows) == {own.pk, request.pk}
    assert rows[request.pk]["respondent"] == "t-vendor" and rows[request.pk]["due_date"] == "2025-09-30"
    assert rows[own.pk]["form"] == "H" and rows[own.pk]["status"] == "draft"
    code, out, _err = run(capsys, "assessments", "list", "--json", "--institution", "t-clinic")
    assert json.loads(out) == []
    code, out, _err = run(capsys, "assessments", "list", "--json", "--fiscal-year", "2024")
    assert json.loads(out) == []
    code, out, _err = run(capsys, "assessments", "list", "--fiscal-year", "2025", "--institution",
                          str(parties.world.hospital.pk))
    assert "事業者確認用" in out and "テスト事業者" in out


def test_list_errors(capsys, parties) -> None:
    code, _out, err = run(capsys, "assessments", "list", "--institution", "nowhere")
    assert code == 1 and "見つかりません" in err
    code, _out, err = run(capsys, "assessments", "list", "--fiscal-year", "25")
    assert code == 1 and "西暦" in err


def test_remind_dry_run_then_send(capsys, parties, checklist, monkeypatch) -> None:
    vendor_form(parties, checklist)
    monkeypatch.setattr("anzen.assessments.reminders.timezone.localdate", lambda: dt.date(2025, 10, 1))
    code, out, _err = run(capsys, "assessments", "remind", "--dry-run", "--json")
    data = json.loads(out)
    assert code == 0 and data["dry_run"] and data["new"] == 1 and mail.outbox == []
    code, out, _err = run(capsys, "assessments", "remind")
    assert code == 0 and "送信: テスト事業者" in out and len(mail.outbox) == 1
    code, out, _err = run(capsys, "assessments", "remind", "--json")
    assert json.loads(out)["already_sent"] == 1 and len(mail.outbox) == 1
