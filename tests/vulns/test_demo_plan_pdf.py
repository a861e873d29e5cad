"""The file the demo vendor attaches to its answer is a real PDF a viewer opens (it used to be a 51-byte stub
that only started like a PDF), one A4 page in Japanese, the same bytes on every run."""

from __future__ import annotations

import re

from anzen.demo.vulns import PLAN_LINES, plan_pdf


def test_plan_is_a_complete_one_page_pdf_with_an_embedded_japanese_font() -> None:
    data = plan_pdf()
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF") and len(data) > 5_000
    assert b"/Type /Catalog" in data and len(re.findall(rb"/Type /Page\b", data)) == 1
    assert b"IPAexGothic" in data and b"/FontFile2" in data  # the glyphs travel with the file
    startxref = int(re.search(rb"startxref\s+(\d+)", data).group(1))
    assert data[startxref:startxref + 4] == b"xref"  # the cross-reference table is where the trailer says
    assert plan_pdf() == data and PLAN_LINES[-1] == "この文書はデモ用の架空のものです。"
