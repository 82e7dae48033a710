"""Training specs as TOML files, a starting spec from a profile, and the checks before a run.

- :func:`load_spec` / :func:`parse_spec` read a spec from TOML (the standard library's
  ``tomllib``); a file that is not TOML raises :class:`~core.errors.InvalidInput` naming the
  file, line and column, and keys or values that do not fit raise :class:`InvalidSpec` with one
  :class:`~core.training.models.SpecProblem` per key. :func:`dump_spec` writes TOML (tomli-w).
- :func:`init_spec` builds a sensible starting spec from a dataset version's profile (and
  schema): the task inferred from the target, every other column a feature except the
  identifier, personal-data, constant and leakage-flagged ones, each left out with its reason.
- :func:`validate_spec` lists every problem of a spec against the profile and schema.

Pure functions over values: this module reads no workspace and imports no heavy library.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from core.data.models import AlertKind, ColumnFlag, ColumnProfile, ColumnType, Profile, Schema, SemanticType
from core.errors import InvalidInput
from core.training.models import (
    ALGORITHMS,
    DATETIME_PARTS,
    DEFAULT_METRIC,
    METRICS,
    PROBABILITY_METRICS,
    SPEC_FORMAT_VERSION,
    Algorithm,
    ExcludedColumn,
    Preprocessing,
    SearchKind,
    SearchSpec,
    SpecProblem,
    SplitKind,
    SplitSpec,
    Task,
    TrainingSpec,
)

#: A target with at most this many levels is a multiclass task (more: regression if numeric).
MULTICLASS_MAX_LEVELS = 20
#: The algorithms ``train init`` proposes, by task (the linear one first: the simplest).
DEFAULT_ALGORITHMS: dict[Task, tuple[Algorithm, ...]] = {
    Task.BINARY: (Algorithm.LOGISTIC, Algorithm.RANDOM_FOREST, Algorithm.HIST_GRADIENT_BOOSTING, Algorithm.XGBOOST),
    Task.MULTICLASS: (Algorithm.LOGISTIC, Algorithm.RANDOM_FOREST, Algorithm.HIST_GRADIENT_BOOSTING,
                      Algorithm.XGBOOST),
    Task.REGRESSION: (Algorithm.RIDGE, Algorithm.RANDOM_FOREST, Algorithm.HIST_GRADIENT_BOOSTING, Algorithm.XGBOOST),
}
_MAX_SEED = 2**32 - 1  # numpy's and XGBoost's seeds are unsigned 32-bit
_NUMERIC_STORAGE = ("int", "uint", "float", "double", "decimal", "halffloat")


class InvalidSpec(InvalidInput):
    """A spec that cannot be used: ``problems`` lists each one (field and message)."""

    code = "invalid_spec"

    def __init__(self, message: str, problems: list[SpecProblem]) -> None:
        super().__init__(message)
        self.problems = problems


# --- TOML in and out ------------------------------------------------------------------------


def load_spec(path: Path | str) -> TrainingSpec:
    """Read a spec from a TOML file.

    Raises
    ------
    InvalidInput
        The file cannot be read or is not TOML (the message names the file, line and column).
    InvalidSpec
        Unknown keys or values of the wrong kind; ``problems`` names each key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Cannot read the training spec {path}: {exc}.") from None
    return parse_spec(text, source=str(path))


def parse_spec(text: str, *, source: str = "the spec") -> TrainingSpec:
    """Read a spec from TOML text; ``source`` names it in messages (see :func:`load_spec`)."""
    try:
        body = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.14 gives the position as attributes; 3.11's message ends "(at line L, column C)".
        line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        what = getattr(exc, "msg", None) if line is not None else None
        where = f", line {line}, column {column}" if line is not None else ""
        raise InvalidInput(f"{source}{where}: not valid TOML: {what or exc}. Fix the file and try again.") from None
    problems: list[SpecProblem] = []
    spec = spec_from_dict(body, problems)
    if spec is None or problems:
        raise InvalidSpec(
            f"{source}: the training spec has {len(problems)} problem{'s' if len(problems) != 1 else ''}: "
            + "; ".join(f"{p.field}: {p.message}" for p in problems),
            problems,
        )
    return spec


