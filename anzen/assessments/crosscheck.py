"""Vendor cross-check: the vendor's 事業者確認用 against its MDS/SDS, and 備考 to settle in the contract.

Seed 003's advice to institutions collecting the vendors' forms: 「MDS/SDSとの整合も確認」,
「未記載がないように」, 「オプションや別運用が必要なものに注意」. For one vendor, institution and
fiscal year this lists

* disagreements: a mapped pair (through the current mapping sets, both directions) where one side
  says はい and the other いいえ, 対象外 or nothing;
* flags: blank required items, and 備考 containing a keyword of `files/remark-flags.yaml` (オプション,
  別途, ご施設, お客様, 対応していません …) with the reason the institution should look at it.

The core (`cross_check`, `flag_remark`) is pure; `crosscheck_for` reads in a fixed number of queries.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db.models import F
from django.utils.translation import gettext as _

from anzen.accounts.roles import Perm
from anzen.assessments.models import Answer, Assessment, SubjectKind
from anzen.assessments.suggestions import (
    BASIS_LABELS,
    RELATION_LABELS,
    form_items,
    form_label,
    links_between,
    option_label,
)
from anzen.common.permissions import Actor, scope
from anzen.library import text as library_text

FLAGS_FILE = Path(__file__).resolve().parent / "files" / "remark-flags.yaml"
POSITIVE = frozenset({"yes"})  # はい
NEGATIVE = frozenset({"no", "na", ""})  # いいえ, 対象外, 未回答
# 該当/非該当 says whether a function exists, not whether a measure is in place: never compared.
NOT_COMPARED = frozenset({"applicable", "not_applicable"})
EXCERPT = 40


# --- pure core ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRule:
    keyword: str
    reason: str
    category: str = ""


@dataclass(frozen=True)
class CheckItem:
    """One item of a vendor form or MDS/SDS, answered or not."""

    assessment_pk: int
    subject_kind: str  # vendor (事業者確認用) / system (MDS/SDS)
    form_label: str
    subject_label: str
    edition_key: str
    node_id: str
    ref: str
    text: str
    value: str = ""
    value_label: str = ""
    remarks: str = ""
    required: bool = True
    parent_node_id: str = ""  # the enclosing item, if any (MDS 12 → 12.4 → 12.4.1)


@dataclass(frozen=True)
class PairLink:
    """A mapping between a vendor-form item and an MDS/SDS item (relation read from the vendor item)."""

    vendor_node_id: str
    system_edition_key: str
    system_node_id: str
    relation: str
    basis: str
    rationale: str = ""


@dataclass(frozen=True)
class Disagreement:
    vendor_item: CheckItem
    system_item: CheckItem
    relation: str
    basis: str
    rationale: str

    @property
    def relation_label(self) -> str:
        return str(RELATION_LABELS.get(self.relation, self.relation))

    @property
    def basis_label(self) -> str:
        return str(BASIS_LABELS.get(self.basis, self.basis))

    @property
    def says_yes(self) -> str:
        """Which side says はい: "vendor" or "system"."""
        return "vendor" if self.vendor_item.value in POSITIVE else "system"


@dataclass(frozen=True)
class Flag:
    item: CheckItem
    kind: str  # "blank" | "remark"
    keyword: str = ""
    reason: str = ""
    category: str = ""
    excerpt: str = ""

    @property
    def highlighted(self) -> str:
        """The item's 備考 as written, HTML-escaped, with the keyword in <mark>."""
        return library_text.highlight(self.item.remarks, [library_text.normalise(self.keyword)])


@dataclass(frozen=True)
class RemarkGroup:
    """The flags of one item's 備考 together (one row on screen)."""

    item: CheckItem
    flags: tuple[Flag, ...]

    @property
    def highlighted(self) -> str:
        return library_text.highlight(self.item.remarks, [library_text.normalise(f.keyword) for f in self.flags])


@dataclass
class CrossCheck:
    disagreements: list[Disagreement] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    compared: int = 0  # mapped pairs looked at
    agreements: int = 0

    @property
    def blank_flags(self) -> list[Flag]:
        return [flag for flag in self.flags if flag.kind == "blank"]

    @property
    def remark_flags(self) -> list[Flag]:
        return [flag for flag in self.flags if flag.kind == "remark"]

    @property
    def remark_groups(self) -> list[RemarkGroup]:
        groups: dict[tuple[int, str], list[Flag]] = {}
        for flag in self.remark_flags:
            groups.setdefault((flag.item.assessment_pk, flag.item.node_id), []).append(flag)
        return [RemarkGroup(flags[0].item, tuple(flags)) for flags in groups.values()]

    @property
    def issue_count(self) -> int:
        return len(self.disagreements) + len(self.flags)


