"""Screens of the ledger import (管理者・担当者): upload → columns (a profile, or column by column) →
preview → confirm; and the institution's saved column layouts.

The uploaded file stays under MEDIA_ROOT/asset-imports/ between the steps (never served); the session
holds which file, how to read it and the mapping. Nothing is written before the confirmation, and the
confirmation re-reads the file and re-plans against the ledger as it is then, in one transaction.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from anzen.accounts.roles import Perm
from anzen.assets import import_files, importing, services_import
from anzen.assets.importing import Mapping
from anzen.assets.models import DeviceKind, DeviceStatus, ImportProfile
from anzen.common.http import requires
from anzen.common.permissions import Actor, get_scoped

SESSION_KEY = "anzen_asset_import"
SAMPLE_ROWS = 3
SHOWN_ROWS = 200
NO_PROFILE = ""
DELIMITERS = {",": gettext_lazy("カンマ"), "\t": gettext_lazy("タブ"), ";": gettext_lazy("セミコロン")}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _profile_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(NO_PROFILE, _("使わない（列を自分で対応付ける）")),
            *[(profile.key, profile.name) for profile in services_import.profiles(actor, actor.organisation)]]


def _find_profile(actor: Actor, key: str) -> importing.Profile | None:
    if not key:
        return None
    return next((p for p in services_import.profiles(actor, actor.organisation) if p.key == key), None)


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("機器一覧のファイル（CSV または Excel .xlsx）"))
    encoding = forms.ChoiceField(
        label=gettext_lazy("CSV の文字コード"), initial="auto",
        choices=[("auto", gettext_lazy("自動判別（UTF-8 / Shift_JIS）")), ("utf-8", "UTF-8"),
                 ("cp932", "Shift_JIS (CP932)")],
        help_text=gettext_lazy("Excel で「CSV (コンマ区切り)」として保存したファイルは Shift_JIS です。"
                               "自動判別で読めます。"))
    profile = forms.ChoiceField(label=gettext_lazy("取込設定（列の対応付け）"), required=False)

    def __init__(self, *args: Any, profiles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = profiles


def _field_choices() -> list[tuple[str, str]]:
    return [("", _("取り込まない")), *[(spec.key, str(spec.label)) for spec in importing.FIELDS]]


class MappingForm(forms.Form):
    header_row = forms.IntegerField(
        label=gettext_lazy("見出しの行"), required=False, min_value=0,
        help_text=gettext_lazy("見出し（列名）がある行の番号。見出しの行がないファイルは 0。"))
    kind = forms.ChoiceField(label=gettext_lazy("種類の既定値（種類の列がないとき）"), choices=DeviceKind.choices)
    status = forms.ChoiceField(label=gettext_lazy("状態の既定値（状態の列がないとき）"), choices=DeviceStatus.choices)
    profile_name = forms.CharField(
        label=gettext_lazy("この対応付けを取込設定として保存する（名前）"), required=False, max_length=100,
        help_text=gettext_lazy("次回から同じ並びのファイルをこの名前で選べます。同じ名前があれば上書きします。"))

    def __init__(self, *args: Any, width: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _field_choices()
        for index in range(width):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=importing.column_letter(index), choices=choices, required=False)

    def mapping(self, width: int) -> Mapping:
        data = self.cleaned_data
        columns = {index: data[f"col_{index}"] for index in range(width) if data.get(f"col_{index}")}
        header_row = data.get("header_row")
        return Mapping(header_row=header_row or None, columns=columns,
                       defaults={"kind": data["kind"], "status": data["status"]})


def _state(request: HttpRequest) -> dict[str, Any] | None:
    state = request.session.get(SESSION_KEY)
    if not state or state.get("organisation") != _actor(request).org_id:
        return None
    return state


def _read(state: dict[str, Any]) -> import_files.Table:
    path = services_import.stored_path(state["sha256"])
    return services_import.read_file(path, state["format"], encoding=state.get("encoding", "auto"),
                                     sheet=state.get("sheet") or None)


def _restart(request: HttpRequest, errors: list[str]) -> HttpResponse:
    state = request.session.pop(SESSION_KEY, None)
    if state:
        services_import.discard_upload(state.get("sha256", ""))
    for problem in errors:
        messages.error(request, problem)
    return redirect("assets:import_upload")


@requires(Perm.ASSET_MANAGE)
def import_upload(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = UploadForm(request.POST or None, request.FILES or None, profiles=_profile_choices(actor))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            stored = services_import.store_upload(stream=upload, name=upload.name, size=upload.size)
            path = services_import.stored_path(stored.sha256)
            table = services_import.read_file(path, stored.format, encoding=form.cleaned_data["encoding"])
        except services_import.ImportRejected as rejected:
            for problem in rejected.errors:
                form.add_error("file", problem)
        else:
            previous = request.session.get(SESSION_KEY) or {}
            if previous.get("sha256") and previous["sha256"] != stored.sha256:
                services_import.discard_upload(previous["sha256"])
            profile = _find_profile(actor, form.cleaned_data.get("profile") or "")
            mapping = importing.suggest_mapping(table.rows, profile)
            request.session[SESSION_KEY] = {
                "organisation": actor.org_id, "sha256": stored.sha256, "name": stored.name, "size": stored.size,
                "format": stored.format, "encoding": form.cleaned_data["encoding"], "sheet": table.sheet,
                "profile": profile.key if profile else "", "mapping": mapping.as_dict(),
            }
            return redirect("assets:import_mapping")
    return render(request, "assets/import/upload.html", {
        "form": form, "max_mb": settings.ANZEN_MAX_UPLOAD_BYTES // (1024 * 1024),
        "max_rows": import_files.MAX_ROWS, "builtin": importing.builtin_profiles().get("device-list"),
    })


def _columns(table: import_files.Table, mapping: Mapping, form: MappingForm) -> list[dict[str, Any]]:
    """Each column of the file: letter, header text, a few values, and its select."""
    headers = importing.headers_of(table.rows, mapping.header_row)
    start = mapping.header_row or 0
    samples = [cells for number, cells in table.rows if number > start][:SAMPLE_ROWS]
    return [{"letter": importing.column_letter(index), "header": headers[index] if index < len(headers) else "",
             "samples": [importing.cell_text(cells[index]) if index < len(cells) else "" for cells in samples],
             "field": form[f"col_{index}"]}
            for index in range(table.width)]


@requires(Perm.ASSET_MANAGE)
def import_mapping(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    state = _state(request)
    if state is None:
        messages.info(request, _("取り込むファイルをアップロードしてください。"))
        return redirect("assets:import_upload")
    if request.method == "POST" and request.POST.get("action") in ("sheet", "profile"):
        return _switch(request, actor, state)
    try:
        table = _read(state)
    except services_import.ImportRejected as rejected:
        return _restart(request, rejected.errors)
    mapping = Mapping.from_dict(state["mapping"])
    initial = {"header_row": mapping.header_row or 0, **mapping.defaults,
               **{f"col_{index}": key for index, key in mapping.columns.items()}}
    form = MappingForm(request.POST or None, width=table.width, initial=initial)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        mapping = form.mapping(table.width)
        problems = importing.mapping_problems(mapping)
        state["mapping"] = mapping.as_dict()
        request.session[SESSION_KEY] = state
        name = form.cleaned_data.get("profile_name", "").strip()
        if not problems and name:
            try:
                headers = importing.headers_of(table.rows, mapping.header_row)
                settings_ = importing.profile_from_mapping(mapping, headers)
                saved = services_import.profile_save(actor=actor, name=name, settings=settings_)
            except ValidationError as error:
                problems = list(error.messages)
            else:
                state["profile"] = f"saved:{saved.pk}"
                request.session[SESSION_KEY] = state
                messages.success(request, _("取込設定「%(name)s」を保存しました。") % {"name": saved.name})
        if not problems:
            return redirect("assets:import_preview")
    return render(request, "assets/import/mapping.html", {
        "state": state, "table": table, "form": form, "columns": _columns(table, mapping, form),
        "problems": problems, "profiles": _profile_choices(actor), "steps": _steps(2),
        "delimiter": DELIMITERS.get(table.delimiter, table.delimiter),
    })


def _switch(request: HttpRequest, actor: Actor, state: dict[str, Any]) -> HttpResponse:
    """Another sheet of the workbook, or another profile: re-suggest the mapping."""
    if request.POST.get("action") == "sheet":
        state["sheet"] = request.POST.get("sheet", "")[:200]
    else:
        state["profile"] = request.POST.get("profile", "")[:120]
    try:
        table = _read(state)
    except services_import.ImportRejected as rejected:
        for problem in rejected.errors:
            messages.error(request, problem)
        return redirect("assets:import_mapping")
    state["sheet"] = table.sheet
    state["mapping"] = importing.suggest_mapping(table.rows, _find_profile(actor, state.get("profile", ""))).as_dict()
    request.session[SESSION_KEY] = state
    return redirect("assets:import_mapping")


def _steps(current: int) -> list[tuple[str, bool]]:
    labels = [_("ファイル"), _("列の対応付け"), _("確認"), _("取込")]
    return [(label, index == current) for index, label in enumerate(labels, 1)]


@requires(Perm.ASSET_MANAGE)
def import_preview(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    state = _state(request)
    if state is None:
        messages.info(request, _("取り込むファイルをアップロードしてください。"))
        return redirect("assets:import_upload")
    mapping = Mapping.from_dict(state["mapping"])
    try:
        table = _read(state)
    except services_import.ImportRejected as rejected:
        return _restart(request, rejected.errors)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        try:
            outcome = services_import.import_commit(
                actor=actor, table=table, mapping=mapping, skip_errors=bool(request.POST.get("skip_errors")),
                file_name=state["name"], sha256=state["sha256"])
        except services_import.ImportRejected as rejected:
            for problem in rejected.errors[:20]:
                messages.error(request, problem)
            return redirect("assets:import_preview")
        services_import.discard_upload(state["sha256"])
        request.session.pop(SESSION_KEY, None)
        messages.success(request, _("取り込みました: 登録 %(created)s 件・更新 %(updated)s 件"
                                    "・変更なし %(unchanged)s 件・スキップ %(skipped)s 行。")
                         % {"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged,
                            "skipped": len(outcome.skipped)})
        return redirect(_after_import_url())
    try:
        plan = services_import.plan(actor=actor, table=table, mapping=mapping)
    except services_import.ImportRejected as rejected:
        for problem in rejected.errors:
            messages.error(request, problem)
        return redirect("assets:import_mapping")
    fields = [key for _index, key in sorted(mapping.columns.items())]
    return render(request, "assets/import/preview.html", {
        "state": state, "table": table, "plan": plan, "counts": plan.counts, "steps": _steps(3),
        "fields": [(key, importing.field_label(key)) for key in fields],
        "errors": plan.of(importing.ERROR)[:SHOWN_ROWS],
        "creates": [_shown(row, fields) for row in plan.of(importing.CREATE)[:SHOWN_ROWS]],
        "updates": [_changes_shown(row) for row in plan.of(importing.UPDATE)[:SHOWN_ROWS]],
        "shown_rows": SHOWN_ROWS,
    })


def _after_import_url() -> str:
    """The ledger's device list (the import page until the ledger screens are there)."""
    try:
        return reverse("assets:device_list")
    except NoReverseMatch:
        return reverse("assets:import_upload")


