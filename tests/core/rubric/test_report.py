"""The rubric sign-off report (HTML and PDF) on a rubric result built from the real catalogue.

The result is constructed from the 28 tests of ``resources/rubric/ml_test_score_2017.json``
with a mix of automated, attested and not-done tests, workspace text holding HTML, a valid and
an expired attestation. The reports are read back as a QA lead would get them: the HTML as
text, the PDF with pypdf.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
from pathlib import Path

import pypdf
import pytest

from core.rubric.models import (
    Attestation,
    AttestationId,
    NextStep,
    RubricResult,
    RubricResultId,
    RubricScore,
    RubricTest,
    Section,
    SectionScore,
    TestOutcome,
    TestResult,
    TestStatus,
)
from core.rubric.report import SECTIONS, Grid, anchor, build_report, render_html
from core.rubric.report_pdf import render_pdf

CATALOGUE_FILE = Path(__file__).parents[3] / "resources" / "rubric" / "ml_test_score_2017.json"
RULE = "Each test scores 0 (not done), 0.5 (manual, attested) or 1 (automated); final = minimum of the sums."
NASTY = "<script>alert('x')</script> & \"quoted\""


def catalogue() -> tuple[RubricTest, ...]:
    raw = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return tuple(RubricTest(id=t["id"], section=Section(t["section"]), number=t["number"], title=t["title"],
                            passing=t["passing"], check=t["check"], evidence=t["evidence"],
                            attestation=t["attestation"]) for t in raw["tests"])


def result(tests: tuple[RubricTest, ...]) -> RubricResult:
    results = []
    for t in tests:
        if t.section is Section.DATA:
            results.append(TestResult(t.id, TestStatus.AUTOMATED, TestOutcome.PASS, ("schema:loans@3",),
                                      "2026-12-01T10:00:00+00:00", {"max_missing": 0.1}, "Schema holds."))
        elif t.id == "model.1":
            results.append(TestResult(t.id, TestStatus.MANUAL, TestOutcome.PASS, ("attestation:att1",),
                                      "2026-12-01T10:00:00+00:00", {}, NASTY))
        elif t.id == "model.5":
            results.append(TestResult(t.id, TestStatus.AUTOMATED, TestOutcome.FAIL,
                                      ("model_version:mv1", "evidence:baselines"), "2026-12-01T10:00:00+00:00",
                                      {"baseline_margin": 0.0}, "Loses to the majority baseline by 0.02."))
        elif t.section is Section.MODEL:
            results.append(TestResult(t.id, TestStatus.AUTOMATED, TestOutcome.PASS, ("model_version:mv1",),
                                      "2026-12-01T10:00:00+00:00", {}, "ok"))
        else:
            results.append(TestResult(t.id, TestStatus.NOT_DONE, None, (), "2026-12-01T10:00:00+00:00", {}, "",
                                      reason_not_done="Needs the monitoring part (not built yet)."))
    sums = (SectionScore(Section.DATA, 7.0), SectionScore(Section.MODEL, 6.5), SectionScore(Section.INFRA, 0.0),
            SectionScore(Section.MONITOR, 0.0))
    return RubricResult(RubricResultId("rr1"), "mv1", 2, tuple(results),
                        RubricScore(sums, 0.0, "More of a research project than a productionized system", RULE),
                        "alice", "2026-12-01T10:00:00+00:00")


ATTESTATIONS = (
    Attestation(AttestationId("att1"), "model.1", "mv1", f"Reviewed the spec with the team {NASTY}",
                (("review.pdf", "ab" * 32),), "bob <qa>", "2026-11-30T09:00:00+00:00", "2027-03-01T00:00:00+00:00"),
    Attestation(AttestationId("att0"), "model.2", "mv1", "An old review", (), "carol",
                "2026-01-01T09:00:00+00:00", "2026-06-01T00:00:00+00:00"),
)
STEPS = (NextStep("infra.1", Section.INFRA, 1.0, "Reproducible training (automated once the part lands)."),
         NextStep("monitor.1", Section.MONITOR, 0.5, "An attestation of dependency alerts."))


@pytest.fixture(scope="module")
def page() -> str:
    tests = catalogue()
    return render_html(result(tests), tests, attestations=ATTESTATIONS, next_steps=STEPS, model_label="loans@3",
                       generated_at="2026-12-01T11:00:00+00:00")


def test_workspace_text_is_escaped(page: str) -> None:
    assert "<script>" not in page
    assert html.escape(NASTY) in page
    assert "bob &lt;qa&gt;" in page


def test_nothing_is_fetched(page: str) -> None:
    assert not re.search(r"(?:https?:)?//|\bsrc\s*=|@import|url\(|<link|<script", page, re.IGNORECASE)
    hrefs = re.findall(r"href='([^']*)'", page)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    ids = set(re.findall(r"id='([^']*)'", page))
    assert {h[1:] for h in hrefs} <= ids  # every evidence link lands in the document
    assert anchor("evidence:baselines") in ids


def test_rule_is_printed_next_to_the_score(page: str) -> None:
    score_at = page.index("Final score: 0 (More of a research project")
    rule_at = page.index(f"Scoring rule: {html.escape(RULE)}")
    assert 0 < rule_at - score_at < 200
    assert "the minimum of the four section sums (0)" in page


def test_sums_beside_the_minimum_and_every_test(page: str) -> None:
    score = page[page.index("<h2>Score</h2>"):page.index("<h2>Next steps</h2>")]
    rows = re.findall(r"<tr( class=flag)?><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", score)
    assert [(r[1], r[2], r[3]) for r in rows] == [("Features and data", "7", "7"), ("Model development", "6.5", "7"),
                                                  ("ML infrastructure", "0", "7"), ("Monitoring", "0", "7")]
    assert [r[4] for r in rows] == ["", "", "the minimum", "the minimum"]
    assert [bool(r[0]) for r in rows] == [False, False, True, True]
    for t in catalogue():
        assert html.escape(f"{t.id} {t.title}") in page
    assert "Needs the monitoring part (not built yet)." in page
    assert "max_missing = 0.1" in page
    assert "2026-12-01 10:00 UTC" in page


def test_attestations_and_next_steps(page: str) -> None:
    att = page[page.index("<h2>Attestations</h2>"):page.index("<h2>Evidence read</h2>")]
    assert "bob &lt;qa&gt;" in att and "review.pdf (SHA-256 " + "ab" * 32 in att
    assert "2027-03-01 00:00 UTC (counted)" in att and "2026-06-01 00:00 UTC (not counted: expired)" in att
    model = page[page.index("<h2>Model development</h2>"):page.index("<h2>ML infrastructure</h2>")]
    assert "manual (attested)" in model and "href='#ev-attestation-att1'" in model
    steps = page[page.index("<h2>Next steps</h2>"):page.index("<h2>Features and data</h2>")]
    assert steps.index("infra.1") < steps.index("monitor.1") and "+1" in steps and "+0.5" in steps


def test_sections_in_order() -> None:
    tests = catalogue()
    report = build_report(result(tests), tests)
    assert tuple(p.title for p in report.parts) == SECTIONS
    assert "No next steps were given" in str(report.parts[SECTIONS.index("Next steps")])
    many = tuple(NextStep(f"monitor.{i % 7 + 1}", Section.MONITOR, 1.0, f"step {i}") for i in range(12))
    steps = build_report(result(tests), tests, next_steps=many).parts[SECTIONS.index("Next steps")]
    grid = next(b for b in steps.blocks if isinstance(b, Grid))
    assert [row[3].text for row in grid.rows] == [f"step {i}" for i in range(10)]
    assert "2 more tests could add points" in str(steps)
    assert "No attestations." in str(report.parts[SECTIONS.index("Attestations")])


def test_pdf_opens_and_says_the_same() -> None:
    tests = catalogue()
    data = render_pdf(result(tests), tests, attestations=ATTESTATIONS, next_steps=STEPS, model_label="loans@3",
                      generated_at="2026-12-01T11:00:00+00:00")
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert [o.title for o in reader.outline if not isinstance(o, list)] == list(SECTIONS)
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    flat = " ".join(text.split())
    assert "loans@3" in flat and "bob <qa>" in flat and "<script>alert('x')</script>" in flat
    score_page = next(p for p in pages if "Final score" in p)
    assert "Scoring rule" in score_page
    for t in tests:
        assert t.id in flat
    assert "(not counted: expired)" in flat and "(counted)" in flat


@pytest.mark.slow  # trains a tiny model
def test_export_report_is_audited_owner_only_and_checked_first(engine, trained, tmp_path: Path) -> None:
    from core.errors import InvalidInput

    version = trained()
    result = engine.rubric.run(version.label).value
    with pytest.raises(InvalidInput, match="does not exist"):
        engine.rubric.export_report(version.label, tmp_path / "missing" / "r.pdf", format="pdf")
    with pytest.raises(InvalidInput, match="html or pdf"):
        engine.rubric.export_report(version.label, tmp_path / "r.txt", format="txt")
    assert engine.audit.events(action="rubric.report_exported")[0] == []
    html_out = engine.rubric.export_report(version.label, tmp_path / "r.html", format="html")
    pdf_out = engine.rubric.export_report(result.id, tmp_path / "r.pdf", format="pdf")
    assert pdf_out.value == tmp_path / "r.pdf"
    assert html_out.value == tmp_path / "r.html" and "audit" in html_out.changes
    for path in (tmp_path / "r.html", tmp_path / "r.pdf"):
        assert path.stat().st_mode & 0o777 == 0o600
    events, _ = engine.audit.events(action="rubric.report_exported")
    assert sorted(e.details["format"] for e in events) == ["html", "pdf"]
    assert {e.subject for e in events} == {f"model:{version.label}"}
    assert {e.details["result"] for e in events} == {result.id}
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"ML Test Score rubric: {version.label}" in page
    assert html.escape(result.score.rule_text) in page
    reader = pypdf.PdfReader(tmp_path / "r.pdf")
    assert [o.title for o in reader.outline if not isinstance(o, list)] == list(SECTIONS)


@pytest.mark.slow  # trains a tiny model
def test_cli_rubric_report_writes_both_files(engine, trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import json as json_module

    from core.cli.main import main
    from tests.conftest import PASSPHRASE

    version = trained()
    engine.rubric.run(version.label)
    path = engine.path
    engine.close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(path))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", PASSPHRASE)
    assert main(["rubric", "report", version.label]) == 2
    assert "--html FILE, --pdf FILE" in capsys.readouterr().err
    assert main(["rubric", "report", "nosuchmodel", "--html", str(tmp_path / "x.html")]) == 2
    assert not (tmp_path / "x.html").exists()
    capsys.readouterr()
    html_file, pdf_file = tmp_path / "r.html", tmp_path / "r.pdf"
    assert main(["rubric", "report", version.label, "--html", str(html_file), "--pdf", str(pdf_file), "--json"]) == 0
    assert json_module.loads(capsys.readouterr().out) == {"files": [str(html_file), str(pdf_file)]}
    assert "Scoring rule:" in html_file.read_text(encoding="utf-8")
    assert pypdf.PdfReader(pdf_file).pages


def test_long_record_ids_are_cut_in_cells_but_whole_in_the_evidence_list() -> None:
    tests = catalogue()
    long_id = "4a7ff502-51db-4135-9e7b-62b627c186e2"
    base = result(tests)
    first = base.results[0]
    changed = dataclasses.replace(first, evidence=(f"model_version:{long_id}", "schema:loans@3"))
    page = render_html(dataclasses.replace(base, results=(changed, *base.results[1:])), tests)
    assert ">model_version:4a7ff502-51d…</a>" in page and ">schema:loans@3</a>" in page
    evidence = page[page.index("<h2>Evidence read</h2>"):]
    assert f"<td>{long_id}</td>" in evidence
