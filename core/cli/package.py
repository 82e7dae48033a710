"""``airlock package …`` and ``airlock policy …``: build, review, approve and admit packages; the trust policy.

Signing keys are named by key id (or a unique prefix) with ``--signer``; a key kept in a file
asks for its passphrase (``$AIRLOCK_SIGNING_PASSPHRASE`` or a prompt), never on the command line.
An admission prints its checklist step by step; a refusal exits 1 with the step that failed and
why, having changed nothing. Only :mod:`core.api` is imported.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import api
from core.api import to_builtins
from core.cli.common import (
    ENV_WORKSPACE,
    ProgressBar,
    add_command,
    add_group,
    emit,
    local_time,
    open_engine,
    read_secret,
    run_task,
    table,
)

if TYPE_CHECKING:
    from core.api import AdmissionReport, AdmissionStep, PackageSummary, PromotionService



def register(subparsers: Any) -> None:
    group = add_group(subparsers, "package", "signed promotion packages: build, review, approve, admit")
    p = add_command(group, "build", cmd_build, "build the signed package of MODEL (development workspaces)")
    p.add_argument("model", metavar="MODEL[@N]", help="a model version (default: the latest)")
    p.add_argument("--out", required=True, metavar="FILE.airpkg", help="where to write the package")
    p.add_argument("--signer", required=True, metavar="ID", help="your signing key's id (airlock keys list)")
    p = add_command(group, "review", cmd_review,
                    "what a package holds: manifest, lineage, rubric, files, model card (no workspace needed)")
    p.add_argument("package", metavar="FILE.airpkg")
    p.add_argument("--card", action="store_true", help="print the whole model card")
    p = add_command(group, "approve", cmd_approve, "sign your approval (or rejection) of a package for QA or production")
    p.add_argument("package", metavar="FILE.airpkg")
    p.add_argument("--env", required=True, choices=["qa", "prod"], help="the environment you approve it for")
    p.add_argument("--decision", required=True, choices=["approve", "reject"])
    p.add_argument("--comment", required=True, help="why; part of what you sign")
    p.add_argument("--signer", required=True, metavar="ID", help="your signing key's id")
    p.add_argument("--site", help="the target site (default: this workspace's policy site)")
    p.add_argument("--policy-version", type=int, help="the target site's trust-policy version")
    p.add_argument("--valid-days", type=int, default=30, help="how long the approval stays usable (default 30)")
    p = add_command(group, "admit", cmd_admit, "verify a package against this site's trust policy and admit it")
    p.add_argument("package", metavar="FILE.airpkg")
    p.add_argument("--approval", dest="approvals", action="append", default=[], metavar="FILE",
                   help="an approval or attestation file beyond FILE.airpkg.approvals/ (repeat)")

    group = add_group(subparsers, "policy", "the trust policy of a QA or production workspace")
    p = add_command(group, "new", cmd_policy_new, "write a policy draft (TOML) for administrators to edit")
    p.add_argument("--site", required=True)
    p.add_argument("--env", required=True, choices=["qa", "prod"])
    p.add_argument("--admin", dest="admins", action="append", required=True, metavar="ID|FILE.pub",
                   help="an administrator's key (repeat)")
    p.add_argument("--out", required=True, metavar="FILE.toml")
    p = add_command(group, "sign", cmd_policy_sign, "sign a draft (or add your signature to a signed policy)")
    p.add_argument("file", metavar="DRAFT.toml|POLICY.json")
    p.add_argument("--signer", required=True, metavar="ID", help="your administrator key's id")
    p.add_argument("--out", metavar="POLICY.json", help="where to write the signed policy (default: beside it)")
    p = add_command(group, "next", cmd_policy_next,
                    "write the installed policy as a draft of its next version (rotate keys, revoke one, change rules)")
    p.add_argument("--out", required=True, metavar="FILE.toml")
    p = add_command(group, "install", cmd_policy_install, "install a signed policy here (administrators)")
    p.add_argument("file", metavar="POLICY.json")
    p = add_command(group, "recover", cmd_policy_recover, "install a policy after the stored one was lost (audited)")
    p.add_argument("file", metavar="POLICY.json")
    p.add_argument("--reason", required=True)
    add_command(group, "show", cmd_policy_show, "the policy this workspace trusts now")


def _service(engine: Any) -> PromotionService:
    return engine.promotion  # type: ignore[no-any-return]


def _passphrase(signer: str) -> str | None:
    """The key's passphrase when it lives in a file; None for a keyring key."""
    if api.KeyStore().needs_passphrase(signer):
        return read_secret(api.ENV_SIGNING_PASSPHRASE, "Passphrase of your signing key: ", "signing-key passphrase")
    return None


