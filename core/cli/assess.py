"""``airlock assess …``: maturity assessments from the command line.

A thin layer over ``engine.assessments``: every command here is something the desktop's
assessment page can do too. ``--json`` prints machine-readable results.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Any

from core.api import InvalidInput
from core.cli.common import UsageProblem, add_command, add_group, emit, open_engine, table


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "assess", "maturity assessments: baseline, gaps, path forward")
    add_command(group, "models", cmd_models, "the maturity models available")
    p = add_command(group, "questions", cmd_questions, "a model's questions: ids, texts and level descriptions")
    p.add_argument("model", metavar="MODEL", help="model id (see 'assess models')")
    p.add_argument("--version", dest="model_version", metavar="V", help="that version (default: the newest)")
    p = add_command(group, "new", cmd_new, "start an assessment of an organisation unit")
    p.add_argument("--model", required=True, metavar="M", help="model id (see 'assess models')")
    p.add_argument("--unit", required=True, metavar="U", help="the organisation unit assessed")
    p.add_argument("--assessor", dest="assessors", action="append", default=[], metavar="NAME",
                   help="an assessor; repeat for several (default: you)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="date of the assessment (default: today)")
    p.add_argument("--target", dest="targets", action="append", default=[], metavar="DIM=LEVEL",
                   help="target level of a dimension; repeat for several")
    p = add_command(group, "list", cmd_list, "assessments in this workspace")
    p.add_argument("--unit", metavar="U", help="only this unit")
    p = add_command(group, "answer", cmd_answer, "answer a question with a level")
    p.add_argument("id", metavar="ID")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("level", metavar="LEVEL", type=int)
    p.add_argument("--note", default="", metavar="T")
    p = add_command(group, "skip", cmd_skip, "skip a question, with a reason")
    p.add_argument("id", metavar="ID")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--reason", required=True, metavar="T")
    p = add_command(group, "target", cmd_target, "set a dimension's target level")
    p.add_argument("id", metavar="ID")
    p.add_argument("dimension", metavar="DIMENSION")
    p.add_argument("level", metavar="LEVEL", type=int)
    p = add_command(group, "attach", cmd_attach, "keep a file as evidence for an answer (encrypted)")
    p.add_argument("id", metavar="ID")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("file", metavar="FILE", type=Path)
    p = add_command(group, "import", cmd_import, "answer from a filled-in CSV or JSON file")
    p.add_argument("id", metavar="ID")
    p.add_argument("file", metavar="FILE", type=Path)
    p = add_command(group, "show", cmd_show, "levels, answers, completion and recommendations")
    p.add_argument("id", metavar="ID")
    p = add_command(group, "finalise", cmd_finalise, "lock an assessment (later changes revise it)")
    p.add_argument("id", metavar="ID")
    p.add_argument("--force", action="store_true",
                   help="finalise even with questions neither answered nor skipped (the report says how many)")
    p = add_command(group, "report", cmd_report, "write the report as HTML or PDF")
    p.add_argument("id", metavar="ID")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--html", type=Path, metavar="F")
    out.add_argument("--pdf", type=Path, metavar="F")
    p = add_command(group, "compare", cmd_compare, "two assessments dimension by dimension")
    p.add_argument("first", metavar="ID1")
    p.add_argument("second", metavar="ID2")
    p = add_command(group, "import-model", cmd_import_model, "add your own model file")
    p.add_argument("file", metavar="FILE", type=Path)
    p = add_command(group, "export-model", cmd_export_model, "write a model file to edit or share")
    p.add_argument("model", metavar="M")
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument("--version", dest="model_version", metavar="V")


def _plain(value: Any) -> Any:
    """Values JSON can hold: dates as ISO text, enums as their value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def cmd_models(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        models = engine.assessments.models()
    rows = [(m.id, m.version, m.levels, m.dimensions, m.questions,
             "built-in" if m.builtin else "imported", m.name) for m in models]
    emit(args, _plain(models),
         table(("ID", "VERSION", "LEVELS", "DIMS", "QUESTIONS", "SOURCE", "NAME"), rows))
    return 0


def cmd_questions(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        model = engine.assessments.model(args.model, args.model_version)
    data = {
        "model": {"id": model.id, "version": model.version, "name": model.name},
        "levels": [{"number": lv.number, "name": lv.name, "summary": lv.summary} for lv in model.levels],
        "dimensions": [
            {"id": d.id, "name": d.name, "questions": [
                {"id": q.id, "text": q.text, "levels": {str(k): v for k, v in sorted(q.descriptors.items())},
                 "evidence": q.evidence}
                for q in d.questions]}
            for d in model.dimensions
        ],
    }
    lines = [f"{model.name} ({model.id} {model.version}) — levels "
             + ", ".join(f"{lv.number} {lv.name}" for lv in model.levels),
             "Pick the highest level whose description is fully true today.", ""]
    for d in model.dimensions:
        lines.append(f"{d.name} (dimension {d.id})")
        for q in d.questions:
            lines.append(f"  {q.id}: {q.text}")
            lines += [f"      {n}  {text}" for n, text in sorted(q.descriptors.items())]
        lines.append("")
    emit(args, data, lines[:-1])
    return 0


def _targets(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        dim, sep, level = item.partition("=")
        if not sep or not level.strip().lstrip("-").isdigit():
            raise UsageProblem(f"--target wants DIMENSION=LEVEL, e.g. security=3; got {item!r}.")
        out[dim.strip()] = int(level)
    return out


def cmd_new(args: argparse.Namespace) -> int:
    try:
        when = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        raise UsageProblem(f"--date wants YYYY-MM-DD, got {args.date!r}.") from None
    with open_engine(args) as engine:
        a = engine.assessments.create(args.model, args.unit, assessors=args.assessors,
                                      assessed_on=when, targets=_targets(args.targets)).value
    emit(args, _plain(a), f"Created assessment {a.id} of {a.unit} ({a.model_id} {a.model_version}).")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        items = engine.assessments.list(args.unit)
    rows = [(a.id[:8], a.unit, a.assessed_on.isoformat(), a.model_id, a.revision, a.status.value)
            for a in items]
    emit(args, _plain(items), table(("ID", "UNIT", "DATE", "MODEL", "REV", "STATUS"), rows))
    return 0


def _changed(args: argparse.Namespace, before: str, a: Any, what: str) -> int:
    text = what
    if not a.id.startswith(before) and a.revision > 1:
        text += (f"\nThe assessment was final, so this change went into its draft revision "
                 f"{a.revision}: {a.id}")
    emit(args, _plain(a), text)
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        a = engine.assessments.answer(args.id, args.question, args.level, args.note).value
    return _changed(args, args.id, a, f"{args.question} = {args.level}")


def cmd_skip(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        a = engine.assessments.skip(args.id, args.question, args.reason).value
    return _changed(args, args.id, a, f"{args.question} skipped")


def cmd_target(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        a = engine.assessments.set_target(args.id, args.dimension, args.level).value
    return _changed(args, args.id, a, f"Target for {args.dimension}: {args.level}")


def cmd_attach(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        a = engine.assessments.attach_evidence(args.id, args.question, args.file).value
    return _changed(args, args.id, a, f"Attached {args.file.name} to {args.question} (encrypted)")


def cmd_import(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        svc = engine.assessments
        a = svc.import_answers(args.id, args.file).value
        done = svc.completion(a)
    return _changed(args, args.id, a, f"Imported {args.file.name}: {done.describe()}")


def cmd_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        svc = engine.assessments
        a = svc.get(args.id)
        model = svc.model_of(a)
        result = svc.score(a)
        done = svc.completion(a)
        steps = svc.plan(a)
        targets = svc.targets(a)
    data = {"assessment": _plain(a), "model": {"id": model.id, "version": model.version},
            "completion": _plain(done), "score": _plain(result), "recommendations": _plain(steps),
            "targets": {d: {"level": lv, "set_by_assessors": d in a.targets} for d, lv in targets.items()}}

    def target(dim: str) -> str:
        if dim not in targets:
            return "—"
        return f"{targets[dim]} ({'set' if dim in a.targets else 'next level'})"

    lines = [
        f"{a.unit} — {model.name} {model.version} — {a.assessed_on.isoformat()} — "
        f"revision {a.revision}, {a.status.value}",
        f"Assessors: {', '.join(a.assessors)}",
        f"Completion: {done.describe()}",
        "",
        table(("DIMENSION", "LEVEL", "TARGET", "ANSWERED"),
              [(d.name, _fmt(d.score), target(d.dimension_id), f"{d.answered}/{d.total}")
               for d in result.dimensions]),
        f"Overall: {_fmt(result.overall)}",
        f"Scoring rule: {result.rule}",
        "Targets marked 'set' are the assessors' own; 'next level' is the default, one level up.",
        "",
        "Answers:",
    ]
    for dim in model.dimensions:
        lines.append(f"  {dim.name}")
        for q in dim.questions:
            ans = a.answers.get(q.id)
            if ans is None or ans.pending:
                shown = "not answered" + (" (evidence attached)" if ans is not None and ans.evidence else "")
            elif ans.skipped:
                shown = f"skipped: {ans.skip_reason}"
            else:
                shown = f"{ans.level} — {q.descriptors.get(ans.level or 0, '')}"
                if ans.note:
                    shown += f"  [note: {ans.note}]"
            lines.append(f"    {q.id}: {shown}")
    lines += ["", "Recommendations:" if steps else "Recommendations: none (no gaps to the targets)."]
    for s in steps:
        lines.append(f"  {s.position}. [{s.dimension_name} → {s.recommendation.level}] {s.recommendation.text}")
        if s.depends_on:
            lines.append(f"       depends on: {'; '.join(s.depends_on)}")
    emit(args, data, lines)
    return 0


def cmd_finalise(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        svc = engine.assessments
        try:
            a = svc.finalise(args.id, force=args.force).value
        except InvalidInput as exc:
            if exc.code != "unanswered_questions":
                raise
            raise type(exc)(f"{exc} Run it again with --force to finalise anyway.",
                            getattr(exc, "open_questions", ())) from None
        left = svc.completion(a).open
    text = f"Assessment {a.id[:8]} revision {a.revision} is final and locked."
    if left:
        text += f" {left} question{'s' if left != 1 else ''} left open; the report says so."
    emit(args, _plain(a), text)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    kind, dest = ("html", args.html) if args.html else ("pdf", args.pdf)
    with open_engine(args) as engine:
        out = engine.assessments.export_report(args.id, dest, kind=kind).value
    emit(args, {"path": str(out), "kind": kind}, f"Wrote {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        cmp = engine.assessments.compare(args.first, args.second)
    b, a = cmp.before, cmp.after
    rows = [(c.name, _fmt(c.before), _fmt(c.after),
             "—" if c.delta is None else f"{c.delta:+.1f}") for c in cmp.changes]
    rows.append(("Overall", _fmt(cmp.overall_before), _fmt(cmp.overall_after),
                 "—" if cmp.overall_before is None or cmp.overall_after is None
                 else f"{cmp.overall_after - cmp.overall_before:+.1f}"))
    head = (f"{b.unit}: {b.assessed_on} (rev {b.revision}, {b.id[:8]}) → "
            f"{a.assessed_on} (rev {a.revision}, {a.id[:8]})")
    emit(args, _plain(cmp), [head, "", table(("DIMENSION", "BEFORE", "AFTER", "CHANGE"), rows)])
    return 0


def cmd_import_model(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        m = engine.assessments.import_model(args.file).value
    emit(args, {"id": m.id, "version": m.version, "digest": m.digest},
         f"Imported model {m.id} version {m.version}.")
    return 0


def cmd_export_model(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        out = engine.assessments.export_model(args.model, args.file, args.model_version)
    emit(args, {"path": str(out)}, f"Wrote {out}")
    return 0
