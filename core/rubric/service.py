"""The rubric service: run the ML Test Score for a model version, attest tests, keep the policy.

``RubricService(store, actor)`` is what ``Engine.rubric`` returns. :meth:`RubricService.run`
gathers what the checks read from the stores (the model version, its evidence and spec, the
training data's schema, validation report and profile), calls :func:`core.rubric.checks.evaluate`,
merges the reviewers' valid attestations (:func:`core.rubric.scoring.merge`), scores the result
as the 2017 paper does and stores it as a new rubric result (history is kept). Attestations are
made by reviewers, never by the model's author, with an expiry; the policy is versioned; every
write is audited in its own transaction.

It reads other areas through their services and repositories and must not import the facade or
the CLI.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import outcome
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.identity.models import REVIEWER
from core.identity.service import require_member, require_role
from core.outcome import Change, Outcome, mutation, query
from core.rubric import scoring
from core.rubric.catalogue import load_catalogue
from core.rubric.models import (
    DEFAULT_POLICY,
    Attestation,
    AttestationId,
    NextStep,
    RubricComparison,
    RubricPolicy,
    RubricResult,
    RubricResultId,
)
from core.store import audit_repo, data_repo, rubric_repo, training_repo
from core.store.db import Transaction, utc_now

if TYPE_CHECKING:
    from core.data.models import Profile, Schema
    from core.rubric.checks import RubricInputs
    from core.store.db import Store
    from core.training.models import ModelVersion

_CHANGES = outcome.changes(Change.RUBRIC)
#: Largest evidence file an attestation takes (they are read into memory and stored encrypted).
MAX_EVIDENCE_FILE_BYTES = 50 * 1024 * 1024
#: How many values of each PII-like column Data 5 looks for in the stored evidence.
PII_SAMPLE = 200
#: How many whole training rows Data 5 looks for in the stored evidence.
ROW_SAMPLE = 5
#: Policy fields a user may set (``version``, ``set_by``, ``set_at`` are Airlock's).
POLICY_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(RubricPolicy) if f.name not in {"version", "set_by", "set_at", "format_version"}
)


class RubricService:
    """Rubric results, attestations and the rubric policy of one workspace, for one acting user."""

    def __init__(self, store: Store, actor: str) -> None:
        from core.data.service import DatasetService

        self._store = store
        self._actor = actor
        self._datasets = DatasetService(store, actor)

    # --- running -------------------------------------------------------------------------

    @mutation
    def run(self, model_ref: str) -> Outcome[RubricResult]:
        """Evaluate every test for model version ``model_ref`` and store a new rubric result.

        The automated checks read stored evidence only; a test with no automated result counts
        a reviewer's valid attestation (0.5), else it is not done with the reason. Audited
        ``rubric.run`` with the four section sums and the final score.

        Parameters
        ----------
        model_ref
            ``model@N``, or ``model`` for its latest version.

        Raises
        ------
        NotFound
            No such model version.
        PermissionDenied
            The acting user is not a member of the workspace.
        """
        from core.rubric.checks import evaluate

        inputs = self._inputs(model_ref)
        with self._store.read(self._actor) as tx:
            require_member(tx, "run the rubric")
            policy = rubric_repo.policy(tx) or DEFAULT_POLICY
            attestations = rubric_repo.attestations(tx, inputs.model.id)
        now = utc_now()
        automated = evaluate(inputs, policy, ran_at=now)
        results = scoring.merge(load_catalogue(), automated, attestations, now=now, author=inputs.model.created_by)
        result = RubricResult(
            id=RubricResultId(str(uuid.uuid4())), model_version_id=inputs.model.id, policy_version=policy.version,
            results=results, score=scoring.score(results), created_by=self._actor, created_at=now,
        )
        with self._store.write(self._actor) as tx:
            require_member(tx, "run the rubric")
            rubric_repo.add_result(tx, result)
            tx.audit("rubric.run", f"model:{inputs.model.label}", {
                "result": result.id, "policy_version": policy.version, "final": result.score.final,
                "band": result.score.band, "sections": {str(s.section): s.points for s in result.score.sections},
            })
        return Outcome(result, _CHANGES)

    def _version(self, tx: Transaction, model_ref: str) -> ModelVersion:
        name, number = _split_ref(model_ref)
        found = training_repo.version(tx, name, number)
        if found is None:
            raise NotFound(f"No model version {model_ref!r} in this workspace (airlock models list shows them).")
        return found

    def _inputs(self, model_ref: str) -> RubricInputs:
        """Everything the checks read for one model version, gathered in reads (no writes)."""
        from core.rubric.checks import RubricInputs

        with self._store.read(self._actor) as tx:
            version = self._version(tx, model_ref)
            items = training_repo.evidence(tx, version.id, version.label)
            spec = training_repo.spec(tx, version.spec_hash)
            dataset = data_repo.version_by_id(tx, version.dataset_version_id)
            schema: Schema | None = None
            profile: Profile | None = None
            edited = False
            if dataset is not None:
                schema = data_repo.latest_schema(tx, dataset.dataset_id, f"dataset {dataset.dataset_name!r}")
                target = spec.target if spec is not None else None
                profile = (data_repo.load_profile(tx, dataset.id, target, dataset.label)
                           or data_repo.load_profile(tx, dataset.id, None, dataset.label))
                if schema is not None:
                    edited = _schema_edited(tx, dataset.dataset_name, schema.revision)
        validation = None
        pii_values: tuple[str, ...] = ()
        sample_rows: tuple[tuple[str, ...], ...] = ()
        if dataset is not None:
            if schema is not None:
                validation = self._datasets.validate(dataset.dataset_name, dataset.label)
            pii_values, sample_rows = self._samples(dataset.label, profile)
        return RubricInputs(
            model=version, evidence={item.kind: item for item in items}, spec=spec, dataset=dataset, schema=schema,
            schema_edited=edited, validation=validation, profile=profile, encrypted=True,
            pii_values=pii_values, sample_rows=sample_rows,
        )

    def _samples(self, label: str, profile: Profile | None) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        """Values of the PII-like columns and a few whole rows, for Data 5's leak scan (never stored)."""
        table = self._datasets.read_table(label)
        pii_columns = [c.name for c in profile.columns if c.pii is not None and c.name not in profile.not_pii
                       and c.name in table.column_names] if profile is not None else []
        values: list[str] = []
        for name in pii_columns:
            seen = dict.fromkeys(str(v) for v in table.column(name).to_pylist() if v is not None)
            values.extend(list(seen)[:PII_SAMPLE])
        head = table.slice(0, ROW_SAMPLE).to_pylist()
        rows = tuple(tuple("" if v is None else str(v) for v in row.values()) for row in head)
        return tuple(values), rows

    # --- reading ---------------------------------------------------------------------------

    @query
    def show(self, model_ref: str) -> RubricResult:
        """The latest rubric result of model version ``model_ref``.

        Raises
        ------
        NotFound
            No such model version, or the rubric never ran for it.
        """
        with self._store.read(self._actor) as tx:
            version = self._version(tx, model_ref)
            found = rubric_repo.latest_result(tx, version.id)
        if found is None:
            raise NotFound(f"The rubric never ran for {version.label}: run it first (airlock rubric run {version.label}).")
        return found

    @query
    def history(self, model_ref: str) -> list[RubricResult]:
        """Every rubric result of model version ``model_ref``, oldest first (empty: never ran).

        Raises
        ------
        NotFound
            No such model version.
        """
        with self._store.read(self._actor) as tx:
            version = self._version(tx, model_ref)
            return rubric_repo.results(tx, version.id)

    @query
    def result(self, ref: str) -> RubricResult:
        """A rubric result by ``ref``: a model version (its latest result) or a result id (or its start).

        Raises
        ------
        NotFound
            Neither a model version with a result nor a result id.
        InvalidInput
            An id start that matches several results.
        """
        try:
            return self.show(ref)
        except NotFound as first:
            if len(ref) < 4:
                raise
            with self._store.read(self._actor) as tx:
                found = rubric_repo.result_by_prefix(tx, ref)
            if len(found) > 1:
                raise InvalidInput(f"{ref!r} starts {len(found)} rubric result ids; give more of the id.") from None
            if not found:
                raise NotFound(f"{first} No rubric result id starts with {ref!r} either.") from None
            return found[0]

    @query
    def compare(self, a: str, b: str) -> RubricComparison:
        """Two rubric results side by side (each a model version's latest result, or a result id).

        Raises
        ------
        NotFound
            Either reference names no rubric result.
        """
        return scoring.compare(self.result(a), self.result(b))

    @query
    def next_steps(self, model_ref: str) -> tuple[NextStep, ...]:
        """The tests that would raise the final score most for ``model_ref``'s latest result, in order."""
        return scoring.next_steps(self.show(model_ref), load_catalogue())

    @query
    def attestations(self, model_ref: str) -> list[Attestation]:
        """Every attestation of model version ``model_ref`` (expired ones too), oldest first."""
        with self._store.read(self._actor) as tx:
            return rubric_repo.attestations(tx, self._version(tx, model_ref).id)

    # --- attesting ---------------------------------------------------------------------------

    @mutation
    def attest(self, model_ref: str, test_id: str, statement: str, files: Sequence[Path | str] = (),
               expires_at: str | datetime | None = None) -> Outcome[Attestation]:
        """A reviewer attests that test ``test_id`` was done by hand for ``model_ref``.

        The evidence files are stored encrypted as blobs owned by the attestation; the
        attestation counts 0.5 from the next run of the rubric until ``expires_at``. Audited
        ``rubric.attested``.

        Parameters
        ----------
        model_ref
            ``model@N`` (or ``model`` for its latest version).
        test_id
            ``"data.7"`` … (``airlock rubric show`` lists them).
        statement
            What was done and what it found.
        files
            Evidence files (each at most 50 MB).
        expires_at
            When the attestation stops counting (ISO 8601; a bare date is midnight UTC).

        Raises
        ------
        PermissionDenied
            The acting user is not a reviewer, or is the model version's author.
        InvalidInput
            Unknown test, empty statement, an expiry that is missing or not in the future,
            or an unreadable or too large file.
        """
        catalogue = load_catalogue()
        if test_id not in catalogue.ids:
            raise InvalidInput(f"{test_id!r} is not a rubric test; tests are data.1–7, model.1–7, infra.1–7, "
                               "monitor.1–7.")
        if not statement.strip():
            raise InvalidInput("An attestation needs a statement: what was done, and what it found.")
        now = utc_now()
        expiry = _expiry(expires_at, now)
        payload = _read_files(files)
        with self._store.write(self._actor) as tx:
            require_role(tx, REVIEWER, "attest a rubric test")
            version = self._version(tx, model_ref)
            if version.created_by == self._actor:
                raise PermissionDenied(
                    f"{self._actor!r} trained {version.label}, so cannot attest its tests: ask another reviewer.")
            attestation = Attestation(
                id=AttestationId(str(uuid.uuid4())), test_id=test_id, model_version_id=version.id,
                statement=statement.strip(),
                evidence_files=tuple((name, hashlib.sha256(data).hexdigest()) for name, data in payload.items()),
                attested_by=self._actor, attested_at=now, expires_at=expiry,
            )
            rubric_repo.add_attestation(tx, attestation, payload)
            tx.audit("rubric.attested", f"model:{version.label}", {
                "attestation": attestation.id, "test": test_id, "expires_at": expiry,
                "files": [[n, s] for n, s in attestation.evidence_files],
            })
        return Outcome(attestation, _CHANGES)

    # --- the sign-off report -----------------------------------------------------------------

    @mutation
    def export_report(self, ref: str, dest: Path | str, *, format: str = "pdf") -> Outcome[Path]:
        """Write a rubric result's sign-off report (``html`` or ``pdf``) to ``dest``, owner-only. Audited.

        The report (:mod:`core.rubric.report`) shows the four section sums beside the minimum, the
        band with the scoring rule next to it, every test with its status, outcome, evidence,
        thresholds and when it ran, the model version's attestations and the next steps. Refused
        before any work on a read-only workspace, for a missing or unwritable folder, or for a
        user who is not a member; the file and the audit event ``rubric.report_exported`` are
        written in one transaction.

        Parameters
        ----------
        ref
            A model version (``model@N``; its latest result) or a rubric result id (or its start).
        dest
            The file to write (replaced if it exists).
        format
            ``"html"`` (one self-contained page) or ``"pdf"``.

        Raises
        ------
        ReadOnlyWorkspace
            The workspace is open read-only.
        InvalidInput
            Unknown format, or the destination cannot be written.
        NotFound
            No such model version or rubric result.
        """
        from core.store import exports

        if format not in ("html", "pdf"):
            raise InvalidInput(f"A rubric report is html or pdf, not {format!r}.")
        out = exports.check_destination(self._store, dest, "export the rubric report")
        with self._store.read(self._actor) as tx:
            require_member(tx, "export a rubric report")
        result = self.result(ref)
        with self._store.read(self._actor) as tx:
            version = training_repo.version_by_id(tx, result.model_version_id)
            attestations = rubric_repo.attestations(tx, result.model_version_id)
        catalogue = load_catalogue()
        label = version.label if version is not None else result.model_version_id
        steps = scoring.next_steps(result, catalogue)
        if format == "pdf":
            from core.rubric.report_pdf import render_pdf

            payload = render_pdf(result, catalogue, attestations=attestations, next_steps=steps, model_label=label)
        else:
            from core.rubric.report import render_html

            payload = render_html(result, catalogue, attestations=attestations, next_steps=steps,
                                  model_label=label).encode("utf-8")
        with self._store.write(self._actor) as tx:
            exports.write_export(tx, out, payload)
            tx.audit("rubric.report_exported", f"model:{label}",
                     {"format": format, "file": out.name, "result": result.id, "final": result.score.final})
        return Outcome(out, outcome.changes())

    # --- policy ----------------------------------------------------------------------------

    @query
    def policy(self) -> RubricPolicy:
        """The policy in force: the newest stored version, or the built-in defaults (version 1)."""
        with self._store.read(self._actor) as tx:
            return rubric_repo.policy(tx) or DEFAULT_POLICY

    @mutation
    def set_policy(self, **changes: Any) -> Outcome[RubricPolicy]:
        """Store a new version of the policy with ``changes`` (fields of :class:`RubricPolicy`).

        Audited ``rubric.policy_changed`` with each changed field's old and new value.

        Raises
        ------
        PermissionDenied
            The acting user is not a reviewer (or an admin).
        InvalidInput
            An unknown field, a value of the wrong kind, a negative limit, or no change at all.
        """
        values = _policy_values(changes)
        with self._store.write(self._actor) as tx:
            require_role(tx, REVIEWER, "change the rubric policy")
            current = rubric_repo.policy(tx) or DEFAULT_POLICY
            changed = {k: v for k, v in values.items() if getattr(current, k) != v}
            if not changed:
                raise InvalidInput(f"The rubric policy already has these values (version {current.version}).")
            new = dataclasses.replace(
                current, **changed, version=max(current.version, rubric_repo.newest_policy_version(tx)) + 1,
                set_by=self._actor, set_at=utc_now(),
            )
            rubric_repo.add_policy(tx, new)
            tx.audit("rubric.policy_changed", f"rubric_policy:{new.version}", {
                "version": new.version,
                "changes": {k: {"before": _plain(getattr(current, k)), "after": _plain(v)} for k, v in changed.items()},
            })
        return Outcome(new, _CHANGES)


