"""The inspection pack (立入検査用) of an institution for a fiscal year.

One PDF: an index page (institution, fiscal year, each document with its status, the dates it was
submitted, accepted and signed off, the signer, how complete it is, and signature lines), then the
institution's own checklist, every vendor checklist and every MDS/SDS received, each in its official
layout. One zip: that PDF, every assessment as xlsx and pdf, answers.csv, and the evidence files with a
manifest of their SHA-256 hashes. What goes in is what the actor may see (`scope`): for the institution
that is everything of that year; a vendor asking for a pack gets only its own forms.

`build_pack` runs synchronously (CLI, tests, the worker); `jobs` runs it as a django-tasks task with
progress for the screen.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django_tasks import task
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from anzen.accounts.models import Organisation
from anzen.accounts.roles import Perm
from anzen.assessments import exports, rules
from anzen.assessments.models import Assessment, AssessmentEvent, Evidence, Status, SubjectKind
from anzen.common import audit
from anzen.common.permissions import Actor, require, scope
from anzen.common.wareki import fiscal_year_label, format_with_era
from anzen.reports import checklist_pdf, checklist_xlsx, csv_writer, pdf
from anzen.reports.checklist import ChecklistDocument, LayoutKind
from anzen.reports.japanese_dates import slash

Progress = Callable[[int, int, str], None]
KIND_ORDER = {SubjectKind.INSTITUTION: 0, SubjectKind.VENDOR: 1, SubjectKind.SYSTEM: 2, SubjectKind.CHECKSHEET: 3}
_STORED = (".pdf", ".xlsx", ".png", ".jpg", ".jpeg", ".docx", ".zip")


@dataclass
class IndexEntry:
    number: int
    assessment: Assessment
    document: ChecklistDocument
    included: bool  # printed in the pack (received); drafts of other respondents are listed only
    submitted: dt.date | None = None
    accepted: dt.date | None = None
    signed_off: dt.date | None = None
    signer: str = ""
    required: int = 0
    complete: int = 0


@dataclass
class PackResult:
    institution: Organisation
    fiscal_year: int
    entries: list[IndexEntry]
    files: dict[str, Path] = field(default_factory=dict)  # "pdf" / "zip" / "csv" → path

    def as_dict(self) -> dict[str, Any]:
        return {"institution": self.institution.name, "institution_code": self.institution.code,
                "fiscal_year": self.fiscal_year,
                "files": {kind: str(path) for kind, path in self.files.items()},
                "documents": [{"assessment": e.assessment.pk, "form": e.document.short_title,
                               "respondent": e.document.respondent, "subject": e.document.subject_label,
                               "status": e.assessment.status, "included": e.included,
                               "submitted": e.submitted, "accepted": e.accepted, "signed_off": e.signed_off,
                               "signer": e.signer, "required": e.required, "complete": e.complete}
                              for e in self.entries]}


def pack_assessments(actor: Actor, institution: Organisation, fiscal_year: int) -> list[Assessment]:
    found = scope(actor, Assessment.objects.filter(institution=institution, fiscal_year=fiscal_year),
                  Perm.ASSESSMENT_EXPORT).select_related("respondent", "form", "edition")
    return sorted(found, key=lambda a: (KIND_ORDER.get(a.subject_kind, 9), a.respondent.name, a.subject_label, a.pk))


def file_stem(institution: Organisation, fiscal_year: int) -> str:
    return exports.safe_filename(f"立入検査用_{fiscal_year}年度_{institution.name}")


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(value).date() if value else None


def _completeness(assessment: Assessment, document: ChecklistDocument) -> tuple[int, int]:
    layout = rules.Layout.from_form_meta(assessment.form.meta if assessment.form_id else None)
    required = complete = 0
    for item in document.items:
        if not item.answerable or item.status != rules.ItemStatus.REQUIRED:
            continue
        required += 1
        values = rules.Values(item.round1_value, item.round1_date, item.target_date, item.round2_value,
                              item.round2_date)
        complete += rules.is_complete(values, layout)
    return required, complete


def index_entries(assessments: list[Assessment], documents: list[ChecklistDocument]) -> list[IndexEntry]:
    accepted: dict[int, dt.datetime] = {}
    for assessment_id, at in AssessmentEvent.objects.filter(
            assessment_id__in=[a.pk for a in assessments], to_status=Status.ACCEPTED).values_list(
            "assessment_id", "at").order_by("at"):
        accepted[assessment_id] = at
    entries = []
    for number, (assessment, document) in enumerate(zip(assessments, documents, strict=True), 1):
        own = assessment.respondent_id == assessment.institution_id
        included = own or assessment.status != Status.DRAFT
        signer = assessment.signer
        required, complete = _completeness(assessment, document)
        entries.append(IndexEntry(number, assessment, document, included, _local_date(assessment.submitted_at),
                                  _local_date(accepted.get(assessment.pk)), _local_date(assessment.signed_off_at),
                                  signer, required, complete))
    return entries


def _index_story(institution: Organisation, fiscal_year: int, entries: list[IndexEntry], st: pdf.Styles,
                 today: dt.date, prepared_by: str) -> list[Flowable]:
    story: list[Flowable] = [
        pdf.Part("目次"),
        pdf.para("立入検査用 資料一式", st.title),
        pdf.para("医療機関におけるサイバーセキュリティ対策チェックリスト・事業者確認用・MDS/SDS", st.subtitle),
        Spacer(1, 3 * mm),
    ]
    facts = [[pdf.para("医療機関等", st.cell), pdf.para(institution.name, st.cell)],
             [pdf.para("年度", st.cell), pdf.para(fiscal_year_label(fiscal_year), st.cell)],
             [pdf.para("作成日", st.cell), pdf.para(format_with_era(today), st.cell)]]
    if prepared_by:
        facts.append([pdf.para("作成者", st.cell), pdf.para(prepared_by, st.cell)])
    story += [pdf.table(facts, [30 * mm, pdf.frame_width() - 30 * mm], header_rows=0,
                        commands=[("GRID", (0, 0), (-1, -1), 0.5, pdf.LINE),
                                  ("BACKGROUND", (0, 0), (0, -1), pdf.HEADER_BG)]),
              Spacer(1, 5 * mm), pdf.para("収録書類", st.heading)]
    header = [pdf.para(label, st.cell_center) for label in
              ("No.", "書類", "回答者・対象", "状態", "提出日", "受理日", "承認日", "承認者", "記入状況")]
    rows: list[list[Any]] = [header]
    for entry in entries:
        document = entry.document
        who = document.respondent + (f"\n{document.subject_label}" if document.subject_label else "")
        status = document.status + ("" if entry.included else "\n（未提出のため収録なし）")
        filled = f"{entry.complete}/{entry.required}" if entry.required else "—"
        rows.append([pdf.para(str(entry.number), st.cell_center), pdf.para(document.short_title, st.cell),
                     pdf.para(who, st.cell), pdf.para(status, st.cell_center),
                     pdf.para(slash(entry.submitted), st.cell_center), pdf.para(slash(entry.accepted), st.cell_center),
                     pdf.para(slash(entry.signed_off), st.cell_center), pdf.para(entry.signer, st.cell),
                     pdf.para(filled, st.cell_center)])
    if not entries:
        rows.append([pdf.para("この年度の評価はありません。", st.cell)] + [""] * 8)
    widths = [9 * mm, 0.0, 34 * mm, 17 * mm, 21 * mm, 21 * mm, 21 * mm, 22 * mm, 16 * mm]
    widths[1] = pdf.frame_width() - sum(widths)
    commands: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, pdf.LINE)]
    if not entries:
        commands.append(("SPAN", (0, 1), (-1, 1)))
    story += [pdf.table(rows, widths, header_rows=1, commands=commands), Spacer(1, 2 * mm),
              pdf.para("記入状況: 必須項目のうち、回答と確認日（「いいえ」は目標日も）が記入された項目の数。"
                       "承認者・承認日は Anzen で承認（サインオフ）した記録です。", st.grey),
              Spacer(1, 8 * mm), pdf.para("確認欄", st.heading)]
    signature = [[pdf.para(label, st.cell), "", pdf.para("日付", st.cell_center), "", pdf.para("印", st.cell_center)]
                 for label in ("医療機関の管理者", "医療情報システム安全管理責任者")]
    story.append(pdf.table(signature, [52 * mm, 62 * mm, 16 * mm, 40 * mm, 16 * mm], header_rows=0,
                           commands=[("GRID", (0, 0), (-1, -1), 0.5, pdf.LINE),
                                     ("BACKGROUND", (0, 0), (0, -1), pdf.HEADER_BG),
                                     ("TOPPADDING", (0, 0), (-1, -1), 9), ("BOTTOMPADDING", (0, 0), (-1, -1), 9)]))
    return story


def pack_pdf(institution: Organisation, fiscal_year: int, entries: list[IndexEntry], *, today: dt.date,
             prepared_by: str = "") -> bytes:
    st = pdf.styles()
    story = _index_story(institution, fiscal_year, entries, st, today, prepared_by)
    for entry in entries:
        if not entry.included:
            continue
        story += checklist_pdf.part_break(entry.document.layout == LayoutKind.CHECKSHEET)
        story += checklist_pdf.story(entry.document, st)
    info = pdf.PageInfo(institution=institution.name, fiscal_year_label=fiscal_year_label(fiscal_year),
                        exported_label=format_with_era(today), title=f"立入検査用 資料一式 {institution.name}")
    return pdf.render(story, info)


def _evidence(assessments: list[Assessment]) -> list[Evidence]:
    return list(Evidence.objects.filter(answer__assessment_id__in=[a.pk for a in assessments]).select_related(
        "answer__node", "answer__assessment__respondent").order_by("answer__assessment_id", "answer__node__position",
                                                                   "created_at", "pk"))


MANIFEST_HEADER = ("SHA-256", "サイズ", "zip内のファイル", "元のファイル名", "名称", "種類", "URL", "基準日", "書類",
                   "回答者", "番号", "項目ID", "評価ID")


def _write_zip(path: Path, *, pdf_name: str, pdf_data: bytes, csv_data: bytes, entries: list[IndexEntry],
               files: list[tuple[str, bytes]], evidence: list[Evidence], report: Callable[[str], None]) -> None:
    from anzen.assessments.services_evidence import evidence_path

    numbers = {entry.assessment.pk: entry.number for entry in entries}
    titles = {entry.assessment.pk: entry.document.short_title for entry in entries}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        def add(name: str, data: bytes) -> None:
            kind = zipfile.ZIP_STORED if name.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6]), data,
                             compress_type=kind)

        add(pdf_name, pdf_data)
        add("answers.csv", csv_data)
        for name, data in files:
            add(f"checklists/{name}", data)
        manifest: list[list[str]] = []
        written: set[str] = set()
        for item in evidence:
            answer = item.answer
            common = [slash(item.effective_date), titles.get(answer.assessment_id, ""),
                      answer.assessment.respondent.name, answer.node.ref, answer.node.node_id,
                      str(answer.assessment_id)]
            if item.kind == Evidence.Kind.LINK:
                manifest.append(["", "", "", "", item.title, "リンク", item.url, *common])
                continue
            inside = f"evidence/{numbers.get(answer.assessment_id, 0):02d}_{item.sha256[:12]}_" \
                     f"{exports.safe_filename(item.original_name or item.title)}"
            try:
                source = evidence_path(item.sha256)
                if inside not in written:
                    with source.open("rb") as handle, archive.open(
                            zipfile.ZipInfo(inside, date_time=timezone.localtime().timetuple()[:6]), "w") as out:
                        while chunk := handle.read(1024 * 1024):
                            out.write(chunk)
                    written.add(inside)
            except (OSError, ValueError):
                inside = "（ファイルが保管場所にありません）"
            manifest.append([item.sha256, str(item.size), inside, item.original_name, item.title, "ファイル", "",
                             *common])
            report(item.title)
        add("evidence/manifest.csv", csv_writer.csv_bytes(MANIFEST_HEADER, manifest))


def build_pack(*, actor: Actor, institution: Organisation, fiscal_year: int, out_dir: Path,
               progress: Progress | None = None, prepared_by: str = "") -> PackResult:
    """Write the pack's PDF, zip and answers CSV into out_dir and return where they are."""
    require(actor, Perm.ASSESSMENT_EXPORT)
    out_dir.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    assessments = pack_assessments(actor, institution, fiscal_year)
    documents = exports.documents_for(assessments, today=today)
    entries = index_entries(assessments, documents)
    # Forms other respondents have not submitted yet are listed in the index only (not received).
    received = [entry for entry in entries if entry.included]
    evidence = _evidence([entry.assessment for entry in received])
    total = 3 + 2 * len(received) + len(evidence)
    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done, total), total, label)

    step("index")
    files: list[tuple[str, bytes]] = []
    for entry in received:
        document = entry.document
        name = f"{entry.number:02d}_{exports.base_name(document)}"
        files.append((f"{name}.xlsx", checklist_xlsx.workbook_bytes([document])))
        step(f"{name}.xlsx")
        files.append((f"{name}.pdf", checklist_pdf.pdf_bytes(document, exports.page_info(document))))
        step(f"{name}.pdf")
    stem = file_stem(institution, fiscal_year)
    pdf_data = pack_pdf(institution, fiscal_year, entries, today=today, prepared_by=prepared_by)
    step("pack.pdf")
    csv_data = exports.answers_csv([e.assessment for e in received], [e.document for e in received])
    result = PackResult(institution, fiscal_year, entries)
    result.files["pdf"] = out_dir / f"{stem}.pdf"
    result.files["pdf"].write_bytes(pdf_data)
    result.files["csv"] = out_dir / f"{stem}_回答一覧.csv"
    result.files["csv"].write_bytes(csv_data)
    result.files["zip"] = out_dir / f"{stem}.zip"
    partial = result.files["zip"].with_suffix(".zip.part")
    _write_zip(partial, pdf_name=f"{stem}.pdf", pdf_data=pdf_data, csv_data=csv_data, entries=entries, files=files,
               evidence=evidence, report=step)
    partial.replace(result.files["zip"])
    step("pack.zip")
    audit.record(audit.Action.EXPORT, obj=institution,
                 message=f"立入検査用一式 {fiscal_year}年度: 評価 {len(received)} 件、エビデンス {len(evidence)} 件")
    return result


