"""A profile as one self-contained HTML page, and the pieces the PDF report shares with it.

Everything shown is already in the profile (aggregates, and for columns that are not
personal data or identifiers their most frequent values: never a whole row); every text
that comes from the data is HTML-escaped. Charts are inline SVG built by
:mod:`core.reports.charts` (no matplotlib, no external reference), labels and numbers come
from :mod:`core.reports.display`, so the HTML and the PDF (:mod:`core.data.report_pdf`)
read alike. A very wide profile would make a very large page, so at most
:data:`MAX_CHARTS` column charts and a heatmap of at most :data:`HEATMAP_MAX` columns are
drawn; the page says when it left some out. This module must not write files: the service
does that, audited (:mod:`core.store.exports`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass

from core.data.models import REDACTED, ColumnProfile, Profile, SemanticType
from core.reports import charts
from core.reports.display import (
    COUNT_STATS,
    LENGTH_STATS,
    count,
    date_text,
    is_year_column,
    number,
    percent,
    quantile_label,
    shorten,
    size_text,
    stat_label,
)

#: Columns drawn as a chart (histogram or most frequent values), in column order.
MAX_CHARTS = 100
#: Columns in the association heatmap: those with the strongest association to another column.
HEATMAP_MAX = 25
#: Rows the target associations use at most (``core.data.associations.TARGET_SAMPLE``; a test keeps them equal).
TARGET_SAMPLE = 20_000
#: Charts are drawn in points; on screen they are this much larger (CSS pixels are smaller than points).
HTML_SCALE = 1.5
#: Bars in a chart of most frequent values.
TOP_BARS = 10

METHOD_NAMES = {"pearson": "Pearson r", "spearman": "Spearman ρ", "cramers_v": "Cramér's V",
                "correlation_ratio": "Correlation ratio η"}
SCORE_NAMES = {"roc_auc": "ROC AUC", "balanced_accuracy": "balanced accuracy", "r2": "R²"}
PII_NAMES = {"email": "e-mail addresses", "phone": "phone numbers", "card": "card numbers",
             "national_id": "national ID numbers", "person_name": "person names",
             "free_text": "free text unique per row"}

_STYLE = (
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:70em;color:#222;line-height:1.35}"
    "h1{margin-bottom:.2em}h2{color:#1f5fa8;border-bottom:1px solid #ddd;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;"
    "vertical-align:top}th{background:#f4f4f4;font-weight:600}td.n{text-align:right;white-space:nowrap}"
    ".high{color:#b00}.medium{color:#a60}.meta td,.meta th{border:none;padding:1px 12px 1px 0;background:none}"
    ".note{color:#555;font-size:.9em;max-width:60em}section.col{margin-bottom:1.6em;display:flex;flex-wrap:wrap;"
    "gap:1.5em;align-items:flex-start}section.col h3{flex-basis:100%;margin:.2em 0}small{color:#666;font-weight:normal}"
)


@dataclass(frozen=True, slots=True)
class ReportInfo:
    """What a report says about itself: its title, what it profiles, where that came from, when."""

    title: str
    version_label: str | None = None  # "sales@3"
    source: str | None = None  # the file or database the version was imported from (no password)
    generated_at: dt.datetime | None = None

    def generated_text(self) -> str:
        return (self.generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")


def holds_text(profile: Profile) -> str:
    """What the report contains, said exactly (it is read to decide where the file may go)."""
    hidden = [c.name for c in profile.columns if c.pii or c.semantic_type == SemanticType.IDENTIFIER]
    text = ("This report holds aggregates of the data (counts, averages, quantiles, histograms, associations) "
            "and, for columns that are not personal data or identifiers, their most frequent values and extremes; "
            "it holds no whole rows.")
    if hidden:
        text += f" Values of {len(hidden)} personal-data or identifier column(s) are hidden; only their counts are shown."
    if profile.not_pii:
        text += (" Shown although they may look personal, because the user marked them as not personal data: "
                 + ", ".join(profile.not_pii) + ".")
    return text


def sampling_text(profile: Profile) -> str:
    """One wording about sampling, used by both reports."""
    rows = count(profile.row_count)
    if profile.sampled_rows:
        text = (f"Counts, averages, quantiles and histograms use all {rows} rows. Correlations use a seeded random "
                f"sample of {count(profile.sampled_rows)} rows")
    else:
        text = f"Counts, averages, quantiles, histograms and correlations use all {rows} rows"
    if profile.target:
        used = min(profile.sampled_rows or profile.row_count, TARGET_SAMPLE)
        text += f"; target associations use {'a seeded sample of ' if used < profile.row_count else ''}{count(used)} rows"
    return text + "."


def _is_hidden(c: ColumnProfile) -> bool:
    return bool(c.top_values) and all(v == REDACTED for v, _ in c.top_values)


def column_kind(c: ColumnProfile) -> str:
    """The column's kind in words: "numeric (int64)", "categorical, personal data: e-mail addresses"."""
    text = f"{c.semantic_type} ({c.storage_type})"
    if c.pii:
        text += f", personal data: {PII_NAMES.get(c.pii, str(c.pii))}"
    if c.identifier and c.identifier != "identifier":
        text += f", identifier: {c.identifier}"
    return text