# --- helpers --------------------------------------------------------------------------------


def _split_ref(ref: str) -> tuple[str, int | None]:
    name, at, number = ref.rpartition("@")
    if not at:
        return ref, None
    if not number.isdigit():
        raise InvalidInput(f"{ref!r}: a model version is written MODEL@NUMBER, e.g. loans-default@2.")
    return name, int(number)


def _schema_edited(tx: Transaction, dataset: str, revision: int) -> bool:
    """Whether a person's edit produced schema ``revision`` of ``dataset`` (audited ``dataset.schema_edited``)."""
    events, _ = audit_repo.query_events(tx, action="dataset.schema_edited", text=f"dataset:{dataset}", limit=10_000)
    return any(e.subject == f"dataset:{dataset}" and e.details.get("revision") == revision for e in events)


def _expiry(expires_at: str | datetime | None, now: str) -> str:
    if expires_at is None:
        raise InvalidInput("An attestation needs an expiry (for example --expires 2027-06-30): "
                           "a manual check goes stale.")
    if isinstance(expires_at, datetime):
        moment = expires_at
    else:
        try:
            moment = datetime.fromisoformat(expires_at.strip())
        except ValueError:
            raise InvalidInput(f"Expiry {expires_at!r} is not a date or time (write 2027-06-30 or "
                               "2027-06-30T12:00:00+00:00).") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment <= datetime.fromisoformat(now):
        raise InvalidInput(f"Expiry {moment.isoformat()} is not in the future.")
    return moment.isoformat(timespec="microseconds")


