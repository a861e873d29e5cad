"""The demo's vulnerability watch: real NVD records for the demo ledger's products (ENGINE's excerpt shipped in
anzen/vulns/data/demo, public domain), matched against the ledger; the network maintenance contract with
みなとネットワーク保守 (seed 003's default rules) covering the network it maintains, which sends notices; and
the vendor's answer to the most severe one, so a new user sees findings, a notice and its answer offline.

Idempotent: the import changes nothing the second time, the rematch is incremental and finds nothing new,
the contract and the answer are made only when missing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from anzen.accounts.models import Membership, Organisation
from anzen.accounts.roles import Role
from anzen.common.permissions import Actor

VENDOR_CODE = "demo-minato-net"
NETWORK_SYSTEM = "院内ネットワーク"
CONTRACT_TITLE = "ネットワーク保守契約（脆弱性対応の取り決め）"
ANSWER = {
    "affected": "affected",
    "countermeasure": "対象の機器のファームウェアを修正版に更新します。更新までの間、SSL-VPN を無効にし、"
                      "管理画面へのアクセスを保守用端末に限定しました。",
    "text": "更新作業は夜間の保守時間帯に実施します（作業手順書を添付）。",
}
PLAN_LINES = [
    "ファームウェア更新計画（作業手順書）",
    "みなとネットワーク保守株式会社（デモ） → さくら台総合病院（デモ） 情報システム課",
    "",
    "1. 対象: 通知に記載のネットワーク機器（院内ネットワーク）",
    "2. 暫定対策: SSL-VPN を無効化し、管理画面へのアクセスを保守用端末に限定済み",
    "3. 更新: 夜間の保守時間帯に製造元の修正版ファームウェアへ更新する",
    "4. 確認: 更新後にバージョン・設定・通信（VPN、VLAN 間）を確認し、結果を報告する",
    "5. 切り戻し: 更新前の設定とファームウェアを保存し、不具合があれば元に戻す",
    "",
    "この文書はデモ用の架空のものです。",
]


def plan_pdf() -> bytes:
    """The vendor's attached plan: a real one-page PDF (a viewer opens it), in Japanese (IPAex Gothic)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from anzen.reports import fonts

    font = fonts.register()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)  # invariant: same bytes on every run
    page.setTitle(PLAN_LINES[0])
    page.setFont(font, 16)
    page.drawString(56, 780, PLAN_LINES[0])
    page.setFont(font, 10.5)
    for index, line in enumerate(PLAN_LINES[1:], 1):
        page.drawString(56, 780 - 24 - index * 18, line)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _excerpt_imported() -> bool:
    """Every file of the excerpt was imported before (same SHA-256): a second `setup --demo` does not even
    re-read it, so it adds nothing to the audit trail (an import is audited even when nothing changed)."""
    import hashlib

    from anzen.vulns import services_feeds
    from anzen.vulns.models import FeedImport

    files = [p for p in sorted(services_feeds.DEMO_DIR.iterdir()) if p.name.endswith((".gz", ".json", ".jsonl"))]
    hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    done = set(FeedImport.objects.filter(sha256__in=sorted(hashes), status=FeedImport.Status.OK)
               .values_list("sha256", flat=True))
    return bool(files) and hashes <= done


def _vendor_member(vendor: Organisation) -> Actor:
    membership = (Membership.objects.filter(organisation=vendor, role=Role.VENDOR, is_active=True)
                  .select_related("user", "organisation").order_by("pk").first())
    if membership is None:
        raise RuntimeError(f"demo vendor {vendor.code} has no member")  # the loader creates minato-vendor
    return Actor(membership.user, membership)


@transaction.atomic
def load_demo_vulns(hospital: Organisation) -> dict[str, Any]:
    from anzen.vulns import notices

    with notices.mail_suppressed():  # the demo's addresses are .invalid; setup --json prints only JSON
        return _load(hospital)


def _load(hospital: Organisation) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from anzen.assets.models import InformationSystem
    from anzen.vulns import contracts, notices, services_contracts, services_feeds, services_watch
    from anzen.vulns.models_watch import Notice, NoticeResponse, VendorContract

    system = Actor.system()
    feeds = [] if _excerpt_imported() else services_feeds.import_demo_excerpt()
    imported = {"new": sum(f.new for f in feeds), "updated": sum(f.updated for f in feeds),
                "unchanged": sum(f.unchanged for f in feeds)}
    vendor = Organisation.objects.get(code=VENDOR_CODE)
    created = False
    contract = VendorContract.objects.filter(institution=hospital, vendor=vendor, title=CONTRACT_TITLE).first()
    if contract is None:
        network = InformationSystem.objects.filter(institution=hospital, name=NETWORK_SYSTEM).first()
        contract = services_contracts.contract_create(
            actor=system, institution=hospital, vendor=vendor, title=CONTRACT_TITLE, reference="MN-2025-017",
            systems=[network.pk] if network else [], cover_vendor_systems=True)
        created = True
    findings = notified = 0
    if services_watch.pending_changes(hospital.pk).any:  # nothing new: no run recorded either
        report = services_watch.rematch(institution=hospital, actor=system)
        findings, notified = report.created, report.notices
        created |= report.changed > 0 or report.notices > 0
    created |= imported["new"] > 0 or imported["updated"] > 0
    answered = 0
    notice = (Notice.objects.filter(contract=contract).exclude(status__in=sorted(contracts.CLOSED_NOTICE))
              .order_by("-level", "-score", "cve_id").first())  # "urgent" > "report": urgent first
    answers = NoticeResponse.objects.filter(notice=notice, kind=NoticeResponse.Kind.ANSWER)
    if notice is not None and not answers.exists():
        notices.notice_answer(actor=_vendor_member(vendor), notice=notice, **ANSWER,
                              evidence=SimpleUploadedFile("firmware-update-plan.pdf", plan_pdf(), "application/pdf"))
        answered, created = 1, True
    return {"created": created, "imported": imported, "findings": findings, "notices": notified,
            "contract": contract.title, "answered": answered}
