"""A profile as a PDF a reviewer can read offline, laid out with ReportLab's Platypus.

Sections, each with a bookmark of the same name: *Overview*, *Alerts* (most severe first),
*Columns* (one table row per column), *Distributions* (histograms or most frequent values
of at most :data:`MAX_PLOTS` columns), *Correlations* (heatmap and the strongest pairs),
*Target associations* (when the profile has a target) and *About this report*. What is
shown is what the HTML report shows (:mod:`core.data.report`: same labels, numbers and
wording): aggregates, and for columns that are not personal data the most frequent values;
hidden values stay hidden. Charts are vector drawings (:func:`core.reports.charts.to_flowable`),
fonts DejaVu Sans embedded, so the file is self-contained. Table cells never break inside
a word or a number: a text too long for its cell is cut with an ellipsis. Nothing is
written to disk: the PDF is returned as bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.data.models import ColumnProfile, Profile, SemanticType
from core.data.report import (
    PERMUTATION_NOTE,
    ReportInfo,
    column_chart,
    column_kind,
    heatmap_chart,
    holds_text,
    p_value_text,
    sampling_text,
    score_text,
    strongest_pairs,
    top_value_rows,
    value_text,
)
from core.reports import charts
from core.reports.display import ELLIPSIS, count, number, percent, quantile_label, size_text
from core.reports.pdf import FONT, bookmark, build_document, markup_text, register_fonts

SECTIONS = ("Overview", "Alerts", "Columns", "Distributions", "Correlations", "Target associations",
            "About this report")
#: Columns drawn in *Distributions*; the per-column table covers every column.
MAX_PLOTS = 24
#: Strongest pairs listed under the heatmap.
TOP_PAIRS = 20


def fit_text(text: str, width: float, font: str, size: float) -> str:
    """``text`` cut (with an ellipsis) so that it fits ``width`` points on one line."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if stringWidth(text[:mid] + ELLIPSIS, font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS


def _summary(c: ColumnProfile) -> str:
    """The most telling figures of a column, in a few words."""
    if c.stats.get("mean") is not None:
        return f"mean {value_text(c, c.stats['mean'])}, standard deviation {number(c.stats.get('std'))}"
    if c.semantic_type == SemanticType.DATETIME and c.stats:
        return f"{str(c.stats.get('min', ''))[:10]} to {str(c.stats.get('max', ''))[:10]}"
    top = top_value_rows(c)
    if top:
        v, n = top[0]
        return f"most frequent: {v} ({percent(n / max(c.count - c.missing, 1))})"
    if c.stats.get("mean_length") is not None:
        return f"{number(c.stats['mean_length'])} characters on average"
    return ""


def _range(c: ColumnProfile) -> tuple[str, str]:
    lo, hi = c.stats.get("min"), c.stats.get("max")
    if c.semantic_type == SemanticType.DATETIME:
        return (str(lo)[:10] if lo else "—"), (str(hi)[:10] if hi else "—")
    if lo is None and c.stats.get("min_length") is not None:
        return f"{c.stats['min_length']} chars", f"{c.stats['max_length']} chars"
    return value_text(c, lo), value_text(c, hi)


def _caption(c: ColumnProfile) -> str:
    """The line under a chart: median and the outer percentiles, when the column has them."""
    q = c.quantiles
    parts = [f"{quantile_label('0.5')} {value_text(c, q['0.5'])}"] if "0.5" in q else []
    if "0.01" in q and "0.99" in q:
        parts.append(f"1st to 99th percentile {value_text(c, q['0.01'])} to {value_text(c, q['0.99'])}")
    return " · ".join(parts)


