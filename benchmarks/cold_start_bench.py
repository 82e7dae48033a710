"""Cold start of the desktop: process start to the main window shown, against a bare Qt baseline.

Runs ``airlock-desktop --workspace W --page workspace --screenshot OUT --timing`` in fresh
processes (offscreen) and reports the median of: the window shown, the workspace page
ready (unlocked and filled), and the whole run including the screenshot and exit. A bare
``QApplication`` + empty ``QMainWindow`` in the same run gives the floor; the ratio says how
much Airlock adds. Target: the workspace page ready in under 2 s. Never asserted in tests.

    .venv/bin/python benchmarks/cold_start_bench.py [--runs 5] [--workspace W]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 2.0
BASELINE = (
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication([])\n"
    "w = QMainWindow(); w.resize(1100, 720); w.show(); app.processEvents()\n"
)


def _env() -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                AIRLOCK_NO_KEYRING="1", AIRLOCK_PASSPHRASE="benchmark-passphrase")


def make_workspace(folder: Path) -> Path:
    path = folder / "bench.airlock"
    code = (
        "from core.api import Engine\n"
        f"e, _ = Engine.create({str(path)!r}, name='Benchmark', passphrase='benchmark-passphrase', use_keyring=False)\n"
        "e.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=_env(), check=True)
    return path


def run_app(workspace: Path, out: Path) -> tuple[float, float, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--workspace", str(workspace), "--page", "workspace",
         "--screenshot", str(out), "--timing"],
        env=_env(), capture_output=True, text=True, check=True,
    )
    total = time.perf_counter() - start
    shown = float(re.search(r"window shown after ([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    ready = float(re.search(r"ready after ([\d.]+) s", done.stdout).group(1))  # type: ignore[union-attr]
    return shown, ready, total


def run_baseline() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", BASELINE], env=_env(), check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workspace", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        workspace = args.workspace or make_workspace(folder)
        run_app(workspace, folder / "warmup.png")  # fill the OS file cache like a second start
        run_baseline()
        shown, ready, total, base = [], [], [], []
        for i in range(args.runs):
            s, r, t = run_app(workspace, folder / f"shot{i}.png")
            shown.append(s)
            ready.append(r)
            total.append(t)
            base.append(run_baseline())
    med = statistics.median
    print(f"runs: {args.runs}  python: {sys.version.split()[0]}  cores: {os.cpu_count()}")
    print(f"bare Qt window (baseline), whole process:  {med(base):.3f} s")
    print(f"Airlock window shown:                      {med(shown):.3f} s")
    print(f"Airlock workspace page ready (unlocked):   {med(ready):.3f} s   target < {TARGET_S:.1f} s "
          f"-> {'OK' if med(ready) < TARGET_S else 'OVER'}")
    print(f"Airlock whole process (incl. screenshot):  {med(total):.3f} s")
    print(f"ratio whole process / baseline:            {med(total) / med(base):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
