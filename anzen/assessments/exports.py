"""Exports of assessments: the official layout of each form as Excel and PDF, and CSV of all answers.

`documents_for` turns assessments into `reports.checklist.ChecklistDocument`s in a fixed number of
queries whatever their number (nodes once per edition, answers with evidence and review comments in
three queries); the writers in `anzen.reports` draw them. Callers hand in assessments they fetched
through `scope` (views use `get_scoped`); every export is recorded in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from anzen.accounts.roles import Perm
from anzen.assessments import structure
from anzen.assessments.models import Answer, Assessment, Evidence, ReviewComment, SubjectKind
from anzen.common import audit
from anzen.common.permissions import Actor, require
from anzen.common.wareki import fiscal_year_label, format_with_era
from anzen.library.models import RequirementNode, Verified
from anzen.reports import checklist as cl
from anzen.reports import checklist_pdf, checklist_xlsx, csv_writer, pdf
from anzen.reports.checklist import ChecklistDocument, HeadingRow, ItemRow, LayoutKind, Option
from anzen.reports.japanese_dates import slash

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "pdf", "csv")
MDS_HEADER = ("製造業者", "作成日", "製品名称", "バージョン")
_VERSION = re.compile(r"^(?:[vV](?:er\.?)?\s*)?\d[\w.\-]*$")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


# --- building the documents ---------------------------------------------------------------------------


def layout_for(assessment: Assessment, form: RequirementNode | None) -> LayoutKind:
    if assessment.subject_kind == SubjectKind.CHECKSHEET:
        return LayoutKind.CHECKSHEET
    meta = (form.meta or {}) if form is not None else {}
    if meta.get("answer_rounds"):
        vendor = assessment.subject_kind == SubjectKind.VENDOR or (
            form is not None and form.audience == RequirementNode.Audience.VENDOR)
        return LayoutKind.VENDOR if vendor else LayoutKind.INSTITUTION
    if meta.get("header_fields") or assessment.subject_kind == SubjectKind.SYSTEM:
        return LayoutKind.MDS
    return LayoutKind.CHECKSHEET


def _form_descendants(nodes: list[RequirementNode], form_id: int | None) -> list[RequirementNode]:
    """The form's nodes in printed order: depth first, siblings by position (a library file may list
    all sections before their items, as the MDS/SDS file does)."""
    children: dict[int | None, list[RequirementNode]] = defaultdict(list)
    for node in nodes:  # already ordered by position
        children[node.parent_id].append(node)
    found: list[RequirementNode] = []
    stack = list(reversed(children[form_id] if form_id is not None else
                          [n for n in children[None] if n.kind != RequirementNode.Kind.FORM]))
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(children.get(node.pk, [])))
    return found


def _split_subject(label: str) -> tuple[str, str]:
    """"AobaPACS 3.2" → ("AobaPACS", "3.2"); a label without a version stays whole."""
    head, _sep, tail = label.strip().rpartition(" ")
    if head and _VERSION.match(tail):
        return head.strip(), tail
    return label.strip(), ""


def _kanji_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def item_text(node: RequirementNode, layout: LayoutKind) -> tuple[str, bool]:
    """The item's text as the form prints it, and whether it is the verified official text."""
    partial = node.text_partial if node.text_partial.endswith("…") else f"{node.text_partial}…"
    text = node.text or node.topic or (partial if node.text_partial else "")
    official = bool(node.text) and node.verified == Verified.TRUE
    if not node.text and not node.text_partial:
        text = f"{text}{cl.NO_TEXT}"  # only the topic is known (our words, not the form's)
    if layout == LayoutKind.MDS:
        refs = (node.meta or {}).get("gl52_refs") or (node.meta or {}).get("gl60_refs") or []
        if refs:
            text += f"({'、'.join(str(ref) for ref in refs)})"
    return text, official


def _number(node: RequirementNode, layout: LayoutKind) -> str:
    if layout.has_rounds:
        index = node.ref.find("(")
        return node.ref[index:] if index >= 0 else node.ref
    if layout == LayoutKind.MDS:
        return node.ref
    return ""


