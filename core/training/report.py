"""A model version's report for a reviewer who was not there, and its HTML page.

:func:`build_report` turns a model version, its stored evidence, its plots and (when known)
its spec into a :class:`ModelReport`: sections of plain blocks (paragraphs, label/value
facts, tables, figures) that say what was trained on what, how it was chosen, how good it
is, where it is weak, and whether it reproduces. Every figure is shown with the method that
produced it (each evidence item's ``method``). :func:`render_html` writes that report as one
self-contained page (inline CSS, plots as base64 PNG ``data:`` images, nothing fetched);
:mod:`core.training.report_pdf` lays out the same blocks with ReportLab, so both say the same.

Text that comes from the data (column names, slice levels, class labels) is escaped where it
is written. The report holds aggregates only: the explained holdout row's feature values are
left out (feature names and contributions are kept). This module must not read the store or
write files: the service does that, audited (:mod:`core.store.exports`).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.reports.display import count, number, percent, size_text
from core.training.models import (
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
    TrainingSpec,
    TrialResult,
)

#: Section titles, in order (the PDF bookmarks them; tests look for them).
SECTIONS = (
    "Summary", "What was trained on what", "How it was chosen", "How good it is", "Where it is weak",
    "Reproducibility and smoke run", "Explaining one prediction", "About this report",
)
#: Rows shown of the long tables (the search, slices, importance, feature cost).
MAX_TRIALS = 15
MAX_SLICES = 25
MAX_FEATURES = 30
MAX_CONTRIBUTIONS = 12
MAX_SKIPPED = 6
MAX_COST_ROWS = 15
#: Packages named in the environment facts (the full list is in *About this report*).
KEY_PACKAGES = ("scikit-learn", "xgboost", "numpy", "pandas", "scipy", "pyarrow", "joblib", "fairlearn", "optuna")

METRIC_NAMES = {
    "roc_auc": "ROC AUC", "average_precision": "average precision", "neg_log_loss": "log loss (negated)",
    "neg_brier_score": "Brier score (negated)", "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
    "f1": "F1", "precision": "precision", "recall": "recall", "f1_macro": "F1 (macro average)",
    "f1_weighted": "F1 (weighted average)", "roc_auc_ovr": "ROC AUC (one vs rest)",
    "roc_auc_ovr_weighted": "ROC AUC (one vs rest, weighted)", "roc_auc_ovo": "ROC AUC (one vs one)",
    "r2": "R²", "neg_root_mean_squared_error": "RMSE (negated)", "neg_mean_squared_error": "MSE (negated)",
    "neg_mean_absolute_error": "MAE (negated)", "neg_median_absolute_error": "median absolute error (negated)",
    "explained_variance": "explained variance",
}

#: Plot names (as the evidence stores them) by the section they belong in; others go to *How good it is*.
_PLOT_SECTIONS = (("search", "How it was chosen"), ("importance", "Where it is weak"), ("slice", "Where it is weak"),
                  ("fair", "Where it is weak"), ("stale", "Where it is weak"))


# --- the report as blocks ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph; ``note`` paragraphs are small print (methods, what was left out)."""

    text: str
    note: bool = False
    warn: bool = False


@dataclass(frozen=True, slots=True)
class Facts:
    """Label/value pairs read top to bottom."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Grid:
    """A table: header, rows of text, which columns are numbers, which rows are flagged (weak)."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[int, ...] = ()
    flagged: tuple[int, ...] = ()
    widths: tuple[float, ...] = ()  # shares of the page width (PDF); even when empty


