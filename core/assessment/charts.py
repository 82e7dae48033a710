"""Charts of an assessment, built on :class:`matplotlib.figure.Figure` only.

Core never imports ``matplotlib.pyplot`` (it would pick a GUI backend and keep global
state). Each function returns a fresh Figure: the desktop wraps it in a Qt canvas, reports
render it to PNG with :func:`figure_png`. Colours are chosen to survive greyscale printing
(current is solid, target dashed, previous dotted).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes

from core.assessment.models import AssessmentScore, DimensionId, MaturityModel

CURRENT = "#1f5fa8"
TARGET = "#c0392b"
PREVIOUS = "#7f8c8d"


def _label(name: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(name, width)) or name


def radar(
    model: MaturityModel,
    current: AssessmentScore,
    targets: Mapping[DimensionId, int] | None = None,
    previous: AssessmentScore | None = None,
    *,
    size: tuple[float, float] = (6.0, 5.2),
) -> Figure:
    """Dimension levels on one polygon each: current, target and previous assessment."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot(projection="polar")
    assert isinstance(ax, PolarAxes)  # what projection="polar" makes; narrows the type
    names = [d.name for d in model.dimensions]
    n = len(names)
    angles = [2 * math.pi * i / n for i in range(n)]
    closed = angles + angles[:1]

    def series(values: list[float | None]) -> list[float]:
        vals = [model.min_level if v is None else v for v in values]
        return vals + vals[:1]

    if previous is not None:
        prev = [_score_or_none(previous, d.id) for d in model.dimensions]
        ax.plot(closed, series(prev), color=PREVIOUS, linestyle=":", linewidth=1.8,
                label="Previous")
    if targets:
        tgt: list[float | None] = [
            float(targets[d.id]) if d.id in targets else None for d in model.dimensions
        ]
        ax.plot(closed, series(tgt), color=TARGET, linestyle="--", linewidth=1.8,
                label="Target")
    cur = [_score_or_none(current, d.id) for d in model.dimensions]
    ax.plot(closed, series(cur), color=CURRENT, linewidth=2.2, label="Current")
    ax.fill(closed, series(cur), color=CURRENT, alpha=0.15)

    ax.set_xticks(angles)
    ax.set_xticklabels([_label(nm) for nm in names], fontsize=8)
    ax.set_ylim(model.min_level, model.max_level)
    ax.set_yticks([lv.number for lv in model.levels])
    ax.set_yticklabels([str(lv.number) for lv in model.levels], fontsize=7, color="#555555")
    ax.set_rlabel_position(90)
    ax.grid(color="#cccccc", linewidth=0.6)
    fig.legend(loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    return fig


def _score_or_none(result: AssessmentScore, dim_id: DimensionId) -> float | None:
    try:
        return result.of(dim_id).score
    except KeyError:
        return None


def curve(
    model: MaturityModel,
    overall: float | None,
    *,
    previous: float | None = None,
    size: tuple[float, float] = (7.0, 3.0),
) -> Figure:
    """The unit's place on the model's maturity curve, with each level named."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    lo, hi = model.min_level, model.max_level
    xs = np.linspace(lo, hi, 200)
    mid = (lo + hi) / 2
    span = max(hi - lo, 1)

    def height(x: float) -> float:
        return 1 / (1 + math.exp(-6 * (x - mid) / span))

    ax.plot(xs, 1 / (1 + np.exp(-6 * (xs - mid) / span)), color="#999999", linewidth=2)
    for lv in model.levels:
        ax.plot([lv.number], [height(lv.number)], "o", color="#bbbbbb", markersize=5)
        ax.annotate(
            _label(f"{lv.number} {lv.name}", 14), (lv.number, height(lv.number)),
            textcoords="offset points", xytext=(0, -14), ha="center", va="top", fontsize=7,
            color="#444444",
        )
    if previous is not None:
        ax.plot([previous], [height(previous)], "o", color=PREVIOUS, markersize=9,
                label=f"Previous {previous:.1f}")
    if overall is not None:
        ax.plot([overall], [height(overall)], "o", color=CURRENT, markersize=12,
                label=f"Now {overall:.1f}")
        ax.annotate(f"{overall:.1f}", (overall, height(overall)),
                    textcoords="offset points", xytext=(0, 10), ha="center",
                    fontsize=10, fontweight="bold", color=CURRENT)
        ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_xlim(lo - 0.4, hi + 0.4)
    ax.set_ylim(-0.45, 1.15)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    return fig


def bars(
    model: MaturityModel,
    current: AssessmentScore,
    targets: Mapping[DimensionId, int] | None = None,
    previous: AssessmentScore | None = None,
    *,
    size: tuple[float, float] = (7.0, 3.6),
) -> Figure:
    """One horizontal bar per dimension, target as a red tick, previous as a grey dot."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    dims = list(model.dimensions)
    ys = np.arange(len(dims))[::-1]
    vals = [_score_or_none(current, d.id) for d in dims]
    ax.barh(ys, [v if v is not None else 0 for v in vals], color=CURRENT, height=0.55,
            label="Current", left=0)
    for y, v in zip(ys, vals, strict=True):
        ax.text((v or 0) + 0.05, y, "not scored" if v is None else f"{v:.1f}",
                va="center", fontsize=8, color="#333333")
    if targets:
        tys = [y for y, d in zip(ys, dims, strict=True) if d.id in targets]
        txs = [targets[d.id] for d in dims if d.id in targets]
        ax.scatter(txs, tys, marker="|", s=420, color=TARGET, linewidths=2.5, label="Target",
                   zorder=3)
    if previous is not None:
        pys = [y for y, d in zip(ys, dims, strict=True) if _score_or_none(previous, d.id) is not None]
        pxs = [_score_or_none(previous, d.id) for d in dims]
        ax.scatter([x for x in pxs if x is not None], pys, marker="o", s=30, color=PREVIOUS,
                   label="Previous", zorder=4)
    ax.set_yticks(ys)
    ax.set_yticklabels([d.name for d in dims], fontsize=8)
    ax.set_xlim(model.min_level, model.max_level + 0.5)
    ax.set_xticks([lv.number for lv in model.levels])
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.legend(loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    return fig


def figure_png(fig: Figure, dpi: int = 150) -> bytes:
    """Render a Figure to PNG bytes in memory (no file is written)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()
