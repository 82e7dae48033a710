"""Repository of the promotion area: rows in, :mod:`core.promotion.models` values out.

Each function takes a :class:`~core.store.db.Transaction`; the promotion service decides the
transaction's extent, verifies signatures and writes the audit event in the same transaction.
An admitted package's files are blobs kept by the owner ``("admitted_package", id)``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from sqlalchemy import select

from core import formats
from core.promotion.models import (
    AdmissionRecord,
    Environment,
    RegistryAction,
    RegistryEvent,
    StoredPolicy,
)
from core.store import blobs
from core.store.db import Transaction, orm, utc_now
from core.store.promotion_rows import (
    AdmittedFileRow,
    AdmittedPackageRow,
    ApprovalNonceRow,
    AuditSourceRow,
    RegistryEventRow,
    TrustPolicyRow,
)

#: The owner kind of an admitted package's file blobs in ``blob_ref``.
PACKAGE_OWNER = "admitted_package"


# --- the trust policy ------------------------------------------------------------------------


def _policy(row: TrustPolicyRow) -> StoredPolicy:
    return StoredPolicy(row.version, row.site, Environment(row.environment), row.expires_at,
                        row.envelope.encode("utf-8"), row.installed_at, row.installed_by, row.recovered)


def current_policy(tx: Transaction) -> StoredPolicy | None:
    """The newest installed version, or None when none was ever installed (or the rows are gone)."""
    row = orm(tx).scalars(select(TrustPolicyRow).order_by(TrustPolicyRow.version.desc())).first()
    return _policy(row) if row else None


def policy_history(tx: Transaction) -> list[StoredPolicy]:
    """Every installed version, oldest first."""
    return [_policy(r) for r in orm(tx).scalars(select(TrustPolicyRow).order_by(TrustPolicyRow.version))]


def add_policy(tx: Transaction, stored: StoredPolicy) -> StoredPolicy:
    orm(tx).add(TrustPolicyRow(
        version=stored.version, site=stored.site, environment=str(stored.environment), expires_at=stored.expires_at,
        installed_at=stored.installed_at, installed_by=stored.installed_by, recovered=stored.recovered,
        envelope=stored.envelope.decode("utf-8"),
    ))
    orm(tx).flush()
    return stored


# --- nonces ------------------------------------------------------------------------------------


def nonces_seen(tx: Transaction, nonces: Collection[str]) -> set[str]:
    """Those of ``nonces`` that already counted at this workspace."""
    if not nonces:
        return set()
    return set(orm(tx).scalars(select(ApprovalNonceRow.nonce).where(ApprovalNonceRow.nonce.in_(list(nonces)))))


def use_nonces(tx: Transaction, used: Iterable[tuple[str, str, str]]) -> None:
    """Record ``(nonce, keyid, package_digest)`` triples as used now."""
    at = utc_now()
    for nonce, keyid, digest in used:
        orm(tx).add(ApprovalNonceRow(nonce=nonce, keyid=keyid, package_digest=digest, used_at=at))
    orm(tx).flush()


# --- development audit heads -----------------------------------------------------------------


def audit_source(tx: Transaction, workspace_id: str) -> tuple[int, str, str] | None:
    """``(seq, hash, chain blob sha256)`` of the newest head seen from that workspace."""
    row = orm(tx).get(AuditSourceRow, workspace_id)
    return (row.seq, row.hash, row.chain_sha256) if row else None


def set_audit_source(tx: Transaction, workspace_id: str, name: str, seq: int, head: str, chain: bytes) -> None:
    """Remember the head ``(seq, head)`` from ``workspace_id`` and its chain's hashes (a blob kept by it)."""
    info = blobs.put_bytes(tx, chain, owner=blobs.BlobOwner("audit_source", workspace_id))
    row = orm(tx).get(AuditSourceRow, workspace_id)
    if row is None:
        orm(tx).add(AuditSourceRow(workspace_id=workspace_id, name=name, seq=seq, hash=head,
                                   chain_sha256=info.sha256, updated_at=utc_now()))
    else:
        row.name, row.seq, row.hash, row.chain_sha256, row.updated_at = name, seq, head, info.sha256, utc_now()
    orm(tx).flush()


def chain(tx: Transaction, sha256: str) -> bytes:
    return bytes(blobs.read_bytes(tx, sha256))