def _summary_lines(s: PackageSummary) -> list[str]:
    m = s.manifest
    lines = [
        f"Package {Path(s.path).name}: {m.label} ({m.task}, {m.algorithm}), package digest {s.package_digest}",
        f"  author      {m.author} (key {m.author_keyid[:16]}…) — signature "
        + ("verified" if s.author_verified else "NOT checked: the author's public key is not known here"),
        f"  trained     {local_time(m.created_at)}; holdout {m.metric} {m.holdout:.4g}",
        f"  lineage     dataset {m.lineage.dataset} ({m.lineage.dataset_sha256[:16]}…), spec {m.lineage.spec_hash[:16]}…",
        f"  workspace   {m.source_workspace_name} ({m.source_workspace_id[:8]}), audit head entry {m.audit_seq}",
    ]
    if m.rubric:
        lines.append(f"  rubric      {m.rubric.score:g} ({m.rubric.band}); failed: {', '.join(m.rubric.failed) or 'none'}; "
                     f"not done: {len(m.rubric.not_done)}")
    else:
        lines.append("  rubric      never run for this version")
    lines += ["", table(["FILE", "BYTES", "SHA-256"], [[f.path, f"{f.size:,}", f.sha256[:16] + "…"] for f in s.files])]
    return lines


def cmd_build(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args.signer)
    with open_engine(args) as engine:
        summary = run_task(lambda ctx: _service(engine).build(args.model, args.out, signer=args.signer,
                                                              passphrase=passphrase, ctx=ctx).value)
    text = [f"Wrote {summary.path} ({len(summary.files)} files), signed by key {summary.manifest.author_keyid[:16]}…",
            f"Package digest {summary.package_digest}: reviewers approve this digest."]
    emit(args, summary, text)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    if getattr(args, "workspace", None) or os.environ.get(ENV_WORKSPACE):
        with open_engine(args) as engine:  # the workspace's policy keys count as known too
            summary = _service(engine).review(args.package)
    else:  # a reviewer needs no workspace to read a package: the keys on this machine are enough
        summary = api.review_package(args.package)
    text = _summary_lines(summary)
    if args.card:
        text += ["", summary.model_card_markdown]
    else:
        text += ["", "The model card: airlock package review FILE --card"]
    emit(args, summary, text)
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args.signer)
    with open_engine(args) as engine:
        out = _service(engine).approve(
            args.package, environment=args.env, decision=args.decision, comment=args.comment, signer=args.signer,
            passphrase=passphrase, site=args.site, policy_version=args.policy_version, valid_days=args.valid_days,
        ).value
    word = "approval" if args.decision == "approve" else "rejection"
    emit(args, {"file": str(out)}, [f"Signed your {word} for {args.env}: {out}",
                                    "It travels beside the package; it does not change the package."])
    return 0


def _step_line(step: AdmissionStep) -> str:
    status = api.StepStatus
    mark = {status.PASSED: "ok  ", status.FAILED: "FAIL", status.NOT_REACHED: "--  ", status.NOT_REQUIRED: "n/a "}[step.status]
    return f"  [{mark}] {step.check:<17} {step.detail}"