@dataclass(frozen=True, slots=True)
class Figure:
    """A plot the evidence drew (PNG bytes) with its caption."""

    name: str
    title: str
    png: bytes

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels, read from the PNG header ((0, 0) when it is not a PNG)."""
        if len(self.png) >= 24 and self.png[:8] == b"\x89PNG\r\n\x1a\n":
            w, h = struct.unpack(">II", self.png[16:24])
            return int(w), int(h)
        return 0, 0


Block = Para | Facts | Grid | Figure


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class ModelReport:
    """The whole report: title, generation time, sections in :data:`SECTIONS` order."""

    title: str
    generated: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


# --- wording helpers ---------------------------------------------------------------------

#: Below this a figure is rounding noise of a difference (``-3.3e-17``) and reads as 0.
NOISE = 1e-12
#: Captions of the plots the evidence draws, by file stem.
PLOT_TITLES = {
    "roc": "ROC curve (holdout)", "pr": "Precision–recall curve (holdout)", "confusion": "Confusion matrix (holdout)",
    "search": "Search progress: CV score per trial and best so far", "importance": "Permutation importance (holdout)",
    "slices": "Metric per slice (holdout)", "calibration": "Reliability curve (holdout)",
    "residuals": "Residuals against prediction (holdout)", "staleness": "Quality against age",
}


def num(v: object, digits: int = 4) -> str:
    """:func:`core.reports.display.number`, with rounding noise around zero read as 0."""
    if isinstance(v, float) and abs(v) < NOISE:
        v = 0.0
    return number(v, digits=digits)


def metric_label(name: str) -> str:
    """A scorer name for people: ``roc_auc`` → "ROC AUC"."""
    return METRIC_NAMES.get(name, name.replace("_", " "))


def interval_text(low: float | None, high: float | None) -> str:
    """``"0.95 to 0.99"``, or "—" when no interval was computed."""
    if low is None or high is None:
        return "—"
    return f"{num(low)} to {num(high)}"


def metric_text(m: MetricValue) -> str:
    """A metric with its interval: ``"0.9876 (95% interval 0.97 to 0.99)"``."""
    if m.ci_low is None or m.ci_high is None:
        return num(m.value)
    return f"{num(m.value)} (interval {interval_text(m.ci_low, m.ci_high)})"


def seconds_text(s: float) -> str:
    """A duration: ``"0.42 s"``, ``"3 min 12 s"``."""
    if not math.isfinite(s):
        return "—"
    if s < 120:
        return f"{num(s, digits=3)} s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes} min {rest} s"


def params_text(params: dict[str, object]) -> str:
    """Parameters as ``name = value`` pairs, sorted by name; "defaults" when empty."""
    if not params:
        return "the estimator's defaults"
    return ", ".join(f"{k} = {num(v) if isinstance(v, float) else v}" for k, v in sorted(params.items()))


def _method(item: EvidenceItem) -> Para:
    return Para(f"Method: {item.method}", note=True)


def _plot_title(name: str) -> str:
    stem = name.rsplit(".", 1)[0]
    if stem in PLOT_TITLES:
        return PLOT_TITLES[stem]
    words = stem.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _plot_section(name: str) -> str:
    low = name.lower()
    return next((section for key, section in _PLOT_SECTIONS if key in low), "How good it is")


def _find(evidence: Evidence, kind: EvidenceKind, cls: type[EvidenceItem]) -> EvidenceItem | None:
    item = evidence.item(kind)
    return item if isinstance(item, cls) else None


_RATES = (("Selection rate", "selection_rate"), ("False positive rate", "false_positive_rate"),
          ("False negative rate", "false_negative_rate"), ("Accuracy", "accuracy"),
          ("Mean absolute error", "mean_absolute_error"))


# --- building ----------------------------------------------------------------------------


def build_report(version: ModelVersion, evidence: Evidence, plots: Sequence[tuple[str, bytes]], *,
                 spec: TrainingSpec | None = None, generated_at: dt.datetime | None = None) -> ModelReport:
    """The report of ``version`` from its evidence, plots and (when known) its spec.

    Parameters
    ----------
    version
        The model version (lineage, chosen candidate, holdout figure, environment).
    evidence
        Its stored evidence items; a missing item is said to be missing, never invented.
    plots
        ``(name, PNG bytes)`` as the evidence drew them.
    spec
        The spec the version was trained from (features, exclusions, split, search); None
        when it is not available, which the report says.
    generated_at
        When the report is generated (now by default; fixed in tests).
    """
    generated = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    figures: dict[str, list[Figure]] = {}
    for name, png in plots:
        figures.setdefault(_plot_section(name), []).append(Figure(name, _plot_title(name), bytes(png)))
    builders = (_summary, _lineage, _chosen, _quality, _weak, _reproducibility, _explanation)
    sections = [Section(title, tuple(build(version, evidence, spec)) + tuple(figures.get(title, ())))
                for title, build in zip(SECTIONS, builders, strict=False)]
    sections.append(Section(SECTIONS[-1], tuple(_about(version, generated))))
    return ModelReport(f"Model report: {version.label}", generated, tuple(sections))


def _summary(v: ModelVersion, ev: Evidence, spec: TrainingSpec | None) -> list[Block]:
    out: list[Block] = []
    task = f" ({spec.task})" if spec else ""
    target = f"predicts {spec.target}{task} " if spec else ""
    out.append(Para(f"{v.label} {target}with {v.algorithm}, chosen by {metric_label(v.metric)} "
                    f"on data {v.dataset}. Holdout {metric_label(v.metric)}: {metric_text(v.holdout)}."))
    facts = [
        ("Model version", f"{v.label} (id {v.id})"), ("Trained by", f"{v.created_by} at {v.created_at}"),
        ("Algorithm", str(v.algorithm)), ("Parameters", params_text(v.params)),
        ("Optimised metric", metric_label(v.metric)),
        ("Holdout figure", metric_text(v.holdout)),
        ("Device", str(v.device)), ("Seed", str(v.seed)),
        ("Wall time", f"{seconds_text(v.wall_seconds)} (whole run in the training child, monotonic clock)"),
        ("Peak memory", f"{size_text(v.peak_memory_bytes)} (the training child's peak resident memory, getrusage)"),
    ]
    out.append(Facts(tuple(facts)))
    out.append(Para(f"Method of the holdout figure: {v.holdout.method}", note=True))
    verdicts = _verdicts(v, ev)
    if verdicts:
        out.append(Para("At a glance: " + " ".join(verdicts)))
    return out


def _verdicts(v: ModelVersion, ev: Evidence) -> list[str]:
    said: list[str] = []
    base = _find(ev, EvidenceKind.BASELINES, Baselines)
    if isinstance(base, Baselines):
        for b in base.baselines:
            said.append(f"{'Beats' if b.beaten else 'Does not clearly beat'} the {b.name} baseline "
                        f"(margin {num(b.margin)}, interval {interval_text(b.margin_ci_low, b.margin_ci_high)}).")
    sl = _find(ev, EvidenceKind.SLICES, SliceReport)
    if isinstance(sl, SliceReport):
        said.append(f"{len(sl.weak)} weak slice{'s' if len(sl.weak) != 1 else ''} of {len(sl.slices)} scored.")
    imp = _find(ev, EvidenceKind.IMPORTANCE, PermutationImportance)
    if isinstance(imp, PermutationImportance):
        n = sum(f.uninformative for f in imp.features)
        said.append(f"{n} of {len(imp.features)} features show no evidence of being needed.")
    rep = _find(ev, EvidenceKind.REPRODUCIBILITY, ReproducibilityResult)
    if isinstance(rep, ReproducibilityResult):
        said.append("Reproduced " + ("identically." if rep.identical else
                                     "within tolerance." if rep.passed else "NOT within tolerance."))
    return said


def _lineage(v: ModelVersion, ev: Evidence, spec: TrainingSpec | None) -> list[Block]:
    out: list[Block] = [Facts((
        ("Dataset version", f"{v.dataset} (id {v.dataset_version_id})"),
        ("Content hash (SHA-256)", v.dataset_sha256),
        ("Spec hash (SHA-256)", f"{v.spec_hash} (of the spec's canonical JSON, RFC 8785)"),
    ))]
    if spec is None:
        out.append(Para("The spec itself was not available to this report: features, exclusions, split and search "
                        "settings are not shown.", note=True, warn=True))
    else:
        pre = spec.preprocessing
        out.append(Facts((
            ("Target", spec.target), ("Task", str(spec.task)),
            ("Features used", f"{len(spec.features)}: " + ", ".join(spec.features)),
            ("Preprocessing", f"numeric: {pre.numeric_imputation} imputation, {pre.scaling} scaling; categorical: "
                              f"{pre.categorical_imputation} imputation, {pre.encoding} encoding (over "
                              f"{pre.high_cardinality_threshold} levels: {pre.high_cardinality_encoding}); dates: "
                              + ", ".join(pre.datetime_parts)),
            ("Split", f"{spec.split.kind}; holdout {percent(spec.split.holdout_share)} of the rows; "
                      f"{spec.split.cv_folds}-fold cross-validation on the rest"
                      + (f"; by date column {spec.split.date_column}" if spec.split.date_column else "")
                      + (f"; grouped by {spec.split.group_column}" if spec.split.group_column else "")),
            ("Candidates", ", ".join(spec.algorithms)),
            ("Search", f"{spec.search.kind}, {spec.search.trials} trials per algorithm"
                       + (f", at most {num(spec.search.minutes)} minutes" if spec.search.minutes else "")),
            ("Compute", spec.compute + (" (CPU fallback allowed)" if spec.allow_cpu_fallback else "")),
        )))
        if spec.excluded:
            out.append(Grid("Columns left out", ("Column", "Reason"),
                            tuple((e.column, e.reason) for e in spec.excluded), widths=(0.3, 0.7)))
        else:
            out.append(Para("No column was left out."))
    env = v.environment
    versions = dict(env.packages)
    key = ", ".join(f"{p} {versions[p]}" for p in KEY_PACKAGES if p in versions)
    out.append(Facts((
        ("Python", env.python), ("Platform", env.platform), ("CPU", env.cpu), ("GPU", env.gpu or "none found"),
        ("Key packages", key or "—"),
        ("Installed packages", f"{len(env.packages)} (listed in About this report)"),
    )))
    if v.artefacts:
        out.append(Grid("Stored artefacts (encrypted blobs; loaded only after their hash checks out)",
                        ("Artefact", "SHA-256"), tuple((n, s) for n, s in v.artefacts), widths=(0.25, 0.75)))
    return out


def _trial_row(t: TrialResult, chosen: int | None) -> tuple[str, ...]:
    score = "failed" if t.score is None else num(t.score)
    sd = "—" if t.score_sd is None else num(t.score_sd)
    return (str(t.number) + (" (chosen)" if t.number == chosen else ""), str(t.algorithm), score, sd,
            seconds_text(t.seconds), t.error or params_text(t.params))


def _chosen(v: ModelVersion, ev: Evidence, spec: TrainingSpec | None) -> list[Block]:
    out: list[Block] = []
    search = _find(ev, EvidenceKind.SEARCH, SearchTable)
    if isinstance(search, SearchTable):
        done = [t for t in search.trials if t.score is not None]
        failed = len(search.trials) - len(done)
        out.append(Para(f"{len(search.trials)} trials ({failed} failed), scored by mean cross-validated "
                        f"{metric_label(search.metric)} on the training part (greater is better). Chosen: "
                        f"{search.chosen_algorithm}, trial {search.chosen_trial if search.chosen_trial is not None else '—'}, "
                        f"with {params_text(search.chosen_params)}."))
        best: dict[str, TrialResult] = {}
        for t in done:
            if t.score is not None and (t.algorithm not in best or t.score > (best[t.algorithm].score or -math.inf)):
                best[t.algorithm] = t
        heads = ("Algorithm", "Trials", "Best CV score", "SD over folds", "Time (all trials)")
        out.append(Grid("Best trial per algorithm", heads,
                        tuple((str(a), str(sum(1 for t in search.trials if t.algorithm == a)), num(t.score),
                               num(t.score_sd), seconds_text(sum(x.seconds for x in search.trials if x.algorithm == a)))
                              for a, t in sorted(best.items(), key=lambda kv: -(kv[1].score or -math.inf))),
                        numeric=(1, 2, 3, 4), widths=(0.3, 0.1, 0.2, 0.2, 0.2)))
        ranked = sorted(search.trials, key=lambda t: -(t.score if t.score is not None else -math.inf))
        shown = ranked[:MAX_TRIALS]
        out.append(Grid(f"Trials, best first ({len(shown)} of {len(search.trials)} shown)",
                        ("Trial", "Algorithm", "CV score", "SD", "Time", "Parameters"),
                        tuple(_trial_row(t, search.chosen_trial) for t in shown), numeric=(2, 3, 4),
                        flagged=tuple(i for i, t in enumerate(shown) if t.number == search.chosen_trial),
                        widths=(0.09, 0.15, 0.1, 0.08, 0.08, 0.5)))
        out.append(_method(search))
    else:
        out.append(Para("No search table was stored with this version.", warn=True))
    cv = _find(ev, EvidenceKind.CV, CrossValidation)
    if isinstance(cv, CrossValidation):
        out.append(Para(f"Cross-validation of the chosen candidate: {metric_label(cv.metric)} {num(cv.mean)} ± "
                        f"{num(cv.sd)} (mean ± standard deviation over {cv.folds} folds, trial {cv.trial})."))
        out.append(_method(cv))
    return out


def _quality(v: ModelVersion, ev: Evidence, spec: TrainingSpec | None) -> list[Block]:
    out: list[Block] = []
    hold = _find(ev, EvidenceKind.HOLDOUT_METRICS, HoldoutMetrics)
    if isinstance(hold, HoldoutMetrics):
        out.append(Para(f"On {count(hold.rows)} holdout rows the model never saw while it was trained or chosen; "
                        f"intervals from {count(hold.bootstrap_rounds)} bootstrap resamples (seed {hold.seed})."))
        methods = {m.method for m in hold.metrics}
        one = len(methods) == 1
        rows = tuple((metric_label(m.name) + (" (optimised)" if m.name == hold.metric else ""), num(m.value),
                      interval_text(m.ci_low, m.ci_high)) + (() if one else (m.method,)) for m in hold.metrics)
        out.append(Grid("Holdout metrics", ("Metric", "Value", "Interval") + (() if one else ("Method",)), rows,
                        numeric=(1, 2), widths=(0.4, 0.25, 0.35) if one else (0.25, 0.12, 0.2, 0.43)))
        if one:
            out.append(Para(f"Interval of every metric: {methods.pop()}", note=True))
        out.append(_method(hold))
    else:
        out.append(Para(f"Only the optimised metric was stored: {metric_label(v.metric)} {metric_text(v.holdout)}. "
                        f"Method: {v.holdout.method}"))
    base = _find(ev, EvidenceKind.BASELINES, Baselines)
    if isinstance(base, Baselines):
        out.append(Grid(f"Baselines on the same split ({metric_label(base.metric)}; the model scores "
                        f"{num(base.model_score)})", ("Baseline", "Score", "Margin of the model", "Margin interval", "Beaten"),
                        tuple((f"{b.name}: {b.description}", num(b.score), num(b.margin),
                               interval_text(b.margin_ci_low, b.margin_ci_high), "yes" if b.beaten else "NO")
                              for b in base.baselines), numeric=(1, 2, 3),
                        flagged=tuple(i for i, b in enumerate(base.baselines) if not b.beaten),
                        widths=(0.4, 0.12, 0.16, 0.2, 0.12)))
        out.append(_method(base))
    cal = _find(ev, EvidenceKind.CALIBRATION, Calibration)
    if isinstance(cal, Calibration):
        label = f" of class {cal.positive_label}" if cal.positive_label is not None else ""
        out.append(Para(f"Calibration{label}: Brier score {num(cal.brier)} (0 is perfect); reliability in "
                        f"{cal.bins} equal-width probability bins (non-empty bins shown)."))
        out.append(Grid("Reliability", ("Mean predicted probability", "Observed share positive", "Rows"),
                        tuple((num(p), num(f), count(n)) for p, f, n in
                              zip(cal.mean_predicted, cal.fraction_positive, cal.counts, strict=False)),
                        numeric=(0, 1, 2), widths=(0.35, 0.35, 0.3)))
        out.append(_method(cal))
    res = _find(ev, EvidenceKind.RESIDUALS, Residuals)
    if isinstance(res, Residuals):
        q = ", ".join(f"{percent(p)}: {num(val)}" for p, val in res.quantiles)
        out.append(Para(f"Residuals (observed minus predicted) on the holdout: mean {num(res.mean)}, standard "
                        f"deviation {num(res.sd)}; quantiles {q}."))
        out.append(Grid("Residuals by predicted value", ("Predicted from", "to", "Rows", "Mean residual", "SD"),
                        tuple((num(b.low), num(b.high), count(b.rows), num(b.mean_residual), num(b.sd_residual))
                              for b in res.bins), numeric=(0, 1, 2, 3, 4)))
        out.append(_method(res))
    return out


def _weak(v: ModelVersion, ev: Evidence, spec: TrainingSpec | None) -> list[Block]:
    out: list[Block] = []
    sl = _find(ev, EvidenceKind.SLICES, SliceReport)
    if isinstance(sl, SliceReport):
        out.append(Para(f"{metric_label(sl.metric)} on slices of the holdout (overall {num(sl.overall)}). A slice "
                        f"is weak when it is more than {num(sl.weak_slice_gap)} below the overall figure and its "
                        f"interval excludes the overall value; slices under {sl.min_rows} rows are not scored. "
                        f"{len(sl.weak)} of {len(sl.slices)} slices are weak."))
        ordered = sorted(sl.slices, key=lambda s: (not s.weak, s.gap))[:MAX_SLICES]
        out.append(Grid(f"Slices, weak and worst first ({len(ordered)} of {len(sl.slices)} shown)",
                        ("Column", "Level", "Declared", "Rows", "Value", "Interval", "Gap", "Weak"),
                        tuple((s.column, s.level, "yes" if s.declared else "found", count(s.rows), num(s.value),
                               interval_text(s.ci_low, s.ci_high), num(s.gap), "WEAK" if s.weak else "")
                              for s in ordered), numeric=(3, 4, 5, 6),
                        flagged=tuple(i for i, s in enumerate(ordered) if s.weak),
                        widths=(0.16, 0.2, 0.09, 0.08, 0.1, 0.18, 0.1, 0.09)))
        if sl.skipped:
            listed = "; ".join(sl.skipped[:MAX_SKIPPED])
            more = f"; and {len(sl.skipped) - MAX_SKIPPED} more" if len(sl.skipped) > MAX_SKIPPED else ""
            out.append(Para(f"{len(sl.skipped)} slice(s) not scored: {listed}{more}.", note=True))
        out.append(_method(sl))
    fair = _find(ev, EvidenceKind.FAIRNESS, Inclusion)
    if isinstance(fair, Inclusion):
        pos = f" (positive class {fair.positive_label})" if fair.positive_label is not None else ""
        out.append(Para(f"Inclusion for {len(fair.attributes)} sensitive attribute(s){pos}, computed with fairlearn "
                        "on the holdout."))
        for a in fair.attributes:
            rates = [(name, [getattr(g, attr) for g in a.groups]) for name, attr in _RATES]
            rates = [(name, values) for name, values in rates if any(x is not None for x in values)]
            out.append(Grid(f"{a.attribute}: demographic-parity difference {num(a.demographic_parity_difference)}, "
                            f"equalised-odds difference {num(a.equalized_odds_difference)}",
                            ("Group", "Rows", *(name for name, _ in rates)),
                            tuple((g.group, count(g.rows), *(num(values[i]) for _, values in rates))
                                  for i, g in enumerate(a.groups)), numeric=tuple(range(1, len(rates) + 2))))
        out.append(_method(fair))
    elif spec is not None and not spec.sensitive:
        out.append(Para("Inclusion was not evaluated: the spec names no sensitive attribute.", note=True, warn=True))
    imp = _find(ev, EvidenceKind.IMPORTANCE, PermutationImportance)
    if isinstance(imp, PermutationImportance):
        flagged = [f.feature for f in imp.features if f.uninformative]
        out.append(Para(f"Permutation importance on the holdout: the drop in {metric_label(imp.metric)} when a "
                        f"column is shuffled, {imp.repeats} shuffles each. {len(flagged)} feature(s) have an interval "
                        "that reaches zero (no evidence the model needs them)"
                        + (": " + ", ".join(flagged[:40]) + ("…" if len(flagged) > 40 else "") if flagged else "") + "."))
        shown = imp.features[:MAX_FEATURES]
        out.append(Grid(f"Importance, most important first ({len(shown)} of {len(imp.features)} shown)",
                        ("Feature", "Mean drop", "SD", "Interval", "Needed?"),
                        tuple((f.feature, num(f.mean), num(f.sd), interval_text(f.ci_low, f.ci_high),
                               "no evidence" if f.uninformative else "yes") for f in shown),
                        numeric=(1, 2, 3), flagged=tuple(i for i, f in enumerate(shown) if f.uninformative),
                        widths=(0.35, 0.15, 0.12, 0.23, 0.15)))
        out.append(_method(imp))
    cost = _find(ev, EvidenceKind.FEATURE_COST, FeatureCost)
    if isinstance(cost, FeatureCost):
        rows = sorted(cost.features, key=lambda r: -r.time_share)[:MAX_COST_ROWS]
        out.append(Grid(f"Feature cost at scoring time ({count(cost.rows)} rows scored in "
                        f"{seconds_text(cost.scoring_seconds)})",
                        ("Feature", "Transformed columns", "Time", "Share of time", "Memory", "Share of memory"),
                        tuple((r.feature, count(r.transformed_columns), seconds_text(r.seconds), percent(r.time_share),
                               size_text(r.bytes), percent(r.memory_share)) for r in rows),
                        numeric=(1, 2, 3, 4, 5), widths=(0.3, 0.14, 0.14, 0.14, 0.14, 0.14)))
        out.append(_method(cost))
    stale = _find(ev, EvidenceKind.STALENESS, Staleness)
    if isinstance(stale, Staleness):
        out.append(Para(f"Staleness: trained on the {count(stale.trained_rows)} oldest rows (up to {stale.trained_until} "
                        f"by {stale.date_column}), then scored on successively newer windows."))
        out.append(Grid(f"{metric_label(stale.metric)} against age", ("From", "To", "Age (days)", "Rows", "Value"),
                        tuple((w.start, w.end, num(w.age_days), count(w.rows), num(w.value)) for w in stale.windows),
                        numeric=(2, 3, 4)))
        out.append(_method(stale))
    else:
        out.append(Para("Staleness was not measured: the data has no date column to order it by.", note=True))
    return out


def _reproducibility(v: ModelVersion, ev: Evidence, spec: TrainingSpec | None) -> list[Block]:
    out: list[Block] = []
    rep = _find(ev, EvidenceKind.REPRODUCIBILITY, ReproducibilityResult)
    if isinstance(rep, ReproducibilityResult):
        verdict = ("identical, bit for bit" if rep.identical else
                   "within tolerance" if rep.passed else "NOT within tolerance")
        out.append(Para(f"Trained again in a fresh process on the same data with seed {v.seed}: the "
                        f"{count(rep.compared)} holdout outputs are {verdict} (largest absolute difference "
                        f"{num(rep.max_abs_difference)}, tolerance {num(rep.tolerance)}).", warn=not rep.passed))
        out.append(_method(rep))
    else:
        out.append(Para("No reproducibility check was stored with this version.", warn=True))
    smoke = _find(ev, EvidenceKind.SMOKE, SmokeResult)
    if isinstance(smoke, SmokeResult):
        out.append(Para(f"Smoke run before the full run: {smoke.algorithm} on {count(smoke.rows)} rows scored "
                        f"{metric_label(smoke.metric)} {num(smoke.score)} against chance {num(smoke.chance)} "
                        f"({'passed' if smoke.passed else 'FAILED'}, {seconds_text(smoke.seconds)}).",
                        warn=not smoke.passed))
        out.append(_method(smoke))
    else:
        out.append(Para("No smoke run was stored with this version.", warn=True))
    return out


def _explanation(v: ModelVersion, ev: Evidence, spec: TrainingSpec | None) -> list[Block]:
    ex = _find(ev, EvidenceKind.EXPLANATION, Explanation)
    if not isinstance(ex, Explanation):
        return [Para("No explanation was stored with this version.", note=True)]
    top = sorted(ex.contributions, key=lambda c: -abs(c.contribution))[:MAX_CONTRIBUTIONS]
    base = f"; base value {num(ex.base_value)} plus the contributions gives the output" if ex.base_value is not None else ""
    return [
        Para(f"Holdout row {ex.row} was predicted {ex.predicted} ({ex.output_kind} {num(ex.output)}{base}). "
             f"The {len(top)} largest of {len(ex.contributions)} contributions by size:"),
        Grid("Contributions", ("Transformed feature", "From column", "Contribution"),
             tuple((c.feature, c.source, num(c.contribution)) for c in top), numeric=(2,), widths=(0.45, 0.35, 0.2)),
        Para("The row's feature values are not shown: they are data, and this report holds aggregates only. "
             "Any holdout row can be explained in Airlock itself.", note=True),
        _method(ex),
    ]


def _about(v: ModelVersion, generated: str) -> list[Block]:
    packages = "; ".join(f"{n} {ver}" for n, ver in v.environment.packages)
    return [
        Para("This report holds the model's lineage, its figures and aggregates of its predictions on the holdout "
             "rows (metrics, slice figures by level of a column, group rates), the names of the data's columns and "
             "the levels of slice and sensitive columns; it holds no whole rows. It was generated from the evidence "
             f"stored with the model version on {generated} by Airlock; nothing in it is fetched from elsewhere.",
             note=True),
        Para(f"Model version format {v.format_version}. Every installed package of the training environment "
             f"({len(v.environment.packages)}): {packages or '—'}.", note=True),
    ]


# --- HTML --------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:72em;color:#222;line-height:1.35}"
    "h1{margin-bottom:.2em}h2{color:#1f5fa8;border-bottom:1px solid #ddd;margin-top:1.6em}h3{font-size:1em;margin:.8em 0 .2em}"
    "table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;"
    "vertical-align:top}th{background:#f4f4f4;font-weight:600}td.n{text-align:right;white-space:nowrap}"
    "tr.flag td{background:#fdecea}.facts td,.facts th{border:none;padding:1px 12px 1px 0;background:none}"
    ".note{color:#555;font-size:.9em;max-width:62em}.warn{color:#a00}"
    "figure{display:inline-block;margin:.5em 1em .5em 0}figure img{max-width:32em;height:auto}"
    "figcaption{font-size:.9em;color:#555}.hash{font-family:monospace;font-size:.9em;word-break:break-all}"
)


def _html_block(b: Block) -> str:
    e = html.escape
    if isinstance(b, Para):
        cls = " ".join(c for c, on in (("note", b.note), ("warn", b.warn)) if on)
        attr = f" class='{cls}'" if cls else ""
        return f"<p{attr}>{e(b.text)}</p>"
    if isinstance(b, Facts):
        rows = "".join(f"<tr><th>{e(k)}</th><td{' class=hash' if 'SHA-256' in k else ''}>{e(val)}</td></tr>"
                       for k, val in b.rows)
        return f"<table class='facts'>{rows}</table>"
    if isinstance(b, Grid):
        head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
        body = []
        for i, row in enumerate(b.rows):
            cells = "".join(f"<td{' class=n' if j in b.numeric else ''}>{e(c)}</td>" for j, c in enumerate(row))
            body.append(f"<tr{' class=flag' if i in b.flagged else ''}>{cells}</tr>")
        return f"<h3>{e(b.title)}</h3><table><tr>{head}</tr>{''.join(body)}</table>"
    data = base64.b64encode(b.png).decode("ascii")
    return (f"<figure><img alt='{e(b.title, quote=True)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{e(b.title)}</figcaption></figure>")


def report_html(report: ModelReport) -> str:
    """The page of an already built :class:`ModelReport`."""
    e = html.escape
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(report.title)}</title>"
           f"<style>{_STYLE}</style></head><body><h1>{e(report.title)}</h1>"
           f"<p class='note'>Generated {e(report.generated)} by Airlock.</p>"]
    for s in report.sections:
        out.append(f"<section><h2>{e(s.title)}</h2>")
        out += [_html_block(b) for b in s.blocks]
        out.append("</section>")
    out.append(f"<p class='note'>Airlock model report · {e(report.title)} · generated {e(report.generated)}.</p>"
               "</body></html>")
    return "\n".join(out)


def render_html(version: ModelVersion, evidence: Evidence, plots: Sequence[tuple[str, bytes]], *,
                spec: TrainingSpec | None = None, generated_at: dt.datetime | None = None) -> str:
    """The model report as one self-contained HTML page (see :func:`build_report` for the arguments)."""
    return report_html(build_report(version, evidence, plots, spec=spec, generated_at=generated_at))


__all__ = ["SECTIONS", "Facts", "Figure", "Grid", "ModelReport", "Para", "Section", "build_report",
           "metric_label", "render_html", "report_html"]
