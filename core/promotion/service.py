"""The promotion service: build, review and approve packages; keep the trust policy; admit; the registry.

``PromotionService(store, actor)`` is what ``Engine.promotion`` returns.

* In a **development** workspace a member builds a package of a model version
  (:meth:`~PromotionService.build`, signed with their own key; an audited export).
* Anyone with a signing key reviews a package (:meth:`~PromotionService.review`, a query) and signs
  an approval or a rejection for QA or production (:meth:`~PromotionService.approve`); the
  statement is written beside the package and audited in the reviewer's workspace.
* In a **QA or production** workspace an administrator installs the signed trust policy
  (:meth:`~PromotionService.install_policy`; a new version needs the current administrators'
  threshold and its own; lost policy state needs :meth:`~PromotionService.recover_policy`).
  :meth:`~PromotionService.admit` runs :mod:`core.promotion.admission`; only a package that passes
  every step is stored (its files as blobs, its nonces used, the development audit head kept),
  in one audited transaction. A refusal raises ``AdmissionRefused`` and writes nothing.
* The registry: versions admitted, the champion, who made which version champion when and why;
  :meth:`~PromotionService.rollback` makes the previous champion current in one step, after
  checking it against the policy of the day, and records how long it took.

It reads other areas through their services and the store's repositories; it must not import the
facade or the CLI.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from core import outcome
from core.errors import AirlockError, InvalidInput, NotFound, PermissionDenied
from core.identity.models import ADMIN
from core.identity.service import require_member, require_role
from core.outcome import Change, Outcome, mutation, query
from core.promotion import review
from core.promotion.admission import (
    APPROVALS_SUFFIX,
    AUDIT_CHAIN_FILE,
    AdmissionRefused,
    Admitted,
    Lookups,
    approval_files,
    check_attestation,
    check_package,
    qa_approver_persons,
    usable,
)
from core.promotion.models import (
    AdmissionRecord,
    AdmissionReport,
    AdmissionStep,
    AdmittedVersion,
    Decision,
    Environment,
    InstalledPolicy,
    KeyRole,
    PackageSummary,
    RegistryAction,
    RegistryEvent,
    SiteAttestation,
    StoredPolicy,
    TrustPolicy,
)
from core.store import audit_repo, promotion_repo, workspace_repo
from core.store.db import Transaction, utc_now
from core.tasks import TaskContext

if TYPE_CHECKING:
    from core.promotion.keys import KeyStore
    from core.store.db import Store

_POLICY = outcome.changes(Change.POLICY)
#: The author's bundle is stored beside the content files under this name (no content path starts with "/").
BUNDLE_FILE = "/author.sig"
_REGISTRY = outcome.changes(Change.REGISTRY)
#: How long an approval stays usable by default.
APPROVAL_DAYS = 30


class PolicyMissing(AirlockError):
    """No trust policy is installed (or its stored state was lost): nothing can be admitted."""

    code = "policy_missing"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class PromotionService:
    """Packages, approvals, the trust policy, admission and the registry of one workspace, for one user."""

    def __init__(self, store: Store, actor: str, keys: KeyStore | None = None) -> None:
        self._store = store
        self._actor = actor
        self._keys = keys

    @property
    def keys(self) -> KeyStore:
        """The signing keys on this machine (the user's own and imported public keys)."""
        if self._keys is not None:
            return self._keys
        from core.promotion.keys import KeyStore

        return KeyStore()  # read each time: the folder follows $XDG_CONFIG_HOME

    def _role(self, tx: Transaction) -> str:
        return workspace_repo.workspace_record(tx).role

    # --- building ----------------------------------------------------------------------------

    @mutation
    def build(self, model_ref: str, dest: Path | str, *, signer: str, passphrase: str | None = None,
              ctx: TaskContext | None = None) -> Outcome[PackageSummary]:
        """Build the signed package of version ``model_ref`` into ``dest`` (an audited export).

        The package holds the manifest, the artefacts, the schema, the model card, the evidence
        (no raw rows), the rubric result, the report and a synthetic canary batch, signed by
        ``signer`` (a key id of one of the user's keys) in the OpenSSF model-signing format.

        Raises
        ------
        PermissionDenied
            Not a development workspace, or the user is not a member.
        NotFound
            No such model version or key.
        """
        from core.data.service import DatasetService
        from core.promotion import archive, author, contents
        from core.rubric.service import RubricService
        from core.store import exports
        from core.training.service import TrainingService
        from core.workspace.service import WorkspaceService

        out = exports.check_destination(self._store, dest, "build a package")
        with self._store.read(self._actor) as tx:
            require_member(tx, "build a package")
            role = self._role(tx)
        if role != "dev":
            raise PermissionDenied(f"Packages are built in a development workspace; this one is {role}.")
        key = self.keys.signer(signer, passphrase)
        info = WorkspaceService(self._store, None, self._actor).info()
        with self._store.read(self._actor) as tx:
            chain = audit_repo.hashes(tx, info.audit_head.seq)
        manifest, files = contents.gather_contents(
            TrainingService(self._store, self._actor), RubricService(self._store, self._actor),
            DatasetService(self._store, self._actor), model_ref, author=key.public.owner, author_keyid=key.keyid,
            source_workspace=info, ctx=ctx,
        )
        files[AUDIT_CHAIN_FILE] = json.dumps(chain).encode("ascii")
        digests = author.content_digests(files)  # hashed once: for the signature and for the summary
        bundle = author.sign_digests(digests, key.private_key)
        digest = author.root_digest(digests)
        with self._store.write(self._actor) as tx:
            archive.write_package(out, files, bundle)
            tx.audit("package.built", f"model:{manifest.label}", {
                "package_digest": digest, "file": out.name, "signer": key.keyid, "files": len(files),
                "audit_seq": manifest.audit_seq,
            })
        return Outcome(review.summary(out, digest, manifest, files, digests, True), outcome.changes())

    # --- reviewing and approving --------------------------------------------------------------

    @query
    def review(self, package: Path | str) -> PackageSummary:
        """What a reviewer sees before signing: the manifest, every file, the model card.

        The author's signature is checked against the author's public key when this machine
        knows it (imported with ``airlock keys import``, or listed in the installed policy);
        ``author_verified`` says whether it was (:func:`core.promotion.review.review_package`).
        """
        pems = [k.public.pem for k in self.keys.list()]
        installed = self._policy_or_none()
        if installed is not None:
            pems += [k.pem for k in installed.policy.keys]
        return review.review_package(package, pems)

    @mutation
    def approve(self, package: Path | str, *, environment: Environment | str, decision: Decision | str,
                comment: str, signer: str, passphrase: str | None = None, site: str | None = None,
                policy_version: int | None = None, valid_days: int = APPROVAL_DAYS) -> Outcome[Path]:
        """Sign an approval (or rejection) of ``package`` for ``environment``; written beside the package.

        The statement binds the package digest, the model and version, the environment and
        site, the decision and its meaning, the trust-policy version, the reviewer's key, the
        time, an expiry and a nonce. Site and policy version come from this workspace's policy
        when it is for that environment, else from ``site`` and ``policy_version``. Audited
        ``package.approved`` (or ``package.rejected``) here.

        Raises
        ------
        InvalidInput
            The author's signature could not be checked, the reviewer is the author, or the
            site or policy version is unknown.
        """
        from core.promotion import approvals

        env, dec = Environment(environment), Decision(decision)
        if not comment.strip():
            raise InvalidInput("Say why in a comment: it is part of what you sign.")
        summary = self.review(package)
        if not summary.author_verified:
            raise InvalidInput(f"The author's signature on {Path(package).name} cannot be checked here: import the "
                               f"author's public key first (key {summary.manifest.author_keyid[:16]}…).")
        with self._store.read(self._actor) as tx:
            require_member(tx, "approve a package")
        installed = self._policy_or_none()
        if installed is not None and installed.policy.environment == env:
            site = site or installed.policy.site
            policy_version = policy_version or installed.policy.version
        if not site or policy_version is None:
            raise InvalidInput("Name the target site and the trust-policy version you approve under "
                               "(--site, --policy-version): this workspace holds no policy for " + str(env) + ".")
        key = self.keys.signer(signer, passphrase)
        if key.keyid == summary.manifest.author_keyid:
            raise InvalidInput("You signed this package as its author: an author never approves their own model.")
        approval = approvals.new_approval(
            package_digest=summary.package_digest, model=summary.manifest.model, version=summary.manifest.version,
            environment=env, site=site, decision=dec, policy_version=policy_version, reviewer=key.public,
            comment=comment, valid_days=valid_days,
        )
        data = approvals.sign_approval(approval, key)
        path = Path(package)
        folder = path.with_name(path.name + APPROVALS_SUFFIX)
        out = folder / f"{env}-{dec}-{key.keyid[:12]}-{approval.nonce[:8]}.json"
        with self._store.write(self._actor) as tx:
            folder.mkdir(mode=0o755, exist_ok=True)
            _write_new(out, data)
            tx.audit(f"package.{'approved' if dec == Decision.APPROVE else 'rejected'}",
                     f"model:{summary.manifest.label}", {
                         "package_digest": summary.package_digest, "environment": str(env), "site": site,
                         "policy_version": policy_version, "reviewer_key": key.keyid, "nonce": approval.nonce,
                         "file": out.name, "comment": comment,
                     })
        return Outcome(out, outcome.changes())

    # --- the trust policy ---------------------------------------------------------------------

    def _policy_or_none(self) -> InstalledPolicy | None:
        with self._store.read(self._actor) as tx:
            history = promotion_repo.policy_history(tx)
        return self._verified(history) if history else None

    @staticmethod
    def _verified(history: Sequence[StoredPolicy]) -> InstalledPolicy:
        """The newest stored policy, after checking the whole chain of versions again.

        Each version must verify as it did when it was installed: the first (and any recovery) by
        its own administrators' threshold, every other one by its predecessor's and its own, at the
        time it was installed. So a policy written into the store by someone holding the
        workspace key but not the administrators' keys is refused, not trusted.
        """
        from core.promotion import policy as policy_mod

        current: TrustPolicy | None = None
        for stored in history:
            at = datetime.fromisoformat(stored.installed_at)
            try:
                current = policy_mod.verify_policy(stored.envelope, current=None if stored.recovered else current,
                                                   now=at, source=f"installed trust policy {stored.version}")
            except AirlockError as exc:
                raise PolicyMissing(f"The stored trust policy does not verify ({exc}): nothing can be admitted until "
                                    "an administrator recovers it (airlock policy recover).") from None
        newest = history[-1]
        assert current is not None
        return InstalledPolicy(current, newest.envelope, newest.installed_at, newest.installed_by, newest.recovered)

    @query
    def policy(self) -> InstalledPolicy | None:
        """The trust policy this workspace holds now, or None when none was installed."""
        return self._policy_or_none()

    @query
    def next_policy_draft(self) -> str:
        """The installed policy as an editable draft of its next version (for a rotation or a revocation).

        Raises
        ------
        PolicyMissing
            No policy is installed.
        """
        from core.promotion import drafts

        installed = self._policy_or_none()
        if installed is None:
            raise PolicyMissing("No trust policy is installed here: write a first one with airlock policy new.")
        return drafts.policy_to_draft(installed.policy, version=installed.policy.version + 1)

    @query
    def policy_history(self) -> list[StoredPolicy]:
        """Every version installed here, oldest first."""
        with self._store.read(self._actor) as tx:
            return promotion_repo.policy_history(tx)

    @mutation
    def install_policy(self, path: Path | str) -> Outcome[InstalledPolicy]:
        """Install a signed trust policy: a first one, or a newer version signed by the current
        administrators' threshold and its own. Administrators only; audited ``policy.installed``.

        Raises
        ------
        PolicyMissing
            A policy was installed here before and its state is gone: only a recovery installs one.
        """
        return self._install(Path(path), recover=False, reason="")

    @mutation
    def recover_policy(self, path: Path | str, reason: str) -> Outcome[InstalledPolicy]:
        """Install ``path`` after the stored policy state was lost, by an explicit administrator act.

        The policy must be signed by its own administrators' threshold and be newer than every
        version this workspace's audit log records; audited ``policy.recovered`` with ``reason``.
        """
        if not reason.strip():
            raise InvalidInput("A recovery needs a reason: it is recorded in the audit log.")
        return self._install(Path(path), recover=True, reason=reason)

    def _install(self, path: Path, *, recover: bool, reason: str) -> Outcome[InstalledPolicy]:
        from core.promotion import policy as policy_mod

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"Cannot read {path}: {exc.strerror}.") from None
        with self._store.read(self._actor) as tx:
            require_role(tx, ADMIN, "install a trust policy")
            role = self._role(tx)
            stored = promotion_repo.current_policy(tx)
            history = promotion_repo.policy_history(tx)
            recorded = _versions_in_log(tx)
        if role not in ("qa", "prod"):
            raise PermissionDenied(f"A trust policy belongs to a QA or production workspace; this one is {role}.")
        current: TrustPolicy | None = None
        if recover:
            newest = max(recorded, default=0)
        else:
            if stored is None and recorded:
                raise PolicyMissing(
                    f"This workspace had trust policy version {max(recorded)} and its stored state is gone: it will "
                    "not trust whatever policy is offered next. An administrator must recover it explicitly "
                    "(airlock policy recover FILE --reason …).")
            current = self._verified(history).policy if history else None
            newest = 0
        policy = policy_mod.verify_policy(data, current=current, now=_now(), source=path.name)
        if policy.environment != Environment(role):
            raise InvalidInput(f"{path.name} is a policy for {policy.environment}; this workspace is {role}.")
        if recover and policy.version <= newest:
            raise InvalidInput(f"A recovered policy must be newer than version {newest}, the newest this workspace's "
                               f"audit log records; {path.name} is version {policy.version}.")
        now = utc_now()
        entry = StoredPolicy(policy.version, policy.site, policy.environment, policy.expires_at, data, now,
                             self._actor, recover)
        with self._store.write(self._actor) as tx:
            require_role(tx, ADMIN, "install a trust policy")
            if promotion_repo.current_policy(tx) != stored:
                raise InvalidInput("The trust policy changed while this one was being checked; try again.")
            promotion_repo.add_policy(tx, entry)
            tx.audit("policy.recovered" if recover else "policy.installed", f"policy:{policy.site}", {
                "version": policy.version, "environment": str(policy.environment), "expires_at": policy.expires_at,
                "administrators": sorted({k.person for k in policy.administrators}),
                "threshold": policy.admin_threshold, "file": path.name, **({"reason": reason} if recover else {}),
            })
        return Outcome(InstalledPolicy(policy, data, now, self._actor, recover), _POLICY)

    # --- admission ----------------------------------------------------------------------------

    @mutation
    def admit(self, package: Path | str, approvals: Sequence[Path | str] = (), *, ctx: TaskContext | None = None,
              on_step: Callable[[AdmissionStep], None] | None = None) -> Outcome[AdmissionReport]:
        """Admit ``package`` into this QA or production workspace if it passes every check.

        The approvals and attestations are read from the package's ``.approvals`` folder and
        ``approvals``. Checks run in order and stop at the first failure (see
        :mod:`core.promotion.admission`); ``on_step`` hears each step as it ends.

        Raises
        ------
        AdmissionRefused
            A check failed; its report says which and why. Nothing was written.
        PolicyMissing
            No trust policy, or it expired.
        """
        from core.promotion import policy as policy_mod

        path = Path(package)
        with self._store.read(self._actor) as tx:
            require_member(tx, "admit a package")
            role = self._role(tx)
        if role not in ("qa", "prod"):
            raise PermissionDenied(f"Packages are admitted into QA or production workspaces; this one is {role}.")
        if self._store.read_only:
            from core.errors import ReadOnlyWorkspace

            raise ReadOnlyWorkspace("The workspace is open read-only: nothing can be admitted.")
        installed = self._policy_or_none()
        if installed is None:
            raise PolicyMissing("No trust policy is installed here: an administrator installs one first "
                                "(airlock policy install FILE).")
        policy = installed.policy
        now = _now()
        if policy_mod.is_expired(policy, now):
            raise PolicyMissing(f"Trust policy {policy.version} expired on {policy.expires_at}: it admits nothing "
                                "until the administrators sign a new version.")
        lookups = Lookups(self._newest, self._is_admitted, self._nonces, self._source)
        admitted = check_package(path, approval_files(path, [Path(p) for p in approvals]), policy=policy,
                                 lookups=lookups, now=now, ctx=ctx, on_step=on_step)
        manifest = admitted.manifest
        record = AdmissionRecord(
            id=str(uuid.uuid4()), package_digest=admitted.package_digest, manifest=manifest,
            author_keyid=admitted.author.keyid, approvals=tuple(a.envelope.decode("utf-8") for a in admitted.approvals),
            qa_attestation=admitted.attestation.decode("utf-8") if admitted.attestation else None,
            approvers=admitted.approvers, policy_version=policy.version, canary_rows=admitted.canary_rows,
            canary_max_difference=admitted.canary_max_difference, admitted_at=utc_now(), admitted_by=self._actor,
        )
        with self._store.write(self._actor) as tx:
            require_member(tx, "admit a package")
            if promotion_repo.admitted_digest(tx, admitted.package_digest) is not None:
                raise InvalidInput(f"{manifest.label} was admitted meanwhile.")
            used = promotion_repo.nonces_seen(tx, [a.approval.nonce for a in admitted.approvals])
            if used:
                raise InvalidInput("An approval of this package was used meanwhile; admit again.")
            promotion_repo.add_admitted(tx, record, _VerifiedFiles(path, admitted))
            promotion_repo.use_nonces(tx, [(a.approval.nonce, a.signer_keyid, admitted.package_digest)
                                           for a in admitted.approvals])
            promotion_repo.set_audit_source(tx, manifest.source_workspace_id, manifest.source_workspace_name,
                                            manifest.audit_seq, manifest.audit_hash, admitted.chain)
            promotion_repo.add_event(tx, manifest.model, RegistryAction.ADMIT, manifest.version,
                                     promotion_repo.champion(tx, manifest.model), "admitted")
            tx.audit("package.admitted", f"model:{manifest.label}", {
                "package_digest": admitted.package_digest, "policy_version": policy.version,
                "approvers": list(admitted.approvers), "author": admitted.author.person,
                "canary_rows": admitted.canary_rows, "canary_max_difference": admitted.canary_max_difference,
                "source_workspace": manifest.source_workspace_id, "source_audit_seq": manifest.audit_seq,
            })
        return Outcome(admitted.report, _REGISTRY)

    def _newest(self, model: str) -> int | None:
        with self._store.read(self._actor) as tx:
            return promotion_repo.newest_version(tx, model)

    def _is_admitted(self, digest: str) -> bool:
        with self._store.read(self._actor) as tx:
            return promotion_repo.admitted_digest(tx, digest) is not None

    def _nonces(self, nonces: Collection[str]) -> set[str]:
        with self._store.read(self._actor) as tx:
            return promotion_repo.nonces_seen(tx, nonces)

    def _source(self, workspace_id: str) -> tuple[int, str, bytes] | None:
        with self._store.read(self._actor) as tx:
            seen = promotion_repo.audit_source(tx, workspace_id)
            if seen is None:
                return None
            return seen[0], seen[1], promotion_repo.chain(tx, seen[2])

    @mutation
    def attest(self, model_ref: str, dest: Path | str, *, signer: str,
               passphrase: str | None = None) -> Outcome[Path]:
        """At a QA site: sign that ``model_ref`` was admitted and canaried here, for production to require.

        Written to ``dest`` (put it in the package's ``.approvals`` folder); audited ``package.attested``.
        """
        from core.promotion import approvals
        from core.store import exports

        out = exports.check_destination(self._store, dest, "write a site attestation")
        record = self._record(model_ref)
        installed = self._policy_or_none()
        if installed is None or installed.policy.environment != Environment.QA:
            raise PermissionDenied("Site attestations are signed in a QA workspace with a trust policy installed.")
        key = self.keys.signer(signer, passphrase)
        keyids = tuple(sorted(approvals.read_approval(a.encode("utf-8"), "stored approval").signer_keyid
                              for a in record.approvals))
        attestation = SiteAttestation(
            package_digest=record.package_digest, model=record.manifest.model, version=record.manifest.version,
            site=installed.policy.site, environment=Environment.QA,
            admitted_at=approvals.iso_utc(datetime.fromisoformat(record.admitted_at)),
            canary_rows=record.canary_rows, canary_max_difference=record.canary_max_difference,
            policy_version=record.policy_version, site_keyid=key.keyid, approver_keyids=keyids,
        )
        data = approvals.sign_attestation(attestation, key)
        with self._store.write(self._actor) as tx:
            require_member(tx, "write a site attestation")
            exports.write_export(tx, out, data)
            tx.audit("package.attested", f"model:{record.manifest.label}", {
                "package_digest": record.package_digest, "site_key": key.keyid, "file": out.name})
        return Outcome(out, outcome.changes())

    # --- the registry ----------------------------------------------------------------------------

    def _record(self, model_ref: str) -> AdmissionRecord:
        model, _, number = model_ref.partition("@")
        with self._store.read(self._actor) as tx:
            if number:
                if not number.isdigit():
                    raise InvalidInput(f"{model_ref!r}: a version is model@N.")
                found = promotion_repo.admitted_version(tx, model, int(number))
            else:
                newest = promotion_repo.newest_version(tx, model)
                found = promotion_repo.admitted_version(tx, model, newest) if newest is not None else None
        if found is None:
            raise NotFound(f"No admitted version {model_ref!r} here (airlock registry list shows them).")
        return found

    @query
    def registry(self, model: str | None = None) -> list[AdmittedVersion]:
        """Every admitted version (of ``model``), with which is champion."""
        with self._store.read(self._actor) as tx:
            records = promotion_repo.admitted(tx, model)
            champions = {m: promotion_repo.champion(tx, m) for m in {r.manifest.model for r in records}}
        return [AdmittedVersion(
            r.manifest.model, r.manifest.version, r.package_digest, r.manifest.author, r.admitted_at, r.admitted_by,
            r.policy_version, r.approvers, r.canary_rows, r.canary_max_difference,
            champions[r.manifest.model] == r.manifest.version) for r in records]

    @query
    def history(self, model: str | None = None) -> list[RegistryEvent]:
        """Who admitted, promoted or rolled back which version, when and why; oldest first."""
        with self._store.read(self._actor) as tx:
            return promotion_repo.events(tx, model)

    @query
    def champion(self, model: str) -> AdmittedVersion | None:
        """The version of ``model`` serving now, or None."""
        return next((v for v in self.registry(model) if v.champion), None)

    @query
    def admitted_files(self, model_ref: str) -> dict[str, bytes]:
        """The files of an admitted version, each checked against its blob hash."""
        record = self._record(model_ref)
        with self._store.read(self._actor) as tx:
            return {p: bytes(promotion_repo.file_bytes(tx, sha)) for p, sha in promotion_repo.files(tx, record.id).items()}

    def _still_trusted(self, record: AdmissionRecord) -> str | None:
        """Why ``record`` no longer satisfies the current policy (None when it does)."""
        from core.promotion import approvals as approvals_mod
        from core.promotion import author, evaluation
        from core.promotion import policy as policy_mod

        installed = self._policy_or_none()
        if installed is None:
            return "no trust policy is installed"
        policy = installed.policy
        if policy_mod.is_expired(policy, _now()):
            return f"trust policy {policy.version} expired on {policy.expires_at}"
        admitted_at = datetime.fromisoformat(record.admitted_at)
        key = next((k for k in policy.keys if k.keyid == record.author_keyid), None)
        why = "not listed" if key is None else usable(key, policy, KeyRole.AUTHOR, admitted_at)
        if why:
            return f"its author's key {record.author_keyid[:16]}… is no longer trusted by policy {policy.version} ({why})"
        assert key is not None
        # The recorded digests against the author's signature: each blob is checked against its own
        # digest whenever it is read, so the content itself need not be read (and hashed) again here.
        with self._store.read(self._actor) as tx:
            digests = promotion_repo.files(tx, record.id)
            bundle = bytes(promotion_repo.file_bytes(tx, digests.pop(BUNDLE_FILE)))
        try:
            author.verify_content(bundle, key.pem, digests)
        except AirlockError as exc:
            return f"its stored files no longer match its author's signature: {exc}"
        signed = [approvals_mod.read_approval(a.encode("utf-8"), f"approval stored with {record.manifest.label}")
                  for a in record.approvals]
        rule = policy.rule(policy.environment)
        if rule is None:
            return f"trust policy {policy.version} has no rule for {policy.environment}"
        qa_persons: tuple[str, ...] = ()
        if record.qa_attestation is not None:
            # The QA site's attestation that came with it: still signed by a site key the policy trusts,
            # and the people who approved for QA there still do not count for production here.
            attestation = approvals_mod.read_attestation(record.qa_attestation.encode("utf-8"), "stored attestation")
            refused = check_attestation(attestation, policy, record.package_digest, admitted_at)
            if refused:
                return f"the QA site's attestation no longer counts: {refused}"
            qa_persons = qa_approver_persons(attestation.attestation, policy)
        elif rule.require_qa_attestation:
            return f"trust policy {policy.version} requires the QA site's attestation, and it was admitted without one"
        tally = evaluation.evaluate_approvals(
            policy, policy.environment, signed, package_digest=record.package_digest, model=record.manifest.model,
            version=record.manifest.version, author_keyid=record.author_keyid, now=admitted_at, nonces_seen=(),
            qa_approver_persons=qa_persons, verify_signature=approvals_mod.verify_approval,
        )
        if not tally.satisfied:
            return tally.reason
        return evaluation.check_rubric(rule, record.manifest.rubric)

    @mutation
    def promote(self, model_ref: str, reason: str) -> Outcome[RegistryEvent]:
        """Make admitted version ``model_ref`` the champion; audited ``registry.promoted`` with the reason."""
        return self._set_champion(model_ref, reason, RegistryAction.PROMOTE, time.perf_counter())

    @mutation
    def rollback(self, model: str, reason: str) -> Outcome[RegistryEvent]:
        """Make the previous champion of ``model`` current again, in one step; audited with its reason
        and how long it took (ML Test Score Infra 7). The version must still satisfy the current policy."""
        started = time.perf_counter()
        with self._store.read(self._actor) as tx:
            events = promotion_repo.events(tx, model)
        previous = _previous_champion(events)
        if previous is None:
            raise InvalidInput(f"{model} has no previous champion to roll back to.")
        return self._set_champion(f"{model}@{previous}", reason, RegistryAction.ROLLBACK, started)

    def _set_champion(self, model_ref: str, reason: str, action: RegistryAction,
                      started: float) -> Outcome[RegistryEvent]:
        if not reason.strip():
            raise InvalidInput("Say why: the reason is recorded in the registry's history and the audit log.")
        with self._store.read(self._actor) as tx:
            require_member(tx, "change the champion")
        record = self._record(model_ref)
        why = self._still_trusted(record)
        if why:
            raise PermissionDenied(f"{record.manifest.label} cannot become champion: {why}.")
        model, version = record.manifest.model, record.manifest.version
        with self._store.write(self._actor) as tx:
            require_member(tx, "change the champion")
            current = promotion_repo.champion(tx, model)
            if current == version:
                raise InvalidInput(f"{record.manifest.label} is the champion already.")
            duration = time.perf_counter() - started if action == RegistryAction.ROLLBACK else None
            event = promotion_repo.add_event(tx, model, action, version, current, reason, duration)
            tx.audit(f"registry.{'rolled_back' if action == RegistryAction.ROLLBACK else 'promoted'}",
                     f"model:{record.manifest.label}", {
                         "previous": current, "reason": reason, "package_digest": record.package_digest,
                         **({"duration_seconds": round(duration, 4)} if duration is not None else {}),
                     })
        return Outcome(event, _REGISTRY)