def spec_from_dict(body: Mapping[str, Any], problems: list[SpecProblem]) -> TrainingSpec | None:
    """Build a spec from a parsed TOML table, appending a problem per unknown or ill-typed key.

    Returns None when a required key is missing or a value does not fit (the problems say which).
    """
    body = dict(body)
    version = body.pop("format_version", SPEC_FORMAT_VERSION)
    body.pop("format", None)
    if version != SPEC_FORMAT_VERSION:
        newer = isinstance(version, int) and version > SPEC_FORMAT_VERSION
        problems.append(SpecProblem("format_version", (
            f"format {version!r} was written by a newer Airlock; this one reads format {SPEC_FORMAT_VERSION}"
            if newer else f"must be {SPEC_FORMAT_VERSION}, found {version!r}")))
        return None
    values = _convert_fields(TrainingSpec, body, "", problems)
    if values is None:
        return None
    return TrainingSpec(**values)


def _convert_fields(cls: type, body: Mapping[str, Any], prefix: str, problems: list[SpecProblem]) -> dict[str, Any] | None:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "format_version"}
    values: dict[str, Any] = {}
    ok = True
    for key, value in body.items():
        name = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(fields)}"
            problems.append(SpecProblem(name, f"unknown key {key!r}{hint}"))
            ok = False
            continue
        hint_type = hints[key]
        nested = _dataclass_of(hint_type)
        if nested is not None and isinstance(value, dict):
            sub = _convert_fields(nested, value, f"{name}.", problems)
            if sub is None:
                ok = False
            else:
                values[key] = nested(**sub)
            continue
        if key == "excluded" and isinstance(value, list):
            items = []
            for i, item in enumerate(value):
                sub = _convert_fields(ExcludedColumn, item, f"{name}[{i}].", problems) if isinstance(item, dict) else None
                if sub is None:
                    if not isinstance(item, dict):
                        problems.append(SpecProblem(f"{name}[{i}]", "must be a table with column and reason"))
                    ok = False
                    continue
                if "column" not in sub or "reason" not in sub:
                    problems.append(SpecProblem(f"{name}[{i}]", "needs both column and reason"))
                    ok = False
                    continue
                items.append(ExcludedColumn(**sub))
            values[key] = tuple(items)
            continue
        try:
            values[key] = msgspec.convert(value, hint_type)
        except msgspec.ValidationError as exc:
            problems.append(SpecProblem(name, _type_message(exc, value)))
            ok = False
    missing = [n for n, f in fields.items()
               if n not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               and n not in body]
    for n in missing:
        problems.append(SpecProblem(f"{prefix}{n}", "is required"))
    return values if ok and not missing else None


def _dataclass_of(hint: Any) -> type | None:
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def _type_message(exc: msgspec.ValidationError, value: object) -> str:
    text = str(exc)
    if "Invalid enum value" in text:
        return f"{value!r} is not one of the allowed values ({text})"
    return f"{value!r} does not fit: {text}"


def dump_spec(spec: TrainingSpec) -> str:
    """The spec as TOML text, with a short header saying how to use it (None values left out)."""
    import tomli_w

    from core import formats

    body = formats.to_builtins(spec)
    body.pop("format", None)
    version = body.pop("format_version")
    ordered: dict[str, Any] = {"format_version": version}
    ordered.update(_without_none(body))
    header = (
        "# Airlock training spec. Check it with `airlock train validate FILE`, run it with `airlock train run FILE`.\n"
        "# A column under [[excluded]] is left out; list it in `features` to use it after all.\n"
    )
    return header + tomli_w.dumps(ordered)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


# --- a starting spec --------------------------------------------------------------------------


def infer_task(column: ColumnProfile) -> tuple[Task, str]:
    """The task a target column implies, and why (two levels: binary; few or text: multiclass)."""
    levels = column.distinct
    if levels == 2:
        return Task.BINARY, f"{column.name} has two values"
    if column.semantic_type != SemanticType.NUMERIC or not _numeric_storage(column.storage_type):
        return Task.MULTICLASS, f"{column.name} is {column.semantic_type}, {levels} values"
    if levels <= MULTICLASS_MAX_LEVELS:
        return Task.MULTICLASS, f"{column.name} has {levels} values (at most {MULTICLASS_MAX_LEVELS}: classes)"
    return Task.REGRESSION, f"{column.name} is numeric with {levels} values"


