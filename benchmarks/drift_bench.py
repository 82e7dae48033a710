"""Drift between two 1M-row versions of a dataset (30 columns), through the dataset service.

Two generated tables (different seeds; the second shifted on a third of its numeric
columns) are imported as versions 1 and 2 of one dataset (not timed), then
``engine.datasets.drift("bench@1", "bench@2")`` is timed in a child process: both snapshots
read from the encrypted store, PSI, KS / chi-square, Wasserstein / Jensen–Shannon on every
column, Benjamini–Hochberg.

Target: < 5 s.
Run: .venv/bin/python benchmarks/drift_bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from profile_bench import PASSPHRASE, child, data_files

SETUP = """
from core.api import Engine
eng, _ = Engine.create({ws!r}, name="bench", passphrase={pw!r}, use_keyring=False)
eng.datasets.import_file({a!r}, name="bench")
eng.datasets.import_file({b!r}, name="bench")
eng.close()
result = {{}}
"""

DRIFT = """
import time
from core.api import Engine, Unlock
eng = Engine.open({ws!r}, Unlock.with_passphrase({pw!r}))
t = time.perf_counter()
report = eng.datasets.drift("bench@1", "bench@2")
seconds = time.perf_counter() - t
t = time.perf_counter()
eng.datasets.drift("bench@1", "bench@2")
again = time.perf_counter() - t
eng.close()
result = dict(seconds=seconds, again=again, columns=len(report.columns), drifted=len(report.drifted_columns))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    a, _ = data_files(args.rows, seed=1)
    b, _ = data_files(args.rows, seed=2, shift=0.5)
    with tempfile.TemporaryDirectory() as tmp:
        ws = str(Path(tmp) / "w.airlock")
        child(SETUP.format(ws=ws, pw=PASSPHRASE, a=str(a), b=str(b)))
        d = child(DRIFT.format(ws=ws, pw=PASSPHRASE))
    print(f"drift {args.rows:,} vs {args.rows:,} rows × 30 columns (target < 5 s):\n"
          f"  first call in a fresh process (loads pyarrow/numpy/scipy pieces): {d['seconds']:.2f} s\n"
          f"  the same comparison again in that process:                     {d['again']:.2f} s\n"
          f"  peak RSS {d['rss_mb']:.0f} MB; {d['drifted']} of {d['columns']} columns drifted")


if __name__ == "__main__":
    main()
