"""Reading, validating and writing maturity model files.

A model file is JSON with a ``format_version``; :func:`parse_model` has one reader per
version (today only 1). Validation collects every problem it finds and raises one
:class:`ModelFileError` whose message names the file and the JSON path of each problem, e.g.
``dimensions[2].questions[0].levels: missing level 3``, so an author can fix a file in one go.

The built-in models live in ``resources/maturity``, read through :mod:`core.resources` (so
they load from an installed wheel too). This module reads files and text only;
it never touches the store (user models are kept there by the assessment service).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeGuard

from core.assessment.evidence import PROBES
from core.assessment.models import (
    MODEL_FORMAT_VERSION,
    Dimension,
    DimensionId,
    DimensionRule,
    Level,
    MaturityModel,
    ModelId,
    ModelSummary,
    OverallRule,
    Question,
    QuestionId,
    Recommendation,
    RecommendationId,
    ScoringRule,
)
from core.errors import InvalidInput
from core.resources import resource_files

BUILTIN_DIR: Traversable = resource_files("maturity")
_MAX_SHOWN = 25


class ModelFileError(InvalidInput):
    """A model file that cannot be used; the message lists each problem with its path."""

    code = "invalid_model"

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = problems[:_MAX_SHOWN]
        more = len(problems) - len(shown)
        lines = [f"{source}: not a valid maturity model ({len(problems)} problem(s)):"]
        lines += [f"  - {p}" for p in shown]
        if more:
            lines.append(f"  … and {more} more")
        super().__init__("\n".join(lines))


class _Checker:
    """Collects problems with their JSON paths while reading a raw model."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    def obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.fail(path, f"expected an object, found {_kind(value)}")
            return None
        return value

    def text(self, parent: Mapping[str, Any], key: str, path: str, *, optional: bool = False) -> str:
        where = _join(path, key)
        if key not in parent:
            if not optional:
                self.fail(where, "missing")
            return ""
        value = parent[key]
        if not isinstance(value, str) or (not optional and not value.strip()):
            self.fail(where, f"expected non-empty text, found {_kind(value)}")
            return ""
        return value.strip()

    def array(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        where = _join(path, key)
        value = parent.get(key)
        if key not in parent:
            self.fail(where, "missing")
            return []
        if not isinstance(value, list) or not value:
            self.fail(where, f"expected a non-empty list, found {_kind(value)}")
            return []
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "empty text" if not value.strip() else "text"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _levels(c: _Checker, raw: Mapping[str, Any]) -> tuple[Level, ...]:
    levels: list[Level] = []
    for i, item in enumerate(c.array(raw, "levels", "")):
        path = f"levels[{i}]"
        obj = c.obj(item, path)
        if obj is None:
            continue
        number = obj.get("number")
        if not _is_int(number):
            c.fail(f"{path}.number", f"expected a whole number, found {_kind(number)}")
            continue
        levels.append(Level(number, c.text(obj, "name", path), c.text(obj, "summary", path)))
    numbers = [lv.number for lv in levels]
    if levels and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        c.fail("levels", f"numbers must be consecutive and ascending, found {numbers}")
    return tuple(levels)


def _scoring(c: _Checker, raw: Mapping[str, Any]) -> ScoringRule | None:
    obj = c.obj(raw.get("scoring"), "scoring") if "scoring" in raw else None
    if obj is None:
        if "scoring" not in raw:
            c.fail("scoring", "missing")
        return None
    rules: dict[str, Any] = {}
    for key, enum in (("dimension", DimensionRule), ("overall", OverallRule)):
        value = obj.get(key)
        allowed = [e.value for e in enum]
        if value not in allowed:
            c.fail(f"scoring.{key}", f"unknown rule {value!r}; expected one of {allowed}")
        else:
            rules[key] = enum(value)
    note = c.text(obj, "note", "scoring", optional=True)
    if len(rules) < 2:
        return None
    return ScoringRule(rules["dimension"], rules["overall"], note)


def _question(c: _Checker, raw: Any, path: str, numbers: list[int]) -> Question | None:
    obj = c.obj(raw, path)
    if obj is None:
        return None
    qid = c.text(obj, "id", path)
    text = c.text(obj, "text", path)
    descriptors: dict[int, str] = {}
    lv = obj.get("levels")
    if not isinstance(lv, Mapping):
        c.fail(f"{path}.levels", f"expected an object keyed by level, found {_kind(lv)}")
    else:
        for key, desc in lv.items():
            if not (isinstance(key, str) and key.lstrip("-").isdigit()) or int(key) not in numbers:
                c.fail(f"{path}.levels", f"unknown level {key!r}; the model's levels are {numbers}")
            elif not isinstance(desc, str) or not desc.strip():
                c.fail(f"{path}.levels.{key}", f"expected a descriptor, found {_kind(desc)}")
            else:
                descriptors[int(key)] = desc.strip()
        for n in numbers:
            if str(n) not in lv:
                c.fail(f"{path}.levels", f"missing level {n}")
    evidence = obj.get("evidence")
    if evidence is not None and evidence not in PROBES:
        c.fail(f"{path}.evidence", f"unknown evidence probe {evidence!r}; known: {sorted(PROBES)}")
        evidence = None
    return Question(QuestionId(qid), text, descriptors, evidence)


def _recommendations(
    c: _Checker, raw: Any, path: str, dim_id: str, numbers: list[int]
) -> list[Recommendation]:
    obj = c.obj(raw, path)
    if obj is None:
        return []
    out: list[Recommendation] = []
    above = numbers[1:]
    for key, items in obj.items():
        if not (isinstance(key, str) and key.isdigit()) or int(key) not in above:
            c.fail(path, f"unknown target level {key!r}; recommendations lift to {above}")
            continue
        if not isinstance(items, list) or not items:
            c.fail(f"{path}.{key}", f"expected a non-empty list, found {_kind(items)}")
            continue
        for j, item in enumerate(items):
            rpath = f"{path}.{key}[{j}]"
            robj = c.obj(item, rpath)
            if robj is None:
                continue
            deps = robj.get("depends_on", [])
            if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
                c.fail(f"{rpath}.depends_on", "expected a list of recommendation ids")
                deps = []
            out.append(
                Recommendation(
                    RecommendationId(c.text(robj, "id", rpath)),
                    DimensionId(dim_id),
                    int(key),
                    c.text(robj, "text", rpath),
                    tuple(RecommendationId(d) for d in deps),
                )
            )
    for n in above:
        if str(n) not in obj:
            c.fail(path, f"missing recommendations for level {n}")
    return out


def _dimension(c: _Checker, raw: Any, path: str, numbers: list[int]) -> Dimension | None:
    obj = c.obj(raw, path)
    if obj is None:
        return None
    did = c.text(obj, "id", path)
    weight = obj.get("weight", 1)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
        c.fail(f"{path}.weight", f"expected a positive number, found {_kind(weight)}")
        weight = 1
    questions = [
        q
        for i, item in enumerate(c.array(obj, "questions", path))
        if (q := _question(c, item, f"{path}.questions[{i}]", numbers)) is not None
    ]
    if "recommendations" not in obj:
        c.fail(f"{path}.recommendations", "missing")
        recs: list[Recommendation] = []
    else:
        recs = _recommendations(c, obj["recommendations"], f"{path}.recommendations", did, numbers)
    return Dimension(
        DimensionId(did),
        c.text(obj, "name", path),
        c.text(obj, "description", path, optional=True),
        float(weight),
        tuple(questions),
        tuple(recs),
    )


def _check_ids(c: _Checker, dims: list[Dimension]) -> None:
    seen: dict[str, str] = {}
    for kind, items in (
        ("dimension", [(d.id, f"dimension {d.name!r}") for d in dims]),
        ("question", [(q.id, f"dimension {d.id!r}") for d in dims for q in d.questions]),
        ("recommendation", [(r.id, f"dimension {d.id!r}") for d in dims for r in d.recommendations]),
    ):
        seen.clear()
        for ident, where in items:
            if not ident:
                continue
            if ident in seen:
                c.fail("", f"duplicate {kind} id {ident!r} (in {seen[ident]} and {where})")
            seen[ident] = where


def _check_dependencies(c: _Checker, recs: Iterable[Recommendation]) -> None:
    by_id = {r.id: r for r in recs}
    for r in by_id.values():
        for dep in r.depends_on:
            if dep not in by_id:
                c.fail(f"recommendation {r.id!r}", f"depends on unknown recommendation {dep!r}")
            elif dep == r.id:
                c.fail(f"recommendation {r.id!r}", "depends on itself")
    state: dict[RecommendationId, int] = {}  # 1 = on the current path, 2 = done

    def visit(rid: RecommendationId, trail: list[RecommendationId]) -> None:
        state[rid] = 1
        for dep in by_id[rid].depends_on:
            if dep not in by_id or dep == rid:
                continue
            if state.get(dep) == 1:
                cycle = trail[trail.index(dep):] + [dep] if dep in trail else [rid, dep]
                c.fail("recommendations", f"dependency cycle: {' -> '.join(cycle)}")
            elif state.get(dep) is None:
                visit(dep, trail + [dep])
        state[rid] = 2

    for rid in by_id:
        if rid not in state:
            visit(rid, [rid])


def parse_model(raw: Any, source: str, *, builtin: bool = False) -> MaturityModel:
    """Validate a decoded model file and build the model.

    Parameters
    ----------
    raw:
        The decoded JSON document.
    source:
        How to name the file in error messages (usually its path).
    builtin:
        Whether the model ships with Airlock.

    Raises
    ------
    ModelFileError
        Listing every problem found, each with its JSON path.
    """
    c = _Checker()
    if not isinstance(raw, Mapping):
        raise ModelFileError(source, [f"expected a JSON object at the top, found {_kind(raw)}"])
    fv = raw.get("format_version")
    if fv != MODEL_FORMAT_VERSION:
        raise ModelFileError(
            source,
            [f"format_version: this Airlock reads model format {MODEL_FORMAT_VERSION}, "
             f"the file says {fv!r}"],
        )
    mid = c.text(raw, "id", "")
    version = c.text(raw, "version", "")
    name = c.text(raw, "name", "")
    levels = _levels(c, raw)
    if len(levels) < 2:
        c.fail("levels", "a model needs at least two levels")
    scoring = _scoring(c, raw)
    numbers = [lv.number for lv in levels]
    dims = [
        d
        for i, item in enumerate(c.array(raw, "dimensions", ""))
        if (d := _dimension(c, item, f"dimensions[{i}]", numbers)) is not None
    ]
    _check_ids(c, dims)
    _check_dependencies(c, [r for d in dims for r in d.recommendations])
    if c.problems or scoring is None:
        raise ModelFileError(source, c.problems or ["scoring: invalid"])
    return MaturityModel(
        id=ModelId(mid),
        version=version,
        name=name,
        description=c.text(raw, "description", "", optional=True),
        source=c.text(raw, "source", "", optional=True),
        levels=levels,
        scoring=scoring,
        dimensions=tuple(dims),
        digest=digest_of(raw),
        builtin=builtin,
    )


def parse_model_text(text: str, source: str, *, builtin: bool = False) -> MaturityModel:
    """Decode JSON text and validate it; a syntax error names its line and column."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            source, [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
        ) from None
    return parse_model(raw, source, builtin=builtin)


def load_model_file(path: Path | str, *, builtin: bool = False) -> MaturityModel:
    """Read and validate one model file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(str(p), [f"cannot read the file: {exc}"]) from None
    return parse_model_text(text, str(p), builtin=builtin)


def digest_of(raw: Any) -> str:
    """SHA-256 of the canonical JSON form, so one version's content is pinned."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def canonical_text(raw: Any) -> str:
    """The form a model file is stored and exported in (stable, readable)."""
    return json.dumps(raw, indent=2, ensure_ascii=False) + "\n"


def _model_files(directory: Traversable) -> list[Traversable]:
    return sorted((p for p in directory.iterdir() if p.is_file() and p.name.endswith(".json")),
                  key=lambda p: p.name)


def builtin_model_texts(directory: Traversable = BUILTIN_DIR) -> dict[str, str]:
    """The raw text of each built-in model file, by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in _model_files(directory)}


def builtin_models(directory: Traversable = BUILTIN_DIR) -> tuple[MaturityModel, ...]:
    """Every model shipped in ``resources/maturity``, validated."""
    return tuple(parse_model_text(text, f"resources/maturity/{name}", builtin=True)
                 for name, text in builtin_model_texts(directory).items())


def summarise(model: MaturityModel) -> ModelSummary:
    return ModelSummary(
        id=model.id,
        version=model.version,
        name=model.name,
        levels=f"{model.min_level}–{model.max_level}",
        dimensions=len(model.dimensions),
        questions=len(model.questions()),
        builtin=model.builtin,
    )
