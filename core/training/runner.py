"""The child-process side of a training run: data in, fitted pipeline, trials and evidence out.

:func:`train_in_child` runs in a fresh interpreter started by :func:`core.processes.run_in_child`
(spawn). It gets a :class:`~core.training.job.TrainingJob` (the spec and the pinned
snapshot's Parquet bytes, read and hash-checked by the parent) and returns a
:class:`~core.training.job.TrainingResult`: plain data and artefact bytes. Steps:

1. read the Parquet bytes (pyarrow, then pandas) and split them as the spec says
   (:func:`split_rows`);
2. a smoke run on ``smoke_rows`` sampled training rows (:func:`smoke_run`);
3. the search over the spec's algorithms (:func:`search`), each trial a cross-validated score
   on the training part with the spec's folds, reporting per fold and checking for cancel
   between folds; a failed trial is recorded with its error, not fatal, unless all fail;
4. the best candidate refitted on the whole training part and its holdout predictions;
5. the evidence (:func:`core.training.evidence.compute_all`, when it exists), the artefacts
   (joblib bytes of the fitted pipeline; XGBoost's native UBJ model) and the environment lock.

:func:`repeat_holdout_output` retrains the chosen candidate with the same seed on the same
split in another fresh child, for the reproducibility check the parent makes.

What this module must not do: open the workspace, write any file, or touch the network (the
parent commits everything the child returns in one write transaction).
"""

from __future__ import annotations

