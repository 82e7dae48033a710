"""Repository of the assessment area: rows in, domain values out.

Each function takes a :class:`~core.store.db.Transaction`; the assessment service decides
the transaction's extent and writes the audit event in the same one. Also gathers the
:class:`~core.assessment.models.WorkspaceFacts` that only the store can see.

The assessment and data areas do not know each other (an import-linter contract): the
dataset and schema counts are read with plain SQL on the data area's table names, never by
importing its rows or repository.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import delete, select, text

from core.assessment.models import (
    Answer,
    Assessment,
    AssessmentId,
    AssessmentStatus,
    DimensionId,
    EvidenceRef,
    ModelId,
    QuestionId,
    StoredModel,
    WorkspaceFacts,
)
from core.store import blobs
from core.store.assessment_rows import AssessmentAnswerRow, AssessmentModelRow, AssessmentRow
from core.store.db import Transaction, orm, utc_now
from core.store.schema import UserRow, WorkspaceRow


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


# --- model versions ----------------------------------------------------------------------

def _stored(row: AssessmentModelRow) -> StoredModel:
    return StoredModel(row.model_id, row.version, row.body, bool(row.builtin))


def stored_model(tx: Transaction, model_id: str, version: str) -> StoredModel | None:
    """One kept model version, or None."""
    row = orm(tx).get(AssessmentModelRow, (model_id, version))
    return _stored(row) if row else None


def model_digest(tx: Transaction, model_id: str, version: str) -> str | None:
    row = orm(tx).get(AssessmentModelRow, (model_id, version))
    return row.digest if row else None


def stored_models(tx: Transaction) -> list[StoredModel]:
    """Every kept model version, by model and then in the order they were imported."""
    rows = orm(tx).scalars(
        select(AssessmentModelRow).order_by(AssessmentModelRow.model_id, AssessmentModelRow.imported_at)
    )
    return [_stored(r) for r in rows]


def save_model(
    tx: Transaction, model_id: str, version: str, name: str, digest: str, body: str, builtin: bool
) -> bool:
    """Keep a model version; returns False when that exact version was already kept."""
    if orm(tx).get(AssessmentModelRow, (model_id, version)) is not None:
        return False
    orm(tx).add(
        AssessmentModelRow(
            model_id=model_id, version=version, name=name, digest=digest, body=body,
            builtin=int(builtin), imported_at=utc_now(), imported_by=tx.actor,
        )
    )
    orm(tx).flush()
    return True


# --- assessments -------------------------------------------------------------------------

def _answer(row: AssessmentAnswerRow) -> Answer:
    refs = tuple(EvidenceRef(**e) for e in json.loads(row.evidence or "[]"))
    return Answer(
        question_id=QuestionId(row.question_id), level=row.level, note=row.note,
        skip_reason=row.skip_reason, evidence=refs, answered_by=row.answered_by,
        answered_at=_when(row.answered_at),
    )


def _assessment(tx: Transaction, row: AssessmentRow) -> Assessment:
    answers = orm(tx).scalars(
        select(AssessmentAnswerRow).where(AssessmentAnswerRow.assessment_id == row.id)
    )
    return Assessment(
        id=AssessmentId(row.id), lineage_id=AssessmentId(row.lineage_id), revision=row.revision,
        unit=row.unit, assessors=tuple(json.loads(row.assessors)),
        assessed_on=dt.date.fromisoformat(row.assessed_on), model_id=ModelId(row.model_id),
        model_version=row.model_version, status=AssessmentStatus(row.status),
        targets={DimensionId(k): int(v) for k, v in json.loads(row.targets).items()},
        answers={QuestionId(a.question_id): _answer(a) for a in answers},
        created_by=row.created_by, created_at=_when(row.created_at),
        finalised_by=row.finalised_by, finalised_at=_when(row.finalised_at),
        supersedes=AssessmentId(row.supersedes) if row.supersedes else None,
    )


def get(tx: Transaction, assessment_id: str) -> Assessment | None:
    row = orm(tx).get(AssessmentRow, assessment_id)
    return _assessment(tx, row) if row else None


def find_by_prefix(tx: Transaction, prefix: str) -> list[str]:
    """Ids starting with ``prefix`` (so users can type the first characters)."""
    like = prefix.replace("%", "").replace("_", "\\_") + "%"
    return list(orm(tx).scalars(select(AssessmentRow.id).where(AssessmentRow.id.like(like, escape="\\"))))


def list_all(tx: Transaction, unit: str | None = None) -> list[Assessment]:
    query = select(AssessmentRow).order_by(
        AssessmentRow.unit, AssessmentRow.assessed_on, AssessmentRow.created_at
    )
    if unit is not None:
        query = query.where(AssessmentRow.unit == unit)
    return [_assessment(tx, r) for r in orm(tx).scalars(query)]


def insert(tx: Transaction, a: Assessment) -> None:
    orm(tx).add(
        AssessmentRow(
            id=a.id, lineage_id=a.lineage_id, revision=a.revision, unit=a.unit,
            assessors=json.dumps(list(a.assessors)), assessed_on=a.assessed_on.isoformat(),
            model_id=a.model_id, model_version=a.model_version, status=a.status.value,
            targets=json.dumps(dict(a.targets), sort_keys=True), created_by=tx.actor,
            created_at=utc_now(), supersedes=a.supersedes,
        )
    )
    orm(tx).flush()
    for ans in a.answers.values():
        put_answer(tx, a.id, ans, keep_author=True)


#: The owner kind of an evidence attachment in ``blob_ref`` (migration 0004 backfills it).
EVIDENCE_OWNER = "assessment"


def put_answer(tx: Transaction, assessment_id: str, ans: Answer, *, keep_author: bool = False) -> None:
    row = orm(tx).get(AssessmentAnswerRow, (assessment_id, ans.question_id))
    if row is None:
        row = AssessmentAnswerRow(assessment_id=assessment_id, question_id=ans.question_id)
        orm(tx).add(row)
    row.level = ans.level
    row.note = ans.note
    row.skip_reason = ans.skip_reason
    row.evidence = json.dumps(
        [{"digest": e.digest, "filename": e.filename, "size": e.size, "media_type": e.media_type}
         for e in ans.evidence]
    )
    if keep_author and ans.answered_at is not None:
        row.answered_by = ans.answered_by
        row.answered_at = ans.answered_at.isoformat()
    else:
        row.answered_by = tx.actor
        row.answered_at = utc_now()
    orm(tx).flush()
    for e in ans.evidence:  # an attachment lives while an assessment lists it (blob_ref)
        blobs.add_ref(tx, e.digest, blobs.BlobOwner(EVIDENCE_OWNER, assessment_id))


def delete_answer(tx: Transaction, assessment_id: str, question_id: str) -> bool:
    result = orm(tx).execute(
        delete(AssessmentAnswerRow).where(
            AssessmentAnswerRow.assessment_id == assessment_id,
            AssessmentAnswerRow.question_id == question_id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


def set_targets(tx: Transaction, assessment_id: str, targets: dict[str, int]) -> None:
    row = orm(tx).get(AssessmentRow, assessment_id)
    assert row is not None
    row.targets = json.dumps(targets, sort_keys=True)
    orm(tx).flush()


def set_details(
    tx: Transaction, assessment_id: str, *, unit: str, assessors: tuple[str, ...], assessed_on: dt.date
) -> None:
    row = orm(tx).get(AssessmentRow, assessment_id)
    assert row is not None
    row.unit = unit
    row.assessors = json.dumps(list(assessors))
    row.assessed_on = assessed_on.isoformat()
    orm(tx).flush()


def finalise(tx: Transaction, assessment_id: str) -> None:
    row = orm(tx).get(AssessmentRow, assessment_id)
    assert row is not None
    row.status = AssessmentStatus.FINAL.value
    row.finalised_by = tx.actor
    row.finalised_at = utc_now()
    orm(tx).flush()


def latest_revision(tx: Transaction, lineage_id: str) -> int:
    revs = orm(tx).scalars(select(AssessmentRow.revision).where(AssessmentRow.lineage_id == lineage_id))
    return max(revs, default=0)


def newest_in_lineage(tx: Transaction, lineage_id: str) -> Assessment | None:
    """The highest revision of a lineage (a draft when one is open, else the newest final)."""
    row = orm(tx).scalars(
        select(AssessmentRow).where(AssessmentRow.lineage_id == lineage_id)
        .order_by(AssessmentRow.revision.desc())
    ).first()
    return _assessment(tx, row) if row else None


def open_draft(tx: Transaction, lineage_id: str) -> Assessment | None:
    """The lineage's draft revision, if one is open (there is at most one)."""
    row = orm(tx).scalars(
        select(AssessmentRow).where(
            AssessmentRow.lineage_id == lineage_id, AssessmentRow.status == AssessmentStatus.DRAFT.value
        ).order_by(AssessmentRow.revision.desc())
    ).first()
    return _assessment(tx, row) if row else None


