"""The automated checks of the ML Test Score: one function per test, reading stored evidence only.

:func:`evaluate` runs every check on one :class:`RubricInputs` (the model version, its evidence,
its spec, the training data's schema, validation report and profile, workspace facts and the
champion's figure) under a :class:`~core.rubric.models.RubricPolicy`, and returns a
:class:`~core.rubric.models.TestResult` for each of the 28 tests: the automated ones (data.1–5,
model.1, model.3–7, infra.1, 2, 4, 5) with their outcome, the evidence they read (record links)
and the thresholds they applied; the others as *not done* with the reason (the part of Airlock
that will check them does not exist yet).

Rules every check follows (docs/rubric.md, "How Airlock checks each test"):

- A check that ran is ``automated``, whatever its outcome: the score counts having the test,
  the outcome says whether it passed.
- A check whose evidence item is not stored with the model (trained before it was computed,
  or the data did not allow it: no date column, no sensitive attribute) is ``not_done`` and
  says what it needs: a point must link to evidence.
- A missing schema *is* the finding of Data 1 (the workspace was searched for it): ``fail``.

This module must not read or write the workspace, import Qt or a heavy library: the service
gathers the inputs (:mod:`core.rubric.service`), the checks only judge them.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core import formats
from core.data.models import REDACTED, DatasetVersion, Profile, Schema, Severity, ValidationReport
from core.rubric.models import RubricPolicy, TestOutcome, TestResult, TestStatus
from core.training.models import (
    Algorithm,
    Baselines,
    EvidenceItem,
    EvidenceKind,
    Explanation,
    FeatureCost,
    Inclusion,
    MetricValue,
    ModelVersion,
    PermutationImportance,
    ReproducibilityResult,
    SearchTable,
    SliceReport,
    SmokeResult,
    Staleness,
    TrainingSpec,
    spec_hash,
)

#: Column names (or name parts) read as protected attributes for Data 4: a feature named like
#: one of these must be declared (``spec.sensitive`` or the policy's ``allowed_sensitive``).
PROTECTED_NAMES: tuple[str, ...] = (
    "sex", "gender", "race", "ethnicity", "ethnic", "religion", "religious", "nationality", "citizenship",
    "marital", "disability", "disabled", "pregnancy", "pregnant", "orientation", "age", "birth", "dob",
)

#: PII values at least this long are also looked for inside the evidence's text, not only as whole values.
SUBSTRING_MIN = 6

#: Algorithms whose linear baseline is the same family (Model 5 then requires only the dummy).
LINEAR_ALGORITHMS: frozenset[Algorithm] = frozenset({Algorithm.LOGISTIC, Algorithm.LINEAR, Algorithm.RIDGE})

#: Tests evaluated by parts of Airlock that do not exist yet, and why they are not done.
NOT_YET: dict[str, str] = {
    "data.6": "needs the promotion area: lead time is measured from a schema change to an admitted model using it",
    "data.7": "needs custom feature transforms in the spec (with their generated property tests); none exist yet",
    "model.2": "needs monitoring: labelled monitoring batches across versions to correlate offline and online metrics",
    "infra.3": "needs the promotion area: build, verify, load and score a package end to end",
    "infra.6": "needs the promotion area: a canary batch scored in the QA/production workspace on admission",
    "infra.7": "needs the promotion area: a registry of admitted versions and a recorded rollback drill",
    "monitor.1": "needs monitoring: the package's environment lock and data source compared at load and per batch",
    "monitor.2": "needs monitoring: each serving batch validated against the stored schema",
    "monitor.3": "needs monitoring: serving distributions compared with training (PSI, KS/chi-square)",
    "monitor.4": "needs monitoring: the model's age compared with the refresh cadence set at admission",
    "monitor.5": "needs monitoring: NaN and infinite inputs and outputs caught on every scoring call",
    "monitor.6": "needs monitoring: scoring latency and memory benchmarked per batch against the previous version",
    "monitor.7": "needs monitoring: labelled batches scored against the admission metric",
}


@dataclass(frozen=True, slots=True)
class RubricInputs:
    """Everything the checks read for one model version (gathered by the service in one query).

    Parameters
    ----------
    model
        The model version under test.
    evidence
        Its stored evidence items by kind (a kind absent: not computed for this model).
    spec
        The training spec the version was trained from (None: not found under its hash).
    dataset
        The pinned dataset version it was trained on (None: no longer in the workspace).
    schema
        The dataset's latest schema (None: no schema was ever inferred or written).
    schema_edited
        Whether a person edited that schema revision (audited ``dataset.schema_edited``),
        not only inferred it.
    validation
        The training data validated against ``schema`` (None when there is no schema).
    profile
        The training data's profile (PII detection, top values); None when never profiled.
    encrypted
        Whether the workspace's store is encrypted (always true for an Airlock workspace).
    champion_holdout, champion_label
        The current champion's holdout figure and ``model@N`` (None: no champion yet).
    spec_approved_by
        The reviewer who approved the spec (None: no approval recorded; approvals do not exist yet).
    pii_values
        Values of the training data's PII-like columns (a sample the service reads from the
        snapshot): Data 5 looks for each in the stored evidence. Never stored in a result.
    sample_rows
        A few whole training rows as text: Data 5 fails when every value of one appears in
        the evidence (cells that are empty, booleans or whole numbers under 100 are not
        compared: they fill every evidence item; a row needs three other cells to be judged).
        Never stored in a result.
    """

    model: ModelVersion
    evidence: Mapping[EvidenceKind, EvidenceItem]
    spec: TrainingSpec | None
    dataset: DatasetVersion | None
    schema: Schema | None
    schema_edited: bool
    validation: ValidationReport | None
    profile: Profile | None
    encrypted: bool = True
    champion_holdout: MetricValue | None = None
    champion_label: str | None = None
    spec_approved_by: str | None = None
    pii_values: tuple[str, ...] = ()
    sample_rows: tuple[tuple[str, ...], ...] = field(default=())


Check = Callable[[RubricInputs, RubricPolicy, str], TestResult]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _mv(inputs: RubricInputs) -> str:
    return f"model_version:{inputs.model.id}"


def _ev(kind: EvidenceKind) -> str:
    return f"evidence:{kind}"


def _result(test_id: str, ran_at: str, passed: bool | None, evidence: tuple[str, ...], detail: str,
            thresholds: dict[str, float | str] | None = None) -> TestResult:
    """An automated result: ``passed`` None means not applicable."""
    outcome = TestOutcome.NOT_APPLICABLE if passed is None else (TestOutcome.PASS if passed else TestOutcome.FAIL)
    return TestResult(test_id, TestStatus.AUTOMATED, outcome, evidence, ran_at, dict(thresholds or {}), detail)


def _not_done(test_id: str, ran_at: str, reason: str, evidence: tuple[str, ...] = (),
              thresholds: dict[str, float | str] | None = None) -> TestResult:
    return TestResult(test_id, TestStatus.NOT_DONE, None, evidence, ran_at, dict(thresholds or {}), reason, reason)


def _item(inputs: RubricInputs, kind: EvidenceKind, cls: type[Any]) -> Any:
    item = inputs.evidence.get(kind)
    return item if isinstance(item, cls) else None


def _missing(kind: EvidenceKind) -> str:
    return f"no {kind} evidence is stored with this model version (trained before it was computed?): train it again"


def _names(items: list[str], limit: int = 50) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


# --- features and data ---------------------------------------------------------------------


def check_data_1(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Data 1: a schema a person reviewed (edited) exists, and the training data validates against it."""
    links = (_mv(inputs),) + ((f"dataset_version:{inputs.dataset.id}",) if inputs.dataset else ())
    schema = inputs.schema
    if schema is None:
        return _result("data.1", ran_at, False, links,
                       f"no schema for dataset {inputs.model.dataset}: infer one (airlock data schema infer "
                       f"{inputs.model.dataset}) and review it field by field (Datasets page, Schema tab)")
    links += (f"schema:{schema.dataset_name}@{schema.revision}",)
    problems: list[str] = []
    if not inputs.schema_edited:
        problems.append(f"schema revision {schema.revision} was inferred and never edited by a person: review it "
                        "(edit the expectations that matter: Datasets page, Schema tab)")
    report = inputs.validation
    if report is None:
        problems.append("the training data was not validated against the schema")
    else:
        links += (f"validation:{report.version_label}@schema{report.schema_revision}",)
        bad = [a for a in report.anomalies if a.severity in (Severity.HIGH, Severity.MEDIUM)]
        if report.schema_revision != schema.revision:
            problems.append(f"the validation used schema revision {report.schema_revision}, not {schema.revision}")
        if bad:
            problems.append(f"{len(bad)} high/medium anomalies in {report.version_label}: "
                            + _names([f"{a.column or '(table)'}: {a.kind}" for a in bad], 5))
    passed = not problems
    detail = (f"schema revision {schema.revision} of {schema.dataset_name} reviewed by a person; "
              f"{inputs.model.dataset} validates against it" if passed else "; ".join(problems))
    return _result("data.1", ran_at, passed, links, detail)


