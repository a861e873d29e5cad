"""API for files out: one assessment as xlsx / pdf / csv in the official layout, and the inspection pack
(立入検査用) of an institution and a fiscal year as zip / pdf / csv. Same scoping as the screens (a foreign
assessment is a 404), token auth, every export recorded in the audit trail."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Router

from anzen.accounts.models import Organisation
from anzen.accounts.roles import Perm
from anzen.api.routing import endpoint
from anzen.assessments import exports, pack
from anzen.assessments.models import Assessment
from anzen.common.permissions import get_scoped

router = Router(tags=["assessments"])

_BINARY = {"description": "ファイル（添付としてダウンロード）",
           "content": {exports.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                       exports.PDF_TYPE: {"schema": {"type": "string", "format": "binary"}},
                       "application/zip": {"schema": {"type": "string", "format": "binary"}},
                       "text/csv": {"schema": {"type": "string", "format": "binary"}}}}
PACK_TYPES = {"zip": "application/zip", "pdf": exports.PDF_TYPE, "csv": exports.CSV_TYPE}


def _file(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@endpoint(router, "get", "/{int:assessment_id}/export", perm=Perm.ASSESSMENT_EXPORT,
          summary="評価を公式様式の Excel・PDF、または全回答の CSV で出力",
          openapi_extra={"responses": {"200": _BINARY}})
def export_assessment(request: HttpRequest, assessment_id: int, format: str = "xlsx") -> HttpResponse:
    if format not in exports.FORMATS:
        raise Http404
    actor = request.actor  # type: ignore[attr-defined]
    assessment = get_scoped(actor, Assessment.objects.select_related("institution", "respondent", "edition", "form"),
                            Perm.ASSESSMENT_EXPORT, pk=assessment_id)
    result = exports.export_assessment(actor=actor, assessment=assessment, fmt=format)
    return _file(result.content, result.filename, result.content_type)


def _institution(actor: Any, value: str) -> Organisation:
    allowed = pack.institutions(actor)
    for org in allowed:
        if org.code == value or str(org.pk) == value:
            return org
    raise Http404


@endpoint(router, "get", "/pack/{int:fiscal_year}", perm=Perm.ASSESSMENT_EXPORT,
          summary="立入検査用の一式（zip・PDF・全回答の CSV）を作成してダウンロード",
          description="institution は医療機関等のコードまたは ID。作成には書類の数に応じて時間がかかります。"
                      "事業者・評価機関のトークンでは、その組織が回答・確認する書類だけが入ります。",
          openapi_extra={"responses": {"200": _BINARY}})
def pack_download(request: HttpRequest, fiscal_year: int, institution: str, format: str = "zip") -> HttpResponse:
    if format not in PACK_TYPES:
        raise Http404
    actor = request.actor  # type: ignore[attr-defined]
    organisation = _institution(actor, institution)
    with tempfile.TemporaryDirectory(prefix="anzen-pack-") as folder:
        result = pack.build_pack(actor=actor, institution=organisation, fiscal_year=fiscal_year, out_dir=Path(folder),
                                 prepared_by=getattr(actor.user, "display_name", "") or str(actor.user or ""))
        path = result.files[format]
        return _file(path.read_bytes(), path.name, PACK_TYPES[format])
