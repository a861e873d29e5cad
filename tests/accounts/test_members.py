"""Invitations by e-mail link, member roles, and the rules that keep an organisation manageable."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from anzen.accounts import services
from anzen.accounts.models import Invitation, Membership
from anzen.accounts.roles import Role
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor
from tests.conftest import login_as


def _link(message: str) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", message).group(0)


@pytest.mark.django_db
def test_admin_invites_and_the_invitee_registers(client: Client, world, make_member) -> None:
    admin = make_member("inv-admin", world.hospital, Role.ADMIN, mfa=True)
    login_as(client, admin)
    response = client.post(reverse("accounts:invite"), {"email": "New.Staff@Example.test", "role": Role.STAFF})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.staff@example.test"]
    assert "テスト病院" in mail.outbox[0].subject
    path = _link(mail.outbox[0].body).split("://", 1)[1].split("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash not in mail.outbox[0].body  # only the hash is stored
    client.post(reverse("accounts:logout"))
    page = client.get("/" + path)
    assert "担当者" in page.content.decode()
    weak = client.post("/" + path, {"username": "newstaff", "display_name": "新人 担当",
                                    "new_password1": "short1!", "new_password2": "short1!"})
    assert "13文字以上" in weak.content.decode()
    assert not Membership.objects.filter(user__username="newstaff").exists()
    done = client.post("/" + path, {"username": "newstaff", "display_name": "新人 担当",
                                    "new_password1": "Welcome-2026-ok", "new_password2": "Welcome-2026-ok"})
    assert done["Location"] == reverse("accounts:login")
    membership = Membership.objects.get(user__username="newstaff")
    assert membership.organisation == world.hospital and membership.role == Role.STAFF
    assert client.get("/" + path).status_code == 404  # single use
    assert AuditEntry.objects.filter(action="permission", object_type="accounts.membership",
                                     object_id=str(membership.pk)).exists()


@pytest.mark.django_db
def test_staff_cannot_invite(client: Client, world, make_member) -> None:
    login_as(client, make_member("inv-staff", world.hospital, Role.STAFF))
    assert client.post(reverse("accounts:invite"), {"email": "a@example.test", "role": Role.ADMIN}).status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_roles_must_fit_the_organisation_kind(world, make_member) -> None:
    admin = make_member("kind-admin", world.vendor, Role.ADMIN, mfa=True)
    with pytest.raises(ValidationError, match="役割"):
        services.invitation_create(actor=Actor(admin.user, admin), email="b@example.test", role=Role.MANAGER)


@pytest.mark.django_db
def test_role_change_is_a_permission_entry_and_the_last_admin_stays(client: Client, world, make_member) -> None:
    admin = make_member("role-admin", world.hospital, Role.ADMIN, mfa=True)
    staff = make_member("role-staff", world.hospital, Role.STAFF)
    login_as(client, admin)
    client.post(reverse("accounts:member_role", kwargs={"pk": staff.pk}), {"role": Role.MANAGER, "action": "role"})
    staff.refresh_from_db()
    assert staff.role == Role.MANAGER
    entry = AuditEntry.objects.filter(action="permission", object_id=str(staff.pk)).last()
    assert entry.before == {"role": "staff"} and entry.after == {"role": "manager"}
    assert entry.actor_label == "role-admin" and entry.organisation_label == "テスト病院"
    response = client.post(reverse("accounts:member_role", kwargs={"pk": admin.pk}),
                           {"role": Role.STAFF, "action": "role"}, follow=True)
    assert "少なくとも1名の管理者" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


@pytest.mark.django_db
def test_expired_or_revoked_invitations_are_refused(world, make_member) -> None:
    admin = make_member("exp-admin", world.hospital, Role.ADMIN, mfa=True)
    invitation, token = services.invitation_create(actor=Actor(admin.user, admin), email="c@example.test",
                                                   role=Role.STAFF)
    services.invitation_revoke(actor=Actor(admin.user, admin), invitation=invitation)
    with pytest.raises(ValidationError, match="無効"):
        services.invitation_accept(token=token, username="c", display_name="c", password="Welcome-2026-ok")


@pytest.mark.django_db
def test_api_token_works_until_revoked(client: Client, world, make_member) -> None:
    staff = make_member("tok-staff", world.hospital, Role.STAFF)
    login_as(client, staff)
    client.post(reverse("accounts:api_token_create"), {"name": "連携", "days": 30})
    secret = client.get(reverse("accounts:profile")).context["new_token"]
    assert secret.startswith("anz_")
    me = client.get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert me["organisation"]["code"] == "t-hospital" and me["role"] == "staff"
    token = staff.api_tokens.get()
    assert token.key_hash != secret and secret not in str(AuditEntry.objects.values_list("after", flat=True))
    client.post(reverse("accounts:api_token_revoke", kwargs={"pk": token.pk}))
    assert client.get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
