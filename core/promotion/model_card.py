"""The model card a promotion package carries, in the spirit of Mitchell et al.'s "Model Cards for Model Reporting".

:func:`build_card` turns what the development workspace recorded about one model version (its
lineage, spec, evidence, rubric result and environment) into a :class:`ModelCard` value;
:func:`card_markdown` lays the same value out as Markdown for a governance reviewer who never
saw the workspace. The JSON form is ``formats.dumps(card)`` (registered kind
``airlock.model_card``), so both forms say exactly the same thing.

The card states only what was recorded: anything missing (intended use, a fairness analysis,
the rubric) is said to be missing, never invented. It must not read the store, Qt or the file
system, and it must not hold data values: it is built from evidence already redacted by
:mod:`core.promotion.contents` (aggregates, column names and slice levels only), and it holds
no timestamps of its own, so the same version gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from core import formats
from core.promotion.models import ArtefactEntry, Lineage, Manifest
from core.rubric.models import RubricResult, TestOutcome, TestStatus
from core.training.models import (
    AttributeFairness,
    Baselines,
    BaselineScore,
    Calibration,
    CrossValidation,
    EnvironmentLock,
    Evidence,
    ExcludedColumn,
    HoldoutMetrics,
    Inclusion,
    MetricValue,
    ModelVersion,
    ReproducibilityResult,
    SliceMetric,
    SliceReport,
    SmokeResult,
    TrainingSpec,
)

MODEL_CARD_FORMAT_VERSION = 1

_T = TypeVar("_T")

#: What the card says where the workspace recorded no intended use (nothing is invented).
INTENDED_USE_MISSING = (
    "Not recorded in the development workspace. To be filled by the author: the decisions this model "
    "supports, for whom, and the uses it must not be put to."
)
#: The source the card's layout follows, printed on the card.
SOURCE = ("Mitchell, Wu, Zaldivar, Barnes, Vasserman, Hutchinson, Spitzer, Raji, Gebru: Model Cards for Model "
          "Reporting, FAT* 2019")


@dataclass(frozen=True, slots=True)
class CardArtefact:
    """One model file of the package: its path under ``content/``, its format and its SHA-256."""

    path: str
    format: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ModelDetails:
    task: str
    algorithm: str
    params: dict[str, object]
    trained_by: str
    trained_at: str
    device: str
    seed: int
    author: str  # the printed name on the key that signs the package
    author_keyid: str
    source_workspace_id: str
    source_workspace_name: str
    audit_seq: int
    audit_hash: str
    artefacts: tuple[CardArtefact, ...]


@dataclass(frozen=True, slots=True)
class TrainingData:
    dataset: str  # name@N
    dataset_version_id: str
    dataset_sha256: str
    rows: int | None  # None when the dataset version is no longer in the workspace
    target: str | None
    features: tuple[str, ...]
    excluded: tuple[ExcludedColumn, ...]
    split: str  # how the holdout and the folds were cut, in words


@dataclass(frozen=True, slots=True)
class Evaluation:
    metric: str
    holdout: MetricValue  # the optimised metric on the holdout, with its interval where one was computed
    holdout_rows: int | None
    metrics: tuple[MetricValue, ...]  # every holdout metric computed
    cv_mean: float | None
    cv_sd: float | None
    cv_folds: int | None
    baselines: tuple[BaselineScore, ...]
    slices_scored: int
    weak_slices: tuple[SliceMetric, ...]
    brier: float | None
    reproducible: bool | None  # the repeated training's outputs within tolerance; None: not checked


@dataclass(frozen=True, slots=True)
class CardRubric:
    result_id: str
    policy_version: int
    ran_at: str
    score: float
    band: str
    rule: str
    sections: tuple[tuple[str, float], ...]
    passed: tuple[str, ...]
    failed: tuple[str, ...]
    not_done: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelCard:
    """Everything the card says; the Markdown form is :func:`card_markdown` of this value."""

    model: str
    version: int
    model_version_id: str
    details: ModelDetails
    lineage: Lineage
    intended_use: str | None  # None: not recorded (the card says so)
    training_data: TrainingData
    evaluation: Evaluation
    fairness: tuple[AttributeFairness, ...]  # empty: no sensitive attribute was declared
    rubric: CardRubric | None  # None: the rubric never ran for this version
    caveats: tuple[str, ...]
    withheld: tuple[str, ...]  # what the package's evidence leaves out, and why
    environment: EnvironmentLock
    source: str = SOURCE
    format_version: int = MODEL_CARD_FORMAT_VERSION

    @property
    def label(self) -> str:
        return f"{self.model}@{self.version}"


# --- building --------------------------------------------------------------------------------


def build_card(manifest: Manifest, version: ModelVersion, spec: TrainingSpec | None, evidence: Evidence,
               rubric: RubricResult | None, *, dataset_rows: int | None, artefacts: Sequence[CardArtefact],
               withheld: Sequence[str] = ()) -> ModelCard:
    """The card of ``version`` from its manifest and what the workspace recorded.

    Parameters
    ----------
    manifest
        The package's manifest (author, source workspace, lineage).
    version
        The model version.
    spec
        Its training spec (None when it is no longer stored: the card says so).
    evidence
        The evidence as the package carries it (already redacted).
    rubric
        The latest rubric result, or None when the rubric never ran.
    dataset_rows
        Rows of the training dataset version (None when unknown).
    artefacts
        The model files with their formats and digests.
    withheld
        What was left out of the package's evidence and why (each said on the card).
    """
    details = ModelDetails(
        task=manifest.task, algorithm=str(version.algorithm), params=dict(version.params),
        trained_by=version.created_by, trained_at=version.created_at, device=str(version.device), seed=version.seed,
        author=manifest.author, author_keyid=manifest.author_keyid,
        source_workspace_id=manifest.source_workspace_id, source_workspace_name=manifest.source_workspace_name,
        audit_seq=manifest.audit_seq, audit_hash=manifest.audit_hash, artefacts=tuple(artefacts),
    )
    data = TrainingData(
        dataset=version.dataset, dataset_version_id=version.dataset_version_id, dataset_sha256=version.dataset_sha256,
        rows=dataset_rows, target=spec.target if spec else None, features=spec.features if spec else (),
        excluded=spec.excluded if spec else (), split=_split_text(spec),
    )
    evaluation = _evaluation(version, evidence)
    inclusion = _item(evidence, Inclusion)
    fairness = inclusion.attributes if inclusion is not None else ()
    card_rubric = _rubric(rubric) if rubric is not None else None
    card = ModelCard(
        model=version.model, version=version.number, model_version_id=str(version.id), details=details,
        lineage=manifest.lineage, intended_use=None, training_data=data, evaluation=evaluation, fairness=fairness,
        rubric=card_rubric, caveats=(), withheld=tuple(withheld), environment=version.environment,
    )
    return _with_caveats(card, spec, evidence)


def _item(evidence: Evidence, cls: type[_T]) -> _T | None:
    return next((i for i in evidence.items if isinstance(i, cls)), None)


def _split_text(spec: TrainingSpec | None) -> str:
    if spec is None:
        return "not known: the training spec is no longer stored in the development workspace"
    s = spec.split
    how = {"random": "random split (stratified on the target for classification)",
           "time": f"time split by {s.date_column} (the newest rows are the holdout)",
           "group": f"group split by {s.group_column} (no group on both sides)"}.get(str(s.kind), str(s.kind))
    return (f"{how}; {s.holdout_share:.0%} of the rows held out; {s.cv_folds}-fold cross-validation on the rest; "
            f"seed {spec.seed}")


def _evaluation(version: ModelVersion, evidence: Evidence) -> Evaluation:
    holdout = _item(evidence, HoldoutMetrics)
    cv = _item(evidence, CrossValidation)
    baselines = _item(evidence, Baselines)
    slices = _item(evidence, SliceReport)
    calibration = _item(evidence, Calibration)
    repro = _item(evidence, ReproducibilityResult)
    return Evaluation(
        metric=version.metric, holdout=version.holdout, holdout_rows=holdout.rows if holdout else None,
        metrics=holdout.metrics if holdout else (), cv_mean=cv.mean if cv else None, cv_sd=cv.sd if cv else None,
        cv_folds=cv.folds if cv else None, baselines=baselines.baselines if baselines else (),
        slices_scored=len(slices.slices) if slices else 0, weak_slices=slices.weak if slices else (),
        brier=calibration.brier if calibration else None, reproducible=repro.passed if repro else None,
    )


def _rubric(result: RubricResult) -> CardRubric:
    passed = tuple(r.test_id for r in result.results if r.outcome == TestOutcome.PASS)
    failed = tuple(r.test_id for r in result.results if r.outcome == TestOutcome.FAIL)
    not_done = tuple(r.test_id for r in result.results if r.status == TestStatus.NOT_DONE)
    return CardRubric(
        result_id=str(result.id), policy_version=result.policy_version, ran_at=result.created_at,
        score=result.score.final, band=result.score.band, rule=result.score.rule_text,
        sections=tuple((str(s.section), s.points) for s in result.score.sections),
        passed=passed, failed=failed, not_done=not_done,
    )


def _with_caveats(card: ModelCard, spec: TrainingSpec | None, evidence: Evidence) -> ModelCard:
    """The card with its caveats: what failed, what was not done, what is not known."""
    import dataclasses

    out: list[str] = []
    ev = card.evaluation
    if card.intended_use is None:
        out.append("The intended use was not recorded; the author must state it before the model is relied on.")
    if spec is None:
        out.append("The training spec is no longer stored: features, exclusions and split are not known.")
    if _item(evidence, HoldoutMetrics) is None:
        out.append("No holdout metrics were stored beyond the optimised metric.")
    if ev.holdout.ci_low is None or ev.holdout.ci_high is None:
        out.append(f"The holdout {ev.metric} has no confidence interval.")
    for b in ev.baselines:
        if not b.beaten:
            out.append(f"The model does not clearly beat the {b.name} baseline ({b.description}): margin "
                       f"{_num(b.margin)}, interval {_interval(b.margin_ci_low, b.margin_ci_high)}.")
    if not ev.baselines:
        out.append("No baseline comparison was stored.")
    for s in ev.weak_slices:
        out.append(f"Weak slice {s.column}={s.level}: {ev.metric} {_num(s.value)} on {s.rows} rows, "
                   f"{_num(-s.gap)} below the overall figure.")
    if _item(evidence, SliceReport) is None:
        out.append("No slice analysis was stored.")
    if not card.fairness:
        out.append("No fairness analysis: no sensitive attribute was declared in the training spec.")
    if ev.reproducible is False:
        out.append("A second training with the same data and seed did not reproduce the model's outputs.")
    elif ev.reproducible is None:
        out.append("Reproducibility was not checked.")
    smoke = _item(evidence, SmokeResult)
    if smoke is not None and not smoke.passed:
        out.append("The smoke run before training did not beat chance.")
    if card.rubric is None:
        out.append("The ML Test Score rubric was never run for this version.")
    else:
        if card.rubric.failed:
            out.append(f"Rubric tests failed: {', '.join(card.rubric.failed)}.")
        if card.rubric.not_done:
            out.append(f"Rubric tests not done: {', '.join(card.rubric.not_done)}.")
    for a in card.details.artefacts:
        if a.format == "joblib":
            out.append(f"{a.path} is a joblib pickle: loading it runs code, so a site loads it only after the "
                       "package's signatures and digests check out, in a child process with no network.")
    out += [f"Withheld from the package: {w}." for w in card.withheld]
    return dataclasses.replace(card, caveats=tuple(out))


# --- Markdown --------------------------------------------------------------------------------


def _num(v: float | None, digits: int = 4) -> str:
    return "—" if v is None else f"{v:.{digits}g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3g}"


def _interval(low: float | None, high: float | None) -> str:
    return "not computed" if low is None or high is None else f"[{_num(low)}, {_num(high)}]"


def _cell(text: object) -> str:
    """A Markdown table cell: no line breaks, pipes escaped."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def card_markdown(card: ModelCard) -> str:
    """The card as Markdown (sections after Mitchell et al.), for a reviewer who never saw the workspace."""
    d, data, ev = card.details, card.training_data, card.evaluation
    lines = [f"# Model card: {card.label}", "",
             f"Built by Airlock from the records of development workspace {d.source_workspace_name!r}. "
             f"Layout after {card.source}.", ""]
    lines += ["## Model details", ""]
    lines += _table(("Field", "Value"), [
        ("Model", card.model), ("Version", card.version), ("Model version id", card.model_version_id),
        ("Task", d.task), ("Algorithm", d.algorithm),
        ("Parameters", ", ".join(f"{k}={v}" for k, v in sorted(d.params.items())) or "defaults"),
        ("Trained by", d.trained_by), ("Trained at", d.trained_at), ("Device", d.device), ("Seed", d.seed),
        ("Package author", f"{d.author} (key {d.author_keyid})"),
        ("Source workspace", f"{d.source_workspace_name} ({d.source_workspace_id})"),
        ("Audit head", f"entry {d.audit_seq}, hash {d.audit_hash}"),
    ])
    lines += ["### Lineage", ""]
    lines += _table(("Field", "Value"), [
        ("Dataset version", f"{card.lineage.dataset} ({card.lineage.dataset_version_id})"),
        ("Dataset SHA-256", card.lineage.dataset_sha256), ("Training spec hash", card.lineage.spec_hash),
        ("Training run", card.lineage.training_run_id or "not recorded"),
    ])
    lines += ["### Artefacts", ""]
    lines += _table(("File", "Format", "SHA-256"), [(a.path, a.format, a.sha256) for a in d.artefacts])
    lines += ["## Intended use", "", card.intended_use or f"_{INTENDED_USE_MISSING}_", ""]
    lines += ["## Training data", ""]
    lines += _table(("Field", "Value"), [
        ("Dataset", data.dataset), ("Dataset SHA-256", data.dataset_sha256),
        ("Rows", "not known" if data.rows is None else data.rows), ("Target", data.target or "not known"),
        ("Features", f"{len(data.features)}: {', '.join(data.features)}" if data.features else "not known"),
        ("Split", data.split),
    ])
    if data.excluded:
        lines += ["Columns left out of the features:", ""]
        lines += _table(("Column", "Reason"), [(e.column, e.reason) for e in data.excluded])
    lines += ["## Evaluation", ""]
    rows_text = f" on {ev.holdout_rows} holdout rows" if ev.holdout_rows is not None else " on the holdout"
    lines += [f"Optimised metric **{ev.metric}** = **{_num(ev.holdout.value)}**{rows_text}, 95% interval "
              f"{_interval(ev.holdout.ci_low, ev.holdout.ci_high)} ({ev.holdout.method}).", ""]
    if ev.metrics:
        lines += _table(("Metric", "Holdout value", "95% interval"),
                        [(m.name, _num(m.value), _interval(m.ci_low, m.ci_high)) for m in ev.metrics])
    if ev.cv_mean is not None:
        lines += [f"Cross-validation ({ev.cv_folds} folds, training part): {_num(ev.cv_mean)} ± {_num(ev.cv_sd)}.", ""]
    if ev.baselines:
        lines += ["### Baselines", ""]
        lines += _table(("Baseline", "Score", "Margin", "Margin interval", "Beaten"), [
            (f"{b.name}: {b.description}", _num(b.score), _num(b.margin),
             _interval(b.margin_ci_low, b.margin_ci_high), "yes" if b.beaten else "no") for b in ev.baselines])
    lines += ["### Slices", "", f"Slices scored: {ev.slices_scored}; weak: {len(ev.weak_slices)}.", ""]
    if ev.weak_slices:
        lines += _table(("Slice", "Rows", ev.metric, "Interval", "Gap"), [
            (f"{s.column}={s.level}", s.rows, _num(s.value), _interval(s.ci_low, s.ci_high), _num(s.gap))
            for s in ev.weak_slices])
    if ev.brier is not None:
        lines += [f"Calibration: Brier score {_num(ev.brier)} on the holdout.", ""]
    repro = {True: "reproduced (a second training gave the same outputs within tolerance)",
             False: "NOT reproduced", None: "not checked"}[ev.reproducible]
    lines += [f"Reproducibility: {repro}.", ""]
    lines += ["## Fairness", ""]
    if not card.fairness:
        lines += ["No fairness analysis: no sensitive attribute was declared in the training spec.", ""]
    for a in card.fairness:
        lines += [f"**{a.attribute}**: demographic parity difference {_num(a.demographic_parity_difference)}, "
                  f"equalised odds difference {_num(a.equalized_odds_difference)}.", ""]
        lines += _table(("Group", "Rows", "Selection rate", "FPR", "FNR", "Accuracy", "MAE"), [
            (g.group, g.rows, _num(g.selection_rate), _num(g.false_positive_rate), _num(g.false_negative_rate),
             _num(g.accuracy), _num(g.mean_absolute_error)) for g in a.groups])
    lines += ["## ML Test Score rubric", ""]
    if card.rubric is None:
        lines += ["The rubric was never run for this version.", ""]
    else:
        r = card.rubric
        lines += [f"Final score **{r.score:g}** (band **{r.band}**), result {r.result_id}, policy version "
                  f"{r.policy_version}, run at {r.ran_at}. {r.rule}", ""]
        lines += _table(("Section", "Points"), [(s, f"{p:g}") for s, p in r.sections])
        lines += [f"Passed ({len(r.passed)}): {', '.join(r.passed) or 'none'}.",
                  f"Failed ({len(r.failed)}): {', '.join(r.failed) or 'none'}.",
                  f"Not done ({len(r.not_done)}): {', '.join(r.not_done) or 'none'}.", ""]
    lines += ["## Caveats and recommendations", ""]
    lines += [f"- {c}" for c in card.caveats] or ["- None recorded."]
    lines += ["", "## Environment", ""]
    env = card.environment
    lines += _table(("Field", "Value"), [
        ("Python", env.python), ("Platform", env.platform), ("CPU", env.cpu), ("GPU", env.gpu or "none"),
        ("Packages", len(env.packages)),
    ])
    lines += _table(("Package", "Version"), list(env.packages))
    return "\n".join(lines).rstrip("\n") + "\n"


def artefact_format(name: str) -> str:
    """The format of a model file by its name: ``joblib`` (runs code when loaded) or ``xgboost-ubj``."""
    if name.endswith(".joblib"):
        return "joblib"
    if name.endswith(".ubj"):
        return "xgboost-ubj"
    return name.rpartition(".")[2] or "unknown"


def card_artefacts(entries: Sequence[ArtefactEntry], digests: dict[str, str]) -> tuple[CardArtefact, ...]:
    """The card's artefact rows from the manifest's entries and their SHA-256 by path."""
    return tuple(CardArtefact(e.path, e.format, digests[e.path]) for e in entries)


formats.register(formats.RecordKind(
    "airlock.model_card", ModelCard, MODEL_CARD_FORMAT_VERSION, "model card",
    "build the package again with this Airlock (airlock package build)",
))


__all__ = [
    "INTENDED_USE_MISSING", "MODEL_CARD_FORMAT_VERSION", "CardArtefact", "CardRubric", "Evaluation", "ModelCard",
    "ModelDetails", "TrainingData", "artefact_format", "build_card", "card_artefacts", "card_markdown",
]
