"""End to end: ``airlock data profile`` in a fresh process vs ydata-profiling's, same Parquet file.

What is timed is what the user waits for, from the parent's clock: a new process started,
until it has exited.

* airlock: the real CLI, ``airlock --workspace W data profile bench --target target --html F``,
  unlocked the way a user scripts it (``$AIRLOCK_PASSPHRASE``, so the PBKDF2 passphrase
  slot is derived: key derivation is part of the time). The dataset was imported before
  (``airlock workspace init --no-keyring`` + ``airlock data import``, not timed) and each run
  gets its own copy of that workspace (copied, not timed), so every run computes the
  profile: process start, imports, unlock, profile with correlations and target
  associations, the profile stored (audited), the HTML report rendered and written
  (audited), close, exit.
* ydata: ``benchmarks/.venv-peer/bin/python -c`` that imports pandas and ydata_profiling,
  reads the Parquet file with ``pandas.read_parquet`` and writes
  ``ProfileReport(df, minimal=True).to_file(F)``: process start to its HTML report written.
  ydata-profiling lives only in that venv (never in the project's); it is created on first
  use: ``python3.11 -m venv benchmarks/.venv-peer && benchmarks/.venv-peer/bin/pip install
  ydata-profiling pyarrow``.

Peak RSS of each process comes from ``os.wait4``. The sides alternate (which goes first
alternates too) ``--runs`` times, 3 by default: timings on a shared 2-core machine swing by a
third from run to run, so medians are compared. The end-to-end ratio is printed first.

Then, labelled *partial (in-process, profile only)*: in one more fresh process per run,
``engine.datasets.profile(..., refresh=True)`` and ``save_profile`` timed alone, then
``profile_report`` in HTML and in PDF from the kept profile, each timed alone (first-use
imports of a report included; the process's start, imports and unlock not counted).

``--breakdown`` adds one instrumented CLI run: where the end-to-end time goes (process
start, imports of every module the real run loads, unlock with its key derivation, the
schema check, profile, save, report render and write, close, exit), by timing wrappers
around those functions in the otherwise unchanged CLI.

Data (fixed seed): 30 columns — 11 floats (0–30% missing), 6 integers, 10 categoricals of
cardinality 5 … 5,000, a datetime, a numeric column correlated with the target, and a
boolean target. Sizes: 100k and 1M rows by default.

Targets: airlock ≥ 10× faster end to end and ≤ half the peak memory of ydata minimal.
Run: .venv/bin/python benchmarks/profile_bench.py [--rows 100000 1000000] [--runs 3]
     [--skip-peer] [--no-partial] [--breakdown]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Run:
    """One fresh process, timed from the parent: wall seconds, peak RSS, what it printed."""

    seconds: float
    rss_mb: float
    stdout: str


def fresh_process(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Start ``argv``, wait for it to exit; wall time from before the start to after the exit.

    Raises RuntimeError (with the end of stderr) when it exits with a non-zero status.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited with {proc.returncode}:\n{stderr[-3000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout)


def airlock_cli() -> list[str]:
    """The installed ``airlock`` console script beside this interpreter (the real CLI)."""
    script = Path(sys.executable).parent / "airlock"
    return [str(script)] if script.exists() else [sys.executable, "-m", "core.cli.main"]


def cli_env() -> dict[str, str]:
    """The environment a user scripting the CLI sets: the passphrase, no keyring."""
    return dict(os.environ, AIRLOCK_PASSPHRASE=PASSPHRASE, AIRLOCK_NEW_PASSPHRASE=PASSPHRASE,
                AIRLOCK_NO_KEYRING="1")


def cli_workspace(folder: Path, parquet: Path | None = None) -> Path:
    """A new passphrase workspace made with the CLI (untimed), with ``parquet`` imported as ``bench``."""
    ws = folder / "bench.airlock"
    fresh_process([*airlock_cli(), "workspace", "init", "--no-keyring", "--name", "bench", str(ws)], cli_env())
    if parquet is not None:
        fresh_process([*airlock_cli(), "--workspace", str(ws), "data", "import", str(parquet), "--name", "bench"],
                      cli_env())
    return ws


def copy_workspace(ws: Path, folder: Path) -> Path:
    """A copy of a closed workspace (database file and key header) in ``folder``."""
    folder.mkdir()
    for part in ws.parent.glob(ws.name + "*"):
        if not part.name.endswith(".lock"):
            shutil.copy2(part, folder / part.name)
    return folder / ws.name


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
    """A workspace made in-process through ``core.api`` (for the other benchmarks), ``parquet`` imported."""
    ws = folder / "bench.airlock"
    child(f"""
