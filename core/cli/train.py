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

from core.api import InvalidSpec, SpecProblem, Task, TrainingSpec, dump_spec, load_spec, to_builtins
from core.cli.common import UsageProblem, add_command, add_group, emit, open_engine, run_task

if TYPE_CHECKING:
    from core.api import TrainingService

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
    text = dump_spec(spec)
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
        spec = load_spec(path)
        problems: list[SpecProblem] = []
    except InvalidSpec as exc:
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