# --- workspace facts for evidence suggestions --------------------------------------------

def workspace_facts(tx: Transaction) -> WorkspaceFacts:
    """What the workspace records about its own practice, as it is now."""
    ws = orm(tx).get(WorkspaceRow, tx.workspace_id)
    by_role: dict[str, int] = {}
    active = 0
    for user in orm(tx).scalars(select(UserRow).where(UserRow.active == 1)):
        active += 1
        for role in filter(None, user.roles.split(",")):
            by_role[role] = by_role.get(role, 0) + 1
    last_backup = _when(ws.last_backup_at) if ws else None
    if last_backup is not None and last_backup.tzinfo is None:
        last_backup = last_backup.replace(tzinfo=dt.UTC)
    total, with_schema, reviewed = _dataset_schema_counts(tx)
    return WorkspaceFacts(
        collected_at=dt.datetime.now(dt.UTC),
        workspace_role=ws.role if ws else None,
        last_backup_at=last_backup,
        backups_recorded=last_backup is not None,
        users_by_role=by_role,
        active_users=active,
        audit_events=ws.audit_head_seq if ws else None,
        datasets_total=total,
        datasets_with_schema=with_schema,
        datasets_schema_reviewed=reviewed,
    )


#: The audit action the data area writes when a person edits a schema (its details name the
#: new ``revision``); read here as a record, not by importing the data area.
SCHEMA_EDITED = "dataset.schema_edited"