def _report_lines(report: AdmissionReport) -> list[str]:
    head = (f"Admitted {report.label} (package {report.package_digest})" if report.admitted
            else f"NOT admitted: {Path(report.package).name}")
    return [head, *(_step_line(s) for s in report.steps)]


def cmd_admit(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    with open_engine(args) as engine:
        try:
            report = run_task(lambda ctx: _service(engine).admit(
                args.package, [Path(p) for p in args.approvals], ctx=ctx,
                on_step=lambda step: bar.note(_step_line(step)) if bar.enabled else None).value, bar)
        except api.AdmissionRefused as refused:
            emit(args, refused.report, _report_lines(refused.report))
            return 1
    emit(args, report, _report_lines(report))
    return 0


# --- policy ----------------------------------------------------------------------------------


def cmd_policy_new(args: argparse.Namespace) -> int:
    out = _write_draft(args.out, api.policy_draft_template(args.site, args.env, args.admins))
    emit(args, {"file": str(out)}, [f"Wrote the draft {out}: edit it, then each administrator signs it "
                                     f"(airlock policy sign {out.name} --signer ID)."])
    return 0


def _write_draft(path: str, text: str) -> Path:
    out = Path(path)
    if out.exists():
        raise api.InvalidInput(f"{out} exists; choose another file.")
    out.write_text(text, encoding="utf-8")
    return out


def cmd_policy_next(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        text = _service(engine).next_policy_draft()
    out = _write_draft(args.out, text)
    emit(args, {"file": str(out)}, [f"Wrote the draft {out}: edit it, then the current administrators' threshold "
                                     "and the new ones sign it (airlock policy sign), and install it here."])
    return 0


def cmd_policy_sign(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args.signer)
    out, count = api.sign_policy_file(Path(args.file), args.signer, passphrase, Path(args.out) if args.out else None)
    emit(args, {"file": str(out), "signatures": count},
         [f"Signed: {out} now holds {count} administrator signature(s)."])
    return 0


def _policy_lines(installed: Any) -> list[str]:
    p = installed.policy
    lines = [f"Trust policy version {p.version} for site {p.site!r} ({p.environment}), expires {local_time(p.expires_at)}",
             f"  installed by {installed.installed_by} at {local_time(installed.installed_at)}"
             + (" (recovery)" if installed.recovered else ""),
             f"  administrators: {', '.join(sorted({k.person for k in p.administrators}))}; "
             f"threshold {p.admin_threshold}"]
    lines += ["", table(["PERSON", "KEY", "ROLES", "VALID UNTIL"],
                        [[k.person, k.keyid[:16] + "…" + (" (revoked)" if k.keyid in p.revoked else ""),
                          ", ".join(k.roles), k.valid_until[:10]] for k in p.keys])]
    for rule in p.rules:
        lines.append(f"  {rule.environment}: {rule.approvals_required} distinct {rule.approver_role}(s); rubric ≥ "
                     f"{rule.min_rubric_score:g}; required tests {', '.join(rule.required_tests) or 'none'}"
                     + ("; QA approvers do not count" if rule.approvers_differ_from_qa else "")
                     + ("; the QA site's attestation is required" if rule.require_qa_attestation else ""))
    lines.append(f"  allowed artefact formats: {', '.join(p.allowed_formats)}")
    return lines


def cmd_policy_install(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        installed = _service(engine).install_policy(args.file).value
    emit(args, to_builtins(installed.policy), ["Installed.", *_policy_lines(installed)])
    return 0


def cmd_policy_recover(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        installed = _service(engine).recover_policy(args.file, args.reason).value
    emit(args, to_builtins(installed.policy), ["Recovered (recorded in the audit log).", *_policy_lines(installed)])
    return 0


def cmd_policy_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        installed = _service(engine).policy()
    if installed is None:
        emit(args, None, "No trust policy is installed here (airlock policy install FILE).")
        return 0
    emit(args, to_builtins(installed.policy), _policy_lines(installed))
    return 0
