"""Writes of the library other than loading files: the Excel import and its saved profiles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings as django_settings
from django.db import transaction
from django.utils.translation import gettext as _

from anzen.common.filestore import FileStore, TooLarge
from anzen.library import domain, excel_import, loader
from anzen.library.models import Edition, Framework, ImportProfile

UPLOAD_DIR = "library-imports"
STALE_SECONDS = 24 * 3600


class ExcelImportError(Exception):
    """The workbook or the chosen settings give errors; nothing was written."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class StoredUpload:
    sha256: str
    path: Path
    name: str
    size: int


# Outside the web root (MEDIA_ROOT is never served by Anzen); uploads wait there between preview and confirm.
UPLOADS = FileStore(UPLOAD_DIR, suffix=".xlsx", stale_seconds=STALE_SECONDS)


def stored_path(sha256: str) -> Path:
    if not UPLOADS.exists(sha256):
        raise ExcelImportError([_("取り込むファイルが見つかりません（もう一度アップロードしてください）")])
    return UPLOADS.path(sha256)


def store_upload(*, stream: BinaryIO, name: str, size: int) -> StoredUpload:
    """Check and keep an uploaded workbook under MEDIA_ROOT/library-imports/<sha256>.xlsx."""
    max_bytes = django_settings.ANZEN_MAX_UPLOAD_BYTES
    head = stream.read(8)
    problems = excel_import.check_upload(name, size, head, max_bytes)
    if problems:
        raise ExcelImportError(problems)
    stream.seek(0)
    try:
        stored = UPLOADS.put(stream, max_bytes=max_bytes, check=excel_import.check_package)
    except TooLarge as error:
        raise ExcelImportError([_("ファイルが大きすぎます（上限 %(max_bytes)s バイト）")
                                % {"max_bytes": format(max_bytes, ",")}]) from error
    except excel_import.ExcelProblem as problem:
        raise ExcelImportError([str(problem)]) from problem
    return StoredUpload(stored.sha256, stored.path, Path(name).name[:200], stored.size)


def discard_upload(sha256: str) -> None:
    UPLOADS.discard(sha256)


def preview(path: Path, import_settings: excel_import.ImportSettings) -> excel_import.ImportResult:
    try:
        return excel_import.parse(path, import_settings)
    except excel_import.ExcelProblem as problem:
        raise ExcelImportError([str(problem)]) from problem


def default_licence(publisher: str) -> str:
    return _(
        "取り込んだファイルの本文の著作権は発行者（%(publisher)s）"
        "に帰属します。利用条件は発行者のウェブサイトで確認してください。"
    ) % {"publisher": publisher or _("不明")}


@transaction.atomic
def import_excel_edition(
    *,
    path: Path,
    import_settings: excel_import.ImportSettings,
    framework_key: str,
    framework_title: str,
    edition_code: str,
    title: str,
    publisher: str,
    fiscal_year: int | None,
    official: bool,
    file_label: str,
    sha256: str,
    licence: str = "",
    declared_by: str = "",
) -> tuple[Edition, loader.Outcome]:
    """Create a new edition (origin=excel) from a workbook; all or nothing."""
    problems = []
    if not domain.FRAMEWORK_ID.match(framework_key or ""):
        problems.append(_("フレームワークの識別子は英小文字・数字・ハイフンで指定してください"))
    if not domain.EDITION_CODE.match(edition_code or ""):
        problems.append(_("版の識別子は英数字と . _ - で指定してください（例: R8）"))
    if not title.strip():
        problems.append(_("版の名称を入力してください"))
    if problems:
        raise ExcelImportError(problems)
    result = preview(path, import_settings)
    if result.errors or not result.items:
        raise ExcelImportError(
            [error.format() for error in result.errors] or [_("取り込める項目がありません")]
        )
    existing = Framework.objects.filter(key=framework_key).first()
    if existing is not None:
        framework = domain.FrameworkSpec(
            existing.key, existing.title, existing.title_en, existing.publisher, existing.kind
        )
    else:
        if not framework_title.strip():
            raise ExcelImportError([_("新しいフレームワークの名称を入力してください")])
        framework = domain.FrameworkSpec(framework_key, framework_title.strip(), "", publisher, "checklist")
    parsed = excel_import.to_parsed_edition(
        result,
        import_settings,
        framework=framework,
        edition_code=edition_code,
        title=title.strip(),
        publisher=publisher,
        fiscal_year=fiscal_year,
        official=official,
        licence=licence.strip() or default_licence(publisher),
        file_label=file_label,
        sha256=sha256,
    )
    schema = import_settings.default_answer_schema
    if schema and schema not in loader.knowledge_from_db().schemas:
        raise ExcelImportError(
            [
                _("回答形式 '%(schema)s' が読み込まれていません（anzen setup を実行してください）")
                % {"schema": schema}
            ]
        )
    extra: dict[str, Any] = {
        "import": {
            "file": file_label,
            "sha256": sha256,
            "official_declared": official,
            "declared_by": declared_by if official else "",
        }
    }
    try:
        return loader.load_edition(parsed=parsed, origin=Edition.Origin.EXCEL_IMPORT, extra_meta=extra)
    except loader.LibraryLoadError as error:
        raise ExcelImportError([issue.message for issue in error.issues]) from error


@transaction.atomic
def import_profile_save(*, key: str, name: str, settings: dict[str, Any]) -> ImportProfile:
    """Save (or replace) an import profile under `key`."""
    clean = excel_import.ImportSettings.from_dict(settings).as_dict()
    profile = ImportProfile.objects.filter(key=key).first()
    if profile is None:
        return ImportProfile.objects.create(key=key, name=name, settings=clean)
    if (profile.name, profile.settings) != (name, clean):
        profile.name, profile.settings = name, clean
        profile.save(update_fields=["name", "settings", "updated_at"])
    return profile
