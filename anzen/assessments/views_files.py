"""Screens for files in and out: downloads of one assessment (xlsx / pdf / csv), the Excel import wizard
(upload → preview → confirm) and the inspection pack (choose year → generate → download).

Thin views: assessments come through `get_scoped` (a foreign one is a 404), exports and imports are in
`exports`, `excel_io` and `pack`. A refusal that depends on the object (not the respondent, submitted,
signed off) is explained on the page, never a 403 (403 means the role lacks the permission).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anzen.accounts.models import Organisation
from anzen.accounts.roles import Perm
from anzen.assessments import excel_io, exports, pack, policy
from anzen.assessments.models import Assessment
from anzen.common import audit
from anzen.common.http import generated_download, requires
from anzen.common.permissions import Actor, get_scoped
from anzen.common.wareki import fiscal_year_label, fiscal_year_of

IMPORT_SESSION = "anzen_assessment_import"
PACK_SESSION = "anzen_pack_jobs"
WORKER_HINT_AFTER = dt.timedelta(seconds=20)


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _assessment(request: HttpRequest, pk: int, perm: Perm) -> Assessment:
    return get_scoped(_actor(request), Assessment.objects.select_related(
        "institution", "respondent", "edition", "form"), perm, pk=pk)


# --- downloads of one assessment ---------------------------------------------------------------------------


@requires(Perm.ASSESSMENT_EXPORT)
def export_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    assessment = _assessment(request, pk, Perm.ASSESSMENT_EXPORT)
    result = exports.export_assessment(actor=_actor(request), assessment=assessment, fmt=fmt)
    return generated_download(result.content, result.filename, result.content_type, cache_control="no-store")


# --- Excel import ---------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("記入済みの Excel ファイル（.xlsx）"))


def _import_state(request: HttpRequest, assessment: Assessment) -> dict[str, Any] | None:
    state = request.session.get(IMPORT_SESSION)
    if not state or state.get("assessment") != assessment.pk:
        return None
    return state


def _refusal(actor: Actor, assessment: Assessment) -> str:
    if policy.can_answer(actor, assessment):
        return ""
    if not policy.is_respondent(actor, assessment):
        return _("この評価に取り込めるのは回答者（%(name)s）の組織だけです。") % {"name": assessment.respondent.name}
    if assessment.is_read_only:
        return _("承認済みの評価には取り込めません（依頼元の医療機関等が再開すると取り込めます）。")
    return _("提出後は取り込めません（差戻しまたは再開を待ってください）。")


@requires(Perm.ASSESSMENT_ANSWER)
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    assessment = _assessment(request, pk, Perm.ASSESSMENT_VIEW)
    refusal = _refusal(actor, assessment)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not refusal and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            stored = excel_io.store_upload(stream=upload, name=upload.name, size=upload.size)
        except excel_io.ImportRejected as rejected:
            for problem in rejected.errors:
                form.add_error("file", problem)
        else:
            previous = request.session.get(IMPORT_SESSION) or {}
            if previous.get("sha256") and previous.get("sha256") != stored.sha256:
                excel_io.discard_upload(previous["sha256"])
            request.session[IMPORT_SESSION] = {"assessment": assessment.pk, "sha256": stored.sha256,
                                               "name": stored.name, "size": stored.size}
            return redirect("assessments:import_preview", pk=assessment.pk)
    layout = exports.layout_for(assessment, assessment.form if assessment.form_id else None)
    return render(request, "assessments/files/import_upload.html", {
        "assessment": assessment, "form": form, "refusal": refusal, "layout_label": excel_io.layout_label(layout),
        "max_mb": _max_mb(),
    }, status=200)


def _max_mb() -> int:
    from django.conf import settings

    return settings.ANZEN_MAX_UPLOAD_BYTES // (1024 * 1024)


@requires(Perm.ASSESSMENT_ANSWER)
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    assessment = _assessment(request, pk, Perm.ASSESSMENT_VIEW)
    state = _import_state(request, assessment)
    if state is None:
        messages.info(request, _("記入済みの Excel ファイルをアップロードしてください。"))
        return redirect("assessments:import_upload", pk=assessment.pk)
    refusal = _refusal(actor, assessment)
    if refusal:
        messages.error(request, refusal)
        return redirect("assessments:import_upload", pk=assessment.pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "cancel":
        excel_io.discard_upload(state["sha256"])
        request.session.pop(IMPORT_SESSION, None)
        messages.info(request, _("取込を取り消しました。何も変更していません。"))
        return redirect("assessments:detail", pk=assessment.pk)
    try:
        path = excel_io.stored_path(state["sha256"])
        if action == "confirm":
            result = excel_io.import_workbook(actor=actor, assessment=assessment, path=path, name=state["name"])
            excel_io.discard_upload(state["sha256"])
            request.session.pop(IMPORT_SESSION, None)
            messages.success(request, _("Excel から %(count)s 項目の回答を取り込みました。")
                             % {"count": len(result.changes)})
            return redirect("assessments:detail", pk=assessment.pk)
        preview = excel_io.preview_import(actor=actor, assessment=assessment, path=path)
    except excel_io.ImportRejected as rejected:
        for problem in rejected.errors:
            messages.error(request, problem)
        if action == "confirm":
            return redirect("assessments:import_preview", pk=assessment.pk)
        request.session.pop(IMPORT_SESSION, None)
        return redirect("assessments:import_upload", pk=assessment.pk)
    return render(request, "assessments/files/import_preview.html", {
        "assessment": assessment, "preview": preview, "file_name": state["name"],
        "layout_label": excel_io.layout_label(preview.layout),
    })


# --- the inspection pack ---------------------------------------------------------------------------------------


class PackForm(forms.Form):
    institution = forms.TypedChoiceField(label=gettext_lazy("医療機関等"), coerce=int)
    fiscal_year = forms.TypedChoiceField(label=gettext_lazy("年度"), coerce=int)

    def __init__(self, *args: Any, institutions: list[Organisation], years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = [(org.pk, org.name) for org in institutions]
        self.fields["fiscal_year"].choices = [(year, fiscal_year_label(year)) for year in years]


def _pack_choices(actor: Actor) -> tuple[list[Organisation], list[int]]:
    institutions = pack.institutions(actor)
    current = fiscal_year_of(timezone.localdate())
    years = sorted(set(pack.fiscal_years(actor, [org.pk for org in institutions])) | {current}, reverse=True)
    return institutions, years


def _recent_jobs(request: HttpRequest) -> list[pack.PackJob]:
    actor = _actor(request)
    jobs = []
    for job_id in request.session.get(PACK_SESSION, [])[:5]:
        job = pack.job_load(job_id)
        if job is not None and job.organisation_id == actor.org_id:
            jobs.append(job)
    return jobs


@requires(Perm.ASSESSMENT_EXPORT)
def pack_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    institutions, years = _pack_choices(actor)
    initial = {"fiscal_year": fiscal_year_of(timezone.localdate()),
               "institution": actor.org_id if any(org.pk == actor.org_id for org in institutions) else None}
    form = PackForm(request.POST or None, institutions=institutions, years=years, initial=initial)
    if request.method == "POST" and form.is_valid():
        institution = next(org for org in institutions if org.pk == form.cleaned_data["institution"])
        job = pack.job_start(actor=actor, institution=institution, fiscal_year=form.cleaned_data["fiscal_year"])
        request.session[PACK_SESSION] = [job.id, *request.session.get(PACK_SESSION, [])][:10]
        return redirect("assessments:pack_job", job=job.id)
    names = {org.pk: org.name for org in institutions}
    jobs = [(job, names.get(job.institution_id, "")) for job in _recent_jobs(request)]
    return render(request, "assessments/files/pack.html", {"form": form, "institutions": institutions,
                                                           "jobs": jobs})


def _job_context(request: HttpRequest, job: pack.PackJob) -> dict[str, Any]:
    institution = Organisation.objects.filter(pk=job.institution_id).first()
    return {"job": job, "institution": institution, "fiscal_label": fiscal_year_label(job.fiscal_year),
            "worker_hint": job.status == pack.QUEUED and job.waited() > WORKER_HINT_AFTER}


@requires(Perm.ASSESSMENT_EXPORT)
def pack_job(request: HttpRequest, job: str) -> HttpResponse:
    actor = _actor(request)
    found = pack.job_for(actor, job)
    if request.method == "POST" and request.POST.get("action") == "run_here" and found.status == pack.QUEUED:
        try:  # the worker did not take it: build it in this request
            found = pack.job_run(found.id)
        except Exception:  # shown as a failed job
            found = pack.job_for(actor, job)
        return redirect("assessments:pack_job", job=found.id)
    context = _job_context(request, found)
    if getattr(request, "htmx", False):
        return render(request, "assessments/files/_pack_status.html", context)
    return render(request, "assessments/files/pack_job.html", context)


@requires(Perm.ASSESSMENT_EXPORT)
def pack_download(request: HttpRequest, job: str, kind: str) -> HttpResponse:
    actor = _actor(request)
    found = pack.job_for(actor, job)
    if kind not in ("pdf", "zip", "csv"):
        raise Http404
    if found.status != pack.DONE:
        messages.info(request, _("立入検査用の一式はまだ作成中です。"))
        return redirect("assessments:pack_job", job=found.id)
    path = pack.job_file(found, kind)
    institution = Organisation.objects.filter(pk=found.institution_id).first()
    if institution is not None:
        audit.record(audit.Action.EXPORT, obj=institution,
                     message=f"立入検査用一式のダウンロード {found.fiscal_year}年度: {path.name}")
    content_type = {"pdf": exports.PDF_TYPE, "zip": "application/zip", "csv": exports.CSV_TYPE}[kind]
    response = FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"  # like every other download: never sniffed or rendered
    response["Cache-Control"] = "no-store"
    return response

