"""Profile reports: the PDF opens and has its sections; the HTML page stands alone."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pypdf import PdfReader
from sklearn.datasets import load_breast_cancer

from core.cli.main import main
from core.data.profiling import profile_table
from core.data.report import render_html
from core.data.report_pdf import SECTIONS, render_pdf


@pytest.fixture(scope="module")
def profile():  # type: ignore[no-untyped-def]
    data = load_breast_cancer(as_frame=True).frame
    data["leak"] = data["target"] * 10 + 3
    data["grade <i>&"] = np.where(data["mean radius"] > 14, "high <b>&", "low")
    data["email"] = [f"p{i}@example.com" for i in range(len(data))]
    return profile_table(pa.Table.from_pandas(data, preserve_index=False), target="target")


def test_pdf_opens_with_every_section_and_the_alerts_ranked(profile) -> None:  # type: ignore[no-untyped-def]
    reader = PdfReader(io.BytesIO(render_pdf(profile, "Profile of cancer@1")))
    assert [o.title for o in reader.outline] == list(SECTIONS)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Profile of cancer@1" in text and "569" in text
    assert "possible target leakage" in text and "leak" in text
    assert "grade <i>&" in text  # escaped, printed as written
    assert "p0@example.com" not in text  # redacted values stay redacted
    severities = [a.severity for a in profile.alerts]
    assert severities[0] == "high" and len(set(severities)) > 1
    alerts_page = text[text.index("\nAlerts\n"):]
    where = [alerts_page.find(a.message[:18]) for a in profile.alerts]
    assert -1 not in where and where == sorted(where)  # most severe first, as in the profile
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 10  # histograms, top values and the heatmap


def test_pdf_without_target_has_no_target_section() -> None:
    prof = profile_table(pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 4.0, 6.0, 9.0]}))
    reader = PdfReader(io.BytesIO(render_pdf(prof, "small")))
    assert "Target associations" not in [o.title for o in reader.outline]


def test_html_has_no_external_references(profile) -> None:  # type: ignore[no-untyped-def]
    page = render_html(profile, "cancer <1>")
    refs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)""", page, flags=re.IGNORECASE)
    assert refs and all(r.startswith("data:image/png;base64,") for r in refs)
    outside_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"https?:|//[a-z]|url\(|@import|<script|<link|<iframe", outside_images, flags=re.IGNORECASE)
    assert "association heatmap" in page and "cancer &lt;1&gt;" in page


def test_cli_writes_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.api import Engine

    ws = tmp_path / "w.airlock"
    Engine.create(ws, name="T", passphrase="correct horse", use_keyring=False)[0].close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(ws))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "correct horse")
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(300)))
    assert main(["data", "import", str(csv), "--name", "d"]) == 0
    out = tmp_path / "r.pdf"
    assert main(["data", "profile", "d", "--target", "y", "--pdf", str(out)]) == 0
    reader = PdfReader(out)
    assert "Target associations" in [o.title for o in reader.outline]
    assert "Profile of d@1" in reader.pages[0].extract_text()
