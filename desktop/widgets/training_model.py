"""The model view of the Training page: one model version, its evidence and its plots.

:func:`evidence_sections` turns a :class:`~core.api.ModelVersion` and its
:class:`~core.api.Evidence` into titled HTML sections, one per thing a reviewer asks (how good,
against what baseline, where weak, for whom, reproducible, ageing, which inputs matter); a kind
the version's evidence lacks reads "not computed". :class:`ModelView` shows the sections in one
scrolling text view with the stored plots (PNG bytes) drawn between them. Display only: no
engine calls, and every figure shown is one core stored.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QPixmap, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from core.api import (
    Baselines,
    Calibration,
    CrossValidation,
    Evidence,
    EvidenceItem,
    EvidenceKind,
    Explanation,
    FeatureCost,
    HoldoutMetrics,
    Inclusion,
    MetricValue,
    ModelVersion,
    PermutationImportance,
    ReproducibilityResult,
    Residuals,
    SearchTable,
    SliceReport,
    SmokeResult,
    Staleness,
    size_text,
)
from desktop.pages.workspace import short_time

NOT_COMPUTED = "not computed"
WEAK_BG = "#fde0e0"
_e = html.escape


def num(value: float | None, digits: int = 4) -> str:
    """A figure with ``digits`` significant digits; an em dash for None."""
    return "—" if value is None else f"{value:.{digits}g}"


def params_text(params: dict[str, object]) -> str:
    """``name=value`` pairs, floats to 4 significant digits; "defaults" when there are none."""
    return ", ".join(f"{k}={num(p) if isinstance(p, float) else p}" for k, p in sorted(params.items())) or "defaults"


def metric_text(m: MetricValue) -> str:
    ci = f" (95% CI {num(m.ci_low)} – {num(m.ci_high)})" if m.ci_low is not None and m.ci_high is not None else ""
    return f"<b>{_e(m.name)}</b> {num(m.value)}{ci}"


def table(headers: list[str], rows: list[list[str]], row_styles: list[str] | None = None) -> str:
    """An HTML table; ``row_styles[i]`` is the i-th row's CSS (weak slices get a red background)."""
    head = "".join(f"<th align='left' style='padding:2px 8px'>{_e(h)}</th>" for h in headers)
    body = ""
    for i, row in enumerate(rows):
        style = row_styles[i] if row_styles else ""
        body += f"<tr style='{style}'>" + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in row) + "</tr>"
    return f"<table cellspacing='0' border='1' style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"


def method(item: EvidenceItem) -> str:
    return f"<p style='color:#666'><i>How: {_e(item.method)}</i></p>"


def _summary(v: ModelVersion) -> str:
    params = _e(params_text(v.params))
    rows = [
        ("Model version", f"<b>{_e(v.label)}</b> (id {_e(v.id[:12])})"),
        ("Trained on", f"{_e(v.dataset)} (SHA-256 {_e(v.dataset_sha256[:12])}…)"),
        ("Algorithm", f"{_e(str(v.algorithm))} — {params}"),
        ("Holdout", metric_text(v.holdout)),
        ("Device, seed", f"{_e(str(v.device))}, seed {v.seed}"),
        ("Cost", f"{v.wall_seconds:.1f} s, peak memory {_e(size_text(v.peak_memory_bytes))}"),
        ("Created", f"{_e(short_time(v.created_at))} by {_e(v.created_by)}"),
        ("Spec", f"<code>{_e(v.spec_hash[:16])}…</code>"),
    ]
    return "<table>" + "".join(f"<tr><td style='color:#555;padding-right:10px'>{k}</td><td>{t}</td></tr>"
                               for k, t in rows) + "</table>"


def _metrics(item: HoldoutMetrics) -> str:
    rows = [[_e(m.name), num(m.value), num(m.ci_low), num(m.ci_high)] for m in item.metrics]
    return (f"<p>{item.rows:,} holdout rows, {item.bootstrap_rounds} bootstrap resamples.</p>"
            + table(["Metric", "Value", "CI low", "CI high"], rows) + method(item))


def _baselines(item: Baselines) -> str:
    rows = [[_e(b.name), _e(b.description), num(b.score), num(b.margin),
             f"{num(b.margin_ci_low)} – {num(b.margin_ci_high)}", "✔ beaten" if b.beaten else "✖ not beaten"]
            for b in item.baselines]
    styles = ["" if b.beaten else f"background:{WEAK_BG}" for b in item.baselines]
    return (f"<p>The model scores {num(item.model_score)} ({_e(item.metric)}).</p>"
            + table(["Baseline", "What", "Score", "Margin", "Margin CI", ""], rows, styles) + method(item))


def _cv(item: CrossValidation) -> str:
    return (f"<p>{_e(item.metric)}: {num(item.mean)} ± {num(item.sd)} over {item.folds} folds "
            f"(trial {item.trial}, {_e(str(item.algorithm))}).</p>" + method(item))