def _evidence_labels(answer: Answer | None) -> tuple[str, ...]:
    if answer is None:
        return ()
    labels = []
    for item in answer.evidence.all():
        if item.kind == Evidence.Kind.LINK:
            labels.append(f"{item.title} {item.url}".strip())
        else:
            labels.append(f"{item.title}（{item.original_name}）" if item.original_name != item.title else item.title)
    return tuple(labels)


def _latest_comment(answer: Answer | None) -> str:
    if answer is None:
        return ""
    texts = [comment.text for comment in answer.comments.all() if comment.text]
    return texts[-1] if texts else ""


def _document(assessment: Assessment, nodes: list[RequirementNode], answers: dict[int, Answer],
              today: dt.date) -> ChecklistDocument:
    form = assessment.form if assessment.form_id else None
    layout = layout_for(assessment, form)
    edition = assessment.edition
    form_meta = (form.meta or {}) if form is not None else {}
    verdicts = structure.verdicts(assessment, nodes, answers)
    by_pk = {node.pk: node for node in nodes}
    base_depth = (form.depth + 1) if form is not None else 0
    document = ChecklistDocument(
        layout=layout,
        title=edition.framework.title,
        form_title=(form.text if form is not None else edition.title),
        edition_key=edition.key,
        edition_title=edition.title,
        institution=assessment.institution.name,
        respondent=assessment.respondent.name,
        fiscal_year=assessment.fiscal_year,
        subject_label=assessment.subject_label,
        status=assessment.get_status_display(),
        assessment_id=assessment.pk,
        form_node_id=form.node_id if form is not None else "",
        footer_lines=tuple(str(line) for line in form_meta.get("footer") or ()),
        exported_on=today,
        submitted_on=timezone.localtime(assessment.submitted_at).date() if assessment.submitted_at else None,
        signed_off=assessment.signed_off_name,
    )
    if layout == LayoutKind.CHECKSHEET and form is None:
        document.form_title = edition.title
    section: dict[int, str] = {}
    group: dict[int, str] = {}
    for node in nodes:
        parent = by_pk.get(node.parent_id) if node.parent_id else None
        if parent is None:
            section[node.pk], group[node.pk] = "", ""
        elif parent.kind == RequirementNode.Kind.SECTION:
            section[node.pk] = f"{parent.ref} {parent.text}".strip() if parent.ref else section.get(parent.pk, "")
            group[node.pk] = ""
        elif parent.kind == RequirementNode.Kind.GROUP:
            section[node.pk], group[node.pk] = section.get(parent.pk, ""), parent.text or parent.topic
        else:
            section[node.pk], group[node.pk] = section.get(parent.pk, ""), group.get(parent.pk, "")
    with_items = _headings_with_items(nodes, by_pk)
    for node in nodes:
        if node.kind in (RequirementNode.Kind.SECTION, RequirementNode.Kind.GROUP):
            if node.pk not in with_items:
                continue  # a chapter of a guideline with no item to answer prints nothing
            level = node.kind
            if node.kind == RequirementNode.Kind.SECTION and layout.has_rounds and not node.ref and (
                    node.parent_id == (form.pk if form else None)):
                level = "block"
            elif node.kind == RequirementNode.Kind.GROUP and layout in (LayoutKind.MDS, LayoutKind.CHECKSHEET):
                level = "section"
            instructions = tuple(str(line) for line in (node.meta or {}).get("instructions") or ())
            document.rows.append(HeadingRow(level=str(level), text=node.text or node.topic, ref=node.ref,
                                            instructions=instructions, depth=node.depth - base_depth))
            continue
        if node.kind != RequirementNode.Kind.ITEM:
            continue
        answer = answers.get(node.pk)
        text, official = item_text(node, layout)
        verdict = verdicts.get(node.pk)
        item = ItemRow(
            node_id=node.node_id, ref=node.ref, number=_number(node, layout), text=text, official=official,
            depth=max(node.depth - base_depth - 1, 0),
            options=tuple(Option(value, label) for value, label in structure.options_of(node))
            if structure.is_answerable(node) else (),
            section=section.get(node.pk, ""), group=group.get(node.pk, ""),
            category=group.get(node.pk) or section.get(node.pk, ""),
            evidence_examples=str((node.meta or {}).get("evidence_examples") or ""),
            status=str(verdict.status) if verdict else "",
        )
        if answer is not None:
            item.round1_value, item.round1_date = answer.round1_value, answer.round1_date
            item.target_date = answer.target_date
            item.round2_value, item.round2_date = answer.round2_value, answer.round2_date
            item.remarks, item.countermeasure = answer.remarks, answer.countermeasure
            item.review_result = answer.get_review_status_display() if answer.review_status else ""
        item.evidence = _evidence_labels(answer)
        item.review_comment = _latest_comment(answer)
        if (node.meta or {}).get("gating") and layout.has_rounds and document.gating is None and parent_is(node, form):
            item.section = node.topic or "医療情報システムの有無"
            document.gating = item
            continue
        document.rows.append(item)
    if layout == LayoutKind.MDS:
        product, version = _split_subject(assessment.subject_label)
        dates = [item.round1_date for item in document.items if item.round1_date]
        made = max(dates) if dates else document.submitted_on
        document.header_fields = tuple(zip(MDS_HEADER, (assessment.respondent.name, _kanji_date(made), product,
                                                        version), strict=True))
    elif layout == LayoutKind.VENDOR:
        document.header_fields = (("事業者名", assessment.respondent.name),)
    return document


