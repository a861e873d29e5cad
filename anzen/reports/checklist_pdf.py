"""A `ChecklistDocument` as PDF pages in the layout of its form (no ORM).

The same rows, numbers, headings and columns as the Excel export (`checklist_xlsx`); an answer cell
reads 「はい（2025/06/30）」 as the paper form's 「はい・いいえ（ / ）」 with one circled, an unanswered
cell prints the placeholder in grey. MDS/SDS: the chosen option reads 「○はい」 on a yellow background.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from anzen.reports import checklist as cl
from anzen.reports import pdf
from anzen.reports.checklist import ChecklistDocument, HeadingRow, ItemRow, LayoutKind
from anzen.reports.japanese_dates import slash


def pdf_bytes(document: ChecklistDocument, info: pdf.PageInfo) -> bytes:
    landscape_page = document.layout == LayoutKind.CHECKSHEET
    return pdf.render(story(document, pdf.styles()), info, first_landscape=landscape_page)


def story(document: ChecklistDocument, st: pdf.Styles) -> list[Flowable]:
    builder = {LayoutKind.INSTITUTION: _rounds, LayoutKind.VENDOR: _rounds, LayoutKind.MDS: _mds,
               LayoutKind.CHECKSHEET: _checksheet}[document.layout]
    flowables: list[Flowable] = [pdf.Part(part_title(document))]
    flowables += builder(document, st)
    lines = list(document.footer_lines)
    if document.has_unverified:
        lines.append(cl.UNVERIFIED_LEGEND)
    for line in lines:
        flowables.append(pdf.para(line if line.startswith(cl.UNVERIFIED_MARK) else f"● {line}", st.small))
    return flowables


def part_title(document: ChecklistDocument) -> str:
    who = document.subject_label or (document.respondent if document.respondent != document.institution else "")
    return document.short_title + (f"（{who}）" if who else "")


def part_break(landscape_next: bool) -> list[Flowable]:
    return [pdf.landscape_next() if landscape_next else pdf.portrait_next(), PageBreak()]


def _titles(document: ChecklistDocument, st: pdf.Styles) -> list[Flowable]:
    subject = f"　{document.subject_label}" if document.subject_label else ""
    from anzen.common.wareki import fiscal_year_label

    return [pdf.para(document.title, st.title), pdf.para(document.form_title, st.subtitle),
            pdf.para(f"{document.institution}{subject}　{fiscal_year_label(document.fiscal_year)}", st.right),
            Spacer(1, 2 * mm)]


def _answer(item: ItemRow, value: str, day: Any, st: pdf.Styles) -> Any:
    if not item.answerable:
        return ""
    if value:
        text = item.label(value) + (f"<br/>({slash(day)})" if day else "<br/>( / )")
        return pdf.Paragraph(f"<b>{text}</b>", st.cell_center)
    placeholder = cl.PLACEHOLDER_YES_NO if len(item.options) == 2 else "・".join(o.label for o in item.options)
    if day:
        return pdf.Paragraph(f"{placeholder}<br/>({slash(day)})", st.cell_center)
    return pdf.Paragraph(f"{placeholder}<br/>( / )", st.cell_grey)


def _date(day: Any, st: pdf.Styles) -> Any:
    return pdf.Paragraph(f"({slash(day)})", st.cell_center) if day else pdf.Paragraph("( / )", st.cell_grey)


# --- 医療機関確認用 / 事業者確認用 -------------------------------------------------------------------------


def _rounds(document: ChecklistDocument, st: pdf.Styles) -> list[Flowable]:
    vendor = document.layout == LayoutKind.VENDOR
    full = pdf.frame_width()
    answer_w = 24 * mm
    widths = [26 * mm, 0.0, answer_w, answer_w, answer_w] + ([34 * mm] if vendor else [])
    widths[1] = full - sum(widths)
    flowables = _titles(document, st)
    if document.gating is not None:
        gating = document.gating
        rows = [["", pdf.para(cl.CHECK_ITEM, st.cell_center), pdf.para(cl.RESULT_WITH_DATE, st.cell_center)],
                [pdf.para(gating.section, st.cell), pdf.para(cl.display_text(gating), st.cell),
                 _answer(gating, gating.round1_value, gating.round1_date, st)]]
        gw = [26 * mm, full - 26 * mm - answer_w * 1.4, answer_w * 1.4]
        flowables += [pdf.table(rows, gw, header_rows=1, commands=[("GRID", (0, 0), (-1, -1), 0.5, pdf.LINE)]),
                      Spacer(1, 4 * mm)]
    table_rows: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = []
    section_starts: list[int] = []

    def header() -> list[list[Any]]:
        top = ["", pdf.para(cl.CHECK_ITEM, st.cell_center), pdf.para(cl.RESULT_WITH_DATE, st.cell_center), "", ""]
        sub = ["", "", pdf.para(cl.ROUND1, st.cell_center), pdf.para(cl.TARGET, st.cell_center),
               pdf.para(cl.ROUND2, st.cell_center)]
        if vendor:
            top.append(pdf.para(cl.REMARKS, st.cell_center))
            sub.append("")
        return [top, sub]

    def flush() -> None:
        if not table_rows:
            return
        rows = header() + table_rows
        last_col = len(widths) - 1
        cmds: list[tuple[Any, ...]] = [
            ("SPAN", (2, 0), (4, 0)), ("SPAN", (1, 0), (1, 1)), ("SPAN", (0, 0), (0, 1)),
            ("GRID", (1, 0), (-1, -1), 0.5, pdf.LINE), ("BOX", (0, 0), (-1, -1), 0.7, pdf.LINE),
            ("LINEAFTER", (0, 0), (0, -1), 0.5, pdf.LINE), ("LINEBELOW", (0, 1), (0, 1), 0.5, pdf.LINE),
        ]
        if vendor:
            cmds.append(("SPAN", (last_col, 0), (last_col, 1)))
        for start in section_starts:
            cmds.append(("LINEABOVE", (0, start + 2), (0, start + 2), 0.5, pdf.LINE))
        cmds += [(name, (a[0], a[1] + 2), (b[0], b[1] + 2), *rest) for name, a, b, *rest in commands]
        flowables.append(pdf.table(rows, widths, header_rows=2, commands=cmds))
        table_rows.clear()
        commands.clear()
        section_starts.clear()

    pending = ""  # the section label waiting for its first row (sections print in the first column)
    current = ""
    for entry in document.rows:
        if isinstance(entry, HeadingRow) and entry.level == "block":
            flush()
            pending = current = ""
            lines = [pdf.para(f"○ {entry.text}", st.heading)]
            lines += [pdf.para(line, st.small) for line in entry.instructions]
            flowables.append(KeepTogether([*lines, Spacer(1, 1.5 * mm)]))
            continue
        if isinstance(entry, HeadingRow) and entry.level == "section":
            pending = current = f"{entry.ref} {entry.text}".strip()
            section_starts.append(len(table_rows))
            continue
        index = len(table_rows)
        if isinstance(entry, ItemRow) and not pending and entry.section != current:
            pending = current = entry.section
            section_starts.append(index)
        first = pdf.para(pending, st.cell) if pending else ""
        pending = ""
        if isinstance(entry, HeadingRow):  # group: 「サーバについて、以下を実施している。」
            table_rows.append([first, pdf.para(entry.text, st.cell), "", "", ""] + ([""] if vendor else []))
            commands.append(("SPAN", (1, index), (-1, index)))
            continue
        row = [first, pdf.para(cl.display_text(entry), st.cell),
               _answer(entry, entry.round1_value, entry.round1_date, st),
               _date(entry.target_date, st) if entry.answerable else "",
               _answer(entry, entry.round2_value, entry.round2_date, st)]
        if vendor:
            row.append(pdf.para(entry.remarks, st.cell))
        table_rows.append(row)
    flush()
    if vendor:
        flowables += [Spacer(1, 4 * mm), pdf.para(f"{cl.VENDOR_NAME}：　{document.respondent}", st.body)]
    flowables.append(Spacer(1, 3 * mm))
    return flowables


# --- MDS/SDS --------------------------------------------------------------------------------------------


def _mds(document: ChecklistDocument, st: pdf.Styles) -> list[Flowable]:
    full = pdf.frame_width()
    flowables: list[Flowable] = [pdf.para(document.form_title, st.subtitle),
                                 pdf.para(document.edition_title, st.right), Spacer(1, 2 * mm)]
    fields = list(document.header_fields)
    header_rows = []
    for index in range(0, len(fields), 2):
        pair = fields[index:index + 2]
        cells: list[Any] = []
        for label, value in pair:
            cells += [pdf.para(f"{label}：", st.cell), pdf.para(value, st.cell)]
        header_rows.append(cells + [""] * (4 - len(cells)))
    if header_rows:
        flowables += [pdf.table(header_rows, [24 * mm, full / 2 - 24 * mm, 24 * mm, full / 2 - 24 * mm], header_rows=0,
                                commands=[("BOX", (0, 0), (-1, -1), 0.5, pdf.LINE),
                                          ("INNERGRID", (0, 0), (-1, -1), 0.3, pdf.LINE)]),
                      Spacer(1, 3 * mm)]
    option_w = 16 * mm
    widths = [0.0, option_w, option_w, option_w, 48 * mm]
    widths[0] = full - sum(widths)
    rows: list[list[Any]] = [[pdf.para("項目", st.cell_center)] + [pdf.para(label, st.cell_center)
                                                                  for label in ("はい", "いいえ", "対象外")]
                             + [pdf.para(cl.REMARKS, st.cell_center)]]
    commands: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, pdf.LINE)]
    for entry in document.rows:
        index = len(rows)
        if isinstance(entry, HeadingRow):
            label = f"{entry.text}({entry.ref})" if entry.ref else entry.text
            rows.append([pdf.para(label, st.cell), "", "", "", ""])
            commands += [("SPAN", (0, index), (-1, index)), ("BACKGROUND", (0, index), (-1, index), pdf.SECTION_BG)]
            continue
        indent = "　" * min(entry.depth, 6)
        cells: list[Any] = [pdf.para(indent + cl.display_text(entry), st.cell)]
        for position in range(3):
            option = entry.options[position] if position < len(entry.options) else None
            if option is None:
                cells.append("")
            elif option.value == entry.round1_value:
                cells.append(pdf.Paragraph(f"<b>○{option.label}</b>", st.cell_center))
                commands.append(("BACKGROUND", (position + 1, index), (position + 1, index), pdf.CHOSEN_BG))
            else:
                cells.append(pdf.para(option.label, st.cell_grey))
        cells.append(pdf.para(entry.remarks, st.cell) if entry.answerable else "")
        rows.append(cells)
    flowables.append(pdf.table(rows, widths, header_rows=1, commands=commands))
    return flowables


# --- HISPRO-style checksheet -----------------------------------------------------------------------------


def _checksheet(document: ChecklistDocument, st: pdf.Styles) -> list[Flowable]:
    full = pdf.frame_width(landscape_page=True)
    widths = [30 * mm, 0.0, 30 * mm, 24 * mm, 40 * mm, 34 * mm, 16 * mm, 38 * mm]
    widths[1] = full - sum(widths)
    top = [pdf.para("チェック事項", st.cell_center), "", "", pdf.para("確認者記入欄", st.cell_center), "", "",
           pdf.para("評価者記入欄", st.cell_center), ""]
    sub = [pdf.para(label, st.cell_center) for label in
           ("項目分類", "確認内容", "エビデンス例", "回答（日付）", cl.COUNTERMEASURE, cl.EVIDENCE, "評価結果",
            "コメント")]
    rows: list[list[Any]] = [top, sub]
    commands: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, pdf.LINE), ("SPAN", (0, 0), (2, 0)),
                                       ("SPAN", (3, 0), (5, 0)), ("SPAN", (6, 0), (7, 0))]
    for entry in document.rows:
        index = len(rows)
        if isinstance(entry, HeadingRow):
            rows.append([pdf.para(f"{entry.ref} {entry.text}".strip(), st.cell)] + [""] * 7)
            commands += [("SPAN", (0, index), (-1, index)), ("BACKGROUND", (0, index), (-1, index), pdf.SECTION_BG)]
            continue
        text = cl.display_text(entry)
        text = f"{entry.ref} {text}".strip() if entry.ref and not entry.number else text
        rows.append([pdf.para(entry.category, st.cell), pdf.para(text, st.cell),
                     pdf.para(entry.evidence_examples, st.cell),
                     _answer(entry, entry.round1_value, entry.round1_date, st), pdf.para(entry.countermeasure, st.cell),
                     pdf.para("\n".join(entry.evidence), st.cell), pdf.para(entry.review_result, st.cell_center),
                     pdf.para(entry.review_comment, st.cell)])
    return [*_titles(document, st), pdf.table(rows, widths, header_rows=2, commands=commands)]
