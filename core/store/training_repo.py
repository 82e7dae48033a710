"""Repository of the training area: rows in, :mod:`core.training.models` values out.

Each function takes a :class:`~core.store.db.Transaction`; the training service decides the
transaction's extent and writes the audit event in the same one. A model version's
artefacts and plots are blobs kept by the owner ``("model_version", id)``.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from core import formats
from core.store import blobs
from core.store.db import Transaction, orm, utc_now
from core.store.training_rows import (
    ModelEvidenceRow,
    ModelPlotRow,
    ModelRow,
    ModelVersionRow,
    TrainingRunRow,
    TrainingSpecRow,
)
from core.training.models import (
    EvidenceItem,
    ModelVersion,
    ModelVersionId,
    RunId,
    RunStatus,
    TrainingRun,
    TrainingSpec,
    spec_hash,
)

#: The owner kind of a model version's artefact and plot blobs in ``blob_ref``.
VERSION_OWNER = "model_version"


# --- specs ----------------------------------------------------------------------------------


def save_spec(tx: Transaction, spec: TrainingSpec) -> tuple[str, bool]:
    """Keep ``spec`` under its hash (once); returns the hash and whether it was new."""
    digest = spec_hash(spec)
    if orm(tx).get(TrainingSpecRow, digest) is not None:
        return digest, False
    orm(tx).add(TrainingSpecRow(hash=digest, body=formats.dumps(spec).decode("utf-8"), created_by=tx.actor,
                                created_at=utc_now()))
    orm(tx).flush()
    return digest, True


def spec(tx: Transaction, digest: str) -> TrainingSpec | None:
    row = orm(tx).get(TrainingSpecRow, digest)
    return formats.loads(TrainingSpec, row.body, source=f"spec {digest[:12]}") if row else None


# --- runs -----------------------------------------------------------------------------------


def _run(row: TrainingRunRow) -> TrainingRun:
    return TrainingRun(
        id=RunId(row.id), spec_hash=row.spec_hash, model=row.model, status=RunStatus(row.status),
        started_at=row.started_at, finished_at=row.finished_at, error=row.error,
        model_version=ModelVersionId(row.model_version) if row.model_version else None, trials=row.trials,
    )


def add_run(tx: Transaction, run: TrainingRun) -> TrainingRun:
    orm(tx).add(TrainingRunRow(
        id=run.id, spec_hash=run.spec_hash, model=run.model, status=run.status, started_by=tx.actor,
        started_at=run.started_at, finished_at=run.finished_at, error=run.error, model_version=run.model_version,
        trials=run.trials,
    ))
    orm(tx).flush()
    return run


def finish_run(tx: Transaction, run_id: str, status: RunStatus, *, error: str | None = None,
               model_version: str | None = None, trials: int | None = None) -> TrainingRun:
    row = orm(tx).get(TrainingRunRow, run_id)
    if row is None:
        raise KeyError(run_id)
    row.status = status
    row.finished_at = utc_now()
    row.error = error
    row.model_version = model_version
    if trials is not None:
        row.trials = trials
    orm(tx).flush()
    return _run(row)


def run(tx: Transaction, run_id: str) -> TrainingRun | None:
    row = orm(tx).get(TrainingRunRow, run_id)
    return _run(row) if row else None


def run_by_prefix(tx: Transaction, prefix: str) -> list[TrainingRun]:
    """Runs whose id starts with ``prefix`` (ids are shown shortened)."""
    rows = orm(tx).scalars(select(TrainingRunRow).where(TrainingRunRow.id.startswith(prefix, autoescape=True)))
    return [_run(r) for r in rows]


def runs(tx: Transaction) -> list[TrainingRun]:
    rows = orm(tx).scalars(select(TrainingRunRow).order_by(TrainingRunRow.started_at, TrainingRunRow.id))
    return [_run(r) for r in rows]


def run_status(tx: Transaction, run_id: str) -> RunStatus | None:
    status = orm(tx).scalar(select(TrainingRunRow.status).where(TrainingRunRow.id == run_id))
    return RunStatus(status) if status else None


# --- models and versions ----------------------------------------------------------------------


def ensure_model(tx: Transaction, name: str) -> bool:
    """Create model ``name`` when new; whether it was created."""
    if orm(tx).get(ModelRow, name) is not None:
        return False
    orm(tx).add(ModelRow(name=name, created_by=tx.actor, created_at=utc_now()))
    orm(tx).flush()
    return True


def next_number(tx: Transaction, model: str) -> int:
    current = orm(tx).scalar(select(func.max(ModelVersionRow.number)).where(ModelVersionRow.model == model))
    return int(current or 0) + 1


def _version(row: ModelVersionRow) -> ModelVersion:
    return formats.loads(ModelVersion, row.body, source=f"model {row.model}@{row.number}")


def add_version(tx: Transaction, version: ModelVersion, artefacts: dict[str, bytes],
                evidence: tuple[EvidenceItem, ...], plots: tuple[tuple[str, bytes], ...]) -> ModelVersion:
    """Store ``version`` with its artefact and plot blobs (kept by the version) and its evidence rows.

    ``version.artefacts`` names each artefact and its SHA-256; the bytes in ``artefacts``
    must hash to them (the blob store computes the hash).
    """
    orm(tx).add(ModelVersionRow(id=version.id, model=version.model, number=version.number,
                                body=formats.dumps(version).decode("utf-8"), created_at=version.created_at))
    orm(tx).flush()
    owner = blobs.BlobOwner(VERSION_OWNER, version.id)
    for name, sha in version.artefacts:
        stored = blobs.put_bytes(tx, artefacts[name], owner=owner)
        if stored.sha256 != sha:
            raise ValueError(f"artefact {name} hashes to {stored.sha256}, not {sha}")
    for name, png in plots:
        stored = blobs.put_bytes(tx, png, owner=owner)
        orm(tx).add(ModelPlotRow(version_id=version.id, name=name, sha256=stored.sha256))
    for item in evidence:
        orm(tx).add(ModelEvidenceRow(version_id=version.id, kind=str(item.kind),
                                     body=formats.dumps(item).decode("utf-8")))
    orm(tx).flush()
    return version


def models(tx: Transaction) -> list[str]:
    return list(orm(tx).scalars(select(ModelRow.name).order_by(ModelRow.name)))


def versions(tx: Transaction, model: str) -> list[ModelVersion]:
    rows = orm(tx).scalars(select(ModelVersionRow).where(ModelVersionRow.model == model)
                           .order_by(ModelVersionRow.number))
    return [_version(r) for r in rows]


def version(tx: Transaction, model: str, number: int | None) -> ModelVersion | None:
    """Version ``number`` of ``model`` (the latest when None), or None."""
    query = select(ModelVersionRow).where(ModelVersionRow.model == model)
    query = query.order_by(ModelVersionRow.number.desc()) if number is None else query.where(
        ModelVersionRow.number == number)
    row = orm(tx).scalars(query).first()
    return _version(row) if row else None


def version_by_id(tx: Transaction, version_id: str) -> ModelVersion | None:
    row = orm(tx).get(ModelVersionRow, version_id)
    return _version(row) if row else None


def evidence(tx: Transaction, version_id: str, source: str) -> tuple[EvidenceItem, ...]:
    """The version's evidence items, each read back by its stored ``format`` name."""
    rows = orm(tx).scalars(select(ModelEvidenceRow).where(ModelEvidenceRow.version_id == version_id)
                           .order_by(ModelEvidenceRow.kind))
    out: list[EvidenceItem] = []
    for row in rows:
        name = json.loads(row.body).get("format") or f"airlock.evidence.{row.kind}"
        out.append(formats.loads(str(name), row.body, source=f"{source}, evidence {row.kind}"))
    return tuple(out)


def plots(tx: Transaction, version_id: str) -> list[tuple[str, str]]:
    """``(name, sha256)`` of the version's plots, by name."""
    rows = orm(tx).scalars(select(ModelPlotRow).where(ModelPlotRow.version_id == version_id)
                           .order_by(ModelPlotRow.name))
    return [(r.name, r.sha256) for r in rows]
