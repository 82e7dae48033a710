"""XGBoost on the GPU against the CPU: ``hist`` with ``device="cuda"`` vs ``device="cpu"``, same parameters.

Trains the same model on the same synthetic binary problem (default 10,000,000 rows x 30
float32 features, a nonlinear signal with label noise, seeded) once per device, timing the
fit alone (the data is built before either clock starts; a small warm-up fit on each device
first, so CUDA's start-up is not counted), and prints the seconds of each and the ratio
CPU / GPU first. Target: >= 10x. Where ``nvidia-smi`` finds no CUDA GPU it prints "not
measured: no CUDA GPU" and exits 0. Never asserted in tests.

    .venv/bin/python benchmarks/gpu_bench.py [--rows 10000000] [--cols 30] [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

TARGET = 10.0


def _data(rows: int, cols: int, seed: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, cols), dtype=np.float32)
    signal = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + 0.5 * X[:, 3] ** 2 - X[:, 4]
    y = (signal + rng.standard_normal(rows, dtype=np.float32) > 0.5).astype(np.float32)
    return X, y


def _fit_seconds(X: Any, y: Any, device: str, rounds: int, threads: int) -> tuple[float, float]:
    """Seconds of ``xgboost.train`` on ``device`` and the model's training log-loss (same parameters)."""
    import xgboost

    params = {"objective": "binary:logistic", "tree_method": "hist", "device": device, "max_depth": 8,
              "eta": 0.1, "max_bin": 256, "subsample": 1.0, "seed": 0, "nthread": threads,
              "eval_metric": "logloss"}
    dtrain = xgboost.QuantileDMatrix(X, label=y, max_bin=256)  # built before the clock; moving it to the GPU counts
    small = xgboost.QuantileDMatrix(X[:10_000], label=y[:10_000], max_bin=256)
    xgboost.train(params, small, num_boost_round=2)  # warm-up: CUDA context, thread pool
    history: dict[str, Any] = {}
    started = time.perf_counter()
    xgboost.train(params, dtrain, num_boost_round=rounds, evals=[(dtrain, "train")], evals_result=history,
                  verbose_eval=False)
    seconds = time.perf_counter() - started
    return seconds, float(history["train"]["logloss"][-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cols", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads (default: all)")
    args = parser.parse_args(argv)

    from core.training.compute import gpu_info

    gpu = gpu_info()
    if gpu is None:
        print("not measured: no CUDA GPU (nvidia-smi absent or finds none)")
        return 0
    import xgboost

    print(f"GPU: {gpu.summary}; xgboost {xgboost.__version__}; CPU threads {args.threads}")
    print(f"data: {args.rows:,} rows x {args.cols} float32 features, {args.rounds} rounds, max_depth 8, hist")
    X, y = _data(args.rows, args.cols, seed=0)
    gpu_s, gpu_loss = _fit_seconds(X, y, "cuda", args.rounds, args.threads)
    cpu_s, cpu_loss = _fit_seconds(X, y, "cpu", args.rounds, args.threads)
    ratio = cpu_s / gpu_s
    print(f"ratio CPU/GPU: {ratio:.1f}x (target >= {TARGET:.0f}x: {'met' if ratio >= TARGET else 'not met'})")
    print(f"  cpu  hist: {cpu_s:8.2f} s   train logloss {cpu_loss:.5f}")
    print(f"  cuda hist: {gpu_s:8.2f} s   train logloss {gpu_loss:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
