"""A rubric result as a PDF a QA lead signs off from, offline (ReportLab Platypus).

Lays out the blocks :func:`core.rubric.report.build_report` builds (the HTML page shows the same
ones), one bookmarked part per entry of :data:`core.rubric.report.SECTIONS`, landscape A4 so the
test tables keep their seven columns readable. Fonts are DejaVu Sans, embedded
(:mod:`core.reports.pdf`), so the file is self-contained; evidence links jump to the *Evidence
read* list inside the document. Every text from the workspace goes through
:func:`core.reports.pdf.markup_text`. Nothing is written to disk: the PDF is returned as bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.reports.pdf import FONT, bookmark, build_document, markup_text, register_fonts
from core.rubric.models import Attestation, NextStep, RubricResult
from core.rubric.report import SECTIONS, Catalogue, Cell, Facts, Grid, Para, RubricReport, build_report


def report_pdf(report: RubricReport) -> bytes:
    """The PDF of an already built :class:`~core.rubric.report.RubricReport`."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

    register_fonts()
    bold = f"{FONT}-Bold"
    page = landscape(A4)
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12, spaceAfter=4)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#555555"))
    strong = ParagraphStyle("strong", parent=base, fontName=bold, fontSize=11, leading=14)
    cell = ParagraphStyle("cell", parent=base, fontSize=7.2, leading=9, spaceAfter=0, splitLongWords=1)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=17, leading=22, spaceAfter=2)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=13, leading=17, spaceBefore=8, spaceAfter=5,
                        textColor=colors.HexColor("#1f5fa8"))
    width = page[0] - 36 * mm
    grid = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5), ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ])

    def para(text: str, style: ParagraphStyle) -> Any:
        return Paragraph(markup_text(text), style)

    def cell_para(c: Cell) -> Any:
        text = markup_text(c.text)
        if c.anchor:
            text = f'<a name="{c.anchor}"/>{text}'
        links = [f'<a href="#{a}" color="#1f5fa8">{markup_text(label)}</a>' for label, a in c.links]
        return Paragraph("<br/>".join([text] * bool(c.text) + links), cell)

    def facts(b: Facts) -> Any:
        rows = [[Paragraph(f"<b>{markup_text(k)}</b>", cell), para(v, cell)] for k, v in b.rows]
        t = Table(rows, colWidths=[width * 0.18, width * 0.5], hAlign="LEFT")
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        return t

    def table(b: Grid) -> Any:
        head = [Paragraph(f"<b>{markup_text(h)}</b>", cell) for h in b.headers]
        body = [[cell_para(c) for c in row] for row in b.rows]
        t = Table([head, *body], colWidths=[width * s for s in b.widths], repeatRows=1, hAlign="LEFT")
        t.setStyle(grid)
        for i in b.flagged:
            t.setStyle(TableStyle([("BACKGROUND", (0, i + 1), (-1, i + 1), colors.HexColor("#fdecea"))]))
        return t

    story: list[Any] = [para(report.title, h1), para(f"Generated {report.generated} by Airlock.", small)]
    for number, part in enumerate(report.parts):
        # The heading stays with what follows it up to the first table when that table is short.
        held: list[Any] = [bookmark(part.title, f"s{number}"), para(part.title, h2)]
        holding = True
        for b in part.blocks:
            if isinstance(b, Para):
                made = [para(b.text, small if b.note else strong if b.strong else base)]
            elif isinstance(b, Facts):
                made = [facts(b), Spacer(0, 4)]
            else:
                made = [table(b), Spacer(0, 3)]
                if holding and len(b.rows) <= 10:
                    held += made
                    story.append(KeepTogether(held))
                    holding, held = False, []
                    continue
                holding = False
                story += held
                held = []
            (held if holding else story).extend(made)
        story += held

    return build_document(story, title=report.title, subject="Rubric report", pagesize=page,
                          footer=f"Airlock · rubric report · {report.title}", footer_chars=140)


def render_pdf(result: RubricResult, catalogue: Catalogue, *, attestations: Iterable[Attestation] = (),
               next_steps: Iterable[NextStep] = (), model_label: str | None = None,
               generated_at: str | None = None) -> bytes:
    """The rubric report as PDF bytes (arguments as :func:`core.rubric.report.build_report`)."""
    return report_pdf(build_report(result, catalogue, attestations=attestations, next_steps=next_steps,
                                   model_label=model_label, generated_at=generated_at))


__all__ = ["SECTIONS", "render_pdf", "report_pdf"]
