"""Reads of the library."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from anzen.accounts.roles import Perm
from anzen.common.permissions import Actor, scope
from anzen.library.models import Edition, RequirementNode


@dataclass(frozen=True)
class FrameworkSummary:
    edition_id: int
    title: str
    edition_label: str
    item_count: int


def framework_summaries(actor: Actor) -> list[FrameworkSummary]:
    editions = (
        scope(actor, Edition.objects.filter(is_current=True), Perm.LIBRARY_VIEW)
        .annotate(item_count=Count("nodes", filter=Q(nodes__kind=RequirementNode.Kind.ITEM)))
        .select_related("framework")
        .order_by("framework__key", "key")
    )
    return [FrameworkSummary(e.pk, e.title, e.edition, e.item_count) for e in editions]
