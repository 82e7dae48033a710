"""A profile as one self-contained HTML page: charts are inline base64 PNGs, no external refs.

Everything shown is already in the profile (no raw rows); all text is HTML-escaped.
Charts are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never pyplot.
"""

from __future__ import annotations

import base64
import html
import io

from core.data.models import Profile

_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
          "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}.high{color:#b00}.medium{color:#a60}"
          "section{margin-bottom:2em}")


def _png(counts: list[float], edges: list[float]) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 1.8), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
    ax.bar(edges[:-1], counts, width=widths, align="edge", color="#4a7bb7")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


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
        out.append(f"<h2>Association with {e(profile.target or '')}</h2><table><tr><th>column</th><th>mutual information</th><th>score</th><th>leakage</th></tr>")
        out += [f"<tr><td>{e(a.column)}</td><td>{a.mutual_information:.3f}</td><td>{e(a.score_name)} {a.model_score:.3f}</td><td>{'yes' if a.leakage else ''}</td></tr>"
                for a in profile.target_associations]
        out.append("</table>")
    out.append("<h2>Columns</h2>")
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
        if c.histogram.get("counts"):
            out.append(f"<img alt='histogram of {e(c.name)}' src='data:image/png;base64,{_png(c.histogram['counts'], c.histogram['edges'])}'>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out)
