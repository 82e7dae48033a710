"""A profile as one self-contained HTML page: charts are inline base64 PNGs, no external refs.

Everything shown is already in the profile (no raw rows); all text is HTML-escaped.
Charts are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never pyplot,
and are shared with the PDF report (:mod:`core.data.report_pdf`). A very wide table would
make a very large page, so at most :data:`MAX_HISTOGRAMS` histograms and a heatmap of at
most :data:`HEATMAP_MAX` columns are drawn; the page says when it left some out.
"""

from __future__ import annotations

import base64
import html
import io
import math

from core.data.models import Profile

#: Columns drawn as histograms, in column order; later columns get their table only.
MAX_HISTOGRAMS = 100
#: Columns in the association heatmap (those with the strongest associations first).
HEATMAP_MAX = 30

_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
          "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}.high{color:#b00}.medium{color:#a60}"
          "section{margin-bottom:2em}")


def _figure(width: float, height: float, dpi: int):  # type: ignore[no-untyped-def]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def histogram_png(counts: list[float], edges: list[float], *, dpi: int = 80, title: str | None = None) -> bytes:
    """A small bar chart of a stored histogram, as PNG bytes."""
    fig = _figure(4, 1.8, dpi)
    ax = fig.add_subplot()
    widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
    ax.bar(edges[:-1], counts, width=widths, align="edge", color="#4a7bb7")
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=0.86 if title else 0.95)
    return _save(fig)


def top_values_png(top: list[tuple[str, int]], *, dpi: int = 80, title: str | None = None) -> bytes:
    """A horizontal bar chart of a column's most common values, as PNG bytes."""
    fig = _figure(4, 1.8, dpi)
    ax = fig.add_subplot()
    shown = top[:8][::-1]
    ax.barh([v if len(v) <= 18 else v[:17] + "…" for v, _ in shown], [n for _, n in shown], color="#4a7bb7")
    ax.tick_params(labelsize=6)
    if title:
        ax.set_title(title, fontsize=8)
    fig.subplots_adjust(left=0.3, right=0.97, bottom=0.14, top=0.86 if title else 0.95)
    return _save(fig)


def association_matrix(profile: Profile, limit: int = HEATMAP_MAX) -> tuple[list[str], list[list[float]]]:
    """Column names and a symmetric matrix of association strength in [0, 1] (NaN: not measured).

    Pearson's |r| between numbers, Cramér's V between categories, η between a number and a
    category; at most ``limit`` columns, those with the strongest association first.
    """
    strength: dict[tuple[str, str], float] = {}
    best: dict[str, float] = {}
    for c in profile.correlations:
        if c.method == "spearman" or not math.isfinite(c.value):
            continue
        v = abs(c.value)
        for key in ((c.a, c.b), (c.b, c.a)):
            strength[key] = max(strength.get(key, 0.0), v)
        for name in (c.a, c.b):
            best[name] = max(best.get(name, 0.0), v)
    order = [c.name for c in profile.columns if c.name in best]
    keep = set(sorted(order, key=lambda n: -best[n])[:limit])
    names = [n for n in order if n in keep]
    matrix = [[1.0 if a == b else strength.get((a, b), math.nan) for b in names] for a in names]
    return names, matrix


def heatmap_png(profile: Profile, *, dpi: int = 80) -> bytes | None:
    """The association heatmap as PNG bytes, or None when there are fewer than two columns."""
    import numpy as np

    names, matrix = association_matrix(profile)
    if len(names) < 2:
        return None
    size = min(9.0, 2.5 + 0.28 * len(names))
    fig = _figure(size, size * 0.85, dpi)
    ax = fig.add_subplot()
    data = np.ma.masked_invalid(np.asarray(matrix, dtype=float))
    image = ax.imshow(data, vmin=0, vmax=1, cmap="Blues")
    labels = [n if len(n) <= 20 else n[:19] + "…" for n in names]
    ax.set_xticks(range(len(names)), labels, rotation=90, fontsize=6)
    ax.set_yticks(range(len(names)), labels, fontsize=6)
    fig.colorbar(image, ax=ax, shrink=0.7).ax.tick_params(labelsize=6)
    fig.tight_layout()
    return _save(fig)


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def render_html(profile: Profile, title: str) -> str:
    """The report page for ``profile``."""
    e = html.escape
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{e(title)}</h1><p>{profile.row_count:,} rows × {profile.column_count} columns; "
           f"{profile.duplicate_rows:,} duplicate rows; {profile.memory_bytes / 1e6:.1f} MB in memory.</p>",
           "<h2>Alerts</h2><table><tr><th>severity</th><th>column</th><th>alert</th></tr>"]
    out += [f"<tr class='{e(a.severity)}'><td>{e(a.severity)}</td><td>{e(a.column or '')}</td><td>{e(a.message)}</td></tr>"
            for a in profile.alerts]
    out.append("</table>")
    if profile.target_associations:
        out.append(f"<h2>Association with {e(profile.target or '')}</h2><table><tr><th>column</th>"
                   "<th>mutual information</th><th>score</th><th>leakage</th></tr>")
        out += [f"<tr><td>{e(a.column)}</td><td>{a.mutual_information:.3f}</td>"
                f"<td>{e(a.score_name)} {a.model_score:.3f}</td><td>{'yes' if a.leakage else ''}</td></tr>"
                for a in profile.target_associations]
        out.append("</table>")
    heat = heatmap_png(profile)
    if heat is not None:
        out.append("<h2>Correlations</h2><p>Association strength: |Pearson r| between numbers, Cramér's V between "
                   "categories, η between a number and a category.</p>"
                   f"<img alt='association heatmap' src='data:image/png;base64,{_b64(heat)}'>")
    out.append("<h2>Columns</h2>")
    drawn = 0
    for c in profile.columns:
        out.append(f"<section><h3>{e(c.name)} <small>{e(c.semantic_type)} ({e(c.storage_type)})"
                   f"{' — PII: ' + e(c.pii) if c.pii else ''}</small></h3><table>")
        rows = [("count", c.count), ("missing", c.missing), ("distinct", c.distinct)] + list(c.stats.items())
        rows += [(f"q{k}", v) for k, v in c.quantiles.items()]
        out += [f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in rows]
        out.append("</table>")
        if c.top_values:
            out.append("<table><tr><th>value</th><th>count</th></tr>")
            out += [f"<tr><td>{e(v)}</td><td>{n:,}</td></tr>" for v, n in c.top_values]
            out.append("</table>")
        if c.histogram.get("counts") and drawn < MAX_HISTOGRAMS:
            drawn += 1
            png = histogram_png(c.histogram["counts"], c.histogram["edges"])
            out.append(f"<img alt='histogram of {e(c.name)}' src='data:image/png;base64,{_b64(png)}'>")
        out.append("</section>")
    hidden = sum(1 for c in profile.columns if c.histogram.get("counts")) - drawn
    if hidden > 0:
        out.append(f"<p>{hidden} more histograms were left out to keep this page small; their statistics are above.</p>")
    out.append("</body></html>")
    return "\n".join(out)
