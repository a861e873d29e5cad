"""A `ChecklistDocument` as an Excel workbook in the official layout of its form (no ORM).

Conventions (also read back by `checklist_read`):

- an answer cell holds the chosen option's label (「はい」「いいえ」); an unanswered cell prints the
  form's placeholder 「はい・いいえ」 in grey, as on the paper form where one is circled;
- each round's date is a real Excel date in the cell to the right of the answer, shown 2025/06/30
  (the paper form's「(  /  )」); 目標日 is a date cell of its own;
- MDS/SDS: one column per option (はい / いいえ / 対象外, or 該当 / 非該当 on the rows that use them);
  the chosen one reads 「○はい」 on a yellow background, the others print their label in grey;
- columns to the right of the printed form, headed 「Anzen 記入欄（印刷対象外）」, carry what the
  official form has no column for (備考 and 対応策 of the 医療機関確認用, the MDS/SDS answer dates) and
  the hidden 項目ID, so that an exported workbook imports back exactly; they are outside the print area;
- a hidden sheet 「Anzen」 names the edition, form and assessment the workbook was exported from.
"""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from anzen.reports import checklist as cl
from anzen.reports import xlsx
from anzen.reports.checklist import ChecklistDocument, HeadingRow, ItemRow, LayoutKind
from anzen.reports.japanese_dates import slash

META_SHEET = "Anzen"
FORMAT_VERSION = "anzen-checklist-1"

# Column positions per layout (1-based). `print_last` is the last column of the official form.
ROUNDS = {"section": 1, "text": 2, "r1v": 3, "r1d": 4, "target": 5, "r2v": 6, "r2d": 7,
          "remarks": 8, "countermeasure": 9, "node_id": 10}
MDS = {"text": 1, "options": (2, 3, 4), "remarks": 5, "date": 6, "countermeasure": 7, "node_id": 8}
SHEET = {"category": 1, "text": 2, "examples": 3, "value": 4, "date": 5, "countermeasure": 6, "evidence": 7,
         "review": 8, "comment": 9, "remarks": 10, "node_id": 11}
MDS_OPTION_HEADERS = ("はい", "いいえ", "対象外")


def workbook_bytes(documents: list[ChecklistDocument]) -> bytes:
    workbook = xlsx.new_workbook()
    used: set[str] = set()
    for document in documents:
        title = xlsx.sheet_title(document.form_title if len(documents) == 1 else
                                 f"{document.form_title} {document.subject_label or document.respondent}")
        while title in used:
            title = xlsx.sheet_title(title[:28] + f"_{len(used)}")
        used.add(title)
        ws = workbook.create_sheet(title)
        write_sheet(ws, document)
    _meta_sheet(workbook, documents[0])
    return xlsx.to_bytes(workbook)


def write_sheet(ws: Worksheet, document: ChecklistDocument) -> None:
    writer = {LayoutKind.INSTITUTION: _rounds, LayoutKind.VENDOR: _rounds, LayoutKind.MDS: _mds,
              LayoutKind.CHECKSHEET: _checksheet}[document.layout]
    writer(ws, document)
    ws.sheet_view.zoomScale = 90


def _meta_sheet(workbook: object, document: ChecklistDocument) -> None:
    ws = workbook.create_sheet(META_SHEET)  # type: ignore[attr-defined]
    rows = [("format", FORMAT_VERSION), ("layout", str(document.layout)), ("edition", document.edition_key),
            ("form", document.form_node_id), ("assessment", str(document.assessment_id or "")),
            ("fiscal_year", str(document.fiscal_year)), ("institution", document.institution),
            ("respondent", document.respondent), ("subject", document.subject_label),
            ("exported_on", slash(document.exported_on))]
    for index, (key, value) in enumerate(rows, 1):
        ws.cell(row=index, column=1, value=key)
        ws.cell(row=index, column=2, value=xlsx.safe_text(value)).data_type = "s"
    ws.sheet_state = "hidden"


def _fiscal_label(year: int) -> str:
    from anzen.common.wareki import fiscal_year_label

    return fiscal_year_label(year)


