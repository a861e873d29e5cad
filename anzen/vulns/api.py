"""API of the vulnerability watch (mounted at /api/vulns/): findings (list, detail, status change), the
notices of the institution, the vendor's inbox and its answers, and a CVE's detail.

Same selectors, services and scoping as the screens: a foreign row is a 404, a role without the
permission gets a 403, refused values are a 400 with the Japanese messages by field.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status

from anzen.accounts.roles import Perm
from anzen.api.routing import endpoint
from anzen.assets.api import ERRORS, _actor, _refused  # the ledger API's error shape, shared
from anzen.common.permissions import Actor
from anzen.vulns import contracts, lifecycle, notices, selectors, services_watch, severity
from anzen.vulns.models_watch import Finding, Notice

router = Router(tags=["vulns"])
MAX_LIMIT = 500


class FindingOut(Schema):
    id: int
    cve_id: str
    title: str
    device_id: int | None
    device: str
    identity: str
    confidence: str
    reason: str
    score: Decimal | None
    severity: str
    severity_label: str
    kev: bool
    status: str
    status_label: str
    status_note: str
    accepted_until: dt.date | None
    first_seen: dt.datetime
    closed_at: dt.datetime | None


class FindingList(Schema):
    count: int
    items: list[FindingOut]


class EventOut(Schema):
    at: dt.datetime
    kind: str
    from_status: str
    to_status: str
    actor: str
    note: str


class FindingDetail(FindingOut):
    events: list[EventOut]
    notices: list[int]


class StatusIn(Schema):
    status: str
    note: str = ""
    until: dt.date | None = None


class NoticeOut(Schema):
    id: int
    cve_id: str
    title: str
    institution: str
    vendor: str
    contract: str
    level: str
    score: Decimal | None
    severity: str
    severity_label: str
    status: str
    sent_on: dt.date
    report_due: dt.date
    countermeasure_due: dt.date | None
    countermeasure_required: bool
    overdue: list[str]
    devices: int


class ResponseOut(Schema):
    id: int
    kind: str
    organisation: str
    author: str
    affected: str
    countermeasure: str
    scheduled_on: dt.date | None
    text: str
    evidence_name: str
    created_at: dt.datetime


class DeviceRef(Schema):
    device: str
    identity: str
    reason: str


class NoticeDetail(NoticeOut):
    devices_affected: list[DeviceRef]
    responses: list[ResponseOut]


class AnswerIn(Schema):
    affected: str
    countermeasure: str = ""
    scheduled_on: dt.date | None = None
    text: str = ""


class ScoreOut(Schema):
    source: str
    origin: str
    version: str
    score: Decimal
    vector: str
    label: str
    chosen: bool


class CveOut(Schema):
    cve_id: str
    title_ja: str
    description_ja: str
    description_en: str
    published: dt.datetime | None
    last_modified: dt.datetime | None
    base_score: Decimal | None
    score_version: str
    score_source: str
    severity: str
    severity_label: str
    v2_only: bool
    kev: bool
    jvn_ids: list[str]
    scores: list[ScoreOut]
    findings: list[FindingOut]


def _finding(f: Finding, titles: dict[str, selectors.CveText]) -> dict[str, Any]:
    text = titles.get(f.cve_id)
    return {"id": f.pk, "cve_id": f.cve_id, "title": text.title if text else "", "device_id": f.device_id,
            "device": f.device_label, "identity": f.identity, "confidence": f.confidence, "reason": f.reason,
            "score": f.score, "severity": f.severity, "severity_label": severity.label_ja(f.severity), "kev": f.kev,
            "status": f.status, "status_label": str(lifecycle.STATUS_LABELS.get(f.status, f.status)),
            "status_note": f.status_note, "accepted_until": f.accepted_until, "first_seen": f.first_seen,
            "closed_at": f.closed_at}


@endpoint(router, "get", "/findings", perm=Perm.VULN_VIEW, response=FindingList,
          summary="検出された脆弱性の一覧（絞り込み・ページ送り）")
def finding_list(request: HttpRequest, status: str = "open", severity: str = "", confidence: str = "",
                 kev: bool | None = None, device: int | None = None, system: int | None = None,
                 cve: str = "", q: str = "", sort: str = "severity", limit: int = 100, offset: int = 0) -> Any:
    criteria = selectors.FindingFilter(q=q[:100], severity=severity, status=status, confidence=confidence, kev=kev,
                                       device=device, system=system, cve=cve[:40], sort=sort)
    queryset = selectors.findings(_actor(request), criteria)
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    rows = list(queryset[offset:offset + limit])
    titles = selectors.cve_texts(r.cve_id for r in rows)
    return {"count": queryset.count(), "items": [_finding(r, titles) for r in rows]}


def _finding_detail(actor: Actor, finding_id: int) -> dict[str, Any]:
    finding = selectors.finding_detail(actor, finding_id)
    data = _finding(finding, selectors.cve_texts([finding.cve_id]))
    data["events"] = [{"at": e.at, "kind": e.kind, "from_status": e.from_status, "to_status": e.to_status,
                       "actor": e.actor_name, "note": e.note} for e in selectors.finding_events(finding)]
    data["notices"] = [n.pk for n in selectors.finding_notices(finding)]
    return data


@endpoint(router, "get", "/findings/{finding_id}", perm=Perm.VULN_VIEW, response=FindingDetail,
          summary="検出の詳細（履歴と通知を含む）")
def finding_detail(request: HttpRequest, finding_id: int) -> Any:
    return _finding_detail(_actor(request), finding_id)


@endpoint(router, "post", "/findings/{finding_id}/status", perm=Perm.VULN_MANAGE,
          response={200: FindingDetail, **ERRORS},
          summary="検出の状態を変更（緩和策実施・リスク受容（期限つき）・誤検知・解消・再オープン）")
def finding_status(request: HttpRequest, finding_id: int, payload: StatusIn) -> Any:
    actor = _actor(request)
    finding = selectors.finding_detail(actor, finding_id)
    try:
        services_watch.finding_set_status(actor=actor, finding=finding, status=payload.status, note=payload.note,
                                          until=payload.until)
    except ValidationError as error:
        return _refused(error)
    except PermissionDenied as error:
        return Status(403, {"detail": [str(error)]})
    return Status(200, _finding_detail(actor, finding_id))


def _notice(n: Notice, titles: dict[str, selectors.CveText], devices: int, day: dt.date) -> dict[str, Any]:
    text = titles.get(n.cve_id)
    return {"id": n.pk, "cve_id": n.cve_id, "title": text.title if text else "", "institution": n.institution.name,
            "vendor": n.vendor.name, "contract": n.contract.title, "level": n.level, "score": n.score,
            "severity": n.severity, "severity_label": severity.label_ja(n.severity), "status": n.status,
            "sent_on": n.sent_on, "report_due": n.report_due, "countermeasure_due": n.countermeasure_due,
            "countermeasure_required": n.countermeasure_required,
            "overdue": list(contracts.overdue(n.due(), day)), "devices": devices}


def _notice_list(queryset: Any, status: str, limit: int, offset: int) -> list[dict[str, Any]]:
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    queryset = selectors.notices_by_status(queryset.select_related("institution", "vendor", "contract"), status)
    rows = selectors.notice_rows(list(queryset[offset:offset + limit]), selectors.today())
    titles = selectors.cve_texts(r.notice.cve_id for r in rows)
    return [_notice(r.notice, titles, r.devices, selectors.today()) for r in rows]


@endpoint(router, "get", "/notices", perm=Perm.VULN_VIEW, response=list[NoticeOut],
          summary="医療機関等が事業者に送った脆弱性の通知")
def notice_list(request: HttpRequest, status: str = "open", limit: int = 100, offset: int = 0) -> Any:
    return _notice_list(selectors.institution_notices(_actor(request)), status, limit, offset)


@endpoint(router, "get", "/inbox", perm=Perm.NOTICE_ANSWER, response=list[NoticeOut],
          summary="事業者に届いた脆弱性の通知（自組織宛てのものだけ）")
def inbox(request: HttpRequest, status: str = "open", limit: int = 100, offset: int = 0) -> Any:
    return _notice_list(selectors.vendor_notices(_actor(request)), status, limit, offset)


def _notice_detail(notice: Notice) -> dict[str, Any]:
    day = selectors.today()
    affected = selectors.notice_findings(notice)
    data = _notice(notice, selectors.cve_texts([notice.cve_id]), len(affected), day)
    data["devices_affected"] = [{"device": f.device_label, "identity": f.identity, "reason": f.reason}
                                for f in affected]
    data["responses"] = [{"id": r.pk, "kind": r.kind, "organisation": r.organisation.name if r.organisation else "",
                          "author": r.author_name, "affected": r.affected, "countermeasure": r.countermeasure,
                          "scheduled_on": r.scheduled_on, "text": r.text, "evidence_name": r.evidence_name,
                          "created_at": r.created_at} for r in selectors.notice_responses(notice)]
    return data


@endpoint(router, "get", "/inbox/{notice_id}", perm=Perm.NOTICE_ANSWER, response=NoticeDetail,
          summary="届いた通知の詳細（対象の機器と回答の履歴）")
def inbox_notice(request: HttpRequest, notice_id: int) -> Any:
    return _notice_detail(selectors.notice_for_vendor(_actor(request), notice_id))


@endpoint(router, "post", "/inbox/{notice_id}/answer", perm=Perm.NOTICE_ANSWER,
          response={201: NoticeDetail, **ERRORS},
          summary="通知に回答（影響の有無・対応策・実施予定日・コメント）")
def inbox_answer(request: HttpRequest, notice_id: int, payload: AnswerIn) -> Any:
    actor = _actor(request)
    notice = selectors.notice_for_vendor(actor, notice_id)
    try:
        notices.notice_answer(actor=actor, notice=notice, affected=payload.affected,
                              countermeasure=payload.countermeasure, scheduled_on=payload.scheduled_on,
                              text=payload.text)
    except ValidationError as error:
        return _refused(error)
    except PermissionDenied as error:
        return Status(403, {"detail": [str(error)]})
    return Status(201, _notice_detail(selectors.notice_for_vendor(actor, notice_id)))


@endpoint(router, "get", "/cves/{cve_id}", perm=Perm.VULN_VIEW, response=CveOut,
          summary="CVE の詳細（すべての CVSS 評価元・JVN の日本語・自組織の該当機器）")
def cve_detail(request: HttpRequest, cve_id: str) -> Any:
    view = selectors.cve_view(_actor(request), cve_id)
    cve = view.cve
    titles = selectors.cve_texts([view.cve_id])
    return {
        "cve_id": view.cve_id, "title_ja": cve.title_ja if cve else "", "description_ja": cve.description_ja if cve
        else "", "description_en": cve.description_en if cve else "", "published": cve.published if cve else None,
        "last_modified": cve.last_modified if cve else None, "base_score": cve.base_score if cve else None,
        "score_version": cve.score_version if cve else "", "score_source": cve.score_source if cve else "",
        "severity": cve.severity if cve else "", "severity_label": severity.label_ja(cve.severity if cve else ""),
        "v2_only": cve.v2_only if cve else False, "kev": cve.kev if cve else False,
        "jvn_ids": [str(j) for j in (cve.jvn_ids or [])] if cve else [],
        "scores": [{"source": s.source, "origin": s.origin, "version": s.version, "score": s.value,
                    "vector": s.vector, "label": s.label, "chosen": s.chosen} for s in view.scores],
        "findings": [_finding(f, titles) for f in view.affected[:500]],  # /findings?cve= pages through all
    }
