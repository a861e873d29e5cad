"""Notices to vendors (services): created from findings by the contracts' rules, e-mailed to the vendor's
members, answered by the vendor in its own account (countermeasure, schedule, evidence file), accepted or
returned by the institution, and escalated when a deadline passes.

The rules themselves are pure (`contracts`); this module reads the facts they need in a fixed number of
queries and writes the outcome. Mails are sent after the transaction commits, and each sent mail is
recorded in the audit trail.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anzen.accounts.models import Membership, Organisation
from anzen.accounts.roles import OrgKind, Perm, Role
from anzen.assessments import uploads
from anzen.common import audit
from anzen.common.filestore import FileStore
from anzen.common.permissions import Actor, require
from anzen.vulns import contracts, lifecycle, severity
from anzen.vulns.models import Cve
from anzen.vulns.models_watch import Finding, FindingEvent, Notice, NoticeResponse, VendorContract

EVIDENCE_STORE = FileStore("vuln-evidence", fan_out=True)
CHUNK = 2000
VENDOR_ROLES = (Role.ADMIN, Role.VENDOR)
INSTITUTION_ROLES = (Role.ADMIN, Role.STAFF)


# Set by the demo loader: its addresses are .invalid and `anzen setup --demo --json` must print only JSON.
_MAIL = contextvars.ContextVar("vulns_mail", default=True)


@contextlib.contextmanager
def mail_suppressed() -> Iterator[None]:
    """Notices and answers made inside this block are recorded but not e-mailed (decided when scheduled)."""
    token = _MAIL.set(False)
    try:
        yield
    finally:
        _MAIL.reset(token)


def _after_commit(send: Callable[[], Any]) -> None:
    if _MAIL.get():
        transaction.on_commit(send)


def evidence_path(sha256: str) -> Any:
    return EVIDENCE_STORE.path(sha256)


def _who(actor: Actor | None) -> str:
    if actor is None or actor.user is None:
        return _("自動照合")
    return str(actor.user)


# --- facts for the pure rules -------------------------------------------------------------------------


def active_contracts(institution_id: int, today: dt.date) -> list[VendorContract]:
    return list(VendorContract.objects.filter(institution_id=institution_id, is_active=True)
                .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
                .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
                .prefetch_related("systems", "devices").order_by("pk"))


def contract_fact(contract: VendorContract) -> contracts.ContractFact:
    return contracts.ContractFact(
        contract.pk, contract.vendor_id, contract.parsed_rules(), contract.score_source, contract.include_possible,
        frozenset(d.pk for d in contract.devices.all()), frozenset(s.pk for s in contract.systems.all()),
        frozenset(contract.device_kinds or ()), contract.cover_vendor_systems)


def device_facts(device_ids: Iterable[int]) -> dict[int, contracts.DeviceFact]:
    from anzen.assets.models import Device

    wanted = sorted(set(device_ids))
    kinds: dict[int, str] = {}
    systems: dict[int, set[int]] = defaultdict(set)
    vendors: dict[int, set[int]] = defaultdict(set)
    through = Device.systems.through
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        kinds.update(Device.objects.filter(pk__in=chunk).values_list("pk", "kind"))
        for device_id, system_id, vendor_id, remote_id in through.objects.filter(device_id__in=chunk).values_list(
                "device_id", "informationsystem_id", "informationsystem__vendor_id",
                "informationsystem__remote_vendor_id"):
            systems[device_id].add(system_id)
            vendors[device_id].update(v for v in (vendor_id, remote_id) if v)
    return {pk: contracts.DeviceFact(pk, kind, frozenset(systems[pk]), frozenset(vendors[pk]))
            for pk, kind in kinds.items()}


def _entries(cve_ids: Iterable[str]) -> dict[str, tuple[contracts.ScoreEntry, ...]]:
    wanted = sorted(set(cve_ids))
    found: dict[str, tuple[contracts.ScoreEntry, ...]] = {}
    for start in range(0, len(wanted), CHUNK):
        for cve_id, metrics in Cve.objects.filter(cve_id__in=wanted[start:start + CHUNK]).values_list(
                "cve_id", "metrics"):
            found[cve_id] = contracts.entries_from_metrics(metrics)
    return found


# --- creating notices ---------------------------------------------------------------------------------


def _set_findings_status(finding_ids: Iterable[int], *, from_statuses: frozenset[str], to: str, kind: str,
                         note: str, actor: Actor | None, now: dt.datetime) -> int:
    ids = sorted(set(finding_ids))
    rows = list(Finding.objects.filter(pk__in=ids, status__in=from_statuses).values_list("pk", "status"))
    if not rows:
        return 0
    Finding.objects.filter(pk__in=[pk for pk, _s in rows]).update(status=to, updated_at=now)
    user = actor.user if actor else None
    FindingEvent.objects.bulk_create([
        FindingEvent(finding_id=pk, at=now, kind=kind, actor=user, actor_name=_who(actor), from_status=status,
                     to_status=to, note=note) for pk, status in rows])
    return len(rows)


@transaction.atomic
def notify_findings(*, institution: Organisation, finding_ids: Iterable[int], actor: Actor | None = None,
                    now: dt.datetime | None = None) -> list[Notice]:
    """Turn new, reopened or re-scored findings into notices per the institution's active contracts.

    Returns the notices created or extended. Findings that a notice names move from new to notified."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    agreements = active_contracts(institution.pk, today)
    ids = sorted(set(finding_ids))
    if not agreements or not ids:
        return []
    facts = [contract_fact(c) for c in agreements]
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), CHUNK):
        rows += Finding.objects.filter(institution_id=institution.pk, pk__in=ids[start:start + CHUNK],
                                       device__isnull=False).values_list(
            "pk", "device_id", "cve_id", "status", "confidence", "score")
    entries = _entries(r[2] for r in rows) if any(f.score_source != "chosen" for f in facts) else {}
    findings = [contracts.FindingFact(pk, device, cve, status, confidence, score, entries.get(cve, ()))
                for pk, device, cve, status, confidence, score in rows]
    devices = device_facts(f.device_id for f in findings)
    cves = {f.cve_id for f in findings}
    existing = Notice.objects.filter(contract__in=agreements, cve_id__in=sorted(cves)).values_list(
        "pk", "contract_id", "cve_id", "level")
    attached: dict[int, set[int]] = defaultdict(set)
    for notice_id, finding_id in Notice.findings.through.objects.filter(
            notice__contract__in=agreements, notice__cve_id__in=sorted(cves)).values_list("notice_id", "finding_id"):
        attached[notice_id].add(finding_id)
    known = [contracts.NoticeFact(pk, contract_id, cve_id, level, frozenset(attached[pk]))
             for pk, contract_id, cve_id, level in existing]
    by_contract = {c.pk: c for c in agreements}
    touched: list[Notice] = []
    for planned in contracts.plan(findings, devices, facts, known):
        contract = by_contract[planned.contract_id]
        if planned.notice_id is None:
            notice = _create(contract, planned, now, actor)
        else:
            notice = Notice.objects.get(pk=planned.notice_id)
            notice.findings.add(*planned.finding_ids)
            NoticeResponse.objects.create(
                notice=notice, kind=NoticeResponse.Kind.NOTE, author=actor.user if actor else None,
                author_name=_who(actor), organisation=institution,
                text=_("対象の機器が %(n)s 台追加されました。") % {"n": len(planned.finding_ids)})
            added = len(planned.finding_ids)
            _after_commit(lambda pk=notice.pk, n=added: mail_notice(pk, added=n))
        _set_findings_status(planned.finding_ids, from_statuses=frozenset({lifecycle.NEW}), to=lifecycle.NOTIFIED,
                             kind=FindingEvent.Kind.NOTICE, actor=actor, now=now,
                             note=_("%(vendor)s に%(level)sを送付（回答期限 %(due)s）") % {
                                 "vendor": contract.vendor.name, "level": contracts.LEVEL_LABELS[planned.level],
                                 "due": notice.report_due.isoformat()})
        touched.append(notice)
    return touched


