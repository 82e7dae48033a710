"""Quality for the time spent: Airlock's default search against FLAML and untuned HistGradientBoosting.

On tabular datasets that ship inside packages (no download): scikit-learn's breast_cancer,
wine, iris, digits and diabetes, and statsmodels' fair (any affair: binary), anes96 (vote:
binary) and randhie (doctor visits: regression). statsmodels and FLAML live only in the
benchmark's own environment, ``benchmarks/.venv-peer`` (``python3.11 -m venv
benchmarks/.venv-peer && benchmarks/.venv-peer/bin/pip install "flaml[automl]"
scikit-learn==1.9.1 statsmodels``); it writes the statsmodels tables as CSV and runs FLAML.

For each dataset: the CSV is imported into a real encrypted workspace, ``train init`` writes
the default spec (every algorithm for the task, random search, the task's default metric),
its search gets a budget of ``--budget`` seconds (``search.minutes``), and
``engine.training.run`` trains it. Its split (``core.training.runner.split_rows``: the same
holdout rows and training part) is given to the others: FLAML's ``AutoML.fit`` with
``time_budget=--budget`` and the same metric, and ``HistGradientBoosting*`` with its defaults.
Every holdout figure is computed here with scikit-learn's scorer functions on the same holdout
rows (Airlock's is the one it stores, computed the same way). Nothing is asserted.

Run: ``.venv/bin/python benchmarks/training_quality_bench.py [--budget 20] [--only wine,iris]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PEER = ROOT / "benchmarks" / ".venv-peer" / "bin" / "python"
PASSPHRASE = "benchmark passphrase"

#: (name, source, target column, task)
DATASETS = (
    ("breast_cancer", "sklearn", "target", "binary"),
    ("wine", "sklearn", "target", "multiclass"),
    ("iris", "sklearn", "target", "multiclass"),
    ("digits", "sklearn", "target", "multiclass"),
    ("diabetes", "sklearn", "target", "regression"),
    ("fair", "statsmodels", "affair", "binary"),
    ("anes96", "statsmodels", "vote", "binary"),
    ("randhie", "statsmodels", "mdvis", "regression"),
)

_STATSMODELS = """
import sys, statsmodels.api as sm
name, out = sys.argv[1], sys.argv[2]
df = getattr(sm.datasets, name).load_pandas().data
if name == "fair":
    df["affair"] = (df.pop("affairs") > 0).astype(int)
if name == "anes96":
    df = df.drop(columns=["logpopul"])  # the log of popul, a copy
df.to_csv(out, index=False)
"""

_FLAML = """
import json, sys, pandas as pd
from flaml import AutoML
args = json.loads(sys.argv[1])
train, hold = pd.read_csv(args["train"]), pd.read_csv(args["hold"])
y = train.pop(args["target"]); hold = hold.drop(columns=[args["target"]])
automl = AutoML()
automl.fit(train, y, task=args["task"], metric=args["metric"], time_budget=args["budget"], seed=0, verbose=0)
if args["task"] == "classification":
    out = {"proba": automl.predict_proba(hold).tolist(), "classes": [str(c) for c in automl.classes_],
           "pred": [str(p) for p in automl.predict(hold)]}
else:
    out = {"pred": [float(p) for p in automl.predict(hold)]}