def _title_rows(ws: Worksheet, document: ChecklistDocument, last_col: int) -> int:
    xlsx.put(ws, 1, 1, document.title, style=xlsx.font(size=14, bold=True), border=False,
             align=xlsx.Alignment(horizontal="center", vertical="center"))
    xlsx.merge(ws, 1, 1, 1, last_col)
    xlsx.put(ws, 2, 1, document.form_title, style=xlsx.font(size=12, bold=True), border=False,
             align=xlsx.Alignment(horizontal="center", vertical="center"))
    xlsx.merge(ws, 2, 1, 2, last_col)
    subject = f"　{document.subject_label}" if document.subject_label else ""
    line = f"{document.institution}{subject}　{_fiscal_label(document.fiscal_year)}"
    xlsx.put(ws, 3, 1, line, style=xlsx.font(size=9, color=xlsx.GREY), border=False,
             align=xlsx.Alignment(horizontal="right"))
    xlsx.merge(ws, 3, 1, 3, last_col)
    ws.row_dimensions[1].height = 24
    return 5


def _value_cell(ws: Worksheet, row: int, column: int, item: ItemRow, value: str) -> None:
    if not item.answerable:
        xlsx.put(ws, row, column, "", align=xlsx.CENTER)
    elif value:
        xlsx.put(ws, row, column, item.label(value), style=xlsx.font(bold=True), align=xlsx.CENTER)
    else:
        placeholder = cl.PLACEHOLDER_YES_NO if len(item.options) == 2 else "・".join(o.label for o in item.options)
        xlsx.put(ws, row, column, placeholder, style=xlsx.font(color=xlsx.GREY), align=xlsx.CENTER)


def _date_cell(ws: Worksheet, row: int, column: int, value: object) -> None:
    xlsx.put(ws, row, column, value or "", align=xlsx.CENTER)


def _extras_header(ws: Worksheet, row: int, first: int, labels: dict[int, str], *, top_row: int) -> None:
    xlsx.put(ws, top_row, first, cl.ANZEN_COLUMNS, style=xlsx.font(size=9, color=xlsx.GREY),
             fill=xlsx.EXTRA_FILL, align=xlsx.CENTER)
    if top_row != row:
        xlsx.merge(ws, top_row, first, top_row, max(labels))
    for column, label in labels.items():
        xlsx.put(ws, row, column, label, style=xlsx.font(size=9, bold=True), fill=xlsx.EXTRA_FILL,
                 align=xlsx.CENTER)


def _extras(ws: Worksheet, row: int, values: dict[int, object], node_id_col: int, item: ItemRow) -> None:
    for column, value in values.items():
        xlsx.put(ws, row, column, value if value is not None else "", style=xlsx.font(size=9), fill=xlsx.EXTRA_FILL)
    xlsx.put(ws, row, node_id_col, item.node_id, style=xlsx.font(size=8, color=xlsx.GREY), fill=xlsx.EXTRA_FILL)


def _footer(ws: Worksheet, row: int, document: ChecklistDocument, last_col: int) -> int:
    lines = list(document.footer_lines)
    if document.has_unverified:
        lines.append(cl.UNVERIFIED_LEGEND)
    for line in lines:
        row += 1
        xlsx.put(ws, row, 1, f"● {line}" if not line.startswith(cl.UNVERIFIED_MARK) else line,
                 style=xlsx.font(size=9), border=False)
        xlsx.merge(ws, row, 1, row, last_col)
    return row


# --- 医療機関確認用 / 事業者確認用 ------------------------------------------------------------------------


