"""Import of a 1M-row CSV into an encrypted workspace vs pyarrow read_csv + write_table.

Same generated file as ``profile_bench.py`` (30 columns, fixed seed). Each side runs in its
own child process; wall time and peak RSS are printed.

* airlock: ``engine.datasets.import_file(csv)``: validation scan, type inference, Parquet
  snapshot streamed into the encrypted blob store, one transaction (workspace creation and
  module loading not timed, as the pyarrow side imports its modules before its clock).
* pyarrow: ``pyarrow.csv.read_csv`` (types inferred by Arrow) + ``pyarrow.parquet.write_table``
  (zstd) to a plain file.

The two sides alternate ``--runs`` times (3 by default: timings on a shared 2-core machine
swing by a third from run to run) and the medians are compared; every run is printed.

Target: airlock within 1.5× of pyarrow.
Run: .venv/bin/python benchmarks/import_bench.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from profile_bench import PASSPHRASE, child, data_files

AIRLOCK = """
import time
from core.api import Engine
eng, _ = Engine.create({ws!r}, name="bench", passphrase={pw!r}, use_keyring=False)
datasets = eng.datasets  # loads pyarrow & co., as the pyarrow side does before its clock starts
t = time.perf_counter()
v = datasets.import_file({csv!r}, name="bench").value.version
seconds = time.perf_counter() - t
eng.close()
result = dict(seconds=seconds, rows=v.row_count, mb=v.size_bytes / 1e6)
"""

PYARROW = """
import time
import pyarrow.csv as pacsv, pyarrow.parquet as pq
t = time.perf_counter()
table = pacsv.read_csv({csv!r})
pq.write_table(table, {out!r}, compression="zstd")
result = dict(seconds=time.perf_counter() - t, rows=table.num_rows)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _, csv = data_files(args.rows)
    ours, peer = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            peer.append(child(PYARROW.format(csv=str(csv), out=str(Path(tmp) / f"o{i}.parquet"))))
            ours.append(child(AIRLOCK.format(ws=str(Path(tmp) / f"w{i}.airlock"), pw=PASSPHRASE, csv=str(csv))))
            print(f"  run {i + 1}: airlock {ours[-1]['seconds']:.2f} s, pyarrow {peer[-1]['seconds']:.2f} s")
    a = {k: statistics.median(r[k] for r in ours) for k in ("seconds", "rss_mb", "mb")}
    p = {k: statistics.median(r[k] for r in peer) for k in ("seconds", "rss_mb")}
    print(f"CSV: {args.rows:,} rows × 30 columns, {csv.stat().st_size / 1e6:.0f} MB; medians of {args.runs} runs")
    print(f"airlock import (checked, typed, encrypted):  {a['seconds']:6.2f} s   peak RSS {a['rss_mb']:6.0f} MB"
          f"   snapshot {a['mb']:.0f} MB")
    print(f"pyarrow read_csv + parquet.write_table:      {p['seconds']:6.2f} s   peak RSS {p['rss_mb']:6.0f} MB")
    print(f"ratio: airlock takes {a['seconds'] / p['seconds']:.2f}× pyarrow's time (target ≤ 1.5×), "
          f"{a['rss_mb'] / p['rss_mb']:.2f}× its peak memory")


if __name__ == "__main__":
    main()
