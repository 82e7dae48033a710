"""Which targets a version has kept profiles for (what the desktop offers before computing anything)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli.main import main
from core.data.service import DatasetService
from core.errors import NotFound


def _import(datasets: DatasetService, tmp_path: Path, rows: int = 200) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,churned\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(rows)))
    datasets.import_file(csv, name="d")


def test_profile_targets_lists_each_kept_target_once_no_target_first(datasets: DatasetService, tmp_path: Path) -> None:
    _import(datasets, tmp_path)
    assert datasets.profile_targets("d") == []
    datasets.save_profile(datasets.profile("d", target="churned"))
    assert datasets.profile_targets("d") == ["churned"]
    datasets.save_profile(datasets.profile("d", target="b"))
    datasets.save_profile(datasets.profile("d"))
    datasets.save_profile(datasets.profile("d", target="churned", refresh=True))  # replaces, not a second one
    assert datasets.profile_targets("d@1") == [None, "b", "churned"]
    for target in datasets.profile_targets("d"):
        kept = datasets.stored_profile("d", target=target)
        assert kept is not None and kept.target == target


def test_profile_targets_are_per_version(datasets: DatasetService, tmp_path: Path) -> None:
    _import(datasets, tmp_path)
    datasets.save_profile(datasets.profile("d", target="churned"))
    _import(datasets, tmp_path, rows=150)  # d@2, nothing kept for it yet
    assert datasets.profile_targets("d@2") == [] and datasets.profile_targets("d@1") == ["churned"]
    with pytest.raises(NotFound):
        datasets.profile_targets("d@3")


def test_a_profile_kept_by_the_cli_with_a_target_is_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.api import Engine, Unlock

    ws = tmp_path / "w.airlock"
    Engine.create(ws, name="T", passphrase="correct horse", use_keyring=False)[0].close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(ws))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "correct horse")
    csv = tmp_path / "d.csv"
    csv.write_text("a,churned\n" + "".join(f"{i},{i % 2}\n" for i in range(100)))
    assert main(["data", "import", str(csv), "--name", "d"]) == 0
    assert main(["data", "profile", "d", "--target", "churned"]) == 0
    with Engine.open(ws, Unlock.with_passphrase("correct horse")) as engine:
        assert engine.datasets.profile_targets("d") == ["churned"]
