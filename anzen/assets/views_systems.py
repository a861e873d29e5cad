"""Information systems: the list, a system's page (its devices, vendor, remote-maintenance path, MDS/SDS,
end of support), create/edit, and the "who reaches what" view (vendor → line → systems → devices)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from anzen.accounts.models import Organisation, OrganisationRelation
from anzen.accounts.roles import OrgKind, Perm
from anzen.assessments.models import Assessment, SubjectKind
from anzen.assets import forms, selectors, services
from anzen.assets.models import InformationSystem, SystemCategory
from anzen.assets.views import PAGE_SIZE, actor_of, form_errors, query_without
from anzen.common.http import requires
from anzen.common.permissions import Actor


def _vendors(actor: Actor) -> QuerySet[Organisation]:
    partners = OrganisationRelation.objects.filter(institution_id=actor.org_id, is_active=True).values("partner_id")
    return Organisation.objects.filter(kind=OrgKind.VENDOR, pk__in=partners).order_by("name")


def _disclosures(actor: Actor) -> QuerySet[Assessment]:
    return (Assessment.objects.filter(institution_id=actor.org_id, subject_kind=SubjectKind.SYSTEM)
            .select_related("respondent").order_by("-fiscal_year", "subject_label"))


@requires(Perm.ASSET_VIEW)
def system_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    category = request.GET.get("category", "")
    category = category if category in SystemCategory.values else ""
    sort = request.GET.get("sort", "name")
    queryset = selectors.systems(actor, sort=sort, q=request.GET.get("q", "")[:100], category=category)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assets/system_list.html", {
        "page": page, "query": query_without(request, "page"), "categories": SystemCategory.choices,
        "category": category, "q": request.GET.get("q", ""), "can_manage": actor.can(Perm.ASSET_MANAGE),
        "sort_query": query_without(request, "sort", "page"), "sort": sort,
    })


@requires(Perm.ASSET_VIEW)
def system_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    system = selectors.system_detail(actor, pk)
    page = Paginator(selectors.system_devices(system), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assets/system_detail.html", {
        "system": system, "page": page, "query": query_without(request, "page"),
        "can_manage": actor.can(Perm.ASSET_MANAGE), "today": selectors.today(),
        "remote_count": system.devices.filter(remote_maintenance=True).count(),
    })


def _save(request: HttpRequest, system: InformationSystem | None) -> HttpResponse:
    actor = actor_of(request)
    form = forms.SystemForm(request.POST or None, instance=system, vendors=_vendors(actor),
                            disclosures=_disclosures(actor))
    if request.method == "POST" and form.is_valid():
        try:
            if system is None:
                system = services.system_create(actor=actor, **form.values())
                messages.success(request, _("システム「%(name)s」を登録しました。") % {"name": system})
            else:
                services.system_update(actor=actor, system=system, **form.values())
                messages.success(request, _("システム「%(name)s」を更新しました。") % {"name": system})
        except ValidationError as error:
            form_errors(form, error)
        else:
            return redirect("assets:system_detail", pk=system.pk)
    return render(request, "assets/system_form.html", {"form": form, "system": system})


@requires(Perm.ASSET_MANAGE)
def system_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@requires(Perm.ASSET_MANAGE)
def system_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save(request, selectors.system_detail(actor_of(request), pk))


@requires(Perm.ASSET_VIEW)
def remote_view(request: HttpRequest) -> HttpResponse:
    paths, orphans = selectors.remote_paths(actor_of(request))
    return render(request, "assets/remote.html", {"paths": paths, "orphans": orphans})
