"""How long the profile reports take to draw, each in a fresh process, at 1M rows × 30 columns.

A report's work depends on the profile, not on the rows, so the profile of
``profile_bench.make_table(rows)`` (30 columns, with correlations and target associations) is
computed once here, kept as its stored bytes (``core.formats``) in the temp folder, and each
measurement is a child process that starts Python, reads those bytes and renders one report.

Printed per format, medians of ``--runs``:

* **fresh process**: the child's whole life, from its start to the report's bytes ready
  (interpreter, imports, decoding the profile, rendering) — what a report adds to a
  command's wait;
* *partial*: the render call alone inside that process (imports already done by it).

Target: each report under 0.5 s (fresh process) at 1M × 30.
Run: .venv/bin/python benchmarks/report_bench.py [--rows 1000000] [--runs 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profile_bench import ROOT, SEED, make_table  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "airlock-bench"

CHILD = """
import json, sys, time
t = time.perf_counter()
from core import formats
from core.data.models import Profile
from core.data.report import ReportInfo, render_html
from core.data.report_pdf import render_pdf
prof = formats.loads(Profile, open(sys.argv[1], "rb").read())
info = ReportInfo("Profile of bench@1", "bench@1", "bench.parquet")
r = time.perf_counter()
data = render_pdf(prof, info) if sys.argv[2] == "pdf" else render_html(prof, info).encode()
end = time.perf_counter()
print(json.dumps({"render_s": end - r, "bytes": len(data)}))
"""


def profile_file(rows: int) -> Path:
    """The stored profile of the benchmark table, computed once and cached."""
    from core import formats
    from core.data.profiling import profile_table

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"profile_{rows}_{SEED}.json"
    if not path.exists():
        t = time.perf_counter()
        prof = profile_table(make_table(rows), target="target")
        path.write_bytes(formats.dumps(prof))
        print(f"(profile of {rows:,} rows computed once in {time.perf_counter() - t:.1f} s, not timed below)")
    return path


def measure(path: Path, fmt: str) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), fmt], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    wall = time.perf_counter() - start
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return {"fresh_s": wall, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = profile_file(args.rows)
    baseline = [measure_python() for _ in range(args.runs)]
    print(f"== reports of the {args.rows:,} × 30 benchmark profile; medians of {args.runs} fresh processes ==")
    for fmt in ("html", "pdf"):
        runs = [measure(path, fmt) for _ in range(args.runs)]
        fresh = statistics.median(r["fresh_s"] for r in runs)
        render = statistics.median(r["render_s"] for r in runs)
        size = statistics.median(r["bytes"] for r in runs)
        print(f"{fmt.upper():4}  fresh process {fresh:5.2f} s (target < 0.5 s)   "
              f"partial: render call alone {render:5.3f} s   {size / 1e3:,.0f} kB")
    print(f"(for scale: a bare 'python -c pass' here takes {statistics.median(baseline):.2f} s)")


def measure_python() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
