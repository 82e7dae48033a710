"""Admission: the ordered checks a QA or production workspace runs on a package before keeping it.

:func:`check_package` runs the :class:`~core.promotion.models.AdmissionCheck` steps in order and
stops at the first failure, whose reason names what failed: safe unpacking (in memory, nothing
extracted to disk), the author's signature with every file's digest, the signed manifest, the
development audit head, each approval against the trust policy, the QA site's attestation where
production requires it, the rubric, and only then the canary — the one step that loads the model,
from the verified bytes, in a child with no network.

It reads the store only through the :class:`Lookups` the service passes in and writes nothing: the
service stores what :class:`Admitted` holds in one transaction, or nothing when
:class:`AdmissionRefused` is raised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core import formats
from core.errors import AirlockError, Cancelled
from core.promotion.models import (
    IN_TOTO_PAYLOAD_TYPE,
    SITE_ATTESTATION_PREDICATE,
    AdmissionCheck,
    AdmissionReport,
    AdmissionStep,
    Environment,
    KeyRole,
    Manifest,
    PolicyKey,
    SignedApproval,
    SiteAttestation,
    StepStatus,
    TrustPolicy,
)
from core.tasks import TaskContext, ensure_context

if TYPE_CHECKING:
    from core.promotion.approvals import SignedAttestation

#: Where approvals travel: a folder beside the package, ``FILE.airpkg.approvals/``.
APPROVALS_SUFFIX = ".approvals"
#: The file of the development audit chain's entry hashes inside the package's content.
AUDIT_CHAIN_FILE = "lineage/audit_chain.json"
#: The author's bundle's name in the package.
BUNDLE_NAME = "author.sig"
#: Content files up to this size are kept in memory from the first read; larger ones are hashed
#: through a small buffer and read again, re-hashed, when they are used or stored.
KEEP_IN_MEMORY = 64 << 20
#: The files the checks read, always kept (whatever their size; the archive's limits still apply).
_CHECKED = frozenset({"manifest.json", AUDIT_CHAIN_FILE})
#: Largest approval or attestation file read.
MAX_STATEMENT_BYTES = 1 << 20


class AdmissionRefused(AirlockError):
    """A package did not pass admission: :attr:`report` says which step failed and why."""

    code = "admission_refused"

    def __init__(self, report: AdmissionReport) -> None:
        failed = report.failure
        what = f"{failed.check}: {failed.detail}" if failed else "refused"
        super().__init__(f"{Path(report.package).name} was not admitted — {what}")
        self.report = report


@dataclass(frozen=True, slots=True)
class Lookups:
    """What admission needs to know of the workspace (read by the service, never written here)."""

    newest_version: Callable[[str], int | None]  # newest admitted version of a model
    admitted: Callable[[str], bool]  # whether a package digest was admitted already
    nonces_seen: Callable[[Collection[str]], set[str]]
    audit_source: Callable[[str], tuple[int, str, bytes] | None]  # (seq, hash, chain JSON) seen from a workspace


@dataclass(frozen=True, slots=True)
class Admitted:
    """What a passed admission established: for the service to store in one transaction."""

    report: AdmissionReport
    package_digest: str
    manifest: Manifest
    author: PolicyKey
    files: dict[str, bytearray]  # by path inside the content folder: those kept in memory; the others are read
    #                              again, and re-hashed against ``digests``, when stored
    digests: dict[str, str]  # every content file's verified SHA-256
    bundle: bytes  # the author's bundle (author.sig)
    approvals: tuple[SignedApproval, ...]  # those that counted
    approvers: tuple[str, ...]
    attestation: bytes | None
    chain: bytes
    canary_rows: int
    canary_max_difference: float


def keep_in_memory(name: str, size: int) -> bool:
    """Whether admission holds a content file in memory from its first read (else: hash now, read again later)."""
    return size <= KEEP_IN_MEMORY or name in _CHECKED or name.startswith("canary/")


def approval_files(package: Path, extra: Sequence[Path] = ()) -> list[Path]:
    """The statements that travel with ``package``: its ``.approvals`` folder's ``*.json``, then ``extra``."""
    folder = package.with_name(package.name + APPROVALS_SUFFIX)
    found = sorted(p for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []
    return found + [Path(p) for p in extra if Path(p) not in found]


class _Steps:
    def __init__(self, package: Path) -> None:
        self.package = package
        self.done: list[AdmissionStep] = []
        self.digest: str | None = None
        self.label: str | None = None

    def passed(self, check: AdmissionCheck, detail: str, status: StepStatus = StepStatus.PASSED) -> None:
        self.done.append(AdmissionStep(check, status, detail))

    def report(self, admitted: bool) -> AdmissionReport:
        reached = {s.check for s in self.done}
        rest = [AdmissionStep(c, StepStatus.NOT_REACHED, "not checked: an earlier step failed")
                for c in AdmissionCheck if c not in reached]
        return AdmissionReport(str(self.package), self.digest, self.label, tuple(self.done + rest), admitted)

    def fail(self, check: AdmissionCheck, detail: str) -> AdmissionRefused:
        self.done.append(AdmissionStep(check, StepStatus.FAILED, detail))
        return AdmissionRefused(self.report(False))


def _policy_key(policy: TrustPolicy, keyid: str) -> PolicyKey | None:
    return next((k for k in policy.keys if k.keyid == keyid), None)


def usable(key: PolicyKey, policy: TrustPolicy, role: KeyRole, now: datetime) -> str | None:
    """Why ``key`` cannot sign as ``role`` under ``policy`` at ``now`` (None when it can)."""
    from core.promotion.policy import key_is_valid

    if key.keyid in policy.revoked:
        return f"key {key.keyid[:16]}… ({key.person}) is revoked by trust policy {policy.version}"
    if role not in key.roles:
        return f"key {key.keyid[:16]}… ({key.person}) is not trusted as {role} (it holds {', '.join(key.roles) or 'no role'})"
    if not key_is_valid(key, now):
        return f"key {key.keyid[:16]}… ({key.person}) is valid from {key.valid_from} until {key.valid_until}, not now"
    return None


def check_attestation(signed: SignedAttestation, policy: TrustPolicy, digest: str, now: datetime) -> str | None:
    """Why a QA site's attestation does not count for package ``digest`` under ``policy`` (None when it does).

    Used at admission and again when an admitted version is promoted or rolled back to.
    """
    from core.promotion import approvals as approvals_mod

    name = Path(signed.source).name
    key = _policy_key(policy, signed.signer_keyid)
    if key is None:
        return f"{name}: signed by a key trust policy {policy.version} does not list"
    why = usable(key, policy, KeyRole.SITE, now)
    if why:
        return f"{name}: {why}"
    try:
        approvals_mod.verify_attestation(signed, key.pem)
    except AirlockError as exc:
        return str(exc)
    if signed.attestation.package_digest != digest:
        return f"{name}: attests another package ({signed.attestation.package_digest[:16]}…)"
    if signed.attestation.environment != Environment.QA:
        return f"{name}: attests admission to {signed.attestation.environment}, not QA"
    return None


def qa_approver_persons(attestation: SiteAttestation, policy: TrustPolicy) -> tuple[str, ...]:
    """The people (as ``policy`` names them) whose QA approvals counted at the QA site."""
    return tuple(sorted({(key.person if (key := _policy_key(policy, keyid)) else keyid)
                         for keyid in attestation.approver_keyids}))


def check_package(
    package: Path, statements: Sequence[Path], *, policy: TrustPolicy, lookups: Lookups, now: datetime,
    ctx: TaskContext | None = None, on_step: Callable[[AdmissionStep], None] | None = None,
) -> Admitted:
    """Run every admission check on ``package`` with the approvals and attestations in ``statements``.

    Raises
    ------
    AdmissionRefused
        A step failed; its report lists every step with how it ended.
    """
    from core.promotion import approvals as approvals_mod
    from core.promotion import archive, author, evaluation

    ctx = ensure_context(ctx)
    steps = _Steps(package)
    environment = policy.environment
    env_word = evaluation.ENV_WORD[environment]
    rule = policy.rule(environment)

    def passed(check: AdmissionCheck, detail: str, status: StepStatus = StepStatus.PASSED) -> None:
        steps.passed(check, detail, status)
        if on_step is not None:
            on_step(steps.done[-1])
        ctx.report(min(0.95, len(steps.done) / len(AdmissionCheck)), f"{check}: {status}")

    # 1. Safe unpacking, in memory.
    ctx.report(0.0, "Reading the package")
    try:
        unpacked = archive.read_package(package, keep=keep_in_memory)
    except AirlockError as exc:
        raise steps.fail(AdmissionCheck.UNPACK, str(exc)) from None
    files = dict(unpacked.files)
    passed(AdmissionCheck.UNPACK, f"{len(unpacked.digests)} files, {package.stat().st_size:,} bytes, "
           "no links, no path outside the package")
    ctx.check()

    # 2. The author's signature and every file's digest.
    try:
        hint = author.author_key_hint(unpacked.bundle)
    except AirlockError as exc:
        raise steps.fail(AdmissionCheck.AUTHOR_SIGNATURE, str(exc)) from None
    candidates = [k for k in policy.keys if hashlib.sha256(k.pem.encode("ascii")).hexdigest() == hint]
    if not candidates:
        raise steps.fail(AdmissionCheck.AUTHOR_SIGNATURE,
                         f"signed by a key trust policy {policy.version} does not list (key hint {hint[:16]}…)")
    author_key = candidates[0]
    why = usable(author_key, policy, KeyRole.AUTHOR, now)
    if why:
        raise steps.fail(AdmissionCheck.AUTHOR_SIGNATURE, why)
    try:
        digest = author.verify_content(unpacked.bundle, author_key.pem, unpacked.digests)
    except AirlockError as exc:
        raise steps.fail(AdmissionCheck.AUTHOR_SIGNATURE, str(exc)) from None
    steps.digest = digest
    passed(AdmissionCheck.AUTHOR_SIGNATURE,
           f"signed by {author_key.person} (key {author_key.keyid[:16]}…); all {len(unpacked.digests)} files match")

    # 3. The signed manifest.
    try:
        manifest = formats.loads(Manifest, bytes(files["manifest.json"]), source="manifest.json")
    except KeyError:
        raise steps.fail(AdmissionCheck.MANIFEST, "the package has no manifest.json") from None
    except AirlockError as exc:
        raise steps.fail(AdmissionCheck.MANIFEST, str(exc)) from None
    steps.label = manifest.label
    problem = _manifest_problem(manifest, author_key, unpacked.digests, policy, lookups, digest)
    if problem:
        raise steps.fail(AdmissionCheck.MANIFEST, problem)
    passed(AdmissionCheck.MANIFEST, f"{manifest.label} ({manifest.algorithm}), artefacts "
           + ", ".join(f"{a.path} [{a.format}]" for a in manifest.artefacts))

    # 4. The development audit log only grew.
    chain = bytes(files.get(AUDIT_CHAIN_FILE, b""))
    problem, detail = _lineage_problem(manifest, chain, lookups)
    if problem:
        raise steps.fail(AdmissionCheck.LINEAGE, problem)
    passed(AdmissionCheck.LINEAGE, detail)

    # 5. Approvals against the policy.
    signed: list[SignedApproval] = []
    attestations: list[SignedAttestation] = []
    for path in statements:
        try:
            data = _read_small(path)
            if _predicate_type(data, str(path)) == SITE_ATTESTATION_PREDICATE:
                attestations.append(approvals_mod.read_attestation(data, str(path)))
            else:
                signed.append(approvals_mod.read_approval(data, str(path)))
        except OSError as exc:
            raise steps.fail(AdmissionCheck.APPROVALS, f"{path.name}: cannot be read ({exc.strerror})") from None
        except AirlockError as exc:
            raise steps.fail(AdmissionCheck.APPROVALS, str(exc)) from None
    # Only an attestation that checks out says who approved for QA (production keeps them apart).
    refusals = {id(a): check_attestation(a, policy, digest, now) for a in attestations}
    attested = next((a for a in attestations if refusals[id(a)] is None), None)
    if rule is None:
        raise steps.fail(AdmissionCheck.APPROVALS, f"trust policy {policy.version} has no rule for {env_word}")
    qa_persons = qa_approver_persons(attested.attestation, policy) if attested else ()
    tally = evaluation.evaluate_approvals(
        policy, environment, signed, package_digest=digest, model=manifest.model, version=manifest.version,
        author_keyid=author_key.keyid, now=now, nonces_seen=lookups.nonces_seen({s.approval.nonce for s in signed}),
        qa_approver_persons=qa_persons, verify_signature=approvals_mod.verify_approval,
    )
    if not tally.satisfied:
        refused = "; ".join(f"{Path(v.source).name}: {v.message}" for v in tally.verdicts if not v.counted)
        raise steps.fail(AdmissionCheck.APPROVALS, tally.reason + (f" ({refused})" if refused else ""))
    counted_sources = {v.source for v in tally.verdicts if v.counted}
    counted = tuple(s for s in signed if s.source in counted_sources)
    passed(AdmissionCheck.APPROVALS, f"{tally.count} of {tally.required} required {env_word} approvals, from "
           f"distinct people: {', '.join(tally.approvers)}")

    # 6. Production: the QA site's signed attestation, when the policy asks for it.
    attestation: bytes | None = None
    if rule.require_qa_attestation:
        if attested is None:
            raise steps.fail(AdmissionCheck.QA_ATTESTATION, "; ".join(r for r in refusals.values() if r) or (
                "production requires the QA site's signed admission of this package, and none came with it "
                "(airlock registry attest at the QA site writes one)"))
        attestation = attested.envelope
        key = _policy_key(policy, attested.signer_keyid)
        passed(AdmissionCheck.QA_ATTESTATION, f"admitted and canaried at QA site {attested.attestation.site!r} on "
               f"{attested.attestation.admitted_at} (signed by {key.person if key else attested.signer_keyid})")
    else:
        passed(AdmissionCheck.QA_ATTESTATION, f"trust policy {policy.version} does not require one for {env_word}",
               StepStatus.NOT_REQUIRED)

    # 7. The rubric.
    problem = evaluation.check_rubric(rule, manifest.rubric)
    if problem:
        raise steps.fail(AdmissionCheck.RUBRIC, problem)
    score = f"{manifest.rubric.score:g} ({manifest.rubric.band})" if manifest.rubric else "none"
    passed(AdmissionCheck.RUBRIC, f"score {score}; at least {rule.min_rubric_score:g} needed"
           + (f"; required tests passed: {', '.join(rule.required_tests)}" if rule.required_tests else ""))
    ctx.check()

    # 8. Only now is anything loaded: the canary, from the verified bytes, in a child.
    rows, worst, problem = _canary(package, manifest, files, unpacked.digests, ctx)
    if problem:
        raise steps.fail(AdmissionCheck.CANARY, problem)
    passed(AdmissionCheck.CANARY, f"{rows} canary rows scored in a child with no network; "
           f"largest difference from development {worst:g}")
    report = steps.report(True)
    return Admitted(report, digest, manifest, author_key, files, dict(unpacked.digests),
                    bytes(unpacked.bundle), counted, tuple(tally.approvers), attestation, chain, rows, worst)


def _read_small(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(MAX_STATEMENT_BYTES + 1)
    return data


def _predicate_type(data: bytes, source: str) -> object:
    """The predicate type a signed statement file declares (read strictly; nothing verified yet)."""
    from core.promotion import envelopes

    envelope = envelopes.read_envelope(data, source, payload_type=IN_TOTO_PAYLOAD_TYPE)
    statement = envelopes.parse_json(envelope.payload, source, what="statement")
    return statement.get("predicateType") if isinstance(statement, dict) else None


def _manifest_problem(manifest: Manifest, author_key: PolicyKey, files: dict[str, str],
                      policy: TrustPolicy, lookups: Lookups, digest: str) -> str | None:
    from core.promotion import evaluation

    if manifest.author_keyid != author_key.keyid:
        return (f"the manifest names author key {manifest.author_keyid[:16]}…, but the package is signed by "
                f"{author_key.keyid[:16]}…")
    missing = [a.path for a in manifest.artefacts if a.path not in files]
    if missing:
        return f"the manifest lists artefacts the package does not hold: {', '.join(missing)}"
    problem = evaluation.check_formats(policy, manifest.artefacts)
    if problem:
        return problem
    if lookups.admitted(digest):
        return f"{manifest.label} (package {digest[:16]}…) is admitted here already"
    newest = lookups.newest_version(manifest.model)
    if newest is not None and manifest.version <= newest:
        return (f"{manifest.label} is not newer than {manifest.model}@{newest}, admitted here already: an older "
                "package offered after a newer one is refused (roll back with airlock registry rollback instead)")
    return None


def _lineage_problem(manifest: Manifest, chain: bytes, lookups: Lookups) -> tuple[str | None, str]:
    try:
        hashes = json.loads(chain) if chain else None
    except ValueError:
        hashes = None
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        return f"the package has no readable {AUDIT_CHAIN_FILE}", ""
    if len(hashes) != manifest.audit_seq or (hashes and hashes[-1] != manifest.audit_hash):
        return (f"{AUDIT_CHAIN_FILE} does not end at the audit head the manifest records "
                f"(entry {manifest.audit_seq})"), ""
    seen = lookups.audit_source(manifest.source_workspace_id)
    source = f"development workspace {manifest.source_workspace_name!r}"
    if seen is None:
        return None, f"first package from {source}; its audit head (entry {manifest.audit_seq}) is remembered"
    seq, head, seen_chain = seen
    if manifest.audit_seq >= seq:
        if seq and hashes[seq - 1] != head:
            return (f"the audit log of {source} was rewritten: entry {seq} differs from the one a previous "
                    "package carried"), ""
        return None, f"the audit log of {source} grew from entry {seq} to {manifest.audit_seq}"
    try:
        known = json.loads(seen_chain)
    except ValueError:
        known = []
    if manifest.audit_seq == 0 or len(known) < manifest.audit_seq or known[manifest.audit_seq - 1] != manifest.audit_hash:
        return (f"the audit log of {source} was cut or rewritten: this package's head (entry {manifest.audit_seq}) "
                f"is not in the log a previous package carried (entry {seq})"), ""
    return None, f"built earlier than the newest package seen from {source}; its head is in that log"


def _canary(package: Path, manifest: Manifest, files: dict[str, bytearray], digests: dict[str, str],
            ctx: TaskContext) -> tuple[int, float, str | None]:
    from core.processes import run_in_child
    from core.promotion.canary import canary_in_child, compare

    spec = manifest.canary
    if spec is None:
        return 0, 0.0, "the package carries no canary batch (ML Test Score Infra 6): it cannot be checked here"
    pipeline = next((a for a in manifest.artefacts if a.format == "joblib"), None)
    if pipeline is None:
        return 0, 0.0, "the package has no pipeline artefact to score the canary with"
    from core.promotion import archive

    try:  # a pipeline too large to have been kept is read again and checked against its verified digest
        data = bytes(files[pipeline.path]) if pipeline.path in files else bytes(
            archive.read_member(package, pipeline.path, digests[pipeline.path]))
    except AirlockError as exc:
        return 0, 0.0, str(exc)
    try:
        expected = json.loads(bytes(files[spec.predictions_path]))
        rows = bytes(files[spec.rows_path])
    except (KeyError, ValueError) as exc:
        return 0, 0.0, f"the canary batch cannot be read ({exc})"
    try:
        # The digest the author's signature covers: the child hashes the bytes again before loading.
        got: list[object] = run_in_child(canary_in_child, data, digests[pipeline.path], rows,
                                         ctx=ctx, plain_result=True)
    except Cancelled:
        raise
    except AirlockError as exc:
        return 0, 0.0, f"the model could not score the canary batch: {exc}"
    if not isinstance(expected, list):
        return 0, 0.0, "the canary's development predictions are not a list"
    worst, problem = compare(expected, got, spec.tolerance)
    return len(got), worst, (f"the predictions differ from development: {problem}" if problem else None)
