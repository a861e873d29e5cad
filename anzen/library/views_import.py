"""The Excel import wizard (管理者): upload → choose sheet and columns → preview → confirm.

The uploaded workbook is kept under MEDIA_ROOT/library-imports/<sha256>.xlsx between the steps (never
served); the session remembers which file and which edition details belong to this user's import.
Confirming re-reads the stored file with the submitted settings, so what is created is exactly what
the preview of those settings shows. Nothing is written before the confirmation, and the creation
is atomic.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.common.http import requires
from anzen.library import excel_import, forms, selectors, services
from anzen.library.models import Framework

SESSION_KEY = "anzen_library_import"


def _profiles(actor: Any) -> list[tuple[str, str]]:
    builtin = [(f"builtin:{key}", entry["name"]) for key, entry in excel_import.builtin_profiles().items()]
    saved = [(f"saved:{p.key}", p.name) for p in selectors.import_profiles(actor)]
    return builtin + saved


def _profile_settings(actor: Any, choice: str) -> dict[str, Any]:
    kind, _sep, key = (choice or "").partition(":")
    if kind == "builtin":
        entry = excel_import.builtin_profiles().get(key)
        return dict(entry["settings"]) if entry else {}
    if kind == "saved":
        saved = selectors.import_profiles(actor).filter(key=key).first()
        return dict(saved.settings) if saved else {}
    return {}


@requires(Perm.LIBRARY_MANAGE)
def import_upload(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    frameworks = list(Framework.objects.order_by("key"))
    form = forms.ImportUploadForm(
        request.POST or None, request.FILES or None, frameworks=frameworks, profiles=_profiles(actor)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            stored = services.store_upload(stream=upload, name=upload.name, size=upload.size)
        except services.ExcelImportError as error:
            for problem in error.errors:
                form.add_error("file", problem)
        else:
            previous = request.session.get(SESSION_KEY)
            if previous and previous.get("sha256") != stored.sha256:
                services.discard_upload(previous.get("sha256", ""))
            is_new = data["framework"] == form.NEW
            settings = {
                "text_col": "B",
                "section_col": "A",
                "ref_col": "B",
                "header_text": "チェック項目",
                "id_prefix": "X",
                "audience": "institution",
            }
            settings.update(_profile_settings(actor, data.get("profile", "")))
            request.session[SESSION_KEY] = {
                "sha256": stored.sha256,
                "name": stored.name,
                "size": stored.size,
                "framework_key": data["new_framework_key"].strip() if is_new else data["framework"],
                "framework_title": data["new_framework_title"].strip() if is_new else "",
                "edition_code": data["edition_code"],
                "title": data["title"],
                "publisher": data["publisher"],
                "fiscal_year": data["fiscal_year"],
                "settings": settings,
            }
            return redirect("library:import_configure")
    return render(request, "library/import_upload.html", {"form": form})


def _settings_from(form_data: dict[str, Any], base: dict[str, Any]) -> excel_import.ImportSettings:
    merged = dict(base)
    for name in (
        "sheet",
        "text_col",
        "ref_col",
        "section_col",
        "audience_col",
        "audience",
        "header_text",
        "start_row",
        "id_prefix",
    ):
        merged[name] = form_data.get(name)
    if merged.get("start_row"):
        merged["header_text"] = ""
    merged["header_text"] = merged.get("header_text") or ""
    return excel_import.ImportSettings.from_dict(merged)


@requires(Perm.LIBRARY_MANAGE)
def import_configure(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    state = request.session.get(SESSION_KEY)
    if not state:
        messages.info(request, _("Excel ファイルをアップロードしてください。"))
        return redirect("library:import_upload")
    try:
        path = services.stored_path(state["sha256"])
        sheets = excel_import.sheet_names(path)
    except (services.ExcelImportError, excel_import.ExcelProblem) as error:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, "\n".join(getattr(error, "errors", [str(error)])))
        return redirect("library:import_upload")
    initial = {**state["settings"], "sheet": state["settings"].get("sheet") or sheets[0]}
    form = forms.ImportConfigureForm(request.POST or None, sheets=sheets, initial=initial)
    preview = None
    errors: list[str] = []
    sample: tuple[str, list[str], list[tuple[int, list[str]]]] | None = None
    if request.method == "POST" and form.is_valid():
        import_settings = _settings_from(form.cleaned_data, state["settings"])
        state["settings"] = {**state["settings"], **import_settings.as_dict()}
        request.session[SESSION_KEY] = state
        try:
            preview = services.preview(path, import_settings)
        except services.ExcelImportError as error:
            errors = error.errors
        if request.POST.get("action") == "confirm" and preview is not None and preview.ok:
            return _confirm(request, actor, state, path, import_settings, form.cleaned_data)
    chosen = form.cleaned_data.get("sheet") if form.is_bound and form.is_valid() else initial["sheet"]
    try:
        sample = excel_import.sheet_preview(path, chosen)
    except excel_import.ExcelProblem as problem:
        errors.append(str(problem))
    return render(
        request,
        "library/import_configure.html",
        {
            "form": form,
            "state": state,
            "preview": preview,
            "errors": errors,
            "sample": sample,
        },
    )


def _confirm(
    request: HttpRequest,
    actor: Any,
    state: dict[str, Any],
    path: Any,
    import_settings: excel_import.ImportSettings,
    data: dict[str, Any],
) -> HttpResponse:
    try:
        edition, outcome = services.import_excel_edition(
            path=path,
            import_settings=import_settings,
            framework_key=state["framework_key"],
            framework_title=state["framework_title"],
            edition_code=state["edition_code"],
            title=state["title"],
            publisher=state["publisher"],
            fiscal_year=state["fiscal_year"],
            official=bool(data.get("official")),
            file_label=state["name"],
            sha256=state["sha256"],
            declared_by=str(request.user) if data.get("official") else "",
        )
    except services.ExcelImportError as error:
        for problem in error.errors:
            messages.error(request, problem)
        return redirect("library:import_configure")
    if data.get("profile_name"):
        name = data["profile_name"].strip()
        key = slugify(name) or "profile-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
        services.import_profile_save(key=key, name=name, settings=import_settings.as_dict())
    services.discard_upload(state["sha256"])
    request.session.pop(SESSION_KEY, None)
    if outcome.status == "unchanged":
        messages.info(
            request,
            _("同じ内容の版が既にあります（%(key)s #%(v)d）。") % {"key": edition.key, "v": edition.version},
        )
    else:
        messages.success(
            request,
            _("%(key)s #%(v)d を登録しました（%(n)d 項目）。")
            % {"key": edition.key, "v": edition.version, "n": outcome.count},
        )
    return redirect("library:edition_detail", pk=edition.pk)


@requires(Perm.LIBRARY_MANAGE)
@require_POST
def import_cancel(request: HttpRequest) -> HttpResponse:
    state = request.session.pop(SESSION_KEY, None)
    if state:
        services.discard_upload(state.get("sha256", ""))
    messages.info(request, _("取込を中止しました。"))
    return redirect("library:framework_list")
