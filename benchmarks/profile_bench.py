"""Airlock's dataset profile vs ydata-profiling (minimal mode), same Parquet file, same run.

Generated data (fixed seed): 30 columns — 11 floats (0–30% missing), 6 integers, 10
categoricals of cardinality 5 … 5,000, a datetime, a numeric column correlated with the
target, and a boolean target. Sizes: 100k and 1M rows.

Each measurement runs in its own child process; wall time and the child's peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at its end) are printed.

* airlock: ``engine.datasets.profile(ref, target="target", refresh=True)`` on a version already
  imported into an encrypted workspace (import not timed): the real product path, reading
  the snapshot row group by row group from the blob store, with correlations and target
  associations. The HTML and PDF reports are timed and sized separately.
* ydata: ``pandas.read_parquet`` + ``ProfileReport(df, minimal=True).to_html()``, run with
  ``benchmarks/.venv-peer/bin/python`` (ydata-profiling installed there only, never in the
  project's venv). Created on first use: ``python3.11 -m venv benchmarks/.venv-peer &&
  benchmarks/.venv-peer/bin/pip install ydata-profiling pyarrow``.

The two sides alternate ``--runs`` times (3 by default: timings on a shared 2-core machine
swing by a third from run to run) and their medians are compared; every run is printed.

Targets: airlock ≥ 10× faster and ≤ half the peak memory of ydata minimal.
Run: .venv/bin/python benchmarks/profile_bench.py [--rows 100000 1000000] [--runs 3] [--skip-peer]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 20240601
ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / "benchmarks" / ".venv-peer"
CACHE = Path(tempfile.gettempdir()) / "airlock-bench"
PASSPHRASE = "benchmark passphrase"
CARDINALITIES = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def make_table(rows: int, seed: int = SEED, shift: float = 0.0):  # type: ignore[no-untyped-def]
    """The benchmark table: 30 columns as described above (``shift`` moves some distributions)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for i in range(11):
        v = rng.normal(100 * i + shift * (i % 3), 1 + i, rows)
        missing = rng.random(rows) < (0.03 * i)
        cols[f"f{i}"] = pa.array(v, mask=missing)
    for i in range(6):
        cols[f"i{i}"] = pa.array(rng.integers(0, 10 ** (i + 1), rows) + int(shift * i))
    for c in CARDINALITIES:
        levels = np.array([f"{c}_{k}" for k in range(c)])
        p = 1.0 / np.arange(1, c + 1) ** 0.8
        cols[f"cat{c}"] = pa.array(levels[rng.choice(c, size=rows, p=p / p.sum())])
    start = np.datetime64("2023-01-01T00:00:00", "us")
    cols["event_time"] = pa.array(start + rng.integers(0, 365 * 86_400, rows).astype("timedelta64[s]"))
    score = rng.normal(0, 1, rows)
    cols["risk"] = pa.array(score + shift)
    cols["target"] = pa.array(score + rng.normal(0, 1.5, rows) > 0.8)
    return pa.table(cols)


def data_files(rows: int, seed: int = SEED, shift: float = 0.0) -> tuple[Path, Path]:
    """The Parquet and CSV files of :func:`make_table`, made once and cached in the temp folder."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    CACHE.mkdir(exist_ok=True)
    stem = CACHE / f"bench_{rows}_{seed}_{shift:g}".replace(".", "p")
    parquet, csv = stem.with_suffix(".parquet"), stem.with_suffix(".csv")
    if not parquet.exists() or not csv.exists():
        table = make_table(rows, seed, shift)
        pq.write_table(table, parquet, row_group_size=65_536, compression="zstd")
        pacsv.write_csv(table, csv)
    return parquet, csv


def child(code: str, python: str = sys.executable) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; adds peak RSS in MB."""
    wrapped = code + (
        "\nimport resource, json as _j\n"
        "print('RESULT', _j.dumps({**result, 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([python, "-c", wrapped], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child failed:\n{out.stderr[-3000:]}")
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]


def make_workspace(parquet: Path, folder: Path) -> Path:
    ws = folder / "bench.airlock"
    child(f"""
from core.api import Engine
eng, _ = Engine.create({str(ws)!r}, name="bench", passphrase={PASSPHRASE!r}, use_keyring=False)
eng.datasets.import_file({str(parquet)!r}, name="bench")
eng.close()
result = {{}}
""")
    return ws


