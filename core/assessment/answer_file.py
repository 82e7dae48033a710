"""Reading a filled-in questionnaire (CSV or JSON) so it can be applied in one step.

CSV: a header row with ``question`` (or ``question_id``), ``level``, and optional ``note``
and ``skip_reason`` columns; one row per question. A row with an empty level and a skip
reason is a skip; a row with neither is ignored (left for later). JSON: either a list of
objects with the same keys, or ``{"answers": [...]}``. Every problem is reported with its
row (CSV line number, or JSON index) and nothing is applied unless the whole file is good.
Export of an empty questionnaire in the same layout is :func:`template_csv`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.assessment.models import MaturityModel
from core.errors import InvalidInput
from core.reports.cells import safe_row


@dataclass(frozen=True, slots=True)
class FileAnswer:
    question_id: str
    level: int | None
    note: str
    skip_reason: str | None


class AnswerFileError(InvalidInput):
    code = "invalid_answer_file"


def _check(model: MaturityModel, where: str, raw: dict[str, Any], problems: list[str]) -> FileAnswer | None:
    qid = str(raw.get("question") or raw.get("question_id") or "").strip()
    level_raw = raw.get("level")
    note = str(raw.get("note") or "").strip()
    skip = str(raw.get("skip_reason") or "").strip() or None
    if not qid:
        problems.append(f"{where}: no question id")
        return None
    try:
        model.question(qid)
    except KeyError:
        problems.append(f"{where}: unknown question {qid!r} for model {model.id} {model.version}")
        return None
    if level_raw is None or (isinstance(level_raw, str) and not level_raw.strip()):
        if skip is None:
            return None  # left blank: not answered yet
        return FileAnswer(qid, None, note, skip)
    try:
        if isinstance(level_raw, bool) or (isinstance(level_raw, float) and not level_raw.is_integer()):
            raise ValueError
        level = int(str(level_raw).strip()) if isinstance(level_raw, str) else int(level_raw)
    except (TypeError, ValueError):
        problems.append(f"{where}: level {level_raw!r} for {qid} is not a whole number")
        return None
    if not model.min_level <= level <= model.max_level:
        problems.append(
            f"{where}: level {level} for {qid} is outside {model.min_level}–{model.max_level}"
        )
        return None
    if skip is not None:
        problems.append(f"{where}: {qid} has both a level and a skip reason; give one")
        return None
    return FileAnswer(qid, level, note, None)


def parse_answers(text: str, model: MaturityModel, *, kind: str, source: str) -> list[FileAnswer]:
    """Validate a filled-in questionnaire against ``model``.

    Parameters
    ----------
    kind:
        ``"csv"`` or ``"json"``.
    source:
        The file's name, used in error messages.

    Raises
    ------
    AnswerFileError
        Naming every bad row.
    """
    problems: list[str] = []
    out: list[FileAnswer] = []
    rows: list[tuple[str, dict[str, Any]]] = []
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        fields = {f.strip().lower() for f in (reader.fieldnames or [])}
        if not ({"question", "question_id"} & fields) or "level" not in fields:
            raise AnswerFileError(
                f"{source}: the header must name the columns question and level "
                f"(found: {', '.join(sorted(fields)) or 'nothing'})."
            )
        for record in reader:
            norm = {(k or "").strip().lower(): v for k, v in record.items()}
            rows.append((f"row {reader.line_num}", norm))
    elif kind == "json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AnswerFileError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}.") from None
        items = doc.get("answers") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise AnswerFileError(f"{source}: expected a list of answers or {{\"answers\": [...]}}.")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(f"answers[{i}]: expected an object")
                continue
            rows.append((f"answers[{i}]", item))
    else:
        raise AnswerFileError(f"{source}: answer files are .csv or .json, not {kind!r}.")
    seen: dict[str, str] = {}
    for where, raw in rows:
        found = _check(model, where, raw, problems)
        if found is None:
            continue
        if found.question_id in seen:
            problems.append(f"{where}: {found.question_id} was already answered at {seen[found.question_id]}")
            continue
        seen[found.question_id] = where
        out.append(found)
    if problems:
        raise AnswerFileError(f"{source}: nothing was applied; fix these rows:\n  - " + "\n  - ".join(problems))
    return out


def read_answer_file(path: Path | str, model: MaturityModel) -> list[FileAnswer]:
    p = Path(path)
    kind = p.suffix.lower().lstrip(".")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnswerFileError(f"{p}: cannot read the file: {exc}") from None
    return parse_answers(text, model, kind=kind, source=str(p))


def template_csv(model: MaturityModel) -> str:
    """An empty questionnaire to fill in: question, dimension, text, level, note, skip_reason."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["question", "dimension", "text", "level", "note", "skip_reason"])
    for dim in model.dimensions:
        for q in dim.questions:
            writer.writerow(safe_row([q.id, dim.name, q.text, "", "", ""]))  # model texts may come from a file
    return buf.getvalue()
