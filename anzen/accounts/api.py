"""API: who am I, organisations and members (scoped like the screens)."""


from django.http import HttpRequest
from ninja import Router, Schema

from anzen.accounts import selectors
from anzen.accounts.models import Organisation
from anzen.accounts.roles import ROLE_PERMS, Perm
from anzen.api.routing import endpoint
from anzen.common.permissions import scope

router = Router(tags=["accounts"])


class OrganisationOut(Schema):
    id: int
    code: str
    kind: str
    institution_type: str
    name: str


class MeOut(Schema):
    username: str
    display_name: str
    organisation: OrganisationOut
    role: str
    permissions: list[str]


class MemberOut(Schema):
    id: int
    username: str
    display_name: str
    organisation_id: int
    role: str
    is_active: bool


@endpoint(router, "get", "/me", perm=Perm.PROFILE, response=MeOut)
def me(request: HttpRequest) -> dict:
    actor = request.actor  # type: ignore[attr-defined]
    permissions = sorted(str(p) for p in ROLE_PERMS.get(actor.role, ()) if actor.can(p))
    return {"username": actor.user.username, "display_name": actor.user.display_name,
            "organisation": actor.organisation, "role": actor.role, "permissions": permissions}


@endpoint(router, "get", "/organisations", perm=Perm.ORG_VIEW, response=list[OrganisationOut])
def organisations(request: HttpRequest) -> list[Organisation]:
    return list(scope(request.actor, Organisation.objects.all(), Perm.ORG_VIEW))  # type: ignore[attr-defined]


@endpoint(router, "get", "/members", perm=Perm.ORG_VIEW, response=list[MemberOut])
def members(request: HttpRequest) -> list[dict]:
    return [
        {"id": m.pk, "username": m.user.username, "display_name": m.user.display_name,
         "organisation_id": m.organisation_id, "role": m.role, "is_active": m.is_active}
        for m in selectors.members(request.actor)  # type: ignore[attr-defined]
    ]
