"""Overhead of training through Airlock against the same search in plain scikit-learn code.

The same data (a seeded synthetic table: numeric columns with missing values and two
categorical columns), the same ColumnTransformer (median imputation + standard scaling,
most-frequent imputation + one-hot), the same candidates (``ParameterSampler`` draws with the
spec's seed, as the runner makes them), the same CV folds and the same estimators
(``core.training.pipeline.make_estimator``: plain scikit-learn classes with Airlock's fixed
settings) are run twice:

* **Airlock**: ``engine.training.run(spec)`` in a real encrypted workspace (validation,
  snapshot read, training child, smoke run, search, refit, evidence, repeat child for the
  reproducibility check, one write transaction). There is no switch to turn the evidence off,
  so the *training itself* is taken from the run's own timings: the sum of the stored
  trials' seconds (each trial's CV, measured in the child) — a partial timing, labelled so.
* **plain**: a loop in this process over the same candidates and folds (clone, fit, score)
  with a hand-written ColumnTransformer; its CV scores must equal Airlock's (checked).

The evidence pipeline is timed item by item in this process on the refitted plain pipeline
with the evidence module's own functions (holdout metrics, baselines, permutation importance,
feature cost, slices, inclusion, calibration, explanation, plots); the stored items' content
is not re-checked here (tests do that).

Run: ``.venv/bin/python benchmarks/training_overhead_bench.py [--rows 20000] [--trials 4]``.
Ratios are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSPHRASE = "benchmark passphrase"


def make_frame(rows: int, seed: int = 0) -> Any:
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=16, n_informative=8, random_state=seed)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    df.loc[rng.random(rows) < 0.03, "x0"] = np.nan
    df["region"] = rng.choice(["north", "south", "east", "west"], rows)
    df["plan"] = np.where(X[:, 0] > 0, "gold", rng.choice(["basic", "silver"], rows))
    df["target"] = y
    return df


def plain_pipeline(numeric: list[str], categorical: list[str], estimator: Any) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer([
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                  ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]),
         categorical),
    ], remainder="drop", sparse_threshold=0.0)
    return Pipeline([("preprocess", pre), ("model", estimator)])


def plain_search(spec: Any, split: Any, numeric: list[str], categorical: list[str],
                 airlock_trials: dict[int, Any]) -> tuple[float, int, tuple[float, Any]]:
    """The same candidates over the same folds in this process: seconds, CV scores unequal to Airlock's, best."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    from core.training.models import Device
    from core.training.pipeline import estimator_params, make_estimator
    from core.training.runner import candidates

    scorer = get_scorer(spec.metric)
    seconds, mismatches = 0.0, 0
    best: tuple[float, Any] | None = None
    for number, (algorithm, params) in enumerate(candidates(spec), start=1):
        stored = estimator_params(params)
        base = plain_pipeline(numeric, categorical, make_estimator(algorithm, spec.task, stored, Device.CPU, spec.seed))
        t0 = time.perf_counter()
        scores = []
        for fit_rows, val_rows in split.folds:
            model = clone(base)
            model.fit(split.X_train.iloc[fit_rows], split.y_train.iloc[fit_rows])
            scores.append(float(scorer(model, split.X_train.iloc[val_rows], split.y_train.iloc[val_rows])))
        seconds += time.perf_counter() - t0
        mean = float(np.mean(scores))
        theirs = airlock_trials.get(number)
        if theirs is None or theirs.score is None or abs(theirs.score - mean) > 1e-9:
            mismatches += 1
        if best is None or mean > best[0]:
            best = (mean, base)
    assert best is not None
    return seconds, mismatches, best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--trials", type=int, default=4, help="trials per algorithm")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2,
                        help="rounds, each an Airlock run then the plain loop (alternating, against drifting load)")
    args = parser.parse_args()

    import numpy as np
    from sklearn.base import clone

    from core.api import Engine
    from core.training import evidence as ev
    from core.training import plots
    from core.training.models import Algorithm, EvidenceKind, SearchSpec, SplitSpec, Task
    from core.training.runner import split_rows

    load = f"{os.getloadavg()[0]:.1f}"
    df = make_frame(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "bench.csv"
        df.to_csv(csv, index=False)
        engine, _ = Engine.create(folder / "w.airlock", name="Bench", passphrase=PASSPHRASE, use_keyring=False)
        try:
            version = engine.datasets.import_file(csv, name="bench").value.version
            spec = engine.training.init_spec(version.label, "target", task=Task.BINARY)
            spec = dataclasses.replace(
                spec, metric="roc_auc", algorithms=(Algorithm.LOGISTIC, Algorithm.HIST_GRADIENT_BOOSTING),
                search=SearchSpec(trials=args.trials), split=SplitSpec(cv_folds=args.folds),
                slices=("region",), sensitive=("plan",),
            )
            with engine._opened.store.read() as tx:  # the benchmark reads the snapshot it trains on
                from core.store import blobs

                parquet = bytes(blobs.read_bytes(tx, version.content_sha256))
            split = split_rows(spec, parquet)
            numeric = [c for c in spec.features if split.column_types[c].startswith(("int", "uint", "float", "double"))]
            categorical = [c for c in spec.features if c not in numeric]
            rounds: list[tuple[float, float, float, float]] = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                mv = engine.training.run(spec, model="bench").value
                airlock_run = time.perf_counter() - started
                evidence = engine.training.evidence(mv.label)
                search = evidence.item(EvidenceKind.SEARCH)
                airlock_trials = {t.number: t for t in getattr(search, "trials", ())}
                airlock_training = sum(t.seconds for t in airlock_trials.values())
                plain_training, mismatches, best = plain_search(spec, split, numeric, categorical, airlock_trials)
                rounds.append((airlock_training, plain_training, airlock_run, mv.wall_seconds))
        finally:
            engine.close()

    print(f"Data: {args.rows:,} rows × {len(spec.features)} features; {len(airlock_trials)} trials × "
          f"{args.folds} folds ({', '.join(spec.algorithms)}); load average before/after: {load}/{os.getloadavg()[0]:.1f}")
    print(f"CV scores equal between Airlock and plain code: {'yes' if not mismatches else f'NO ({mismatches} differ)'}")
    for i, (a, p, run, child) in enumerate(rounds, start=1):
        print(f"Round {i}: training itself (sum of trial CV times; Airlock's from its stored trials, partial): "
              f"Airlock {a:.2f} s, plain {p:.2f} s, ratio {a / p:.3f}×; whole Airlock run {run:.2f} s "
              f"(training child {child:.2f} s)")
    total_a, total_p = sum(r[0] for r in rounds), sum(r[1] for r in rounds)
    best_a, best_p = min(r[0] for r in rounds), min(r[1] for r in rounds)
    print(f"Training ratio over {len(rounds)} rounds: totals {total_a / total_p:.3f}×, best of each "
          f"{best_a / best_p:.3f}× (target ≤ 1.15×; rounds differ by the machine's load, see above)")
    airlock_training, plain_training, airlock_run, _ = rounds[-1]
    print(f"Whole Airlock run end to end (validate, snapshot, child, smoke, search, refit, evidence, repeat child, "
          f"store): {airlock_run:.2f} s; search share of the run {airlock_training / airlock_run:.0%}")

    final = clone(best[1]).fit(split.X_train, split.y_train)
    y_train, y_hold = np.asarray(split.y_train), np.asarray(split.y_hold)
    items: list[Any] = []
    timings: list[tuple[str, float]] = []

    def timed(name: str, fn: Any) -> Any:
        t0 = time.perf_counter()
        value = fn()
        timings.append((name, time.perf_counter() - t0))
        return value

    try:
        out = timed("model outputs on the holdout", lambda: ev.outputs(final, split.X_hold))
        items.append(timed("holdout metrics + bootstrap", lambda: ev.holdout_metrics(spec, y_hold, out, spec.seed)))
        items.append(timed("baselines", lambda: ev.baselines(spec, final, split.X_train, y_train, split.X_hold, y_hold,
                                                           out, spec.seed)))
        items.append(timed("permutation importance", lambda: ev.importance(spec, final, split.X_hold, y_hold, spec.seed)))
        items.append(timed("feature cost", lambda: ev.feature_cost(final, split.X_hold)))
        hold = split.frame_hold.reset_index(drop=True)
        items.append(timed("slices", lambda: ev.slices(spec, y_hold, out, hold, spec.seed)))
        items.append(timed("inclusion (fairlearn)", lambda: ev.inclusion(spec, y_hold, out, hold)))
        items.append(timed("calibration", lambda: ev.calibration(y_hold, out)))
        items.append(timed("explanation", lambda: ev.explain(final, split.X_hold.iloc[[0]],
                                                             background=split.X_train.iloc[:1000])))
        timed("plots", lambda: plots.all_plots(spec, y_hold, out, [i for i in items if i is not None]))
        total = sum(s for _, s in timings)
        print(f"Evidence, item by item (this process, on the refitted pipeline; {total:.2f} s in all, "
              f"{total / plain_training:.2f}× the plain training):")
        for name, s in timings:
            print(f"  {name:32s} {s:7.3f} s")
    except Exception as exc:  # the evidence functions changed: time what the run itself reports
        print(f"Evidence item by item not measured ({type(exc).__name__}: {exc}); the training child's time "
              f"outside the search: {mv.wall_seconds - airlock_training:.2f} s (smoke, refit, evidence, artefacts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
