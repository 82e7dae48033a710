"""The installed ``airlock`` script, run as a user would: real process, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import PASSPHRASE, RECOVERY_KEY
from tests.cli.test_checks_and_json import tamper_first_audit_entry

AIRLOCK = Path(sys.executable).parent / "airlock"


def airlock(*argv: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRLOCK_")}
    return subprocess.run(
        [str(AIRLOCK), *map(str, argv)], env={**base, "AIRLOCK_NO_KEYRING": "1", **env},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )


def test_installed_script_end_to_end(tmp_path: Path) -> None:
    assert AIRLOCK.exists(), "the console script is not installed: pip install -e ."
    path = tmp_path / "site.airlock"

    init = airlock("workspace", "init", path, "--role", "prod", AIRLOCK_PASSPHRASE=PASSPHRASE)
    assert init.returncode == 0, init.stderr
    (recovery,) = RECOVERY_KEY.findall(init.stdout)

    info = airlock("--json", "workspace", "info", AIRLOCK_WORKSPACE=str(path), AIRLOCK_PASSPHRASE=PASSPHRASE)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["role"] == "prod"

    wrong = airlock("workspace", "info", AIRLOCK_WORKSPACE=str(path), AIRLOCK_PASSPHRASE="guess")
    assert wrong.returncode == 2
    assert wrong.stderr == "airlock: The passphrase is wrong.\n"

    no_key = airlock("workspace", "info", AIRLOCK_WORKSPACE=str(path))
    assert no_key.returncode == 2
    assert "set AIRLOCK_PASSPHRASE or run in a terminal" in no_key.stderr
    assert "Traceback" not in no_key.stderr

    tamper_first_audit_entry(path, recovery)
    check = airlock("--workspace", path, "--recovery-key", "workspace", "check", AIRLOCK_RECOVERY_KEY=recovery)
    assert check.returncode == 1, check.stderr
    assert "broken at entry #1" in check.stdout

    usage = airlock("workspace", "frobnicate")
    assert usage.returncode == 2
    assert "invalid choice: 'frobnicate'" in usage.stderr