def fiscal_years(actor: Actor, institution_ids: list[int]) -> list[int]:
    """Fiscal years with assessments the actor may export, newest first (one query)."""
    found = scope(actor, Assessment.objects.filter(institution_id__in=institution_ids), Perm.ASSESSMENT_EXPORT)
    return sorted(set(found.values_list("fiscal_year", flat=True)), reverse=True)


def institutions(actor: Actor) -> list[Organisation]:
    """Institutions the actor may ask a pack for: its own, or its partner institutions (vendor, evaluator).

    What goes into the pack is still scoped: a vendor gets only its own forms of that institution."""
    from anzen.accounts.roles import OrgKind
    from anzen.common.permissions import partner_org_ids

    if actor.is_system:
        return list(Organisation.objects.filter(kind=OrgKind.INSTITUTION).order_by("name"))
    if actor.org_id is None:
        return []
    ids = {actor.org_id} if actor.kind == OrgKind.INSTITUTION else partner_org_ids(actor)
    return list(Organisation.objects.filter(pk__in=ids, kind=OrgKind.INSTITUTION).order_by("name"))


# --- generation in the background (django-tasks) with progress for the screen ---------------------------
#
# A job is a folder MEDIA_ROOT/packs/<id>/ (outside the web root) holding job.json and, when done, the
# files. Only members of the organisation that asked for it see it; files are served only through the
# scoped download view. Old jobs are removed after JOB_TTL.

