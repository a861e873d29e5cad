"""The library through the REST API, with a token."""

from __future__ import annotations

import pytest
from django.test import Client

from anzen.accounts import services
from anzen.accounts.roles import Role
from anzen.common.permissions import Actor
from anzen.library.loader import load_builtin_library


@pytest.fixture
def token(world, make_member) -> str:
    membership = make_member("api-vendor", world.vendor, Role.VENDOR)
    return services.api_token_create(actor=Actor(membership.user, membership), name="t")[1]


@pytest.mark.django_db
def test_editions_items_search_and_diff(client: Client, token: str) -> None:
    load_builtin_library()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    editions = client.get("/api/library/editions", **auth).json()
    r5 = next(e for e in editions if e["key"] == "mhlw-cyber-checklist@R5")
    assert r5["item_count"] == 27 and r5["verified"] == "true"
    nodes = client.get(f"/api/library/editions/{r5['id']}/nodes", **auth).json()
    ledger = next(n for n in nodes if n["node_id"] == "H-2-1")
    assert ledger["text"] == "サーバ、端末PC、ネットワーク機器の台帳管理を行っている。" and ledger["official_text"]
    hits = client.get("/api/library/search", {"q": "台帳"}, **auth).json()
    assert {"mhlw-cyber-checklist@R5", "mhlw-cyber-checklist@R6"} <= {h["edition"] for h in hits}
    diff = client.get("/api/library/diff", {"a": "mhlw-cyber-checklist@R5", "b": "mhlw-cyber-checklist@R7"},
                      **auth).json()
    assert "H-R7-pw-reuse" in {n["node_id"] for n in diff["added"]}
    assert "H-2-7-server" in {n["node_id"] for n in diff["removed"]}
    assert client.get("/api/library/diff", {"a": "nope@1", "b": "mhlw-cyber-checklist@R7"}, **auth).status_code == 404
    r7 = next(e for e in editions if e["key"] == "mhlw-cyber-checklist@R7")
    unverified = next(n for n in client.get(f"/api/library/editions/{r7['id']}/nodes", **auth).json()
                      if n["node_id"] == "H-R7-usb")
    assert unverified["text"] == "" and not unverified["official_text"] and unverified["verified"] == "false"
