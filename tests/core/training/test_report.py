"""The model report (HTML and PDF) and its audited export, on a model really trained on breast_cancer.

One model is trained once for the module (through ``engine.training.run``, tiny budget) on
scikit-learn's breast cancer data with a slice column whose levels hold HTML and a sensitive
column, in a real encrypted workspace; each test reopens that workspace. The reports are
read back as a reviewer would get them: the HTML as text, the PDF with pypdf.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.api import Engine, Unlock
from core.cli.main import main
from core.errors import ReadOnlyWorkspace
from core.training.models import (
    Algorithm,
    Device,
    EnvironmentLock,
    Evidence,
    EvidenceKind,
    MetricValue,
    ModelVersion,
    ModelVersionId,
    SearchSpec,
    SplitSpec,
    Task,
)
from core.training.report import SECTIONS, build_report, render_html
from core.training.report_pdf import render_pdf
from tests.conftest import PASSPHRASE
from tests.core.data import real_data

#: A slice level that is HTML (and a formula-looking ampersand): it must come out as text.
HOSTILE = "<script>alert('x')</script> & <b>co</b>"
FEATURES = ("mean radius", "mean texture", "mean smoothness", "worst area", "worst concavity", "site")


@dataclasses.dataclass(frozen=True)
class Trained:
    path: Path
    label: str


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    folder = tmp_path_factory.mktemp("report")
    df = real_data.frame("breast_cancer")
    df["site"] = np.where(df["mean radius"] > 14, HOSTILE, "south")
    df["sex"] = np.random.default_rng(0).choice(["f", "m"], len(df))
    csv = real_data.write_csv("cancer", folder, df=df)
    engine, _ = Engine.create(folder / "w.airlock", name="Test", passphrase=PASSPHRASE, use_keyring=False)
    try:
        version = engine.datasets.import_file(csv, name="cancer").value.version
        spec = engine.training.init_spec(version.label, "target", task=Task.BINARY)
        spec = dataclasses.replace(
            spec, features=FEATURES, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,),
            search=SearchSpec(trials=2), split=SplitSpec(cv_folds=3), bootstrap_rounds=50, smoke_rows=100,
            slices=("site",), sensitive=("sex",),
        )
        label = engine.training.run(spec, model="cancer").value.label
    finally:
        engine.close()
    return Trained(folder / "w.airlock", label)


def _open(t: Trained, *, read_only: bool = False) -> Engine:
    return Engine.open(t.path, Unlock.with_passphrase(PASSPHRASE), read_only=read_only)


def _text(html_page: str) -> str:
    """The page's visible text, entities decoded (what a reader sees)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", html_page))


