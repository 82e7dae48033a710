"""``airlock train …``: write a starting training spec from a profile, check a spec, run it.

``train init`` and ``train validate`` are here; ``train run`` and the ``runs`` and ``models``
groups are registered in :func:`register` below their marked place. Only :mod:`core.api` is
imported (never the training internals or the store).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import api
from core.api import Task, to_builtins
from core.cli.common import (
    UsageProblem,
    add_command,
    add_group,
    emit,
    export_reports,
    local_time,
    megabytes,
    open_engine,
    run_task,
    table,
)

if TYPE_CHECKING:
    from core.api import ModelVersion, SpecProblem, TrainingRun, TrainingService, TrainingSpec

EXIT_PROBLEMS = 1


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "train", "training specs and runs")
    p = add_command(group, "init", cmd_init, "write a starting spec for DATASET from its profile")
    p.add_argument("dataset", metavar="DATASET", help="NAME or NAME@N (the version is pinned; default the latest)")
    p.add_argument("--target", metavar="COL", required=True, help="the column to predict")
    p.add_argument("--task", choices=[t.value for t in Task], help="override the task inferred from the target")
    p.add_argument("--out", metavar="FILE", help="write the spec to FILE (default: print it)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p = add_command(group, "validate", cmd_validate, "check SPEC against its dataset; exit 1 if a problem is found")
    p.add_argument("spec", metavar="SPEC", help="the spec's TOML file")
    p.add_argument("--gpu-available", dest="gpu", action="store_const", const=True, default=None,
                   help=argparse.SUPPRESS)  # tests: act as if a GPU were present
    # --- train run, and the runs / models groups, are registered below this line -----------
    p = add_command(group, "run", cmd_run, "train SPEC in a child process and store the model version")
    p.add_argument("spec", metavar="SPEC", help="the spec's TOML file")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--cpu", dest="compute", action="store_const", const="cpu", help="train on this CPU")
    where.add_argument("--gpu", dest="compute", action="store_const", const="gpu", help="train XGBoost on the CUDA GPU")
    where.add_argument("--dask", dest="compute", metavar="ADDR",
                       type=lambda a: a if "://" in a else f"dask://{a}", help="a Dask scheduler, host:port or tls://host:port")
    p.add_argument("--model", metavar="NAME", help="the model's name (default DATASET-TARGET)")
    p.add_argument("--yes", action="store_true",
                   help="with a Dask cluster: send the training rows without asking (the export is still audited)")
    register_runs_and_models(subparsers)


def _service(engine: Any) -> TrainingService:
    return engine.training  # type: ignore[no-any-return]


def cmd_init(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.force:
        raise UsageProblem(f"{out} exists already; choose another --out or add --force to overwrite it.")
    task = Task(args.task) if args.task else None
    with open_engine(args) as engine:
        service = _service(engine)
        spec = run_task(lambda ctx: service.init_spec(args.dataset, args.target, task=task, ctx=ctx))
    text = api.dump_spec(spec)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"Cannot write {out}: {exc}.") from None
    summary = [f"{spec.dataset}: predict {spec.target} ({spec.task}"
               + (", inferred from the target; override with --task)" if task is None else ", as asked)"),
               f"{len(spec.features)} features, metric {spec.metric}, algorithms {', '.join(spec.algorithms)}"]
    if spec.excluded:
        summary.append("Left out (list a column in `features` to use it after all):")
        summary += [f"  {e.column}: {e.reason}" for e in spec.excluded]
    if out is not None:
        summary.append(f"Wrote {out}; check it with `airlock train validate {out}`.")
    if args.json:
        emit(args, {"spec": to_builtins(spec), "path": str(out) if out else None,
                    "excluded": [{"column": e.column, "reason": e.reason} for e in spec.excluded]}, "")
    else:
        if out is None:
            print(text, end="")
        print("\n".join(summary), file=sys.stderr if out is None else sys.stdout)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    path = Path(args.spec)
    spec: TrainingSpec | None
    try:
        spec = api.load_spec(path)
        problems: list[SpecProblem] = []
    except api.InvalidSpec as exc:
        spec, problems = None, exc.problems
    if spec is not None:
        with open_engine(args) as engine:
            service = _service(engine)
            checked = spec
            problems = run_task(lambda ctx: service.validate(checked, gpu=args.gpu, ctx=ctx))
    text = ([f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"]
            + [f"  {p.field}: {p.message}" for p in problems]) if problems else [f"{path}: the spec can run."]
    emit(args, {"ok": not problems, "problems": [{"field": p.field, "message": p.message} for p in problems]}, text)
    return EXIT_PROBLEMS if problems else 0


# --- train run, runs, models ---------------------------------------------------------------


def register_runs_and_models(subparsers: Any) -> None:
    runs = add_group(subparsers, "runs", "training runs: list, show, compare, cancel")
    add_command(runs, "list", cmd_runs_list, "every training run, oldest first")
    p = add_command(runs, "show", cmd_runs_show, "one run: status, spec, trials, its model version or error")
    p.add_argument("run", metavar="RUN", help="the run's id (the first 8 characters do)")
    p = add_command(runs, "compare", cmd_runs_compare, "the model versions of two runs side by side")
    p.add_argument("a", metavar="RUN_A")
    p.add_argument("b", metavar="RUN_B")
    p = add_command(runs, "cancel", cmd_runs_cancel,
                    "cancel a run going on in another process (Ctrl-C cancels in the running terminal)")
    p.add_argument("run", metavar="RUN")
    models = add_group(subparsers, "models", "trained model versions")
    add_command(models, "list", cmd_models_list, "every model with its latest version")
    p = add_command(models, "show", cmd_models_show, "one model version: lineage, figures, evidence")
    p.add_argument("ref", metavar="MODEL[@N]", help="a model version (default: the latest)")
    p = add_command(models, "report", cmd_models_report,
                    "write the model's report (what it was trained on, how chosen, how good, where weak)")
    p.add_argument("ref", metavar="MODEL[@N]", help="a model version (default: the latest)")
    p.add_argument("--html", metavar="F", help="write a self-contained HTML report to F")
    p.add_argument("--pdf", metavar="F", help="write a PDF report to F")


def _metric_text(version: ModelVersion) -> str:
    h = version.holdout
    interval = f" [{h.ci_low:.4g}, {h.ci_high:.4g}]" if h.ci_low is not None and h.ci_high is not None else ""
    return f"{h.name} {h.value:.4g}{interval}"


def cmd_run(args: argparse.Namespace) -> int:
    import dataclasses

    spec = api.load_spec(Path(args.spec))
    if args.compute:
        spec = dataclasses.replace(spec, compute=args.compute)
    export = spec.compute_kind == "dask"
    if export and not args.yes:
        _confirm_export(spec)
    with open_engine(args) as engine:
        service = _service(engine)
        version = run_task(lambda ctx: service.run(spec, model=args.model, ctx=ctx, allow_data_export=export)).value
        runs = [r for r in service.runs() if r.model_version == version.id]
    text = [
        f"Trained {version.label}: {version.algorithm} on {version.dataset}, holdout {_metric_text(version)}",
        f"  {runs[0].trials if runs else '?'} trials, device {version.device}, {version.wall_seconds:.1f} s, "
        f"peak memory {megabytes(version.peak_memory_bytes)}",
        f"  spec {version.spec_hash[:12]}, run {runs[0].id[:8] if runs else '?'}; "
        f"see `airlock models show {version.label}`",
    ]
    emit(args, {"model_version": to_builtins(version), "run": to_builtins(runs[0]) if runs else None}, text)
    return 0


def _confirm_export(spec: TrainingSpec) -> None:
    """Ask (on stderr, one line read from stdin) before a run sends data to a Dask cluster."""
    sys.stderr.write(f"Data from {spec.dataset} will be sent to the Dask cluster at {spec.compute}, outside the "
                     "encrypted workspace. Continue? [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline() if sys.stdin is not None else ""
    except (OSError, ValueError):  # no stdin to read: not confirmed
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageProblem(f"Nothing was sent to {spec.compute} and no run was started: not confirmed "
                           "(answer y, or pass --yes).")


def _run_row(run: TrainingRun) -> list[object]:
    outcome = run.model_version[:8] if run.model_version else (run.error or "")[:60]
    return [run.id[:8], run.status, run.model or "", local_time(run.started_at), run.trials, outcome]


def cmd_runs_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        runs = _service(engine).runs()
    text = table(["RUN", "STATUS", "MODEL", "STARTED", "TRIALS", "VERSION / ERROR"], [_run_row(r) for r in runs]) \
        if runs else "No training runs yet (airlock train run SPEC)."
    emit(args, [to_builtins(r) for r in runs], text)
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        run = service.run_info(args.run)
        version = None
        if run.model_version and run.model:
            version = next((v for v in service.versions(run.model) if v.id == run.model_version), None)
    text = [f"Run {run.id}", f"  status:   {run.status}", f"  model:    {run.model or ''}",
            f"  spec:     {run.spec_hash}", f"  started:  {local_time(run.started_at)}",
            f"  finished: {local_time(run.finished_at)}", f"  trials:   {run.trials}"]
    if version is not None:
        text.append(f"  version:  {version.label} ({version.algorithm}, holdout {_metric_text(version)})")
    if run.error:
        text.append(f"  error:    {run.error}")
    emit(args, {"run": to_builtins(run), "model_version": to_builtins(version) if version else None}, text)
    return 0


def cmd_runs_compare(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        refs = []
        for ref in (args.a, args.b):
            run = service.run_info(ref)
            if run.model_version is None:
                raise UsageProblem(f"Run {run.id[:8]} has no model version ({run.status}); compare finished runs.")
            version = next(v for v in service.versions(run.model or "") if v.id == run.model_version)
            refs.append(version.label)
        comparison = service.compare(refs[0], refs[1])
    a, b = comparison.a, comparison.b
    rows = [[field, _short(x), _short(y)] for field, x, y in comparison.differences]
    text = [f"{a.label} against {b.label}",
            table(["FIELD", a.label, b.label], rows) if rows else "  no differences in lineage or figures"]
    if comparison.holdout_margin is not None:
        text.append(f"Holdout {a.metric}: {b.label} minus {a.label} = {comparison.holdout_margin:+.4g}")
    emit(args, {"a": to_builtins(a), "b": to_builtins(b), "holdout_margin": comparison.holdout_margin,
                "differences": [{"field": f, "a": x, "b": y} for f, x, y in comparison.differences]}, text)
    return 0


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 48 else text[:45] + "..."


def cmd_runs_cancel(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        run = _service(engine).cancel_run(args.run).value
    emit(args, to_builtins(run), [
        f"Run {run.id[:8]} marked cancelled. The process running it stops within a few seconds and stores "
        "no model; a run whose process is gone is only marked."])
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        latest = _service(engine).models()
    rows = [[v.model, v.number, v.algorithm, _metric_text(v), v.dataset, local_time(v.created_at)] for v in latest]
    text = table(["MODEL", "LATEST", "ALGORITHM", "HOLDOUT", "DATASET", "TRAINED"], rows) if rows \
        else "No models yet (airlock train run SPEC)."
    emit(args, [to_builtins(v) for v in latest], text)
    return 0


def cmd_models_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        version = service.model_version(args.ref)
        evidence = service.evidence(version.label)
    env = version.environment
    text = [
        f"{version.label}: {version.algorithm} {version.params}",
        f"  holdout:     {_metric_text(version)}", f"  method:      {version.holdout.method}",
        f"  data:        {version.dataset} (content {version.dataset_sha256[:12]})",
        f"  spec:        {version.spec_hash[:12]}, seed {version.seed}",
        f"  trained:     {local_time(version.created_at)} by {version.created_by} on {version.device}, "
        f"{version.wall_seconds:.1f} s, peak memory {megabytes(version.peak_memory_bytes)}",
        f"  environment: Python {env.python}, {env.platform}, {env.cpu}" + (f", {env.gpu}" if env.gpu else "")
        + f", {len(env.packages)} packages",
        "  artefacts:   " + ", ".join(f"{n} ({s[:12]})" for n, s in version.artefacts),
        "  evidence:    " + (", ".join(str(i.kind) for i in evidence.items) or "none"),
    ]
    emit(args, {"model_version": to_builtins(version), "evidence": [to_builtins(i) for i in evidence.items]}, text)
    return 0


def cmd_models_report(args: argparse.Namespace) -> int:
    return export_reports(
        args, lambda engine, fmt, dest: _service(engine).export_report(args.ref, dest, format=fmt).value)