def render_pdf(profile: Profile, title: str | ReportInfo, *, generated_at: dt.datetime | None = None) -> bytes:
    """The profile report as PDF bytes; ``title`` is the title or a full :class:`ReportInfo`."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

    info = title if isinstance(title, ReportInfo) else ReportInfo(title, generated_at=generated_at)
    if generated_at is not None and info.generated_at is None:
        info = ReportInfo(info.title, info.version_label, info.source, generated_at)
    register_fonts()
    bold = f"{FONT}-Bold"
    blue = colors.HexColor("#1f5fa8")
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=colors.HexColor("#555555"))
    # splitLongWords=0: a cell breaks between words only, never inside a word or a number.
    cell = ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5, splitLongWords=0)
    h1 = ParagraphStyle("h1", parent=base, fontName=bold, fontSize=18, leading=23, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=bold, fontSize=13.5, leading=18, textColor=blue,
                        spaceBefore=4, spaceAfter=6)
    h3 = ParagraphStyle("h3", parent=base, fontName=bold, fontSize=8.5, leading=11)
    severity_colour = {"high": "#b00000", "medium": "#a06000", "low": "#555555", "info": "#1f5fa8"}

    def Bookmark(name: str) -> object:  # noqa: N802 - reads like the flowable it returns
        return bookmark(name, f"s{SECTIONS.index(name)}")

    grid = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cccccc")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")), ("FONTNAME", (0, 0), (-1, 0), bold),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ])
    width = A4[0] - 36 * mm
    pad = 6.0

    def P(text: str, style: ParagraphStyle = cell) -> Any:  # noqa: N802 - Platypus idiom
        return Paragraph(text, style)

    def one_line(text: str, w: float, size: float = 7.5) -> str:
        """A cell of one line, cut with an ellipsis to the cell's width (plain text: drawn as it is)."""
        return fit_text(text, w - pad, FONT, size)

    def line_para(text: str, w: float, style: ParagraphStyle) -> Any:
        return Paragraph(markup_text(fit_text(text, w - pad, style.fontName, style.fontSize)), style)

    def table(rows: list[list[Any]], fractions: list[float], right: tuple[int, ...] = ()) -> Any:
        t = Table(rows, colWidths=[width * f for f in fractions], repeatRows=1)
        t.setStyle(grid)
        if right:
            t.setStyle(TableStyle([("ALIGN", (i, 0), (i, -1), "RIGHT") for i in right]))
        return t

    def header(*names: str) -> list[Any]:
        return list(names)

    p = profile
    kinds: dict[str, int] = {}
    for c in p.columns:
        kinds[c.semantic_type] = kinds.get(c.semantic_type, 0) + 1
    missing_cells = sum(c.missing for c in p.columns)
    cells = max(p.row_count * p.column_count, 1)
    story: list[Any] = [Bookmark("Overview"), P(markup_text(info.title), h1)]
    overview = [
        ["Dataset version", info.version_label or "—"], ["Source", info.source or "—"],
        ["Generated", f"{info.generated_text()} by Airlock"],
        ["Rows", count(p.row_count)], ["Columns", count(p.column_count)],
        ["Column kinds", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))],
        ["Missing cells", f"{count(missing_cells)} ({percent(missing_cells / cells)})"],
        ["Duplicate rows", f"{count(p.duplicate_rows)} ({percent(p.duplicate_rows / max(p.row_count, 1))})"],
        ["Size in memory", size_text(p.memory_bytes)],
        ["Alerts", ", ".join(f"{sum(a.severity == s for a in p.alerts)} {s}" for s in ("high", "medium", "low", "info"))],
        ["Sampling", sampling_text(p)],
    ]
    if p.target:
        overview.append(["Target", p.target])
    ot = Table([[P(f"<b>{markup_text(k)}</b>"), P(markup_text(v))] for k, v in overview],
               colWidths=[width * 0.22, width * 0.78])
    ot.setStyle(grid)
    ot.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.white)]))
    story += [ot, Spacer(0, 4), P(markup_text(holds_text(p)), small), Spacer(0, 8)]

    story += [Bookmark("Alerts"), P("Alerts", h2)]
    if p.alerts:
        rows: list[list[Any]] = [header("Severity", "Column", "Alert")]
        rows += [[P(f"<font color='{severity_colour.get(a.severity, '#555555')}'><b>{a.severity}</b></font>"),
                  one_line(a.column or "—", width * 0.2), P(markup_text(a.message))] for a in p.alerts]
        story.append(table(rows, [0.1, 0.2, 0.7]))
    else:
        story.append(P("No alerts.", base))

    story += [PageBreak(), Bookmark("Columns"), P("Columns", h2)]
    fr = [0.17, 0.14, 0.075, 0.09, 0.11, 0.11, 0.225, 0.08]
    rows = [header("Column", "Kind", "Missing", "Distinct", "Minimum", "Maximum", "Summary", "Flags")]
    for c in p.columns:
        lo, hi = _range(c)
        kind = fit_text(column_kind(c).split(" (")[0], width * fr[1] - pad, FONT, 7.5)
        detail = c.storage_type + (f", personal data ({c.pii})" if c.pii else "")
        rows.append([one_line(c.name, width * fr[0]),
                     P(f"{markup_text(kind)}<br/><font size='6' color='#666666'>"
                       f"{markup_text(fit_text(detail, width * fr[1] - pad, FONT, 6))}</font>"),
                     one_line(percent(c.missing_fraction), width * fr[2]),
                     one_line(count(c.distinct), width * fr[3]),
                     one_line(lo, width * fr[4]), one_line(hi, width * fr[5]),
                     P(markup_text(_summary(c))),
                     P(markup_text(", ".join(f.replace("_", " ") for f in c.flags)))])
    story.append(table(rows, fr, right=(2, 3, 4, 5)))

    story += [PageBreak(), Bookmark("Distributions"), P("Distributions", h2)]
    drawable = [(c, ch) for c in p.columns if (ch := column_chart(c)) is not None]
    plotted = drawable[:MAX_PLOTS]
    half = width / 2
    if plotted:
        if len(drawable) > len(plotted):
            story.append(P(f"The first {len(plotted)} columns with a chart; {len(drawable) - len(plotted)} more are "
                           "in the table above.", small))
        boxes = []
        for c, ch in plotted:
            scale = min(1.0, (half - 8) / ch.width)
            box = [line_para(f"{c.name} — {column_kind(c)}", half - 4, h3),
                   charts.to_flowable(ch, FONT, bold, scale)]
            caption = _caption(c)
            if caption:
                box.append(line_para(caption, half - 4, small))
            boxes.append(box)
        grid_rows = [boxes[i:i + 2] + [""] * (2 - len(boxes[i:i + 2])) for i in range(0, len(boxes), 2)]
        dist = Table(grid_rows, colWidths=[half] * 2)
        dist.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
        story.append(dist)
    else:
        story.append(P("No column has a distribution to draw.", base))

    story += [PageBreak(), Bookmark("Correlations"), P("Correlations", h2)]
    heat = heatmap_chart(p)
    if heat is None:
        story.append(P("Fewer than two columns could be compared.", base))
    else:
        chart, note = heat
        scale = min(1.0, width / chart.width, 560 / chart.height)
        story += [P(markup_text(note), small), Spacer(0, 4), charts.to_flowable(chart, FONT, bold, scale), Spacer(0, 6)]
        fp = [0.34, 0.34, 0.2, 0.12]
        rows = [header("Column", "Column", "Measure", "Value")]
        rows += [[one_line(a, width * fp[0]), one_line(b, width * fp[1]), one_line(m, width * fp[2]),
                  f"{v:.3f}"] for a, b, m, v in strongest_pairs(p, TOP_PAIRS)]
        story.append(KeepTogether([P(f"The {len(rows) - 1} strongest pairs", h3), table(rows, fp, right=(3,))]))

    if p.target:
        story += [PageBreak(), Bookmark("Target associations"), P(f"Target associations: {markup_text(p.target)}", h2),
                  P("Mutual information (in nats; 0 means none), and the cross-validated score of a model that uses "
                    "each column alone (the target's average per category or value band, learned on two thirds of "
                    "the sample and scored on the rest, three times). A column that alone nearly predicts the target "
                    "is flagged as possible leakage.", small)]
        perm = any(a.p_value is not None for a in p.target_associations)
        if perm:
            story.append(P(markup_text(PERMUTATION_NOTE), small))
        ft = [0.3, 0.16, 0.13, 0.29, 0.12] if perm else [0.4, 0.2, 0.25, 0.15]
        heads = ["Column", "Mutual information"] + (["Chance by luck"] if perm else []) + \
            ["Score of the column alone", "Leakage"]
        rows = [header(*heads)]
        for a in p.target_associations:
            row: list[Any] = [one_line(a.column, width * ft[0]),
                              one_line(number(a.mutual_information, digits=3), width * ft[1])]
            if perm:
                row.append(p_value_text(a.p_value))
            row += [one_line(score_text(a.score_name, a.model_score), width * ft[-2]),
                    P("<font color='#b00000'><b>yes</b></font>" if a.leakage else "")]
            rows.append(row)
        story.append(table(rows, ft, right=(1, 2, 3) if perm else (1, 2)) if p.target_associations
                     else P("No column could be compared with the target.", base))

    story += [Spacer(0, 10), Bookmark("About this report"), P("About this report", h2),
              P(markup_text(f"{sampling_text(p)} Counts, minimum, maximum, mean, standard deviation and quantiles are "
                            f"exact. {holds_text(p)} Dataset version {info.version_label or '—'} "
                            f"(id {p.version_id or '—'}), source {info.source or '—'}, profile format "
                            f"{p.format_version}. Generated by Airlock on {info.generated_text()}."), small)]

    return build_document(story, title=info.title, subject="Data profile", top_margin_mm=16,
                          footer=f"Airlock · data profile · {info.title}")
