"""``airlock data …``: import production data, list it, profile it, its schema, drift.

Database passwords never come from the command line: a URL with a password is refused;
the password is read from ``$AIRLOCK_SQL_PASSWORD`` or a hidden prompt.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.api import CsvOptions, Outcome, TaskContext, to_builtins
from core.cli.common import UsageProblem, add_command, add_group, emit, open_engine, run_task, table

if TYPE_CHECKING:
    from core.api import DatasetService

ENV_SQL_PASSWORD = "AIRLOCK_SQL_PASSWORD"


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "data", "import, profile, schema and drift of datasets")
    p = add_command(group, "import", cmd_import, "import a CSV/TSV, Parquet or Excel file, or a SQL query, as a new version")
    p.add_argument("source", metavar="SRC", nargs="?", help="the file (omit with --sql)")
    p.add_argument("--name", metavar="N", help="the dataset (default: the file name)")
    p.add_argument("--sql", metavar="URL", help="a database URL without password (SQLAlchemy form)")
    p.add_argument("--query", metavar="Q", help="the SQL query to import (with --sql)")
    p.add_argument("--delimiter", metavar="C", help="CSV delimiter (default: sniffed)")
    p.add_argument("--encoding", metavar="E", default="utf-8",
                   help="text encoding (default utf-8; a UTF-16 byte-order mark is recognised)")
    p.add_argument("--decimal", choices=(".", ","), default=None,
                   help="decimal mark of numbers in a CSV (default: sniffed; ',' only with another delimiter)")
    header = p.add_mutually_exclusive_group()
    header.add_argument("--header", dest="header", action="store_const", const=True, default=None)
    header.add_argument("--no-header", dest="header", action="store_const", const=False)
    p.add_argument("--sheet", metavar="NAME", help="Excel sheet (default: the first)")
    add_command(group, "list", cmd_list, "datasets and their latest versions")
    p = add_command(group, "profile", cmd_profile, "profile a version (NAME or NAME@N)")
    p.add_argument("ref", metavar="NAME")
    p.add_argument("--target", metavar="COL", help="measure association with this column (leakage check)")
    p.add_argument("--html", metavar="F", help="also write a self-contained HTML report to F")
    p.add_argument("--pdf", metavar="F", help="also write a PDF report to F (overview, alerts, columns, charts)")
    p.add_argument("--not-pii", metavar="COL", action="append", dest="not_pii",
                   help="COL holds no personal data: show its frequent values (repeatable)")
    p = add_command(group, "schema", cmd_schema, "infer, show or validate a dataset's schema")
    p.add_argument("action", choices=("infer", "show", "validate"))
    p.add_argument("ref", metavar="NAME")
    p.add_argument("other", metavar="OTHER", nargs="?", help="the version to validate (validate only)")
    p = add_command(group, "drift", cmd_drift, "compare two versions; exit 0 no drift, 1 drift")
    p.add_argument("reference", metavar="REF")
    p.add_argument("current", metavar="CUR")
    p.add_argument("--correction", choices=("bh", "bonferroni"), default="bh")


def _service(engine: Any) -> DatasetService:
    return engine.datasets  # type: ignore[no-any-return]


def cmd_import(args: argparse.Namespace) -> int:
    if args.sql:
        if args.source:
            raise UsageProblem("Give either a file or --sql URL --query Q, not both.")
        if not args.query or not args.name:
            raise UsageProblem("--sql needs --query and --name.")
        if urlsplit(args.sql).password:
            raise UsageProblem(f"Do not put the password in the URL (others can read the command line); set ${ENV_SQL_PASSWORD}.")
        password = os.environ.get(ENV_SQL_PASSWORD)
        if password is None and "sqlite" not in args.sql.split(":", 1)[0]:
            from core.cli.common import read_secret

            password = read_secret(ENV_SQL_PASSWORD, "Database password: ", "database password") or None
        with open_engine(args) as engine:
            result = run_task(
                lambda ctx: _service(engine).import_sql(args.sql, args.query, name=args.name, password=password, ctx=ctx)
            ).value
    else:
        if not args.source:
            raise UsageProblem("Give the file to import, or --sql URL --query Q.")
        options = CsvOptions(delimiter=args.delimiter, encoding=args.encoding, has_header=args.header,
                             decimal=args.decimal)
        with open_engine(args) as engine:
            result = run_task(lambda ctx: _service(engine).import_file(
                Path(args.source), name=args.name, csv=options, sheet=args.sheet, ctx=ctx)).value
    v = result.version
    text = [f"{'Imported' if result.new else 'Already imported'} {v.label}: {v.row_count:,} rows × {v.column_count} columns "
            f"(snapshot {v.content_sha256[:12]})"] + [f"warning: {w}" for w in v.warnings]
    emit(args, result, text)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        items = _service(engine).list()
    rows = [(d.name, d.versions, d.latest.row_count if d.latest else "", d.latest.column_count if d.latest else "",
             d.latest.lineage.source_kind if d.latest else "") for d in items]
    emit(args, items, table(("NAME", "VERSIONS", "ROWS", "COLUMNS", "SOURCE"), rows))
    return 0


def _report_export(
    service: DatasetService, ref: str, dest: str, fmt: str, target: str | None, not_pii: tuple[str, ...] | None,
) -> Callable[[TaskContext], Outcome[Path]]:
    """The export of one profile report, as work for :func:`run_task`."""
    return lambda ctx: service.export_profile_report(ref, dest, format=fmt, target=target, not_pii=not_pii,
                                                     ctx=ctx)


def cmd_profile(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        label = service.version(args.ref).label
        not_pii = tuple(args.not_pii) if args.not_pii else None
        # Each report is an audited export; it keeps the profile it computes.
        for fmt, dest in (("html", args.html), ("pdf", args.pdf)):
            if dest:
                run_task(_report_export(service, args.ref, dest, fmt, args.target, not_pii))
        prof = service.stored_profile(args.ref, target=args.target)
        if prof is not None and not_pii is not None and sorted(prof.not_pii) != sorted(not_pii):
            prof = None
        if prof is None:
            prof = run_task(lambda ctx: service.profile(args.ref, target=args.target, refresh=True,
                                                        not_pii=not_pii, ctx=ctx))
            if not engine.read_only:
                service.save_profile(prof)
    rows = [(c.name, c.semantic_type, c.missing, c.distinct, c.pii or "") for c in prof.columns]
    text = [f"{label}: {prof.row_count:,} rows, {prof.duplicate_rows:,} duplicates",
            table(("COLUMN", "TYPE", "MISSING", "DISTINCT", "PII"), rows), ""]
    text += [f"[{a.severity}] {a.message}" for a in prof.alerts]
    emit(args, to_builtins(prof) if args.json else None, text)  # converted only when printed
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        if args.action == "infer":
            schema = service.infer_schema(args.ref).value
        elif args.action == "show":
            schema = service.schema(args.ref.partition("@")[0])
        else:
            if not args.other:
                raise UsageProblem("schema validate NAME OTHER: give the version to validate.")
            report = service.validate(args.ref.partition("@")[0], args.other)
            text = [f"{report.version_label} against schema revision {report.schema_revision}: "
                    f"{'OK' if report.ok else 'anomalies found'}"] + [f"[{a.severity}] {a.message}" for a in report.anomalies]
            emit(args, to_builtins(report), text)
            return 0 if report.ok else 1
    # Bounds are stored exactly and shown rounded (whole numbers in integer columns).
    rows = [(c.name, c.type, c.semantic_type, "yes" if c.required else f"≤ {c.max_missing_fraction:.1%} missing",
             c.bound_text(c.minimum), c.bound_text(c.maximum), _allowed_text(c.allowed_values)) for c in schema.columns]
    emit(args, to_builtins(schema), [f"{schema.dataset_name} schema revision {schema.revision}",
                                  table(("COLUMN", "TYPE", "SEMANTIC", "REQUIRED", "MIN", "MAX", "ALLOWED"), rows)])
    return 0


_CORRECTIONS = {"bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni"}


def _share(v: float) -> str:
    return f"{100 * v:.0f}%" if v == 0 or v >= 0.01 else f"{100 * v:.1g}%"


def _allowed_text(values: tuple[str, ...] | None, width: int = 40) -> str:
    if values is None:
        return ""
    text = ", ".join(values)
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_drift(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        report = _service(engine).drift(args.reference, args.current, correction=args.correction)
    rows = [(c.column, c.kind, f"{c.psi:.3f}", f"{c.psi_expected:.3f}", f"{c.p_adjusted:.3g}", f"{c.distance:.3f}",
             f"{_share(c.missing_reference)} → {_share(c.missing_current)}" if c.missing_reference or c.missing_current else "",
             c.level, ("DRIFT (" + ", ".join(c.reasons) + ")") if c.drifted else "")
            for c in report.columns]
    text = [f"{report.reference} → {report.current}: {report.verdict}",
            table(("COLUMN", "KIND", "PSI", "BY CHANCE", "P (ADJ)", "DISTANCE", "MISSING", "LEVEL", ""), rows)]
    if report.skipped:
        text += ["", "Not compared:"] + [f"  {s}" for s in report.skipped]
    correction = _CORRECTIONS.get(report.correction, report.correction)
    text += ["", f"A column drifts when its test is significant (adjusted p < {report.alpha:g}, {correction}) and PSI "
                 f"exceeds what chance gives by ≥ {report.psi_moderate:g}, or when its share of missing values moves "
                 f"significantly by ≥ {100 * report.missing_moderate:g} points."]
    if args.json:
        print(json.dumps(to_builtins(report), indent=2, ensure_ascii=False))
    else:
        emit(args, report, text)
    return 1 if report.drift else 0
