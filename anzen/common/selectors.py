"""Reads of the audit trail: search for the log page, history of one object."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Model, Q, QuerySet

from anzen.accounts.roles import Perm
from anzen.common.models import AuditEntry
from anzen.common.permissions import Actor, get_scoped, scope


@dataclass(frozen=True)
class AuditFilter:
    text: str = ""
    action: str = ""
    object_type: str = ""
    actor: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audit_search(actor: Actor, criteria: AuditFilter) -> QuerySet[AuditEntry]:
    entries = scope(actor, AuditEntry.objects.all(), Perm.AUDIT_VIEW)
    for word in criteria.text.split():
        entries = entries.filter(
            Q(object_repr__icontains=word) | Q(actor_label__icontains=word) | Q(message__icontains=word)
            | Q(object_id=word) | Q(client_ip__startswith=word)
        )
    if criteria.action:
        entries = entries.filter(action=criteria.action)
    if criteria.object_type:
        entries = entries.filter(object_type=criteria.object_type)
    if criteria.actor:
        entries = entries.filter(actor_label__icontains=criteria.actor)
    if criteria.date_from:
        entries = entries.filter(at__date__gte=criteria.date_from)
    if criteria.date_to:
        entries = entries.filter(at__date__lte=criteria.date_to)
    return entries.order_by("-seq")


def object_types(actor: Actor) -> list[str]:
    return list(
        scope(actor, AuditEntry.objects.all(), Perm.AUDIT_VIEW)
        .exclude(object_type="").values_list("object_type", flat=True).distinct().order_by("object_type")
    )


def history_target(actor: Actor, object_type: str, object_id: str) -> Model:
    """The object whose history is asked for, if the actor may see it (404 otherwise)."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError) as error:
        from django.http import Http404

        raise Http404 from error
    return get_scoped(actor, model._default_manager.all(), Perm.HISTORY_VIEW, pk=object_id)


def object_history(object_type: str, object_id: str) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("-seq")