def _dataset_schema_counts(tx: Transaction) -> tuple[int, int, int]:
    """Datasets, datasets with a schema, and those whose newest schema a person edited.

    *Reviewed* means the newest schema revision of the dataset was written by a schema edit
    (audited as ``dataset.schema_edited`` with that revision), not only inferred: inference
    describes the data as it is, an edit is someone stating what it should be. A dataset
    re-inferred after an edit is no longer reviewed.
    """
    session = orm(tx)
    names = {
        str(r[0]): str(r[1]) for r in session.execute(text("SELECT id, name FROM dataset"))
    }
    newest = {
        str(r[0]): int(r[1])
        for r in session.execute(
            text("SELECT dataset_id, MAX(revision) FROM dataset_schema GROUP BY dataset_id")
        )
    }
    edited: set[tuple[str, int]] = set()
    rows = session.execute(
        text("SELECT subject, details FROM audit_event WHERE action = :action"), {"action": SCHEMA_EDITED}
    )
    for subject, details in rows:
        try:
            revision = json.loads(details or "{}").get("revision")
        except (ValueError, AttributeError):
            continue
        if isinstance(revision, int) and str(subject).startswith("dataset:"):
            edited.add((str(subject)[len("dataset:"):], revision))
    with_schema = [dataset_id for dataset_id in newest if dataset_id in names]
    reviewed = sum(1 for d in with_schema if (names[d], newest[d]) in edited)
    return len(names), len(with_schema), reviewed
