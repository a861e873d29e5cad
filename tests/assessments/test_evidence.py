"""Evidence: type by extension AND content, size limit, SHA-256 content-addressed storage outside the
web root, downloads only as attachments (never inline), every download in the audit trail."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from anzen.assessments import services, uploads
from anzen.assessments.models import Evidence
from anzen.assessments.services_evidence import evidence_path
from anzen.common.models import AuditEntry
from tests.assessments.conftest import DAY, own_checklist, vendor_form
from tests.conftest import login_as

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def ooxml(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def answer(parties, checklist):
    assessment = own_checklist(parties, checklist)
    return services.answer_set(actor=parties["staff"], assessment=assessment, node=checklist["H-2-1"],
                               round1_value="yes", round1_date=DAY)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")  # the claimed type is ignored


@pytest.mark.parametrize(("name", "content"), [
    ("台帳.pdf", PDF), ("photo.png", PNG), ("photo.JPG", JPG), ("ledger.xlsx", ooxml("xl/workbook.xml")),
    ("規程.docx", ooxml("word/document.xml")), ("list.csv", "機器,場所\nPC1,外来\n".encode("cp932")),
    ("memo.txt", "確認済み\n".encode()),
])
def test_accepted_types_are_stored_by_sha256(parties, answer, name, content) -> None:
    evidence = services.evidence_add_file(actor=parties["staff"], answer=answer, uploaded_file=upload(name, content),
                                          effective_date=DAY)
    sha = hashlib.sha256(content).hexdigest()
    assert (evidence.sha256, evidence.size, evidence.original_name, evidence.title) == (sha, len(content), name, name)
    path = evidence_path(sha)
    assert path == Path(settings.MEDIA_ROOT) / "evidence" / sha[:2] / sha
    assert path.read_bytes() == content
    assert not str(path).startswith(str(settings.STATIC_ROOT))
    assert AuditEntry.objects.filter(object_type="assessments.evidence", object_id=str(evidence.pk),
                                     action="create").exists()


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("tool.exe", b"MZ\x90\x00", "この種類のファイルは登録できません"),
    ("page.html", b"<html><script>alert(1)</script>", "この種類のファイルは登録できません"),
    ("noext", b"%PDF-1.4", "この種類のファイルは登録できません"),
    ("fake.pdf", b"<html>not a pdf</html>", "一致しません"),
    ("fake.png", PDF, "一致しません"),
    ("fake.xlsx", ooxml("word/document.xml"), "一致しません"),
    ("fake.docx", b"PK\x03\x04broken zip", "一致しません"),
    ("binary.txt", b"text\x00with nul", "一致しません"),
    ("zip.csv", ooxml("xl/workbook.xml"), "一致しません"),
    ("empty.pdf", b"", "空です"),
])
def test_refused_files_change_nothing(parties, answer, media, name, content, reason) -> None:
    with pytest.raises(ValidationError) as error:
        services.evidence_add_file(actor=parties["staff"], answer=answer, uploaded_file=upload(name, content))
    assert reason in str(error.value) and "2(1)" in str(error.value)
    assert not Evidence.objects.exists()
    root = media / "evidence"
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_size_limit(parties, answer, settings) -> None:
    settings.ANZEN_MAX_UPLOAD_BYTES = 1024 * 1024
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(ValidationError, match="大きすぎます"):
        services.evidence_add_file(actor=parties["staff"], answer=answer, uploaded_file=upload("big.pdf", big))


def test_safe_names_drop_folders_and_control_characters() -> None:
    assert uploads.safe_name("C:\\Users\\x\\..\\台帳.pdf") == "台帳.pdf"
    assert uploads.safe_name("../../etc/passwd\x00.txt") == "passwd.txt"
    assert uploads.safe_name("") == "evidence"


def test_only_the_respondent_adds_evidence(parties, checklist) -> None:
    request = vendor_form(parties, checklist)
    answer = services.answer_set(actor=parties["vendor"], assessment=request, node=checklist["V-1-1"],
                                 round1_value="yes", round1_date=DAY)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.evidence_add_link(actor=parties["staff"], answer=answer, url="https://x.example/a", title="a")
    with pytest.raises(ValidationError, match="http"):
        services.evidence_add_link(actor=parties["vendor"], answer=answer, url="javascript:alert(1)", title="a")
    link = services.evidence_add_link(actor=parties["vendor"], answer=answer, url="https://intra.example/doc/1",
                                      title="体制図")
    assert link.kind == Evidence.Kind.LINK and link.url == "https://intra.example/doc/1"


def test_download_is_an_audited_attachment_never_inline(client, parties, answer) -> None:
    evidence = services.evidence_add_file(actor=parties["staff"], answer=answer,
                                          uploaded_file=upload("機器台帳 2025.pdf", PDF))
    login_as(client, parties.memberships["auditor"])
    response = client.get(reverse("assessments:evidence_download", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "inline" not in disposition
    assert f"filename*=utf-8''{quote('機器台帳 2025.pdf')}" in disposition
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PDF
    entry = AuditEntry.objects.filter(action="export", object_type="assessments.evidence").get()
    assert entry.object_id == str(evidence.pk) and evidence.sha256 in entry.message
    assert entry.actor_label == "p-auditor"


def test_download_of_a_foreign_evidence_is_not_found(client, parties, answer) -> None:
    evidence = services.evidence_add_file(actor=parties["staff"], answer=answer, uploaded_file=upload("a.pdf", PDF))
    for who in ("vendor", "other_vendor", "evaluator", "other_staff"):
        login_as(client, parties.memberships[who])
        assert client.get(reverse("assessments:evidence_download", args=[evidence.pk])).status_code == 404, who
    assert not AuditEntry.objects.filter(action="export").exists()


def test_upload_and_link_through_the_item_page(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    login_as(client, parties.memberships["staff"])
    node = checklist["H-1-1"]
    client.post(reverse("assessments:evidence_upload", args=[assessment.pk, node.pk]),
                {"file": upload("任命書.pdf", PDF), "title": "任命書", "effective_date": "2025-04-01"})
    refused = client.post(reverse("assessments:evidence_upload", args=[assessment.pk, node.pk]),
                          {"file": upload("x.exe", b"MZ")}, follow=True)
    assert "この種類のファイルは登録できません" in refused.content.decode()
    client.post(reverse("assessments:evidence_link", args=[assessment.pk, node.pk]),
                {"url": "https://intra.example/org", "title": "組織図"})
    html = client.get(reverse("assessments:item", args=[assessment.pk, node.pk])).content.decode()
    assert "任命書" in html and "組織図" in html and hashlib.sha256(PDF).hexdigest() in html
    assert Evidence.objects.filter(answer__assessment=assessment).count() == 2
    file_evidence = Evidence.objects.get(kind="file")
    client.post(reverse("assessments:evidence_delete", args=[file_evidence.pk]))
    assert not Evidence.objects.filter(pk=file_evidence.pk).exists()


def test_item_page_evidence_forms_report_missing_input_and_success(client, parties, checklist) -> None:
    assessment = own_checklist(parties, checklist)
    login_as(client, parties.memberships["staff"])
    node = checklist["H-1-1"]
    upload_url = reverse("assessments:evidence_upload", args=[assessment.pk, node.pk])
    link_url = reverse("assessments:evidence_link", args=[assessment.pk, node.pk])
    missing_file = client.post(upload_url, {"title": "任命書"})
    assert missing_file.url.endswith("#evidence")
    assert "ファイルを選んでください。" in client.get(missing_file.url).content.decode()
    missing_url = client.post(link_url, {"title": "組織図"}, follow=True).content.decode()
    assert "リンクの URL と名称を入力してください。" in missing_url
    assert not Evidence.objects.filter(answer__assessment=assessment).exists()
    added_file = client.post(upload_url, {"file": upload("任命書.pdf", PDF), "title": "任命書",
                                          "effective_date": "2025-04-01"}, follow=True).content.decode()
    assert "エビデンスを登録しました。" in added_file
    added_link = client.post(link_url, {"url": "https://intra.example/org", "title": "組織図"},
                             follow=True).content.decode()
    assert "リンクを登録しました。" in added_link
    file_evidence, link = Evidence.objects.get(kind="file"), Evidence.objects.get(kind="link")
    assert file_evidence.title == "任命書" and str(file_evidence.effective_date) == "2025-04-01"
    assert link.url == "https://intra.example/org" and link.title == "組織図"
