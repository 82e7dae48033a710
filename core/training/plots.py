"""The evidence plots as small PNG images, drawn with matplotlib's object API.

Each plot is a ``matplotlib.figure.Figure`` rendered through the Agg canvas to PNG bytes at a
low resolution (:data:`DPI`), so it can be stored as a blob, shown by the desktop and embedded
in the report. This module must never import ``matplotlib.pyplot`` (no global figure state, no
GUI backend), Qt or the store; matplotlib is imported inside the functions.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from core.training.models import (
    Calibration,
    EvidenceItem,
    PermutationImportance,
    SearchTable,
    SliceReport,
    Task,
    TrainingSpec,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from core.training.evidence import Outputs

Array = np.ndarray[Any, Any]

#: Resolution of every plot (small files; the desktop scales them).
DPI = 80
_SIZE = (5.0, 3.6)


def figure(size: tuple[float, float] = _SIZE) -> tuple[Figure, Axes]:
    """A new figure with one axes, on the Agg canvas (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def roc_curve_png(y: Array, out: Outputs) -> bytes | None:
    """ROC curve (one-vs-rest per class for multiclass); None without scores."""
    from sklearn.metrics import auc, roc_curve

    curves = _per_class(y, out)
    if not curves:
        return None
    fig, ax = figure()
    for label, truth, s in curves:
        fpr, tpr, _ = roc_curve(truth, s)
        ax.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve")
    ax.legend(loc="lower right", fontsize="small")
    return png(fig)


def pr_curve_png(y: Array, out: Outputs) -> bytes | None:
    """Precision–recall curve (one-vs-rest per class for multiclass); None without scores."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    curves = _per_class(y, out)
    if not curves:
        return None
    fig, ax = figure()
    for label, truth, s in curves:
        precision, recall, _ = precision_recall_curve(truth, s)
        ax.plot(recall, precision, label=f"{label} (AP {average_precision_score(truth, s):.3f})")
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision–recall curve", ylim=(0, 1.02))
    ax.legend(loc="lower left", fontsize="small")
    return png(fig)


def _per_class(y: Array, out: Outputs) -> list[tuple[str, Array, Array]]:
    if out.classes is None:
        return []
    if len(out.classes) == 2:
        s = out.proba[:, 1] if out.proba is not None else out.decision
        if s is None or np.ndim(s) != 1:
            return []
        return [(str(out.classes[1]), (y == out.classes[1]).astype(int), s)]
    scores = out.proba if out.proba is not None else out.decision
    if scores is None or np.ndim(scores) != 2:
        return []
    return [(str(c), (y == c).astype(int), scores[:, i]) for i, c in enumerate(out.classes)
            if 0 < (y == c).sum() < len(y)]


def confusion_png(y: Array, out: Outputs) -> bytes:
    """Confusion matrix counts (rows: true class, columns: predicted)."""
    from sklearn.metrics import confusion_matrix

    labels = out.classes if out.classes is not None else np.unique(np.concatenate([y, out.pred]))
    matrix = confusion_matrix(y, out.pred, labels=labels)
    fig, ax = figure((4.2, 3.6))
    ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, [str(v) for v in labels], rotation=45 if len(labels) > 4 else 0)
    ax.set_yticks(ticks, [str(v) for v in labels])
    limit = matrix.max() / 2 if matrix.size else 0
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > limit else "black", fontsize="small")
    ax.set(xlabel="Predicted", ylabel="True", title="Confusion matrix")
    return png(fig)


def calibration_png(item: Calibration) -> bytes:
    """Reliability curve: mean predicted probability against observed frequency per bin."""
    fig, ax = figure()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8, label="perfectly calibrated")
    ax.plot(item.mean_predicted, item.fraction_positive, marker="o", label=f"model (Brier {item.brier:.3f})")
    ax.set(xlabel="Mean predicted probability", ylabel="Observed frequency", title="Calibration", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small")
    return png(fig)


def residuals_png(y: Array, out: Outputs) -> bytes:
    """Residuals against predictions."""
    pred = np.asarray(out.pred, dtype=np.float64)
    fig, ax = figure()
    ax.scatter(pred, np.asarray(y, dtype=np.float64) - pred, s=8, alpha=0.6)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set(xlabel="Prediction", ylabel="Residual (y − prediction)", title="Residuals")
    return png(fig)


def importance_png(item: PermutationImportance, top: int = 15) -> bytes:
    """Permutation importance with its interval; uninformative features in grey."""
    rows = list(item.features[:top])[::-1]
    fig, ax = figure((5.0, max(2.0, 0.28 * len(rows) + 1.0)))
    means = [r.mean for r in rows]
    errors = [r.mean - r.ci_low for r in rows]
    colours = ["#999999" if r.uninformative else "#1f77b4" for r in rows]
    ax.barh([r.feature for r in rows], means, xerr=errors, color=colours)
    ax.axvline(0.0, color="black", linewidth=0.6)
    ax.set(xlabel=f"Drop of {item.metric} when shuffled", title="Permutation importance")
    ax.tick_params(axis="y", labelsize="small")
    return png(fig)


def slices_png(item: SliceReport, top: int = 20) -> bytes:
    """Slice metrics with intervals against the overall figure; weak slices in red (the worst first)."""
    rows = sorted(item.slices, key=lambda s: s.gap)[:top][::-1]
    fig, ax = figure((5.0, max(2.0, 0.26 * len(rows) + 1.0)))
    labels = [f"{s.column}={s.level}" for s in rows]
    lows = [s.value - (s.ci_low if s.ci_low is not None else s.value) for s in rows]
    highs = [(s.ci_high if s.ci_high is not None else s.value) - s.value for s in rows]
    colours = ["#d62728" if s.weak else "#1f77b4" for s in rows]
    ax.errorbar([s.value for s in rows], labels, xerr=[lows, highs], fmt="none", ecolor="grey", linewidth=0.8)
    ax.scatter([s.value for s in rows], labels, c=colours, s=16, zorder=3)
    ax.axvline(item.overall, color="black", linestyle="--", linewidth=0.8, label="overall")
    ax.set(xlabel=item.metric, title="Slices (worst first)")
    ax.tick_params(axis="y", labelsize="x-small")
    ax.legend(loc="lower right", fontsize="small")
    return png(fig)


def search_png(item: SearchTable) -> bytes | None:
    """Each trial's CV score in order, and the best so far."""
    scored = [(t.number, t.score) for t in item.trials if t.score is not None]
    if not scored:
        return None
    numbers = [n for n, _ in scored]
    scores = [s for _, s in scored if s is not None]
    fig, ax = figure()
    ax.scatter(numbers, scores, s=12, label="trial")
    ax.step(numbers, np.maximum.accumulate(np.asarray(scores)), where="post", color="#d62728", label="best so far")
    ax.set(xlabel="Trial", ylabel=f"CV {item.metric}", title="Search progress")
    ax.legend(loc="lower right", fontsize="small")
    return png(fig)


def all_plots(spec: TrainingSpec, y: Array, out: Outputs, items: Sequence[EvidenceItem]) -> list[tuple[str, bytes]]:
    """Every plot that applies, as ``(file name, PNG bytes)``."""
    makers: list[tuple[str, Callable[[], bytes | None]]] = []
    if spec.task != Task.REGRESSION:
        makers += [("roc.png", lambda: roc_curve_png(y, out)), ("pr.png", lambda: pr_curve_png(y, out)),
                   ("confusion.png", lambda: confusion_png(y, out))]
    else:
        makers.append(("residuals.png", lambda: residuals_png(y, out)))
    for item in items:
        if isinstance(item, Calibration):
            makers.append(("calibration.png", partial(calibration_png, item)))
        elif isinstance(item, PermutationImportance):
            makers.append(("importance.png", partial(importance_png, item)))
        elif isinstance(item, SliceReport) and item.slices:
            makers.append(("slices.png", partial(slices_png, item)))
        elif isinstance(item, SearchTable):
            makers.append(("search.png", partial(search_png, item)))
    result = []
    for name, make in makers:
        data = make()
        if data is not None:
            result.append((name, data))
    return result


__all__ = [
    "DPI", "all_plots", "calibration_png", "confusion_png", "figure", "importance_png", "png", "pr_curve_png",
    "residuals_png", "roc_curve_png", "search_png", "slices_png",
]