def check_data_2(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Data 2: every feature's permutation-importance interval lies above zero."""
    imp: PermutationImportance | None = _item(inputs, EvidenceKind.IMPORTANCE, PermutationImportance)
    if imp is None:
        return _not_done("data.2", ran_at, _missing(EvidenceKind.IMPORTANCE), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.IMPORTANCE))
    weak = [f"{f.feature} [{_fmt(f.ci_low)}, {_fmt(f.ci_high)}]" for f in imp.features if not f.ci_low > 0.0]
    thresholds: dict[str, float | str] = {"interval_low_above": 0.0, "metric": imp.metric}
    if not imp.features:
        return _result("data.2", ran_at, False, links, "the importance evidence lists no feature", thresholds)
    if weak:
        return _result("data.2", ran_at, False, links,
                       f"{len(weak)} of {len(imp.features)} features have an importance interval reaching zero "
                       f"(no evidence the model needs them): {_names(weak)}", thresholds)
    return _result("data.2", ran_at, True, links,
                   f"all {len(imp.features)} features have an importance interval above zero ({imp.metric})",
                   thresholds)


def check_data_3(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Data 3: no feature's share of scoring cost exceeds ``cost_ratio`` times its share of importance.

    Cost share: the larger of its time share and memory share (feature cost evidence);
    importance share: its mean importance (negative counts as 0) over the sum of all positive means.
    """
    cost: FeatureCost | None = _item(inputs, EvidenceKind.FEATURE_COST, FeatureCost)
    imp: PermutationImportance | None = _item(inputs, EvidenceKind.IMPORTANCE, PermutationImportance)
    if cost is None or imp is None:
        kind = EvidenceKind.FEATURE_COST if cost is None else EvidenceKind.IMPORTANCE
        return _not_done("data.3", ran_at, _missing(kind), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.FEATURE_COST), _ev(EvidenceKind.IMPORTANCE))
    thresholds: dict[str, float | str] = {"cost_ratio": policy.cost_ratio}
    total = sum(max(f.mean, 0.0) for f in imp.features)
    share = {f.feature: (max(f.mean, 0.0) / total if total > 0 else 0.0) for f in imp.features}
    costly: list[str] = []
    for row in cost.features:
        cost_share = max(row.time_share, row.memory_share)
        gain = share.get(row.feature, 0.0)
        if cost_share > 0.0 and cost_share > policy.cost_ratio * gain:
            costly.append(f"{row.feature} (cost {cost_share:.1%}, importance {gain:.1%})")
    if costly:
        return _result("data.3", ran_at, False, links,
                       f"{len(costly)} features cost more than {policy.cost_ratio:g}× their share of importance: "
                       f"{_names(costly)}", thresholds)
    return _result("data.3", ran_at, True, links,
                   f"every one of {len(cost.features)} features is worth its cost "
                   f"(cost share ≤ {policy.cost_ratio:g}× importance share)", thresholds)


def _protected(name: str) -> bool:
    parts = {p for p in re.split(r"[^a-z0-9]+", name.lower()) if p}
    return any(p in parts for p in PROTECTED_NAMES)


def check_data_4(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Data 4: no feature on the deny-list; no PII-like or protected column a feature unless declared."""
    spec = inputs.spec
    if spec is None:
        return _not_done("data.4", ran_at, f"the spec {inputs.model.spec_hash} is not stored: the feature list is "
                         "unknown", (_mv(inputs),))
    links: tuple[str, ...] = (_mv(inputs), f"spec:{inputs.model.spec_hash}")
    if inputs.profile is not None:
        links += (f"profile:{inputs.model.dataset}",)
    declared = {c.lower() for c in (*spec.sensitive, *policy.allowed_sensitive)}
    thresholds: dict[str, float | str] = {
        "deny_list": ", ".join(policy.deny_list) or "(empty)",
        "allowed_sensitive": ", ".join(policy.allowed_sensitive) or "(none)",
    }
    problems: list[str] = []
    pii: dict[str, str] = {}
    if inputs.profile is not None:
        not_pii = set(inputs.profile.not_pii)
        pii = {c.name: str(c.pii) for c in inputs.profile.columns if c.pii is not None and c.name not in not_pii}
    for feature in spec.features:
        denied = [p for p in policy.deny_list if fnmatch.fnmatchcase(feature.lower(), p.lower())]
        if denied:
            problems.append(f"{feature} is on the deny-list ({denied[0]})")
            continue
        if feature.lower() in declared:
            continue
        if feature in pii:
            problems.append(f"{feature} looks like personal data ({pii[feature]}) and is not declared")
        elif _protected(feature):
            problems.append(f"{feature} reads as a protected attribute and is not declared")
    if problems:
        return _result("data.4", ran_at, False, links,
                       f"{len(problems)} unsuitable features: {_names(problems)}; remove them from the spec or "
                       "declare them (spec sensitive / policy allowed_sensitive)", thresholds)
    basis = "" if inputs.profile is not None else " (no profile: PII detection not consulted)"
    return _result("data.4", ran_at, True, links,
                   f"none of {len(spec.features)} features is denied, PII-like or an undeclared protected "
                   f"attribute{basis}", thresholds)


def _leaves(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, float):
        yield repr(value)
    elif value is not None:
        yield str(value)


def _number_text(text: str) -> str:
    """A value as the evidence would hold it: a number as Python's float repr, text unchanged."""
    try:
        number = float(text)
    except ValueError:
        return text.strip()
    return repr(number) if math.isfinite(number) else text.strip()


def _distinctive(cell: str) -> bool:
    """A cell that says something about its row: not empty, not a boolean, not a small whole number.

    Small whole numbers (``0``, ``1``, ``42``) and booleans fill every evidence item (counts, trial
    numbers, labels); a row made only of such cells cannot be told apart from them.
    """
    text = cell.strip()
    if not text or text.lower() in ("true", "false"):
        return False
    try:
        number = float(text)
    except ValueError:
        return True
    return not (number.is_integer() and abs(number) < 100)


def check_data_5(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Data 5: the workspace is encrypted, and the stored evidence holds no PII value and no whole row."""
    links = (_mv(inputs),) + tuple(_ev(k) for k in sorted(inputs.evidence))
    problems: list[str] = []
    if not inputs.encrypted:
        problems.append("the workspace store is not encrypted")
    found: dict[EvidenceKind, set[str]] = {}
    for kind, item in inputs.evidence.items():
        texts = set(_leaves(formats.to_builtins(item)))
        found[kind] = texts | {_number_text(t) for t in texts}
    values = {v.strip() for v in inputs.pii_values if len(v.strip()) >= 3 and v.strip() != REDACTED}
    if inputs.profile is not None:  # a PII column's top values must be redacted in the profile too
        for column in inputs.profile.columns:
            if column.pii is not None and column.name not in inputs.profile.not_pii:
                leaked = [v for v, _ in column.top_values if v != REDACTED]
                values.update(v for v in leaked if len(v) >= 3)
                if leaked:
                    problems.append(f"the profile shows {len(leaked)} unredacted values of PII column {column.name}")
    for kind, texts in sorted(found.items()):
        blob = "\n".join(texts)  # a longer value is also found inside text (a method, an error message)
        hits = sorted(v for v in values if v in texts or (len(v) >= SUBSTRING_MIN and v in blob))
        if hits:
            problems.append(f"the {kind} evidence holds {len(hits)} PII value(s)")  # never the values themselves
        for number, row in enumerate(inputs.sample_rows):
            cells = [_number_text(c) for c in row if _distinctive(c)]
            if len(cells) >= 3 and all(c in texts for c in cells):
                problems.append(f"the {kind} evidence holds every value of sampled training row {number}")
                break
    scanned = (f"{len(inputs.evidence)} evidence items scanned for {len(values)} PII values and "
               f"{len(inputs.sample_rows)} sampled rows")
    if problems:
        return _result("data.5", ran_at, False, links, "; ".join(problems) + f" ({scanned})")
    return _result("data.5", ran_at, True, links, f"workspace encrypted; {scanned}: none found")


# --- model development ---------------------------------------------------------------------


def check_model_1(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Model 1: the spec is stored and its hash matches the model's; reviewed when a reviewer approved it.

    Hashing alone is not a review: without a recorded approval the outcome is ``fail`` with the
    reason "review pending" (Airlock has no spec approvals yet).
    """
    links = (_mv(inputs), f"spec:{inputs.model.spec_hash}")
    spec = inputs.spec
    if spec is None:
        return _result("model.1", ran_at, False, (_mv(inputs),),
                       f"the spec {inputs.model.spec_hash} the model names is not stored")
    actual = spec_hash(spec)
    if actual != inputs.model.spec_hash:
        return _result("model.1", ran_at, False, links,
                       f"the stored spec hashes to {actual}, not the model's {inputs.model.spec_hash}")
    if inputs.spec_approved_by is None:
        return _result("model.1", ran_at, False, links,
                       f"spec versioned and hashed ({actual[:12]}…); review pending: no reviewer has approved it")
    return _result("model.1", ran_at, True, links,
                   f"spec versioned and hashed ({actual[:12]}…), approved by {inputs.spec_approved_by}")


def check_model_3(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Model 3: a recorded search with at least two scored trials and a chosen one."""
    table: SearchTable | None = _item(inputs, EvidenceKind.SEARCH, SearchTable)
    if table is None:
        return _not_done("model.3", ran_at, _missing(EvidenceKind.SEARCH), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.SEARCH))
    scored = [t for t in table.trials if t.score is not None]
    thresholds: dict[str, float | str] = {"min_scored_trials": 2.0}
    if len(scored) < 2 or table.chosen_trial is None:
        return _result("model.3", ran_at, False, links,
                       f"{len(scored)} scored trial(s) of {len(table.trials)}"
                       + ("" if table.chosen_trial is not None else ", none chosen")
                       + ": hyperparameters were not searched (raise the search's trials)", thresholds)
    algorithms = sorted({str(t.algorithm) for t in scored})
    return _result("model.3", ran_at, True, links,
                   f"{len(scored)} scored trials over {', '.join(algorithms)}; trial {table.chosen_trial} chosen "
                   f"({table.metric})", thresholds)


def check_model_4(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Model 4: a staleness curve (quality against age) with at least two scored windows."""
    curve: Staleness | None = _item(inputs, EvidenceKind.STALENESS, Staleness)
    if curve is None:
        return _not_done("model.4", ran_at, "no staleness curve: it needs a date column (the split's date column "
                         "or a datetime feature) with enough dated rows", (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.STALENESS))
    scored = [w for w in curve.windows if w.value is not None]
    if len(scored) < 2:
        return _result("model.4", ran_at, False, links,
                       f"only {len(scored)} of {len(curve.windows)} windows could be scored: no curve")
    points = ", ".join(f"{w.age_days:.0f} d: {_fmt(w.value)}" for w in scored)
    return _result("model.4", ran_at, True, links,
                   f"{curve.metric} by age over {curve.date_column} ({points})")


def check_model_5(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Model 5: the model beats the dummy and the linear baseline by ``baseline_margin``.

    Beating means the margin's paired interval lies above zero and the margin reaches the
    policy's. When the model is itself linear the linear baseline is the same family and only
    the dummy must be beaten (the linear one is reported).
    """
    base: Baselines | None = _item(inputs, EvidenceKind.BASELINES, Baselines)
    if base is None:
        return _not_done("model.5", ran_at, _missing(EvidenceKind.BASELINES), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.BASELINES))
    thresholds: dict[str, float | str] = {"baseline_margin": policy.baseline_margin, "metric": base.metric}
    linear_model = inputs.model.algorithm in LINEAR_ALGORITHMS
    names = {b.name for b in base.baselines}
    problems = [f"no {n} baseline was scored" for n in ("dummy", "linear")
                if n not in names and not (n == "linear" and linear_model)]
    parts: list[str] = []
    for b in base.baselines:
        ok = b.beaten and b.margin >= policy.baseline_margin
        text = f"{b.name} {_fmt(b.score)}: margin {_fmt(b.margin)} [{_fmt(b.margin_ci_low)}, {_fmt(b.margin_ci_high)}]"
        if ok:
            parts.append(text + " beaten")
        elif b.name == "linear" and linear_model:
            parts.append(text + " (same family as the model: not required)")
        elif b.beaten:
            problems.append(text + f" below the policy's margin {policy.baseline_margin:g}")
        else:
            problems.append(text + " not beaten (the interval reaches zero)")
    if problems:
        return _result("model.5", ran_at, False, links,
                       f"model {_fmt(base.model_score)}; " + "; ".join(problems), thresholds)
    return _result("model.5", ran_at, True, links, f"model {_fmt(base.model_score)}; " + "; ".join(parts),
                   thresholds)


def check_model_6(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Model 6: every slice at or above ``slice_floor`` and at most ``slice_max_gap`` below overall.

    The declared slices are judged when the spec declares any; otherwise every scored slice.
    """
    report: SliceReport | None = _item(inputs, EvidenceKind.SLICES, SliceReport)
    if report is None:
        return _not_done("model.6", ran_at, _missing(EvidenceKind.SLICES), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.SLICES))
    thresholds: dict[str, float | str] = {"slice_max_gap": policy.slice_max_gap, "metric": report.metric}
    if policy.slice_floor is not None:
        thresholds["slice_floor"] = policy.slice_floor
    declared = [s for s in report.slices if s.declared]
    judged = declared or list(report.slices)
    if not judged:
        return _not_done("model.6", ran_at, "no slice had enough holdout rows to be scored: declare slices "
                         "(spec slices) with enough rows", links, thresholds)
    weak: list[str] = []
    for s in judged:
        below_floor = policy.slice_floor is not None and s.value < policy.slice_floor
        if below_floor or s.gap < -policy.slice_max_gap:
            weak.append(f"{s.column}={s.level} {_fmt(s.value)} (gap {_fmt(s.gap)}, {s.rows} rows)")
    which = "declared" if declared else "automatically found"
    if weak:
        return _result("model.6", ran_at, False, links,
                       f"{len(weak)} of {len(judged)} {which} slices below the floor or the gap "
                       f"(overall {_fmt(report.overall)}): {_names(weak)}", thresholds)
    return _result("model.6", ran_at, True, links,
                   f"all {len(judged)} {which} slices within {policy.slice_max_gap:g} of overall "
                   f"{_fmt(report.overall)}" + ("" if policy.slice_floor is None else
                                                 f" and at or above {policy.slice_floor:g}"), thresholds)


def check_model_7(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Model 7: fairness differences of every declared sensitive attribute within the policy's limits.

    Without declared sensitive attributes nothing was measured: ``not_done`` (a reviewer may
    attest that no protected group applies). With groups but no differences (multiclass,
    regression: fairlearn's differences are for binary classification) the per-group figures
    were measured and no limit applies: automated, ``not_applicable``.
    """
    thresholds: dict[str, float | str] = {"fairness_max_dp": policy.fairness_max_dp,
                                          "fairness_max_eo": policy.fairness_max_eo}
    sensitive = inputs.spec.sensitive if inputs.spec is not None else ()
    fair: Inclusion | None = _item(inputs, EvidenceKind.FAIRNESS, Inclusion)
    if fair is None:
        reason = ("no sensitive attributes declared in the spec: declare them (spec sensitive) or attest that no "
                  "protected group applies" if not sensitive else _missing(EvidenceKind.FAIRNESS))
        return _not_done("model.7", ran_at, reason, (_mv(inputs),), thresholds)
    links = (_mv(inputs), _ev(EvidenceKind.FAIRNESS))
    problems: list[str] = []
    measured: list[str] = []
    for a in fair.attributes:
        dp, eo = a.demographic_parity_difference, a.equalized_odds_difference
        if dp is None and eo is None:
            continue
        measured.append(f"{a.attribute} (dp {_fmt(dp)}, eo {_fmt(eo)})")
        if dp is not None and dp > policy.fairness_max_dp:
            problems.append(f"{a.attribute}: demographic parity difference {_fmt(dp)} > {policy.fairness_max_dp:g}")
        if eo is not None and eo > policy.fairness_max_eo:
            problems.append(f"{a.attribute}: equalized odds difference {_fmt(eo)} > {policy.fairness_max_eo:g}")
    if problems:
        return _result("model.7", ran_at, False, links, "; ".join(problems), thresholds)
    if not measured:
        return _result("model.7", ran_at, None, links,
                       f"per-group figures recorded for {len(fair.attributes)} attribute(s); differences apply to "
                       "binary classification only", thresholds)
    return _result("model.7", ran_at, True, links, "within the limits: " + "; ".join(measured), thresholds)


# --- ML infrastructure ---------------------------------------------------------------------


def check_infra_1(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Infra 1: a second training with the same data and seed gave the same holdout output."""
    rep: ReproducibilityResult | None = _item(inputs, EvidenceKind.REPRODUCIBILITY, ReproducibilityResult)
    if rep is None:
        return _not_done("infra.1", ran_at, _missing(EvidenceKind.REPRODUCIBILITY), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.REPRODUCIBILITY))
    thresholds: dict[str, float | str] = {"tolerance": rep.tolerance}
    how = "identical" if rep.identical else f"largest difference {_fmt(rep.max_abs_difference)}"
    return _result("infra.1", ran_at, rep.passed, links,
                   f"retrained in a fresh process: {rep.compared} outputs compared, {how}"
                   + ("" if rep.passed else f" (over the tolerance {rep.tolerance:g})"), thresholds)


def check_infra_2(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Infra 2: the smoke run on a small sample trained, predicted and beat chance."""
    smoke: SmokeResult | None = _item(inputs, EvidenceKind.SMOKE, SmokeResult)
    if smoke is None:
        return _not_done("infra.2", ran_at, _missing(EvidenceKind.SMOKE), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.SMOKE))
    return _result("infra.2", ran_at, smoke.passed, links,
                   f"{smoke.algorithm} on {smoke.rows} rows: {smoke.metric} {_fmt(smoke.score)} against chance "
                   f"{_fmt(smoke.chance)}" + ("" if smoke.passed else ": did not beat chance"),
                   {"beats_chance": smoke.chance})


def check_infra_4(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Infra 4: the holdout metric reaches the policy's floor and the current champion's figure.

    With no floor in the policy and no champion the gate has nothing to hold the model to:
    automated, ``not_applicable`` (set ``quality_floor``).
    """
    holdout = inputs.model.holdout
    links: tuple[str, ...] = (_mv(inputs),)
    thresholds: dict[str, float | str] = {"metric": holdout.name}
    problems: list[str] = []
    notes: list[str] = []
    if policy.quality_floor is not None:
        thresholds["quality_floor"] = policy.quality_floor
        if holdout.value < policy.quality_floor:
            problems.append(f"holdout {holdout.name} {_fmt(holdout.value)} below the floor {policy.quality_floor:g}")
        else:
            notes.append(f"holdout {holdout.name} {_fmt(holdout.value)} ≥ floor {policy.quality_floor:g}")
    champion = inputs.champion_holdout
    if champion is not None:
        label = inputs.champion_label or "the champion"
        links += (f"champion:{label}",)
        thresholds["champion"] = champion.value
        if champion.name != holdout.name:
            problems.append(f"{label} is measured in {champion.name}, this model in {holdout.name}: not comparable")
        elif holdout.value < champion.value:
            problems.append(f"holdout {_fmt(holdout.value)} below {label}'s {_fmt(champion.value)}")
        else:
            notes.append(f"≥ {label}'s {_fmt(champion.value)}")
    if problems:
        return _result("infra.4", ran_at, False, links, "; ".join(problems), thresholds)
    if not notes:
        return _result("infra.4", ran_at, None, links,
                       "no quality floor in the policy and no champion: nothing to gate against "
                       "(set the policy's quality_floor)", thresholds)
    return _result("infra.4", ran_at, True, links, "; ".join(notes), thresholds)


def check_infra_5(inputs: RubricInputs, policy: RubricPolicy, ran_at: str) -> TestResult:
    """Infra 5: one holdout row explained (transformed features and their contributions)."""
    exp: Explanation | None = _item(inputs, EvidenceKind.EXPLANATION, Explanation)
    if exp is None:
        return _not_done("infra.5", ran_at, _missing(EvidenceKind.EXPLANATION), (_mv(inputs),))
    links = (_mv(inputs), _ev(EvidenceKind.EXPLANATION))
    if not exp.contributions:
        return _result("infra.5", ran_at, False, links, "the explanation lists no contribution")
    additive = "additive" if exp.base_value is not None else "not additive"
    return _result("infra.5", ran_at, True, links,
                   f"holdout row {exp.row} explained: {len(exp.contributions)} transformed features, "
                   f"contributions to the {exp.output_kind} ({additive})")


#: The automated check of each test, by test id (:data:`CHECK_IDS` maps the catalogue's check ids).
CHECKS: dict[str, Check] = {
    "data.1": check_data_1, "data.2": check_data_2, "data.3": check_data_3, "data.4": check_data_4,
    "data.5": check_data_5, "model.1": check_model_1, "model.3": check_model_3, "model.4": check_model_4,
    "model.5": check_model_5, "model.6": check_model_6, "model.7": check_model_7, "infra.1": check_infra_1,
    "infra.2": check_infra_2, "infra.4": check_infra_4, "infra.5": check_infra_5,
}

#: The catalogue's check id of each automated check (``resources/rubric/ml_test_score_2017.json``).
CHECK_IDS: dict[str, str] = {
    "schema_validated": "data.1", "importance_intervals": "data.2", "feature_cost": "data.3",
    "feature_meta": "data.4", "privacy_controls": "data.5", "spec_reviewed": "model.1",
    "search_recorded": "model.3", "staleness_curve": "model.4", "baseline_margin": "model.5",
    "slice_quality": "model.6", "fairness_gaps": "model.7", "reproducibility": "infra.1", "smoke_run": "infra.2",
    "quality_gate": "infra.4", "explanation": "infra.5",
}

#: Every test id in the paper's order.
TEST_IDS: tuple[str, ...] = tuple(
    f"{section}.{n}" for section in ("data", "model", "infra", "monitor") for n in range(1, 8)
)


def evaluate(inputs: RubricInputs, policy: RubricPolicy, *, ran_at: str | None = None) -> dict[str, TestResult]:
    """Run every automated check and mark the rest not done.

    Parameters
    ----------
    inputs
        What the service gathered for one model version.
    policy
        The thresholds to apply.
    ran_at
        The time stamped on every result (ISO 8601, UTC); now by default.

    Returns
    -------
    dict
        One result per test id, in the paper's order (all 28).
    """
    when = ran_at or _now()
    results: dict[str, TestResult] = {}
    for test_id in TEST_IDS:
        check = CHECKS.get(test_id)
        if check is not None:
            results[test_id] = check(inputs, policy, when)
        else:
            reason = NOT_YET.get(test_id, "no automated check exists for this test yet")
            results[test_id] = _not_done(test_id, when, reason)
    return results


__all__ = ["CHECKS", "CHECK_IDS", "LINEAR_ALGORITHMS", "NOT_YET", "PROTECTED_NAMES", "TEST_IDS", "Check", "RubricInputs",
           "evaluate"]
