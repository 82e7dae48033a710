"""Every --screenshot has the same size, whichever page it shows (the assessment page is the widest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from desktop import app


@pytest.mark.parametrize("page", ["assessment", "datasets", "users"])
def test_screenshots_of_every_page_have_one_size(qtbot, workspace_path: Path, tmp_path: Path, monkeypatch,
                                                 page: str) -> None:
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "pw-demo-123")
    out = tmp_path / f"{page}.png"
    assert app.main(["--workspace", str(workspace_path), "--page", page, "--screenshot", str(out)]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == app.SCREENSHOT_SIZE
