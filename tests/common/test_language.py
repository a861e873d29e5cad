from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_japanese_by_default_even_for_an_english_browser(client: Client) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page["Content-Language"] == "ja"
    assert "ログインID" in page.content.decode()


@pytest.mark.django_db
def test_english_when_chosen(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/")
    assert page["Content-Language"] == "en"
    assert '<html lang="en">' in page.content.decode()
