"""End to end: ``airlock data import`` of a CSV in a fresh process vs a fresh pyarrow process.

What is timed is what the user waits for, from the parent's clock: a new process started,
until it has exited. Same generated file as ``profile_bench.py`` (30 columns, fixed seed).

* airlock: the real CLI, ``airlock --workspace W data import FILE.csv --name bench``, unlocked
  the way a user scripts it (``$AIRLOCK_PASSPHRASE``: the PBKDF2 passphrase slot is derived,
  part of the time) on an empty workspace made just before by ``airlock workspace init
  --no-keyring`` (not timed): process start, imports, unlock, validation scan, type
  inference, the Parquet snapshot streamed into the encrypted blob store, one audited
  transaction, close, exit.
* pyarrow: ``python -c`` (this interpreter, the same pyarrow) that imports ``pyarrow.csv`` and
  ``pyarrow.parquet``, reads the CSV with ``read_csv`` (types inferred by Arrow) and writes it
  with ``parquet.write_table`` (zstd) to a plain file: process start to exit.

Peak RSS of each process comes from ``os.wait4``. The sides alternate (which goes first
alternates too) ``--runs`` times, 3 by default: timings on a shared 2-core machine swing by a
third from run to run, so medians are compared; every run is printed, the ratio first in
the summary. ``--breakdown`` adds one instrumented CLI run (see ``profile_bench.py``).

Target: airlock within 1.5× of pyarrow end to end.
Run: .venv/bin/python benchmarks/import_bench.py [--rows 1000000] [--runs 3] [--breakdown]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from profile_bench import (
    Run,
    airlock_cli,
    breakdown,
    cli_env,
    cli_workspace,
    data_files,
    fresh_process,
    median,
    print_breakdown,
)

PYARROW = """
import pyarrow.csv as pacsv, pyarrow.parquet as pq
pq.write_table(pacsv.read_csv({csv!r}), {out!r}, compression="zstd")
"""


def empty_workspace(folder: Path) -> Path:
    """A new passphrase workspace in ``folder`` (made by the CLI, not timed)."""
    folder.mkdir()
    return cli_workspace(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="add one instrumented CLI run")
    args = parser.parse_args()
    _, csv = data_files(args.rows)
    import_argv = ["--workspace", "{ws}", "data", "import", str(csv), "--name", "bench"]
    ours: list[Run] = []
    peer: list[Run] = []
    rows_breakdown: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for i in range(args.runs):
            for side in ("airlock", "pyarrow") if i % 2 else ("pyarrow", "airlock"):
                if side == "airlock":
                    ws = empty_workspace(tmp / f"w{i}")
                    ours.append(fresh_process([*airlock_cli(), *(a.format(ws=ws) for a in import_argv)], cli_env()))
                else:
                    code = PYARROW.format(csv=str(csv), out=str(tmp / f"o{i}.parquet"))
                    peer.append(fresh_process([sys.executable, "-c", code]))
            print(f"  run {i + 1}: airlock {ours[-1].seconds:.2f} s, pyarrow {peer[-1].seconds:.2f} s", flush=True)
        snapshot_mb = sum(p.stat().st_size for p in (tmp / "w0").glob("bench.airlock*")) / 1e6
        if args.breakdown:
            rows_breakdown = breakdown(import_argv, lambda tag: empty_workspace(tmp / f"b-{tag}"), tmp)
    a_s, a_mb = median(ours, "seconds"), median(ours, "rss_mb")
    p_s, p_mb = median(peer, "seconds"), median(peer, "rss_mb")
    print(f"\nCSV: {args.rows:,} rows × 30 columns, {csv.stat().st_size / 1e6:.0f} MB; medians of {args.runs} runs")
    print(f"END TO END (fresh process to exit): airlock import takes {a_s / p_s:.2f}× pyarrow's time "
          f"(target ≤ 1.5×), {a_mb / p_mb:.2f}× its peak memory")
    print(f"  airlock data import (checked, typed, encrypted, audited): {a_s:6.2f} s   peak RSS {a_mb:6.0f} MB"
          f"   workspace {snapshot_mb:.0f} MB")
    print(f"  pyarrow read_csv + parquet.write_table (zstd):            {p_s:6.2f} s   peak RSS {p_mb:6.0f} MB")
    if rows_breakdown:
        print("breakdown of one instrumented airlock run (one sample; the phases sum to its total):")
        print_breakdown(rows_breakdown)
    print("(a shared machine: compare medians, rerun when in doubt)")


if __name__ == "__main__":
    main()