def value_text(c: ColumnProfile, v: object) -> str:
    """A value of column ``c`` for people: years without separators, dates as dates, numbers rounded."""
    if c.semantic_type == SemanticType.DATETIME:
        return str(v)[:19] if v is not None else "—"
    return number(v, years=is_year_column(c.storage_type, c.stats.get("min"), c.stats.get("max")))


def column_figures(c: ColumnProfile) -> list[tuple[str, str]]:
    """The statistics of one column as (label, text) rows, in a stable reading order."""
    present = c.count - c.missing
    rows = [("Rows", count(c.count)), ("Missing values", f"{count(c.missing)} ({percent(c.missing_fraction)})"),
            ("Distinct values", count(c.distinct) + (f" ({percent(c.distinct / present)} of present)" if present else ""))]
    dated = c.semantic_type == SemanticType.DATETIME
    for key, v in c.stats.items():
        if key in COUNT_STATS:
            text = count(v)
            if key == "outliers":
                text += " (beyond 1.5 × IQR from the quartiles)"
        elif key in LENGTH_STATS:
            text = f"{number(v)} characters"
        else:
            text = value_text(c, v)
        rows.append((stat_label(key, datetime=dated), text))
    rows += [(quantile_label(k), value_text(c, v)) for k, v in c.quantiles.items()]
    return rows


def top_value_rows(c: ColumnProfile) -> list[tuple[str, int]]:
    """The most frequent values worth showing: none where every value appears once."""
    if not c.top_values or max(n for _, n in c.top_values) <= 1:
        return []
    return list(c.top_values)


def top_label(c: ColumnProfile, v: str, limit: int) -> str:
    """A most-frequent value as shown: numbers rounded like the rest, text cut with an ellipsis."""
    if c.semantic_type == SemanticType.NUMERIC and v != REDACTED:
        try:
            return value_text(c, float(v))
        except ValueError:
            pass
    return shorten(v, limit)


def column_chart(c: ColumnProfile) -> charts.Chart | None:
    """A histogram (numbers, dates) or a bar chart of the most frequent values (categories, text)."""
    counts, edges = c.histogram.get("counts"), c.histogram.get("edges")
    if counts and edges and len(edges) == len(counts) + 1:
        if c.semantic_type == SemanticType.DATETIME:
            span = edges[-1] - edges[0]
            return charts.histogram(counts, edges, x_label=f"{c.name} (UTC)", tick_text=lambda s: date_text(s, span),
                                    round_ticks=False)
        years = is_year_column(c.storage_type, c.stats.get("min"), c.stats.get("max"))
        return charts.histogram(counts, edges, x_label=c.name, tick_text=None if not years else _year_tick)
    top = top_value_rows(c)
    if not top or c.semantic_type == SemanticType.NUMERIC:
        return None
    if _is_hidden(c):
        items = [(f"hidden value {i + 1}", float(n)) for i, (_, n) in enumerate(top[:TOP_BARS])]
        return charts.bars(items, title=f"most frequent values of {c.name} (hidden: personal data)",
                           y_label="Value (hidden)")
    return charts.bars([(v, float(n)) for v, n in top[:TOP_BARS]], title=f"most frequent values of {c.name}")


def _year_tick(v: float) -> str:
    return number(v, years=True)