AIRLOCK = """
import time
from core.api import Engine, Unlock
eng = Engine.open({ws!r}, Unlock.with_passphrase({pw!r}))
t = time.perf_counter()
prof = eng.datasets.profile("bench", target="target", refresh=True)
if hasattr(eng.datasets, "save_profile"):  # computing is a query since issue 8; keeping it is the mutation
    eng.datasets.save_profile(prof)
profile_s = time.perf_counter() - t
from core.data.report import render_html
from core.data.report_pdf import render_pdf
t = time.perf_counter(); html = render_html(prof, "Profile of bench@1").encode(); html_s = time.perf_counter() - t
t = time.perf_counter(); pdf = render_pdf(prof, "Profile of bench@1"); pdf_s = time.perf_counter() - t
eng.close()
result = dict(seconds=profile_s, html_s=html_s, html_mb=len(html) / 1e6, pdf_s=pdf_s, pdf_mb=len(pdf) / 1e6,
              correlations=len(prof.correlations), associations=len(prof.target_associations))
"""

YDATA = """
import time, warnings
warnings.filterwarnings("ignore")
t = time.perf_counter()
import pandas as pd
from ydata_profiling import ProfileReport
df = pd.read_parquet({parquet!r})
html = ProfileReport(df, minimal=True, progress_bar=False).to_html()
result = dict(seconds=time.perf_counter() - t, html_mb=len(html.encode()) / 1e6)
"""


def ensure_peer() -> str | None:
    python = PEER / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3.11", "-m", "venv", str(PEER)], check=True)
    ok = subprocess.run([str(python), "-c", "import ydata_profiling, pyarrow"], capture_output=True, check=False)
    if ok.returncode != 0:
        inst = subprocess.run([str(python), "-m", "pip", "install", "-q", "ydata-profiling", "pyarrow"], check=False)
        if inst.returncode != 0:
            return None
    return str(python)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each side; medians are compared")
    parser.add_argument("--skip-peer", action="store_true", help="measure Airlock only")
    args = parser.parse_args()
    peer = None if args.skip_peer else ensure_peer()
    if not args.skip_peer and peer is None:
        print("ydata-profiling could not be installed in benchmarks/.venv-peer; measuring Airlock only.")
    for rows in args.rows:
        parquet, _ = data_files(rows)
        ours: list[dict[str, float]] = []
        theirs: list[dict[str, float]] = []
        with tempfile.TemporaryDirectory() as tmp:
            ws = make_workspace(parquet, Path(tmp))
            for i in range(args.runs):
                if peer:
                    theirs.append(child(YDATA.format(parquet=str(parquet)), python=peer))
                ours.append(child(AIRLOCK.format(ws=str(ws), pw=PASSPHRASE)))
                print(f"  {rows:,} rows, run {i + 1}: airlock {ours[-1]['seconds']:.2f} s"
                      + (f", ydata {theirs[-1]['seconds']:.2f} s" if theirs else ""))
        a = {k: statistics.median(r[k] for r in ours) for k in ours[0]}
        print(f"\n== {rows:,} rows × 30 columns ({parquet.stat().st_size / 1e6:.0f} MB Parquet); medians of {args.runs} runs ==")
        print(f"airlock profile (+correlations, +target associations): {a['seconds']:7.2f} s   peak RSS {a['rss_mb']:7.0f} MB"
              f"   [{a['correlations']:.0f} correlations, {a['associations']:.0f} target associations]")
        print(f"  reports: HTML {a['html_mb']:.2f} MB in {a['html_s']:.1f} s, PDF {a['pdf_mb']:.2f} MB in {a['pdf_s']:.1f} s")
        if theirs:
            y = {k: statistics.median(r[k] for r in theirs) for k in theirs[0]}
            print(f"ydata-profiling minimal (read + profile + HTML):         {y['seconds']:7.2f} s"
                  f"   peak RSS {y['rss_mb']:7.0f} MB")
            print(f"ratio: airlock is {y['seconds'] / a['seconds']:.1f}× faster (target ≥ 10×), "
                  f"uses {a['rss_mb'] / y['rss_mb']:.2f}× the peak memory (target ≤ 0.5×)")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
