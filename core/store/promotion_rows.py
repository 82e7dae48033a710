"""ORM rows of the promotion area, on the store's shared declarative ``Base``.

Rows never leave ``core.store``: :mod:`core.store.promotion_repo` converts them to the values in
:mod:`core.promotion.models`. An admitted package's files are blobs kept by the owner
``("admitted_package", id)``; its ``body`` is the canonical JSON of what was checked at admission.
Any change here needs an Alembic migration.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.store.schema import Base


class TrustPolicyRow(Base):
    """One installed version of the workspace's trust policy (``envelope``: the signed DSSE JSON)."""

    __tablename__ = "trust_policy"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    site: Mapped[str] = mapped_column(String(200))
    environment: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[str] = mapped_column(String(40))
    installed_at: Mapped[str] = mapped_column(String(40))
    installed_by: Mapped[str] = mapped_column(String(200))
    recovered: Mapped[bool] = mapped_column(Boolean)
    envelope: Mapped[str] = mapped_column(Text)


class ApprovalNonceRow(Base):
    """An approval's nonce, once it counted here: a replayed approval is refused."""

    __tablename__ = "approval_nonce"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    keyid: Mapped[str] = mapped_column(String(64))
    package_digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[str] = mapped_column(String(40))


class AuditSourceRow(Base):
    """The newest audit head seen from one development workspace, and the blob of its chain's hashes."""

    __tablename__ = "audit_source"

    workspace_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    chain_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[str] = mapped_column(String(40))


class AdmittedPackageRow(Base):
    """A package admitted here (``body``: the admission record's canonical JSON)."""

    __tablename__ = "admitted_package"
    __table_args__ = (UniqueConstraint("model", "version", name="uq_admitted_model_version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    package_digest: Mapped[str] = mapped_column(String(64), unique=True)
    admitted_at: Mapped[str] = mapped_column(String(40))
    admitted_by: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class AdmittedFileRow(Base):
    """One file of an admitted package: its path in the package and its blob."""

    __tablename__ = "admitted_file"

    package_id: Mapped[str] = mapped_column(ForeignKey("admitted_package.id", ondelete="RESTRICT"), primary_key=True)
    path: Mapped[str] = mapped_column(String(400), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)


class RegistryEventRow(Base):
    """One change of a model's registry (admit, promote, rollback), in order."""

    __tablename__ = "registry_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    previous: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[str] = mapped_column(String(40))
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
