"""PDF documents with ReportLab platypus (no ORM): A4, the embedded IPAex font, and on every page a
header (institution, the part being printed, fiscal year in 和暦 and 西暦) and a footer (export date,
page n / N).

Parts of one PDF (the inspection pack prints many checklists in one file) are marked with `Part`
flowables; pages of a landscape part switch page templates with `landscape_next()`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, NextPageTemplate, PageTemplate, Paragraph
from reportlab.platypus.tables import Table, TableStyle

from anzen.reports import fonts

MARGIN = 12 * mm
HEADER_GAP = 10 * mm
GREY = colors.HexColor("#707070")
LINE = colors.HexColor("#808080")
HEADER_BG = colors.HexColor("#E8EEF4")
SECTION_BG = colors.HexColor("#F3F5F8")
CHOSEN_BG = colors.HexColor("#FFF2A8")


@dataclass(frozen=True)
class PageInfo:
    """What the header and footer of every page say."""

    institution: str
    fiscal_year_label: str  # 令和7年度（2025年度）
    exported_label: str  # 2025年7月1日（令和7年）
    title: str = ""  # the document's title (PDF metadata)


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    grey: ParagraphStyle
    cell: ParagraphStyle
    cell_center: ParagraphStyle
    cell_grey: ParagraphStyle
    cell_bold: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading: ParagraphStyle
    right: ParagraphStyle


def styles() -> Styles:
    name = fonts.register()

    def style(label: str, size: float, **extra: Any) -> ParagraphStyle:
        return ParagraphStyle(label, fontName=name, fontSize=size, leading=size * 1.4, wordWrap="CJK", **extra)

    return Styles(
        body=style("body", 9.5),
        small=style("small", 8),
        grey=style("grey", 8, textColor=GREY),
        cell=style("cell", 8.5),
        cell_center=style("cell_center", 8.5, alignment=TA_CENTER),
        cell_grey=style("cell_grey", 8, alignment=TA_CENTER, textColor=GREY),
        cell_bold=style("cell_bold", 8.5, alignment=TA_CENTER),
        title=style("title", 14, alignment=TA_CENTER, spaceAfter=2 * mm),
        subtitle=style("subtitle", 11.5, alignment=TA_CENTER, spaceAfter=2 * mm),
        heading=style("heading", 10.5, spaceBefore=3 * mm, spaceAfter=1.5 * mm),
        right=style("right", 8.5, alignment=TA_RIGHT, textColor=GREY),
    )


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; line breaks kept)."""
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


class Part(Flowable):
    """Marks where a part (one checklist) begins: its title goes into the page header."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._anzen_part = self.title  # type: ignore[attr-defined]


def landscape_next() -> NextPageTemplate:
    return NextPageTemplate("landscape")


def portrait_next() -> NextPageTemplate:
    return NextPageTemplate("portrait")


def _canvas_class(info: PageInfo) -> type[rl_canvas.Canvas]:
    class NumberedCanvas(rl_canvas.Canvas):
        """Keeps every page until the end, then draws header and footer with the total page count."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self._anzen_part = ""

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self._decorate(number, total)
                rl_canvas.Canvas.showPage(self)
            rl_canvas.Canvas.save(self)

        def _decorate(self, number: int, total: int) -> None:
            width, height = self._pagesize
            font = fonts.register()
            self.saveState()
            self.setFont(font, 8)
            self.setFillColor(GREY)
            top = height - MARGIN + 3 * mm
            left_text = info.institution + (f"　{self._anzen_part}" if self._anzen_part else "")
            self.drawString(MARGIN, top, left_text[:90])
            self.drawRightString(width - MARGIN, top, info.fiscal_year_label)
            self.setStrokeColor(LINE)
            self.setLineWidth(0.4)
            self.line(MARGIN, top - 1.5 * mm, width - MARGIN, top - 1.5 * mm)
            bottom = MARGIN - 6 * mm
            self.drawString(MARGIN, bottom, f"出力日: {info.exported_label}")
            self.drawCentredString(width / 2, bottom, f"{number} / {total}")
            self.drawRightString(width - MARGIN, bottom, "Anzen")
            self.restoreState()

    return NumberedCanvas


def render(story: list[Flowable], info: PageInfo, *, first_landscape: bool = False) -> bytes:
    """Lay out the story on A4 pages (portrait, or landscape after `landscape_next()`) and return the PDF."""
    fonts.register()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + HEADER_GAP,
                          bottomMargin=MARGIN, title=info.title or info.institution, author="Anzen",
                          creator="Anzen", subject=info.fiscal_year_label, invariant=True,
                          initialFontName=fonts.register())
    templates = []
    for name, size in (("portrait", A4), ("landscape", landscape(A4))):
        frame = Frame(MARGIN, MARGIN, size[0] - 2 * MARGIN, size[1] - 2 * MARGIN - HEADER_GAP, id=name,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        templates.append(PageTemplate(id=name, frames=[frame], pagesize=size))
    if first_landscape:
        templates.reverse()
    doc.addPageTemplates(templates)
    doc.build(story, canvasmaker=_canvas_class(info))
    return buffer.getvalue()


def frame_width(landscape_page: bool = False) -> float:
    size = landscape(A4) if landscape_page else A4
    return size[0] - 2 * MARGIN


def table(rows: list[list[Any]], widths: Iterable[float], *, header_rows: int, commands: list[tuple[Any, ...]]
          ) -> Table:
    result = Table(rows, colWidths=list(widths), repeatRows=header_rows, hAlign="CENTER", splitByRow=True)
    base: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), fonts.register()),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        base.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_BG))
    result.setStyle(TableStyle(base + commands))
    return result


def date_label(value: dt.date | None) -> str:
    from anzen.common.wareki import format_with_era

    return format_with_era(value) if value else ""
