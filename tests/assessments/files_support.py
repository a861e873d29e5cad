"""Helpers of the export/import/pack tests (FILES): the shipped library, assessments of every layout
answered through the ORM, and text extraction from PDFs with poppler's pdftotext."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anzen.assessments.models import Answer, Assessment
from anzen.library.loader import load_builtin_library
from anzen.library.models import Edition, RequirementNode
from anzen.reports.japanese_dates import slash  # noqa: F401  (re-exported for the tests)

FY = 2025
D1 = dt.date(2025, 6, 30)
D2 = dt.date(2025, 9, 1)
TARGET = dt.date(2025, 12, 25)


@dataclass
class Forms:
    cyber: Edition
    mds: Edition
    guideline: Edition
    institution_form: RequirementNode
    vendor_form: RequirementNode
    mds_form: RequirementNode


_LOADED: dict[str, bool] = {}


def library() -> Forms:
    if not Edition.objects.filter(key="mhlw-cyber-checklist@R7").exists():
        load_builtin_library()
    cyber = Edition.objects.get(key="mhlw-cyber-checklist@R7", is_current=True)
    mds = Edition.objects.get(key="jahis-mds-sds@4.1", is_current=True)
    guideline = Edition.objects.get(key="mhlw-guideline@6.0", is_current=True)
    return Forms(cyber, mds, guideline, cyber.nodes.get(node_id="H"), cyber.nodes.get(node_id="V"),
                 mds.nodes.get(node_id="MDS"))


def items_of(assessment: Assessment) -> list[RequirementNode]:
    nodes = list(RequirementNode.objects.filter(edition_id=assessment.edition_id).select_related("answer_schema")
                 .order_by("position"))
    if assessment.form_id is None:
        return [n for n in nodes if n.kind == "item" and n.answer_schema_id]
    inside, found = {assessment.form_id}, []
    for node in nodes:
        if node.parent_id in inside:
            inside.add(node.pk)
            if node.kind == "item" and node.answer_schema_id:
                found.append(node)
    return found


def make(world: Any, *, kind: str, edition: Edition, form: RequirementNode | None, respondent: Any = None,
         label: str = "", evaluator: Any = None, fiscal_year: int = FY, status: str = "draft") -> Assessment:
    return Assessment.objects.create(institution=world.hospital, respondent=respondent or world.hospital,
                                     evaluator=evaluator, edition=edition, form=form, subject_kind=kind,
                                     subject_label=label, fiscal_year=fiscal_year, status=status)


def answer_all(assessment: Assessment, *, rounds: bool = True, remarks: bool = True) -> dict[str, dict[str, Any]]:
    """A realistic mix: はい with dates, いいえ with 目標日 and a 2回目, 対象外/非該当, blanks, 備考 and 対応策."""
    expected: dict[str, dict[str, Any]] = {}
    for index, node in enumerate(items_of(assessment)):
        options = [o["value"] for o in node.answer_schema.options]
        fields: dict[str, Any] = {}
        if index % 7 == 5:
            continue  # left blank
        if index % 3 == 1 and "no" in options:
            fields.update(round1_value="no", round1_date=D1)
            if rounds:
                fields.update(target_date=TARGET, round2_value="yes", round2_date=D2)
        elif index % 5 == 4 and len(options) > 2:
            fields.update(round1_value=options[-1], round1_date=D1)
        else:
            fields.update(round1_value=options[0], round1_date=D1 + dt.timedelta(days=index % 3))
        if remarks and index % 2 == 0:
            fields["remarks"] = f"備考{index}: オプション契約で対応（=SUM(A1) は式ではなく文字）"
        if index % 4 == 0:
            fields["countermeasure"] = f"対応策{index}"
        Answer.objects.create(assessment=assessment, node=node, **fields)
        expected[node.node_id] = fields
    return expected


ANSWER_FIELDS = ("round1_value", "round1_date", "target_date", "round2_value", "round2_date", "remarks",
                 "countermeasure")


def snapshot(assessment: Assessment, fields: tuple[str, ...] = ANSWER_FIELDS) -> dict[str, tuple[Any, ...]]:
    """The answers of an assessment by node id, blanks left out (an empty answer equals no answer)."""
    found = {}
    for answer in Answer.objects.filter(assessment=assessment).select_related("node"):
        values = tuple(getattr(answer, name) for name in fields)
        if any(values):
            found[answer.node.node_id] = values
    return found


def pdftotext(data: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is required by the tests"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(data)
        result = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                check=True)
    return result.stdout.decode("utf-8")


def pdffonts(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(data)
        result = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def squeeze(text: str) -> str:
    """Text without whitespace (pdftotext breaks long Japanese lines where the cell wraps them)."""
    return "".join(text.split())