def _headings_with_items(nodes: list[RequirementNode], by_pk: dict[int, RequirementNode]) -> set[int]:
    found: set[int] = set()
    for node in nodes:
        if node.kind != RequirementNode.Kind.ITEM:
            continue
        parent = by_pk.get(node.parent_id) if node.parent_id else None
        while parent is not None and parent.pk not in found:
            found.add(parent.pk)
            parent = by_pk.get(parent.parent_id) if parent.parent_id else None
    return found


def parent_is(node: RequirementNode, form: RequirementNode | None) -> bool:
    return form is not None and node.parent_id == form.pk


def documents_for(assessments: Iterable[Assessment], *, today: dt.date | None = None) -> list[ChecklistDocument]:
    """ChecklistDocuments of the given (already scoped) assessments, in their order.

    Queries: the assessments with their organisations, edition and form (1), the nodes of each distinct
    edition (1 each), the answers with evidence and review comments (3)."""
    today = today or timezone.localdate()
    ids = [a.pk for a in assessments]
    loaded = {a.pk: a for a in Assessment.objects.filter(pk__in=ids).select_related(
        "institution", "respondent", "edition__framework", "form")}
    edition_nodes: dict[int, list[RequirementNode]] = {}
    for edition_id in {a.edition_id for a in loaded.values()}:
        edition_nodes[edition_id] = list(RequirementNode.objects.filter(edition_id=edition_id)
                                         .select_related("answer_schema").order_by("position"))
    answers: dict[int, dict[int, Answer]] = defaultdict(dict)
    for answer in Answer.objects.filter(assessment_id__in=ids).prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.order_by("created_at", "pk")),
            Prefetch("comments", queryset=ReviewComment.objects.order_by("created_at", "pk"))):
        answers[answer.assessment_id][answer.node_id] = answer
    documents = []
    for pk in ids:
        assessment = loaded[pk]
        nodes = _form_descendants(edition_nodes[assessment.edition_id], assessment.form_id)
        documents.append(_document(assessment, nodes, answers[pk], today))
    return documents


def document_for(assessment: Assessment, *, today: dt.date | None = None) -> ChecklistDocument:
    return documents_for([assessment], today=today)[0]


# --- files ---------------------------------------------------------------------------------------------


