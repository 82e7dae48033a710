"""Fixtures for the command line: a clean environment, a workspace made by ``airlock workspace init``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.cli.main import main

PASSPHRASE = "correct horse battery staple"
RECOVERY_KEY = re.compile(r"\b[A-Z2-7]{5}(?:-[A-Z2-7]{1,5}){10}\b")


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Made:
    path: Path
    recovery_key: str
    init: Result


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``airlock ARGS…`` in this process; returns exit code, stdout and stderr."""

    def _run(*argv: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_NO_KEYRING", "1")
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", PASSPHRASE)
    for name in ("AIRLOCK_WORKSPACE", "AIRLOCK_RECOVERY_KEY", "AIRLOCK_NEW_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def made(tmp_path: Path, run) -> Made:  # type: ignore[no-untyped-def]
    path = tmp_path / "lab.airlock"
    result = run("workspace", "init", path, "--name", "Lab", "--role", "qa")
    assert result.code == 0, result.err
    found = RECOVERY_KEY.findall(result.out)
    assert len(found) == 1, result.out
    return Made(path, found[0], result)
