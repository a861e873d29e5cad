"""Evidence of an answer: files stored by SHA-256 outside the web root, and links (re-exported by
`services`). Files are checked by extension and content (`uploads`), written once under
MEDIA_ROOT/evidence/<sha[:2]>/<sha>, and only ever served as downloads by a scoped view."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anzen.accounts.roles import Perm
from anzen.assessments import policy, structure, uploads
from anzen.assessments.models import Answer, Assessment, Evidence
from anzen.common.filestore import FileStore
from anzen.common.permissions import Actor, require

EVIDENCE_STORE = FileStore("evidence", fan_out=True)


def evidence_path(sha256: str) -> Path:
    return EVIDENCE_STORE.path(sha256)


def _check_answerable(actor: Actor, answer: Answer) -> Assessment:
    assessment = Assessment.objects.select_for_update().get(pk=answer.assessment_id)
    require(actor, Perm.ASSESSMENT_ANSWER)
    if not policy.is_respondent(actor, assessment):
        raise PermissionDenied(_("エビデンスを登録できるのは回答者の組織だけです。"))
    if assessment.is_read_only:
        raise ValidationError(_("承認済みの評価は変更できません。"))
    if assessment.status not in policy.ANSWERABLE:
        raise ValidationError(_("提出後はエビデンスを変更できません（差戻しまたは再開を待ってください）。"))
    return assessment


@transaction.atomic
def evidence_add_file(*, actor: Actor, answer: Answer, uploaded_file: Any, title: str = "",
                      effective_date: dt.date | None = None) -> Evidence:
    """Attach a file (PDF, PNG, JPEG, xlsx, docx, CSV, text) to an answer."""
    _check_answerable(actor, answer)
    label = structure.item_label(answer.node)
    name = uploads.safe_name(getattr(uploaded_file, "name", "") or "")
    size = int(getattr(uploaded_file, "size", 0) or 0)
    try:
        kind = uploads.check(name, uploaded_file, size, settings.ANZEN_MAX_UPLOAD_BYTES)
    except uploads.RejectedFile as rejected:
        raise ValidationError({"file": f"{label}: {rejected}"}) from rejected
    uploaded_file.seek(0)
    stored = EVIDENCE_STORE.put(uploaded_file)
    sha, stored_size = stored.sha256, stored.size
    return Evidence.objects.create(
        answer=answer, kind=Evidence.Kind.FILE, title=(title.strip() or name)[:300], original_name=name,
        sha256=sha, size=stored_size, content_type=kind.content_type, effective_date=effective_date,
        uploaded_by=actor.user,
    )


@transaction.atomic
def evidence_add_link(*, actor: Actor, answer: Answer, url: str, title: str,
                      effective_date: dt.date | None = None) -> Evidence:
    """Attach a link (an http(s) address, e.g. a document on the institution's file server or wiki)."""
    _check_answerable(actor, answer)
    label = structure.item_label(answer.node)
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1000:
        message = _("%(item)s: リンクは http:// または https:// で始まるアドレスを入力してください。")
        raise ValidationError({"url": message % {"item": label}})
    if not (title or "").strip():
        raise ValidationError({"title": _("%(item)s: リンクの名称を入力してください。") % {"item": label}})
    return Evidence.objects.create(answer=answer, kind=Evidence.Kind.LINK, title=title.strip()[:300], url=url,
                                   effective_date=effective_date, uploaded_by=actor.user)


@transaction.atomic
def evidence_remove(*, actor: Actor, evidence: Evidence) -> None:
    """Detach evidence from an answer (the stored file stays: other answers may share its content)."""
    _check_answerable(actor, evidence.answer)
    evidence.delete()
