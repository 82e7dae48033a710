"""Keys on the command line: never from argv, clear refusals, keyring first then passphrase."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from core.cli.main import build_parser
from tests.cli.conftest import RECOVERY_KEY, Made
from tests.conftest import MemoryKeyring


def _actions(parser: argparse.ArgumentParser):  # type: ignore[no-untyped-def]
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)


def test_no_option_takes_a_secret_value() -> None:
    options = [a for a in _actions(build_parser()) if a.option_strings]
    assert any("--recovery-key" in a.option_strings for a in options)
    for action in options:
        secretive = any(w in s for s in action.option_strings for w in ("pass", "secret", "key", "pw"))
        if secretive:
            assert action.nargs == 0, f"{action.option_strings} would take a secret from argv"


def test_passphrase_on_the_command_line_is_rejected(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    result = run("--workspace", made.path, "workspace", "info", "--passphrase", "x")
    assert result.code == 2
    assert "unrecognized arguments: --passphrase x" in result.err
    assert result.out == ""
    value = run("--workspace", made.path, "--recovery-key", made.recovery_key, "workspace", "info")
    assert value.code == 2  # the flag takes no value; the key would be an unknown command


def test_wrong_passphrase_is_a_clear_error_without_traceback(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "not it")
    result = run("--workspace", made.path, "workspace", "info")
    assert result.code == 2
    assert result.err.strip() == "airlock: The passphrase is wrong."
    assert result.out == ""


def test_wrong_passphrase_as_json(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "not it")
    result = run("--json", "--workspace", made.path, "workspace", "info")
    assert result.code == 2
    assert json.loads(result.out) == {"error": {"code": "wrong_key", "message": "The passphrase is wrong."}}


def test_no_terminal_and_no_passphrase_says_what_to_do(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AIRLOCK_PASSPHRASE")
    result = run("--workspace", made.path, "workspace", "info")
    assert result.code == 2
    assert "set AIRLOCK_PASSPHRASE or run in a terminal" in result.err
    assert "Traceback" not in result.err


def test_init_without_keyring_needs_a_passphrase(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AIRLOCK_PASSPHRASE")
    target = tmp_path / "new.airlock"
    result = run("workspace", "init", target)
    assert result.code == 2
    assert "set AIRLOCK_PASSPHRASE or run in a terminal" in result.err
    assert not target.exists()


def test_wrong_recovery_key_is_refused(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    typo = ("A" if made.recovery_key[0] != "A" else "B") + made.recovery_key[1:]
    monkeypatch.setenv("AIRLOCK_RECOVERY_KEY", typo)
    result = run("--workspace", made.path, "--recovery-key", "workspace", "info")
    assert result.code == 2
    assert "recovery key" in result.err.lower()


def test_keyring_workspace_opens_without_a_passphrase(
    memory_keyring: MemoryKeyring, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.delenv("AIRLOCK_NO_KEYRING", raising=False)
    monkeypatch.delenv("AIRLOCK_PASSPHRASE")
    path = tmp_path / "kr.airlock"
    init = run("workspace", "init", path)
    assert init.code == 0, init.err
    assert "OS keyring" in init.out
    assert len(RECOVERY_KEY.findall(init.out)) == 1
    assert len(memory_keyring.entries) == 1
    info = run("--workspace", path, "workspace", "info")
    assert info.code == 0, info.err
    assert "keyring, recovery key" in info.out


def test_lost_keyring_entry_falls_back_to_the_passphrase(
    memory_keyring: MemoryKeyring, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "kr.airlock"
    assert run("workspace", "init", path).code == 0  # keyring plus AIRLOCK_PASSPHRASE
    memory_keyring.answer_none = True
    info = run("--workspace", path, "workspace", "info")
    assert info.code == 0, info.err
    assert "keyring, passphrase" in info.out
    monkeypatch.delenv("AIRLOCK_PASSPHRASE")
    stuck = run("--workspace", path, "workspace", "info")
    assert stuck.code == 2
    assert "keyring has no key for this workspace" in stuck.err
    assert "set AIRLOCK_PASSPHRASE or run in a terminal" in stuck.err


def test_keyring_never_creates_a_workspace(memory_keyring: MemoryKeyring, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "ghost.airlock"
    result = run("--workspace", missing, "workspace", "info")
    assert result.code == 2
    assert "No workspace at" in result.err
    assert list(tmp_path.iterdir()) == []
    assert memory_keyring.entries == {}


def _terminal(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    """Pretend stdin is a terminal whose user types ``answers`` at successive prompts."""
    from core.cli import common

    prompts: list[str] = []

    def typed(prompt: str = "") -> str:
        prompts.append(prompt)
        return answers.pop(0)

    monkeypatch.delenv("AIRLOCK_PASSPHRASE", raising=False)
    monkeypatch.setattr(common, "interactive", lambda: True)
    monkeypatch.setattr(common.getpass, "getpass", typed)
    return prompts


def test_init_on_a_terminal_asks_twice_and_refuses_a_mismatch(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    prompts = _terminal(monkeypatch, ["first", "second"])
    target = tmp_path / "t.airlock"
    result = run("workspace", "init", target)
    assert result.code == 2
    assert "differ" in result.err
    assert len(prompts) == 2
    assert not target.exists()


def test_a_mistyped_passphrase_can_be_retried_on_a_terminal(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.cli.conftest import PASSPHRASE

    prompts = _terminal(monkeypatch, ["oops", PASSPHRASE])
    result = run("--workspace", made.path, "workspace", "info")
    assert result.code == 0, result.err
    assert "try again" in result.err
    assert prompts == ["Passphrase for lab.airlock: "] * 2


def test_three_wrong_passphrases_give_up(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    prompts = _terminal(monkeypatch, ["a", "b", "c", "never asked"])
    result = run("--workspace", made.path, "workspace", "info")
    assert result.code == 2
    assert len(prompts) == 3
    assert result.err.strip().endswith("The passphrase is wrong.")