def init_spec(profile: Profile, schema: Schema | None, dataset_label: str, dataset_sha256: str, target: str,
              task: Task | None = None) -> TrainingSpec:
    """A starting spec for predicting ``target`` from a version's profile.

    Parameters
    ----------
    profile
        The version's profile; computed with ``target`` for the leakage check to count.
    schema
        The dataset's schema, when there is one (its semantic types win over the profile's).
    dataset_label, dataset_sha256
        The pinned version (``name@N``) and its content hash.
    target
        The column to predict.
    task
        Override of the inferred task.

    Raises
    ------
    InvalidInput
        ``target`` is not a column of the version (close matches are named).
    """
    names = [c.name for c in profile.columns]
    if target not in names:
        raise InvalidInput(f"{dataset_label} has no column {target!r}{_close(target, names)}.")
    target_column = profile.column(target)
    task = task or infer_task(target_column)[0]
    reasons = exclusion_reasons(profile, schema, target)
    features = tuple(n for n in names if n != target and n not in reasons)
    excluded = tuple(ExcludedColumn(n, reasons[n]) for n in names if n in reasons)
    date_column = next((n for n in features if _is_datetime(profile.column(n), schema)), None)
    return TrainingSpec(
        dataset=dataset_label, dataset_sha256=dataset_sha256, target=target, task=task,
        features=features, excluded=excluded, preprocessing=Preprocessing(),
        split=SplitSpec(kind=SplitKind.RANDOM, date_column=date_column),
        metric=DEFAULT_METRIC[task], algorithms=DEFAULT_ALGORITHMS[task], search=SearchSpec(),
    )


def exclusion_reasons(profile: Profile, schema: Schema | None, target: str) -> dict[str, str]:
    """Columns ``train init`` leaves out of the features, each with the reason shown to the user."""
    reasons: dict[str, list[str]] = {}

    def add(column: str | None, reason: str) -> None:
        if column is None or column == target:
            return
        found = reasons.setdefault(column, [])
        if reason not in found:
            found.append(reason)

    for col in profile.columns:
        semantic = col.semantic_type
        declared = schema.column(col.name) if schema is not None else None
        if declared is not None:
            semantic = declared.semantic_type
        if semantic == SemanticType.IDENTIFIER:
            add(col.name, f"identifier: {col.identifier}" if col.identifier
                else "identifier: unique per row, it cannot generalise")
        if col.pii is not None and col.name not in profile.not_pii:
            add(col.name, f"personal data ({col.pii})")
        if ColumnFlag.CONSTANT in col.flags:
            add(col.name, "constant: carries no information")
    if profile.target == target:
        for assoc in profile.target_associations:
            if assoc.leakage:
                add(assoc.column, f"possible target leakage: alone it predicts {target} "
                                  f"({assoc.score_name} {assoc.model_score:.3f})")
    for alert in profile.alerts:
        if alert.kind == AlertKind.LEAKAGE and profile.target == target and not reasons.get(alert.column or ""):
            add(alert.column, f"possible target leakage: {alert.message}")
        elif alert.kind == AlertKind.IDENTIFIER and not reasons.get(alert.column or ""):
            add(alert.column, f"identifier: {alert.message}")
        elif alert.kind == AlertKind.PII and alert.column not in profile.not_pii and not reasons.get(alert.column or ""):
            add(alert.column, f"personal data: {alert.message}")
    return {k: "; ".join(v) for k, v in reasons.items()}


# --- validation --------------------------------------------------------------------------------


