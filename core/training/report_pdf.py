"""A model version's report as a PDF a reviewer can read offline (ReportLab Platypus).

Lays out the blocks :func:`core.training.report.build_report` builds (the HTML page shows the
same ones), one bookmarked section per entry of :data:`core.training.report.SECTIONS`. Plots
are the evidence's PNGs embedded as images; fonts are DejaVu Sans, embedded
(:mod:`core.reports.pdf`), so the file is self-contained. Every text from the data goes
through :func:`core.reports.pdf.markup_text`; table cells break between words only. Nothing
is written to disk: the PDF is returned as bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from core.reports.pdf import FONT, bookmark, build_document, markup_text, register_fonts
from core.training.models import Evidence, ModelVersion, TrainingSpec
from core.training.report import SECTIONS, Facts, Figure, Grid, ModelReport, Para, build_report

#: Width of a plot on the page, as a share of the text width (two side by side).
PLOT_SHARE = 0.49


def report_pdf(report: ModelReport) -> bytes:
    """The PDF of an already built :class:`~core.training.report.ModelReport`."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

    register_fonts()
    bold = f"{FONT}-Bold"
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12, spaceAfter=4)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#555555"))
    warn = ParagraphStyle("warn", parent=base, textColor=colors.HexColor("#a00000"))
    cell = ParagraphStyle("cell", parent=base, fontSize=7.2, leading=9, spaceAfter=0, splitLongWords=0)
    hash_cell = ParagraphStyle("hash", parent=cell, splitLongWords=1, fontSize=6.8)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=17, leading=22, spaceAfter=2)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=13, leading=17, spaceBefore=8, spaceAfter=5,
                        textColor=colors.HexColor("#1f5fa8"))
    h3 = ParagraphStyle("h3", parent=base, fontName=bold, fontSize=8.5, leading=11, spaceBefore=3, spaceAfter=2)
    width = A4[0] - 36 * mm
    grid = TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5), ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ])

    def para(text: str, style: ParagraphStyle) -> Any:
        return Paragraph(markup_text(text), style)

    def facts(b: Facts) -> Any:
        rows = [[Paragraph(f"<b>{markup_text(k)}</b>", cell), para(v, hash_cell if "SHA-256" in k else cell)]
                for k, v in b.rows]
        t = Table(rows, colWidths=[width * 0.22, width * 0.78])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        return t

    def table(b: Grid) -> Any:
        n = len(b.headers)
        shares = b.widths if len(b.widths) == n else tuple(1 / n for _ in range(n))
        right = ParagraphStyle("right", parent=cell, alignment=2)
        head = [Paragraph(f"<b>{markup_text(h)}</b>", cell) for h in b.headers]
        body = [[para(c, right if j in b.numeric else cell) for j, c in enumerate(row)] for row in b.rows]
        t = Table([head, *body], colWidths=[width * s for s in shares], repeatRows=1)
        t.setStyle(grid)
        for i in b.flagged:
            t.setStyle(TableStyle([("BACKGROUND", (0, i + 1), (-1, i + 1), colors.HexColor("#fdecea"))]))
        return KeepTogether([para(b.title, h3), t]) if len(b.rows) <= 12 else [para(b.title, h3), t]

    def image(f: Figure) -> Any:
        w, h = f.size
        box = width * PLOT_SHARE
        scale = box / w if w else 1.0
        img = Image(io.BytesIO(f.png), width=box, height=h * scale if h else box * 0.75)
        return [img, para(f.title, small)]

    story: list[Any] = [para(report.title, h1), para(f"Generated {report.generated} by Airlock.", small)]
    for number, section in enumerate(report.sections):
        story += [bookmark(section.title, f"s{number}"), para(section.title, h2)]
        pending: list[Figure] = []
        for b in section.blocks:
            if isinstance(b, Figure):
                pending.append(b)
                continue
            if isinstance(b, Para):
                story.append(para(b.text, small if b.note else warn if b.warn else base))
            elif isinstance(b, Facts):
                story += [facts(b), Spacer(0, 4)]
            else:
                made = table(b)
                story += made if isinstance(made, list) else [made]
                story.append(Spacer(0, 3))
        if pending:
            cells = [image(f) for f in pending]
            rows = [cells[i:i + 2] + [""] * (2 - len(cells[i:i + 2])) for i in range(0, len(cells), 2)]
            plots = Table(rows, colWidths=[width / 2] * 2)
            plots.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                       ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
            story.append(plots)

    return build_document(story, title=report.title, subject="Model report",
                          footer=f"Airlock · model report · {report.title}")


def render_pdf(version: ModelVersion, evidence: Evidence, plots: Sequence[tuple[str, bytes]], *,
               spec: TrainingSpec | None = None, generated_at: dt.datetime | None = None) -> bytes:
    """The model report as PDF bytes (arguments as :func:`core.training.report.build_report`)."""
    return report_pdf(build_report(version, evidence, plots, spec=spec, generated_at=generated_at))


__all__ = ["SECTIONS", "render_pdf", "report_pdf"]