def association_matrix(profile: Profile, limit: int = HEATMAP_MAX) -> tuple[list[str], list[list[float]]]:
    """Column names and a symmetric matrix of association strength in [0, 1] (NaN: not measured).

    Pearson's |r| between numbers, Cramér's V between categories, η between a number and a
    category. At most ``limit`` columns: those whose strongest association is largest. They
    are ordered so that strongly associated columns sit together (each next column is the
    one most associated with the previous), which makes blocks visible at 30+ columns.
    """
    strength: dict[tuple[str, str], float] = {}
    best: dict[str, float] = {}
    for c in profile.correlations:
        if c.method == "spearman" or not math.isfinite(c.value) or c.a == c.b:
            continue
        v = abs(c.value)
        for key in ((c.a, c.b), (c.b, c.a)):
            strength[key] = max(strength.get(key, 0.0), v)
        for name in (c.a, c.b):
            best[name] = max(best.get(name, 0.0), v)
    position = {c.name: i for i, c in enumerate(profile.columns)}
    kept = sorted(best, key=lambda n: (-best[n], position.get(n, 0)))[:limit]
    names = _chain(kept, strength, position)
    matrix = [[1.0 if a == b else strength.get((a, b), math.nan) for b in names] for a in names]
    return names, matrix


def _chain(names: list[str], strength: dict[tuple[str, str], float], position: dict[str, int]) -> list[str]:
    """Greedy ordering: start at the most associated column, always step to the closest left."""
    if not names:
        return []
    left = set(names)
    order = [names[0]]
    left.discard(names[0])
    while left:
        last = order[-1]
        nxt = max(left, key=lambda n: (strength.get((last, n), 0.0), -position.get(n, 0)))
        order.append(nxt)
        left.discard(nxt)
    return order


def measured_columns(profile: Profile) -> int:
    """How many columns have at least one association measured (what the heatmap chose from)."""
    seen = {n for c in profile.correlations if c.method != "spearman" and math.isfinite(c.value) for n in (c.a, c.b)}
    return len(seen)


def heatmap_chart(profile: Profile, width: float = 560, *, hover: bool = False) -> tuple[charts.Chart, str] | None:
    """The association heatmap and the sentence that says what it shows; None under two columns."""
    names, matrix = association_matrix(profile)
    if len(names) < 2:
        return None
    total = measured_columns(profile)
    note = ("Association strength from 0 (none) to 1 (one column determines the other): |Pearson r| between "
            "numbers, Cramér's V between categories, correlation ratio η between a number and a category. "
            "Values of 0.1 and more are printed in the cells; grey: not measured.")
    if hover:
        note += " Hover a cell for its exact value."
    if total > len(names):
        note += (f" Only the {len(names)} of {total} columns with the strongest associations are drawn, "
                 "ordered so related columns sit together; the strongest pairs are listed below.")
    return charts.heatmap(names, matrix, legend="Association strength", width=width), note


def strongest_pairs(profile: Profile, n: int = 20) -> list[tuple[str, str, str, float]]:
    """The ``n`` strongest measured pairs: (column, column, measure in words, value)."""
    pairs = sorted((c for c in profile.correlations if math.isfinite(c.value)), key=lambda c: -abs(c.value))[:n]
    return [(c.a, c.b, METHOD_NAMES.get(c.method, str(c.method)), c.value) for c in pairs]


def p_value_text(p: float | None) -> str:
    """A permutation p-value for people: "<0.001" at the resolution of the test, "—" when absent."""
    if p is None or not math.isfinite(p):
        return "—"
    return "<0.001" if p < 0.001 else number(p, digits=2)


PERMUTATION_NOTE = ("Chance by luck: the share of shuffles of the target that gave the column as much mutual "
                    "information (a permutation p-value); above 0.05 the association may be noise.")


def score_text(score_name: str, value: float) -> str:
    return f"{number(value, digits=3)} ({SCORE_NAMES.get(score_name, score_name.replace('_', ' '))})"


# --- HTML --------------------------------------------------------------------------------


