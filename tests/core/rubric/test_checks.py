"""The automated checks of the rubric: each passes on good evidence and fails on constructed bad evidence.

The inputs are built from the real value classes (model version, evidence items, spec, schema,
validation report, profile), not stand-ins: a good model that passes every check, and for each
check one change that must make it fail (a model that loses to its baseline, a weak slice, a
fairness gap, a PII feature, a missing schema …). The end-to-end test trains a real small
model on breast_cancer in a real encrypted workspace and runs the checks on what was stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.data.models import (
    REDACTED,
    Anomaly,
    AnomalyKind,
    ColumnProfile,
    ColumnSchema,
    ColumnType,
    PiiKind,
    Profile,
    Schema,
    SemanticType,
    Severity,
    ValidationReport,
)
from core.rubric import checks
from core.rubric.checks import RubricInputs, evaluate
from core.rubric.models import DEFAULT_POLICY, RubricPolicy, TestOutcome, TestStatus
from core.training.models import (
    Algorithm,
    AttributeFairness,
    Baselines,
    BaselineScore,
    Contribution,
    Device,
    EnvironmentLock,
    EvidenceItem,
    EvidenceKind,
    Explanation,
    FeatureCost,
    FeatureCostRow,
    FeatureImportance,
    GroupRates,
    Inclusion,
    MetricValue,
    ModelVersion,
    ModelVersionId,
    PermutationImportance,
    ReproducibilityResult,
    SearchSpec,
    SearchTable,
    SliceMetric,
    SliceReport,
    SmokeResult,
    SplitSpec,
    Staleness,
    StalenessWindow,
    Task,
    TrainingSpec,
    TrialResult,
    spec_hash,
)

FEATURES = ("income", "tenure")
POLICY = RubricPolicy(version=2, baseline_margin=0.02, slice_floor=0.7, quality_floor=0.8,
                      deny_list=("ssn*",))


def _spec(**changes: Any) -> TrainingSpec:
    base = TrainingSpec("loans@1", "a" * 64, "target", Task.BINARY, FEATURES, algorithms=(Algorithm.RANDOM_FOREST,),
                        slices=("region",), sensitive=("sex",), metric="roc_auc")
    return dataclasses.replace(base, **changes)


def _model(spec: TrainingSpec, **changes: Any) -> ModelVersion:
    mv = ModelVersion(
        id=ModelVersionId("mv1"), model="loans", number=1, spec_hash=spec_hash(spec), dataset="loans@1",
        dataset_version_id="dv1", dataset_sha256="a" * 64, algorithm=Algorithm.RANDOM_FOREST, params={},
        metric="roc_auc", holdout=MetricValue("roc_auc", 0.9, 0.87, 0.93, "bootstrap"), device=Device.CPU, seed=0,
        wall_seconds=1.0, peak_memory_bytes=1, created_by="ana", created_at="2026-12-01T00:00:00+00:00",
        environment=EnvironmentLock("3.11", "Linux", "cpu", None, (("numpy", "2"),)), artefacts=(),
    )
    return dataclasses.replace(mv, **changes)


def _evidence() -> dict[EvidenceKind, EvidenceItem]:
    k = EvidenceKind
    items: list[EvidenceItem] = [
        PermutationImportance(k.IMPORTANCE, "perm", "roc_auc", 10, (
            FeatureImportance("income", 0.10, 0.01, 0.09, 0.11, False),
            FeatureImportance("tenure", 0.05, 0.01, 0.04, 0.06, False),
        )),
        FeatureCost(k.FEATURE_COST, "timed", 100, 0.01, (
            FeatureCostRow("income", 1, 0.001, 0.5, 800, 0.5),
            FeatureCostRow("tenure", 1, 0.001, 0.5, 800, 0.5),
        )),
        SearchTable(k.SEARCH, "random", "roc_auc", (
            TrialResult(0, Algorithm.RANDOM_FOREST, {"max_depth": 3}, 0.88, 0.01, 1.0),
            TrialResult(1, Algorithm.RANDOM_FOREST, {"max_depth": 6}, 0.90, 0.01, 1.0),
        ), 1, Algorithm.RANDOM_FOREST, {"max_depth": 6}),
        Staleness(k.STALENESS, "backtest", "when", "roc_auc", 500, "2020-01-01T00:00:00", (
            StalenessWindow("2020-01-02", "2020-02-01", 15.0, 100, 0.9),
            StalenessWindow("2020-02-02", "2020-03-01", 45.0, 100, 0.85),
        )),
        Baselines(k.BASELINES, "paired", "roc_auc", 0.9, (
            BaselineScore("dummy", "most frequent", 0.5, 0.4, 0.35, 0.45, True),
            BaselineScore("linear", "logistic", 0.8, 0.1, 0.05, 0.15, True),
        )),
        SliceReport(k.SLICES, "per level", "roc_auc", 0.9, 30, 0.05, (
            SliceMetric("region", "north", True, 60, 0.88, 0.8, 0.95, -0.02, False),
            SliceMetric("region", "south", True, 60, 0.91, 0.85, 0.96, 0.01, False),
        ), ()),
        Inclusion(k.FAIRNESS, "fairlearn", "1", (
            AttributeFairness("sex", (GroupRates("f", 50, 0.5, 0.1, 0.1, 0.9, None),
                                      GroupRates("m", 50, 0.52, 0.12, 0.1, 0.9, None)), 0.02, 0.03),
        )),
        ReproducibilityResult(k.REPRODUCIBILITY, "fresh child", True, True, 0.0, 1e-9, 200),
        SmokeResult(k.SMOKE, "smoke", Algorithm.RANDOM_FOREST, "roc_auc", 200, 0.95, 0.5, True, 0.5),
        Explanation(k.EXPLANATION, "contributions", 0, "1", 0.8, "probability", None, (
            Contribution("num__income", "income", 0.3, 0.2), Contribution("num__tenure", "tenure", -1.2, 0.1),
        )),
    ]
    return {i.kind: i for i in items}


def _schema(revision: int = 2) -> Schema:
    return Schema("loans", revision, (
        ColumnSchema("income", ColumnType.FLOAT, SemanticType.NUMERIC, minimum=0.0),
        ColumnSchema("tenure", ColumnType.INTEGER, SemanticType.NUMERIC),
        ColumnSchema("email", ColumnType.STRING, SemanticType.TEXT),
    ), based_on="loans@1")


def _profile(*, email_top: str = REDACTED) -> Profile:
    return Profile("dv1", 500, 3, 0, 1000, (
        ColumnProfile("income", "double", SemanticType.NUMERIC, 500, 0, 480),
        ColumnProfile("tenure", "int64", SemanticType.NUMERIC, 500, 0, 30),
        ColumnProfile("email", "string", SemanticType.TEXT, 500, 0, 500, top_values=[(email_top, 1)],
                      pii=PiiKind.EMAIL),
    ), (), ())


def _good(**changes: Any) -> RubricInputs:
    spec = _spec()
    inputs = RubricInputs(
        model=_model(spec), evidence=_evidence(), spec=spec, dataset=None, schema=_schema(), schema_edited=True,
        validation=ValidationReport(2, "loans@1", (Anomaly(Severity.LOW, "income", AnomalyKind.OUT_OF_RANGE, "few", 1),)),
        profile=_profile(), encrypted=True, champion_holdout=MetricValue("roc_auc", 0.88, None, None, "bootstrap"),
        champion_label="loans@0", spec_approved_by="rita", pii_values=("ana@example.org",),
        sample_rows=(("52000.5", "7.25", "0.125", "3"),),
    )
    return dataclasses.replace(inputs, **changes)


def _with(kind: EvidenceKind, **changes: Any) -> RubricInputs:
    evidence = _evidence()
    evidence[kind] = dataclasses.replace(evidence[kind], **changes)
    return _good(evidence=evidence)


def _slice(value: float, gap: float) -> SliceMetric:
    return SliceMetric("region", "west", True, 40, value, value - 0.1, value + 0.1, gap, True)


# Each automated check's constructed bad evidence (a list: some checks have several ways to fail).
BAD: dict[str, list[Callable[[], RubricInputs]]] = {
    "data.1": [
        lambda: _good(schema=None, validation=None),  # a missing schema
        lambda: _good(schema_edited=False),  # inferred, never reviewed by a person
        lambda: _good(validation=ValidationReport(2, "loans@1", (
            Anomaly(Severity.HIGH, "tenure", AnomalyKind.TYPE_MISMATCH, "text in an integer column", 3),))),
    ],
    "data.2": [lambda: _with(EvidenceKind.IMPORTANCE, features=(
        FeatureImportance("income", 0.10, 0.01, 0.09, 0.11, False),
        FeatureImportance("tenure", 0.001, 0.01, -0.005, 0.007, True),  # an interval reaching zero
    ))],
    "data.3": [lambda: _with(EvidenceKind.IMPORTANCE, features=(  # half the scoring cost for 1% of the gain
        FeatureImportance("income", 0.10, 0.01, 0.09, 0.11, False),
        FeatureImportance("tenure", 0.001, 0.0001, 0.0009, 0.0011, False),
    ))],
    "data.4": [
        lambda: _good(spec=_spec(features=(*FEATURES, "email"))),  # a PII feature
        lambda: _good(spec=_spec(features=(*FEATURES, "ssn_hash"))),  # on the deny-list
        lambda: _good(spec=_spec(features=(*FEATURES, "gender"), sensitive=())),  # protected, undeclared
    ],
    "data.5": [
        lambda: _good(encrypted=False),
        lambda: _with(EvidenceKind.SLICES, slices=(  # a PII value as a slice level
            SliceMetric("email", "ana@example.org", False, 40, 0.9, 0.8, 0.95, 0.0, False),)),
        lambda: _with(EvidenceKind.EXPLANATION, contributions=(  # a whole training row
            Contribution("num__income", "income", 52000.5, 0.2), Contribution("num__tenure", "tenure", 7.25, 0.1),
            Contribution("num__rate", "rate", 0.125, 0.0),
        )),
        lambda: _with(EvidenceKind.EXPLANATION, predicted="ana@example.org"),  # a PII value as the prediction
        lambda: _with(EvidenceKind.SEARCH, trials=(  # a PII value inside a failed trial's error message
            TrialResult(0, Algorithm.RANDOM_FOREST, {}, None, None, 1.0, "could not convert 'ana@example.org'"),
            *_evidence()[EvidenceKind.SEARCH].trials)),  # type: ignore[attr-defined]
        lambda: _good(profile=_profile(email_top="bob@example.org")),  # the profile left a PII value unredacted
    ],
    "model.1": [
        lambda: _good(spec_approved_by=None),  # hashed, review pending
        lambda: _good(spec=_spec(seed=99)),  # the stored spec is not the one the model names
    ],
    "model.3": [lambda: _with(EvidenceKind.SEARCH, trials=(
        TrialResult(0, Algorithm.RANDOM_FOREST, {}, 0.9, 0.01, 1.0),), chosen_trial=0)],
    "model.4": [lambda: _with(EvidenceKind.STALENESS, windows=(
        StalenessWindow("2020-01-02", "2020-02-01", 15.0, 100, None),
        StalenessWindow("2020-02-02", "2020-03-01", 45.0, 100, 0.85)))],
    "model.5": [
        lambda: _with(EvidenceKind.BASELINES, baselines=(  # a model that loses to its linear baseline
            BaselineScore("dummy", "most frequent", 0.5, 0.4, 0.35, 0.45, True),
            BaselineScore("linear", "logistic", 0.92, -0.02, -0.05, 0.01, False))),
        lambda: _with(EvidenceKind.BASELINES, baselines=(  # beaten, but by less than the policy margin
            BaselineScore("dummy", "most frequent", 0.5, 0.4, 0.35, 0.45, True),
            BaselineScore("linear", "logistic", 0.89, 0.01, 0.005, 0.015, True))),
    ],
    "model.6": [
        lambda: _with(EvidenceKind.SLICES, slices=(_slice(0.8, -0.1),)),  # a weak slice (gap)
        lambda: _with(EvidenceKind.SLICES, slices=(_slice(0.65, -0.01),), overall=0.66),  # below the floor
    ],
    "model.7": [lambda: _with(EvidenceKind.FAIRNESS, attributes=(
        AttributeFairness("sex", (), 0.25, 0.03),))],  # a fairness gap
    "infra.1": [lambda: _with(EvidenceKind.REPRODUCIBILITY, identical=False, passed=False, max_abs_difference=0.2)],
    "infra.2": [lambda: _with(EvidenceKind.SMOKE, score=0.45, passed=False)],
    "infra.4": [
        lambda: _good(model=_model(_spec(), holdout=MetricValue("roc_auc", 0.75, None, None, "b"))),  # below floor
        lambda: _good(champion_holdout=MetricValue("roc_auc", 0.95, None, None, "b")),  # worse than the champion
    ],
    "infra.5": [lambda: _with(EvidenceKind.EXPLANATION, contributions=())],
}


def test_every_automated_check_passes_on_good_evidence_and_fails_on_each_bad_example() -> None:
    assert set(BAD) == set(checks.CHECKS), "each check needs at least one failing example"
    good = evaluate(_good(), POLICY, ran_at="2026-12-01T10:00:00+00:00")
    assert list(good) == list(checks.TEST_IDS) and len(good) == 28
    for test_id in checks.CHECKS:
        result = good[test_id]
        assert (result.status, result.outcome) == (TestStatus.AUTOMATED, TestOutcome.PASS), (test_id, result.detail)
        assert result.evidence and result.evidence[0] == "model_version:mv1", test_id
        assert result.ran_at == "2026-12-01T10:00:00+00:00" and result.reason_not_done is None
        for n, bad in enumerate(BAD[test_id]):
            failed = evaluate(bad(), POLICY)[test_id]
            assert (failed.status, failed.outcome) == (TestStatus.AUTOMATED, TestOutcome.FAIL), (test_id, n, failed)
            assert failed.detail
    for test_id in set(checks.TEST_IDS) - set(checks.CHECKS):
        r = good[test_id]
        assert (r.status, r.outcome) == (TestStatus.NOT_DONE, None) and r.reason_not_done == checks.NOT_YET[test_id]


def test_the_checks_are_the_catalogues() -> None:
    from core.rubric.catalogue import load_catalogue

    catalogue = load_catalogue()
    assert list(checks.TEST_IDS) == list(catalogue.ids)
    for test in catalogue.tests:
        if test.id in checks.CHECKS:
            assert test.check is not None and checks.CHECK_IDS[test.check] == test.id
        else:  # a check the catalogue names for a later part, or none: not done, with its reason
            assert test.id in checks.NOT_YET and test.check not in checks.CHECK_IDS


def test_failures_name_what_failed_and_results_show_thresholds() -> None:
    r = evaluate(BAD["data.2"][0](), POLICY)["data.2"]
    assert "tenure" in r.detail and "income" not in r.detail
    r = evaluate(BAD["data.4"][0](), POLICY)["data.4"]
    assert "email" in r.detail and "personal data" in r.detail and r.thresholds["deny_list"] == "ssn*"
    r = evaluate(BAD["model.5"][1](), POLICY)["model.5"]
    assert r.thresholds["baseline_margin"] == 0.02 and "linear" in r.detail
    r = evaluate(BAD["model.6"][0](), POLICY)["model.6"]
    assert "region=west" in r.detail and r.thresholds["slice_floor"] == 0.7
    r = evaluate(BAD["model.7"][0](), POLICY)["model.7"]
    assert "sex" in r.detail and r.thresholds["fairness_max_dp"] == 0.1
    r = evaluate(BAD["model.1"][0](), POLICY)["model.1"]
    assert "review pending" in r.detail
    # Data 5 says where a PII value leaked, never the value itself.
    r = evaluate(BAD["data.5"][1](), POLICY)["data.5"]
    assert "slices" in r.detail and "ana@example.org" not in r.detail
    r = evaluate(BAD["data.5"][2](), POLICY)["data.5"]
    assert "every value of sampled training row 0" in r.detail and "holds 1 PII" not in r.detail


def test_a_row_of_small_whole_numbers_is_not_taken_for_a_leak() -> None:
    # Trial numbers, counts and labels hold 0, 1, 2 …: a row of such cells says nothing.
    small = _good(sample_rows=(("1", "0", "2", "true", ""),))
    assert evaluate(small, POLICY)["data.5"].outcome == TestOutcome.PASS
    planted = _good(sample_rows=(("1", "0.88", "0.9", "0.01"),))  # figures of the search table itself
    assert evaluate(planted, POLICY)["data.5"].outcome == TestOutcome.FAIL


def test_declared_sensitive_features_and_the_policy_allow_list_pass_data_4() -> None:
    declared = _good(spec=_spec(features=(*FEATURES, "sex")))  # sex is in spec.sensitive
    assert evaluate(declared, POLICY)["data.4"].outcome == TestOutcome.PASS
    allowed = _good(spec=_spec(features=(*FEATURES, "email")))
    policy = dataclasses.replace(POLICY, allowed_sensitive=("email",))
    assert evaluate(allowed, policy)["data.4"].outcome == TestOutcome.PASS
    not_pii = _good(spec=_spec(features=(*FEATURES, "email")),
                    profile=dataclasses.replace(_profile(), not_pii=("email",)))
    assert evaluate(not_pii, POLICY)["data.4"].outcome == TestOutcome.PASS


def test_missing_evidence_is_not_done_with_its_reason_never_a_point_without_evidence() -> None:
    results = evaluate(_good(evidence={}), POLICY)
    for test_id in ("data.2", "data.3", "model.3", "model.4", "model.5", "model.6", "model.7", "infra.1",
                    "infra.2", "infra.5"):
        r = results[test_id]
        assert (r.status, r.outcome) == (TestStatus.NOT_DONE, None), test_id
        assert r.reason_not_done, test_id
    no_sensitive = evaluate(_good(spec=_spec(sensitive=()), evidence={
        k: v for k, v in _evidence().items() if k != EvidenceKind.FAIRNESS}), POLICY)["model.7"]
    assert no_sensitive.status == TestStatus.NOT_DONE and "sensitive" in (no_sensitive.reason_not_done or "")


def test_not_applicable_cases() -> None:
    # Infra 4 with no floor and no champion has nothing to gate against.
    r = evaluate(_good(champion_holdout=None), DEFAULT_POLICY)["infra.4"]
    assert (r.status, r.outcome) == (TestStatus.AUTOMATED, TestOutcome.NOT_APPLICABLE)
    # Model 7 on groups without differences (not binary classification).
    r = evaluate(_with(EvidenceKind.FAIRNESS, attributes=(AttributeFairness("sex", (), None, None),)),
                 POLICY)["model.7"]
    assert (r.status, r.outcome) == (TestStatus.AUTOMATED, TestOutcome.NOT_APPLICABLE)
    # A linear model is not required to beat the linear baseline (the same family).
    lose = BAD["model.5"][0]()
    linear = dataclasses.replace(lose, model=dataclasses.replace(lose.model, algorithm=Algorithm.LOGISTIC))
    assert evaluate(linear, POLICY)["model.5"].outcome == TestOutcome.PASS
    assert evaluate(lose, POLICY)["model.5"].outcome == TestOutcome.FAIL


def test_results_are_storable_records() -> None:
    from core import formats
    from core.rubric.models import RubricResult, RubricResultId, RubricScore

    results = tuple(evaluate(_good(), POLICY, ran_at="2026-12-01T10:00:00+00:00").values())
    record = RubricResult(RubricResultId("r1"), "mv1", 2, results, RubricScore((), 0.0, "x", "rule"), "rita",
                          "2026-12-01T10:00:00+00:00")
    assert formats.loads(RubricResult, formats.dumps(record)) == record


# --- end to end: a real small model trained in a real encrypted workspace --------------------


@pytest.mark.slow  # one training (child processes for the run and its repetition)
def test_the_checks_on_a_real_model_trained_on_breast_cancer(workspace: tuple[Any, str], tmp_path: Path) -> None:
    import numpy as np

    from tests.core.data import real_data

    engine = workspace[0]
    df = real_data.frame("breast_cancer")
    df["sex"] = np.random.default_rng(5).choice(["f", "m"], len(df))  # unrelated to the target
    path = real_data.write_csv("cancer", tmp_path, df=df)
    version = engine.datasets.import_file(path, name="cancer").value.version
    spec = engine.training.init_spec(version.label, "target", task=Task.BINARY)
    features = tuple(c for c in spec.features if c != "sex")
    spec = dataclasses.replace(spec, features=features, sensitive=("sex",), metric="roc_auc",
                               algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(trials=2),
                               split=SplitSpec(cv_folds=3), bootstrap_rounds=60, smoke_rows=200)
    mv = engine.training.run(spec, model="cancer").value
    profile = engine.datasets.save_profile(engine.datasets.profile(version.label)).value
    engine.datasets.infer_schema(version.label)

    def inputs(edited: bool) -> RubricInputs:
        stored = engine.training.evidence(mv.label)
        return RubricInputs(
            model=engine.training.model_version(mv.label), evidence={i.kind: i for i in stored.items},
            spec=engine.training.spec(mv.spec_hash), dataset=engine.datasets.version(mv.dataset),
            schema=engine.datasets.schema("cancer"), schema_edited=edited,
            validation=engine.datasets.validate("cancer", mv.dataset), profile=profile, encrypted=True,
            sample_rows=tuple(tuple(str(v) for v in row) for row in df.head(5).itertuples(index=False)),
        )

    results = evaluate(inputs(edited=False), DEFAULT_POLICY)
    assert len(results) == 28
    # Inferred but never edited: not reviewed. After a person's edit, Data 1 passes.
    assert results["data.1"].outcome == TestOutcome.FAIL and "never edited" in results["data.1"].detail
    engine.datasets.edit_schema("cancer", "mean radius", max_missing_fraction=0.01)
    results = evaluate(inputs(edited=True), DEFAULT_POLICY)
    assert results["data.1"].outcome == TestOutcome.PASS, results["data.1"].detail
    assert "schema:cancer@2" in results["data.1"].evidence
    # What this run must have produced and passed.
    for test_id in ("data.4", "data.5", "model.3", "model.5", "infra.1", "infra.2", "infra.5"):
        assert results[test_id].outcome == TestOutcome.PASS, (test_id, results[test_id].detail)
    assert results["model.1"].outcome == TestOutcome.FAIL and "review pending" in results["model.1"].detail
    assert results["model.4"].status == TestStatus.NOT_DONE  # no date column: no staleness curve
    assert results["infra.4"].outcome == TestOutcome.NOT_APPLICABLE  # no floor, no champion
    # The judged checks agree with the stored figures, computed here from the evidence itself.
    stored = engine.training.evidence(mv.label)
    imp = stored.item(EvidenceKind.IMPORTANCE)
    assert isinstance(imp, PermutationImportance)
    assert (results["data.2"].outcome == TestOutcome.PASS) == all(f.ci_low > 0 for f in imp.features)
    for f in imp.features:
        assert (f.feature in results["data.2"].detail) == (not f.ci_low > 0)
    fair = stored.item(EvidenceKind.FAIRNESS)
    assert isinstance(fair, Inclusion) and fair.attributes[0].attribute == "sex"
    [sex] = fair.attributes
    assert sex.demographic_parity_difference is not None and sex.equalized_odds_difference is not None
    within = sex.demographic_parity_difference <= 0.1 and sex.equalized_odds_difference <= 0.1
    assert results["model.7"].outcome == (TestOutcome.PASS if within else TestOutcome.FAIL)
    report = stored.item(EvidenceKind.SLICES)
    assert isinstance(report, SliceReport)
    judged = [s for s in report.slices if s.declared] or list(report.slices)
    if judged:
        ok = all(s.gap >= -DEFAULT_POLICY.slice_max_gap for s in judged)
        assert results["model.6"].outcome == (TestOutcome.PASS if ok else TestOutcome.FAIL)
    # Each automated result links the model and the evidence it read, all of it stored.
    kinds = {f"evidence:{i.kind}" for i in stored.items}
    for test_id in checks.CHECKS:
        r = results[test_id]
        assert f"model_version:{mv.id}" in r.evidence, test_id
        assert {e for e in r.evidence if e.startswith("evidence:")} <= kinds, test_id
    # A sampled training row planted in the evidence is found (the scan reads the real stored items).
    leaked = dataclasses.replace(inputs(edited=True), sample_rows=(tuple(str(f.mean) for f in imp.features[:4]),))
    assert evaluate(leaked, DEFAULT_POLICY)["data.5"].outcome == TestOutcome.FAIL
    # The service gathers the same inputs from the stores (the edit found in the audit trail): same verdicts.
    stored_result = engine.rubric.run(mv.label).value
    for test_id in checks.CHECKS:
        mine, theirs = results[test_id], stored_result.result(test_id)
        assert theirs is not None and (theirs.status, theirs.outcome) == (mine.status, mine.outcome), test_id
        assert theirs.evidence == mine.evidence and theirs.thresholds == mine.thresholds, test_id