def _create(contract: VendorContract, planned: contracts.PlannedNotice, now: dt.datetime,
            actor: Actor | None) -> Notice:
    today = timezone.localdate(now)
    report_due, counter_due = contracts.deadlines(planned.rule, today)
    notice = Notice.objects.create(
        institution_id=contract.institution_id, vendor_id=contract.vendor_id, contract=contract,
        cve_id=planned.cve_id, level=planned.level, score=planned.score, severity=severity.label_for(planned.score),
        rule=planned.rule.as_dict(), status=contracts.SENT, sent_on=today, report_due=report_due,
        countermeasure_due=counter_due, countermeasure_required=planned.rule.countermeasure_required)
    notice.findings.add(*planned.finding_ids)
    _after_commit(lambda pk=notice.pk: mail_notice(pk))
    return notice


# --- mail ---------------------------------------------------------------------------------------------


def _recipients(organisation_id: int, roles: Iterable[str]) -> list[str]:
    emails = (Membership.objects.filter(organisation_id=organisation_id, is_active=True, user__is_active=True,
                                        role__in=list(roles)).exclude(user__email="")
              .values_list("user__email", flat=True))
    return sorted(set(emails))


def _base_url() -> str:
    return settings.ANZEN_BASE_URL.rstrip("/")


def mail_notice(notice_id: int, *, added: int = 0) -> int:
    """E-mail a notice to the vendor's members (管理者・事業者); records the mail in the audit trail."""
    notice = Notice.objects.select_related("institution", "vendor", "contract").filter(pk=notice_id).first()
    if notice is None:
        return 0
    recipients = _recipients(notice.vendor_id, VENDOR_ROLES)
    if not recipients:
        return 0
    devices = list(notice.findings.order_by("device_label").values_list("device_label", "identity")[:50])
    level = contracts.LEVEL_LABELS.get(notice.level, notice.level)
    subject = _("[Anzen] 脆弱性の%(level)s: %(cve)s（%(institution)s）") % {
        "level": level, "cve": notice.cve_id, "institution": notice.institution.name}
    cve = Cve.objects.filter(cve_id=notice.cve_id).only("cve_id", "title_ja", "description_en").first()
    lines = [
        _("%(institution)s から、保守契約「%(contract)s」の取り決めに基づく脆弱性の%(level)sです。") % {
            "institution": notice.institution.name, "contract": notice.contract.title, "level": level},
        "",
        f"{notice.cve_id} {cve.title if cve else ''}".strip(),
        _("CVSS 基本値 %(score)s（%(label)s）") % {"score": notice.score, "label": severity.label_ja(notice.severity)},
        _("回答期限: %(day)s") % {"day": notice.report_due.isoformat()},
    ]
    if notice.countermeasure_due:
        lines.append(_("対応策の提示期限: %(day)s") % {"day": notice.countermeasure_due.isoformat()})
    if added:
        lines.append(_("対象の機器が %(n)s 台追加されました。") % {"n": added})
    lines += ["", _("対象の機器:")] + [f"  - {label} ({identity})" for label, identity in devices]
    lines += ["", _("Anzen にログインして回答してください:"),
              f"{_base_url()}{reverse('vulns:inbox_notice', args=[notice.pk])}"]
    send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, recipients)
    Notice.objects.filter(pk=notice.pk).update(emailed_at=timezone.now(), emailed_to=len(recipients))
    audit.record(audit.Action.EXPORT, obj=notice,
                 message=_("脆弱性の通知をメールで送信: %(org)s（%(n)s名）%(cve)s") % {
                     "org": notice.vendor.name, "n": len(recipients), "cve": notice.cve_id})
    return len(recipients)


