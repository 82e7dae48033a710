"""A profile as a PDF a reviewer can read offline, laid out with ReportLab's Platypus.

Sections, each with a bookmark of the same name: *Overview*, *Alerts* (most severe first),
*Columns* (one table row per column), *Distributions* (histograms or top values of at most
:data:`MAX_PLOTS` columns), *Correlations* (heatmap and the strongest pairs), *Target
associations* (when the profile has a target) and *About this report*. Everything shown
is already in the profile: no raw rows, redacted values stay redacted. Fonts are DejaVu
Sans from matplotlib's data, embedded, so the file is self-contained. Nothing is written
to disk: the PDF is returned as bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

from core.data.models import ColumnProfile, Profile, SemanticType
from core.data.report import association_matrix, heatmap_png, histogram_png, top_values_png
from core.reports.pdf import FONT, bookmark, markup_text, register_fonts

SECTIONS = ("Overview", "Alerts", "Columns", "Distributions", "Correlations", "Target associations",
            "About this report")
#: Columns drawn in *Distributions*; the per-column table covers every column.
MAX_PLOTS = 24
#: Strongest pairs listed under the heatmap.
TOP_PAIRS = 20
_DPI = 110


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "—"
        return f"{v:,.0f}" if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _summary(c: ColumnProfile) -> str:
    """The most telling figures of a column, in one line."""
    if c.stats.get("mean") is not None:
        return f"mean {_num(c.stats['mean'])}, sd {_num(c.stats.get('std'))}"
    if c.semantic_type == SemanticType.DATETIME and c.stats:
        return f"{c.stats.get('min', '')[:10]} … {c.stats.get('max', '')[:10]}"
    if c.top_values:
        v, n = c.top_values[0]
        return f"top {v[:24]} ({n / max(c.count - c.missing, 1):.0%})"
    return ""


def render_pdf(profile: Profile, title: str, *, generated_at: dt.datetime | None = None) -> bytes:
    """The profile report as PDF bytes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_fonts()
    blue = colors.HexColor("#1f5fa8")
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=colors.HexColor("#555555"))
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", parent=base, fontName=f"{FONT}-Bold", fontSize=18, leading=23, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=f"{FONT}-Bold", fontSize=13.5, leading=18, textColor=blue,
                        spaceBefore=4, spaceAfter=6)
    severity_colour = {"high": "#b00000", "medium": "#a06000", "low": "#555555", "info": "#1f5fa8"}

    def Bookmark(title: str) -> object:  # noqa: N802 - reads like the flowable it returns
        return bookmark(title, f"s{SECTIONS.index(title)}")

    grid = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ])
    width = A4[0] - 36 * mm

    def P(text: str, style: ParagraphStyle = cell) -> Any:  # noqa: N802 - Platypus idiom
        return Paragraph(text, style)

    def image(png: bytes, w: float) -> Any:
        from reportlab.lib.utils import ImageReader

        iw, ih = ImageReader(io.BytesIO(png)).getSize()
        return Image(io.BytesIO(png), width=w, height=w * ih / iw)

    def table(rows: list[list[Any]], fractions: list[float]) -> Any:
        t = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1)
        t.setStyle(grid)
        return t

    p = profile
    kinds: dict[str, int] = {}
    for c in p.columns:
        kinds[c.semantic_type] = kinds.get(c.semantic_type, 0) + 1
    missing_cells = sum(c.missing for c in p.columns)
    cells = max(p.row_count * p.column_count, 1)
    story: list[Any] = [Bookmark("Overview"), P(markup_text(title), h1)]
    overview = [
        ["Rows", f"{p.row_count:,}"], ["Columns", f"{p.column_count:,}"],
        ["Column kinds", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))],
        ["Missing cells", f"{missing_cells:,} ({missing_cells / cells:.1%})"],
        ["Duplicate rows", f"{p.duplicate_rows:,} ({p.duplicate_rows / max(p.row_count, 1):.1%})"],
        ["Size in memory", f"{p.memory_bytes / 1e6:,.1f} MB"],
        ["Alerts", ", ".join(f"{sum(a.severity == s for a in p.alerts)} {s}" for s in ("high", "medium", "low", "info"))],
        ["Correlations from", f"a sample of {p.sampled_rows:,} rows" if p.sampled_rows else "all rows"],
    ]
    if p.target:
        overview.append(["Target", p.target])
    ot = Table([[P(f"<b>{markup_text(k)}</b>"), P(markup_text(v))] for k, v in overview], colWidths=[width * 0.3, width * 0.7])
    ot.setStyle(grid)
    ot.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.white)]))
    story += [ot, Spacer(0, 8)]

    story += [Bookmark("Alerts"), P("Alerts", h2)]
    if p.alerts:
        rows: list[list[Any]] = [["Severity", "Column", "Alert"]]
        rows += [[P(f"<font color='{severity_colour[a.severity]}'><b>{a.severity}</b></font>"), P(markup_text(a.column or "—")),
                  P(markup_text(a.message))] for a in p.alerts]
        story.append(table(rows, [0.1, 0.2, 0.7]))
    else:
        story.append(P("No alerts.", base))

    story += [PageBreak(), Bookmark("Columns"), P("Columns", h2)]
    rows = [["Column", "Kind", "Type", "Missing", "Distinct", "Min", "Max", "Summary", "Flags"]]
    for c in p.columns:
        lo, hi = c.stats.get("min"), c.stats.get("max")
        if c.semantic_type == SemanticType.DATETIME:
            lo, hi = (str(lo)[:10] if lo else None), (str(hi)[:10] if hi else None)
        kind = c.semantic_type + (f" · PII {c.pii}" if c.pii else "")
        rows.append([P(markup_text(c.name)), P(markup_text(kind)), P(markup_text(c.storage_type)),
                     P(f"{c.missing_fraction:.1%}"), P(f"{c.distinct:,}"), P(markup_text(_num(lo))), P(markup_text(_num(hi))),
                     P(markup_text(_summary(c))), P(markup_text(", ".join(c.flags)))])
    story.append(table(rows, [0.16, 0.1, 0.09, 0.07, 0.08, 0.1, 0.1, 0.2, 0.1]))

    story += [PageBreak(), Bookmark("Distributions"), P("Distributions", h2)]
    plotted = [c for c in p.columns if c.histogram.get("counts") or c.top_values][:MAX_PLOTS]
    pngs = []
    for c in plotted:
        label = f"{c.name[:40]} ({c.semantic_type})"
        if c.histogram.get("counts"):
            pngs.append(histogram_png(c.histogram["counts"], c.histogram["edges"], dpi=_DPI, title=label))
        else:
            pngs.append(top_values_png(c.top_values, dpi=_DPI, title=label))
    if pngs:
        left_out = sum(1 for c in p.columns if c.histogram.get("counts") or c.top_values) - len(pngs)
        if left_out > 0:
            story.append(P(f"The first {len(pngs)} columns with a chart; {left_out} more are in the table above.", small))
        cells_ = [image(png, width / 2 - 4) for png in pngs]
        grid_rows = [cells_[i:i + 2] + [""] * (2 - len(cells_[i:i + 2])) for i in range(0, len(cells_), 2)]
        story.append(Table(grid_rows, colWidths=[width / 2] * 2))
    else:
        story.append(P("No column has a distribution to draw.", base))

    story += [PageBreak(), Bookmark("Correlations"), P("Correlations", h2)]
    heat = heatmap_png(p, dpi=_DPI)
    if heat is None:
        story.append(P("Fewer than two columns could be compared.", base))
    else:
        names, _ = association_matrix(p)
        story += [P("Association strength in [0, 1]: |Pearson r| between numbers, Cramér's V between categories, "
                    f"η between a number and a category ({len(names)} columns with the strongest associations).", small),
                  image(heat, width * 0.8), Spacer(0, 6)]
        pairs = sorted((c for c in p.correlations if math.isfinite(c.value)), key=lambda c: -abs(c.value))[:TOP_PAIRS]
        rows = [["Column", "Column", "Measure", "Value"]]
        rows += [[P(markup_text(c.a)), P(markup_text(c.b)), P(markup_text(c.method.replace("_", " "))), f"{c.value:.3f}"]
                 for c in pairs]
        story.append(table(rows, [0.32, 0.32, 0.2, 0.16]))

    if p.target:
        story += [PageBreak(), Bookmark("Target associations"), P(f"Target associations: {markup_text(p.target)}", h2),
                  P("Mutual information, and the cross-validated score of a model that uses each column alone "
                    "(the target's average per category or value band, learned on two thirds of the sample and "
                    "scored on the rest, three times). A column that alone nearly predicts the target is flagged "
                    "as possible leakage.", small)]
        rows = [["Column", "Mutual information", "Score", "Leakage"]]
        rows += [[P(markup_text(a.column)), f"{a.mutual_information:.3f}", f"{a.score_name} {a.model_score:.3f}",
                  P("<font color='#b00000'><b>yes</b></font>" if a.leakage else "")] for a in p.target_associations]
        story.append(table(rows, [0.4, 0.2, 0.25, 0.15]) if p.target_associations
                     else P("No column could be compared with the target.", base))

    generated = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    story += [Spacer(0, 10), Bookmark("About this report"), P("About this report", h2),
              P("Counts, moments and quantiles are exact over all rows; correlations and target associations are "
                "computed on a seeded sample. Identifier and PII-like columns keep counts only. The profile holds no "
                f"raw rows. Dataset version {markup_text(p.version_id or '—')}, profile format {p.format_version}. "
                f"Generated by Airlock on {generated}.", small)]

    footer = f"Airlock · data profile · {title}"[:110]

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=title, author="Airlock", subject="Data profile", invariant=True)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()
