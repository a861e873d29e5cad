"""GL 6.0 Q&A シQ-54: 13 mixed characters, or 8 with two-factor authentication; no reuse."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from anzen.accounts import services
from anzen.accounts.passwords import character_classes
from anzen.accounts.roles import Role


@pytest.mark.parametrize(("password", "classes"), [
    ("abcDEF", {"letter"}), ("abc123", {"letter", "digit"}), ("a1!", {"letter", "digit", "symbol"}),
    ("パスワード1!", {"digit", "symbol"}),
])
def test_character_classes(password: str, classes: set[str]) -> None:
    assert character_classes(password) == classes


@pytest.mark.django_db
def test_without_two_factor_thirteen_mixed_characters_are_needed(world) -> None:
    with pytest.raises(ValidationError) as error:
        services.user_create(username="u1", email="u1@example.test", display_name="u1", password="Short-pass-1")
    assert "13文字以上" in " ".join(error.value.messages)
    assert services.user_create(username="u1", email="u1@example.test", display_name="u1",
                                password="Long-pass-123x").pk


@pytest.mark.django_db
def test_with_two_factor_eight_mixed_characters_suffice(world) -> None:
    user = services.user_create(username="u2", email="u2@example.test", display_name="u2",
                                password="Ab3$efgh", expects_mfa=True)
    assert user.password_set_with_mfa


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["onlyletterslong", "1234567890123", "letters and 123", "NoSymbols12345"])
def test_mixed_characters_are_required(password: str, world) -> None:
    with pytest.raises(ValidationError) as error:
        services.user_create(username="u3", email="u3@example.test", display_name="u3", password=password)
    assert "英字・数字・記号" in " ".join(error.value.messages)


@pytest.mark.django_db
@override_settings(ANZEN_PASSWORD_HISTORY=3)
def test_recent_passwords_cannot_be_reused(world, make_member) -> None:
    user = make_member("hist", world.hospital, Role.STAFF).user
    passwords = ["First-pass-0001!", "Second-pass-002!", "Third-pass-0003!"]
    for password in passwords:
        services.password_set(user=user, password=password)
    with pytest.raises(ValidationError, match="再利用"):
        services.password_set(user=user, password=passwords[0])
    services.password_set(user=user, password="Fourth-pass-004!")
    services.password_set(user=user, password=passwords[0])  # now older than the last three
    user.refresh_from_db()
    assert user.check_password(passwords[0])
    assert user.password_history.count() == 3


@pytest.mark.django_db
def test_admin_role_counts_as_two_factor_for_the_length_rule(world, make_member) -> None:
    admin = make_member("adm", world.hospital, Role.ADMIN).user
    services.password_set(user=admin, password="Ab3$efgh")
    staff = make_member("stf", world.hospital, Role.STAFF).user
    with pytest.raises(ValidationError):
        services.password_set(user=staff, password="Ab3$efgh")
