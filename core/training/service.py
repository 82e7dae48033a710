"""The training service: specs from a dataset's profile, checked before anything runs.

``TrainingService(store, actor)`` is what ``Engine.training`` returns. This first part holds
the two queries over specs (:meth:`TrainingService.init_spec`, :meth:`TrainingService.validate`);
the runs, model versions and evidence methods are added beside them. It reads datasets through
the discovery service and must not import the facade or the CLI.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from core import outcome
from core.errors import AirlockError, Cancelled, IntegrityError, InvalidInput, NotFound, PermissionDenied
from core.identity.models import ANALYST
from core.identity.service import require_role
from core.outcome import Change, Outcome, mutation, query
from core.store import blobs, training_repo, workspace_repo
from core.store.db import Transaction, utc_now
from core.tasks import ensure_context
from core.training.job import TrainingJob, TrainingResult
from core.training.models import (
    Algorithm,
    Device,
    Evidence,
    EvidenceItem,
    EvidenceKind,
    ModelComparison,
    ModelVersion,
    ModelVersionId,
    RunId,
    RunStatus,
    SpecProblem,
    Task,
    TrainingRun,
    TrainingSpec,
    spec_hash,
)
from core.training.spec import InvalidSpec, init_spec, validate_spec
from core.workspace.models import WorkspaceRole

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from core.data.models import DatasetVersion, Schema
    from core.store.db import Store
    from core.tasks import TaskContext

_SPEC_CHANGES = outcome.changes(Change.TRAINING)
_RUN_CHANGES = outcome.changes(Change.TRAINING, Change.MODELS)
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: How often a run looks whether another process cancelled it (``airlock runs cancel``).
CANCEL_POLL_S = 1.0
#: Largest difference of the repeated run's holdout output still called reproducible, by device.
REPRODUCIBILITY_TOLERANCE: dict[Device, float] = {Device.CPU: 1e-9, Device.CUDA: 1e-5}
#: Algorithms whose fit is bit-for-bit repeatable on the CPU with a seed (no thread-order sums).
_EXACT_ALGORITHMS = frozenset({Algorithm.LOGISTIC, Algorithm.LINEAR, Algorithm.RIDGE, Algorithm.RANDOM_FOREST})


def gpu_available() -> bool:
    """Whether ``nvidia-smi`` finds a CUDA GPU here (what ``airlock doctor`` reports)."""
    from core.training.compute import gpu_info

    return gpu_info() is not None


class TrainingService:
    """Training specs, runs and model versions of one workspace, for one acting user."""

    def __init__(self, store: Store, actor: str) -> None:
        from core.data.service import DatasetService

        self._store = store
        self._actor = actor
        self._datasets = DatasetService(store, actor)

    @query
    def init_spec(self, dataset: str, target: str, *, task: Task | None = None,
                  ctx: TaskContext | None = None) -> TrainingSpec:
        """A starting spec for predicting ``target`` from dataset version ``dataset``.

        The version is pinned (``name@N``; the latest when ``dataset`` names none). Its profile
        for ``target`` (the kept one, or computed now) decides the task and which columns are
        left out (identifiers, personal data, constant and leakage-flagged columns), each with
        its reason; the dataset's schema, when there is one, overrides semantic types.

        Parameters
        ----------
        dataset
            ``name`` or ``name@N``.
        target
            The column to predict.
        task
            Override of the inferred task.
        ctx
            Progress and cancellation while a profile is computed.

        Raises
        ------
        NotFound
            No such dataset or version.
        InvalidInput
            ``target`` is not a column of the version.
        """
        version = self._datasets.version(dataset)
        profile = self._datasets.profile(version.label, target=target, ctx=ctx)
        return init_spec(profile, self._schema(version.dataset_name), version.label, version.content_sha256,
                         target, task)

    @query
    def validate(self, spec: TrainingSpec, *, gpu: bool | None = None,
                 ctx: TaskContext | None = None) -> list[SpecProblem]:
        """Every problem of ``spec`` against its pinned version's profile and the dataset's schema.

        Parameters
        ----------
        spec
            The spec to check.
        gpu
            Whether a CUDA GPU is available; detected here when None.
        ctx
            Progress and cancellation while a profile is computed.

        Returns
        -------
        list of SpecProblem
            Empty when the spec can run.
        """
        try:
            version = self._datasets.version(spec.dataset)
        except NotFound as exc:
            return [SpecProblem("dataset", str(exc))]
        names = {c.name for c in version.columns}
        profile = self._datasets.profile(version.label, target=spec.target if spec.target in names else None, ctx=ctx)
        return validate_spec(spec, profile, self._schema(version.dataset_name),
                             gpu_available() if gpu is None else gpu, dataset_sha256=version.content_sha256)

    def _schema(self, dataset_name: str) -> Schema | None:
        try:
            return self._datasets.schema(dataset_name)
        except NotFound:
            return None

    # --- specs and runs ---------------------------------------------------------------------

    @mutation
    def save_spec(self, spec: TrainingSpec) -> Outcome[str]:
        """Keep ``spec`` in the workspace under its hash (once); returns the hash.

        Raises
        ------
        PermissionDenied
            The acting user is not an analyst.
        """
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "save a training spec")
            digest, new = training_repo.save_spec(tx, spec)
            if not new:
                return Outcome(digest, frozenset())
            tx.audit("training.spec_saved", f"spec:{digest}", {"dataset": spec.dataset, "target": spec.target})
        return Outcome(digest, _SPEC_CHANGES)

    @mutation
    def run(self, spec: TrainingSpec, *, model: str | None = None, ctx: TaskContext | None = None,
            memory_limit_bytes: int | None = None, allow_data_export: bool = False) -> Outcome[ModelVersion]:
        """Train ``spec`` in a child process and store the result as a new model version.

        The spec is validated first; the pinned snapshot is read (its content hash must be
        the spec's ``dataset_sha256``) and handed to :func:`core.training.runner.train_in_child`
        in a fresh child (spawn); a second fresh child trains the chosen candidate again for
        the reproducibility check. Then one write transaction stores the model version, its
        artefact and plot blobs, its evidence, the run's end and the audit event
        ``training.model_trained``. A cancelled or failed run stores only the run's status
        and error (audited ``training.run_cancelled`` / ``training.run_failed``) and raises.

        Parameters
        ----------
        spec
            What to train.
        model
            The model's name (letters, digits, ``. _ -``); default ``<dataset>-<target>``.
        ctx
            Progress per trial and fold; cancel ends the child within a second.
        memory_limit_bytes
            Address-space limit of the child processes (None: no limit beyond the machine's).
        allow_data_export
            Required (True) when ``spec.compute`` names a Dask cluster: the caller confirms that
            the training rows leave the encrypted workspace for that cluster. The export is
            audited (``training.data_sent_to_cluster``) before the data leaves, and a
            production workspace refuses it (:func:`core.training.compute.check_cluster_export`).

        Raises
        ------
        InvalidSpec
            The spec has problems (each listed).
        PermissionDenied
            The acting user is not an analyst, or a production workspace would send data to a cluster.
        IntegrityError
            The pinned snapshot does not match the spec's content hash.
        Cancelled
            Through ``ctx``, or ``airlock runs cancel`` from another process.
        ChildFailed
            The child crashed or ran out of memory (a clear message; nothing stored).
        """
        from core.processes import run_in_child
        from core.training.runner import repeat_holdout_output, train_in_child

        ctx = ensure_context(ctx)
        name = self._model_name(spec, model)
        with self._store.read(self._actor) as tx:
            require_role(tx, ANALYST, "train a model")
            role = workspace_repo.workspace_record(tx).role
        if role != WorkspaceRole.DEV:
            raise PermissionDenied(
                f"This is a {role} workspace: models are trained in a development workspace and reach "
                f"{role} as signed packages, so nothing unreviewed runs here."
            )
        cluster = None
        if spec.compute_kind == "dask":
            from core.training.compute import check_cluster_export

            cluster = check_cluster_export(spec, role, allow_data_export=allow_data_export)
        gpu = gpu_available()
        problems = self.validate(spec, gpu=gpu, ctx=ctx.sub(0.0, 0.02))
        if problems:
            raise InvalidSpec(
                f"The spec cannot run ({len(problems)} problem{'s' if len(problems) != 1 else ''}): "
                + "; ".join(f"{p.field}: {p.message}" for p in problems), problems,
            )
        version, parquet = self._pinned_snapshot(spec)
        digest = spec_hash(spec)
        run_id = RunId(str(uuid.uuid4()))
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "train a model")
            training_repo.save_spec(tx, spec)
            training_repo.add_run(tx, TrainingRun(run_id, digest, name, RunStatus.RUNNING, utc_now(), None, None,
                                                  None, 0))
            tx.audit("training.run_started", f"run:{run_id}", {
                "spec_hash": digest, "model": name, "dataset": version.label, "compute": spec.compute,
            })
            if cluster is not None:
                from core.training.compute import record_cluster_export

                record_cluster_export(tx, cluster, spec, spec_hash=digest, dataset_version_id=version.id,
                                      rows=version.row_count)
        job = TrainingJob(spec, bytes(parquet), gpu)
        del parquet
        trials = 0
        try:
            with self._cancel_from_elsewhere(run_id, ctx):
                result: TrainingResult = run_in_child(
                    train_in_child, job, ctx=ctx.sub(0.02, 0.9), memory_limit_bytes=memory_limit_bytes)
                trials = len(result.trials)
                repeated: tuple[float, ...] = run_in_child(
                    repeat_holdout_output, job, str(result.algorithm), dict(result.params), str(result.device),
                    ctx=ctx.sub(0.9, 0.98), memory_limit_bytes=memory_limit_bytes)
            reproducibility = _reproducibility(result, repeated)
            ctx.check()
            ctx.report(0.98, "Storing the model version")
            stored = self._store_version(spec, digest, name, version, run_id, result, reproducibility)
        except BaseException as exc:
            self._end_run(run_id, exc, trials)
            raise
        ctx.report(1.0, f"Stored {stored.label}")
        return Outcome(stored, _RUN_CHANGES)

    def _model_name(self, spec: TrainingSpec, model: str | None) -> str:
        name = model or f"{spec.dataset_name}-{spec.target}"
        if not _MODEL_NAME.match(name):
            if model is None:
                name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-._")[:100] or "model"
            else:
                raise InvalidInput(f"Model name {model!r}: use letters, digits and . _ - (1–100, not starting "
                                   "with . _ -).")
        return name

    def _pinned_snapshot(self, spec: TrainingSpec) -> tuple[DatasetVersion, bytearray]:
        version = self._datasets.version(spec.dataset)
        with self._store.read(self._actor) as tx:
            try:
                data = blobs.read_bytes(tx, version.content_sha256)
            except IntegrityError as exc:
                raise IntegrityError(f"The snapshot of {version.label}: {exc}") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != spec.dataset_sha256 or version.content_sha256 != spec.dataset_sha256:
            raise IntegrityError(
                f"{version.label} holds content {actual[:12]}…, but the spec is pinned to {spec.dataset_sha256[:12]}…; "
                "write the spec again for this version (airlock train init)."
            )
        return version, data

    @contextmanager
    def _cancel_from_elsewhere(self, run_id: str, ctx: TaskContext) -> Iterator[None]:
        """While the run goes on, cancel ``ctx`` once its row is no longer ``running`` (``runs cancel``)."""
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(CANCEL_POLL_S):
                try:
                    with self._store.read(self._actor) as tx:
                        status = training_repo.run_status(tx, run_id)
                except AirlockError:
                    continue  # a busy workspace: look again next time
                if status != RunStatus.RUNNING:
                    ctx.token.cancel()
                    return

        watcher = threading.Thread(target=watch, name="airlock-run-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()

    def _store_version(self, spec: TrainingSpec, digest: str, name: str, version: DatasetVersion, run_id: str,
                       result: TrainingResult, reproducibility: EvidenceItem) -> ModelVersion:
        artefacts = dict(result.artefacts)
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "train a model")
            if training_repo.run_status(tx, run_id) != RunStatus.RUNNING:
                raise Cancelled("Cancelled from another process (airlock runs cancel).")
            training_repo.ensure_model(tx, name)
            stored = ModelVersion(
                id=ModelVersionId(str(uuid.uuid4())), model=name, number=training_repo.next_number(tx, name),
                spec_hash=digest, dataset=version.label, dataset_version_id=version.id,
                dataset_sha256=version.content_sha256, algorithm=result.algorithm, params=dict(result.params),
                metric=spec.metric, holdout=result.holdout, device=result.device, seed=spec.seed,
                wall_seconds=result.wall_seconds, peak_memory_bytes=result.peak_memory_bytes,
                environment=result.environment, created_by=self._actor, created_at=utc_now(),
                artefacts=tuple((n, hashlib.sha256(b).hexdigest()) for n, b in result.artefacts),
            )
            evidence = _one_per_kind((*result.evidence, reproducibility))
            training_repo.add_version(tx, stored, artefacts, evidence, result.plots)
            training_repo.finish_run(tx, run_id, RunStatus.SUCCEEDED, model_version=stored.id,
                                     trials=len(result.trials))
            tx.audit("training.model_trained", f"model:{stored.label}", {
                "run": run_id, "spec_hash": digest, "dataset": version.label, "dataset_version_id": version.id,
                "content_sha256": version.content_sha256, "algorithm": str(result.algorithm),
                "metric": spec.metric, "holdout": result.holdout.value, "device": str(result.device),
                "trials": len(result.trials), "artefacts": {n: s for n, s in stored.artefacts},
                "notes": list(result.notes),
            })
        return stored

    def _end_run(self, run_id: str, exc: BaseException, trials: int) -> None:
        """Record how a run ended without a model (cancelled or failed), audited; never raises over ``exc``."""
        cancelled = isinstance(exc, (Cancelled, KeyboardInterrupt))
        status = RunStatus.CANCELLED if cancelled else RunStatus.FAILED
        message = str(exc) or type(exc).__name__
        try:
            with self._store.write(self._actor) as tx:
                if training_repo.run_status(tx, run_id) != RunStatus.RUNNING:
                    return  # cancelled from another process, which recorded it
                training_repo.finish_run(tx, run_id, status, error=message[:4000], trials=trials)
                tx.audit("training.run_cancelled" if cancelled else "training.run_failed", f"run:{run_id}",
                         {"error": message[:1000]})
        except AirlockError as secondary:  # the workspace itself failed: the run's own error matters more
            exc.add_note(f"The run's end could not be recorded: {secondary}")

    @mutation
    def cancel_run(self, run_id: str) -> Outcome[TrainingRun]:
        """Mark a running run cancelled, from any process.

        The process running it looks at its run every :data:`CANCEL_POLL_S` seconds and
        stops within a second or two, storing nothing; a run whose process is gone (it
        crashed or was killed) is simply marked cancelled. Ctrl-C in the running terminal
        does the same at once.

        Raises
        ------
        NotFound
            No such run.
        InvalidInput
            The run has already ended.
        """
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "cancel a training run")
            found = self._run(tx, run_id)
            if found.status != RunStatus.RUNNING:
                raise InvalidInput(f"Run {found.id[:8]} has already ended ({found.status}); nothing to cancel.")
            ended = training_repo.finish_run(tx, found.id, RunStatus.CANCELLED,
                                             error=f"Cancelled by {self._actor} (airlock runs cancel).")
            tx.audit("training.run_cancelled", f"run:{found.id}", {"error": ended.error, "from": "runs cancel"})
        return Outcome(ended, _SPEC_CHANGES)

    # --- queries ----------------------------------------------------------------------------

    @query
    def runs(self) -> list[TrainingRun]:
        """Every training run, oldest first."""
        with self._store.read(self._actor) as tx:
            return training_repo.runs(tx)

    @query
    def run_info(self, run_id: str) -> TrainingRun:
        """One run by its id (or an unambiguous prefix of at least 4 characters, as lists show them).

        Raises
        ------
        NotFound
            No run matches, or more than one does.
        """
        with self._store.read(self._actor) as tx:
            return self._run(tx, run_id)

    def _run(self, tx: Transaction, run_id: str) -> TrainingRun:
        found = training_repo.run(tx, run_id)
        if found is not None:
            return found
        matches = training_repo.run_by_prefix(tx, run_id) if len(run_id) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFound(f"{len(matches)} runs start with {run_id!r}; give more of the id.")
        raise NotFound(f"No training run {run_id!r} in this workspace (airlock runs list shows them).")

    @query
    def spec(self, digest: str) -> TrainingSpec:
        """The stored spec with hash ``digest``.

        Raises
        ------
        NotFound
            No spec with that hash was saved or run here.
        """
        with self._store.read(self._actor) as tx:
            found = training_repo.spec(tx, digest)
        if found is None:
            raise NotFound(f"No training spec {digest[:12]}… in this workspace.")
        return found

    @query
    def models(self) -> list[ModelVersion]:
        """The latest version of every model, by model name."""
        with self._store.read(self._actor) as tx:
            out = [training_repo.version(tx, name, None) for name in training_repo.models(tx)]
        return [v for v in out if v is not None]

    @query
    def versions(self, model: str) -> list[ModelVersion]:
        """Every version of ``model``, oldest first.

        Raises
        ------
        NotFound
            No such model.
        """
        with self._store.read(self._actor) as tx:
            found = training_repo.versions(tx, model)
        if not found:
            raise NotFound(f"No model {model!r} in this workspace (airlock models list shows them).")
        return found

    @query
    def model_version(self, ref: str) -> ModelVersion:
        """The version ``model@N``, or the latest of ``model``.

        Raises
        ------
        NotFound
            No such model or version.
        """
        name, number = _split_ref(ref)
        with self._store.read(self._actor) as tx:
            found = training_repo.version(tx, name, number)
        if found is None:
            raise NotFound(f"No model version {ref!r} in this workspace (airlock models list shows them).")
        return found

    @query
    def evidence(self, ref: str) -> Evidence:
        """Every evidence item stored with version ``ref``."""
        version = self.model_version(ref)
        with self._store.read(self._actor) as tx:
            return Evidence(version.id, training_repo.evidence(tx, version.id, version.label))

    @query
    def plots(self, ref: str) -> list[tuple[str, bytes]]:
        """The version's plots as ``(name, PNG bytes)``, by name (each blob's hash checked)."""
        version = self.model_version(ref)
        with self._store.read(self._actor) as tx:
            return [(name, bytes(blobs.read_bytes(tx, sha))) for name, sha in training_repo.plots(tx, version.id)]

    @query
    def artefact(self, ref: str, name: str) -> bytes:
        """The bytes of artefact ``name`` of version ``ref``, checked against the hash the version records.

        The bytes are never deserialised here: :meth:`predict` loads a pipeline in a child.

        Raises
        ------
        NotFound
            The version has no artefact of that name.
        IntegrityError
            The stored bytes do not match the recorded hash.
        """
        version = self.model_version(ref)
        sha = dict(version.artefacts).get(name)
        if sha is None:
            have = ", ".join(n for n, _ in version.artefacts)
            raise NotFound(f"{version.label} has no artefact {name!r} (it has {have}).")
        with self._store.read(self._actor) as tx:
            try:
                data = bytes(blobs.read_bytes(tx, sha))
            except IntegrityError as exc:
                raise IntegrityError(f"Artefact {name} of {version.label}: {exc}") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise IntegrityError(f"Artefact {name} of {version.label} does not match its recorded hash: it was altered.")
        return data

    @query
    def predict(self, ref: str, rows: pa.Table | Mapping[str, Sequence[object]], *,
                ctx: TaskContext | None = None) -> list[object]:
        """Predictions of version ``ref``'s pipeline for ``rows`` (a table or ``{column: values}``).

        The pipeline's blob is hash-checked here and again in the child process that loads
        it (:func:`core.training.runner.score_in_child`); that child may answer plain data
        only, so nothing it does can run code in this process.
        """
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        from core.processes import run_in_child
        from core.training.runner import PIPELINE_ARTEFACT, score_in_child

        version = self.model_version(ref)
        data = self.artefact(version.label, PIPELINE_ARTEFACT)
        table = rows if isinstance(rows, pa.Table) else pa.table({k: list(v) for k, v in rows.items()})
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        result: list[object] = run_in_child(score_in_child, data, dict(version.artefacts)[PIPELINE_ARTEFACT],
                                            buffer.getvalue(), ctx=ctx, plain_result=True)
        return result

    @query
    def compare(self, a: str, b: str) -> ModelComparison:
        """Versions ``a`` and ``b`` side by side: each lineage field that differs, and the holdout margin."""
        first, second = self.model_version(a), self.model_version(b)
        fields: list[tuple[str, Any, Any]] = [
            ("spec_hash", first.spec_hash, second.spec_hash), ("dataset", first.dataset, second.dataset),
            ("dataset_sha256", first.dataset_sha256, second.dataset_sha256),
            ("algorithm", str(first.algorithm), str(second.algorithm)), ("params", first.params, second.params),
            ("metric", first.metric, second.metric), ("holdout", first.holdout.value, second.holdout.value),
            ("device", str(first.device), str(second.device)), ("seed", first.seed, second.seed),
            ("python", first.environment.python, second.environment.python),
            ("packages", _changed_packages(first, second), _changed_packages(second, first)),
        ]
        margin = second.holdout.value - first.holdout.value if first.metric == second.metric else None
        return ModelComparison(first, second, tuple((f, x, y) for f, x, y in fields if x != y), margin)

    @mutation
    def export_report(self, ref: str, dest: Path | str, *, format: str = "pdf") -> Outcome[Path]:
        """Write version ``ref``'s model report (``html`` or ``pdf``) to ``dest``, owner-only. Audited.

        The report (:mod:`core.training.report`) says what was trained on what, how it was
        chosen, how good it is and where it is weak, from the evidence stored with the
        version. Refused before any work on a read-only workspace, for a missing or
        unwritable folder, or for a user who is not a member; the file and the audit event
        ``training.report_exported`` are written in one transaction.

        Parameters
        ----------
        ref
            ``model@N``, or ``model`` for its latest version.
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
            No such model version.
        """
        from core.identity.service import require_member
        from core.store import exports

        if format not in ("html", "pdf"):
            raise InvalidInput(f"A model report is html or pdf, not {format!r}.")
        out = exports.check_destination(self._store, dest, "export the model report")
        with self._store.read(self._actor) as tx:
            require_member(tx, "export a model report")
        version = self.model_version(ref)
        evidence, plots = self.evidence(version.label), self.plots(version.label)
        try:
            spec: TrainingSpec | None = self.spec(version.spec_hash)
        except NotFound:
            spec = None
        if format == "pdf":
            from core.training.report_pdf import render_pdf

            payload = render_pdf(version, evidence, plots, spec=spec)
        else:
            from core.training.report import render_html

            payload = render_html(version, evidence, plots, spec=spec).encode("utf-8")
        with self._store.write(self._actor) as tx:
            exports.write_export(tx, out, payload)
            tx.audit("training.report_exported", f"model:{version.label}",
                     {"format": format, "file": out.name, "version_id": version.id})
        return Outcome(out, outcome.changes())


def _split_ref(ref: str) -> tuple[str, int | None]:
    name, at, number = ref.rpartition("@")
    if not at:
        return ref, None
    if not number.isdigit():
        raise InvalidInput(f"{ref!r}: a model version is written MODEL@NUMBER, e.g. loans-default@2.")
    return name, int(number)


def _changed_packages(a: ModelVersion, b: ModelVersion) -> dict[str, str]:
    """Packages of ``a`` whose version differs in ``b`` (or that ``b`` lacks)."""
    theirs = dict(b.environment.packages)
    return {n: v for n, v in a.environment.packages if theirs.get(n) != v}


def _one_per_kind(items: tuple[EvidenceItem, ...]) -> tuple[EvidenceItem, ...]:
    """The last item of each kind (a kind is stored once per version)."""
    by_kind: dict[EvidenceKind, EvidenceItem] = {}
    for item in items:
        by_kind[item.kind] = item
    return tuple(by_kind.values())


def _reproducibility(result: TrainingResult, repeated: tuple[float, ...]) -> EvidenceItem:
    """The REPRODUCIBILITY item: the main run's holdout output against the repeated run's."""
    import numpy as np

    from core.training.evidence import compare_predictions

    exact = result.device == Device.CPU and result.algorithm in _EXACT_ALGORITHMS
    tolerance = 0.0 if exact else REPRODUCIBILITY_TOLERANCE[result.device]
    a, b = np.asarray(result.holdout_output, dtype=np.float64), np.asarray(repeated, dtype=np.float64)
    item = compare_predictions(a, b, tolerance)
    return dataclasses.replace(item, method=(
        f"the chosen {result.algorithm} trained again in a fresh child process with the same seed on the same "
        f"split; {item.method}"))