def validate_spec(spec: TrainingSpec, profile: Profile, schema: Schema | None, gpu_available: bool, *,
                  dataset_sha256: str | None = None) -> list[SpecProblem]:
    """Every problem of ``spec`` against the pinned version's profile and the dataset's schema.

    Parameters
    ----------
    spec
        The spec to check.
    profile
        The profile of the version the spec pins.
    schema
        The dataset's schema, or None.
    gpu_available
        Whether a CUDA GPU was found (``airlock doctor``).
    dataset_sha256
        The content hash of the version ``spec.dataset`` names now; a spec pinned to other
        content is refused.

    Returns
    -------
    list of SpecProblem
        Empty when the spec can run.
    """
    out: list[SpecProblem] = []
    names = [c.name for c in profile.columns]
    known = set(names)

    def column(field: str, name: str | None, what: str) -> ColumnProfile | None:
        if name is None:
            return None
        if name not in known:
            out.append(SpecProblem(field, f"{what} {name!r} is not a column of {spec.dataset}{_close(name, names)}"))
            return None
        return profile.column(name)

    # dataset
    if spec.dataset_number is None:
        out.append(SpecProblem("dataset", f"{spec.dataset!r} is not pinned to a version: write it as name@N"))
    if dataset_sha256 is not None and spec.dataset_sha256 != dataset_sha256:
        out.append(SpecProblem("dataset_sha256", (
            f"{spec.dataset} now holds other content (hash {dataset_sha256[:12]}…, the spec says "
            f"{spec.dataset_sha256[:12]}…): pin the version you mean, or run `airlock train init` again")))

    # target and task
    target = column("target", spec.target, "target")
    if target is not None:
        present = target.count - target.missing
        if target.distinct <= 1:
            out.append(SpecProblem("target", f"{spec.target!r} has {target.distinct} distinct value"
                                             f"{'' if target.distinct == 1 else 's'}: there is nothing to learn"))
        elif spec.task == Task.BINARY and target.distinct != 2:
            out.append(SpecProblem("task", f"binary needs a target with two values; {spec.target!r} has "
                                           f"{target.distinct} (use multiclass or regression)"))
        elif spec.task == Task.REGRESSION and not (target.semantic_type == SemanticType.NUMERIC
                                                   and _numeric_storage(target.storage_type)):
            out.append(SpecProblem("task", f"regression needs a numeric target; {spec.target!r} is "
                                           f"{target.semantic_type} (use binary or multiclass)"))
        if target.missing:
            out.append(SpecProblem("target", f"{spec.target!r} is missing in {target.missing:,} of {target.count:,} rows; "
                                             "those rows cannot be trained on (filter them out first)"))
        if spec.task != Task.REGRESSION and present and len(target.top_values) == target.distinct:
            smallest = min((n for _, n in target.top_values), default=0)
            if 0 < smallest < spec.split.cv_folds:
                out.append(SpecProblem("split.cv_folds", (
                    f"the rarest class of {spec.target!r} has {smallest} row{'s' if smallest != 1 else ''}, fewer than "
                    f"the {spec.split.cv_folds} CV folds: lower cv_folds or merge rare classes")))

    # features
    if not spec.features:
        out.append(SpecProblem("features", "no features: list at least one column"))
    seen: set[str] = set()
    for name in spec.features:
        if name in seen:
            out.append(SpecProblem("features", f"{name!r} is listed twice"))
        seen.add(name)
        if name == spec.target:
            out.append(SpecProblem("features", f"the target {name!r} cannot also be a feature"))
        else:
            column("features", name, "feature")

    # split
    split = spec.split
    if not 0 < split.holdout_share < 0.9:
        out.append(SpecProblem("split.holdout_share", f"must be above 0 and below 0.9, found {split.holdout_share}"))
    if split.cv_folds < 2:
        out.append(SpecProblem("split.cv_folds", f"needs at least 2 folds, found {split.cv_folds}"))
    if split.kind == SplitKind.TIME:
        if split.date_column is None:
            out.append(SpecProblem("split.date_column", "a time split needs a date column: name one"))
        else:
            date = column("split.date_column", split.date_column, "date column")
            if date is not None and not _is_datetime(date, schema):
                out.append(SpecProblem("split.date_column", (
                    f"{split.date_column!r} is {date.semantic_type} ({date.storage_type}), not a date or time: "
                    "a time split orders rows by it")))
    elif split.date_column is not None:
        column("split.date_column", split.date_column, "date column")
    if split.kind == SplitKind.GROUP:
        if split.group_column is None:
            out.append(SpecProblem("split.group_column", "a group split needs a group column: name one"))
        else:
            column("split.group_column", split.group_column, "group column")
    elif split.group_column is not None:
        column("split.group_column", split.group_column, "group column")

    # metric
    allowed = METRICS.get(spec.task, ())
    if spec.metric not in allowed:
        close = difflib.get_close_matches(spec.metric, allowed, n=1)
        out.append(SpecProblem("metric", (
            f"{spec.metric!r} is not a metric for {spec.task}" + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; choose one of {', '.join(allowed)}")))

    # algorithms
    if not spec.algorithms:
        out.append(SpecProblem("algorithms", "no algorithm: list at least one"))
    for algorithm in spec.algorithms:
        if algorithm not in ALGORITHMS[spec.task]:
            out.append(SpecProblem("algorithms", f"{algorithm} is not available for {spec.task}; choose from "
                                                 f"{', '.join(ALGORITHMS[spec.task])}"))
        elif algorithm == Algorithm.XGBOOST and importlib.util.find_spec("xgboost") is None:
            out.append(SpecProblem("algorithms", "xgboost is not installed in this Airlock"))
        elif algorithm == Algorithm.RIDGE and spec.task != Task.REGRESSION and spec.metric in PROBABILITY_METRICS:
            out.append(SpecProblem("algorithms", f"ridge gives no probabilities, so it cannot be scored by {spec.metric}"))
    if len(set(spec.algorithms)) != len(spec.algorithms):
        out.append(SpecProblem("algorithms", "an algorithm is listed twice"))

    # search
    if spec.search.trials < 1:
        out.append(SpecProblem("search.trials", f"needs at least 1 trial, found {spec.search.trials}"))
    if spec.search.minutes is not None and spec.search.minutes <= 0:
        out.append(SpecProblem("search.minutes", f"must be above 0 (or left out for no time limit), found {spec.search.minutes}"))
    if spec.search.kind == SearchKind.BAYESIAN and importlib.util.find_spec("optuna") is None:
        out.append(SpecProblem("search.kind", "the bayesian search needs optuna, which is not installed"))

    # preprocessing
    pre = spec.preprocessing
    for part in pre.datetime_parts:
        if part not in DATETIME_PARTS:
            out.append(SpecProblem("preprocessing.datetime_parts", f"{part!r} is not a datetime part; choose from "
                                                                   f"{', '.join(DATETIME_PARTS)}"))
    if pre.high_cardinality_threshold < 1:
        out.append(SpecProblem("preprocessing.high_cardinality_threshold",
                               f"must be at least 1, found {pre.high_cardinality_threshold}"))

    # compute
    if spec.compute == "gpu":
        if not gpu_available and not spec.allow_cpu_fallback:
            out.append(SpecProblem("compute", (
                "a GPU was asked for, but no CUDA GPU was found here (see `airlock doctor`): "
                "use compute = \"cpu\", or set allow_cpu_fallback = true to train on the CPU")))
    elif spec.compute != "cpu":
        scheme, sep, rest = spec.compute.partition("://")
        if not sep or scheme not in ("dask", "tcp", "tls") or not rest:
            out.append(SpecProblem("compute", (
                f"{spec.compute!r} is not a compute target: write \"cpu\", \"gpu\" or a Dask scheduler "
                "address \"dask://host:port\" (\"tls://host:port\" with TLS)")))

    # evaluation
    for name in spec.slices:
        column("slices", name, "slice column")
    for name in spec.sensitive:
        column("sensitive", name, "sensitive attribute")
    if not 0 <= spec.weak_slice_gap < 1:
        out.append(SpecProblem("weak_slice_gap", f"must be at least 0 and below 1, found {spec.weak_slice_gap}"))
    if spec.smoke_rows < 20:
        out.append(SpecProblem("smoke_rows", f"the smoke run needs at least 20 rows, found {spec.smoke_rows}"))
    if spec.bootstrap_rounds < 0:
        out.append(SpecProblem("bootstrap_rounds", f"must be 0 (no intervals) or more, found {spec.bootstrap_rounds}"))
    if not 0 <= spec.seed <= _MAX_SEED:
        out.append(SpecProblem("seed", f"must be between 0 and {_MAX_SEED}, found {spec.seed}"))
    return out


def _close(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _numeric_storage(storage_type: str) -> bool:
    return storage_type.startswith(_NUMERIC_STORAGE)


def _is_datetime(column: ColumnProfile, schema: Schema | None) -> bool:
    declared = schema.column(column.name) if schema is not None else None
    if declared is not None and (declared.type == ColumnType.DATETIME or declared.semantic_type == SemanticType.DATETIME):
        return True
    return column.semantic_type == SemanticType.DATETIME or column.storage_type.startswith(("timestamp", "date"))


__all__ = [
    "DEFAULT_ALGORITHMS", "MULTICLASS_MAX_LEVELS", "InvalidSpec", "dump_spec", "exclusion_reasons", "infer_task",
    "init_spec", "load_spec", "parse_spec", "spec_from_dict", "validate_spec",
]