out["best"] = str(automl.best_estimator)
json.dump(out, open(args["out"], "w"))
"""

FLAML_METRIC = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "r2"}


def frame(name: str, source: str, folder: Path) -> Path:
    path = folder / f"{name}.csv"
    if source == "sklearn":
        from tests.core.data import real_data

        real_data.write_csv(name, folder)
    else:
        subprocess.run([str(PEER), "-c", _STATSMODELS, name, str(path)], check=True)
    return path


def holdout_score(metric: str, y: Any, pred: Any, proba: Any, classes: list[str]) -> float:
    import numpy as np
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    if metric == "roc_auc":
        positive = classes.index(str(np.unique(y.astype(str))[-1]))
        return float(roc_auc_score(y.astype(str) == classes[positive], np.asarray(proba)[:, positive]))
    if metric == "f1_macro":
        return float(f1_score(y.astype(str), np.asarray(pred).astype(str), average="macro"))
    return float(r2_score(y, pred))


def untuned(task: str, X: Any, y: Any, X_hold: Any) -> tuple[Any, Any, list[str]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "regression":
        model: Any = HistGradientBoostingRegressor(random_state=0).fit(X, y)
        return model.predict(X_hold), None, []
    model = HistGradientBoostingClassifier(random_state=0).fit(X, y.astype(str))
    return model.predict(X_hold), model.predict_proba(X_hold), [str(c) for c in model.classes_]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of search per dataset and contender")
    parser.add_argument("--only", default="", help="comma-separated dataset names")
    args = parser.parse_args()
    if not PEER.exists():
        print(f"{PEER} is missing: make the benchmark's environment first (see the module docstring).")
        return 2

    from core.api import Engine, SearchSpec, Task
    from core.store import blobs
    from core.training.runner import split_rows

    chosen = [d for d in DATASETS if not args.only or d[0] in args.only.split(",")]
    rows: list[tuple[str, str, str, float, float, float, str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        engine, _ = Engine.create(folder / "w.airlock", name="Bench", passphrase=PASSPHRASE, use_keyring=False)
        try:
            for name, source, target, task in chosen:
                csv = frame(name, source, folder)
                version = engine.datasets.import_file(csv, name=name).value.version
                spec = engine.training.init_spec(version.label, target, task=Task(task))
                spec = dataclasses.replace(spec, search=SearchSpec(kind=spec.search.kind, trials=spec.search.trials,
                                                                   minutes=args.budget / 60))
                started = time.perf_counter()
                mv = engine.training.run(spec, model=name).value
                airlock_s = time.perf_counter() - started
                with engine._opened.store.read() as tx:  # the benchmark reuses the snapshot's split
                    parquet = bytes(blobs.read_bytes(tx, version.content_sha256))
                split = split_rows(spec, parquet)
                y_hold = split.y_hold.to_numpy()
                pred, proba, classes = untuned(task, split.X_train, split.y_train, split.X_hold)
                hgb = holdout_score(spec.metric, y_hold, pred, proba, classes)

                train_csv, hold_csv, out_json = folder / "train.csv", folder / "hold.csv", folder / "flaml.json"
                split.X_train.assign(**{target: split.y_train.to_numpy()}).to_csv(train_csv, index=False)
                split.X_hold.assign(**{target: y_hold}).to_csv(hold_csv, index=False)
                job = {"train": str(train_csv), "hold": str(hold_csv), "target": target, "out": str(out_json),
                       "task": "regression" if task == "regression" else "classification",
                       "metric": FLAML_METRIC[task], "budget": args.budget}
                subprocess.run([str(PEER), "-c", _FLAML, json.dumps(job)], check=True)
                got = json.loads(out_json.read_text())
                flaml = holdout_score(spec.metric, y_hold, got["pred"], got.get("proba"), got.get("classes", []))
                rows.append((name, task, spec.metric, mv.holdout.value, flaml, hgb,
                             f"{mv.algorithm} / {got['best']}", airlock_s))
                print(f"{name}: Airlock {mv.holdout.value:.4f} ({mv.algorithm}, run {airlock_s:.0f} s), "
                      f"FLAML {flaml:.4f} ({got['best']}), untuned HGB {hgb:.4f}", flush=True)
        finally:
            engine.close()

    print(f"\nHoldout figure per dataset (search budget {args.budget:g} s each; greater is better)")
    print(f"{'dataset':14s} {'task':11s} {'metric':9s} {'Airlock':>8s} {'FLAML':>8s} {'HGB':>8s} "
          f"{'vs FLAML':>9s} {'≥ HGB':>6s}  chosen (Airlock / FLAML)")
    within = not_worse = 0
    for name, task, metric, a, f, h, best, _ in rows:
        rel = (a - f) / abs(f) if f else 0.0
        within += rel >= -0.01
        not_worse += a >= h - 1e-12
        print(f"{name:14s} {task:11s} {metric:9s} {a:8.4f} {f:8.4f} {h:8.4f} {rel:+9.2%} "
              f"{'yes' if a >= h - 1e-12 else 'NO':>6s}  {best}")
    print(f"Within 1% of FLAML or better: {within} of {len(rows)}; not worse than untuned HGB: "
          f"{not_worse} of {len(rows)} (targets: most; all)")
    print("Airlock's run time includes its evidence and the reproducibility child; the budget bounds only its search.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
