"""Helpers shared by the answer-once tests (suggestions, copy, year-over-year, cross-check).

Assessments and answers are made with the ORM here so that the read side (suggestions, cross-check,
comparison) is tested on its own; the services' own checks are CORE's tests. No tests in this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anzen.accounts.models import Organisation
from anzen.assessments.models import Answer, Assessment
from anzen.library.models import Edition, Mapping, MappingSet, RequirementNode

CYBER_R6 = "mhlw-cyber-checklist@R6"
CYBER_R7 = "mhlw-cyber-checklist@R7"
MDS = "jahis-mds-sds@4.1"


def edition(key: str) -> Edition:
    return Edition.objects.get(key=key, is_current=True)


def node(key: str, node_id: str) -> RequirementNode:
    return RequirementNode.objects.get(edition__key=key, edition__is_current=True, node_id=node_id)


def make_assessment(institution: Organisation, respondent: Organisation, key: str, *, kind: str, year: int,
                    form: str | None = None, label: str = "", **fields: Any) -> Assessment:
    ed = edition(key)
    return Assessment.objects.create(
        institution=institution, respondent=respondent, edition=ed, form=node(key, form) if form else None,
        subject_kind=kind, subject_label=label, fiscal_year=year, **fields)


def answer(assessment: Assessment, node_id: str, value: str, day: dt.date | None = None, **fields: Any) -> Answer:
    return Answer.objects.create(
        assessment=assessment, node=node(assessment.edition.key, node_id), round1_value=value,
        round1_date=day if day is not None else (dt.date(assessment.fiscal_year, 8, 2) if value else None),
        **fields)


def equal_mapping(source: tuple[str, str], target: tuple[str, str], *, relation: str = "equal",
                  basis: str = "explicit", key: str = "test-equal") -> Mapping:
    """A mapping in a small current mapping set of the test (the shipped sets have no `equal`)."""
    mapping_set, _created = MappingSet.objects.get_or_create(
        key=key, version=1, defaults={"title": "試験用の対応表", "content_hash": "0" * 64})
    return Mapping.objects.create(mapping_set=mapping_set, source=node(*source), target=node(*target),
                                  relation=relation, basis=basis, rationale="試験")
