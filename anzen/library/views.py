"""Library pages: frameworks and editions, the item tree, one item, search, edition differences."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from anzen.accounts.roles import Perm
from anzen.common.http import record_view, requires
from anzen.library import forms, selectors, text

PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 50
SCOPE_LABELS = {
    "all": "医療情報システム全般",
    "server": "サーバ",
    "pc": "端末PC",
    "network": "ネットワーク機器",
}


def _actor(request: HttpRequest) -> Any:
    return request.actor  # type: ignore[attr-defined]


@requires(Perm.LIBRARY_VIEW)
def framework_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    show_all = request.GET.get("all") == "1"
    page = Paginator(selectors.editions(actor, include_superseded=show_all), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "library/framework_list.html",
        {
            "groups": selectors.grouped_by_framework(list(page.object_list)),
            "page": page,
            "query": "all=1" if show_all else "",
            "show_all": show_all,
            "mapping_sets": list(selectors.mapping_sets(actor)),
            "search_form": forms.SearchForm(),
            "can_manage": actor.can(Perm.LIBRARY_MANAGE),
        },
    )


@requires(Perm.LIBRARY_VIEW)
def edition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    edition = selectors.edition(actor, pk)
    record_view(request, edition)
    tree = selectors.edition_tree(edition)
    versions = list(selectors.editions(actor, include_superseded=True).filter(key=edition.key))
    return render(
        request,
        "library/edition_detail.html",
        {
            "edition": edition,
            "tree": tree,
            "versions": versions,
            "mapping_sets": list(selectors.mapping_sets(actor, edition)),
            "previous": selectors.previous_edition(actor, edition),
            "scope_labels": SCOPE_LABELS,
            "item_count": next((v.item_count for v in versions if v.pk == edition.pk), 0),
            "default_schema": selectors.answer_schema(
                actor, (edition.meta or {}).get("default_answer_schema")
            ),
        },
    )


@requires(Perm.LIBRARY_VIEW)
def node_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = selectors.node_detail(_actor(request), pk)
    node = detail.node
    shown = {"scope", "gating", "conditions", "condition_note", "note", "instructions", "footer"}
    extra = {key: value for key, value in node.meta.items() if key not in shown}
    return render(
        request,
        "library/node_detail.html",
        {
            "detail": detail,
            "node": node,
            "edition": node.edition,
            "scope_label": SCOPE_LABELS.get(node.meta.get("scope", ""), node.meta.get("scope", "")),
            "extra_meta": extra,
        },
    )


@requires(Perm.LIBRARY_VIEW)
def search(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    current = list(selectors.editions(actor))  # no .only(): AuditedModel.from_db snapshots every field
    form = forms.SearchForm(request.GET or None, editions=current)
    rows: list[dict[str, Any]] = []
    page = None
    query_string = ""
    terms: list[str] = []
    if form.is_valid() and form.cleaned_data["q"]:
        terms = text.search_terms(form.cleaned_data["q"])
        results = selectors.search(actor, form.cleaned_data["q"], edition_id=form.cleaned_data["edition"])
        page = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        for node in page.object_list:
            rows.append(
                {
                    "node": node,
                    "content": text.highlight(node.text or node.topic or node.text_partial, terms),
                    "ref": text.highlight(node.ref, terms),
                    "parent": text.highlight(node.parent.text or node.parent.topic, terms)
                    if node.parent is not None
                    else "",
                }
            )
        params = request.GET.copy()
        params.pop("page", None)
        query_string = params.urlencode()
    return render(
        request,
        "library/search.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "query": query_string,
            "terms": terms,
        },
    )


@requires(Perm.LIBRARY_VIEW)
def edition_diff(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    editions = list(selectors.editions(actor, include_superseded=True))
    by_pk = {e.pk: e for e in editions}
    data = request.GET.copy()
    if "b" in data and not data.get("a"):
        requested = data.get("b", "")
        after = by_pk.get(int(requested)) if requested.isdigit() else None
        before = selectors.previous_edition(actor, after) if after else None
        if before is not None:
            data["a"] = str(before.pk)
    form = forms.DiffForm(data if "b" in data else None, editions=editions)
    result = None
    before = after = None
    if form.is_valid():
        before, after = by_pk[form.cleaned_data["a"]], by_pk[form.cleaned_data["b"]]
        if before.framework_id != after.framework_id:
            messages.error(request, _("同じフレームワークの版を選んでください。"))
            before = after = None
        else:
            result = selectors.edition_diff(before, after)
    return render(
        request,
        "library/diff.html",
        {
            "form": form,
            "result": result,
            "before": before,
            "after": after,
        },
    )