def render_html(profile: Profile, title: str | ReportInfo) -> str:
    """The report page for ``profile``; ``title`` is the page title or a full :class:`ReportInfo`."""
    info = title if isinstance(title, ReportInfo) else ReportInfo(title, version_label=None)
    e = html.escape
    p = profile
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(info.title)}</title>"
           f"<style>{_STYLE}</style></head><body>", f"<h1>{e(info.title)}</h1>"]
    meta = [("Dataset version", info.version_label or "—"), ("Version id", p.version_id or "—"),
            ("Source", info.source or "—"), ("Generated", f"{info.generated_text()} by Airlock"),
            ("Size", f"{count(p.row_count)} rows × {count(p.column_count)} columns"),
            ("Duplicate rows", f"{count(p.duplicate_rows)} ({percent(p.duplicate_rows / max(p.row_count, 1))})"),
            ("Size in memory", size_text(p.memory_bytes))]
    if p.target:
        meta.append(("Target", p.target))
    out.append("<table class='meta'>" + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in meta) + "</table>")
    out.append(f"<p class='note'>{e(sampling_text(p))} {e(holds_text(p))}</p>")

    out.append("<h2>Alerts</h2>")
    if p.alerts:
        out.append("<table><tr><th>Severity</th><th>Column</th><th>Alert</th></tr>")
        out += [f"<tr class='{e(a.severity)}'><td>{e(a.severity)}</td><td>{e(a.column or '—')}</td><td>{e(a.message)}</td></tr>"
                for a in p.alerts]
        out.append("</table>")
    else:
        out.append("<p>No alerts.</p>")

    if p.target:
        out.append(f"<h2>Association with the target: {e(p.target)}</h2>")
        if p.target_associations:
            perm = any(a.p_value is not None for a in p.target_associations)
            out.append("<p class='note'>Mutual information (in nats, 0 = none), and the cross-validated score of a model "
                       "that uses the column alone. A column that alone nearly predicts the target may leak it."
                       + (f" {e(PERMUTATION_NOTE)}" if perm else "") + "</p>"
                       "<table><tr><th>Column</th><th>Mutual information</th>"
                       + ("<th>Chance by luck</th>" if perm else "")
                       + "<th>Score of the column alone</th><th>Possible leakage</th></tr>")
            out += [f"<tr><td>{e(a.column)}</td><td class='n'>{e(number(a.mutual_information, digits=3))}</td>"
                    + (f"<td class='n'>{e(p_value_text(a.p_value))}</td>" if perm else "")
                    + f"<td class='n'>{e(score_text(a.score_name, a.model_score))}</td><td>{'yes' if a.leakage else ''}</td></tr>"
                    for a in p.target_associations]
            out.append("</table>")
        else:
            out.append("<p>No column could be compared with the target.</p>")

    heat = heatmap_chart(p, width=560, hover=True)
    if heat is not None:
        chart, note = heat
        out += ["<h2>Correlations</h2>", f"<p class='note'>{e(note)}</p>", charts.to_svg(chart, HTML_SCALE)]
        out.append("<table><tr><th>Column</th><th>Column</th><th>Measure</th><th>Value</th></tr>")
        out += [f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(m)}</td><td class='n'>{v:.3f}</td></tr>"
                for a, b, m, v in strongest_pairs(p, 10)]
        out.append("</table>")

    out.append("<h2>Columns</h2>")
    drawn = 0
    for c in p.columns:
        out.append(f"<section class='col'><h3>{e(c.name)} <small>{e(column_kind(c))}"
                   f"{' · ' + e(', '.join(f.replace('_', ' ') for f in c.flags)) if c.flags else ''}</small></h3>")
        out.append("<table>" + "".join(f"<tr><th>{e(k)}</th><td class='n'>{e(v)}</td></tr>" for k, v in column_figures(c))
                   + "</table>")
        top = top_value_rows(c)
        if top:
            hidden = _is_hidden(c)
            head = "Most frequent values" + (" (hidden: personal data or identifier)" if hidden else "")
            shown = sum(n for _, n in top)
            rest = c.count - c.missing - shown
            out.append(f"<table><tr><th>{e(head)}</th><th>Rows</th></tr>")
            out += [f"<tr><td>{e(top_label(c, v, 60))}</td><td class='n'>{count(n)}</td></tr>" for v, n in top]
            if rest > 0:
                out.append(f"<tr><td><i>all other values</i></td><td class='n'>{count(rest)}</td></tr>")
            out.append("</table>")
        drawing = column_chart(c) if drawn < MAX_CHARTS else None
        if drawing is not None:
            drawn += 1
            out.append(charts.to_svg(drawing, HTML_SCALE))
        out.append("</section>")
    hidden_charts = sum(1 for c in p.columns if column_chart(c) is not None) - drawn if drawn >= MAX_CHARTS else 0
    if hidden_charts > 0:
        out.append(f"<p class='note'>{hidden_charts} more charts were left out to keep this page small; "
                   "their statistics are above.</p>")
    out.append(f"<p class='note'>Airlock data profile · {e(info.title)} · generated {e(info.generated_text())}.</p>")
    out.append("</body></html>")
    return "\n".join(out)
