"""The assessment service: what ``engine.assessments`` offers the desktop and the CLI.

Mutations check the acting user's role (analyst or admin), write their audit event in the
same transaction, and return an :class:`~core.outcome.Outcome`. A final assessment is
locked: a change to it goes into the assessment's open draft revision, or, when none is
open, into a new draft revision (audited) copied from the newest final one; the final one
stays as it was. A lineage has at most one draft at a time. Every model version an assessment uses is kept in the
workspace, so an assessment can always be read against the exact version it recorded.
"""

from __future__ import annotations

import builtins
import datetime as dt
import difflib
import json
import mimetypes
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from core import outcome
from core.assessment import answer_file, catalogue, evidence, recommendations, scoring
from core.assessment.models import (
    Answer,
    Assessment,
    AssessmentId,
    AssessmentScore,
    AssessmentStatus,
    Comparison,
    Completion,
    DimensionId,
    EvidenceRef,
    EvidenceSuggestion,
    MaturityModel,
    ModelId,
    ModelSummary,
    PlannedStep,
    QuestionId,
    StoredModel,
    UnansweredQuestions,
)
from core.assessment.report import ReportData
from core.audit.chain import verify_chain
from core.errors import InvalidInput, NotFound
from core.identity.models import ANALYST
from core.identity.service import require_role
from core.outcome import Change, Outcome, mutation, query
from core.store import assessment_repo as repo
from core.store import audit_repo, blobs, exports
from core.store.db import Store, Transaction

#: The name of the area in ``Outcome.changes``.
_CHANGES = outcome.changes(Change.ASSESSMENTS)
_MAX_EVIDENCE_BYTES = 50 * 1024 * 1024
#: Up to this many questions, an unknown question id is answered with every valid one.
_LIST_ALL_QUESTIONS = 12


