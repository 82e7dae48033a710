"""The package's contents from a real trained model: deterministic, complete, readable, free of identifier values."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import formats
from core.promotion.contents import (
    CANARY_ROWS,
    REDACTED,
    Scrubber,
    draw_canary,
    gather_contents,
    parquet_bytes,
    read_evidence,
    redact_evidence,
)
from core.promotion.model_card import INTENDED_USE_MISSING, ModelCard
from core.promotion.models import Manifest
from core.training.models import (
    EvidenceKind,
    Explanation,
    ModelVersion,
    SliceMetric,
    SliceReport,
)
from tests.core.promotion.conftest import identifiers

AUTHOR, KEYID = "Ada Author", "ab" * 32


def gather(engine: Any, ref: str) -> tuple[Manifest, dict[str, bytes]]:
    return gather_contents(engine.training, engine.rubric, engine.datasets, ref, author=AUTHOR, author_keyid=KEYID,
                           source_workspace=engine.workspace.info())


@pytest.fixture
def gathered(dev: tuple[Any, ModelVersion]) -> tuple[Any, ModelVersion, Manifest, dict[str, bytes]]:
    engine, version = dev
    manifest, files = gather(engine, version.label)
    return engine, version, manifest, files


def test_the_same_version_gives_the_same_bytes(gathered: Any) -> None:
    engine, version, manifest, files = gathered
    again_manifest, again = gather(engine, version.label)
    assert again_manifest == manifest
    assert sorted(again) == sorted(files)
    for path in files:
        assert again[path] == files[path], path


def test_every_file_of_the_layout_is_there(gathered: Any) -> None:
    _, version, manifest, files = gathered
    expected = {"manifest.json", "model/pipeline.joblib", "model_card.md", "model_card.json", "evidence/evidence.json",
                "rubric/result.json", "schema.json", "report/model.pdf", "canary/rows.parquet",
                "canary/predictions.json"}
    assert expected <= set(files)
    plots = {p for p in files if p.startswith("evidence/") and p.endswith(".png")}
    assert {"evidence/roc.png", "evidence/slices.png"} <= plots
    assert all(files[p].startswith(b"\x89PNG") for p in plots)
    assert files["report/model.pdf"].startswith(b"%PDF")
    assert list(files) == sorted(files)
    assert {e.path for e in manifest.artefacts} == {f"model/{n}" for n, _ in version.artefacts}
    assert all(files[f"model/{n}"] and __import__("hashlib").sha256(files[f"model/{n}"]).hexdigest() == sha
               for n, sha in version.artefacts)
    assert [(e.path, e.format) for e in manifest.artefacts] == [("model/pipeline.joblib", "joblib")]


def test_manifest_round_trips_and_says_what_the_version_is(gathered: Any) -> None:
    engine, version, manifest, files = gathered
    assert formats.loads(Manifest, files["manifest.json"]) == manifest
    assert files["manifest.json"] == formats.dumps(manifest)
    info = engine.workspace.info()
    assert (manifest.model, manifest.version, manifest.model_version_id) == ("cancer", 1, version.id)
    assert (manifest.author, manifest.author_keyid) == (AUTHOR, KEYID)
    assert (manifest.source_workspace_id, manifest.audit_seq, manifest.audit_hash) == (
        info.id, info.audit_head.seq, info.audit_head.hash)
    assert manifest.lineage.dataset_sha256 == version.dataset_sha256
    assert manifest.lineage.spec_hash == version.spec_hash
    run = next(r for r in engine.training.runs() if r.model_version == version.id)
    assert manifest.lineage.training_run_id == run.id
    assert manifest.created_at == version.created_at
    assert manifest.holdout == version.holdout.value and manifest.metric == "roc_auc" and manifest.task == "binary"
    names = [n for n, _ in manifest.environment]
    assert names == sorted(names, key=str.lower)
    assert ("python", version.environment.python) in manifest.environment
    assert set(version.environment.packages) <= set(manifest.environment)
    latest = engine.rubric.show(version.label)
    assert manifest.rubric is not None
    assert (manifest.rubric.result_id, manifest.rubric.score, manifest.rubric.band) == (
        latest.id, latest.score.final, latest.score.band)
    assert set(manifest.rubric.failed) == {r.test_id for r in latest.results if r.outcome == "fail"}
    assert formats.loads("airlock.rubric_result", files["rubric/result.json"]).id == latest.id


def test_model_card_names_model_version_dataset_and_rubric(gathered: Any) -> None:
    engine, version, manifest, files = gathered
    markdown = files["model_card.md"].decode("utf-8")
    card = formats.loads(ModelCard, files["model_card.json"])
    assert files["model_card.json"] == formats.dumps(card)
    assert markdown.startswith("# Model card: cancer@1")
    for text in (version.id, version.dataset_sha256, version.spec_hash, version.dataset, KEYID, AUTHOR,
                 manifest.rubric.band if manifest.rubric else "?"):
        assert text in markdown, text
    assert f"Final score **{manifest.rubric.score:g}**" in markdown
    assert INTENDED_USE_MISSING in markdown  # nothing recorded, nothing invented
    assert card.intended_use is None
    assert card.training_data.rows == engine.datasets.version(version.dataset).row_count
    assert card.evaluation.holdout == version.holdout
    assert card.rubric is not None and card.rubric.score == manifest.rubric.score
    assert any("Rubric tests failed" in c for c in card.caveats)
    assert any("no sensitive attribute" in c for c in card.caveats)
    assert any("explanation" in w for w in card.withheld)
    holdout = f"{version.holdout.value:.4g}"
    assert holdout in markdown


def test_no_identifier_value_appears_in_any_file(gathered: Any) -> None:
    engine, version, _, files = gathered
    rows = engine.datasets.version(version.dataset).row_count
    codes, numbers = identifiers(rows)
    needles = [c.encode() for c in codes] + [str(n).encode() for n in numbers]
    for path, data in files.items():
        hits = [n for n in needles if n in data]
        assert not hits, f"{path} holds {hits[:3]}"
    # the store does hold them: the check above could fail
    table = engine.datasets.read_table(version.dataset)
    assert table.column("patient_id").to_pylist() == codes


def test_evidence_has_no_row_explanation_and_reads_back(gathered: Any) -> None:
    engine, version, _, files = gathered
    stored = engine.training.evidence(version.label)
    assert stored.item(EvidenceKind.EXPLANATION) is not None  # the workspace has one: the package leaves it out
    items = read_evidence(files["evidence/evidence.json"])
    kinds = {i.kind for i in items}
    assert EvidenceKind.EXPLANATION not in kinds
    assert {EvidenceKind.HOLDOUT_METRICS, EvidenceKind.BASELINES, EvidenceKind.SLICES} <= kinds
    body = json.loads(files["evidence/evidence.json"])
    assert body["withheld"] and "explanation" in body["withheld"][0]


def test_redaction_removes_slices_of_identifier_columns_and_texts_of_their_values() -> None:
    slices = SliceReport(
        EvidenceKind.SLICES, "m", "roc_auc", 0.9, 30, 0.05,
        (SliceMetric("patient_id", "PT-00aa11bb22", False, 40, 0.5, 0.4, 0.6, -0.4, True),
         SliceMetric("mean radius", "(6.98, 11.91]", False, 40, 0.9, 0.8, 1.0, 0.0, False)),
        ("patient_id=PT-00cc: 2 rows (fewer than 30)", "mean radius=(1, 2]: 3 rows (fewer than 30)"),
    )
    explanation = Explanation(EvidenceKind.EXPLANATION, "m", 3, "1", 0.9, "probability", None, ())
    items, withheld, removed = redact_evidence([explanation, slices], frozenset({"patient_id"}))
    assert [i.kind for i in items] == [EvidenceKind.SLICES]
    kept = items[0]
    assert isinstance(kept, SliceReport)
    assert [s.column for s in kept.slices] == ["mean radius"]
    assert kept.skipped == ("mean radius=(1, 2]: 3 rows (fewer than 30)",)
    assert removed == (("patient_id", "PT-00aa11bb22"),)
    assert len(withheld) == 2
    scrub = Scrubber(frozenset({"PT-00aa11bb22", "ada@example.org"}))
    assert scrub.text("weak: x=PT-00aa11bb22 (gap 0.4)") == f"weak: x={REDACTED} (gap 0.4)"
    assert scrub.text("mail ada@example.org, ok") == f"mail {REDACTED}, ok"
    assert scrub.text("PT-00aa11bb2 is not it") == "PT-00aa11bb2 is not it"


def test_canary_predictions_are_the_development_pipelines(gathered: Any) -> None:
    engine, version, manifest, files = gathered
    assert manifest.canary is not None
    rows = pq.read_table(io.BytesIO(files["canary/rows.parquet"]))
    assert rows.num_rows == manifest.canary.rows == min(CANARY_ROWS, engine.datasets.version(version.dataset).row_count)
    spec = engine.training.spec(version.spec_hash)
    assert rows.column_names == list(spec.features)
    assert "target" not in rows.column_names and "patient_id" not in rows.column_names
    expected = engine.training.predict(version.label, rows)
    got = json.loads(files["canary/predictions.json"])
    assert len(got) == len(expected)
    assert all(a == b for a, b in zip(got, expected, strict=True))  # labels: equal
    assert manifest.canary.tolerance == 1e-9


def test_no_canary_row_is_a_training_row(gathered: Any) -> None:
    engine, version, _, files = gathered
    spec = engine.training.spec(version.spec_hash)
    training = engine.datasets.read_table(version.dataset).select(list(spec.features)).to_pandas()
    canary = pq.read_table(io.BytesIO(files["canary/rows.parquet"])).to_pandas()
    merged = canary.merge(training.drop_duplicates(), how="inner", on=list(spec.features))
    assert merged.empty
    # each column's values come from the training column (a mix of records, not invented numbers)
    for column in spec.features:
        assert set(canary[column]) <= set(training[column])
    # and the draw mixes records: most canary rows differ from the training row their first value came from
    assert canary.shape[0] > 1


def test_canary_draw_is_deterministic_and_drops_rows_it_cannot_make_unreal() -> None:
    table = pa.table({"a": list(range(200)), "b": [float(i) * 0.5 for i in range(200)], "c": ["x", "y"] * 100})
    first, second = draw_canary(table, ["a", "b", "c"], seed=(13, 0)), draw_canary(table, ["a", "b", "c"], seed=(13, 0))
    assert first.equals(second)
    assert parquet_bytes(first) == parquet_bytes(second)
    assert first.num_rows == CANARY_ROWS
    real = set(zip(*(table.column(n).to_pylist() for n in ("a", "b", "c")), strict=True))
    assert not any(r in real for r in zip(*(first.column(n).to_pylist() for n in ("a", "b", "c")), strict=True))
    assert not draw_canary(table, ["a", "b", "c"], seed=(14, 0)).equals(first)
    # one feature: every drawn value is some record's value, so nothing is left
    assert draw_canary(table, ["a"], seed=(13, 0)).num_rows == 0


def test_without_rubric_the_manifest_has_none(make_dev: Any) -> None:
    engine, version = make_dev(ids=False, rubric=False)
    manifest, files = gather(engine, version.label)
    assert manifest.rubric is None
    assert "rubric/result.json" not in files
    assert "The rubric was never run for this version." in files["model_card.md"].decode()
    card = formats.loads(ModelCard, files["model_card.json"])
    assert card.rubric is None
    stored = dict(engine.training.plots(version.label))
    assert {f"evidence/{n}": png for n, png in stored.items()} == {
        p: b for p, b in files.items() if p.endswith(".png")}  # the plots as stored
