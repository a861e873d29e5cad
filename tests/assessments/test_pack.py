"""The inspection pack (立入検査用): the index PDF with dates and signers and every received form, the zip
with the forms as xlsx and pdf, answers.csv and the evidence with its SHA-256 manifest; scoping; the job
with progress and its screens; `anzen assessments export`; the export API; bounded queries."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anzen.accounts import services as account_services
from anzen.accounts.roles import OrgKind, Role
from anzen.assessments import pack, services
from anzen.assessments.models import Answer, Assessment, AssessmentEvent, Status, SubjectKind
from anzen.cli.main import main as cli_main
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from tests.assessments import files_support as fs
from tests.conftest import login_as

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


class Year:
    def __init__(self, world: Any) -> None:
        lib = fs.library()
        self.lib = lib
        self.minato = account_services.organisation_create(kind=OrgKind.VENDOR, name="みなとネットワーク保守",
                                                           code="t-minato")
        account_services.relation_create(institution=world.hospital, partner=self.minato)
        self.own = fs.make(world, kind=SubjectKind.INSTITUTION, edition=lib.cyber, form=lib.institution_form)
        fs.answer_all(self.own, remarks=False)
        answer = Answer.objects.filter(assessment=self.own).order_by("node__position").first()
        self.ledger = "機器台帳 2025年6月\nサーバ 12台\n".encode()
        services.evidence_add_file(actor=SYSTEM, answer=answer, uploaded_file=SimpleUploadedFile(
            "機器台帳.txt", self.ledger), title="機器台帳")
        services.evidence_add_link(actor=SYSTEM, answer=answer, url="https://intra.example.test/bcp", title="BCP")
        Assessment.objects.filter(pk=self.own.pk).update(
            status=Status.SIGNED_OFF, submitted_at=timezone.make_aware(dt.datetime(2025, 7, 1, 10)),
            signed_off_at=timezone.make_aware(dt.datetime(2025, 7, 10, 9)), signed_off_name="桜井 院長",
            signed_off_role="manager")
        AssessmentEvent.objects.create(assessment=self.own, from_status=Status.SUBMITTED, to_status=Status.ACCEPTED)
        self.vendor = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                              respondent=world.vendor, status=Status.SUBMITTED)
        fs.answer_all(self.vendor)
        self.draft = fs.make(world, kind=SubjectKind.VENDOR, edition=lib.cyber, form=lib.vendor_form,
                             respondent=self.minato)
        fs.answer_all(self.draft)
        self.mds = fs.make(world, kind=SubjectKind.SYSTEM, edition=lib.mds, form=lib.mds_form,
                           respondent=world.vendor, label="AobaPACS 3.2", status=Status.ACCEPTED)
        fs.answer_all(self.mds, rounds=False)
        self.last_year = fs.make(world, kind=SubjectKind.INSTITUTION, edition=lib.cyber, form=lib.institution_form,
                                 fiscal_year=2024, status=Status.SIGNED_OFF)


@pytest.fixture
def year(world: Any) -> Year:
    return Year(world)


def _actor(membership: Any) -> Actor:
    return Actor(membership.user, membership)


def test_the_pack_holds_every_received_form_with_dates_and_signers(world: Any, year: Year, make_member: Any,
                                                                   tmp_path: Path) -> None:
    staff = make_member("pack-staff", world.hospital, Role.STAFF)
    exports_before = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    result = pack.build_pack(actor=_actor(staff), institution=world.hospital, fiscal_year=2025, out_dir=tmp_path,
                             prepared_by="担当 花子")
    stem = "立入検査用_2025年度_テスト病院"
    assert {path.name for path in result.files.values()} == {f"{stem}.pdf", f"{stem}.zip", f"{stem}_回答一覧.csv"}
    # The index: the institution's form first, then vendor forms, then MDS/SDS; last year's is not in it.
    assert [e.assessment.pk for e in result.entries] == [year.own.pk, year.draft.pk, year.vendor.pk, year.mds.pk]
    assert [e.included for e in result.entries] == [True, False, True, True]
    own = result.entries[0]
    assert (own.submitted, own.signed_off) == (dt.date(2025, 7, 1), dt.date(2025, 7, 10))
    assert own.signer == "経営層 桜井 院長"
    assert own.accepted == timezone.localdate()
    assert 0 < own.complete <= own.required
    text = fs.squeeze(fs.pdftotext(result.files["pdf"].read_bytes()))
    for expected in ("立入検査用資料一式", "テスト病院", "令和7年度（2025年度）", "担当花子", "経営層桜井院長",
                     "2025/07/10", "（未提出のため収録なし）", "医療機関の管理者", "みなとネットワーク保守"):
        assert expected in text, expected
    # Every received form follows, in Japanese, with every answer's date.
    assert "(1)事業者内に、医療情報システム等の提供に係る管理責任者を設置している。" in text
    assert "扱う情報のリストを医療機関等に提示できるか?(6.2.C1)" in text
    assert f"({fs.slash(fs.D1)})" in text and "○はい" in text
    fonts = fs.pdffonts(result.files["pdf"].read_bytes())
    assert "IPAexGothic" in fonts and "Helvetica" not in fonts
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == exports_before + 1


def test_the_zip_has_the_forms_the_answers_and_the_evidence_with_its_hashes(world: Any, year: Year,
                                                                            tmp_path: Path) -> None:
    result = pack.build_pack(actor=SYSTEM, institution=world.hospital, fiscal_year=2025, out_dir=tmp_path)
    with zipfile.ZipFile(result.files["zip"]) as archive:
        names = archive.namelist()
        assert names[:2] == ["立入検査用_2025年度_テスト病院.pdf", "answers.csv"]
        forms = sorted(name for name in names if name.startswith("checklists/"))
        stems = ["01_2025_医療機関確認用_テスト病院", "03_2025_事業者確認用_テスト事業者",
                 "04_2025_MDS_SDS_AobaPACS 3.2"]
        assert forms == [f"checklists/{stem}.{ext}" for stem in stems for ext in ("pdf", "xlsx")]
        manifest = list(csv.DictReader(io.StringIO(archive.read("evidence/manifest.csv").decode("utf-8-sig"))))
        files = [row for row in manifest if row["種類"] == "ファイル"]
        assert len(files) == 1 and files[0]["元のファイル名"] == "機器台帳.txt"
        content = archive.read(files[0]["zip内のファイル"])
        assert content == year.ledger
        assert files[0]["SHA-256"] == hashlib.sha256(content).hexdigest() and files[0]["サイズ"] == str(len(content))
        links = [row for row in manifest if row["種類"] == "リンク"]
        assert links[0]["URL"] == "https://intra.example.test/bcp"
        answers = list(csv.reader(io.StringIO(archive.read("answers.csv").decode("utf-8-sig"))))
    expected_rows = sum(len(fs.items_of(a)) for a in (year.own, year.vendor, year.mds))
    assert len(answers) == 1 + expected_rows  # the draft of みなと is not received: not in the CSV
    assert result.files["csv"].read_bytes() == archive_csv(result.files["zip"])


def archive_csv(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("answers.csv")


def test_a_vendor_gets_only_its_own_forms_and_a_stranger_nothing(world: Any, year: Year, make_member: Any,
                                                                  tmp_path: Path) -> None:
    vendor = _actor(make_member("pack-vendor", world.vendor, Role.VENDOR))
    result = pack.build_pack(actor=vendor, institution=world.hospital, fiscal_year=2025, out_dir=tmp_path / "v")
    assert {e.assessment.pk for e in result.entries} == {year.vendor.pk, year.mds.pk}
    text = fs.pdftotext(result.files["pdf"].read_bytes())
    assert "みなとネットワーク保守" not in text and "医療機関確認用" not in fs.squeeze(text).replace(
        "医療機関におけるサイバーセキュリティ対策チェックリスト", "")
    stranger = _actor(make_member("pack-stranger", world.other_vendor, Role.VENDOR))
    assert world.hospital not in pack.institutions(stranger)
    evaluator = _actor(make_member("pack-eval", world.evaluator, Role.EVALUATOR, mfa=True))
    assert pack.build_pack(actor=evaluator, institution=world.hospital, fiscal_year=2025,
                           out_dir=tmp_path / "e").entries == []


def test_building_the_pack_runs_a_bounded_number_of_queries(world: Any, year: Year, tmp_path: Path,
                                                            django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(40) as few:
        pack.build_pack(actor=SYSTEM, institution=world.hospital, fiscal_year=2025, out_dir=tmp_path / "a")
    for index in range(8):
        extra = fs.make(world, kind=SubjectKind.VENDOR, edition=year.lib.cyber, form=year.lib.vendor_form,
                        respondent=world.vendor, label=f"追加{index}", status=Status.SUBMITTED)
        fs.answer_all(extra)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        result = pack.build_pack(actor=SYSTEM, institution=world.hospital, fiscal_year=2025, out_dir=tmp_path / "b")
    assert len(result.entries) == 12 and len(many.captured_queries) <= len(few.captured_queries)


def test_the_pack_screens_run_the_job_and_serve_the_files(client: Client, world: Any, year: Year,
                                                          make_member: Any) -> None:
    staff = make_member("pack-web", world.hospital, Role.STAFF)
    login_as(client, staff)
    page = client.get(reverse("assessments:pack")).content.decode()
    assert "立入検査用の一式" in page and "令和7年度（2025年度）" in page
    response = client.post(reverse("assessments:pack"), {"institution": world.hospital.pk, "fiscal_year": 2025})
    assert response.status_code == 302
    job_url = response["Location"]
    job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
    status = client.get(job_url).content.decode()  # the test settings run tasks at once
    assert "作成しました" in status and reverse("assessments:pack_download", args=[job_id, "zip"]) in status
    partial = client.get(job_url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="pack-status"') and "hx-get" not in partial
    downloads = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count()
    response = client.get(reverse("assessments:pack_download", args=[job_id, "zip"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"] and response["X-Content-Type-Options"] == "nosniff"
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).testzip() is None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == downloads + 1
    assert client.get(reverse("assessments:pack_download", args=[job_id, "exe"])).status_code == 404
    # Another organisation never sees the job.
    login_as(client, make_member("pack-other", world.other_hospital, Role.STAFF))
    assert client.get(job_url).status_code == 404
    assert client.get(reverse("assessments:pack_download", args=[job_id, "zip"])).status_code == 404


def test_a_job_the_worker_does_not_take_can_be_built_on_the_page(client: Client, world: Any, year: Year,
                                                                 make_member: Any) -> None:
    staff = make_member("pack-wait", world.hospital, Role.STAFF)
    login_as(client, staff)
    job = pack.job_create(actor=_actor(staff), institution=world.hospital, fiscal_year=2025)
    url = reverse("assessments:pack_job", args=[job.id])
    page = client.get(url).content.decode()
    assert "待機中" in page and 'hx-trigger="every 2s"' in page and "この画面で作成する" not in page
    assert client.get(reverse("assessments:pack_download", args=[job.id, "pdf"])).status_code == 302
    job.created = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    pack._save(job)
    assert "この画面で作成する" in client.get(url).content.decode()
    assert client.post(url, {"action": "run_here"}).status_code == 302
    done = pack.job_load(job.id)
    assert done is not None and done.status == pack.DONE and done.percent == 100
    assert set(done.files) == {"pdf", "zip", "csv"}


def test_cli_writes_the_pack_into_a_folder(world: Any, year: Year, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "pack"
    code = cli_main(["assessments", "export", "--fiscal-year", "2025", "--institution", "t-hospital", "--out",
                     str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    data = json.loads(captured.out)
    assert data["institution_code"] == "t-hospital" and len(data["documents"]) == 4
    assert sorted(path.name for path in out.iterdir()) == sorted(Path(p).name for p in data["files"].values())
    assert "作成中" in captured.err  # progress on stderr
    code = cli_main(["assessments", "export", "--fiscal-year", "2025", "--institution", "no-such", "--out", str(out)])
    assert code == 1 and "見つかりません" in capsys.readouterr().err
    assert cli_main(["assessments", "export", "--fiscal-year", "2025", "--institution", str(world.hospital.pk),
                     "--out", str(tmp_path / "by-id")]) == 0


def test_the_export_api(client: Client, world: Any, year: Year, make_member: Any) -> None:
    staff = make_member("api-staff", world.hospital, Role.STAFF)
    _token, secret = account_services.api_token_create(actor=_actor(staff), name="pack")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = client.get(f"/api/assessments/{year.vendor.pk}/export", {"format": "pdf"}, **headers)
    assert response.status_code == 200, response.content[:300]
    assert response.content.startswith(b"%PDF")
    assert client.get(f"/api/assessments/{year.vendor.pk}/export", {"format": "doc"}, **headers).status_code == 404
    response = client.get("/api/assessments/pack/2025", {"institution": "t-hospital", "format": "zip"}, **headers)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "checklists/03_2025_事業者確認用_テスト事業者.xlsx" in names
    stranger = make_member("api-stranger", world.other_vendor, Role.VENDOR)
    _token, other = account_services.api_token_create(actor=_actor(stranger), name="x")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {other}"}
    assert client.get(f"/api/assessments/{year.vendor.pk}/export", **headers).status_code == 404
    assert client.get("/api/assessments/pack/2025", {"institution": "t-hospital"}, **headers).status_code == 404