def _rounds_header(ws: Worksheet, row: int, vendor: bool) -> tuple[int, int]:
    c = ROUNDS
    bold = xlsx.font(bold=True)
    for column in range(1, c["r2d"] + 1):
        for r in (row, row + 1):
            xlsx.put(ws, r, column, "", fill=xlsx.HEADER_FILL)
    xlsx.put(ws, row, c["text"], cl.CHECK_ITEM, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    xlsx.merge(ws, row, c["text"], row + 1, c["text"])
    xlsx.merge(ws, row, c["section"], row + 1, c["section"])
    xlsx.put(ws, row, c["r1v"], cl.RESULT_WITH_DATE, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    xlsx.merge(ws, row, c["r1v"], row, c["r2d"])
    xlsx.put(ws, row + 1, c["r1v"], cl.ROUND1, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    xlsx.merge(ws, row + 1, c["r1v"], row + 1, c["r1d"])
    xlsx.put(ws, row + 1, c["target"], cl.TARGET, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    xlsx.put(ws, row + 1, c["r2v"], cl.ROUND2, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    xlsx.merge(ws, row + 1, c["r2v"], row + 1, c["r2d"])
    if vendor:
        xlsx.put(ws, row, c["remarks"], cl.REMARKS, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
        xlsx.put(ws, row + 1, c["remarks"], "", fill=xlsx.HEADER_FILL)
        xlsx.merge(ws, row, c["remarks"], row + 1, c["remarks"])
        _extras_header(ws, row + 1, c["countermeasure"],
                       {c["countermeasure"]: cl.COUNTERMEASURE, c["node_id"]: cl.NODE_ID}, top_row=row)
    else:
        _extras_header(ws, row + 1, c["remarks"], {c["remarks"]: cl.REMARKS, c["countermeasure"]: cl.COUNTERMEASURE,
                                                   c["node_id"]: cl.NODE_ID}, top_row=row)
    return row, row + 1


def _rounds_item(ws: Worksheet, row: int, item: ItemRow, vendor: bool) -> None:
    c = ROUNDS
    xlsx.put(ws, row, c["text"], cl.display_text(item))
    _value_cell(ws, row, c["r1v"], item, item.round1_value)
    _date_cell(ws, row, c["r1d"], item.round1_date)
    _date_cell(ws, row, c["target"], item.target_date)
    _value_cell(ws, row, c["r2v"], item, item.round2_value)
    _date_cell(ws, row, c["r2d"], item.round2_date)
    if vendor:
        xlsx.put(ws, row, c["remarks"], item.remarks)
        _extras(ws, row, {c["countermeasure"]: item.countermeasure}, c["node_id"], item)
    else:
        _extras(ws, row, {c["remarks"]: item.remarks, c["countermeasure"]: item.countermeasure}, c["node_id"], item)


def _rounds(ws: Worksheet, document: ChecklistDocument) -> None:
    c = ROUNDS
    vendor = document.layout == LayoutKind.VENDOR
    last_col = c["remarks"] if vendor else c["r2d"]
    xlsx.widths(ws, {c["section"]: 16, c["text"]: 58, c["r1v"]: 9, c["r1d"]: 11, c["target"]: 11, c["r2v"]: 9,
                     c["r2d"]: 11, c["remarks"]: 30, c["countermeasure"]: 30, c["node_id"]: 14})
    xlsx.hide_column(ws, c["node_id"])
    row = _title_rows(ws, document, last_col)
    if document.gating is not None:
        gating = document.gating
        bold = xlsx.font(bold=True)
        xlsx.put(ws, row, c["section"], "", fill=xlsx.HEADER_FILL)
        xlsx.put(ws, row, c["text"], cl.CHECK_ITEM, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
        xlsx.put(ws, row, c["r1v"], cl.RESULT_WITH_DATE, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
        xlsx.put(ws, row, c["r1d"], "", fill=xlsx.HEADER_FILL)
        xlsx.merge(ws, row, c["r1v"], row, c["r1d"])
        _extras_header(ws, row, c["remarks"], {c["remarks"]: cl.REMARKS, c["countermeasure"]: cl.COUNTERMEASURE,
                                               c["node_id"]: cl.NODE_ID}, top_row=row)
        row += 1
        xlsx.put(ws, row, c["section"], gating.section, style=xlsx.font(bold=True))
        xlsx.put(ws, row, c["text"], cl.display_text(gating))
        _value_cell(ws, row, c["r1v"], gating, gating.round1_value)
        _date_cell(ws, row, c["r1d"], gating.round1_date)
        _extras(ws, row, {c["remarks"]: gating.remarks, c["countermeasure"]: gating.countermeasure}, c["node_id"],
                gating)
        row += 2
    header_rows: tuple[int, int] | None = None
    needs_header = True
    section_start: tuple[int, str] | None = None

    def close_section(end_row: int) -> None:
        if section_start is not None and end_row >= section_start[0]:
            xlsx.put(ws, section_start[0], c["section"], section_start[1], style=xlsx.font(bold=True))
            for r in range(section_start[0] + 1, end_row + 1):
                xlsx.put(ws, r, c["section"], "")
            xlsx.merge(ws, section_start[0], c["section"], end_row, c["section"])

    for entry in document.rows:
        if isinstance(entry, HeadingRow) and entry.level == "block":
            close_section(row - 1)
            section_start = None
            if not needs_header:
                row += 1
            xlsx.put(ws, row, c["section"], f"○ {entry.text}", style=xlsx.font(size=11, bold=True), border=False)
            xlsx.merge(ws, row, c["section"], row, last_col)
            row += 1
            for line in entry.instructions:
                xlsx.put(ws, row, c["section"], line, style=xlsx.font(size=9), border=False)
                xlsx.merge(ws, row, c["section"], row, last_col)
                row += 1
            needs_header = True
            continue
        if needs_header:
            rows = _rounds_header(ws, row, vendor)
            header_rows = header_rows or rows
            row = rows[1] + 1
            needs_header = False
        if isinstance(entry, HeadingRow) and entry.level == "section":
            close_section(row - 1)
            section_start = (row, f"{entry.ref} {entry.text}".strip())
            continue
        if isinstance(entry, HeadingRow):  # group: 「サーバについて、以下を実施している。」
            xlsx.put(ws, row, c["text"], entry.text)
            for column in range(c["r1v"], last_col + 1):
                xlsx.put(ws, row, column, "")
            xlsx.merge(ws, row, c["text"], row, last_col)
            if section_start is None:
                xlsx.put(ws, row, c["section"], "")
            row += 1
            continue
        if section_start is None:
            xlsx.put(ws, row, c["section"], entry.section, style=xlsx.font(bold=True))
        _rounds_item(ws, row, entry, vendor)
        row += 1
    close_section(row - 1)
    last = row - 1
    if vendor:
        row += 1
        xlsx.put(ws, row, c["section"], f"{cl.VENDOR_NAME}：", style=xlsx.font(bold=True), border=False)
        xlsx.put(ws, row, c["text"], document.respondent, style=xlsx.font(size=11), border=False)
        last = row
    last = max(last, _footer(ws, row, document, last_col))
    xlsx.print_setup(ws, last_column=last_col, header_rows=header_rows, last_row=last)
    ws.freeze_panes = None


# --- MDS/SDS --------------------------------------------------------------------------------------------


def _mds(ws: Worksheet, document: ChecklistDocument) -> None:
    c = MDS
    last_col = c["remarks"]
    xlsx.widths(ws, {c["text"]: 62, 2: 8, 3: 8, 4: 8, c["remarks"]: 40, c["date"]: 12, c["countermeasure"]: 30,
                     c["node_id"]: 12})
    xlsx.hide_column(ws, c["node_id"])
    xlsx.put(ws, 1, 1, document.form_title, style=xlsx.font(size=13, bold=True), border=False,
             align=xlsx.Alignment(horizontal="center", vertical="center", wrap_text=True))
    xlsx.merge(ws, 1, 1, 1, last_col)
    xlsx.put(ws, 2, 1, document.edition_title, style=xlsx.font(size=10), border=False,
             align=xlsx.Alignment(horizontal="center"))
    xlsx.merge(ws, 2, 1, 2, last_col)
    ws.row_dimensions[1].height = 32
    row = 4
    fields = list(document.header_fields)
    for index in range(0, len(fields), 2):
        left = fields[index]
        xlsx.put(ws, row, 1, f"{left[0]}：{left[1]}", style=xlsx.font(size=11))
        if index + 1 < len(fields):
            right = fields[index + 1]
            xlsx.put(ws, row, 2, f"{right[0]}：{right[1]}", style=xlsx.font(size=11))
            for column in range(3, last_col + 1):
                xlsx.put(ws, row, column, "")
            xlsx.merge(ws, row, 2, row, last_col)
        row += 1
    row += 1
    header = row
    bold = xlsx.font(bold=True)
    xlsx.put(ws, row, c["text"], "項目", style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    for column, label in zip(c["options"], MDS_OPTION_HEADERS, strict=True):
        xlsx.put(ws, row, column, label, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    xlsx.put(ws, row, c["remarks"], cl.REMARKS, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    _extras_header(ws, row, c["date"], {c["date"]: cl.ANSWER_DATE, c["countermeasure"]: cl.COUNTERMEASURE,
                                        c["node_id"]: cl.NODE_ID}, top_row=row - 1)
    row += 1
    for entry in document.rows:
        if isinstance(entry, HeadingRow):
            label = f"{entry.text}({entry.ref})" if entry.ref else entry.text
            _section_row(ws, row, label, last_col)
            row += 1
            continue
        indent = min(entry.depth, 6)
        xlsx.put(ws, row, c["text"], cl.display_text(entry),
                 align=xlsx.Alignment(wrap_text=True, vertical="top", indent=indent))
        for index, column in enumerate(c["options"]):
            option = entry.options[index] if index < len(entry.options) else None
            if option is None:
                xlsx.put(ws, row, column, "", align=xlsx.CENTER)
            elif option.value == entry.round1_value:
                xlsx.put(ws, row, column, f"○{option.label}", style=xlsx.font(bold=True), align=xlsx.CENTER,
                         fill=xlsx.CHOSEN_FILL)
            else:
                xlsx.put(ws, row, column, option.label, style=xlsx.font(color=xlsx.GREY), align=xlsx.CENTER)
        xlsx.put(ws, row, c["remarks"], entry.remarks if entry.answerable else "")
        _extras(ws, row, {c["date"]: entry.round1_date, c["countermeasure"]: entry.countermeasure},
                c["node_id"], entry)
        row += 1
    last = _footer(ws, row - 1, document, last_col)
    xlsx.print_setup(ws, last_column=last_col, header_rows=(header, header), last_row=last)


def _section_row(ws: Worksheet, row: int, label: str, last_col: int) -> None:
    """A heading across the whole table: bold, shaded, merged from the first to the last column."""
    xlsx.put(ws, row, 1, label, style=xlsx.font(bold=True), fill=xlsx.SECTION_FILL)
    for column in range(2, last_col + 1):
        xlsx.put(ws, row, column, "", fill=xlsx.SECTION_FILL)
    xlsx.merge(ws, row, 1, row, last_col)


# --- HISPRO-style checksheet -----------------------------------------------------------------------------


def _checksheet(ws: Worksheet, document: ChecklistDocument) -> None:
    c = SHEET
    last_col = c["comment"]
    xlsx.widths(ws, {c["category"]: 18, c["text"]: 46, c["examples"]: 20, c["value"]: 9, c["date"]: 11,
                     c["countermeasure"]: 28, c["evidence"]: 24, c["review"]: 10, c["comment"]: 28,
                     c["remarks"]: 24, c["node_id"]: 12})
    xlsx.hide_column(ws, c["node_id"])
    row = _title_rows(ws, document, last_col)
    bold = xlsx.font(bold=True)
    top, sub = row, row + 1
    for column in range(1, last_col + 1):
        xlsx.put(ws, top, column, "", fill=xlsx.HEADER_FILL)
    for label, first, last in (("チェック事項", c["category"], c["examples"]),
                               ("確認者記入欄", c["value"], c["evidence"]),
                               ("評価者記入欄", c["review"], c["comment"])):
        xlsx.put(ws, top, first, label, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
        xlsx.merge(ws, top, first, top, last)
    labels = {c["category"]: "項目分類", c["text"]: "確認内容", c["examples"]: "エビデンス例", c["value"]: cl.ANSWER,
              c["date"]: cl.ANSWER_DATE, c["countermeasure"]: cl.COUNTERMEASURE, c["evidence"]: cl.EVIDENCE,
              c["review"]: "評価結果", c["comment"]: "コメント"}
    for column, label in labels.items():
        xlsx.put(ws, sub, column, label, style=bold, fill=xlsx.HEADER_FILL, align=xlsx.CENTER)
    _extras_header(ws, sub, c["remarks"], {c["remarks"]: cl.REMARKS, c["node_id"]: cl.NODE_ID}, top_row=top)
    row = sub + 1
    for entry in document.rows:
        if isinstance(entry, HeadingRow):
            label = f"{entry.ref} {entry.text}".strip()
            _section_row(ws, row, label, last_col)
            row += 1
            continue
        xlsx.put(ws, row, c["category"], entry.category)
        text = cl.display_text(entry)
        xlsx.put(ws, row, c["text"], f"{entry.ref} {text}".strip() if entry.ref and not entry.number else text)
        xlsx.put(ws, row, c["examples"], entry.evidence_examples)
        _value_cell(ws, row, c["value"], entry, entry.round1_value)
        _date_cell(ws, row, c["date"], entry.round1_date)
        xlsx.put(ws, row, c["countermeasure"], entry.countermeasure)
        xlsx.put(ws, row, c["evidence"], "\n".join(entry.evidence))
        xlsx.put(ws, row, c["review"], entry.review_result, align=xlsx.CENTER)
        xlsx.put(ws, row, c["comment"], entry.review_comment)
        _extras(ws, row, {c["remarks"]: entry.remarks}, c["node_id"], entry)
        row += 1
    last = _footer(ws, row - 1, document, last_col)
    xlsx.print_setup(ws, last_column=last_col, header_rows=(top, sub), landscape=True, last_row=last)
