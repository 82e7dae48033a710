"""Profile a 10M-row × 30-column Parquet snapshot from the encrypted store, with progress.

The Parquet file is generated in 1M-row slices (fixed seeds, the columns of
``profile_bench.py``) and imported into a fresh workspace (import timed separately). Then
``engine.datasets.profile(..., target="target")`` runs in a child process that prints the
progress messages as they come and, at the end, the time and its peak RSS. The snapshot is
read row group by row group through ``core.store.blobs.open_reader``: it is never whole in
memory; numeric columns are gathered within ``core.data.profiling.GATHER_BYTES``.

Run: .venv/bin/python benchmarks/profile_10m.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from profile_bench import CACHE, PASSPHRASE, ROOT, child, make_table

SLICE = 1_000_000

PROFILE = """
import resource, sys, time
from core.api import Engine, TaskContext, Unlock
eng = Engine.open({ws!r}, Unlock.with_passphrase({pw!r}))
start = time.perf_counter()
last = [-1.0]
def progress(fraction, message):
    if fraction - last[0] >= 0.05 or fraction >= 1.0:
        last[0] = fraction
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {{time.perf_counter() - start:6.1f}} s  {{fraction:5.0%}}  {{message}}"
              f"  (peak RSS so far {{rss:.0f}} MB)", flush=True)
prof = eng.datasets.profile("big", target="target", refresh=True, ctx=TaskContext(progress))
if hasattr(eng.datasets, "save_profile"):  # computing is a query since issue 8; keeping it is the mutation
    eng.datasets.save_profile(prof)
seconds = time.perf_counter() - start
eng.close()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"RESULT seconds={{seconds:.1f}} rss_mb={{rss:.0f}} columns={{len(prof.columns)}}"
      f" duplicates={{prof.duplicate_rows}}", flush=True)
"""


def make_file(rows: int) -> Path:
    import pyarrow.parquet as pq

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"bench10m_{rows}.parquet"
    if not path.exists():
        writer = None
        for i in range(-(-rows // SLICE)):
            table = make_table(min(SLICE, rows - i * SLICE), seed=100 + i)
            writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=65_536)
        assert writer is not None
        writer.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    t = time.perf_counter()
    path = make_file(args.rows)
    print(f"{path.name}: {args.rows:,} rows × 30 columns, {path.stat().st_size / 1e6:.0f} MB Parquet"
          f" (ready in {time.perf_counter() - t:.0f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        ws = str(Path(tmp) / "w.airlock")
        imp = child(f"""
import time
from core.api import Engine
eng, _ = Engine.create({ws!r}, name="bench", passphrase={PASSPHRASE!r}, use_keyring=False)
t = time.perf_counter()
eng.datasets.import_file({str(path)!r}, name="big")
result = dict(seconds=time.perf_counter() - t)
eng.close()
""")
        print(f"import into the encrypted workspace: {imp['seconds']:.1f} s, peak RSS {imp['rss_mb']:.0f} MB")
        print("profile (with correlations and target associations):")
        proc = subprocess.run([sys.executable, "-c", PROFILE.format(ws=ws, pw=PASSPHRASE)], cwd=ROOT, check=False)
        if proc.returncode != 0:
            raise SystemExit(proc.returncode)


if __name__ == "__main__":
    main()