# --- admitted packages -----------------------------------------------------------------------


def _record(row: AdmittedPackageRow) -> AdmissionRecord:
    return formats.loads(AdmissionRecord, row.body, source=f"admission of {row.model}@{row.version}")


def add_admitted(tx: Transaction, record: AdmissionRecord, files: Mapping[str, bytes | bytearray | memoryview]) -> None:
    """Store the admission and every file of the package as a blob kept by it."""
    manifest = record.manifest
    orm(tx).add(AdmittedPackageRow(
        id=record.id, model=manifest.model, version=manifest.version, package_digest=record.package_digest,
        admitted_at=record.admitted_at, admitted_by=record.admitted_by, body=formats.dumps(record).decode("utf-8"),
    ))
    orm(tx).flush()
    owner = blobs.BlobOwner(PACKAGE_OWNER, record.id)
    for path in sorted(files):
        data = files[path]
        info = blobs.put_bytes(tx, bytes(data), owner=owner)
        orm(tx).add(AdmittedFileRow(package_id=record.id, path=path, sha256=info.sha256, size=info.size))
    orm(tx).flush()


def admitted(tx: Transaction, model: str | None = None) -> list[AdmissionRecord]:
    """Admitted packages (of ``model``), by model then version."""
    stmt = select(AdmittedPackageRow).order_by(AdmittedPackageRow.model, AdmittedPackageRow.version)
    if model is not None:
        stmt = stmt.where(AdmittedPackageRow.model == model)
    return [_record(r) for r in orm(tx).scalars(stmt)]


def admitted_version(tx: Transaction, model: str, version: int) -> AdmissionRecord | None:
    row = orm(tx).scalars(select(AdmittedPackageRow).where(
        AdmittedPackageRow.model == model, AdmittedPackageRow.version == version)).first()
    return _record(row) if row else None


def admitted_digest(tx: Transaction, package_digest: str) -> AdmissionRecord | None:
    row = orm(tx).scalars(select(AdmittedPackageRow).where(AdmittedPackageRow.package_digest == package_digest)).first()
    return _record(row) if row else None


def newest_version(tx: Transaction, model: str) -> int | None:
    row = orm(tx).scalars(select(AdmittedPackageRow.version).where(AdmittedPackageRow.model == model)
                          .order_by(AdmittedPackageRow.version.desc())).first()
    return int(row) if row is not None else None


def files(tx: Transaction, package_id: str) -> dict[str, str]:
    """``{path: sha256}`` of an admitted package's files."""
    rows = orm(tx).scalars(select(AdmittedFileRow).where(AdmittedFileRow.package_id == package_id))
    return {r.path: r.sha256 for r in rows}


def file_bytes(tx: Transaction, sha256: str) -> bytearray:
    return blobs.read_bytes(tx, sha256)


# --- the registry ----------------------------------------------------------------------------


def _event(row: RegistryEventRow) -> RegistryEvent:
    return RegistryEvent(row.seq, row.model, RegistryAction(row.action), row.version, row.previous, row.reason,
                         row.actor, row.at, row.duration_seconds)


def add_event(tx: Transaction, model: str, action: RegistryAction, version: int, previous: int | None,
              reason: str, duration_seconds: float | None = None) -> RegistryEvent:
    row = RegistryEventRow(model=model, action=str(action), version=version, previous=previous, reason=reason,
                           actor=tx.actor, at=utc_now(), duration_seconds=duration_seconds)
    orm(tx).add(row)
    orm(tx).flush()
    return _event(row)


def events(tx: Transaction, model: str | None = None) -> list[RegistryEvent]:
    """The registry's history (of ``model``), oldest first."""
    stmt = select(RegistryEventRow).order_by(RegistryEventRow.seq)
    if model is not None:
        stmt = stmt.where(RegistryEventRow.model == model)
    return [_event(r) for r in orm(tx).scalars(stmt)]


def champion(tx: Transaction, model: str) -> int | None:
    """The version the newest promote or rollback made current, or None."""
    row = orm(tx).scalars(select(RegistryEventRow).where(
        RegistryEventRow.model == model,
        RegistryEventRow.action.in_([str(RegistryAction.PROMOTE), str(RegistryAction.ROLLBACK)]),
    ).order_by(RegistryEventRow.seq.desc())).first()
    return row.version if row else None