def _read_files(files: Sequence[Path | str]) -> dict[str, bytes]:
    payload: dict[str, bytes] = {}
    for item in files:
        path = Path(item)
        if not path.is_file():
            raise InvalidInput(f"Evidence file {path} does not exist or is not a file.")
        size = path.stat().st_size
        if size > MAX_EVIDENCE_FILE_BYTES:
            raise InvalidInput(f"Evidence file {path} is {size} bytes; an attestation takes files up to "
                               f"{MAX_EVIDENCE_FILE_BYTES // (1024 * 1024)} MB.")
        if path.name in payload:
            raise InvalidInput(f"Two evidence files are named {path.name!r}; rename one.")
        try:
            payload[path.name] = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"Evidence file {path} cannot be read: {exc.strerror}.") from None
    return payload


def _policy_values(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(POLICY_FIELDS))
    if unknown:
        raise InvalidInput(f"The rubric policy has no setting {unknown[0]!r}; settings are {', '.join(POLICY_FIELDS)}.")
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key in {"deny_list", "allowed_sensitive"}:
            if isinstance(value, str) or not all(isinstance(v, str) and v.strip() for v in value):
                raise InvalidInput(f"Policy setting {key} is a list of column names.")
            out[key] = tuple(dict.fromkeys(v.strip() for v in value))
            continue
        if value is None and key in {"slice_floor", "quality_floor"}:
            out[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"Policy setting {key} is a number, not {value!r}.")
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidInput(f"Policy setting {key} must be a finite number.")
        if key not in {"slice_floor", "quality_floor", "baseline_margin"} and number < 0:
            raise InvalidInput(f"Policy setting {key} cannot be negative ({number}).")
        if key == "cost_ratio" and number == 0:
            raise InvalidInput("Policy setting cost_ratio must be above 0.")
        out[key] = number
    return out


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


__all__ = ["MAX_EVIDENCE_FILE_BYTES", "POLICY_FIELDS", "RubricService"]
