"""Small charts for reports, drawn once as shapes and written as inline SVG or a PDF drawing.

A chart here is a :class:`Chart`: a size in points and a list of rectangles, lines and
texts, with y growing downwards as in SVG. :func:`to_svg` writes it as an ``<svg>`` element
for the HTML report (every text escaped; a rectangle's ``tip`` becomes a hover title) and
:func:`to_flowable` as a ReportLab flowable for the PDF (vector, fonts embedded). Neither
needs matplotlib: a chart costs microseconds instead of the tens of milliseconds of a
rendered figure, which is what keeps a report of a wide profile under half a second.

The builders (:func:`histogram`, :func:`bars`, :func:`heatmap`) take plain numbers and
labels and always draw axis labels. This module must not import the data area.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

from core.reports.display import count, number, shorten

BAR = "#4a7bb7"
AXIS = "#555555"
GRID = "#dddddd"
#: Width of one character as a share of the font size (DejaVu Sans, digits and lower case).
CHAR_WIDTH = 0.58


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    tip: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = AXIS


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    size: float = 7.0
    anchor: Literal["start", "middle", "end"] = "start"
    rotate: bool = False  # quarter turn anticlockwise about (x, y)
    fill: str = "#222222"
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Chart:
    """Shapes on a ``width`` × ``height`` canvas (points), y downwards; ``label`` names it for screen readers."""

    width: float
    height: float
    label: str
    shapes: tuple[Rect | Line | Text, ...] = field(default_factory=tuple)


def fit(text: str, width: float, size: float) -> str:
    """``text`` shortened (with an ellipsis) to about ``width`` points at font ``size``."""
    return shorten(text, max(int(width / (size * CHAR_WIDTH)), 2))


def _ticks(low: float, high: float, n: int = 4) -> list[float]:
    """About ``n`` round values between ``low`` and ``high`` (1, 2, 5 × a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / n
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    out = []
    v = first
    while v <= high + step * 1e-9:
        out.append(0.0 if abs(v) < step * 1e-9 else v)
        v += step
    return out


def histogram(counts: Sequence[float], edges: Sequence[float], *, x_label: str, y_label: str = "Rows",
              tick_text: Callable[[float], str] | None = None, round_ticks: bool = True,
              width: float = 260, height: float = 110) -> Chart:
    """Bars over a numeric axis: ``counts[i]`` rows between ``edges[i]`` and ``edges[i + 1]``.

    ``tick_text`` writes an x value (dates for a datetime column); numbers by default. With
    ``round_ticks`` the x axis is marked at round values, else at both ends and the middle.
    """
    tick_text = tick_text or number
    left, right, top, bottom = 38.0, 8.0, 6.0, 30.0
    pw, ph = width - left - right, height - top - bottom
    lo, hi = float(edges[0]), float(edges[-1])
    span = hi - lo or 1.0
    peak = max(max(counts, default=0.0), 1.0)
    shapes: list[Rect | Line | Text] = []
    y_ticks = [t for t in _ticks(0.0, peak, 3) if t <= peak]
    for t in y_ticks:
        y = top + ph - ph * t / peak
        shapes += [Line(left, y, left + pw, y, GRID), Text(left - 3, y + 2.5, _short_count(t), 6.5, "end")]
    for c, a, b in zip(counts, edges[:-1], edges[1:], strict=False):
        x = left + pw * (float(a) - lo) / span
        w = max(pw * (float(b) - float(a)) / span - 0.6, 0.4)
        h = ph * float(c) / peak
        shapes.append(Rect(x, top + ph - h, w, h, BAR, f"{tick_text(float(a))} to {tick_text(float(b))}: {count(c)} rows"))
    shapes += [Line(left, top + ph, left + pw, top + ph), Line(left, top, left, top + ph)]
    x_ticks = _ticks(lo, hi, 5) if round_ticks else [lo, lo + span / 2, hi]
    last_end = -1e9
    for t in x_ticks:
        x = left + pw * (t - lo) / span
        label = tick_text(t)
        half = len(label) * 6.5 * CHAR_WIDTH / 2
        if x - half < last_end + 4 or x + half > width:  # labels never overlap or leave the chart
            continue
        last_end = x + half
        shapes += [Line(x, top + ph, x, top + ph + 2.5), Text(x, top + ph + 10, label, 6.5, "middle")]
    shapes.append(Text(left + pw / 2, height - 4, fit(x_label, pw, 7.5), 7.5, "middle", fill=AXIS))
    shapes.append(Text(9, top + ph / 2, y_label, 7.5, "middle", rotate=True, fill=AXIS))
    return Chart(width, height, f"histogram of {x_label}", tuple(shapes))


def bars(items: Sequence[tuple[str, float]], *, title: str, x_label: str = "Rows", y_label: str = "Value",
         width: float = 260, height: float | None = None) -> Chart:
    """Horizontal bars, one per ``(label, value)``, largest first as given; counts at the bar ends."""
    row = 10.5
    top, bottom, label_w, right = 6.0, 24.0, 92.0, 40.0
    height = height or top + bottom + row * max(len(items), 1)
    pw = width - label_w - right - 12
    peak = max((v for _, v in items), default=1.0) or 1.0
    shapes: list[Rect | Line | Text] = []
    for i, (label, v) in enumerate(items):
        y = top + i * row
        w = max(pw * v / peak, 0.6)
        shapes += [Text(12 + label_w - 4, y + row * 0.68, fit(label, label_w - 6, 6.5), 6.5, "end"),
                   Rect(12 + label_w, y + 1.5, w, row - 3, BAR, f"{label}: {count(v)} rows"),
                   Text(12 + label_w + w + 3, y + row * 0.68, _short_count(v), 6.5)]
    base = top + row * max(len(items), 1)
    shapes += [Line(12 + label_w, top, 12 + label_w, base), Line(12 + label_w, base, 12 + label_w + pw, base)]
    shapes.append(Text(12 + label_w + pw / 2, height - 6, x_label, 7.5, "middle", fill=AXIS))
    shapes.append(Text(8, top + (base - top) / 2, y_label, 7.5, "middle", rotate=True, fill=AXIS))
    return Chart(width, height, title, tuple(shapes))


def shade(v: float) -> str:
    """A blue from white (0) to dark blue (1); light grey for a pair not measured."""
    if not math.isfinite(v):
        return "#eeeeee"
    v = min(max(v, 0.0), 1.0)
    r, g, b = (round(255 + (t - 255) * v) for t in (0x0b, 0x3d, 0x91))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(names: Sequence[str], matrix: Sequence[Sequence[float]], *, legend: str, width: float = 480) -> Chart:
    """A square matrix of strengths in [0, 1]: names on the left and (turned) at the bottom, a colour key."""
    n = len(names)
    label_w = 110.0
    cell = min(18.0, (width - label_w - 60) / max(n, 1))
    size = 6.5 if cell >= 9 else 5.5
    grid = cell * n
    height = 8 + grid + label_w + 8
    shapes: list[Rect | Line | Text] = []
    x0, y0 = label_w, 8.0
    for i, a in enumerate(names):
        shapes.append(Text(x0 - 3, y0 + i * cell + cell / 2 + size * 0.35, fit(a, label_w - 6, size), size, "end"))
        shapes.append(Text(x0 + i * cell + cell / 2 + size * 0.35, y0 + grid + 3, fit(a, label_w - 6, size), size,
                           "end", rotate=True))
        for j, b in enumerate(names):
            v = matrix[i][j]
            tip = f"{a} – {b}: " + (f"{v:.2f}" if math.isfinite(v) else "not measured")
            shapes.append(Rect(x0 + j * cell, y0 + i * cell, cell, cell, shade(v), tip))
            if cell >= 16 and math.isfinite(v) and i != j and v >= 0.1:  # the value where it matters
                shapes.append(Text(x0 + j * cell + cell / 2, y0 + i * cell + cell / 2 + 2.2,
                                   f"{v:.2f}"[1:] if v < 0.995 else "1", 5.5, "middle",
                                   fill="#ffffff" if v > 0.55 else "#222222"))
    kx = x0 + grid + 14
    steps = 10
    kh = min(grid, 120.0)
    for s in range(steps):
        shapes.append(Rect(kx, y0 + kh - (s + 1) * kh / steps, 10, kh / steps + 0.3, shade((s + 0.5) / steps)))
    shapes += [Text(kx + 13, y0 + 5, "1", 6.5), Text(kx + 13, y0 + kh, "0", 6.5),
               Text(kx + 30, y0 + kh / 2, legend, 7, "middle", rotate=True, fill=AXIS)]
    return Chart(max(width, kx + 40), height, "association heatmap", tuple(shapes))


def _short_count(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.3g}M"
    if v >= 1e4:
        return f"{v / 1e3:.3g}k"
    return count(v)


# --- writers --------------------------------------------------------------------------------


def _attr(text: str) -> str:
    return escape(text, quote=True)


def to_svg(chart: Chart, scale: float = 1.0) -> str:
    """The chart as one ``<svg>`` element to inline in HTML5, ``scale`` times its size in CSS pixels.

    No namespace URL, no external reference; every text is escaped.
    """
    out = [f'<svg role="img" aria-label="{_attr(chart.label)}" '
           f'width="{chart.width * scale:.0f}" height="{chart.height * scale:.0f}" '
           f'viewBox="0 0 {chart.width:.1f} {chart.height:.1f}" '
           'font-family="DejaVu Sans, Verdana, sans-serif">']
    for s in chart.shapes:
        if isinstance(s, Rect):
            tip = f"<title>{escape(s.tip)}</title>" if s.tip else ""
            out.append(f'<rect x="{s.x:.1f}" y="{s.y:.1f}" width="{s.w:.1f}" height="{s.h:.1f}" fill="{s.fill}">{tip}</rect>')
        elif isinstance(s, Line):
            out.append(f'<line x1="{s.x1:.1f}" y1="{s.y1:.1f}" x2="{s.x2:.1f}" y2="{s.y2:.1f}" stroke="{s.stroke}" '
                       'stroke-width="0.6"/>')
        else:
            turn = f' transform="rotate(-90 {s.x:.1f} {s.y:.1f})"' if s.rotate else ""
            weight = ' font-weight="bold"' if s.bold else ""
            out.append(f'<text x="{s.x:.1f}" y="{s.y:.1f}" font-size="{s.size:g}" text-anchor="{s.anchor}" '
                       f'fill="{s.fill}"{weight}{turn}>{escape(s.text)}</text>')
    out.append("</svg>")
    return "".join(out)


def to_flowable(chart: Chart, font: str, bold_font: str | None = None, scale: float = 1.0) -> Any:
    """The chart as a Platypus flowable that paints straight on the PDF canvas, ``scale`` times its size.

    Painted directly rather than through ReportLab's graphics layer (its shape
    checks and state tracking cost most of a report's time): rectangles of one colour go
    out as one path, colours and fonts are set only when they change.
    """
    return _flowable_class()(chart, font, bold_font or font, scale)


@functools.cache
def _flowable_class() -> type:
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Flowable

    class ChartFlowable(Flowable):
        def __init__(self, chart: Chart, font: str, bold_font: str, scale: float) -> None:
            super().__init__()
            self.chart, self.font, self.bold_font, self.scale = chart, font, bold_font, scale
            self.width, self.height = chart.width * scale, chart.height * scale

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            return self.width, self.height

        def draw(self) -> None:
            c, ch = self.canv, self.chart
            h = ch.height
            c.saveState()
            c.scale(self.scale, self.scale)
            by_fill: dict[str, list[Rect]] = {}
            for s in ch.shapes:
                if isinstance(s, Rect):
                    by_fill.setdefault(s.fill, []).append(s)
            for fill, rects in by_fill.items():
                c.setFillColor(HexColor(fill))
                path = c.beginPath()
                for r in rects:
                    path.rect(r.x, h - r.y - r.h, r.w, r.h)
                c.drawPath(path, stroke=0, fill=1)
            c.setLineWidth(0.6)
            stroke = None
            for s in ch.shapes:
                if isinstance(s, Line):
                    if s.stroke != stroke:
                        stroke = s.stroke
                        c.setStrokeColor(HexColor(stroke))
                    c.line(s.x1, h - s.y1, s.x2, h - s.y2)
            fill_now, font_now = None, None
            for s in ch.shapes:
                if not isinstance(s, Text):
                    continue
                if s.fill != fill_now:
                    fill_now = s.fill
                    c.setFillColor(HexColor(fill_now))
                face = (self.bold_font if s.bold else self.font, s.size)
                if face != font_now:
                    font_now = face
                    c.setFont(*face)
                draw = {"start": c.drawString, "middle": c.drawCentredString, "end": c.drawRightString}[s.anchor]
                if s.rotate:
                    c.saveState()
                    c.translate(s.x, h - s.y)
                    c.rotate(90)
                    c.setFont(*face)
                    draw(0, 0, s.text)
                    c.restoreState()
                else:
                    draw(s.x, h - s.y, s.text)
            c.restoreState()

    return ChartFlowable