def _search(item: SearchTable) -> str:
    rows = [[str(t.number), _e(str(t.algorithm)), num(t.score), num(t.score_sd), f"{t.seconds:.1f}",
             _e(t.error or ", ".join(f"{k}={p}" for k, p in t.params.items()))] for t in item.trials]
    styles = ["font-weight:bold" if t.number == item.chosen_trial else "" for t in item.trials]
    return (f"<p>{len(item.trials)} trials; chosen: trial {item.chosen_trial} ({_e(str(item.chosen_algorithm))}).</p>"
            + table(["Trial", "Algorithm", "CV score", "sd", "Seconds", "Parameters / error"], rows, styles)
            + method(item))


def _slices(item: SliceReport) -> str:
    weak = item.weak
    rows = [[_e(s.column), _e(s.level), "declared" if s.declared else "found", f"{s.rows:,}", num(s.value),
             f"{num(s.ci_low)} – {num(s.ci_high)}", num(s.gap), "⚠ weak" if s.weak else ""] for s in item.slices]
    styles = [f"background:{WEAK_BG}" if s.weak else "" for s in item.slices]
    head = (f"<p><b style='color:#b00020'>{len(weak)} weak slice{'s' if len(weak) != 1 else ''}</b> "
            f"(more than {item.weak_slice_gap:g} below the overall {num(item.overall)}, interval excluding it)."
            if weak else f"<p>No weak slice (overall {num(item.overall)}, gap threshold {item.weak_slice_gap:g}).")
    skipped = f"<p style='color:#8a5a00'>Skipped: {_e('; '.join(item.skipped))}</p>" if item.skipped else ""
    return (head + "</p>" + table(["Column", "Level", "", "Rows", _e(item.metric), "CI", "Gap", ""], rows, styles)
            + skipped + method(item))


def _inclusion(item: Inclusion) -> str:
    parts = []
    for a in item.attributes:
        rows = [[_e(g.group), f"{g.rows:,}", num(g.selection_rate), num(g.false_positive_rate),
                 num(g.false_negative_rate), num(g.accuracy), num(g.mean_absolute_error)] for g in a.groups]
        parts.append(f"<p><b>{_e(a.attribute)}</b>: demographic parity difference "
                     f"{num(a.demographic_parity_difference)}, equalized odds difference {num(a.equalized_odds_difference)}</p>"
                     + table(["Group", "Rows", "Selection rate", "FPR", "FNR", "Accuracy", "MAE"], rows))
    return "".join(parts) + method(item)


def _reproducibility(item: ReproducibilityResult) -> str:
    verdict = ("✔ identical, bit for bit" if item.identical else
               f"✔ within tolerance {item.tolerance:g}" if item.passed else "✖ not reproducible")
    color = "#1b5e20" if item.passed else "#b00020"
    return (f"<p><b style='color:{color}'>{verdict}</b>: {item.compared:,} numbers compared, largest difference "
            f"{num(item.max_abs_difference)}.</p>" + method(item))


def _staleness(item: Staleness) -> str:
    rows = [[_e(w.start), _e(w.end), f"{w.age_days:.0f}", f"{w.rows:,}", num(w.value)] for w in item.windows]
    return (f"<p>Trained on {item.trained_rows:,} rows up to {_e(item.trained_until)} (by {_e(item.date_column)}), "
            f"scored on newer windows.</p>" + table(["From", "To", "Age (days)", "Rows", _e(item.metric)], rows)
            + method(item))


def _importance(item: PermutationImportance) -> str:
    rows = [[_e(f.feature), num(f.mean), num(f.sd), f"{num(f.ci_low)} – {num(f.ci_high)}",
             "no evidence it matters" if f.uninformative else ""] for f in item.features]
    return (f"<p>Mean drop of {_e(item.metric)} when a column is shuffled ({item.repeats} repeats).</p>"
            + table(["Feature", "Drop", "sd", "CI", ""], rows) + method(item))


def _feature_cost(item: FeatureCost) -> str:
    rows = [[_e(f.feature), str(f.transformed_columns), f"{f.seconds * 1000:.1f} ms", f"{f.time_share:.0%}",
             _e(size_text(f.bytes)), f"{f.memory_share:.0%}"] for f in item.features]
    return (f"<p>Scoring {item.rows:,} rows took {item.scoring_seconds:.3f} s.</p>"
            + table(["Feature", "Columns", "Time", "Share", "Memory", "Share"], rows) + method(item))


def _calibration(item: Calibration) -> str:
    rows = [[num(p), num(f), f"{n:,}"] for p, f, n in zip(item.mean_predicted, item.fraction_positive, item.counts,
                                                          strict=False)]
    return (f"<p>Brier score {num(item.brier)}" + (f" (positive class {_e(item.positive_label)})"
                                                   if item.positive_label else "") + ".</p>"
            + table(["Mean predicted", "Fraction positive", "Rows"], rows) + method(item))


