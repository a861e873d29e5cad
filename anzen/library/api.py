"""API: editions, their items, search and diff (read-only, global library content)."""

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from anzen.accounts.roles import Perm
from anzen.api.routing import endpoint
from anzen.library import selectors
from anzen.library.models import Edition

router = Router(tags=["library"])


class EditionOut(Schema):
    id: int
    key: str
    version: int
    is_current: bool
    framework: str
    edition: str
    title: str
    publisher: str
    fiscal_year: int | None
    verified: str
    licence: str
    item_count: int


class NodeOut(Schema):
    id: int
    node_id: str
    parent_node_id: str | None
    kind: str
    ref: str
    text: str
    text_partial: str
    topic: str
    audience: str
    answer_schema: str | None
    required_from: int | None
    reference_only: bool
    verified: str
    official_text: bool


class SearchHit(Schema):
    id: int
    edition: str
    node_id: str
    ref: str
    text: str
    topic: str
    verified: str


def _edition_out(edition: Any) -> dict[str, Any]:
    return {"id": edition.pk, "key": edition.key, "version": edition.version, "is_current": edition.is_current,
            "framework": edition.framework.key, "edition": edition.edition, "title": edition.title,
            "publisher": edition.publisher, "fiscal_year": edition.fiscal_year, "verified": edition.verified,
            "licence": edition.licence, "item_count": getattr(edition, "item_count", 0)}


@endpoint(router, "get", "/editions", perm=Perm.LIBRARY_VIEW, response=list[EditionOut])
def editions(request: HttpRequest, include_superseded: bool = False) -> list[dict[str, Any]]:
    rows = selectors.editions(request.actor, include_superseded=include_superseded)  # type: ignore[attr-defined]
    return [_edition_out(e) for e in rows]


@endpoint(router, "get", "/editions/{edition_id}/nodes", perm=Perm.LIBRARY_VIEW, response=list[NodeOut])
def nodes(request: HttpRequest, edition_id: int) -> list[dict[str, Any]]:
    edition = selectors.edition(request.actor, edition_id)  # type: ignore[attr-defined]
    rows = edition.nodes.select_related("parent", "answer_schema").order_by("position")
    return [
        {"id": n.pk, "node_id": n.node_id, "parent_node_id": n.parent.node_id if n.parent else None,
         "kind": n.kind, "ref": n.ref, "text": n.text, "text_partial": n.text_partial, "topic": n.topic,
         "audience": n.audience, "answer_schema": n.answer_schema.key if n.answer_schema else None,
         "required_from": n.required_from, "reference_only": n.reference_only, "verified": n.verified,
         "official_text": n.is_official_text}
        for n in rows
    ]


@endpoint(router, "get", "/search", perm=Perm.LIBRARY_VIEW, response=list[SearchHit])
def search(request: HttpRequest, q: str, limit: int = 100) -> list[dict[str, Any]]:
    hits = selectors.search(request.actor, q)[: max(1, min(limit, 500))]  # type: ignore[attr-defined]
    return [{"id": n.pk, "edition": n.edition.key, "node_id": n.node_id, "ref": n.ref, "text": n.text,
             "topic": n.topic, "verified": n.verified} for n in hits]


@endpoint(router, "get", "/diff", perm=Perm.LIBRARY_VIEW)
def diff(request: HttpRequest, a: str, b: str) -> dict[str, Any]:
    """Items added, removed and changed from edition `a` to edition `b` (keys like mhlw-cyber-checklist@R5)."""
    try:
        before = selectors.edition_by_ref(request.actor, a)  # type: ignore[attr-defined]
        after = selectors.edition_by_ref(request.actor, b)  # type: ignore[attr-defined]
    except Edition.DoesNotExist as error:
        raise Http404 from error
    return {"a": selectors.edition_label(before), "b": selectors.edition_label(after),
            **selectors.edition_diff(before, after).as_dict()}