def _mail_institution(notice: Notice, subject: str, text: str) -> None:
    recipients = _recipients(notice.institution_id, INSTITUTION_ROLES)
    if not recipients:
        return
    body = "\n".join([text, "", f"{_base_url()}{reverse('vulns:notice_detail', args=[notice.pk])}"])
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


# --- the vendor answers; the institution reviews ---------------------------------------------------------


def _store_evidence(uploaded_file: Any) -> tuple[str, str, int, str]:
    name = uploads.safe_name(getattr(uploaded_file, "name", "") or "")
    size = int(getattr(uploaded_file, "size", 0) or 0)
    try:
        kind = uploads.check(name, uploaded_file, size, settings.ANZEN_MAX_UPLOAD_BYTES)
    except uploads.RejectedFile as rejected:
        raise ValidationError({"evidence": str(rejected)}) from rejected
    uploaded_file.seek(0)
    stored = EVIDENCE_STORE.put(uploaded_file)
    return name, stored.sha256, stored.size, kind.content_type


@transaction.atomic
def notice_answer(*, actor: Actor, notice: Notice, affected: str, countermeasure: str = "",
                  scheduled_on: dt.date | None = None, text: str = "", evidence: Any = None,
                  now: dt.datetime | None = None) -> NoticeResponse:
    """The vendor's answer: whether its product is affected, the countermeasure and its schedule, a note
    and optionally an evidence file (PDF, image, Office, text)."""
    require(actor, Perm.NOTICE_ANSWER)
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if actor.org_id != notice.vendor_id:
        raise PermissionDenied(_("この通知に回答できるのは宛先の事業者だけです。"))
    if notice.status in contracts.CLOSED_NOTICE:
        raise ValidationError(_("この通知は完了しているため回答できません。"))
    if affected not in NoticeResponse.Affected.values:
        raise ValidationError({"affected": _("影響の有無を選んでください。")})
    countermeasure, text = (countermeasure or "").strip(), (text or "").strip()
    if affected == NoticeResponse.Affected.AFFECTED and not countermeasure and not text:
        raise ValidationError({"countermeasure": _("影響がある場合は対応策または今後の予定を記入してください。")})
    if scheduled_on is not None and not countermeasure:
        raise ValidationError({"scheduled_on": _("実施予定日は対応策と一緒に記入してください。")})
    now = now or timezone.now()
    file_fields: dict[str, Any] = {}
    if evidence is not None:
        name, sha, size, content_type = _store_evidence(evidence)
        file_fields = {"evidence_name": name, "evidence_sha256": sha, "evidence_size": size,
                       "evidence_type": content_type}
    response = NoticeResponse.objects.create(
        notice=notice, kind=NoticeResponse.Kind.ANSWER, author=actor.user, author_name=str(actor.user or ""),
        organisation_id=actor.org_id, affected=affected, countermeasure=countermeasure, scheduled_on=scheduled_on,
        text=text, **file_fields)
    notice.status = contracts.ANSWERED
    notice.answered_at = now
    notice.has_countermeasure = notice.has_countermeasure or bool(countermeasure) or (
        affected == NoticeResponse.Affected.NOT_AFFECTED)
    notice.save()
    _set_findings_status(notice.findings.values_list("pk", flat=True),
                         from_statuses=frozenset({lifecycle.NEW, lifecycle.NOTIFIED}), to=lifecycle.ANSWERED,
                         kind=FindingEvent.Kind.ANSWER, actor=actor, now=now,
                         note=f"{NoticeResponse.Affected(affected).label}: {countermeasure or text}"[:500])
    _after_commit(lambda: _mail_institution(
        notice, _("[Anzen] 事業者から脆弱性の通知への回答: %(cve)s") % {"cve": notice.cve_id},
        _("%(vendor)s が %(cve)s の通知に回答しました。") % {"vendor": notice.vendor.name, "cve": notice.cve_id}))
    return response