class _VerifiedFiles(Mapping[str, bytes]):
    """The files to store for an admission: those kept in memory, and the large ones read again from
    the package one at a time, each refused unless it still hashes to the digest that was verified."""

    def __init__(self, package: Path, admitted: Admitted) -> None:
        self._package, self._admitted = package, admitted
        self._names = sorted([*admitted.digests, BUNDLE_FILE])

    def __getitem__(self, name: str) -> bytes:
        from core.promotion import archive

        if name == BUNDLE_FILE:
            return self._admitted.bundle
        if name in self._admitted.files:
            return bytes(self._admitted.files[name])
        if name not in self._admitted.digests:
            raise KeyError(name)
        return bytes(archive.read_member(self._package, name, self._admitted.digests[name]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _previous_champion(events: Sequence[RegistryEvent]) -> int | None:
    """The champion before the current one: undoing promotions in order, like a stack."""
    stack: list[int] = []
    for event in events:
        if event.action == RegistryAction.PROMOTE:
            stack.append(event.version)
        elif event.action == RegistryAction.ROLLBACK:
            while stack and stack[-1] != event.version:
                stack.pop()
            if not stack:
                stack.append(event.version)
    return stack[-2] if len(stack) >= 2 else None


def _versions_in_log(tx: Transaction) -> list[int]:
    """Policy versions the audit log says were installed or recovered here."""
    events, _ = audit_repo.query_events(tx, limit=10_000, action="policy.")
    return [int(e.details["version"]) for e in events if isinstance(e.details.get("version"), int)]


def _write_new(path: Path, data: bytes) -> None:
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


_ = (AdmissionRefused, timedelta)
