"""``airlock data``: import, list, profile, schema, drift with its exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from core.api import Engine

    path = tmp_path / "w.airlock"
    Engine.create(path, name="T", passphrase="correct horse", use_keyring=False)[0].close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(path))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "correct horse")
    return path


def _csv(path: Path, shift: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    pairs = zip(rng.normal(shift, 1, 3000), rng.choice(["a", "b"], 3000), strict=True)
    path.write_text("x,g\n" + "".join(f"{v:.4f},{g}\n" for v, g in pairs))
    return path


def test_import_profile_schema_and_drift_exit_codes(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "import", str(_csv(tmp_path / "a.csv", 0, 1)), "--name", "d"]) == 0
    assert "Imported d@1" in capsys.readouterr().out
    assert main(["data", "import", str(_csv(tmp_path / "b.csv", 0, 2)), "--name", "d"]) == 0
    assert main(["data", "import", str(_csv(tmp_path / "c.csv", 1.5, 3)), "--name", "d"]) == 0
    capsys.readouterr()
    assert main(["data", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["versions"] == 3
    html = tmp_path / "r.html"
    assert main(["data", "profile", "d@1", "--json", "--html", str(html)]) == 0
    page = html.read_text()
    assert json.loads(capsys.readouterr().out)["row_count"] == 3000
    assert "<svg" in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # charts inline, nothing fetched
    assert main(["data", "schema", "infer", "d@1"]) == 0
    assert main(["data", "schema", "validate", "d", "d@2"]) == 0
    capsys.readouterr()
    assert main(["data", "drift", "d@1", "d@2"]) == 0
    assert "no drift" in capsys.readouterr().out
    assert main(["data", "drift", "d@1", "d@3", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["drifted_columns"] == ["x"]
    assert main(["data", "drift", "d@1", "nope"]) == 2


def test_password_in_sql_url_is_refused(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "import", "--sql", "postgresql://u:hunter2@db/x", "--query", "select 1", "--name", "q"])
    assert code == 2 and "AIRLOCK_SQL_PASSWORD" in capsys.readouterr().err


def test_bad_file_exits_2_with_the_line(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    assert main(["data", "import", str(bad)]) == 2
    assert "line 3" in capsys.readouterr().err


def test_not_pii_shows_the_values_of_a_column_the_user_vouches_for(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.core.data.real_data import frame, write_csv

    wine = frame("wine").head(120)
    wine.insert(0, "taster", [f"Taster Number {i}" for i in range(len(wine))])  # unique names: personal data
    assert main(["data", "import", str(write_csv("wine", tmp_path, df=wine)), "--name", "w"]) == 0
    capsys.readouterr()

    def taster() -> dict[str, object]:
        body = json.loads(capsys.readouterr().out)
        return next(c for c in body["columns"] if c["name"] == "taster")

    assert main(["--json", "data", "profile", "w"]) == 0
    redacted = taster()
    assert redacted["pii"] is not None and all("Taster" not in str(v) for v, _ in redacted["top_values"])
    assert main(["--json", "data", "profile", "w", "--not-pii", "taster"]) == 0
    shown = taster()
    assert any("Taster Number" in str(v) for v, _ in shown["top_values"])
    assert main(["--json", "data", "profile", "w", "--not-pii", "no such column"]) == 2