from core.api import Engine
eng, _ = Engine.create({str(ws)!r}, name="bench", passphrase={PASSPHRASE!r}, use_keyring=False)
eng.datasets.import_file({str(parquet)!r}, name="bench")
eng.close()
result = {{}}
""")
    return ws


YDATA = """
import warnings
warnings.filterwarnings("ignore")
import pandas as pd
from ydata_profiling import ProfileReport
df = pd.read_parquet({parquet!r})
ProfileReport(df, minimal=True, progress_bar=False).to_file({html!r})
"""

PARTIAL = """
import time
from core.api import Engine, Unlock
eng = Engine.open({ws!r}, Unlock.with_passphrase({pw!r}))
service = eng.datasets
t = time.perf_counter()
prof = service.profile("bench", target="target", refresh=True)
profile_s = time.perf_counter() - t
t = time.perf_counter(); service.save_profile(prof); save_s = time.perf_counter() - t
# The public report query, on the profile just kept (loaded back, then rendered; first-use imports included).
t = time.perf_counter(); html = service.profile_report("bench", format="html", target="target"); html_s = time.perf_counter() - t
t = time.perf_counter(); pdf = service.profile_report("bench", format="pdf", target="target"); pdf_s = time.perf_counter() - t
eng.close()
result = dict(seconds=profile_s, save_s=save_s, html_s=html_s, html_mb=len(html) / 1e6, pdf_s=pdf_s,
              pdf_mb=len(pdf) / 1e6, correlations=len(prof.correlations), associations=len(prof.target_associations))
"""

# --- breakdown: the real CLI in one process, with timing wrappers around its phases ----------

#: (module, class or None, function, label) timed by the breakdown; nested ones are indented.
PHASES: tuple[tuple[str, str | None, str, str], ...] = (
    ("core.store.opening", None, "open_store", "open the workspace"),
    ("core.store.keys", None, "_derive", "  of which: key derivation (PBKDF2; a plain run overlaps it with imports)"),
    ("core.store.opening", None, "check_and_upgrade", "  of which: schema check (alembic)"),
    ("core.data.service", "DatasetService", "import_file", "import"),
    ("core.data.service", "DatasetService", "profile", "profile"),
    ("core.store.data_repo", None, "save_profile", "save the profile"),
    ("core.data.service", "DatasetService", "_render", "render the report"),
    ("core.store.exports", None, "write_export", "write the report"),
    ("core.api", "Engine", "close", "close"),
)

#: Imported one by one first (each with what it needs that is not loaded yet), so the breakdown
#: shows who costs what; then the CLI, then every other module the run loaded.
IMPORT_GROUPS = ("numpy", "pyarrow", "pyarrow.parquet", "pandas", "sqlalchemy", "sqlcipher3", "alembic",
                 "cryptography.hazmat.primitives.ciphers.aead", "msgspec", "matplotlib",
                 "matplotlib.backends.backend_agg", "reportlab", "scipy", "sklearn", "core.cli.main",
                 "core.data.service", "core.data.profiling", "core.data.importing", "core.data.report",
                 "core.data.report_pdf")

DISCOVER = """
import json, sys
from core.cli.main import main
sys.argv = ["airlock", *{argv!r}]
code = main()  # without argv, as the console script calls it
json.dump([m for m in list(sys.modules) if not m.startswith("__")], open({out!r}, "w"))
sys.exit(code)
"""

BREAKDOWN = """
import time
started = time.time()
import functools, importlib, json, sys
loaded = json.load(open({modules!r}))
groups = {{}}
for group in {groups!r}:
    if group in loaded:
        t = time.perf_counter()
        importlib.import_module(group)
        groups[group] = time.perf_counter() - t
