"""Bearer-token authentication for the API: the token's membership becomes the request's actor."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from anzen.common import context
from anzen.common.http import client_ip
from anzen.common.permissions import Actor


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from anzen.accounts.services import api_token_authenticate

        found = api_token_authenticate(token)
        if found is None:
            return None
        membership = found.membership
        request.actor = Actor(user=membership.user, membership=membership)  # type: ignore[attr-defined]
        request.user = membership.user
        # The middleware's audit context named no user for a token request: name the token's.
        context.replace(context.context_for(membership.user, membership.organisation, client_ip(request),
                                            source="api"))
        return found
