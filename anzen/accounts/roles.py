"""Organisation kinds, roles, and which role may hold which permission (pure data, no ORM)."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    INSTITUTION = "institution", _("医療機関等")
    VENDOR = "vendor", _("事業者")
    EVALUATOR = "evaluator", _("評価機関")


class InstitutionType(models.TextChoices):
    HOSPITAL = "hospital", _("病院")
    CLINIC = "clinic", _("診療所")
    DENTAL = "dental", _("歯科診療所")
    PHARMACY = "pharmacy", _("薬局")
    NURSING_STATION = "nursing", _("訪問看護ステーション")
    CARE = "care", _("介護事業者")
    OTHER = "other", _("その他")


class Role(models.TextChoices):
    ADMIN = "admin", _("管理者")
    STAFF = "staff", _("担当者")
    MANAGER = "manager", _("経営層")
    VENDOR = "vendor", _("事業者")
    EVALUATOR = "evaluator", _("評価者")
    AUDITOR = "auditor", _("監査")


ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    OrgKind.INSTITUTION: (Role.ADMIN, Role.STAFF, Role.MANAGER, Role.AUDITOR),
    OrgKind.VENDOR: (Role.ADMIN, Role.VENDOR),
    OrgKind.EVALUATOR: (Role.ADMIN, Role.EVALUATOR),
}


class Perm(StrEnum):
    """What a membership may do. Views, API endpoints, exports and CLI listings name one of these."""

    DASHBOARD = "dashboard.view"
    LIBRARY_VIEW = "library.view"
    LIBRARY_MANAGE = "library.manage"
    ORG_VIEW = "org.view"
    MEMBERS_MANAGE = "org.manage_members"
    ORG_SETTINGS = "org.settings"
    PARTNERS_VIEW = "org.partners"
    AUDIT_VIEW = "audit.view"
    HISTORY_VIEW = "audit.history"
    PROFILE = "account.profile"
    ASSESSMENT_VIEW = "assessment.view"
    ASSESSMENT_MANAGE = "assessment.manage"  # create, request from vendors, assign evaluators, reopen
    ASSESSMENT_ANSWER = "assessment.answer"
    ASSESSMENT_REVIEW = "assessment.review"
    ASSESSMENT_SIGN_OFF = "assessment.sign_off"
    ASSESSMENT_EXPORT = "assessment.export"
    ASSET_VIEW = "asset.view"
    ASSET_MANAGE = "asset.manage"  # edit the ledger, import, scans, media, disposals
    VULN_VIEW = "vuln.view"  # findings of the institution's ledger
    VULN_MANAGE = "vuln.manage"  # finding status, contract rules, sending notices
    FEED_IMPORT = "vuln.feed_import"  # load CVE/JVN feeds into the shared store
    NOTICE_ANSWER = "vuln.notice_answer"  # a vendor answers the notices addressed to it


_EVERYONE = {Perm.DASHBOARD, Perm.LIBRARY_VIEW, Perm.ORG_VIEW, Perm.PROFILE, Perm.HISTORY_VIEW,
             Perm.ASSESSMENT_VIEW, Perm.ASSESSMENT_EXPORT}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: frozenset(_EVERYONE | {Perm.LIBRARY_MANAGE, Perm.MEMBERS_MANAGE, Perm.ORG_SETTINGS,
                                       Perm.PARTNERS_VIEW, Perm.AUDIT_VIEW, Perm.ASSESSMENT_MANAGE,
                                       Perm.ASSESSMENT_ANSWER, Perm.ASSESSMENT_REVIEW, Perm.ASSESSMENT_SIGN_OFF,
                                       Perm.ASSET_VIEW, Perm.ASSET_MANAGE, Perm.VULN_VIEW, Perm.VULN_MANAGE,
                                       Perm.FEED_IMPORT, Perm.NOTICE_ANSWER}),
    Role.STAFF: frozenset(_EVERYONE | {Perm.PARTNERS_VIEW, Perm.ASSESSMENT_MANAGE, Perm.ASSESSMENT_ANSWER,
                                       Perm.ASSESSMENT_REVIEW, Perm.ASSET_VIEW, Perm.ASSET_MANAGE,
                                       Perm.VULN_VIEW, Perm.VULN_MANAGE}),
    Role.MANAGER: frozenset(_EVERYONE | {Perm.PARTNERS_VIEW, Perm.ASSESSMENT_SIGN_OFF, Perm.ASSET_VIEW,
                                         Perm.VULN_VIEW}),
    Role.VENDOR: frozenset(_EVERYONE | {Perm.ASSESSMENT_ANSWER, Perm.NOTICE_ANSWER}),
    Role.EVALUATOR: frozenset(_EVERYONE | {Perm.ASSESSMENT_REVIEW}),
    Role.AUDITOR: frozenset(_EVERYONE | {Perm.PARTNERS_VIEW, Perm.AUDIT_VIEW, Perm.ASSET_VIEW, Perm.VULN_VIEW}),
}

# Permissions that only make sense inside an institution (the vendor's admin manages its members,
# but the library is the institutions' content to extend; only an institution creates assessments
# and signs them off).
INSTITUTION_ONLY: frozenset[Perm] = frozenset({Perm.LIBRARY_MANAGE, Perm.ASSESSMENT_MANAGE,
                                               Perm.ASSESSMENT_SIGN_OFF, Perm.ASSET_VIEW, Perm.ASSET_MANAGE,
                                               Perm.VULN_VIEW, Perm.VULN_MANAGE, Perm.FEED_IMPORT})

READ_ONLY_ROLES = frozenset({Role.AUDITOR})


def role_has(role: str, kind: str, perm: Perm) -> bool:
    if perm in INSTITUTION_ONLY and kind != OrgKind.INSTITUTION:
        return False
    return perm in ROLE_PERMS.get(role, frozenset())
