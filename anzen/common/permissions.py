"""The one place that decides what a user may see or change.

Every view, API endpoint, export and CLI listing asks `scope()` for its queryset and `require()` for
its action. A request acts as one *actor*: a user inside one active membership (organisation and
role). Models say how they hang off organisations with a `scope_rule`; this module combines that
with the role's permissions. Nothing else filters by organisation by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from anzen.accounts.roles import OrgKind, Perm, Role, role_has

if TYPE_CHECKING:
    from anzen.accounts.models import Membership, Organisation, User


@dataclass(frozen=True)
class Actor:
    user: User | None
    membership: Membership | None
    is_system: bool = False

    @classmethod
    def system(cls) -> Actor:
        """The local operator of the CLI (shell access to the database already implies all rights)."""
        return cls(user=None, membership=None, is_system=True)

    @property
    def organisation(self) -> Organisation | None:
        return self.membership.organisation if self.membership else None

    @property
    def org_id(self) -> int | None:
        return self.membership.organisation_id if self.membership else None

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def kind(self) -> str | None:
        return self.membership.organisation.kind if self.membership else None

    def can(self, perm: Perm) -> bool:
        if self.is_system:
            return True
        if self.membership is None or not self.membership.is_active:
            return False
        return role_has(self.membership.role, self.membership.organisation.kind, perm)

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.AUDITOR


@dataclass(frozen=True)
class ScopeRule:
    """How a model's rows belong to organisations.

    owner: lookup from the model to the owning Organisation ("pk" for Organisation itself).
    shared: lookups to organisations that an owner shared the row with (vendors, evaluators).
    is_global: library content every member may read.
    Any object with `q(actor) -> Q` and a `distinct` flag may serve as a rule.
    """

    owner: str | None = None
    shared: tuple[str, ...] = ()
    is_global: bool = False
    distinct: bool = False  # set when a lookup crosses a to-many relation

    def q(self, actor: Actor) -> Q:
        if self.is_global:
            return Q()
        org_id = actor.org_id
        condition = Q(**{_id_lookup(self.owner): org_id}) if self.owner else Q(pk__in=[])
        for path in self.shared:
            condition |= Q(**{_id_lookup(path): org_id})
        return condition


def _id_lookup(path: str | None) -> str:
    if path in (None, "pk") or path.endswith("_id"):
        return path or "pk"
    return f"{path}__id"


def rule_for(model: type[Model]) -> ScopeRule:
    rule = getattr(model, "scope_rule", None)
    if rule is None or not callable(getattr(rule, "q", None)):
        raise ImproperlyConfigured(f"{model.__name__} has no scope_rule: it cannot be listed for users")
    return rule


def scope(actor: Actor | None, queryset: QuerySet[Any], perm: Perm) -> QuerySet[Any]:
    """The rows of `queryset` that `actor` may see for `perm` (none when the role lacks it)."""
    if actor is None or not actor.can(perm):
        return queryset.none()
    if actor.is_system:
        return queryset
    rule = rule_for(queryset.model)
    scoped = queryset.filter(rule.q(actor))
    return scoped.distinct() if rule.distinct else scoped


def require(actor: Actor | None, perm: Perm) -> Actor:
    if actor is None or not actor.can(perm):
        raise PermissionDenied(perm)
    return actor


def get_scoped(actor: Actor | None, queryset: QuerySet[Any], perm: Perm, **lookup: Any) -> Any:
    """One row the actor may see, or 404 (never 403: a foreign row's existence is not disclosed)."""
    require(actor, perm)
    try:
        return scope(actor, queryset, perm).get(**lookup)
    except queryset.model.DoesNotExist as missing:
        raise Http404 from missing


def partner_org_ids(actor: Actor) -> set[int]:
    """Organisations linked to the actor's: an institution's vendors/evaluators, or a vendor's customers."""
    from anzen.accounts.models import OrganisationRelation

    if actor.org_id is None:
        return set()
    links = OrganisationRelation.objects.filter(is_active=True)
    if actor.kind == OrgKind.INSTITUTION:
        return set(links.filter(institution_id=actor.org_id).values_list("partner_id", flat=True))
    return set(links.filter(partner_id=actor.org_id).values_list("institution_id", flat=True))
