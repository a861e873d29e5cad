"""Login with password and TOTP, enforced enrolment, recovery codes, lockout, idle logout."""

from __future__ import annotations

import time

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from anzen.accounts import services
from anzen.accounts.middleware import LAST_SEEN
from anzen.accounts.roles import Role
from anzen.common.models import AuditEntry
from tests.conftest import PASSWORD, login_as

LOGIN = "/accounts/login/"


def totp_now(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset * device.step
    return f"{totp.token():06d}"


def post_login(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.mark.django_db
def test_staff_logs_in_with_password_only_and_it_is_audited(client: Client, world, make_member) -> None:
    membership = make_member("staff1", world.hospital, Role.STAFF)
    response = post_login(client, "staff1")
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "ダッシュボード" in page.content.decode()
    entry = AuditEntry.objects.filter(action="login").last()
    assert entry.object_id == str(membership.user_id) and entry.client_ip == "127.0.0.1"


@pytest.mark.django_db
def test_wrong_password_is_refused_in_japanese_and_audited(client: Client, world, make_member) -> None:
    make_member("staff2", world.hospital, Role.STAFF)
    response = post_login(client, "staff2", "wrong-password")
    assert response.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません" in response.content.decode()
    failure = AuditEntry.objects.filter(action="login_failed").last()
    assert failure.actor_label == "staff2" and failure.message == "password"


@pytest.mark.django_db
def test_admin_must_enrol_totp_before_anything_else(client: Client, world, make_member) -> None:
    make_member("admin1", world.hospital, Role.ADMIN)
    response = post_login(client, "admin1")
    assert response["Location"] == reverse("accounts:mfa_enrol")
    assert client.get("/audit/")["Location"] == reverse("accounts:mfa_enrol")
    page = client.get(reverse("accounts:mfa_enrol"))
    assert "<svg" in page.content.decode() and "totp-secret" in page.content.decode()
    device = TOTPDevice.objects.get(user__username="admin1", confirmed=False)
    bad = client.post(reverse("accounts:mfa_enrol"), {"token": "000000" if totp_now(device) != "000000" else "111111"})
    assert "確認コードが正しくありません" in bad.content.decode()
    done = client.post(reverse("accounts:mfa_enrol"), {"token": totp_now(device)})
    assert done["Location"] == reverse("accounts:mfa_recovery_codes")
    codes_page = client.get(done["Location"]).content.decode()
    assert codes_page.count("<li>") >= 10
    assert client.get("/audit/").status_code == 200
    assert AuditEntry.objects.filter(action="mfa", message="totp_enrolled").exists()


@pytest.mark.django_db
def test_second_step_with_totp_and_recovery_code(client: Client, world, make_member) -> None:
    user = make_member("admin2", world.hospital, Role.ADMIN).user
    device = services.totp_begin(user=user)
    codes = services.totp_confirm(user=user, device=device, token=totp_now(device))
    device.refresh_from_db()
    response = post_login(client, "admin2")
    assert response["Location"] == reverse("accounts:login_verify")
    assert client.get("/")["Location"].startswith(LOGIN)  # not logged in before the second step
    response = client.post(reverse("accounts:login_verify"), {"token": totp_now(device, offset=1)})
    assert response.status_code == 302 and client.get("/").status_code == 200
    client.post(reverse("accounts:logout"))
    post_login(client, "admin2")
    client.post(reverse("accounts:login_verify"), {"token": codes[0]})
    assert client.get("/").status_code == 200
    client.post(reverse("accounts:logout"))
    post_login(client, "admin2")
    again = client.post(reverse("accounts:login_verify"), {"token": codes[0]})  # single use
    assert "確認コードが正しくありません" in again.content.decode()
    assert AuditEntry.objects.filter(action="login_failed", message="totp", actor_label="admin2").exists()


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account_and_are_audited(client: Client, world, make_member) -> None:
    make_member("staff3", world.hospital, Role.STAFF)
    for _ in range(3):
        post_login(client, "staff3", "wrong")
    locked = post_login(client, "staff3")  # even the right password is refused now
    assert locked.status_code == 429
    assert "ロック" in locked.content.decode()
    assert AuditEntry.objects.filter(action="lockout", actor_label="staff3").exists()


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_totp_codes_count_towards_the_lockout(client: Client, world, make_member) -> None:
    user = make_member("admin3", world.hospital, Role.ADMIN, mfa=True).user
    device = TOTPDevice.objects.get(user=user)
    post_login(client, "admin3")
    wrong = "000000" if totp_now(device) != "000000" else "999999"
    for _ in range(2):
        client.post(reverse("accounts:login_verify"), {"token": wrong})
    locked = client.post(reverse("accounts:login_verify"), {"token": wrong})
    assert locked.status_code == 429
    assert post_login(client, "admin3").status_code == 429


@pytest.mark.django_db
@override_settings(ANZEN_IDLE_TIMEOUT_MINUTES=15)
def test_idle_session_is_logged_out_and_audited(client: Client, world, make_member) -> None:
    login_as(client, make_member("staff4", world.hospital, Role.STAFF))
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_SEEN] = time.time() - 16 * 60
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get("/")["Location"].startswith(LOGIN)
    assert AuditEntry.objects.filter(action="logout", message="idle").exists()


@pytest.mark.django_db
def test_organisation_may_require_two_factor_for_everyone(client: Client, world, make_member) -> None:
    make_member("staff5", world.hospital, Role.STAFF)
    world.hospital.require_mfa_for_all = True
    world.hospital.save()
    assert post_login(client, "staff5")["Location"] == reverse("accounts:mfa_enrol")


@pytest.mark.django_db
def test_reset_of_two_factor_forces_a_long_password(client: Client, world, make_member) -> None:
    from anzen.common.permissions import Actor

    world.other_hospital.require_mfa_for_all = True
    world.other_hospital.save()
    staff = make_member("staff6", world.other_hospital, Role.STAFF, mfa=True)
    services.password_set(user=staff.user, password="Ab3$efgh")  # 8 characters: allowed with 2FA
    world.other_hospital.require_mfa_for_all = False
    world.other_hospital.save()
    admin = make_member("admin5", world.other_hospital, Role.ADMIN, mfa=True)
    services.mfa_reset(actor=Actor(admin.user, admin), user=staff.user)
    staff.user.refresh_from_db()
    assert staff.user.must_change_password
    assert not TOTPDevice.objects.filter(user=staff.user).exists()
    login_as(client, staff)
    assert client.get("/")["Location"] == reverse("accounts:password_change")


@pytest.mark.django_db
def test_user_switches_between_organisations(client: Client, world, make_member) -> None:
    first = make_member("multi", world.hospital, Role.STAFF)
    second = make_member("multi", world.other_hospital, Role.AUDITOR)
    login_as(client, first)
    assert "テスト病院" in client.get("/").content.decode()
    client.post(reverse("accounts:switch_organisation"), {"membership": second.pk})
    page = client.get("/").content.decode()
    assert "別の診療所" in page and "監査" in page
    foreign = make_member("someone", world.vendor, Role.VENDOR)
    client.post(reverse("accounts:switch_organisation"), {"membership": foreign.pk})
    assert "別の診療所" in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_throttled_device_asks_to_wait_instead_of_calling_the_code_wrong(client: Client, world, make_member) -> None:
    user = make_member("admin6", world.hospital, Role.ADMIN, mfa=True).user
    device = TOTPDevice.objects.get(user=user)
    post_login(client, "admin6")
    wrong = "000000" if totp_now(device) != "000000" else "999999"
    client.post(reverse("accounts:login_verify"), {"token": wrong})
    page = client.post(reverse("accounts:login_verify"), {"token": totp_now(device)}).content.decode()
    assert "数秒待って" in page
    assert client.get("/")["Location"].startswith(LOGIN)