def _check_institution(actor: Actor, notice: Notice) -> None:
    require(actor, Perm.VULN_MANAGE)
    if actor.org_id != notice.institution_id:
        raise PermissionDenied(_("通知を確認できるのは通知した医療機関等だけです。"))


@transaction.atomic
def notice_review(*, actor: Actor, notice: Notice, accept: bool, text: str = "") -> NoticeResponse:
    """The institution accepts the vendor's answer (the notice is done) or returns it with a comment."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    _check_institution(actor, notice)
    if notice.status != contracts.ANSWERED:
        raise ValidationError(_("確認できるのは事業者の回答がある通知だけです。"))
    text = (text or "").strip()
    if not accept and not text:
        raise ValidationError({"text": _("差し戻す理由を記入してください。")})
    response = NoticeResponse.objects.create(
        notice=notice, kind=NoticeResponse.Kind.ACCEPT if accept else NoticeResponse.Kind.RETURN, author=actor.user,
        author_name=str(actor.user or ""), organisation_id=actor.org_id, text=text)
    notice.status = contracts.ACCEPTED if accept else contracts.RETURNED
    notice.closed_at = timezone.now() if accept else None
    if not accept and notice.countermeasure_required:
        notice.has_countermeasure = False  # the returned answer's countermeasure does not count
    notice.save()
    if not accept:
        _after_commit(lambda: _mail_vendor_returned(notice.pk, text))
    return response


def _mail_vendor_returned(notice_id: int, text: str) -> None:
    notice = Notice.objects.select_related("institution").get(pk=notice_id)
    recipients = _recipients(notice.vendor_id, VENDOR_ROLES)
    if recipients:
        body = "\n".join([_("%(institution)s が %(cve)s の通知への回答を差し戻しました。") % {
            "institution": notice.institution.name, "cve": notice.cve_id}, "", text, "",
            f"{_base_url()}{reverse('vulns:inbox_notice', args=[notice.pk])}"])
        send_mail(_("[Anzen] 回答の差戻し: %(cve)s") % {"cve": notice.cve_id}, body, settings.DEFAULT_FROM_EMAIL,
                  recipients)


@transaction.atomic
def notice_withdraw(*, actor: Actor, notice: Notice, text: str) -> NoticeResponse:
    """The institution withdraws a notice (e.g. the devices were replaced before the vendor answered)."""
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    _check_institution(actor, notice)
    if notice.status in contracts.CLOSED_NOTICE:
        raise ValidationError(_("この通知はすでに完了しています。"))
    if not (text or "").strip():
        raise ValidationError({"text": _("取り下げる理由を記入してください。")})
    response = NoticeResponse.objects.create(notice=notice, kind=NoticeResponse.Kind.NOTE, author=actor.user,
                                             author_name=str(actor.user or ""), organisation_id=actor.org_id,
                                             text=_("取下げ: %(text)s") % {"text": text.strip()})
    notice.status = contracts.WITHDRAWN
    notice.closed_at = timezone.now()
    notice.save()
    return response


# --- overdue notices ----------------------------------------------------------------------------------


@dataclass
class Escalation:
    notice_id: int
    institution: str
    vendor: str
    cve_id: str
    late: tuple[str, ...]


def escalate_overdue(*, today: dt.date | None = None, now: dt.datetime | None = None,
                     send: bool = True) -> list[Escalation]:
    """Notices past a deadline that have not been escalated yet: stamp them, record them in the audit
    trail and e-mail the institution's 管理者・担当者 (once per notice)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    found: list[Escalation] = []
    open_notices = (Notice.objects.filter(escalated_at__isnull=True)
                    .exclude(status__in=sorted(contracts.CLOSED_NOTICE))
                    .filter(Q(report_due__lt=today) | Q(countermeasure_due__lt=today))
                    .select_related("institution", "vendor").order_by("pk"))
    for notice in open_notices:
        late = contracts.overdue(notice.due(), today)
        if not late:
            continue
        with transaction.atomic():
            Notice.objects.filter(pk=notice.pk).update(escalated_at=now)
            audit.record(audit.Action.UPDATE, obj=notice,
                         message=_("脆弱性の通知が期限を過ぎました: %(cve)s（%(vendor)s）")
                         % {"cve": notice.cve_id, "vendor": notice.vendor.name})
        found.append(Escalation(notice.pk, notice.institution.name, notice.vendor.name, notice.cve_id, late))
        if send:
            _mail_institution(notice, _("[Anzen] 脆弱性の通知の期限超過: %(cve)s（%(vendor)s）") % {
                "cve": notice.cve_id, "vendor": notice.vendor.name},
                _("%(vendor)s への %(cve)s の通知が期限を過ぎています。") % {
                    "vendor": notice.vendor.name, "cve": notice.cve_id})
    return found


def is_vendor_of(actor: Actor, notice: Notice) -> bool:
    return actor.kind == OrgKind.VENDOR and actor.org_id == notice.vendor_id