def _shown(row: importing.PlannedRow, fields: list[str]) -> dict[str, Any]:
    values = []
    for key in fields:
        if key == "software":
            values.append("; ".join(f"{e.name} {e.version}".strip() for e in row.add_software) or "—")
        elif key == "systems":
            values.append(str(len(row.values.get("systems") or [])) if row.values.get("systems") else "—")
        else:
            values.append(importing.display(key, row.values.get(key)))
    return {"row": row.row, "values": values}


def _changes_shown(row: importing.PlannedRow) -> dict[str, Any]:
    changes = [(importing.field_label(key), importing.display(key, before), importing.display(key, after))
               for key, (before, after) in row.changes.items()]
    if row.add_systems:
        changes.append((importing.field_label("systems"), "", _("%(count)s 件追加") % {"count": len(row.add_systems)}))
    for entry in row.add_software:
        changes.append((importing.field_label("software"), "", f"{entry.name} {entry.version}".strip()))
    return {"row": row.row, "device_id": row.device_id, "device": row.device_label, "changes": changes}


@requires(Perm.ASSET_MANAGE)
@require_POST
def import_cancel(request: HttpRequest) -> HttpResponse:
    state = request.session.pop(SESSION_KEY, None)
    if state:
        services_import.discard_upload(state.get("sha256", ""))
    messages.info(request, _("取込を中止しました。台帳は変更していません。"))
    return redirect("assets:import_upload")


@requires(Perm.ASSET_VIEW)
def import_profiles(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    saved = services_import.saved_profiles(actor, actor.organisation)
    rows = [{"profile": importing.Profile.from_settings(key=f"saved:{p.pk}", name=p.name, settings=p.settings,
                                                        pk=p.pk), "updated_at": p.updated_at} for p in saved]
    return render(request, "assets/import/profiles.html", {
        "builtin": list(importing.builtin_profiles().values()), "saved": rows,
        "can_manage": actor.can(Perm.ASSET_MANAGE),
    })


@requires(Perm.ASSET_MANAGE)
@require_POST
def import_profile_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    profile = get_scoped(actor, ImportProfile.objects.all(), Perm.ASSET_MANAGE, pk=pk)
    services_import.profile_delete(actor=actor, profile=profile)
    messages.success(request, _("取込設定「%(name)s」を削除しました。") % {"name": profile.name})
    return redirect("assets:import_profiles")
