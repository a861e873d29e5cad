"""The demo world: a fictional 300-bed hospital, its three vendors, an evaluator, a user per role.

Every name is plainly fictional (（デモ）). Loading is idempotent: objects are found by their codes
and user names, so a second run changes nothing and adds nothing to the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from anzen.accounts import services
from anzen.accounts.models import Organisation, User
from anzen.accounts.roles import InstitutionType, OrgKind, Role
from anzen.demo.assessments import load_demo_year
from anzen.demo.assets import load_demo_ledger
from anzen.demo.vulns import load_demo_vulns

# A demo password is not a secret: it is printed by `make run` and documented in the README.
DEMO_PASSWORD = "Anzen-Demo-2026!"  # noqa: S105

INSTITUTION = {"code": "demo-sakuradai", "name": "さくら台総合病院（デモ）", "kind": OrgKind.INSTITUTION,
               "institution_type": InstitutionType.HOSPITAL, "beds": 300, "address": "架空県さくら台市中央1-1"}
PARTNERS = [
    {"code": "demo-hikari-ehr", "name": "ひかり電子カルテ株式会社（デモ）", "kind": OrgKind.VENDOR,
     "description": "電子カルテシステムの提供・保守"},
    {"code": "demo-minato-net", "name": "みなとネットワーク保守株式会社（デモ）", "kind": OrgKind.VENDOR,
     "description": "院内ネットワーク・VPN装置の保守（リモート保守）"},
    {"code": "demo-aoba-pacs", "name": "あおば画像システム株式会社（デモ）", "kind": OrgKind.VENDOR,
     "description": "PACS（医用画像管理システム）の提供・保守"},
    {"code": "demo-evaluator", "name": "医療情報安全評価センター（デモ）", "kind": OrgKind.EVALUATOR,
     "description": "第三者評価（チェックシートによる適合性評価）"},
]
USERS = [
    ("sakura-admin", "情報 太郎", "demo-sakuradai", Role.ADMIN),
    ("sakura-staff", "運用 花子", "demo-sakuradai", Role.STAFF),
    ("sakura-manager", "院長 一郎", "demo-sakuradai", Role.MANAGER),
    ("sakura-auditor", "監査 次郎", "demo-sakuradai", Role.AUDITOR),
    ("hikari-vendor", "光 電子", "demo-hikari-ehr", Role.VENDOR),
    ("hikari-admin", "光 管理", "demo-hikari-ehr", Role.ADMIN),
    ("minato-vendor", "港 保守", "demo-minato-net", Role.VENDOR),
    ("aoba-vendor", "青葉 画像", "demo-aoba-pacs", Role.VENDOR),
    ("eval-evaluator", "評価 三郎", "demo-evaluator", Role.EVALUATOR),
]


def _organisation(spec: dict[str, Any]) -> tuple[Organisation, bool]:
    org = Organisation.objects.filter(code=spec["code"]).first()
    if org is not None:
        return org, False
    fields = {k: v for k, v in spec.items() if k not in {"code", "name", "kind", "description"}}
    return services.organisation_create(kind=spec["kind"], name=spec["name"], code=spec["code"], **fields), True


@transaction.atomic
def load_demo() -> dict[str, Any]:
    """The demo is Japanese data whatever language the command runs in (`anzen setup --demo --lang en`):
    titles of attached files and other texts the services write are stored as the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return _load_demo()


def _load_demo() -> dict[str, Any]:
    hospital, created = _organisation(INSTITUTION)
    for spec in PARTNERS:
        partner, made = _organisation(spec)
        created |= made
        if made:
            services.relation_create(institution=hospital, partner=partner, description=spec["description"])
    organisations = {o.code: o for o in Organisation.objects.filter(code__startswith="demo-")}
    logins = []
    for username, name, org_code, role in USERS:
        org = organisations[org_code]
        if not User.objects.filter(username=username).exists():
            user = services.user_create(
                username=username, email=f"{username}@demo.invalid", display_name=name, password=DEMO_PASSWORD,
                expects_mfa=True,
            )
            services.membership_add(user=user, organisation=org, role=role)
            created = True
        logins.append({"username": username, "organisation": org.name, "role": str(Role(role).label)})
    year = load_demo_year(hospital)  # the demo year of assessments (anzen/demo/assessments.py)
    created |= year["created"]
    ledger = load_demo_ledger(hospital, fiscal_year=year["fiscal_year"])  # the ledger (anzen/demo/assets.py)
    created |= ledger["created"]
    vulns = load_demo_vulns(hospital)  # CVEs, findings, a contract's notice and its answer (anzen/demo/vulns.py)
    created |= vulns["created"]
    return {"institution": hospital.name, "created": created, "password": DEMO_PASSWORD, "logins": logins,
            "assessments": year, "ledger": ledger, "vulns": vulns, "summary": summary(hospital)}


def summary(hospital: Organisation) -> dict[str, Any]:
    """What the demo hospital holds now (the same on every run, unlike what this run created)."""
    from django.db.models import Count, Q

    from anzen.assets.models import Device, InformationSystem
    from anzen.vulns import lifecycle
    from anzen.vulns.models import Cve
    from anzen.vulns.models_watch import Finding, Notice

    devices = Device.objects.filter(institution=hospital).aggregate(
        total=Count("pk"), disposed=Count("pk", filter=Q(status="disposed")),
        remote=Count("pk", filter=Q(remote_maintenance=True) & ~Q(status="disposed")))
    open_findings = Finding.objects.filter(institution=hospital, status__in=sorted(lifecycle.OPEN))
    by_severity = dict(open_findings.values_list("severity").annotate(n=Count("pk")).order_by())
    return {
        "systems": InformationSystem.objects.filter(institution=hospital).count(),
        "devices": devices["total"] - devices["disposed"], "disposed": devices["disposed"],
        "remote_devices": devices["remote"],
        "cves": Cve.objects.count(),
        "open_findings": sum(by_severity.values()),
        "critical": by_severity.get("critical", 0), "high": by_severity.get("high", 0),
        "kev": open_findings.filter(kev=True).count(),
        "notices": Notice.objects.filter(institution=hospital).count(),
    }