class AssessmentService:
    """Maturity assessments of organisation units against versioned models."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor
        self._builtins = {m.id: m for m in catalogue.builtin_models()}
        self._raw_builtins = {
            json.loads(t)["id"]: t for t in catalogue.builtin_model_texts().values()
        }

    # --- models --------------------------------------------------------------------------

    @query
    def models(self) -> list[ModelSummary]:
        """Every model available: the built-ins, then each imported version."""
        out = [catalogue.summarise(m) for m in self._builtins.values()]
        with self._store.read(self._actor) as tx:
            for kept in repo.stored_models(tx):
                builtin = self._builtins.get(ModelId(kept.model_id)) if kept.builtin else None
                if builtin is not None and builtin.version == kept.version:
                    continue
                out.append(catalogue.summarise(_parse(kept)))
        return out

    @query
    def model(self, model_id: str, version: str | None = None) -> MaturityModel:
        """A model by id, at ``version`` or, without one, its newest available version.

        Raises
        ------
        NotFound
            No such model or version in Airlock or this workspace.
        """
        builtin = self._builtins.get(ModelId(model_id))
        if builtin is not None and version in (None, builtin.version):
            return builtin
        with self._store.read(self._actor) as tx:
            if version is not None:
                found = repo.stored_model(tx, model_id, version)
                if found is None:
                    raise NotFound(f"No model {model_id!r} version {version!r} in this workspace.")
                return _parse(found)
            versions = [kept for kept in repo.stored_models(tx) if kept.model_id == model_id]
        if not versions:
            known = ", ".join(s.id for s in self.models())
            raise NotFound(f"No maturity model {model_id!r}; available: {known}.")
        return _parse(versions[-1])

    @mutation
    def import_model(self, path: Path | str) -> Outcome[MaturityModel]:
        """Add a user's model file (validated) to the workspace; analysts and admins. Audited.

        Raises
        ------
        ModelFileError
            The file is not a valid model; the message names each problem.
        InvalidInput
            The id is a built-in model's, or that version exists with other content.
        """
        model = catalogue.load_model_file(path)
        if model.id in self._builtins:
            raise InvalidInput(
                f"{model.id!r} is a built-in model; give your model its own id to import it."
            )
        body = Path(path).read_text(encoding="utf-8")
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "import maturity models")
            existing = repo.model_digest(tx, model.id, model.version)
            if existing is not None and existing != model.digest:
                raise InvalidInput(
                    f"Model {model.id} version {model.version} is already in this workspace with "
                    "different content; raise the version number in the file."
                )
            if repo.save_model(tx, model.id, model.version, model.name, model.digest, body, False):
                tx.audit("assessment.model_imported", f"maturity_model:{model.id}@{model.version}",
                         {"digest": model.digest, "file": Path(path).name})
        return Outcome(model, _CHANGES)

    @query
    def export_model(self, model_id: str, dest: Path | str, version: str | None = None) -> Path:
        """Write a model file (built-in or imported) to ``dest`` for editing or sharing."""
        model = self.model(model_id, version)
        if model.builtin and model.id in self._raw_builtins and model.version == self._builtins[model.id].version:
            text = self._raw_builtins[model.id]
        else:
            with self._store.read(self._actor) as tx:
                found = repo.stored_model(tx, model.id, model.version)
            if found is None:
                raise NotFound(f"Model {model.id} {model.version} is not kept in this workspace.")
            text = found.body
        out = Path(dest)
        out.write_text(text, encoding="utf-8")
        return out

    # --- assessments ---------------------------------------------------------------------

    @query
    def list(self, unit: str | None = None) -> list[Assessment]:
        """All assessments (every revision), by unit then date."""
        with self._store.read(self._actor) as tx:
            return repo.list_all(tx, unit)

    @query
    def get(self, assessment_id: str) -> Assessment:
        """One assessment; a unique prefix of its id is enough.

        Raises
        ------
        NotFound
            No assessment, or the prefix matches several.
        """
        with self._store.read(self._actor) as tx:
            return self._get(tx, assessment_id)

    def _get(self, tx: Transaction, assessment_id: str) -> Assessment:
        found = repo.get(tx, assessment_id)
        if found is not None:
            return found
        ids = repo.find_by_prefix(tx, assessment_id) if len(assessment_id) >= 4 else []
        if len(ids) == 1:
            got = repo.get(tx, ids[0])
            assert got is not None
            return got
        if len(ids) > 1:
            raise NotFound(f"{assessment_id!r} matches {len(ids)} assessments; give more of the id.")
        raise NotFound(f"No assessment {assessment_id!r} in this workspace.")

    @mutation
    def create(
        self, model_id: str, unit: str, *, assessors: Sequence[str] = (),
        assessed_on: dt.date | None = None, targets: dict[str, int] | None = None,
        version: str | None = None,
    ) -> Outcome[Assessment]:
        """Start a draft assessment of ``unit`` with a model; analysts and admins. Audited.

        The model version is recorded and kept in the workspace. Targets default to one
        level above the model's lowest for every dimension until set.
        """
        unit = unit.strip()
        if not unit:
            raise InvalidInput("Name the organisation unit being assessed.")
        model = self.model(model_id, version)
        wanted = dict(targets or {})
        self._check_targets(model, wanted)
        aid = AssessmentId(str(uuid.uuid4()))
        people = tuple(p.strip() for p in assessors if p.strip()) or (self._actor,)
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "create assessments")
            if model.builtin:
                raw = self._raw_builtins.get(model.id)
                if raw is not None:
                    repo.save_model(tx, model.id, model.version, model.name, model.digest, raw, True)
            a = Assessment(
                id=aid, lineage_id=aid, revision=1, unit=unit, assessors=people,
                assessed_on=assessed_on or dt.date.today(), model_id=model.id,
                model_version=model.version, status=AssessmentStatus.DRAFT,
                targets={DimensionId(k): v for k, v in wanted.items()},
            )
            repo.insert(tx, a)
            tx.audit("assessment.created", f"assessment:{aid}",
                     {"unit": unit, "model": model.id, "version": model.version})
            return Outcome(self._get(tx, aid), _CHANGES)

    def _check_targets(self, model: MaturityModel, targets: dict[str, int]) -> None:
        for dim_id, level in targets.items():
            try:
                model.dimension(dim_id)
            except KeyError:
                raise InvalidInput(f"Model {model.id} has no dimension {dim_id!r}.") from None
            if not model.min_level <= level <= model.max_level:
                raise InvalidInput(
                    f"Target {level} for {dim_id} is outside {model.min_level}–{model.max_level}."
                )

    def _editable(self, tx: Transaction, assessment_id: str, doing: str) -> tuple[Assessment, MaturityModel]:
        """The draft to change: the assessment itself, or its lineage's draft if it is final."""
        require_role(tx, ANALYST, doing)
        a = self._get(tx, assessment_id)
        if a.locked:
            a = self._open_draft(tx, a)
        return a, self._model_in(tx, a)

    def _open_draft(self, tx: Transaction, final: Assessment) -> Assessment:
        """The lineage's open draft; without one, a new revision of the newest final one.

        Changing a final assessment twice therefore edits one draft, never two copies, and
        a change named by an older final revision never drops what a newer one holds.
        """
        draft = repo.open_draft(tx, final.lineage_id)
        if draft is not None:
            return draft
        newest = repo.newest_in_lineage(tx, final.lineage_id) or final
        return self._new_revision(tx, newest)

    def _model_in(self, tx: Transaction, a: Assessment) -> MaturityModel:
        builtin = self._builtins.get(a.model_id)
        if builtin is not None and builtin.version == a.model_version:
            return builtin
        found = repo.stored_model(tx, a.model_id, a.model_version)
        if found is None:
            raise NotFound(f"Model {a.model_id} {a.model_version} used by this assessment is missing.")
        return _parse(found)

    def _new_revision(self, tx: Transaction, a: Assessment) -> Assessment:
        latest = repo.latest_revision(tx, a.lineage_id)
        new_id = AssessmentId(str(uuid.uuid4()))
        draft = replace(a, id=new_id, revision=latest + 1, status=AssessmentStatus.DRAFT,
                        finalised_by=None, finalised_at=None, supersedes=a.id)
        repo.insert(tx, draft)
        tx.audit("assessment.revised", f"assessment:{new_id}",
                 {"supersedes": a.id, "revision": draft.revision})
        got = repo.get(tx, new_id)
        assert got is not None
        return got

    @query
    def model_of(self, assessment: Assessment) -> MaturityModel:
        """The exact model version ``assessment`` recorded."""
        with self._store.read(self._actor) as tx:
            return self._model_in(tx, assessment)

    @mutation
    def answer(self, assessment_id: str, question_id: str, level: int, note: str = "") -> Outcome[Assessment]:
        """Answer a question with a level and a note. Audited.

        On a final assessment this creates a new revision; the returned value is the
        assessment that now holds the answer.
        """
        with self._store.write(self._actor) as tx:
            a, model = self._editable(tx, assessment_id, "answer assessments")
            self._check_question(model, question_id)
            if not model.min_level <= level <= model.max_level:
                raise InvalidInput(f"Level {level} is outside {model.min_level}–{model.max_level} for {model.name}.")
            old = a.answers.get(QuestionId(question_id))
            refs = old.evidence if old else ()
            repo.put_answer(tx, a.id, Answer(QuestionId(question_id), level, note.strip(), None, refs))
            tx.audit("assessment.answered", f"assessment:{a.id}",
                     {"question": question_id, "level": level})
            return Outcome(self._get(tx, a.id), _CHANGES)

    @mutation
    def skip(self, assessment_id: str, question_id: str, reason: str) -> Outcome[Assessment]:
        """Skip a question; a reason is required. Audited."""
        if not reason.strip():
            raise InvalidInput("Say why the question is skipped.")
        with self._store.write(self._actor) as tx:
            a, model = self._editable(tx, assessment_id, "answer assessments")
            self._check_question(model, question_id)
            old = a.answers.get(QuestionId(question_id))
            refs = old.evidence if old else ()
            repo.put_answer(tx, a.id, Answer(QuestionId(question_id), None, old.note if old else "",
                                             reason.strip(), refs))
            tx.audit("assessment.skipped", f"assessment:{a.id}", {"question": question_id, "reason": reason.strip()})
            return Outcome(self._get(tx, a.id), _CHANGES)

    @staticmethod
    def _check_question(model: MaturityModel, question_id: str) -> None:
        try:
            model.question(question_id)
        except KeyError:
            raise InvalidInput(unknown_question(model, question_id)) from None

    @mutation
    def attach_evidence(self, assessment_id: str, question_id: str, path: Path | str) -> Outcome[Assessment]:
        """Keep a file as evidence for an answer, encrypted in the workspace. Audited."""
        p = Path(path)
        if not p.is_file():
            raise InvalidInput(f"{p} is not a file.")
        if p.stat().st_size > _MAX_EVIDENCE_BYTES:
            raise InvalidInput(f"{p.name} is larger than {_MAX_EVIDENCE_BYTES // 2**20} MiB.")
        with self._store.write(self._actor) as tx:
            a, model = self._editable(tx, assessment_id, "attach evidence")
            self._check_question(model, question_id)
            with p.open("rb") as fh:
                blob = blobs.put_stream(tx, fh)
            media = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
            ref = EvidenceRef(blob.sha256, p.name, blob.size, media)
            old = a.answers.get(QuestionId(question_id)) or Answer(QuestionId(question_id), None, "", None)
            refs = tuple(e for e in old.evidence if e.digest != ref.digest) + (ref,)
            repo.put_answer(tx, a.id, replace(old, evidence=refs))
            tx.audit("assessment.evidence_attached", f"assessment:{a.id}",
                     {"question": question_id, "file": p.name, "sha256": blob.sha256})
            return Outcome(self._get(tx, a.id), _CHANGES)

    @mutation
    def export_evidence(self, assessment_id: str, digest: str, dest: Path | str) -> Outcome[Path]:
        """Write an evidence attachment of this assessment to ``dest``. Audited.

        The bytes are verified against their hash on the way out; the export is recorded
        because data leaves the encrypted workspace. The file is readable by its owner only.

        Raises
        ------
        ReadOnlyWorkspace
            The workspace is open read-only (an export is audited).
        InvalidInput
            The destination folder is missing or not writable.
        """
        out = exports.check_destination(self._store, dest, "export evidence")
        with self._store.write(self._actor) as tx:
            a = self._get(tx, assessment_id)
            refs = [r for ans in a.answers.values() for r in ans.evidence if r.digest == digest]
            if not refs:
                raise NotFound(f"Assessment {a.id[:8]} has no evidence {digest[:12]}.")
            exports.write_export(tx, out, bytes(blobs.read_bytes(tx, digest)))
            tx.audit("assessment.evidence_exported", f"assessment:{a.id}",
                     {"file": refs[0].filename, "sha256": digest, "to": str(out)})
        return Outcome(out, outcome.changes())

    @mutation
    def set_target(self, assessment_id: str, dimension_id: str, level: int | None) -> Outcome[Assessment]:
        """Set the target level of one dimension, or clear it with ``None``. Audited.

        A cleared dimension goes back to the default target, the next level up.
        """
        with self._store.write(self._actor) as tx:
            a, model = self._editable(tx, assessment_id, "set targets")
            targets = {str(k): v for k, v in a.targets.items()}
            if level is None:
                if dimension_id not in {d.id for d in model.dimensions}:
                    raise InvalidInput(f"Model {model.id} has no dimension {dimension_id!r}.")
                targets.pop(dimension_id, None)
            else:
                targets[dimension_id] = level
            self._check_targets(model, targets)
            repo.set_targets(tx, a.id, targets)
            tx.audit("assessment.target_set", f"assessment:{a.id}", {"dimension": dimension_id, "level": level})
            return Outcome(self._get(tx, a.id), _CHANGES)

    @mutation
    def import_answers(self, assessment_id: str, path: Path | str) -> Outcome[Assessment]:
        """Apply a filled-in CSV or JSON questionnaire in one transaction. Audited.

        Raises
        ------
        AnswerFileError
            Naming each bad row; nothing is applied.
        """
        with self._store.write(self._actor) as tx:
            a, model = self._editable(tx, assessment_id, "answer assessments")
            rows = answer_file.read_answer_file(path, model)
            for r in rows:
                old = a.answers.get(QuestionId(r.question_id))
                repo.put_answer(tx, a.id, Answer(QuestionId(r.question_id), r.level, r.note,
                                                 r.skip_reason, old.evidence if old else ()))
            tx.audit("assessment.answers_imported", f"assessment:{a.id}",
                     {"file": Path(path).name, "rows": len(rows)})
            return Outcome(self._get(tx, a.id), _CHANGES)

    @mutation
    def finalise(self, assessment_id: str, *, force: bool = False) -> Outcome[Assessment]:
        """Lock an assessment; later changes make a new revision. Audited.

        Questions neither answered nor skipped stop it unless ``force`` is set: the
        assessor confirms that they stay open. The audit event and the report record how
        many were left open.

        Raises
        ------
        UnansweredQuestions
            Some questions are open and ``force`` is not set; nothing was changed.
        """
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "finalise assessments")
            a = self._get(tx, assessment_id)
            if a.locked:
                raise InvalidInput(f"Assessment {a.id[:8]} is already final (revision {a.revision}).")
            model = self._model_in(tx, a)
            done = scoring.completion(model, a.answers)
            open_ids = tuple(
                q.id for q in model.questions()
                if (ans := a.answers.get(q.id)) is None or ans.pending
            )
            if open_ids and not force:
                shown = ", ".join(open_ids[:5]) + (f" and {len(open_ids) - 5} more" if len(open_ids) > 5 else "")
                raise UnansweredQuestions(
                    f"Assessment {a.id[:8]} has {len(open_ids)} of {done.total} questions neither "
                    f"answered nor skipped ({shown}). Answer or skip them first, or confirm to "
                    "finalise with them left open (the report will say how many).",
                    open_ids,
                )
            repo.finalise(tx, a.id)
            tx.audit("assessment.finalised", f"assessment:{a.id}", {
                "revision": a.revision, "completion": f"{done.done}/{done.total}",
                "left_open": len(open_ids),
                "overall": scoring.score(model, a.answers).overall,
            })
            return Outcome(self._get(tx, a.id), _CHANGES)

    @mutation
    def revise(self, assessment_id: str) -> Outcome[Assessment]:
        """The draft revision of a final assessment to change. Audited when one is made.

        When the lineage already has an open draft, that draft is returned and nothing is
        written; otherwise a new draft copies the newest final revision.
        """
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "revise assessments")
            a = self._get(tx, assessment_id)
            if not a.locked:
                raise InvalidInput(f"Assessment {a.id[:8]} is still a draft; change it directly.")
            return Outcome(self._open_draft(tx, a), _CHANGES)

    # --- results -------------------------------------------------------------------------

    @query
    def score(self, assessment: Assessment) -> AssessmentScore:
        """Levels per dimension and overall, by the model's stated rule."""
        return scoring.score(self.model_of(assessment), assessment.answers)

    @query
    def completion(self, assessment: Assessment) -> Completion:
        return scoring.completion(self.model_of(assessment), assessment.answers)

    @query
    def targets(self, assessment: Assessment) -> dict[str, int]:
        """Each dimension's target as the plan uses it: the assessors' own where set.

        Every other dimension aims at the next level up from where it stands (see
        :func:`core.assessment.scoring.effective_targets`); a dimension already at the
        model's top level has no entry. Read-only: nothing is stored.
        """
        model = self.model_of(assessment)
        result = scoring.score(model, assessment.answers)
        return {str(k): v for k, v in scoring.effective_targets(model, result, assessment.targets).items()}

    @query
    def plan(self, assessment: Assessment) -> builtins.list[PlannedStep]:
        """The ordered recommendations closing the gaps to the targets.

        Dimensions without a target aim at the next level up (see
        :func:`core.assessment.scoring.effective_targets`).
        """
        model = self.model_of(assessment)
        result = scoring.score(model, assessment.answers)
        return recommendations.plan(model, result, scoring.effective_targets(model, result, assessment.targets))

    @query
    def suggestions(self, assessment: Assessment) -> dict[str, EvidenceSuggestion]:
        """What the workspace shows about each question, as advice beside it."""
        model = self.model_of(assessment)
        probes = {q.evidence for q in model.questions()}
        with self._store.read(self._actor) as tx:
            facts = repo.workspace_facts(tx)
            if "audit_trail" in probes:  # walking the chain costs a pass over the log: only when asked
                report = verify_chain(audit_repo.iter_events(tx), tx.workspace_id, audit_repo.recorded_head(tx))
                facts = replace(facts, audit_chain_ok=report.ok)
        return evidence.suggest(facts, model)

    @query
    def previous(self, assessment: Assessment) -> Assessment | None:
        """The unit's previous *finalised* assessment with the same model, if any.

        Another lineage's newest final revision, assessed before this one (on the same
        date: started before it). Drafts are work in progress and never count.
        """
        everything = self.list(assessment.unit)
        started: dict[str, tuple[dt.date, dt.datetime]] = {}
        for a in everything:  # a lineage's place in time: its date and its first revision's creation
            when = (a.assessed_on, a.created_at or dt.datetime.min)
            started[a.lineage_id] = min(started.get(a.lineage_id, when), when)
        mine = started.get(assessment.lineage_id, (assessment.assessed_on, dt.datetime.max))
        best: dict[str, Assessment] = {}
        for a in everything:
            if (a.lineage_id == assessment.lineage_id or not a.locked or a.model_id != assessment.model_id
                    or a.assessed_on > assessment.assessed_on or started[a.lineage_id] >= mine):
                continue
            if a.lineage_id not in best or a.revision > best[a.lineage_id].revision:
                best[a.lineage_id] = a
        ordered = sorted(best.values(), key=lambda a: started[a.lineage_id])
        return ordered[-1] if ordered else None

    @query
    def history(self, unit: str) -> builtins.list[Assessment]:
        """The latest revision of each assessment of ``unit``, oldest first."""
        best: dict[str, Assessment] = {}
        for a in self.list(unit):
            if a.lineage_id not in best or a.revision > best[a.lineage_id].revision:
                best[a.lineage_id] = a
        return sorted(best.values(), key=lambda a: a.assessed_on)

    @query
    def compare(self, first_id: str, second_id: str) -> Comparison:
        """Two assessments dimension by dimension (older first)."""
        a, b = self.get(first_id), self.get(second_id)
        if a.model_id != b.model_id:
            raise InvalidInput(f"Cannot compare assessments made with different models ({a.model_id}, {b.model_id}).")
        if (b.assessed_on, b.revision) < (a.assessed_on, a.revision):
            a, b = b, a
        return scoring.compare(self.model_of(a), a, self.model_of(b), b)

    @query
    def report_data(self, assessment_id: str) -> ReportData:
        a = self.get(assessment_id)
        model = self.model_of(a)
        result = scoring.score(model, a.answers)
        prev = self.previous(a)
        prev_score = scoring.score(self.model_of(prev), prev.answers) if prev else None
        targets = scoring.effective_targets(model, result, a.targets)
        return ReportData(
            model, replace(a, targets=targets), result, scoring.completion(model, a.answers),
            tuple(recommendations.plan(model, result, targets)), prev, prev_score,
            dt.datetime.now(dt.UTC), own_targets=dict(a.targets),
        )

    @mutation
    def export_report(self, assessment_id: str, dest: Path | str, *, kind: str) -> Outcome[Path]:
        """Write the report as ``html`` or ``pdf`` to ``dest``. Audited (data leaves the store).

        Refused before any work on a read-only workspace or an unusable destination.
        """
        if kind not in ("html", "pdf"):
            raise InvalidInput(f"Reports are html or pdf, not {kind!r}.")
        out = exports.check_destination(self._store, dest, "export the report")
        data = self.report_data(assessment_id)
        if kind == "html":
            from core.assessment.report import render_html

            payload = render_html(data).encode("utf-8")
        elif kind == "pdf":
            from core.assessment.report_pdf import render_pdf

            payload = render_pdf(data)
        else:
            raise InvalidInput(f"Reports are html or pdf, not {kind!r}.")
        with self._store.write(self._actor) as tx:
            exports.write_export(tx, out, payload)
            tx.audit("assessment.report_exported", f"assessment:{data.assessment.id}",
                     {"kind": kind, "file": out.name})
        return Outcome(out, outcome.changes())


def unknown_question(model: MaturityModel, question_id: str) -> str:
    """The message for an unknown question id: every valid id, or the closest few."""
    ids: list[str] = [str(q.id) for q in model.questions()]
    head = f"Model {model.id} {model.version} has no question {question_id!r}."
    if len(ids) <= _LIST_ALL_QUESTIONS:
        return f"{head} Its questions are: {', '.join(ids)}."
    close = difflib.get_close_matches(question_id, ids, n=3, cutoff=0.4)
    if not close:  # e.g. a dimension name alone: offer that dimension's questions
        close = [i for i in ids if i.startswith(question_id.split(".")[0] + ".")][:3]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return (f"{head}{hint} `airlock assess questions {model.id}` lists all {len(ids)} "
            "with their level descriptions.")


def _parse(kept: StoredModel) -> MaturityModel:
    return catalogue.parse_model_text(kept.body, f"{kept.model_id} {kept.version}", builtin=kept.builtin)