import io
import math
import platform
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import InvalidInput
from core.tasks import TaskContext
from core.training.compute import fit_final
from core.training.job import TrainingJob, TrainingResult
from core.training.models import (
    Algorithm,
    Device,
    EnvironmentLock,
    EvidenceItem,
    EvidenceKind,
    MetricValue,
    SearchKind,
    SmokeResult,
    SplitKind,
    Task,
    TrainingSpec,
    TrialResult,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Names of the artefacts a run stores.
PIPELINE_ARTEFACT = "pipeline.joblib"
XGBOOST_ARTEFACT = "model.ubj"
#: Confidence level of the holdout metric's interval.
CONFIDENCE = 0.95

Folds = list[tuple["np.ndarray[Any, Any]", "np.ndarray[Any, Any]"]]


@dataclass(frozen=True, slots=True)
class Split:
    """The rows of one run: training part, holdout, and the CV folds (positions in the training part)."""

    X_train: pd.DataFrame
    y_train: pd.Series[Any]
    X_hold: pd.DataFrame
    y_hold: pd.Series[Any]
    frame_hold: pd.DataFrame
    frame_train: pd.DataFrame
    folds: Folds
    column_types: dict[str, str]
    dropped_missing_target: int


# --- the entry points (run in a child) ------------------------------------------------------


def train_in_child(ctx: TaskContext, job: TrainingJob) -> TrainingResult:
    """Train the spec of ``job`` on its data; the whole run, in the child process.

    Parameters
    ----------
    ctx
        Progress (per trial and fold) and cancellation (checked between folds).
    job
        The spec, the pinned snapshot's Parquet bytes, and whether a CUDA GPU was found.

    Returns
    -------
    TrainingResult
        The chosen candidate, every trial, the holdout metric, artefacts, evidence and plots.

    Raises
    ------
    InvalidInput
        The data cannot be split as asked, the smoke run does not beat chance, every trial
        failed, or a GPU is required and none was found.
    Cancelled
        Through ``ctx``.
    """
    from core.tasks import long_work

    started = time.monotonic()
    spec = job.spec
    notes: list[str] = []
    device = _device(spec, job.gpu, notes)
    ctx.report(0.0, "Reading the data")
    with long_work():
        split = split_rows(spec, job.parquet)
        if split.dropped_missing_target:
            notes.append(f"{split.dropped_missing_target:,} rows without a value of {spec.target} were left out.")
        ctx.check()
        smoke = smoke_run(ctx.sub(0.0, 0.05), spec, split, device)
        trials, best = search(ctx.sub(0.05, 0.75), spec, split, device)
        algorithm, params = best
        ctx.report(0.75, f"Refitting {algorithm} on the whole training part")
        pipeline = _pipeline(spec, split.column_types, algorithm, params, device)
        pipeline = fit_final(spec, algorithm, pipeline, split.X_train, split.y_train)
        ctx.check()
        output = holdout_output(pipeline, split.X_hold)
        holdout = holdout_metric(spec, pipeline, split.X_hold, split.y_hold)
        items, plots = _evidence(ctx.sub(0.8, 0.97), spec, pipeline, split, trials)
        ctx.report(0.97, "Packing the artefacts")
        artefacts = _artefacts(pipeline, algorithm)
    used = device if algorithm == Algorithm.XGBOOST else Device.CPU
    if device == Device.CUDA and algorithm != Algorithm.XGBOOST:
        notes.append(f"Only XGBoost trains on the GPU; the chosen {algorithm} was trained on the CPU.")
    result = TrainingResult(
        algorithm=algorithm, params=params, trials=tuple(trials), holdout=holdout, device=used,
        wall_seconds=time.monotonic() - started, peak_memory_bytes=peak_memory_bytes(),
        environment=environment_lock(job.gpu), artefacts=artefacts, evidence=(smoke, *items), plots=plots,
        notes=tuple(notes), holdout_output=output,
    )
    ctx.report(1.0, "Trained")
    return result


def repeat_holdout_output(ctx: TaskContext, job: TrainingJob, algorithm: str, params: dict[str, object],
                          device: str) -> tuple[float, ...]:
    """Retrain ``algorithm`` with ``params`` on the same split and seed; its holdout output.

    Run in a fresh child after the main run, so the parent can compare the two outputs
    (:attr:`TrainingResult.holdout_output`): the reproducibility evidence.
    """
    from core.tasks import long_work

    ctx.report(0.0, "Training again for the reproducibility check")
    with long_work():
        split = split_rows(job.spec, job.parquet)
        pipeline = _pipeline(job.spec, split.column_types, Algorithm(algorithm), params, Device(device))
        pipeline = fit_final(job.spec, Algorithm(algorithm), pipeline, split.X_train, split.y_train)
        ctx.check()
        output = holdout_output(pipeline, split.X_hold)
    ctx.report(1.0, "Trained again")
    return output


# --- data and split -----------------------------------------------------------------------


def split_rows(spec: TrainingSpec, parquet: bytes | bytearray) -> Split:
    """Read the snapshot and cut it into training part, holdout and CV folds as ``spec.split`` says.

    ``random``: shuffled (seeded), stratified on the target for classification; folds are
    (stratified) K-fold. ``time``: rows sorted by the date column, the newest
    ``holdout_share`` are the holdout; folds are expanding windows (``TimeSeriesSplit``).
    ``group``: ``GroupShuffleSplit`` for the holdout and ``GroupKFold`` for the folds, so a
    group is never on both sides. Rows without a target value are left out.

    Raises
    ------
    InvalidInput
        Too few rows (or groups, or members of a class) for the holdout and the folds.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.model_selection import (
        GroupKFold,
        GroupShuffleSplit,
        KFold,
        StratifiedKFold,
        TimeSeriesSplit,
        train_test_split,
    )

    table = pq.ParquetFile(pa.BufferReader(parquet)).read()
    column_types = {f.name: str(f.type) for f in table.schema}
    frame = table.to_pandas()
    del table
    present = frame[spec.target].notna().to_numpy()
    dropped = int((~present).sum())
    if dropped:
        frame = frame.loc[present].reset_index(drop=True)
    sp = spec.split
    classify = spec.task != Task.REGRESSION
    n = len(frame)
    k = sp.cv_folds
    if n < max(10, 2 * k):
        raise InvalidInput(f"{spec.dataset}: {n} rows with a target value are too few to train with {k} folds.")
    positions = np.arange(n)
    y_all = frame[spec.target]
    try:
        if sp.kind == SplitKind.TIME:
            assert sp.date_column is not None
            order = np.argsort(frame[sp.date_column].to_numpy(), kind="stable")
            cut = n - max(1, int(round(n * sp.holdout_share)))
            train_pos, hold_pos = order[:cut], order[cut:]
            fold_maker: Any = TimeSeriesSplit(n_splits=k)
            fold_args: dict[str, Any] = {}
        elif sp.kind == SplitKind.GROUP:
            assert sp.group_column is not None
            groups = frame[sp.group_column].astype(str).to_numpy()
            outer = GroupShuffleSplit(n_splits=1, test_size=sp.holdout_share, random_state=spec.seed)
            train_pos, hold_pos = next(outer.split(positions, groups=groups))
            fold_maker = GroupKFold(n_splits=k)
            fold_args = {"groups": groups[train_pos]}
        else:
            stratify = y_all if classify and y_all.value_counts().min() >= 2 else None
            train_pos, hold_pos = train_test_split(
                positions, test_size=sp.holdout_share, random_state=spec.seed, shuffle=True, stratify=stratify,
            )
            if classify:
                fold_maker = StratifiedKFold(n_splits=k, shuffle=True, random_state=spec.seed)
            else:
                fold_maker = KFold(n_splits=k, shuffle=True, random_state=spec.seed)
            fold_args = {}
        train = frame.iloc[np.sort(train_pos)].reset_index(drop=True)
        hold = frame.iloc[np.sort(hold_pos)].reset_index(drop=True)
        X_train, y_train = train[list(spec.features)], train[spec.target]
        folds = [(np.asarray(a), np.asarray(b)) for a, b in fold_maker.split(X_train, y_train, **fold_args)]
    except ValueError as exc:  # too few members of a class or groups for the folds asked for
        raise InvalidInput(
            f"{spec.dataset}: the rows cannot be split as the spec asks ({sp.kind}, holdout {sp.holdout_share:.0%}, "
            f"{k} folds): {exc}. Lower cv_folds or choose another split."
        ) from None
    return Split(
        X_train=X_train, y_train=y_train, X_hold=hold[list(spec.features)], y_hold=hold[spec.target],
        frame_hold=hold, frame_train=train, folds=folds, column_types=column_types, dropped_missing_target=dropped,
    )


# --- smoke run ------------------------------------------------------------------------------


def smoke_run(ctx: TaskContext, spec: TrainingSpec, split: Split, device: Device) -> SmokeResult:
    """Fit the first algorithm on ``smoke_rows`` sampled training rows; it must beat a dummy there.

    Raises
    ------
    InvalidInput
        The pipeline fails to train or predict, or scores no better than chance on its own rows.
    """
    import numpy as np
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.metrics import get_scorer

    started = time.monotonic()
    algorithm = spec.algorithms[0]
    ctx.report(0.0, f"Smoke run: {algorithm} on {min(spec.smoke_rows, len(split.X_train)):,} rows")
    rng = np.random.default_rng(spec.seed)
    n = min(spec.smoke_rows, len(split.X_train))
    rows = np.sort(rng.choice(len(split.X_train), size=n, replace=False))
    X, y = split.X_train.iloc[rows], split.y_train.iloc[rows]
    if spec.task != Task.REGRESSION and y.nunique() < 2:
        rows = np.arange(len(split.X_train))[:n]
        X, y = split.X_train.iloc[rows], split.y_train.iloc[rows]
    scorer = get_scorer(spec.metric)
    try:
        pipeline = _pipeline(spec, split.column_types, algorithm, {}, device)
        pipeline.fit(X, y)
        pipeline.predict(X)
        score = float(scorer(pipeline, X, y))
    except Exception as exc:  # whatever the estimator raised: the spec cannot train
        raise InvalidInput(
            f"The smoke run failed: {algorithm} could not train and predict on {n:,} rows of {spec.dataset} "
            f"({type(exc).__name__}: {exc}). Check the spec's features and preprocessing."
        ) from None
    dummy = (DummyRegressor(strategy="mean") if spec.task == Task.REGRESSION
             else DummyClassifier(strategy="prior")).fit(X, y)
    chance = float(scorer(dummy, X, y))
    passed = bool(score > chance) and math.isfinite(score)
    result = SmokeResult(
        kind=EvidenceKind.SMOKE,
        method=(f"{algorithm} with default parameters fitted on {n:,} training rows sampled without replacement "
                f"(seed {spec.seed}), scored with {spec.metric} on those same rows; chance is a "
                f"{'DummyRegressor(mean)' if spec.task == Task.REGRESSION else 'DummyClassifier(prior)'} "
                "scored the same way; passed when the score is above chance"),
        algorithm=algorithm, metric=spec.metric, rows=n, score=score, chance=chance, passed=passed,
        seconds=time.monotonic() - started,
    )
    if not passed:
        raise InvalidInput(
            f"The smoke run failed: {algorithm} scored {score:.4g} ({spec.metric}) on its own {n:,} training rows, "
            f"no better than chance ({chance:.4g}). The features may not carry the target; check the spec."
        )
    ctx.report(1.0, "Smoke run passed")
    return result


# --- search -------------------------------------------------------------------------------


def candidates(spec: TrainingSpec) -> list[tuple[Algorithm, dict[str, Any]]]:
    """The (algorithm, ``model__`` parameters) pairs a grid or random search tries, in order.

    ``random``: ``ParameterSampler`` draws ``trials`` sets per algorithm (seeded); a space of
    lists only that holds fewer combinations gives them all. ``grid``: every point of
    ``ParameterGrid``, or ``trials`` of them drawn (seeded) where the grid is larger.
    An algorithm with nothing to tune gives one candidate.
    """
    import numpy as np
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    from core.training.pipeline import search_space

    out: list[tuple[Algorithm, dict[str, Any]]] = []
    for algorithm in spec.algorithms:
        space = search_space(algorithm, spec.task, spec.search.kind)
        if not space:
            out.append((algorithm, {}))
            continue
        if spec.search.kind == SearchKind.GRID:
            grid = list(ParameterGrid(space))
            if len(grid) > spec.search.trials:
                keep = np.random.default_rng(spec.seed).choice(len(grid), size=spec.search.trials, replace=False)
                grid = [grid[i] for i in sorted(keep)]
            out += [(algorithm, dict(p)) for p in grid]
            continue
        trials = spec.search.trials
        if all(isinstance(v, list) for v in space.values()):
            trials = min(trials, len(ParameterGrid(space)))
        out += [(algorithm, dict(p)) for p in ParameterSampler(space, n_iter=trials, random_state=spec.seed)]
    return out


def search(ctx: TaskContext, spec: TrainingSpec, split: Split, device: Device,
           ) -> tuple[list[TrialResult], tuple[Algorithm, dict[str, object]]]:
    """Every trial of the spec's search and the best (algorithm, estimator parameters).

    Raises
    ------
    InvalidInput
        Every trial failed (the first error is named).
    """
    from core.training.pipeline import estimator_params

    deadline = time.monotonic() + spec.search.minutes * 60 if spec.search.minutes else None
    eligible: set[int] | None = None
    trials: list[TrialResult]
    if spec.compute_kind == "dask":
        from core.training.compute import search_on_cluster

        trials = search_on_cluster(ctx, spec, split, device, deadline)
    elif spec.search.kind == SearchKind.BAYESIAN:
        trials = _bayesian(ctx, spec, split, device, deadline)
    elif spec.search.kind == SearchKind.HALVING:
        trials, eligible = _halving(ctx, spec, split, device, deadline)
    else:
        planned = candidates(spec)
        trials = []
        for number, (algorithm, params) in enumerate(planned, start=1):
            if deadline is not None and trials and time.monotonic() > deadline:
                break
            sub = ctx.sub((number - 1) / len(planned), number / len(planned))
            trials.append(cross_validate(sub, spec, split, device, number, len(planned), algorithm, params))
    scored = [t for t in trials if t.score is not None and (eligible is None or t.number in eligible)]
    if not scored:
        first = next((t.error for t in trials if t.error), "no trial ran")
        raise InvalidInput(f"Every trial of the search failed; the first: {first}")
    best = max(scored, key=lambda t: (t.score, -t.number))
    ctx.report(1.0, f"Search done: best {best.algorithm} {spec.metric} {best.score:.4g}")
    return trials, (best.algorithm, estimator_params(best.params))


def cross_validate(ctx: TaskContext, spec: TrainingSpec, split: Split, device: Device, number: int, total: int,
                   algorithm: Algorithm, params: Mapping[str, Any]) -> TrialResult:
    """One trial: the candidate's mean and sd of ``spec.metric`` over the folds of the training part.

    Reports ``trial i/n, fold k/K`` per fold and checks for cancel between folds. An error
    of the estimator makes a failed trial (its message kept), never a failed run.
    """
    import numpy as np
    from sklearn.metrics import get_scorer

    from core.errors import Cancelled
    from core.training.pipeline import estimator_params

    scorer = get_scorer(spec.metric)
    started = time.monotonic()
    scores: list[float] = []
    k = len(split.folds)
    stored = estimator_params(params)
    for fold, (fit_rows, val_rows) in enumerate(split.folds, start=1):
        ctx.check()
        ctx.report((fold - 1) / k, f"trial {number}/{total} ({algorithm}), fold {fold}/{k}")
        try:
            pipeline = _pipeline(spec, split.column_types, algorithm, stored, device)
            pipeline.fit(split.X_train.iloc[fit_rows], split.y_train.iloc[fit_rows])
            score = float(scorer(pipeline, split.X_train.iloc[val_rows], split.y_train.iloc[val_rows]))
        except Cancelled:
            raise
        except Exception as exc:  # a candidate that cannot fit is a failed trial, not a failed run
            return TrialResult(number, algorithm, stored, None, None, time.monotonic() - started,
                               error=f"{type(exc).__name__}: {exc}"[:500])
        if not math.isfinite(score):
            return TrialResult(number, algorithm, stored, None, None, time.monotonic() - started,
                               error=f"fold {fold} scored {score}")
        scores.append(score)
    ctx.report(1.0, f"trial {number}/{total} ({algorithm}): {np.mean(scores):.4g}")
    return TrialResult(number, algorithm, stored, float(np.mean(scores)), float(np.std(scores)),
                       time.monotonic() - started)


def _bayesian(ctx: TaskContext, spec: TrainingSpec, split: Split, device: Device,
              deadline: float | None) -> list[TrialResult]:
    """Optuna's TPE (seeded) over all algorithms: ``trials`` per algorithm, one study."""
    import optuna

    from core.training.pipeline import suggest_params

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    total = spec.search.trials * len(spec.algorithms)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=spec.seed))
    trials: list[TrialResult] = []

    def objective(trial: optuna.Trial) -> float:
        algorithm = (Algorithm(trial.suggest_categorical("algorithm", [str(a) for a in spec.algorithms]))
                     if len(spec.algorithms) > 1 else spec.algorithms[0])
        params = suggest_params(trial, algorithm, spec.task)
        n = len(trials) + 1
        result = cross_validate(ctx.sub((n - 1) / total, n / total), spec, split, device, n, total, algorithm, params)
        trials.append(result)
        return result.score if result.score is not None else float("nan")  # NaN: a failed trial to Optuna

    timeout = max(1.0, deadline - time.monotonic()) if deadline is not None else None
    study.optimize(objective, n_trials=total, timeout=timeout, catch=())
    return trials


