"""Shared fixtures: a small world of organisations and a logged-in client per role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from anzen.accounts import services
from anzen.accounts.middleware import ACTIVE_MEMBERSHIP
from anzen.accounts.models import Membership, Organisation, User
from anzen.accounts.roles import InstitutionType, OrgKind, Role

PASSWORD = "Test-Pass-2026!x"  # 16 mixed characters: valid with or without two-factor authentication


@dataclass
class World:
    hospital: Organisation
    other_hospital: Organisation
    vendor: Organisation
    other_vendor: Organisation
    evaluator: Organisation


@pytest.fixture
def world(db: None) -> World:
    hospital = services.organisation_create(kind=OrgKind.INSTITUTION, name="テスト病院", code="t-hospital",
                                            institution_type=InstitutionType.HOSPITAL, beds=300)
    other = services.organisation_create(kind=OrgKind.INSTITUTION, name="別の診療所", code="t-clinic",
                                         institution_type=InstitutionType.CLINIC)
    vendor = services.organisation_create(kind=OrgKind.VENDOR, name="テスト事業者", code="t-vendor")
    other_vendor = services.organisation_create(kind=OrgKind.VENDOR, name="無関係の事業者", code="t-vendor2")
    evaluator = services.organisation_create(kind=OrgKind.EVALUATOR, name="テスト評価機関", code="t-eval")
    services.relation_create(institution=hospital, partner=vendor)
    services.relation_create(institution=hospital, partner=evaluator)
    services.relation_create(institution=other, partner=other_vendor)
    return World(hospital, other, vendor, other_vendor, evaluator)


@pytest.fixture
def make_member(db: None) -> Callable[..., Membership]:
    def make(username: str, organisation: Organisation, role: str, *, mfa: bool = False) -> Membership:
        user = User.objects.filter(username=username).first() or services.user_create(
            username=username, email=f"{username}@example.test", display_name=username, password=PASSWORD,
        )
        membership = services.membership_add(user=user, organisation=organisation, role=role)
        if mfa:
            TOTPDevice.objects.get_or_create(user=user, name="authenticator", defaults={"confirmed": True})
        return membership

    return make


def login_as(client: Client, membership: Membership) -> Client:
    client.force_login(membership.user)
    session = client.session
    session[ACTIVE_MEMBERSHIP] = membership.pk
    session.save()
    return client


ROLE_HOMES = {
    Role.ADMIN: "hospital",
    Role.STAFF: "hospital",
    Role.MANAGER: "hospital",
    Role.AUDITOR: "hospital",
    Role.VENDOR: "vendor",
    Role.EVALUATOR: "evaluator",
}


@pytest.fixture
def member_of_role(world: World, make_member: Callable[..., Membership]) -> Callable[[str], Membership]:
    def make(role: str) -> Membership:
        org = getattr(world, ROLE_HOMES[role])
        return make_member(f"u-{role}", org, role, mfa=role in (Role.ADMIN, Role.EVALUATOR))

    return make


@pytest.fixture
def admin_client(client: Client, member_of_role: Callable[[str], Membership]) -> Client:
    return login_as(client, member_of_role(Role.ADMIN))
