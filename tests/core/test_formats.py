"""Record formats: canonical bytes, a reader per version, clear errors, RFC 8785.

One conformance test runs over every registered record kind (the scikit-learn way): a new
kind without a sample here fails it. The upgrade tests open a copy of the workspace written
by release 0.1.0 and read its stored profile and schema through :mod:`core.formats`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import pkgutil
import re
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core import formats
from core.data.models import (
    Alert,
    AlertKind,
    Anomaly,
    ColumnDrift,
    ColumnFlag,
    ColumnProfile,
    ColumnSchema,
    ColumnType,
    Correlation,
    CorrelationMethod,
    DriftReport,
    PiiKind,
    Profile,
    Schema,
    SemanticType,
    Severity,
    TargetAssociation,
    ValidationReport,
)
from core.errors import AirlockError, MalformedRecord, UnknownFormat

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0"
FIXTURE_PASSPHRASE = "release-0.1.0-fixture"


def _import_every_models_module() -> None:
    """Areas register their kinds in ``models``; walk the package so a new area is seen."""
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if info.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(info.name)


_import_every_models_module()

# --- samples: one per registered kind ------------------------------------------------------

_COLUMN = ColumnProfile(
    name="income", storage_type="int64", semantic_type="numeric", count=60, missing=2, distinct=54,
    stats={"min": 23000.0, "max": 199000.0, "mean": 114533.33333333333, "zeros": 0, "tiny": 5e-324},
    quantiles={"0.25": 72500.0, "0.5": 119000.0},
    histogram={"counts": [5.0, 2.0], "edges": [23000.0, 31800.0, 40600.0]},
    top_values=[("25000", 2), ("‹redacted›", 1)], pii=None, flags=("near_constant",),
)
PROFILE = Profile(
    version_id="v-1", row_count=60, column_count=1, duplicate_rows=0, memory_bytes=1764,
    columns=(_COLUMN,),
    alerts=(Alert("low", "income", "outliers", "income has 10 values outside 1.5×IQR."),),
    correlations=(Correlation("income", "age", "pearson", -0.0025581202889534043),),
    target="defaulted",
    target_associations=(TargetAssociation("income", 0.01, 0.52, "roc_auc", False),),
    sampled_rows=50,
)
SCHEMA = Schema("loans", 2, (
    ColumnSchema("income", "integer", "numeric", minimum=5400.0, maximum=216600.0),
    ColumnSchema("grade", "string", "categorical", allowed_values=("A", "B", "C"), max_missing_fraction=0.05),
), based_on="loans@1")
VALIDATION = ValidationReport(1, "loans@2", (Anomaly("high", "grade", "unknown_value", "grade has D", 3),))
DRIFT = DriftReport("loans@1", "loans@2", "bonferroni", 0.05, 0.1, 0.25, (
    ColumnDrift("income", "numeric", 0.31, "ks", 0.4, 1e-9, 3e-9, 0.8, "wasserstein_std", "major", True),
), ("grade: too few values",))

SAMPLES: dict[str, object] = {
    "airlock.profile": PROFILE,
    "airlock.schema": SCHEMA,
    "airlock.validation_report": VALIDATION,
    "airlock.drift_report": DRIFT,
}

# --- training (core/training/models.py) ---------------------------------------------------
from core.training.models import (  # noqa: E402  (grouped with the samples they serve)
    Algorithm,
    Device,
    EnvironmentLock,
    ExcludedColumn,
    MetricValue,
    ModelVersion,
    ModelVersionId,
    RunId,
    RunStatus,
    Task,
    TrainingRun,
    TrainingSpec,
)

SPEC = TrainingSpec(
    dataset="loans@1", dataset_sha256="ab" * 32, target="defaulted", task=Task.BINARY,
    features=("income", "grade"), excluded=(ExcludedColumn("id", "identifier: 1..n"),),
    algorithms=(Algorithm.LOGISTIC, Algorithm.XGBOOST), slices=("grade",), seed=7,
)
SAMPLES["airlock.training_spec"] = SPEC
SAMPLES["airlock.model_version"] = ModelVersion(
    id=ModelVersionId("mv-1"), model="loans-default", number=1, spec_hash="cd" * 32, dataset="loans@1",
    dataset_version_id="v-1", dataset_sha256="ab" * 32, algorithm=Algorithm.LOGISTIC, params={"C": 0.5},
    metric="roc_auc", holdout=MetricValue("roc_auc", 0.81, 0.77, 0.85, "percentile bootstrap, 200 rounds"),
    device=Device.CPU, seed=7, wall_seconds=3.5, peak_memory_bytes=300_000_000,
    environment=EnvironmentLock("3.11.7", "Linux-x86_64", "Intel Xeon", None, (("numpy", "2.4.6"),)),
    created_by="ana", created_at="2026-12-01T10:00:00+00:00", artefacts=(("pipeline.joblib", "ef" * 32),),
)
SAMPLES["airlock.training_run"] = TrainingRun(
    id=RunId("run-1"), spec_hash="cd" * 32, model="loans-default", status=RunStatus.SUCCEEDED,
    started_at="2026-12-01T10:00:00+00:00", finished_at="2026-12-01T10:00:04+00:00", error=None,
    model_version=ModelVersionId("mv-1"), trials=4,
)

# --- training evidence (core/training/models.py, the evidence section) ----------------------
from core.training import models as _tm  # noqa: E402

_K = _tm.EvidenceKind
_TRIAL = _tm.TrialResult(0, Algorithm.LOGISTIC, {"C": 0.5, "class_weight": None}, 0.8, 0.02, 1.25)
SAMPLES["airlock.evidence.holdout_metrics"] = _tm.HoldoutMetrics(
    _K.HOLDOUT_METRICS, "percentile bootstrap", "roc_auc", 120, 200, 7,
    (MetricValue("roc_auc", 0.81, 0.77, 0.85, "percentile bootstrap, 200 rounds"),
     MetricValue("neg_log_loss", -0.45, None, None, "point estimate")),
)
SAMPLES["airlock.evidence.cv"] = _tm.CrossValidation(_K.CV, "5-fold CV", "roc_auc", Algorithm.LOGISTIC, 0, 5, 0.8, 0.02)
SAMPLES["airlock.evidence.search"] = _tm.SearchTable(
    _K.SEARCH, "random search", "roc_auc",
    (_TRIAL, _tm.TrialResult(1, Algorithm.XGBOOST, {}, None, None, 0.5, "failed: out of memory")),
    0, Algorithm.LOGISTIC, {"C": 0.5, "class_weight": None},
)
SAMPLES["airlock.evidence.baselines"] = _tm.Baselines(
    _K.BASELINES, "same split", "roc_auc", 0.81,
    (_tm.BaselineScore("dummy", "most frequent class", 0.5, 0.31, 0.25, 0.37, True),
     _tm.BaselineScore("linear", "logistic regression", 0.8, 0.01, None, None, False)),
)
SAMPLES["airlock.evidence.importance"] = _tm.PermutationImportance(
    _K.IMPORTANCE, "permutation", "roc_auc", 10,
    (_tm.FeatureImportance("income", 0.1, 0.02, 0.0876, 0.1124, False),),
)
SAMPLES["airlock.evidence.feature_cost"] = _tm.FeatureCost(
    _K.FEATURE_COST, "branch timing", 120, 0.004, (_tm.FeatureCostRow("grade", 3, 0.001, 0.25, 2880, 0.75),),
)
SAMPLES["airlock.evidence.slices"] = _tm.SliceReport(
    _K.SLICES, "per level", "roc_auc", 0.81, 30, 0.05,
    (_tm.SliceMetric("grade", "A", True, 40, 0.7, 0.6, 0.76, -0.11, True),), ("grade=C: 3 rows (fewer than 30)",),
)
SAMPLES["airlock.evidence.fairness"] = _tm.Inclusion(
    _K.FAIRNESS, "fairlearn MetricFrame", "1",
    (_tm.AttributeFairness("sex", (_tm.GroupRates("f", 60, 0.3, 0.1, 0.2, 0.85, None),), 0.02, 0.05),),
)
SAMPLES["airlock.evidence.calibration"] = _tm.Calibration(
    _K.CALIBRATION, "calibration_curve", "1", 0.12, 10, (0.05, 0.5), (0.04, 0.55), (50, 10),
)
SAMPLES["airlock.evidence.residuals"] = _tm.Residuals(
    _K.RESIDUALS, "y - prediction", ((0.0, -30.0), (0.5, 1.5), (1.0, 40.0)), 0.3, 12.5,
    (_tm.ResidualBin(10.0, 20.0, 30, -1.0, 9.5),),
)
SAMPLES["airlock.evidence.reproducibility"] = _tm.ReproducibilityResult(
    _K.REPRODUCIBILITY, "fresh child", False, True, 1e-15, 1e-9, 240,
)
SAMPLES["airlock.evidence.staleness"] = _tm.Staleness(
    _K.STALENESS, "oldest half", "when", "roc_auc", 200, "2021-06-30T00:00:00",
    (_tm.StalenessWindow("2021-07-01T00:00:00", "2021-09-30T00:00:00", 45.5, 50, 0.78),
     _tm.StalenessWindow("2021-10-01T00:00:00", "2021-12-31T00:00:00", 137.0, 50, None)),
)
SAMPLES["airlock.evidence.explanation"] = _tm.Explanation(
    _K.EXPLANATION, "coefficients × values", 3, "1", 1.2, "decision value", 0.4,
    (_tm.Contribution("numeric__income", "income", 1.5, 0.8),),
)
SAMPLES["airlock.evidence.smoke"] = _tm.SmokeResult(
    _K.SMOKE, "logistic on 500 sampled training rows vs a prior dummy", Algorithm.LOGISTIC, "roc_auc", 500,
    0.93, 0.5, True, 0.4,
)

# --- rubric (core/rubric/models.py) --------------------------------------------------------
from core.rubric import models as _rm  # noqa: E402

_RESULT = _rm.TestResult(
    "model.5", _rm.TestStatus.AUTOMATED, _rm.TestOutcome.PASS, ("model_version:mv-1", "evidence:baselines"),
    "2026-12-01T10:05:00+00:00", {"baseline_margin": 0.0, "metric": "roc_auc"}, "beats the dummy by 0.31",
)
_NOT_DONE = _rm.TestResult(
    "infra.6", _rm.TestStatus.NOT_DONE, None, (), "2026-12-01T10:05:00+00:00", {}, "",
    "canary runs need the promotion part",
)
SAMPLES["airlock.rubric_result"] = _rm.RubricResult(
    _rm.RubricResultId("rr-1"), "mv-1", 2, (_RESULT, _NOT_DONE),
    _rm.RubricScore(
        tuple(_rm.SectionScore(s, p) for s, p in zip(_rm.Section, (3.5, 5.0, 4.0, 0.0), strict=True)),
        0.0, "research project", "min of the section sums",
    ),
    "ana", "2026-12-01T10:05:00+00:00",
)
SAMPLES["airlock.rubric_policy"] = _rm.RubricPolicy(
    2, baseline_margin=0.01, slice_floor=0.6, deny_list=("ssn",), allowed_sensitive=("age",), quality_floor=0.7,
    set_by="lead", set_at="2026-12-01T09:00:00+00:00",
)
SAMPLES["airlock.attestation"] = _rm.Attestation(
    _rm.AttestationId("at-1"), "data.7", "mv-1", "Feature code is unit tested in repo x, run 42.",
    (("ci-log.txt", "ab" * 32),), "rita", "2026-12-01T10:00:00+00:00", "2027-06-01T00:00:00+00:00",
)

# --- promotion (core/promotion/models.py) ----------------------------------------------------
from core.promotion import models as _pm  # noqa: E402

_T0, _T1 = "2026-12-01T10:00:00+00:00", "2027-12-01T10:00:00+00:00"
_MANIFEST = _pm.Manifest(
    1, "cancer", 3, "mv-1", "binary", "logistic", "roc_auc", 0.97, _T0, "Ada Author", "a1" * 32, "ws-1", "Dev", 41,
    "c3" * 32, _pm.Lineage("bc", "dv-1", "d4" * 32, "e5" * 32, "run-1"), (("numpy", "2.4.6"), ("python", "3.11.9")),
    (_pm.ArtefactEntry("model/pipeline.joblib", "joblib"),),
    _pm.RubricSummary("rr-1", 1.5, "an ML system in the wild", ("Data 1",), ("Model 2",), ("Infra 6",)),
    _pm.CanarySpec("canary/rows.parquet", "canary/predictions.json", 1e-9, 64),
)
SAMPLES["airlock.package_manifest"] = _MANIFEST
SAMPLES["airlock.approval"] = _pm.Approval(
    "ab" * 32, "cancer", 3, _pm.Environment.PROD, "Clinic-North", _pm.Decision.APPROVE,
    "Approved for production at site Clinic-North under trust policy 2", 2, "Rita Reviewer", "b2" * 32, _T0, _T1,
    "0f" * 16, "checked the slices",
)
_PKEY = _pm.PolicyKey("b2" * 32, "-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----\n", "Rita Reviewer",
                      (_pm.KeyRole.PROD_APPROVER,), _T0, _T1)
SAMPLES["airlock.trust_policy"] = _pm.TrustPolicy(
    2, "Clinic-North", _pm.Environment.PROD, _T0, _T1, (_PKEY,), 1, (_PKEY,), ("c3" * 32,),
    (_pm.EnvironmentRule(_pm.Environment.PROD, 2, _pm.KeyRole.PROD_APPROVER, 1.0, ("Infra 1",), True, True),),
    ("joblib", "xgboost-ubj"),
)
SAMPLES["airlock.site_attestation"] = _pm.SiteAttestation(
    "ab" * 32, "cancer", 3, "Clinic-QA", _pm.Environment.QA, _T0, 64, 0.0, 1, "d4" * 32, ("b2" * 32,),
)
SAMPLES["airlock.admission_record"] = _pm.AdmissionRecord(
    "adm-1", "ab" * 32, _MANIFEST, "a1" * 32, ('{"payload": "…"}',), None, ("Rita Reviewer",), 2, 64, 0.0, _T0, "qa-admin",
)

from core.promotion import model_card as _mc  # noqa: E402

_HOLDOUT = MetricValue("roc_auc", 0.97, 0.95, 0.99, "percentile bootstrap, 60 rounds")
SAMPLES["airlock.model_card"] = _mc.ModelCard(
    "cancer", 3, "mv-1",
    _mc.ModelDetails("binary", "logistic", {"C": 0.5}, "ana", _T0, "cpu", 7, "Ada Author", "a1" * 32, "ws-1", "Dev",
                     41, "c3" * 32, (_mc.CardArtefact("model/pipeline.joblib", "joblib", "ef" * 32),)),
    _pm.Lineage("bc", "dv-1", "d4" * 32, "e5" * 32, "run-1"), None,
    _mc.TrainingData("bc@1", "dv-1", "d4" * 32, 569, "target", ("radius",), (), "stratified 20% holdout, 3 folds"),
    _mc.Evaluation("roc_auc", _HOLDOUT, 114, (_HOLDOUT,), 0.96, 0.01, 3, (), 12, (), 0.05, True),
    (), _mc.CardRubric("rr-1", 1, _T0, 1.5, "an ML system in the wild", "min of the section sums",
                       (("data", 2.0), ("model", 1.5)), ("Data 1",), ("Model 2",), ("Infra 6",)),
    ("Model 2 failed",), ("the explanation item: it amounts to one holdout row",),
    EnvironmentLock("3.11.7", "Linux-x86_64", "Intel Xeon", None, (("numpy", "2.4.6"),)),
)


def _keys_sorted(value: Any) -> bool:
    if isinstance(value, list):
        return all(_keys_sorted(v) for v in value)
    if isinstance(value, dict):
        return list(value) == sorted(value) and all(_keys_sorted(v) for v in value.values())
    return True


def test_every_registered_kind_has_a_sample() -> None:
    assert {k.name for k in formats.kinds()} == set(SAMPLES)


@pytest.mark.parametrize("kind", formats.kinds(), ids=lambda k: k.name)
def test_conformance_of_every_kind(kind: formats.RecordKind[Any]) -> None:
    sample = SAMPLES[kind.name]
    assert kind.name.startswith("airlock.") and kind.name == kind.name.lower()
    assert kind.version >= 1 and kind.version in kind.readable and kind.title and kind.recreate
    assert type(sample) is kind.type

    data = formats.dumps(sample)
    assert formats.loads(kind.type, data) == sample
    assert formats.loads(kind.name, data) == sample
    assert formats.dumps(formats.loads(kind.type, data)) == data
    body = json.loads(data)
    assert body["format"] == kind.name and body["format_version"] == kind.version
    assert _keys_sorted(body) and not re.search(rb"\s", re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', data))

    body["format_version"] = kind.version + 1
    with pytest.raises(UnknownFormat) as info:
        formats.loads(kind.type, json.dumps(body))
    message = str(info.value)
    assert kind.title in message and f"format {kind.version + 1}" in message
    assert f"format {kind.version}" in message or f"–{kind.version}" in message
    assert info.value.code == "unknown_format" and info.value.found == kind.version + 1
    assert info.value.readable == kind.readable and info.value.kind == kind.name


# --- canonical bytes -----------------------------------------------------------------------

def test_same_value_gives_the_same_bytes_whatever_the_dict_order() -> None:
    shuffled = dataclasses.replace(_COLUMN, stats=dict(reversed(list(_COLUMN.stats.items()))))
    a = formats.dumps(dataclasses.replace(PROFILE, columns=(_COLUMN,)))
    b = formats.dumps(dataclasses.replace(PROFILE, columns=(shuffled,)))
    assert a == b
    assert a.startswith(b'{"alerts":[{"column":"income","kind":"outliers"')
    assert "×".encode() in a  # UTF-8, not \u escapes
    assert b'"tiny":5e-324' in a and b'"zeros":0' in a and b'"max":199000.0' in a


def test_floats_are_written_in_one_form() -> None:
    schema = Schema("f", 1, tuple(
        ColumnSchema(f"c{i}", "float", "numeric", minimum=v) for i, v in enumerate((1.0, 1e21, -0.0, 0.1 + 0.2, 1e-7))
    ))
    text = formats.dumps(schema)
    for written in (b'"minimum":1.0', b'"minimum":1e21', b'"minimum":-0.0',
                    b'"minimum":0.30000000000000004', b'"minimum":1e-7'):
        assert written in text
    back = formats.loads(Schema, text)
    minimum = back.columns[2].minimum
    assert minimum is not None and math.copysign(1.0, minimum) == -1.0


_text = st.text(max_size=8)
_float = st.floats(allow_nan=False, allow_infinity=False)
_columns = st.builds(
    ColumnSchema, name=_text, type=st.sampled_from(ColumnType), semantic_type=st.sampled_from(SemanticType),
    required=st.booleans(), max_missing_fraction=st.floats(0, 1), minimum=st.none() | _float,
    maximum=st.none() | _float, allowed_values=st.none() | st.lists(_text, max_size=3).map(tuple),
    unique=st.booleans(),
)
_schemas = st.builds(
    Schema, dataset_name=_text, revision=st.integers(1, 10**6),
    columns=st.lists(_columns, max_size=4).map(tuple), based_on=st.none() | _text,
)
_column_profiles = st.builds(
    ColumnProfile, name=_text, storage_type=_text, semantic_type=st.sampled_from(SemanticType), count=st.integers(0, 2**62),
    missing=st.integers(0, 10**9), distinct=st.integers(0, 10**9),
    stats=st.dictionaries(_text, st.none() | _float | st.integers(-(2**62), 2**62), max_size=4),
    quantiles=st.dictionaries(_text, _float, max_size=3),
    histogram=st.dictionaries(_text, st.lists(_float, max_size=4), max_size=2),
    top_values=st.lists(st.tuples(_text, st.integers(0, 10**9)), max_size=3),
    pii=st.none() | st.sampled_from(PiiKind), flags=st.lists(st.sampled_from(ColumnFlag), max_size=2).map(tuple),
)
_profiles = st.builds(
    Profile, version_id=_text, row_count=st.integers(0, 10**12), column_count=st.integers(0, 10**4),
    duplicate_rows=st.integers(0, 10**9), memory_bytes=st.integers(0, 10**15),
    columns=st.lists(_column_profiles, max_size=3).map(tuple),
    alerts=st.lists(
        st.builds(Alert, st.sampled_from(Severity), st.none() | _text, st.sampled_from(AlertKind), _text), max_size=2,
    ).map(tuple),
    correlations=st.lists(
        st.builds(Correlation, _text, _text, st.sampled_from(CorrelationMethod), _float), max_size=2).map(tuple),
    target=st.none() | _text,
    target_associations=st.lists(
        st.builds(TargetAssociation, _text, _float, _float, _text, st.booleans()), max_size=2).map(tuple),
    sampled_rows=st.none() | st.integers(0, 10**9),
)


@settings(max_examples=60, deadline=None)
@given(record=st.one_of(_schemas, _profiles))
def test_round_trip_and_stable_bytes(record: Profile | Schema) -> None:
    data = formats.dumps(record)
    back = formats.loads(type(record), data)
    assert back == record
    assert formats.dumps(back) == data
    assert _keys_sorted(json.loads(data))


# --- RFC 8785 (JCS) --------------------------------------------------------------------------

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
_JCS_NUMBERS = [
    ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"), ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"), ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), _JCS_NUMBERS)
def test_canonical_json_numbers_follow_rfc_8785(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert formats.canonical_json([value]) == f"[{expected}]".encode()


def test_canonical_json_matches_the_rfc_8785_examples() -> None:
    # Section 3.2.2: the sample input and its canonical form.
    text = (r'{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
            r' "string": "\u20ac$\u000F\u000aA' "'" r'\u0042\u0022\u005c\\\"\/",'
            r' "literals": [null, true, false]}')
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert formats.canonical_json(json.loads(text)) == expected.encode("utf-8")
    # Section 3.2.3: properties sorted by UTF-16 code units (the emoji's surrogates sort before U+FB33).
    sorting = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
               "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
               "\u00f6": "Latin Small Letter O With Diaeresis"}
    order = list(json.loads(formats.canonical_json(sorting)).values())
    assert order == ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis",
                     "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"]


def test_canonical_json_of_a_record_carries_its_envelope_and_refuses_nan() -> None:
    body = json.loads(formats.canonical_json(SCHEMA))
    assert body["format"] == "airlock.schema" and body["format_version"] == _version_of("airlock.schema")
    assert formats.loads(Schema, json.dumps(body)) == SCHEMA
    with pytest.raises(ValueError):
        formats.canonical_json({"x": math.nan})


# --- older versions, unknown versions, malformed bytes ----------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class _Note:
    title: str
    words: tuple[str, ...]
    format_version: int = 3


def _note_registry() -> formats.Registry:
    """A test-only kind at format 3: v1 had ``text``, v2 renamed it ``body``, v3 split it."""
    registry = formats.Registry()
    registry.register(formats.RecordKind(
        "test.note", _Note, 3, "note", "write the note again",
        upgrades={
            1: lambda d: {**{k: v for k, v in d.items() if k != "text"}, "body": d["text"]},
            2: lambda d: {**{k: v for k, v in d.items() if k != "body"}, "words": d["body"].split()},
        },
    ))
    return registry


def test_an_older_version_is_read_through_its_upgrade_steps() -> None:
    registry = _note_registry()
    expected = _Note("hi", ("a", "b"))
    assert registry.loads(_Note, b'{"format_version":1,"title":"hi","text":"a b"}') == expected
    assert registry.loads("test.note", '{"format_version":2,"title":"hi","body":"a b"}') == expected
    assert registry.loads(_Note, registry.dumps(expected)) == expected
    with pytest.raises(UnknownFormat, match=r"note says it is in format 0; this Airlock reads formats 1–3"):
        registry.loads(_Note, b'{"format_version":0,"title":"hi"}')
    with pytest.raises(UnknownFormat, match=r"written in format 4; .*formats 1–3: upgrade Airlock or write"):
        registry.loads(_Note, b'{"format_version":4}')
    with pytest.raises(MalformedRecord, match="cannot be upgraded.*'text'"):
        registry.loads(_Note, b'{"format_version":1,"title":"hi"}')


def test_upgrade_steps_must_not_skip_a_version() -> None:
    with pytest.raises(ValueError, match="skip"):
        formats.RecordKind("test.gap", _Note, 3, "note", "again", upgrades={1: lambda d: d})


def test_malformed_bytes_name_the_record_and_the_field() -> None:
    body = json.loads(formats.dumps(PROFILE))
    body["columns"][0]["stats"] = []
    with pytest.raises(MalformedRecord, match=r"loans@1: Profile .*`\$\.columns\[0\]\.stats`"):
        formats.loads(Profile, json.dumps(body), source="loans@1")
    body = json.loads(formats.dumps(SCHEMA))
    del body["columns"][1]["name"]
    with pytest.raises(MalformedRecord, match=r"Schema .*`name`.*`\$\.columns\[1\]`"):
        formats.loads(Schema, json.dumps(body))
    with pytest.raises(MalformedRecord, match="not valid JSON"):
        formats.loads(Schema, b'{"format_version": 1, "dataset_name": ')
    with pytest.raises(MalformedRecord, match="not a JSON object"):
        formats.loads(Schema, b"[1, 2]")
    with pytest.raises(MalformedRecord, match="'airlock.profile' record, not a schema"):
        formats.loads(Schema, formats.dumps(PROFILE))
    with pytest.raises(MalformedRecord, match="no format_version"):
        formats.loads(Schema, b'{"dataset_name": "x"}')
    with pytest.raises(MalformedRecord, match="whole number, found '1'"):
        formats.loads(Schema, b'{"format_version": "1"}')
    assert issubclass(MalformedRecord, AirlockError) and issubclass(UnknownFormat, AirlockError)


def test_release_0_1_0_layout_reads_including_python_nan() -> None:
    """Release 0.1.0 wrote ``json.dumps(asdict(record))``: spaces, no ``format``, NaN allowed."""
    legacy = dataclasses.asdict(PROFILE)
    legacy["correlations"][0]["value"] = math.nan
    back = formats.loads(Profile, json.dumps(legacy))
    assert math.isnan(back.correlations[0].value)
    assert dataclasses.replace(back, correlations=PROFILE.correlations) == PROFILE
    assert formats.loads(Schema, json.dumps(dataclasses.asdict(SCHEMA))) == SCHEMA


# --- a real workspace ------------------------------------------------------------------------

def test_the_cli_reports_an_unknown_profile_format_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from core.api import Engine
    from core.cli.main import main
    from core.store.data_rows import DatasetProfileRow
    from core.store.db import orm

    path = tmp_path / "w.airlock"
    engine, _ = Engine.create(path, name="T", passphrase="correct horse", use_keyring=False)
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(50)), encoding="utf-8")
    with engine:
        version = engine.datasets.import_file(csv, name="d").value.version
        kept = engine.datasets.save_profile(engine.datasets.profile("d")).value
        body = json.loads(formats.dumps(kept))
        body["format_version"] = 99
        # What a newer Airlock would have kept: the stored row's body, in a format from the future.
        with engine.datasets._store.write(engine.actor) as tx:
            row = orm(tx).get(DatasetProfileRow, (version.id, ""))
            assert row is not None
            row.body = json.dumps(body)
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(path))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "correct horse")
    capsys.readouterr()
    code = main(["data", "profile", "d"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert f"This profile was written in format 99; this Airlock reads formats 1–{_version_of('airlock.profile')}" in err
    assert "d@1" in err and "recompute" in err
    assert main(["--json", "data", "profile", "d"]) != 0
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "unknown_format"


@pytest.fixture
def release_0_1_0(tmp_path: Path) -> Path:
    """A copy of the release 0.1.0 workspace with its ``.keys`` file beside it."""
    for name in ("release-0.1.0.airlock", "release-0.1.0.airlock.keys"):
        shutil.copy2(FIXTURE / name, tmp_path / name)
    return tmp_path / "release-0.1.0.airlock"


def test_release_0_1_0_profile_and_schema_read_through_formats(
    release_0_1_0: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy import select

    from core.api import Engine, Unlock
    from core.data import profiling
    from core.store.data_rows import DatasetProfileRow, DatasetSchemaRow
    from core.store.db import orm

    def no_recompute(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stored profile should have been read, not recomputed")

    monkeypatch.setattr(profiling, "profile_parquet", no_recompute)
    with Engine.open(release_0_1_0, Unlock.with_passphrase(FIXTURE_PASSPHRASE)) as engine:
        version = engine.datasets.version("loans")
        with engine.datasets._store.read(engine.actor) as tx:
            stored = orm(tx).get(DatasetProfileRow, (version.id, "defaulted")).body  # type: ignore[union-attr]
            (stored_schema,) = [r.body for r in orm(tx).scalars(select(DatasetSchemaRow))]
        assert '"format"' not in stored  # written by 0.1.0, before the envelope had a name

        prof = engine.datasets.profile("loans", target="defaulted")
        assert prof.target == "defaulted" and prof.row_count == 60 and prof.version_id == version.id
        assert {a.column for a in prof.target_associations} == {"income", "grade", "age"}
        # Everything 0.1.0 stored is still there, unchanged; the upgrades only add fields.
        rewritten = json.loads(formats.dumps(prof))
        assert rewritten.pop("format") == "airlock.profile"
        _keeps(rewritten, json.loads(stored))

        schema = engine.datasets.schema("loans")
        assert schema.revision == 1 and schema.based_on == "loans@1"
        assert schema.column("grade") is not None and schema.column("grade").allowed_values == ("A", "B", "C")  # type: ignore[union-attr]
        rewritten = json.loads(formats.dumps(schema))
        assert rewritten.pop("format") == "airlock.schema"
        _keeps(rewritten, json.loads(stored_schema))

        report = engine.audit.verify()
        assert report.ok and report.checked >= 10


def _keeps(new: object, old: object, path: str = "$") -> None:
    """``new`` holds every value of ``old`` unchanged (it may add keys; ``format_version`` rises)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), path
        for key, value in old.items():
            assert key in new, f"{path}.{key} was lost"
            if key == "format_version":
                assert new[key] >= value, path
            else:
                _keeps(new[key], value, f"{path}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), path
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _keeps(a, b, f"{path}[{i}]")
    else:
        assert new == old, f"{path}: {new!r} != {old!r}"


def _version_of(name: str) -> int:
    return {k.name: k for k in formats.kinds()}[name].version
