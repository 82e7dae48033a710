"""Repository of the rubric area: rows in, :mod:`core.rubric.models` values out.

Each function takes a :class:`~core.store.db.Transaction`; the rubric service decides the
transaction's extent and writes the audit event in the same one. An attestation's evidence
files are blobs kept by the owner ``("rubric_attestation", id)``.
"""

from __future__ import annotations

from sqlalchemy import func, select

from core import formats
from core.rubric.models import Attestation, RubricPolicy, RubricResult
from core.store import blobs
from core.store.db import Transaction, orm
from core.store.rubric_rows import RubricAttestationRow, RubricPolicyRow, RubricResultRow

#: The owner kind of an attestation's evidence-file blobs in ``blob_ref``.
ATTESTATION_OWNER = "rubric_attestation"


# --- results --------------------------------------------------------------------------------


def add_result(tx: Transaction, result: RubricResult) -> RubricResult:
    orm(tx).add(RubricResultRow(id=result.id, model_version_id=result.model_version_id,
                                created_at=result.created_at, body=formats.dumps(result).decode("utf-8")))
    orm(tx).flush()
    return result


def _result(row: RubricResultRow) -> RubricResult:
    return formats.loads(RubricResult, row.body, source=f"rubric result {row.id[:8]}")


def results(tx: Transaction, model_version_id: str) -> list[RubricResult]:
    """Every rubric result of a model version, oldest first."""
    rows = orm(tx).scalars(select(RubricResultRow).where(RubricResultRow.model_version_id == model_version_id)
                           .order_by(RubricResultRow.created_at, RubricResultRow.id))
    return [_result(r) for r in rows]


def latest_result(tx: Transaction, model_version_id: str) -> RubricResult | None:
    row = orm(tx).scalars(select(RubricResultRow).where(RubricResultRow.model_version_id == model_version_id)
                          .order_by(RubricResultRow.created_at.desc(), RubricResultRow.id.desc())).first()
    return _result(row) if row else None


def result_by_prefix(tx: Transaction, prefix: str) -> list[RubricResult]:
    """Results whose id starts with ``prefix`` (ids are shown shortened)."""
    rows = orm(tx).scalars(select(RubricResultRow).where(RubricResultRow.id.startswith(prefix, autoescape=True)))
    return [_result(r) for r in rows]


# --- attestations -----------------------------------------------------------------------------


def add_attestation(tx: Transaction, attestation: Attestation, files: dict[str, bytes]) -> Attestation:
    """Store ``attestation`` and its evidence files as blobs kept by it.

    ``attestation.evidence_files`` names each file and its SHA-256; the bytes in ``files``
    must hash to them.
    """
    orm(tx).add(RubricAttestationRow(
        id=attestation.id, model_version_id=attestation.model_version_id, test_id=attestation.test_id,
        attested_by=attestation.attested_by, attested_at=attestation.attested_at,
        expires_at=attestation.expires_at, body=formats.dumps(attestation).decode("utf-8"),
    ))
    orm(tx).flush()
    owner = blobs.BlobOwner(ATTESTATION_OWNER, attestation.id)
    for name, sha in attestation.evidence_files:
        stored = blobs.put_bytes(tx, files[name], owner=owner)
        if stored.sha256 != sha:
            raise ValueError(f"evidence file {name} hashes to {stored.sha256}, not {sha}")
    orm(tx).flush()
    return attestation


def attestations(tx: Transaction, model_version_id: str) -> list[Attestation]:
    """Every attestation of a model version (expired ones too), oldest first."""
    rows = orm(tx).scalars(select(RubricAttestationRow)
                           .where(RubricAttestationRow.model_version_id == model_version_id)
                           .order_by(RubricAttestationRow.attested_at, RubricAttestationRow.id))
    return [formats.loads(Attestation, r.body, source=f"attestation {r.id[:8]}") for r in rows]


# --- policy ---------------------------------------------------------------------------------


def policy(tx: Transaction) -> RubricPolicy | None:
    """The newest stored policy, or None when the workspace still uses the built-in defaults."""
    row = orm(tx).scalars(select(RubricPolicyRow).order_by(RubricPolicyRow.version.desc())).first()
    return formats.loads(RubricPolicy, row.body, source=f"rubric policy {row.version}") if row else None


def policy_version(tx: Transaction, version: int) -> RubricPolicy | None:
    row = orm(tx).get(RubricPolicyRow, version)
    return formats.loads(RubricPolicy, row.body, source=f"rubric policy {row.version}") if row else None


def newest_policy_version(tx: Transaction) -> int:
    return int(orm(tx).scalar(select(func.max(RubricPolicyRow.version))) or 0)


def add_policy(tx: Transaction, policy_: RubricPolicy) -> RubricPolicy:
    orm(tx).add(RubricPolicyRow(version=policy_.version, set_by=policy_.set_by, set_at=policy_.set_at,
                                body=formats.dumps(policy_).decode("utf-8")))
    orm(tx).flush()
    return policy_