def flag_remark(remarks: str, rules: Iterable[FlagRule]) -> list[tuple[FlagRule, str]]:
    """The rules whose keyword occurs in `remarks` (width- and case-insensitive), with an excerpt around it."""
    normalised = library_text.normalise(remarks)
    if not normalised:
        return []
    hits: list[tuple[FlagRule, str]] = []
    for rule in rules:
        keyword = library_text.normalise(rule.keyword)
        at = normalised.find(keyword) if keyword else -1
        if at < 0:
            continue
        start = max(0, at - EXCERPT // 2)
        end = min(len(normalised), at + len(keyword) + EXCERPT // 2)
        excerpt = ("…" if start else "") + normalised[start:end] + ("…" if end < len(normalised) else "")
        hits.append((rule, excerpt))
    return hits


def _waived(item: CheckItem, by_node: dict[tuple[int, str], CheckItem]) -> bool:
    """An item under an enclosing item answered 非該当 (e.g. MDS 12.4.1 when 12.4 has no remote maintenance)."""
    parent_id = item.parent_node_id
    for _depth in range(20):
        if not parent_id:
            return False
        parent = by_node.get((item.assessment_pk, parent_id))
        if parent is None:
            return False
        if parent.value == "not_applicable":
            return True
        parent_id = parent.parent_node_id
    return False


def cross_check(
    vendor_items: Iterable[CheckItem],
    system_items: Iterable[CheckItem],
    links: Iterable[PairLink],
    rules: Iterable[FlagRule],
) -> CrossCheck:
    """Disagreements between the vendor form and each MDS/SDS, blank required items, flagged 備考."""
    vendor_items = list(vendor_items)
    system_items = list(system_items)
    rules = list(rules)
    result = CrossCheck()
    vendor_by_id: dict[str, list[CheckItem]] = defaultdict(list)
    for item in vendor_items:
        vendor_by_id[item.node_id].append(item)
    system_by_key: dict[tuple[str, str], list[CheckItem]] = defaultdict(list)
    for item in system_items:
        system_by_key[(item.edition_key, item.node_id)].append(item)

    for link in links:
        for vendor_item in vendor_by_id.get(link.vendor_node_id, ()):
            for system_item in system_by_key.get((link.system_edition_key, link.system_node_id), ()):
                if vendor_item.value in NOT_COMPARED or system_item.value in NOT_COMPARED:
                    continue
                result.compared += 1
                values = {vendor_item.value, system_item.value}
                if values & POSITIVE and values & NEGATIVE:
                    result.disagreements.append(
                        Disagreement(vendor_item, system_item, link.relation, link.basis, link.rationale))
                elif vendor_item.value and vendor_item.value == system_item.value:
                    result.agreements += 1

    by_node = {(item.assessment_pk, item.node_id): item for item in [*vendor_items, *system_items]}
    for item in [*vendor_items, *system_items]:
        if not item.value and item.required and not _waived(item, by_node):
            reason = _("未記入です。回答（または対象外の理由）を求めてください。")
            result.flags.append(Flag(item, "blank", reason=reason))
        for rule, excerpt in flag_remark(item.remarks, rules):
            result.flags.append(Flag(item, "remark", rule.keyword, rule.reason, rule.category, excerpt))
    result.disagreements.sort(key=lambda d: (d.vendor_item.ref, d.system_item.subject_label, d.system_item.ref))
    return result


@functools.cache
def flag_rules(path: Path = FLAGS_FILE) -> tuple[FlagRule, ...]:
    """The keywords of remark-flags.yaml (read once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = []
    for entry in data.get("flags") or ():
        if isinstance(entry, dict) and entry.get("keyword") and entry.get("reason"):
            rules.append(FlagRule(str(entry["keyword"]), str(entry["reason"]), str(entry.get("category", ""))))
    return tuple(rules)


# --- reading from the database ------------------------------------------------------------------

CHECKED_KINDS = (SubjectKind.VENDOR, SubjectKind.SYSTEM)


@dataclass
class VendorCrossCheck:
    institution_id: int
    institution_name: str
    vendor_id: int
    vendor_name: str
    fiscal_year: int
    vendor_forms: list[Assessment]
    systems: list[Assessment]
    result: CrossCheck

    @property
    def has_both(self) -> bool:
        return bool(self.vendor_forms) and bool(self.systems)

    @property
    def first(self) -> Assessment | None:
        """The assessment whose cross-check page represents the vendor (its 事業者確認用, else an MDS/SDS)."""
        return (self.vendor_forms or self.systems or [None])[0]


def _check_items(assessment: Assessment, answers: dict[tuple[int, int], Answer],
                 nodes: list[dict[str, Any]]) -> list[CheckItem]:
    label = form_label(assessment)
    parent_ids = {row["pk"]: row for row in nodes}
    items = []
    for row in nodes:
        answer = answers.get((assessment.pk, row["pk"]))
        value = answer.final_value if answer else ""
        parent = parent_ids.get(row["parent_id"])
        required = not row["reference_only"] and (
            row["required_from"] is None or row["required_from"] <= assessment.fiscal_year)
        items.append(CheckItem(
            assessment_pk=assessment.pk, subject_kind=assessment.subject_kind, form_label=label,
            subject_label=assessment.subject_label, edition_key=assessment.edition.key, node_id=row["node_id"],
            ref=row["ref"], text=row["text"] or row["topic"] or row["text_partial"], value=value,
            value_label=option_label(row["answer_schema__options"], value), remarks=answer.remarks if answer else "",
            required=required, parent_node_id=parent["node_id"] if parent else "",
        ))
    return items


def crosschecks(actor: Actor, *, fiscal_year: int, institution_id: int | None = None,
                vendor_id: int | None = None) -> list[VendorCrossCheck]:
    """One cross-check per (institution, vendor) with a 事業者確認用 or MDS/SDS that the actor may see.

    Queries do not grow with the number of vendors: the assessments (1), the items of each distinct
    edition and form (1 each: a vendor form and an MDS/SDS edition make 2), the answers (1), the
    mappings of each vendor-form edition (1 each).
    """
    queryset = (
        scope(actor, Assessment.objects.all(), Perm.ASSESSMENT_VIEW)
        .filter(fiscal_year=fiscal_year, subject_kind__in=CHECKED_KINDS)
        .exclude(respondent_id=F("institution_id"))
        .select_related("edition", "institution", "respondent")
        .order_by("institution__name", "respondent__name", "subject_kind", "subject_label", "pk")
    )
    if institution_id is not None:
        queryset = queryset.filter(institution_id=institution_id)
    if vendor_id is not None:
        queryset = queryset.filter(respondent_id=vendor_id)
    assessments = list(queryset)
    if not assessments:
        return []
    nodes_by_form: dict[tuple[int, int | None], list[dict[str, Any]]] = {}
    for assessment in assessments:
        key = (assessment.edition_id, assessment.form_id)
        if key not in nodes_by_form:
            nodes_by_form[key] = form_items(*key).nodes
    answers = {
        (answer.assessment_id, answer.node_id): answer
        for answer in scope(actor, Answer.objects.filter(assessment__in=[a.pk for a in assessments]),
                            Perm.ASSESSMENT_VIEW)
    }
    items = {a.pk: _check_items(a, answers, nodes_by_form[(a.edition_id, a.form_id)]) for a in assessments}

    system_keys = {a.edition.key for a in assessments if a.subject_kind == SubjectKind.SYSTEM}
    links: dict[str, list[PairLink]] = {}
    for a in assessments:
        key = a.edition.key
        if a.subject_kind == SubjectKind.VENDOR and key not in links:
            node_ids = {row["node_id"] for row in nodes_by_form[(a.edition_id, a.form_id)]}
            links[key] = [PairLink(link.node_id, link.other_edition_key, link.other_node_id, link.relation,
                                   link.basis, link.rationale)
                          for link in links_between(key, node_ids, system_keys)]

    groups: dict[tuple[int, int], list[Assessment]] = defaultdict(list)
    for a in assessments:
        groups[(a.institution_id, a.respondent_id)].append(a)
    rules = flag_rules()
    out = []
    for (inst_id, vend_id), members in groups.items():
        vendor_forms = [a for a in members if a.subject_kind == SubjectKind.VENDOR]
        systems = [a for a in members if a.subject_kind == SubjectKind.SYSTEM]
        pair_links = [link for key in {a.edition.key for a in vendor_forms} for link in links.get(key, [])]
        result = cross_check([item for a in vendor_forms for item in items[a.pk]],
                             [item for a in systems for item in items[a.pk]], pair_links, rules)
        out.append(VendorCrossCheck(inst_id, members[0].institution.name, vend_id, members[0].respondent.name,
                                    fiscal_year, vendor_forms, systems, result))
    return out


def crosscheck_for(actor: Actor, *, institution_id: int, vendor_id: int, fiscal_year: int) -> VendorCrossCheck:
    """The cross-check of one vendor's forms for one institution and year, as far as the actor may see them."""
    found = crosschecks(actor, fiscal_year=fiscal_year, institution_id=institution_id, vendor_id=vendor_id)
    if found:
        return found[0]
    return VendorCrossCheck(institution_id, "", vendor_id, "", fiscal_year, [], [], CrossCheck())


def crosscheck_for_assessment(actor: Actor, assessment: Assessment) -> VendorCrossCheck | None:
    """The cross-check shown on a vendor form's or MDS/SDS's page (None for other kinds)."""
    if assessment.subject_kind not in CHECKED_KINDS or assessment.respondent_id == assessment.institution_id:
        return None
    return crosscheck_for(actor, institution_id=assessment.institution_id, vendor_id=assessment.respondent_id,
                          fiscal_year=assessment.fiscal_year)