@pytest.mark.slow  # trains once for the module: train and repeat children
def test_the_html_report_is_self_contained_escapes_data_text_and_states_each_method(
    trained: Trained, tmp_path: Path,
) -> None:
    dest = tmp_path / "model.html"
    with _open(trained) as engine:
        result = engine.training.export_report(trained.label, dest, format="html")
        version = engine.training.model_version(trained.label)
        evidence = engine.training.evidence(trained.label)
        plots = engine.training.plots(trained.label)
        events, _ = engine.audit.events(action="training.report_exported")
    assert result.value == dest and "audit" in result.changes
    assert events[0].subject == f"model:{trained.label}" and events[0].details["file"] == "model.html"
    assert dest.stat().st_mode & 0o777 == 0o600
    page = dest.read_text(encoding="utf-8")
    # Data text is text: the hostile slice level is escaped, never markup.
    assert "<script" not in page and "<b>co</b>" not in page
    assert html.escape(HOSTILE) in page
    # Nothing is fetched: no URL anywhere, every image inline.
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.I)
    sources = re.findall(r"""\b(?:src|href)\s*=\s*['"]?([^'" >]+)""", page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert len(sources) == len(plots) and plots
    for name, png in plots:
        assert base64.b64encode(png).decode("ascii") in page, name
    text = _text(page)
    for section in SECTIONS:
        assert section in text
    # What was trained on what, with lineage a reviewer can check.
    assert version.dataset_sha256 in text and version.spec_hash in text and version.dataset in text
    assert all(f in text for f in FEATURES) and version.environment.python in text
    # Every evidence item states its method; so does the holdout figure.
    kinds = {i.kind for i in evidence.items}
    assert {EvidenceKind.SEARCH, EvidenceKind.BASELINES, EvidenceKind.SLICES, EvidenceKind.FAIRNESS,
            EvidenceKind.REPRODUCIBILITY, EvidenceKind.SMOKE} <= kinds
    for item in evidence.items:
        assert item.method in text, item.kind
    assert version.holdout.method in text
    assert "Staleness was not measured" in text  # no date column: said, not left out silently


@pytest.mark.slow
def test_the_pdf_report_opens_and_has_every_section_bookmarked(trained: Trained, tmp_path: Path) -> None:
    from pypdf import PdfReader

    dest = tmp_path / "model.pdf"
    with _open(trained) as engine:
        engine.training.export_report(trained.label, dest, format="pdf")
        version = engine.training.model_version(trained.label)
        n_plots = len(engine.training.plots(trained.label))
    assert dest.stat().st_mode & 0o777 == 0o600
    reader: Any = PdfReader(io.BytesIO(dest.read_bytes()))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    for section in SECTIONS:
        assert section in flat, section
    assert [o.title for o in reader.outline] == list(SECTIONS)
    assert HOSTILE.split("<")[1].split(">")[0] in flat  # the level printed as text ("script")
    assert version.label in flat and "Method:" in flat
    images = sum(len(p.images) for p in reader.pages)
    assert images == n_plots
    fonts = [f for page in reader.pages for f in dict(page["/Resources"].get_object().get("/Font") or {})]
    assert fonts  # the report font goes with the file


@pytest.mark.slow
def test_the_export_is_refused_on_a_read_only_open_before_any_work(trained: Trained, tmp_path: Path) -> None:
    dest = tmp_path / "model.pdf"
    with _open(trained, read_only=True) as engine:
        with pytest.raises(ReadOnlyWorkspace, match="read-only"):
            engine.training.export_report(trained.label, dest, format="pdf")
    assert not dest.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cli_models_report_writes_both_files(trained: Trained, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AIRLOCK_NO_KEYRING", "1")
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", PASSPHRASE)
    ws = ["--workspace", str(trained.path)]
    h, p = tmp_path / "r.html", tmp_path / "r.pdf"
    assert main([*ws, "models", "report", trained.label, "--html", str(h), "--pdf", str(p)]) == 0
    out = capsys.readouterr().out
    assert f"Wrote {h}" in out and f"Wrote {p}" in out
    assert h.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and p.read_bytes().startswith(b"%PDF")
    assert main([*ws, "models", "report", trained.label]) == 2
    assert "--html FILE, --pdf FILE" in capsys.readouterr().err


def _bare_version() -> ModelVersion:
    return ModelVersion(
        id=ModelVersionId("v-1"), model="m", number=1, spec_hash="a" * 64, dataset="d@1", dataset_version_id="dv",
        dataset_sha256="b" * 64, algorithm=Algorithm.RIDGE, params={"alpha": 1.0}, metric="r2",
        holdout=MetricValue("r2", 0.5, None, None, "r2 on 10 holdout rows; no interval"), device=Device.CPU, seed=0,
        wall_seconds=1.0,
        peak_memory_bytes=1_000_000, environment=EnvironmentLock("3.11", "Linux", "cpu", None, (("numpy", "2"),)),
        created_by="<img src=x>", created_at="2026-01-01T00:00:00Z", artefacts=(),
    )


def test_a_version_without_evidence_or_spec_says_what_is_missing_instead_of_inventing_it() -> None:
    version = _bare_version()
    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    page = render_html(version, Evidence(version.id, ()), (), generated_at=at)
    text = _text(page)
    assert "<img" not in page and "&lt;img src=x&gt;" in page  # the user's name is text too
    assert "The spec itself was not available" in text
    assert "No search table was stored" in text and "No reproducibility check was stored" in text
    assert "No smoke run was stored" in text and "r2 on 10 holdout rows; no interval" in text
    assert "2026-01-02 00:00 UTC" in text
    report = build_report(version, Evidence(version.id, ()), (), generated_at=at)
    assert [s.title for s in report.sections] == list(SECTIONS)
    pdf = render_pdf(version, Evidence(version.id, ()), (), generated_at=at)
    assert pdf.startswith(b"%PDF") and pdf == render_pdf(version, Evidence(version.id, ()), (), generated_at=at)


def test_rounding_noise_reads_as_zero_and_intervals_say_their_ends() -> None:
    from core.training.report import interval_text, num

    assert num(-3.3e-17) == "0" and num(1e-5) == "1.000e-05"
    assert interval_text(0.25, 0.75) == "0.25 to 0.75" and interval_text(None, 1.0) == "—"
