"""Fixtures of the library tests: the shipped library loaded, and clients logged in with a membership."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from anzen.accounts.middleware import ACTIVE_MEMBERSHIP
from anzen.accounts.models import Membership, Organisation, User
from anzen.library.loader import load_builtin_library

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_yaml(name: str) -> Any:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def library(db: None) -> dict[str, Any]:
    return load_builtin_library()


@pytest.fixture
def lib_org(db: None) -> Organisation:
    return Organisation.objects.create(
        kind="institution", name="ライブラリ試験病院", code="lib-test-hospital"
    )


@pytest.fixture
def lib_member(lib_org: Organisation) -> Callable[[str], Membership]:
    def make(role: str) -> Membership:
        user = User.objects.create_user(username=f"lib-{role}", password="Lib-Test-Pass-2026!x")
        return Membership.objects.create(user=user, organisation=lib_org, role=role)

    return make


def logged_in(client: Client, membership: Membership) -> Client:
    client.force_login(membership.user)
    session = client.session
    session[ACTIVE_MEMBERSHIP] = membership.pk
    session.save()
    return client


@pytest.fixture
def staff_client(client: Client, lib_member: Callable[[str], Membership]) -> Client:
    return logged_in(client, lib_member("staff"))


@pytest.fixture
def admin_client(client: Client, lib_member: Callable[[str], Membership]) -> Client:
    return logged_in(client, lib_member("admin"))