def safe_filename(value: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", value).strip(" ._")
    return cleaned[:120] or "export"


def base_name(assessment: Assessment | ChecklistDocument) -> str:
    """2025_事業者確認用_ひかり電子カルテ（no folders, no characters Windows refuses）."""
    document = assessment if isinstance(assessment, ChecklistDocument) else document_for(assessment)
    who = document.subject_label or document.respondent
    return safe_filename(f"{document.fiscal_year}_{document.short_title[:40]}_{who}")


def page_info(document: ChecklistDocument, *, title: str = "") -> pdf.PageInfo:
    return pdf.PageInfo(institution=document.institution, fiscal_year_label=fiscal_year_label(document.fiscal_year),
                        exported_label=format_with_era(document.exported_on or timezone.localdate()),
                        title=title or checklist_pdf.part_title(document))


def xlsx_bytes(document: ChecklistDocument) -> bytes:
    return checklist_xlsx.workbook_bytes([document])


def pdf_bytes(document: ChecklistDocument) -> bytes:
    return checklist_pdf.pdf_bytes(document, page_info(document))


CSV_HEADER = ("医療機関等", "年度", "種類", "回答者", "対象", "評価の状態", "版", "様式", "項目ID", "番号",
              "チェック項目",
              "区分", "1回目", "1回目の確認日", "目標日", "2回目", "2回目の確認日", "備考", "対応策", "評価結果",
              "エビデンス数", "エビデンスのSHA-256", "評価ID")
STATUS_LABELS = {"required": "必須", "reference": "参考", "not_needed": "記入不要", "gated": "確認不要"}


def csv_rows(assessments: list[Assessment], documents: list[ChecklistDocument],
             hashes: dict[tuple[int, str], list[str]]) -> list[list[str]]:
    """One row per answerable item of each assessment (blank values where it has no answer yet)."""
    rows = []
    for assessment, document in zip(assessments, documents, strict=True):
        kind = assessment.get_subject_kind_display()
        for item in document.items:
            if not item.answerable:
                continue
            digests = hashes.get((assessment.pk, item.node_id), [])
            rows.append([document.institution, str(document.fiscal_year), str(kind), document.respondent,
                         document.subject_label, document.status, document.edition_key, document.form_title,
                         item.node_id, item.ref, item.text, STATUS_LABELS.get(item.status, item.status),
                         item.label(item.round1_value) if item.round1_value else "", slash(item.round1_date),
                         slash(item.target_date), item.label(item.round2_value) if item.round2_value else "",
                         slash(item.round2_date), item.remarks, item.countermeasure, item.review_result,
                         str(len(item.evidence)), " ".join(digests), str(assessment.pk)])
    return rows


def evidence_hashes(assessments: list[Assessment]) -> dict[tuple[int, str], list[str]]:
    """SHA-256 of the evidence files per (assessment, node id) — one query."""
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for assessment_id, node_id, digest in Evidence.objects.filter(
            answer__assessment_id__in=[a.pk for a in assessments], kind=Evidence.Kind.FILE).order_by(
            "created_at", "pk").values_list("answer__assessment_id", "answer__node__node_id", "sha256"):
        found[(assessment_id, node_id)].append(digest)
    return found


def answers_csv(assessments: list[Assessment], documents: list[ChecklistDocument] | None = None) -> bytes:
    documents = documents if documents is not None else documents_for(assessments)
    return csv_writer.csv_bytes(CSV_HEADER, csv_rows(assessments, documents, evidence_hashes(assessments)))


def export_assessment(*, actor: Actor, assessment: Assessment, fmt: str) -> ExportFile:
    """One assessment as xlsx, pdf or csv, recorded in the audit trail as an export."""
    require(actor, Perm.ASSESSMENT_EXPORT)
    if fmt not in FORMATS:
        raise ValueError(fmt)
    document = document_for(assessment)
    name = base_name(document)
    if fmt == "xlsx":
        result = ExportFile(f"{name}.xlsx", XLSX_TYPE, xlsx_bytes(document))
    elif fmt == "pdf":
        result = ExportFile(f"{name}.pdf", PDF_TYPE, pdf_bytes(document))
    else:
        result = ExportFile(f"{name}.csv", CSV_TYPE, answers_csv([assessment], [document]))
    audit.record(audit.Action.EXPORT, obj=assessment, message=f"{fmt}: {result.filename}")
    return result