JOB_TTL = dt.timedelta(days=7)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class PackJob:
    id: str
    institution_id: int
    fiscal_year: int
    organisation_id: int | None
    membership_id: int | None
    status: str = QUEUED
    done: int = 0
    total: int = 0
    message: str = ""
    files: dict[str, str] = field(default_factory=dict)  # kind → file name inside the job folder
    created: str = ""
    finished: str = ""
    error: str = ""

    @property
    def folder(self) -> Path:
        return jobs_root() / self.id

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == DONE else 0)

    @property
    def finished_or_failed(self) -> bool:
        return self.status in (DONE, FAILED)

    def waited(self) -> dt.timedelta:
        created = dt.datetime.fromisoformat(self.created) if self.created else timezone.now()
        return timezone.now() - created


def jobs_root() -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "packs"


def _save(job: PackJob) -> None:
    job.folder.mkdir(parents=True, exist_ok=True)
    temporary = job.folder / "job.json.part"
    temporary.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
    temporary.replace(job.folder / "job.json")


def job_load(job_id: str) -> PackJob | None:
    if not _JOB_ID.match(job_id or ""):
        return None
    try:
        data = json.loads((jobs_root() / job_id / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return PackJob(**data)


def job_for(actor: Actor, job_id: str) -> PackJob:
    """The actor's organisation's job, or 404 (a foreign job is never acknowledged)."""
    require(actor, Perm.ASSESSMENT_EXPORT)
    job = job_load(job_id)
    if job is None or actor.org_id is None or job.organisation_id != actor.org_id:
        raise Http404
    return job


def _remove_old_jobs() -> None:
    root = jobs_root()
    if not root.is_dir():
        return
    limit = (timezone.now() - JOB_TTL).timestamp()
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def job_create(*, actor: Actor, institution: Organisation, fiscal_year: int) -> PackJob:
    require(actor, Perm.ASSESSMENT_EXPORT)
    _remove_old_jobs()
    job = PackJob(id=uuid.uuid4().hex, institution_id=institution.pk, fiscal_year=fiscal_year,
                  organisation_id=actor.org_id, membership_id=actor.membership.pk if actor.membership else None,
                  created=timezone.now().isoformat())
    _save(job)
    return job


def job_run(job_id: str) -> PackJob:
    """Build the pack of a job as the member who asked for it (its scope, its name in the audit trail)."""
    from anzen.accounts.models import Membership
    from anzen.common.context import acting, context_for

    job = job_load(job_id)
    if job is None or job.status in (RUNNING, DONE):
        return job  # type: ignore[return-value]
    membership = Membership.objects.select_related("user", "organisation").filter(pk=job.membership_id).first()
    job.status, job.message = RUNNING, ""
    _save(job)
    last_saved = [0.0]

    def progress(done: int, total: int, label: str) -> None:
        job.done, job.total, job.message = done, total, label
        now = time.monotonic()
        if now - last_saved[0] > 0.5 or done == total:
            last_saved[0] = now
            _save(job)

    try:
        if membership is None or not membership.is_active:
            raise PermissionDenied
        actor = Actor(membership.user, membership)
        institution = Organisation.objects.get(pk=job.institution_id)
        with acting(context_for(membership.user, membership.organisation, source="system")):
            result = build_pack(actor=actor, institution=institution, fiscal_year=job.fiscal_year, out_dir=job.folder,
                                progress=progress, prepared_by=membership.user.display_name or str(membership.user))
        job.files = {kind: path.name for kind, path in result.files.items()}
        job.status, job.done = DONE, job.total
    except Exception as error:  # the screen shows the failure; the worker log has the traceback
        job.status, job.error = FAILED, type(error).__name__
        _save(job)
        raise
    job.finished = timezone.now().isoformat()
    _save(job)
    return job


@task()
def pack_task(job_id: str) -> None:
    job_run(job_id)


def job_start(*, actor: Actor, institution: Organisation, fiscal_year: int) -> PackJob:
    """Create a job and hand it to the task worker (the test settings run it at once)."""
    job = job_create(actor=actor, institution=institution, fiscal_year=fiscal_year)
    with contextlib.suppress(Exception):  # a failing task is reported through the job's status
        pack_task.enqueue(job.id)
    return job_load(job.id) or job


def job_file(job: PackJob, kind: str) -> Path:
    name = job.files.get(kind)
    if job.status != DONE or not name:
        raise Http404
    path = job.folder / name
    if not path.is_file():
        raise Http404
    return path
