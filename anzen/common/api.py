"""API: search the audit trail (管理者 and 監査), same scope as the audit-log screen."""


import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from anzen.accounts.roles import Perm
from anzen.api.routing import endpoint
from anzen.common import selectors

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    seq: int
    at: dt.datetime
    action: str
    actor_label: str
    organisation_label: str
    object_type: str
    object_id: str
    object_repr: str
    before: Any = None
    after: Any = None
    message: str
    client_ip: str | None = None
    hash: str


class AuditQuery(Schema):
    q: str = ""
    action: str = ""
    object_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = 100
    offset: int = 0


@endpoint(router, "get", "/entries", perm=Perm.AUDIT_VIEW, response=list[AuditEntryOut])
def entries(request: HttpRequest, filters: Query[AuditQuery]) -> Any:
    criteria = selectors.AuditFilter(text=filters.q, action=filters.action, object_type=filters.object_type,
                                     date_from=filters.date_from, date_to=filters.date_to)
    limit = max(1, min(filters.limit, 1000))
    return selectors.audit_search(request.actor, criteria)[filters.offset:filters.offset + limit]  # type: ignore[attr-defined]
