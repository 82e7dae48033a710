"""Importing and profiling never load pandas (0.15 s of every ``airlock data`` command).

pyarrow imports pandas the first time it converts anything from Python or numpy
(``pa.array``, ``pa.scalar``, a compute function given a Python number, ``to_numpy``);
core.data.arrays does those jobs from the buffers. Checked in a fresh interpreter, since the
test process itself has pandas loaded.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, sys
from core.api import Engine
engine, _ = Engine.create(sys.argv[1], name="Test", passphrase="a long test passphrase", use_keyring=False)
service = engine.datasets
service.import_file(sys.argv[2], name="mixed")
profile = service.profile("mixed", target="label", refresh=True)
service.save_profile(profile)
html = service.profile_report("mixed", format="html", target="label")
engine.close()
print(json.dumps({"pandas": "pandas" in sys.modules, "rows": profile.row_count, "html": len(html),
                  "associations": len(profile.target_associations), "correlations": len(profile.correlations)}))
"""


def _write(path: Path, rows: int) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "x", "y", "count", "city", "note", "when", "flag", "label"])
        for i in range(rows):
            out.writerow([
                i, "" if i % 7 == 0 else f"{i * 0.37 % 11:.3f}", f"{(i * 13) % 97 / 3:.4f}", i % 23,
                ("Paris", "Oslo", "Lima", "Turin, Italy")[i % 4], f'say "{i % 5}"' if i % 3 else "",
                f"2024-01-{1 + i % 28:02d} 10:{i % 60:02d}:00", ("true", "false")[i % 2], ("yes", "no")[(i // 3) % 2],
            ])


def test_import_profile_and_report_do_not_load_pandas(tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    _write(source, 3_000)
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "w.airlock"), str(source)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == 3_000
    assert result["html"] > 0 and result["correlations"] > 0 and result["associations"] > 0
    assert result["pandas"] is False
