"""PDF pieces shared by every report: an embedded Unicode font and escaped user text.

The font is DejaVu Sans from matplotlib's own data folder, embedded in each PDF, so reports
render names and notes in any script the same way on a machine without fonts or a network.
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path
from typing import Any

FONT = "AirlockSans"


def register_fonts() -> str:
    """Register the report font family once per process; returns its name."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    ttf = _font_folder()
    pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(f"{FONT}-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont(f"{FONT}-Oblique", str(ttf / "DejaVuSans-Oblique.ttf")))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, f"{FONT}-Bold")
    addMapping(FONT, 0, 1, f"{FONT}-Oblique")
    addMapping(FONT, 1, 1, f"{FONT}-Bold")
    return FONT


def _font_folder() -> Path:
    """matplotlib's bundled fonts, found without importing matplotlib (which takes a third of a second)."""
    import importlib.util

    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            ttf = Path(folder) / "mpl-data" / "fonts" / "ttf"
            if (ttf / "DejaVuSans.ttf").is_file():
                return ttf
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def markup_text(text: object) -> str:
    """User text made safe for reportlab Paragraph markup, keeping line breaks."""
    return escape(str(text), quote=False).replace("\n", "<br/>")


def bookmark(title: str, key: str) -> object:
    """An invisible reportlab flowable that adds a PDF outline entry where it lands."""
    return _bookmark_class()(title, key)


@functools.cache
def _bookmark_class() -> type:
    from reportlab.platypus import Flowable

    class Bookmark(Flowable):
        def __init__(self, title: str, key: str) -> None:
            super().__init__()
            self.title = title
            self.key = key

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            return (0, 0)

        def draw(self) -> None:
            self.canv.bookmarkPage(self.key)
            self.canv.addOutlineEntry(self.title, self.key, 0, 0)

    return Bookmark


def build_document(
    story: list[Any], *, title: str, subject: str, footer: str, pagesize: tuple[float, float] | None = None,
    top_margin_mm: float = 15, footer_chars: int = 110,
) -> bytes:
    """Lay ``story`` out as every Airlock report is: 18 mm margins, a grey footer line and page numbers.

    ``invariant`` PDFs: the same story gives the same bytes (no creation date or random id).
    """
    import io

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    size = pagesize or A4
    text = footer[:footer_chars]

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(18 * mm, 10 * mm, text)
        canvas.drawRightString(size[0] - 18 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=size, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=top_margin_mm * mm,
                            bottomMargin=18 * mm, title=title, author="Airlock", subject=subject, invariant=True)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()