def _halving(ctx: TaskContext, spec: TrainingSpec, split: Split, device: Device,
             deadline: float | None) -> tuple[list[TrialResult], set[int]]:
    """``HalvingRandomSearchCV`` per algorithm (``trials`` candidates each, seeded) on the spec's folds.

    Every candidate of every round is a trial (scored on that round's rows); the best of the
    last round is then scored on all folds of the whole training part, and only those
    trials (their numbers are returned) compete for the final choice. The fits run inside
    scikit-learn; the scorer reports each fold and checks for cancel (the parent ends a
    child that does not stop in time).
    """
    import numpy as np
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401  (enables the class)
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import HalvingRandomSearchCV

    from core.training.pipeline import estimator_params, search_space

    base = get_scorer(spec.metric)
    trials: list[TrialResult] = []
    eligible: set[int] = set()
    per = max(1, len(spec.algorithms))
    for index, algorithm in enumerate(spec.algorithms):
        if deadline is not None and trials and time.monotonic() > deadline:
            break
        ctx.check()
        sub = ctx.sub(index / per, (index + 1) / per)
        calls = [0]

        def scorer(estimator: Any, X: Any, y: Any, *, _sub: TaskContext = sub, _alg: Algorithm = algorithm,
                   _calls: list[int] = calls) -> float:
            _sub.check()
            _calls[0] += 1
            _sub.report(min(0.99, _calls[0] / (spec.search.trials * len(split.folds))),
                        f"{_alg}: successive halving, fit {_calls[0]}")
            return float(base(estimator, X, y))

        space = search_space(algorithm, spec.task, SearchKind.HALVING)
        pipeline = _pipeline(spec, split.column_types, algorithm, {}, device)
        if not space:
            untuned = cross_validate(sub, spec, split, device, len(trials) + 1, len(trials) + 1, algorithm, {})
            trials.append(untuned)
            eligible.add(untuned.number)
            continue
        min_resources = max(2 * len(split.folds) * 2, len(split.X_train) // 8)
        searcher = HalvingRandomSearchCV(
            pipeline, space, n_candidates=spec.search.trials, cv=split.folds, scoring=scorer, refit=False,
            random_state=spec.seed, error_score=np.nan, min_resources=min(min_resources, len(split.X_train)),
            n_jobs=1,
        )
        searcher.fit(split.X_train, split.y_train)
        ctx.check()
        res = searcher.cv_results_
        for i, params in enumerate(res["params"]):
            score = float(res["mean_test_score"][i])
            ok = math.isfinite(score)
            seconds = float((res["mean_fit_time"][i] + res["mean_score_time"][i]) * len(split.folds))
            stored = estimator_params(params)
            trials.append(TrialResult(
                len(trials) + 1, algorithm, stored, score if ok else None,
                float(res["std_test_score"][i]) if ok else None, seconds,
                error=None if ok else "the candidate failed to fit or score (scikit-learn's error_score)",
            ))
        # Only the last round's candidates saw the most rows: the best of the round is the best overall.
        last = int(np.max(res["iter"]))
        best_here = max((j for j in range(len(res["params"])) if res["iter"][j] == last
                         and math.isfinite(float(res["mean_test_score"][j]))),
                        key=lambda j: float(res["mean_test_score"][j]), default=None)
        if best_here is not None:
            # The best of the final round, scored again on every fold of the whole training
            # part: only such full-data scores compete across algorithms.
            rescored = cross_validate(sub, spec, split, device, len(trials) + 1, len(trials) + 1, algorithm,
                                      res["params"][best_here])
            trials.append(rescored)
            eligible.add(rescored.number)
    return trials, eligible


# --- the final model ----------------------------------------------------------------------


def _pipeline(spec: TrainingSpec, column_types: Mapping[str, str], algorithm: Algorithm,
              params: Mapping[str, object], device: Device) -> Any:
    from core.training.pipeline import build_pipeline

    return build_pipeline(spec, column_types, algorithm, params, device)


def holdout_output(pipeline: Any, X_hold: pd.DataFrame) -> tuple[float, ...]:
    """The model's numeric output on the holdout, flattened: probabilities, else decision values, else predictions."""
    import numpy as np

    for method in ("predict_proba", "decision_function", "predict"):
        if hasattr(pipeline, method):
            values = np.asarray(getattr(pipeline, method)(X_hold), dtype=np.float64)
            return tuple(float(v) for v in values.ravel())
    raise TypeError("the pipeline has no prediction method")  # pragma: no cover - every estimator predicts


def holdout_metric(spec: TrainingSpec, pipeline: Any, X_hold: pd.DataFrame, y_hold: pd.Series[Any]) -> MetricValue:
    """``spec.metric`` on the holdout with a percentile bootstrap interval over its rows.

    The model predicts once; each of ``spec.bootstrap_rounds`` resamples (seeded) is scored
    from those predictions through a replay of them, so the scorer is exactly scikit-learn's.
    Resamples a classification metric cannot score (one class only) are skipped.
    """
    import warnings

    import numpy as np
    from sklearn.metrics import get_scorer

    scorer = get_scorer(spec.metric)
    value = float(scorer(pipeline, X_hold, y_hold))
    replay = _Replay.of(pipeline, X_hold)
    y = np.asarray(y_hold)
    rng = np.random.default_rng(spec.seed)
    n = len(y)
    figures: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a resample with one class warns for some metrics
        for _ in range(spec.bootstrap_rounds):
            rows = rng.integers(0, n, size=n)
            if spec.task != Task.REGRESSION and len(np.unique(y[rows])) < 2:
                continue
            try:
                figure = float(scorer(replay, rows, y[rows]))
            except ValueError:
                continue
            if math.isfinite(figure):
                figures.append(figure)
    if len(figures) < max(10, spec.bootstrap_rounds // 2):
        return MetricValue(spec.metric, value, None, None,
                           f"{spec.metric} on {n:,} holdout rows; too few resamples could be scored for an interval")
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(figures, [alpha, 1 - alpha])
    return MetricValue(
        spec.metric, value, float(low), float(high),
        f"{spec.metric} on {n:,} holdout rows; percentile bootstrap, {len(figures)} of {spec.bootstrap_rounds} "
        f"resamples of the holdout rows scored (seed {spec.seed}), {CONFIDENCE:.0%}",
    )


class _Replay:
    """Stands in for a fitted model: answers each prediction method with the stored outputs of the rows asked for.

    Scorers receive row positions as ``X``; the class looks like the model to scikit-learn
    (``classes_``, its estimator type, the same prediction methods).
    """

    def __init__(self, outputs: dict[str, Any], classes: Any, estimator_type: str) -> None:
        self._outputs = outputs
        self.classes_ = classes
        self._estimator_type = estimator_type

    @classmethod
    def of(cls, pipeline: Any, X: Any) -> Any:
        from sklearn.base import is_classifier

        outputs = {m: getattr(pipeline, m)(X) for m in ("predict", "predict_proba", "decision_function")
                   if hasattr(pipeline, m)}
        classifier = is_classifier(pipeline)
        return _replay_class(set(outputs), classifier)(outputs, getattr(pipeline, "classes_", None),
                                                       "classifier" if classifier else "regressor")

    def fit(self, X: Any, y: Any) -> _Replay:  # pragma: no cover - never refitted
        return self


def _replay_class(methods: set[str], classifier: bool) -> Callable[..., Any]:
    """A :class:`_Replay` subclass with exactly the prediction methods the real model has."""
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    mixin: Any = ClassifierMixin if classifier else RegressorMixin
    body: dict[str, Any] = {}
    for method in methods:
        def answer(self: Any, rows: Any, _m: str = method) -> Any:
            return self._outputs[_m][rows]
        answer.__name__ = answer.__qualname__ = method  # scorers look methods up by their name
        body[method] = answer
    return type("ReplayedModel", (_Replay, mixin, BaseEstimator), body)


def _evidence(ctx: TaskContext, spec: TrainingSpec, pipeline: Any, split: Split, trials: list[TrialResult],
              ) -> tuple[tuple[EvidenceItem, ...], tuple[tuple[str, bytes], ...]]:
    """Every evidence item and plot (:func:`core.training.evidence.compute_all`).

    The whole frames of both parts go along, so the staleness curve can use the split's date
    column even when it is not a feature.
    """
    from core.training.evidence import compute_all

    items, plots = compute_all(ctx, spec, pipeline, split.X_train, split.y_train, split.X_hold, split.y_hold,
                               tuple(trials), frame_hold=split.frame_hold, frame_train=split.frame_train,
                               seed=spec.seed)
    return tuple(items), tuple(plots)


def _artefacts(pipeline: Any, algorithm: Algorithm) -> tuple[tuple[str, bytes], ...]:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    out = [(PIPELINE_ARTEFACT, buffer.getvalue())]
    if algorithm == Algorithm.XGBOOST:
        from core.training.pipeline import MODEL_STEP

        booster = pipeline.named_steps[MODEL_STEP].get_booster()
        out.append((XGBOOST_ARTEFACT, bytes(booster.save_raw("ubj"))))
    return tuple(out)


# --- device and environment -----------------------------------------------------------------


def _device(spec: TrainingSpec, gpu: bool, notes: list[str]) -> Device:
    if spec.compute_kind != "gpu":
        return Device.CPU
    if gpu:
        return Device.CUDA
    if spec.allow_cpu_fallback:
        notes.append("No CUDA GPU was found: trained on the CPU (the spec allows the fallback).")
        return Device.CPU
    raise InvalidInput("The spec asks for compute = \"gpu\" but no CUDA GPU was found here; set "
                       "allow_cpu_fallback = true to train on the CPU, or compute = \"cpu\".")


def peak_memory_bytes() -> int:
    """This process's peak resident memory (``getrusage``; Linux reports KiB, macOS bytes)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def environment_lock(gpu: bool) -> EnvironmentLock:
    """Python, OS, CPU model, GPU name (where one was found) and every installed distribution's version."""
    from importlib import metadata

    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.name
        if name:
            packages.setdefault(str(name).lower().replace("_", "-"), str(dist.version))
    return EnvironmentLock(
        python=platform.python_version(), platform=platform.platform(), cpu=_cpu_model(),
        gpu=_gpu_name() if gpu else None, packages=tuple(sorted(packages.items())),
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(("model name", "Hardware", "Processor")):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu_name() -> str | None:
    import glob

    for path in sorted(glob.glob("/proc/driver/nvidia/gpus/*/information")):
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("Model:"):
                        return line.partition(":")[2].strip()
        except OSError:
            continue
    import shutil
    import subprocess

    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0] if out else None


__all__ = [
    "PIPELINE_ARTEFACT", "XGBOOST_ARTEFACT", "Split", "candidates", "cross_validate", "environment_lock",
    "holdout_metric", "holdout_output", "peak_memory_bytes", "repeat_holdout_output", "search", "smoke_run",
    "score_in_child", "split_rows", "train_in_child",
]


def score_in_child(ctx: TaskContext, pipeline_bytes: bytes, sha256: str, rows_parquet: bytes) -> list[object]:
    """Load a stored pipeline and predict ``rows``; run in a child, whose answer must be plain data.

    The parent read ``pipeline_bytes`` from a hash-checked blob; the hash is checked again
    here, before ``joblib.load`` (unpickling runs code), so only the bytes the workspace
    recorded are ever loaded, and only in this child.

    Raises
    ------
    IntegrityError
        The bytes do not hash to ``sha256``.
    """
    import hashlib

    import joblib
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.errors import IntegrityError

    if hashlib.sha256(pipeline_bytes).hexdigest() != sha256:
        raise IntegrityError(f"The pipeline artefact does not match its hash {sha256[:12]}…: it was not loaded.")
    ctx.report(0.0, "Loading the model")
    pipeline = joblib.load(io.BytesIO(pipeline_bytes))
    frame = pq.ParquetFile(pa.BufferReader(rows_parquet)).read().to_pandas()
    ctx.check()
    predictions = pipeline.predict(frame)
    ctx.report(1.0, "Scored")
    return [p.item() if hasattr(p, "item") else p for p in predictions]
