"""No plaintext leaves the encrypted file: not in the log, temp files, backups or headers."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("_leak_child.py")


def _run_child(tmp_path: Path, marker: str, mode: str) -> dict[str, object]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "SQLITE_TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, str(CHILD), str(tmp_path), marker, mode],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _files_holding(folder: Path, marker: str) -> list[str]:
    forms = (marker.encode(), marker.encode("utf-16-le"), marker.encode("utf-16-be"))
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and any(form in path.read_bytes() for form in forms):
            found.append(str(path.relative_to(folder)))
    return found


@pytest.mark.slow
def test_marker_never_reaches_disk_in_the_clear(tmp_path: Path) -> None:
    marker = f"CANARY-{secrets.token_hex(8)}"
    result = _run_child(tmp_path, marker, "workspace")
    assert result["fd_hits"] == [], f"plaintext in open temporary files: {result['fd_hits']}"
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert "w.airlock" in files and "backups/b.airlock" in files and "w.airlock.keys" in files
    assert _files_holding(tmp_path, marker) == []
    for name in ("w.airlock", "backups/b.airlock"):
        assert (tmp_path / name).read_bytes()[:16] != b"SQLite format 3\x00"
    assert (tmp_path / "w.airlock").stat().st_size > 12 * 1024 * 1024  # the marker really went in


@pytest.mark.slow
def test_the_leak_detector_catches_plaintext_temp_files(tmp_path: Path) -> None:
    """Without this, the test above could pass because the detector sees nothing at all."""
    marker = f"CANARY-{secrets.token_hex(8)}"
    result = _run_child(tmp_path, marker, "control")
    assert result["fd_hits"], f"the detector saw {result['temp_files_seen']} temp files and no marker"
    assert _files_holding(tmp_path, marker) == ["plain.db"]
