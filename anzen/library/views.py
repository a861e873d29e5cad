from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from anzen.accounts.roles import Perm
from anzen.common.http import requires
from anzen.common.permissions import get_scoped
from anzen.library import selectors
from anzen.library.models import Edition


@requires(Perm.LIBRARY_VIEW)
def framework_list(request: HttpRequest) -> HttpResponse:
    return render(request, "library/framework_list.html",
                  {"frameworks": selectors.framework_summaries(request.actor)})  # type: ignore[attr-defined]


@requires(Perm.LIBRARY_VIEW)
def edition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    edition = get_scoped(request.actor, Edition.objects.all(), Perm.LIBRARY_VIEW, pk=pk)  # type: ignore[attr-defined]
    return render(request, "library/edition_detail.html", {"edition": edition, "nodes": edition.nodes.all()})
