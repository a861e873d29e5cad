"""Who is acting right now: set by the web middleware, the API auth and the CLI.

The audit trail reads it so that every change, wherever it comes from, names its actor, organisation
and client address without each service passing them along.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None = None
    actor_label: str = ""
    organisation_id: int | None = None
    organisation_label: str = ""
    client_ip: str | None = None
    source: str = "system"  # web | api | cli | system


SYSTEM = AuditContext(actor_label="system", source="system")
_current: ContextVar[AuditContext] = ContextVar("anzen_audit_context", default=SYSTEM)


def current() -> AuditContext:
    return _current.get()


@contextlib.contextmanager
def acting(context: AuditContext) -> Iterator[AuditContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def replace(context: AuditContext) -> None:
    """Switch the context for the rest of the enclosing `acting` block (API token auth)."""
    _current.set(context)


def context_for(user: Any = None, organisation: Any = None, client_ip: str | None = None,
                source: str = "web") -> AuditContext:
    return AuditContext(
        actor_id=getattr(user, "pk", None),
        actor_label=(getattr(user, "get_username", lambda: "")() if user is not None else "") or "",
        organisation_id=getattr(organisation, "pk", None),
        organisation_label=str(organisation) if organisation is not None else "",
        client_ip=client_ip,
        source=source,
    )
