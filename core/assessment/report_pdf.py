"""The assessment report as PDF, laid out with ReportLab's Platypus.

Pages, in order, each starting a new page and each with a bookmark of the same name:
*Summary* (headline, table of levels, scoring rule, placement on the curve), *Charts*
(radar and bars), *Recommendations*, *Answers*, then *About this report*. The text font is
DejaVu Sans taken from matplotlib's own data, so notes in any Latin, Greek or Cyrillic
script print correctly without a font download. User text is escaped for ReportLab's
paragraph markup. Nothing is written to disk: the PDF is returned as bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from core.assessment.report import TARGET_NOTE, ReportData, previous_note
from core.reports.pdf import FONT, bookmark, build_document, markup_text, register_fonts

SECTIONS = ("Summary", "Charts", "Recommendations", "Answers", "About this report")


def render_pdf(data: ReportData) -> bytes:
    """The full report as PDF bytes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    register_fonts()
    a, m, s = data.assessment, data.model, data.score
    blue = colors.HexColor("#1f5fa8")
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5,
                           textColor=colors.HexColor("#555555"))
    cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11)
    h1 = ParagraphStyle("h1", parent=base, fontName=f"{FONT}-Bold", fontSize=18, leading=23,
                        spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=f"{FONT}-Bold", fontSize=13.5, leading=18,
                        textColor=blue, spaceBefore=4, spaceAfter=6)
    h3 = ParagraphStyle("h3", parent=base, fontName=f"{FONT}-Bold", fontSize=10.5,
                        leading=14, spaceBefore=8, spaceAfter=3)
    headline = ParagraphStyle("headline", parent=base, fontSize=11.5, leading=15,
                              backColor=colors.HexColor("#eef3fa"), borderPadding=6,
                              spaceBefore=6, spaceAfter=10)

    def Bookmark(title: str) -> object:  # noqa: N802 - reads like the flowable it returns
        return bookmark(title, f"s{SECTIONS.index(title)}")

    grid = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ])
    width = A4[0] - 36 * mm
    pngs = data.chart_pngs(dpi=170)

    def image(png: bytes, w: float) -> Any:
        from reportlab.lib.utils import ImageReader

        iw, ih = ImageReader(io.BytesIO(png)).getSize()
        return Image(io.BytesIO(png), width=w, height=w * ih / iw)

    def fmt(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f}"

    def P(text: str, style: ParagraphStyle = cell) -> Any:  # noqa: N802 - Platypus idiom
        return Paragraph(text, style)

    story: list[Any] = [Bookmark("Summary"),
                        P(f"Maturity assessment: {markup_text(a.unit)}", h1),
                        P(f"Assessed on {a.assessed_on.isoformat()} by "
                          f"{markup_text(', '.join(a.assessors) or '—')}<br/>"
                          f"Model: {markup_text(m.name)} ({markup_text(m.id)} version {markup_text(m.version)}) · "
                          f"revision {a.revision}, "
                          f"{'final' if a.locked else 'DRAFT, not yet final'}", small),
                        P(markup_text(data.headline()), headline),
                        P(markup_text(data.completion.describe()) + ".", base)]
    if data.open_note():
        story.append(P(f"<b>{markup_text(data.open_note())}</b>", base))
    story.append(Spacer(0, 6))
    rows: list[list[Any]] = [["Dimension", "Level", "Target", "Previous", "Answered"]]
    for d in s.dimensions:
        prev = data.previous_score.of(d.dimension_id).score if data.previous_score else None
        target = a.targets.get(d.dimension_id)
        shown = "—" if target is None else f"{target} ({data.target_mark(d.dimension_id)})"
        rows.append([P(markup_text(d.name)), fmt(d.score), shown,
                     fmt(prev), f"{d.answered}/{d.total}"])
    rows.append([P("<b>Overall</b>"), fmt(s.overall), "",
                 fmt(data.previous_score.overall if data.previous_score else None), ""])
    table = Table(rows, colWidths=[width * 0.40, width * 0.12, width * 0.22, width * 0.13, width * 0.13],
                  repeatRows=1)
    table.setStyle(grid)
    table.setStyle(TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                               ("FONTNAME", (0, -1), (-1, -1), f"{FONT}-Bold")]))
    story += [table, Spacer(0, 4), P(markup_text(TARGET_NOTE), small),
              P(markup_text(previous_note(data)), small), Spacer(0, 8),
              P(f"<b>Scoring rule.</b> {markup_text(s.rule)}", small), Spacer(0, 8),
              P(f"Placement on the {m.min_level}–{m.max_level} curve", h3),
              image(pngs["curve"], width)]

    story += [PageBreak(), Bookmark("Charts"), P("Charts", h2),
              P("Current level per dimension (solid), target (dashed) and the previous "
                "assessment of this unit (dotted), where there is one.", small),
              image(pngs["radar"], width * 0.78), Spacer(0, 6),
              image(pngs["bars"], width)]

    story += [PageBreak(), Bookmark("Recommendations"), P("Recommendations", h2),
              P(markup_text(TARGET_NOTE), small)]
    if data.plan:
        story.append(P("In the order to do them: a step never comes before what it depends "
                       "on; then lower levels first, then the dimension with the largest gap.",
                       small))
        story.append(Spacer(0, 4))
        rrows: list[list[Any]] = [["#", "What to do next", "Lifts", "Depends on"]]
        for step in data.plan:
            r = step.recommendation
            pre = " (prerequisite)" if step.prerequisite_only else ""
            rrows.append([
                str(step.position),
                P(f"{markup_text(r.text)}<br/><font size=7 color='#666666'>"
                  f"{markup_text(step.reason)}</font>"),
                P(f"{markup_text(step.dimension_name)} → {r.level}{pre}"),
                P("<br/>".join(markup_text(d) for d in step.depends_on) or "—"),
            ])
        rt = Table(rrows, colWidths=[width * 0.05, width * 0.55, width * 0.2, width * 0.2],
                   repeatRows=1)
        rt.setStyle(grid)
        story.append(rt)
    else:
        story.append(P("No gaps: every dimension has reached its target.", base))

    story += [PageBreak(), Bookmark("Answers"), P("Answers", h2)]
    for dim in m.dimensions:
        arows: list[list[Any]] = [["Question", "Answer", "Note"]]
        for q in dim.questions:
            ans = a.answers.get(q.id)
            if ans is None or ans.pending:
                answer, note = "<i>not answered</i>", ""
            elif ans.skipped:
                answer, note = "<i>skipped</i>", f"Reason: {markup_text(ans.skip_reason or '')}"
            else:
                lv = ans.level if ans.level is not None else 0
                answer = f"<b>{lv}</b> — {markup_text(q.descriptors.get(lv, ''))}"
                note = markup_text(ans.note)
            if ans is not None and ans.evidence:
                files = ", ".join(markup_text(ev.filename) for ev in ans.evidence)
                note += f"<br/><font size=7 color='#666666'>Evidence: {files}</font>"
            arows.append([P(markup_text(q.text)), P(answer), P(note)])
        at = Table(arows, colWidths=[width * 0.34, width * 0.38, width * 0.28], repeatRows=1)
        at.setStyle(grid)
        if len(arows) <= 5:
            story.append(KeepTogether([P(markup_text(dim.name), h3), at]))
        else:
            story += [P(markup_text(dim.name), h3), at]

    generated = (data.generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    story += [Spacer(0, 10), Bookmark("About this report"), P("About this report", h2),
              P(markup_text(m.description), base), Spacer(0, 4), P(markup_text(m.source), small), Spacer(0, 4),
              P(f"Model {markup_text(m.id)} version {markup_text(m.version)}, content digest "
                f"{markup_text(m.digest[:16])}. Generated by Airlock on {generated}.", small)]

    return build_document(story, title=f"Maturity assessment — {a.unit}", subject=f"{m.name} {m.version}",
                          top_margin_mm=16,
                          footer=f"Airlock · maturity assessment · {a.unit} · {a.assessed_on.isoformat()}")