def _residuals(item: Residuals) -> str:
    quantiles = ", ".join(f"{q:g}: {num(v)}" for q, v in item.quantiles)
    return f"<p>Mean {num(item.mean)}, sd {num(item.sd)}; quantiles {_e(quantiles)}.</p>" + method(item)


def _smoke(item: SmokeResult) -> str:
    verdict = "✔ passed" if item.passed else "✖ failed"
    return (f"<p>{verdict}: {_e(str(item.algorithm))} on {item.rows:,} rows scored {num(item.score)} "
            f"against chance {num(item.chance)} ({_e(item.metric)}), {item.seconds:.1f} s.</p>" + method(item))


def _explanation(item: Explanation) -> str:
    top = sorted(item.contributions, key=lambda c: abs(c.contribution), reverse=True)[:10]
    rows = [[_e(c.feature), _e(c.source), num(c.value), num(c.contribution)] for c in top]
    return (f"<p>Row {item.row}: predicted {_e(item.predicted)} ({_e(item.output_kind)} {num(item.output)}, "
            f"base {num(item.base_value)}).</p>" + table(["Feature", "From", "Value", "Contribution"], rows)
            + method(item))


#: The sections in reading order: title, evidence kind, renderer.
SECTIONS: tuple[tuple[str, EvidenceKind, Callable[[Any], str]], ...] = (
    ("Holdout metrics", EvidenceKind.HOLDOUT_METRICS, _metrics),
    ("Against baselines", EvidenceKind.BASELINES, _baselines),
    ("Cross-validation", EvidenceKind.CV, _cv),
    ("Slices", EvidenceKind.SLICES, _slices),
    ("Inclusion (fairness)", EvidenceKind.FAIRNESS, _inclusion),
    ("Reproducibility", EvidenceKind.REPRODUCIBILITY, _reproducibility),
    ("Staleness", EvidenceKind.STALENESS, _staleness),
    ("Feature importance", EvidenceKind.IMPORTANCE, _importance),
    ("Feature cost", EvidenceKind.FEATURE_COST, _feature_cost),
    ("Calibration", EvidenceKind.CALIBRATION, _calibration),
    ("Residuals", EvidenceKind.RESIDUALS, _residuals),
    ("Search", EvidenceKind.SEARCH, _search),
    ("Smoke run", EvidenceKind.SMOKE, _smoke),
    ("Explanation of one row", EvidenceKind.EXPLANATION, _explanation),
)


def evidence_sections(version: ModelVersion, evidence: Evidence | None) -> list[tuple[str, str]]:
    """``(title, html)`` for the summary and every evidence kind; a missing kind says "not computed"."""
    out = [("Summary", _summary(version))]
    for title, kind, render in SECTIONS:
        item = evidence.item(kind) if evidence is not None else None
        body = render(item) if item is not None else f"<p style='color:#8a5a00'>{NOT_COMPUTED}</p>"
        out.append((title, body))
    return out


class ModelView(QWidget):
    """One model version's summary, evidence sections and plots, in one scrolling view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.sections: list[tuple[str, str]] = []
        self.pixmaps: dict[str, QPixmap] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser)
        self.set_message("Choose a model version to see how it was made and how good it is.")

    def set_message(self, text: str) -> None:
        self.sections, self.pixmaps = [], {}
        self.browser.setHtml(f"<p style='color:#555'>{_e(text)}</p>")

    def set_version(self, version: ModelVersion, evidence: Evidence | None,
                    plots: list[tuple[str, bytes]]) -> None:
        """Show ``version`` with its ``evidence`` and ``plots`` (``(name, PNG bytes)``)."""
        self.sections = evidence_sections(version, evidence)
        self.pixmaps = {}
        doc = self.browser.document()
        cells = []
        for name, png in plots:
            image = QImage.fromData(png)
            if image.isNull():
                continue
            self.pixmaps[name] = QPixmap.fromImage(image)
            url = f"plot:{name}"
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(url), image)
            title = name.rsplit(".", 1)[0].replace("_", " ")
            cells.append(f"<td valign='top'><b>{_e(title)}</b><br><img src='{_e(url)}' width='{min(image.width(), 420)}'></td>")
        rows = "".join("<tr>" + "".join(cells[i:i + 2]) + "</tr>" for i in range(0, len(cells), 2))
        plot_html = f"<table cellspacing='8'>{rows}</table>" if cells else f"<p style='color:#8a5a00'>{NOT_COMPUTED}</p>"
        titled = [*self.sections, ("Plots", plot_html)]
        links = " · ".join(f"<a href='#s{i}'>{_e(t)}</a>" for i, (t, _) in enumerate(titled) if i)
        parts = [f"<p>Jump to: {links}</p>"]
        parts += [f"<h3><a name='s{i}'></a>{_e(t)}</h3>{b}" for i, (t, b) in enumerate(titled)]
        self.browser.setHtml("".join(parts))

    def section(self, title: str) -> str:
        """The HTML of section ``title`` (empty when there is none)."""
        return next((b for t, b in self.sections if t == title), "")
