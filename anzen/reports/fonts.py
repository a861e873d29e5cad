"""The Japanese font embedded in every PDF: IPAex Gothic, shipped in anzen/reports/fonts/ (IPA Font
License v1.0, see fonts/README.md), registered once with ReportLab as a TrueType font so that each PDF
embeds the subset of glyphs it uses."""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
GOTHIC = "IPAexGothic"
GOTHIC_FILE = FONT_DIR / "ipaexg.ttf"

_lock = threading.Lock()


def register() -> str:
    """Register IPAex Gothic (idempotent, thread-safe) and return its ReportLab font name."""
    with _lock:
        if GOTHIC not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(GOTHIC, str(GOTHIC_FILE)))
            # Bold and italic map to the same face (IPAex has one weight); ReportLab's <b> then still works.
            pdfmetrics.registerFontFamily(GOTHIC, normal=GOTHIC, bold=GOTHIC, italic=GOTHIC, boldItalic=GOTHIC)
    return GOTHIC
