"""``airlock rubric …``: run the ML Test Score for a model version, show it, attest, history, compare.

Every score is printed with the four section sums beside the minimum and the scoring rule;
``--json`` prints the records. Only :mod:`core.api` is imported (never the rubric internals or
the store).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from core import api
from core.api import to_builtins
from core.cli.common import (
    UsageProblem,
    add_command,
    add_group,
    emit,
    export_reports,
    local_time,
    open_engine,
    table,
)

if TYPE_CHECKING:
    from core.api import NextStep, RubricComparison, RubricResult, RubricService


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "rubric", "the ML Test Score (2017) of a model version: run, show, attest, compare")
    p = add_command(group, "run", cmd_run, "evaluate the 28 tests for MODEL and store a new rubric result")
    p.add_argument("model", metavar="MODEL[@N]", help="a model version (default: the latest)")
    p = add_command(group, "show", cmd_show, "the latest rubric result of MODEL, test by test, and what to do next")
    p.add_argument("model", metavar="MODEL[@N]", help="a model version (default: the latest)")
    p = add_command(group, "attest", cmd_attest, "attest a test done by hand (reviewers; not on your own model)")
    p.add_argument("model", metavar="MODEL[@N]", help="a model version (default: the latest)")
    p.add_argument("test", metavar="TEST", help="the test's id, e.g. data.7")
    p.add_argument("--statement", required=True, help="what was done and what it found")
    p.add_argument("--expires", required=True, metavar="DATE",
                   help="when the attestation stops counting (2027-06-30, or an ISO time)")
    p.add_argument("--file", dest="files", action="append", default=[], metavar="PATH",
                   help="an evidence file, stored encrypted (repeat for several)")
    p = add_command(group, "history", cmd_history, "every rubric result of MODEL, oldest first")
    p.add_argument("model", metavar="MODEL[@N]", help="a model version (default: the latest)")
    p = add_command(group, "compare", cmd_compare, "two rubric results side by side (model versions or result ids)")
    p.add_argument("a", metavar="A", help="MODEL[@N] (its latest result) or a result id")
    p.add_argument("b", metavar="B", help="MODEL[@N] (its latest result) or a result id")
    p = add_command(group, "policy", cmd_policy, "the rubric policy's thresholds; --set stores a new version")
    p.add_argument("--set", dest="changes", action="append", default=[], metavar="KEY=VALUE",
                   help="change one setting (repeat; lists comma-separated, 'none' clears a floor); reviewers")
    p = add_command(group, "report", cmd_report,
                    "write the sign-off report of MODEL's latest rubric result (or of a result id)")
    p.add_argument("ref", metavar="MODEL[@N]|RESULT", help="a model version (its latest result) or a result id")
    p.add_argument("--html", metavar="F", help="write a self-contained HTML report to F")
    p.add_argument("--pdf", metavar="F", help="write a PDF report to F")


def _service(engine: Any) -> RubricService:
    return engine.rubric  # type: ignore[no-any-return]


def _sums(result: RubricResult) -> str:
    sums = "  ".join(f"{s.section} {s.points:g}" for s in result.score.sections)
    return f"final {result.score.final:g} ({result.score.band}); sections: {sums}"


def _score_lines(result: RubricResult, label: str) -> list[str]:
    return [
        f"ML Test Score of {label}: {_sums(result)}",
        f"  result {result.id[:8]}, policy version {result.policy_version}, "
        f"run by {result.created_by} at {local_time(result.created_at)}",
        f"Scoring rule: {result.score.rule_text}",
    ]


def _result_json(result: RubricResult, steps: tuple[NextStep, ...] = ()) -> dict[str, Any]:
    return {"result": to_builtins(result), "next_steps": [
        {"test_id": s.test_id, "section": str(s.section), "gain": s.gain, "needs": s.needs} for s in steps
    ]}


def cmd_run(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        result = service.run(args.model).value
        label = engine.training.model_version(args.model).label
        steps = service.next_steps(label)
    text = _score_lines(result, label)
    text.append(f"See `airlock rubric show {label}` for each test and what to do next.")
    emit(args, _result_json(result, steps), text)
    return 0


def _test_rows(result: RubricResult) -> list[list[object]]:
    catalogue = api.load_rubric_catalogue()
    rows: list[list[object]] = []
    for r in result.results:
        title = catalogue.test(r.test_id).title if r.test_id in catalogue.ids else ""
        said = r.reason_not_done if r.status == api.TestStatus.NOT_DONE else r.detail
        rows.append([r.test_id, title[:48], r.status, r.outcome or "", (said or "")[:90]])
    return rows


def cmd_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        result = service.show(args.model)
        label = engine.training.model_version(args.model).label
        steps = service.next_steps(label)
    text = _score_lines(result, label)
    text += ["", table(["TEST", "TITLE", "STATUS", "OUTCOME", "DETAIL / WHY NOT DONE"], _test_rows(result))]
    if steps:
        text += ["", "What to do next (weakest section first, largest gain first):"]
        text += [f"  {s.test_id} (+{s.gain:g} in {s.section}): {s.needs[:160]}" for s in steps[:8]]
    emit(args, _result_json(result, steps), text)
    return 0


def cmd_attest(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        att = service.attest(args.model, args.test, args.statement, args.files, args.expires).value
        label = engine.training.model_version(args.model).label
    text = [f"Attested {att.test_id} for {label} as {att.attested_by}, until {local_time(att.expires_at)} "
            f"(attestation {att.id[:8]}, {len(att.evidence_files)} evidence file(s) stored encrypted).",
            f"It counts from the next `airlock rubric run {label}`."]
    emit(args, to_builtins(att), text)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        results = _service(engine).history(args.model)
        label = engine.training.model_version(args.model).label
    rows = [[r.id[:8], local_time(r.created_at), r.created_by, r.policy_version,
             *(f"{r.score.points(s):g}" for s in api.Section), f"{r.score.final:g}", r.score.band] for r in results]
    text = table(["RESULT", "RUN AT", "BY", "POLICY", *(s.upper() for s in api.Section), "FINAL", "BAND"], rows) \
        if results else f"The rubric never ran for {label} (airlock rubric run {label})."
    emit(args, [to_builtins(r) for r in results], text)
    return 0


def _comparison_json(c: RubricComparison) -> dict[str, Any]:
    return {
        "a": c.a.id, "b": c.b.id, "a_model_version": c.a.model_version_id, "b_model_version": c.b.model_version_id,
        "sections": [{"section": str(s), "a": pa, "b": pb} for s, pa, pb in c.sections],
        "final": {"a": c.a.score.final, "b": c.b.score.final, "delta": c.final_delta},
        "differences": [{"test_id": d.test_id, "a_status": d.a_status, "b_status": d.b_status,
                         "a_outcome": d.a_outcome, "b_outcome": d.b_outcome} for d in c.differences],
        "rule_text": c.b.score.rule_text,
    }


def cmd_compare(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        c = _service(engine).compare(args.a, args.b)
    rows = [[s, f"{pa:g}", f"{pb:g}", f"{pb - pa:+g}"] for s, pa, pb in c.sections]
    rows.append(["FINAL (min)", f"{c.a.score.final:g}", f"{c.b.score.final:g}", f"{c.final_delta:+g}"])
    text = [f"A: result {c.a.id[:8]} ({c.a.score.band})   B: result {c.b.id[:8]} ({c.b.score.band})",
            table(["SECTION", "A", "B", "B - A"], rows)]
    if c.differences:
        text += ["", table(["TEST", "A", "B"], [
            [d.test_id, f"{d.a_status or '-'}/{d.a_outcome or '-'}", f"{d.b_status or '-'}/{d.b_outcome or '-'}"]
            for d in c.differences])]
    else:
        text.append("No test changed status or outcome.")
    text.append(f"Scoring rule: {c.b.score.rule_text}")
    emit(args, _comparison_json(c), text)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    return export_reports(
        args, lambda engine, fmt, dest: _service(engine).export_report(args.ref, dest, format=fmt).value,
        "the rubric report")


_LIST_SETTINGS = ("deny_list", "allowed_sensitive")


def _parse_setting(item: str) -> tuple[str, object]:
    key, eq, raw = item.partition("=")
    key, raw = key.strip(), raw.strip()
    if not eq or not key:
        raise UsageProblem(f"--set {item!r}: write KEY=VALUE, e.g. --set slice_max_gap=0.1.")
    if key in _LIST_SETTINGS:
        return key, [v.strip() for v in raw.split(",") if v.strip()]
    if raw.lower() == "none":
        return key, None
    try:
        return key, float(raw)
    except ValueError:
        raise UsageProblem(f"--set {key}: {raw!r} is not a number.") from None


def cmd_policy(args: argparse.Namespace) -> int:
    changes = dict(_parse_setting(item) for item in args.changes)
    with open_engine(args) as engine:
        service = _service(engine)
        policy = service.set_policy(**changes).value if changes else service.policy()
    by = f", set by {policy.set_by} at {local_time(policy.set_at)}" if policy.set_by else " (built-in defaults)"
    rows = [[name, ", ".join(value) if isinstance(value, tuple) else ("none" if value is None else f"{value:g}")]
            for name, value in ((n, getattr(policy, n)) for n in _POLICY_ROWS)]
    text = [f"Rubric policy version {policy.version}{by}", table(["SETTING", "VALUE"], rows)]
    emit(args, to_builtins(policy), text)
    return 0


_POLICY_ROWS = ("baseline_margin", "slice_floor", "slice_max_gap", "fairness_max_dp", "fairness_max_eo",
                "cost_ratio", "deny_list", "allowed_sensitive", "quality_floor")