t = time.perf_counter()
for name in loaded:
    try:
        importlib.import_module(name)
    except Exception:
        pass
groups["rest"] = time.perf_counter() - t
imported = time.time()
phases = {{}}
def timed(owner, attr, label):
    raw = vars(owner)[attr]
    static = isinstance(raw, staticmethod)
    fn = raw.__func__ if static else raw
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[label] = phases.get(label, 0.0) + time.perf_counter() - t
    setattr(owner, attr, staticmethod(wrapper) if static else wrapper)
for module, cls, attr, label in {phases!r}:
    owner = importlib.import_module(module)
    timed(getattr(owner, cls) if cls else owner, attr, label)
from core.cli.main import main
sys.argv = ["airlock", *{argv!r}]
main_start = time.time()
code = main()  # without argv, as the console script calls it
main_end = time.time()
json.dump(dict(started=started, imported=imported, groups=groups, main_start=main_start, main_end=main_end,
               phases=phases),
          open({out!r}, "w"))
sys.exit(code)
"""


def breakdown(argv: Sequence[str], make_copy: Callable[[str], Path], folder: Path) -> list[tuple[str, float]]:
    """Where one fresh CLI run's time goes: ``(phase, seconds)`` in order, ``total`` last.

    ``argv`` are the CLI's arguments with ``{ws}`` for the workspace; ``make_copy(tag)`` gives
    a fresh workspace for each of the two runs (one to list the modules the CLI loads, one
    instrumented). Imports are every module the real run loaded, imported up front, so the
    phases after them are free of import time.
    """
    modules = folder / "modules.json"
    ws = make_copy("discover")
    discover = [a.format(ws=ws) for a in argv]
    fresh_process([sys.executable, "-c", DISCOVER.format(argv=discover, out=str(modules))], cli_env())
    out = folder / "breakdown.json"
    ws = make_copy("breakdown")
    timed = [a.format(ws=ws) for a in argv]
    code = BREAKDOWN.format(modules=str(modules), groups=IMPORT_GROUPS, phases=PHASES, argv=timed, out=str(out))
    spawned = time.time()
    run = fresh_process([sys.executable, "-c", code], cli_env())
    ended = spawned + run.seconds
    t = json.loads(out.read_text())
    rows = [("process start (interpreter, site)", t["started"] - spawned),
            ("imports (every module the run loads)", t["imported"] - t["started"])]
    rows += [(f"  of which: {'the rest (Airlock, the standard library, …)' if g == 'rest' else g}", seconds)
             for g, seconds in t["groups"].items()]
    top = 0.0
    for _, _, _, label in PHASES:
        if label in t["phases"]:
            rows.append((label, t["phases"][label]))
            top += 0.0 if label.startswith(" ") else t["phases"][label]
    main_s = t["main_end"] - t["main_start"]
    rows.append(("rest of the command (parsing, lookups, transactions, audit, output)", main_s - top))
    rows.append(("exit (interpreter teardown)", ended - t["main_end"]))
    rows.append(("total", run.seconds))
    return rows


def print_breakdown(rows: list[tuple[str, float]]) -> None:
    total = rows[-1][1]
    for label, seconds in rows:
        print(f"  {label:<72} {seconds:6.2f} s  {seconds / total:4.0%}")


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


def median(runs: Sequence[Run], attr: str) -> float:
    return statistics.median(float(getattr(r, attr)) for r in runs)


def measure(rows: int, runs: int, peer: str | None, partial_too: bool, breakdown_too: bool) -> None:
    """Time both sides at ``rows`` rows, alternating, and print the medians (end to end first)."""
    parquet, _ = data_files(rows)
    profile_argv = ["--workspace", "{ws}", "data", "profile", "bench", "--target", "target", "--html"]
    ours: list[Run] = []
    theirs: list[Run] = []
    partial: list[dict[str, float]] = []
    rows_breakdown: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "base").mkdir()
        base = cli_workspace(tmp / "base", parquet)
        for i in range(runs):
            for side in ("airlock", "ydata") if i % 2 else ("ydata", "airlock"):
                if side == "airlock":
                    ws = copy_workspace(base, tmp / f"run{i}")
                    argv = [a.format(ws=ws) for a in profile_argv]
                    ours.append(fresh_process([*airlock_cli(), *argv, str(tmp / f"airlock{i}.html")], cli_env()))
                elif peer is not None:
                    code = YDATA.format(parquet=str(parquet), html=str(tmp / f"ydata{i}.html"))
                    theirs.append(fresh_process([peer, "-c", code]))
            if partial_too:
                ws = copy_workspace(base, tmp / f"partial{i}")
                partial.append(child(PARTIAL.format(ws=str(ws), pw=PASSPHRASE)))
            print(f"  {rows:,} rows, run {i + 1}: airlock {ours[-1].seconds:.2f} s"
                  + (f", ydata {theirs[-1].seconds:.2f} s" if theirs else "")
                  + (f"  (partial: profile {partial[-1]['seconds']:.2f} s)" if partial else ""), flush=True)
        html_kb = (tmp / "airlock0.html").stat().st_size / 1e3
        if breakdown_too:
            rows_breakdown = breakdown([*profile_argv, str(tmp / "breakdown.html")],
                                       lambda tag: copy_workspace(base, tmp / f"b-{tag}"), tmp)

    print(f"\n== {rows:,} rows × 30 columns ({parquet.stat().st_size / 1e6:.0f} MB Parquet); medians of {runs} runs ==")
    a_s, a_mb = median(ours, "seconds"), median(ours, "rss_mb")
    if theirs:
        y_s, y_mb = median(theirs, "seconds"), median(theirs, "rss_mb")
        print(f"END TO END (fresh process to HTML report written): airlock is {y_s / a_s:.1f}× faster than "
              f"ydata-profiling minimal (target ≥ 10×), {a_mb / y_mb:.2f}× its peak memory (target ≤ 0.5×)")
    print(f"  airlock data profile --target --html (stored, audited): {a_s:7.2f} s   peak RSS {a_mb:6.0f} MB"
          f"   HTML {html_kb:.0f} kB")
    if theirs:
        print(f"  ydata-profiling minimal (import, read, profile, to_file): {y_s:5.2f} s   peak RSS {y_mb:6.0f} MB")
    if partial:
        p = {k: statistics.median(r[k] for r in partial) for k in partial[0]}
        print("partial (in-process, profile only; imports and unlock not counted):")
        print(f"  profile (+correlations, +target associations): {p['seconds']:6.2f} s   "
              f"[{p['correlations']:.0f} correlations, {p['associations']:.0f} target associations]")
        print(f"  save_profile {p['save_s']:.2f} s; reports: HTML {p['html_mb']:.2f} MB in {p['html_s']:.2f} s, "
              f"PDF {p['pdf_mb']:.2f} MB in {p['pdf_s']:.2f} s")
    if rows_breakdown:
        print("breakdown of one instrumented airlock run (one sample; the phases sum to its total):")
        print_breakdown(rows_breakdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each side; medians are compared")
    parser.add_argument("--skip-peer", action="store_true", help="measure Airlock only")
    parser.add_argument("--no-partial", action="store_true", help="skip the in-process profile-only timing")
    parser.add_argument("--breakdown", action="store_true", help="add one instrumented CLI run per size")
    args = parser.parse_args()
    peer = None if args.skip_peer else ensure_peer()
    if not args.skip_peer and peer is None:
        print("ydata-profiling could not be installed in benchmarks/.venv-peer; measuring Airlock only.")
    for rows in args.rows:
        measure(rows, args.runs, peer, not args.no_partial, args.breakdown)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - start:.0f} s; a shared machine: compare medians, rerun when in doubt)")
