"""Where training runs beyond this process's CPU: the local CUDA GPU and Dask clusters.

Three parts, each small:

- **GPU**: :func:`gpu_info` asks ``nvidia-smi`` for the first GPU's name, memory and driver
  (``airlock doctor`` shows it; :func:`core.training.service.gpu_available` is ``gpu_info() is
  not None``).
- **Dask target**: :func:`dask_target` turns the spec's ``compute = "dask://host:port"`` (plain
  TCP) or ``"tls://host:port"`` into a :class:`DaskTarget`, with the TLS files named by the
  environment (:data:`TLS_ENVIRONMENT`); :meth:`DaskTarget.security` builds Dask's
  ``distributed.Security`` from them. TLS paths are machine settings, not part of the spec: a
  spec (and its hash) means the same on every machine.
- **Work on the cluster** (run in the training child): :func:`search_on_dask` runs a search's
  trials on the cluster's workers through joblib's Dask backend and returns the same per-trial
  results the local loop gives; :func:`fit_xgboost_on_dask` trains XGBoost through
  ``xgboost.dask`` and hands back a local scikit-learn XGBoost model holding the cluster's
  booster, so the stored pipeline has the same shape as a local run's. The runner's entry points
  are :func:`trials_on_dask`, :func:`bayesian_on_dask` and :func:`refit_on_dask`.
- **The export rule** (run in the parent, before anything leaves): :func:`check_cluster_export`
  refuses unless the caller confirmed the export and the workspace is not a production one
  (:data:`EXPORT_FORBIDDEN_ROLES`); :func:`record_cluster_export` writes the audit event
  ``training.data_sent_to_cluster``.

What this module must not do: open the workspace or write any file (the parent's service
writes the audit event through the transaction it is handed), connect anywhere but the
scheduler the spec names, or send the holdout rows to a cluster (:func:`training_part`).
Heavy libraries (dask, distributed, xgboost, joblib) are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import InvalidInput, PermissionDenied
from core.tasks import TaskContext, ensure_context
from core.training.models import Algorithm, Device, SearchKind, Task, TrainingSpec, TrialResult

if TYPE_CHECKING:
    from distributed import Client, Security

    from core.store.db import Transaction
    from core.training.runner import Split

R = TypeVar("R")

#: Environment variables naming the TLS files for a ``tls://`` scheduler: Dask's
#: ``Security(tls_ca_file=…, tls_client_cert=…, tls_client_key=…)``. Their names end in
#: ``_FILE`` on purpose: they hold paths, and a child process inherits them (variables ending
#: in ``_KEY`` are taken out of a child's environment as possible secrets).
TLS_ENVIRONMENT = {
    "ca_file": "AIRLOCK_DASK_TLS_CA_FILE",
    "cert_file": "AIRLOCK_DASK_TLS_CERT_FILE",
    "key_file": "AIRLOCK_DASK_TLS_KEY_FILE",
}
#: Workspace roles whose data is never sent to a Dask cluster (a rule, not a setting).
EXPORT_FORBIDDEN_ROLES = frozenset({"prod"})
#: The audit action written before a run's data leaves for a cluster.
EXPORT_AUDIT_ACTION = "training.data_sent_to_cluster"
#: Seconds to wait for the scheduler to answer.
CONNECT_TIMEOUT_S = 20


# --- GPU ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """One CUDA GPU as ``nvidia-smi`` reports it.

    Parameters
    ----------
    name
        The model (``"NVIDIA H200"``).
    memory_bytes
        Total memory, or None where the driver did not say.
    driver
        The driver version.
    count
        How many GPUs the machine has (the others are not described).
    """

    name: str
    memory_bytes: int | None
    driver: str
    count: int = 1

    @property
    def summary(self) -> str:
        """``"NVIDIA H200, 141 GiB, driver 550.54"`` (and how many, when more than one)."""
        memory = f", {self.memory_bytes / 2**30:.0f} GiB" if self.memory_bytes else ""
        more = f" (1 of {self.count})" if self.count > 1 else ""
        return f"{self.name}{memory}, driver {self.driver}{more}"


def gpu_info() -> GpuInfo | None:
    """The first CUDA GPU of this machine, or None where ``nvidia-smi`` is absent or finds none.

    Runs ``nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader``
    (a few hundred milliseconds; nothing is cached, so a GPU that disappears is noticed).
    """
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        done = subprocess.run(
            [smi, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=15, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return parse_gpu_query(done.stdout)


def parse_gpu_query(text: str) -> GpuInfo | None:
    """The first GPU from ``nvidia-smi``'s CSV answer (``name, 143771 MiB, 550.54.15`` per line)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    fields = [f.strip() for f in lines[0].rsplit(",", 2)]
    if len(fields) != 3 or not fields[0]:
        return None
    name, memory, driver = fields
    return GpuInfo(name=name, memory_bytes=_memory_bytes(memory), driver=driver, count=len(lines))


def _memory_bytes(text: str) -> int | None:
    number, _, unit = text.partition(" ")
    scale = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}.get(unit.strip())
    try:
        return int(float(number) * scale) if scale else None
    except ValueError:
        return None


# --- the Dask target ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The files of a TLS connection to a Dask scheduler (PEM)."""

    ca_file: str
    cert_file: str
    key_file: str


@dataclass(frozen=True, slots=True)
class DaskTarget:
    """A Dask scheduler to train on: its address (``tcp://`` or ``tls://``) and TLS files."""

    address: str
    tls: TlsFiles | None = None

    @property
    def encrypted(self) -> bool:
        """Whether the connection is TLS (data in transit encrypted, scheduler authenticated)."""
        return self.tls is not None

    def security(self) -> Security | None:
        """Dask's ``Security`` for this target (encryption required), or None for plain TCP."""
        if self.tls is None:
            return None
        from distributed import Security

        make: Any = Security
        security: Security = make(tls_ca_file=self.tls.ca_file, tls_client_cert=self.tls.cert_file,
                                  tls_client_key=self.tls.key_file, require_encryption=True)
        return security


def dask_target(compute: str, environ: Mapping[str, str] | None = None) -> DaskTarget:
    """The Dask scheduler a spec's ``compute`` names, with its TLS files from the environment.

    ``dask://host:port`` (or ``tcp://``) is a plain TCP connection; ``tls://host:port`` needs all three of
    :data:`TLS_ENVIRONMENT` set to readable files. TLS variables set with a ``dask://``
    address are refused rather than ignored, so nobody believes a plain connection is encrypted.

    Raises
    ------
    InvalidInput
        Not a Dask address, no port, TLS files missing or unreadable, or TLS set for ``dask://``.
    """
    env = os.environ if environ is None else environ
    scheme, sep, rest = compute.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme not in ("dask", "tcp", "tls") or not colon or not host or not port.isdigit():
        raise InvalidInput(
            f"compute = {compute!r} is not a Dask scheduler address: write \"dask://host:port\" "
            "(plain TCP) or \"tls://host:port\" (TLS)."
        )
    named = {field: env.get(var, "").strip() for field, var in TLS_ENVIRONMENT.items()}
    if scheme in ("dask", "tcp"):
        if any(named.values()):
            set_vars = ", ".join(TLS_ENVIRONMENT[f] for f, v in named.items() if v)
            raise InvalidInput(
                f"{set_vars} set, but compute = {compute!r} is a plain (unencrypted) connection: write "
                f"\"tls://{rest}\" to use TLS, or unset the variables."
            )
        return DaskTarget(f"tcp://{rest}")
    missing = [TLS_ENVIRONMENT[f] for f, v in named.items() if not v]
    if missing:
        raise InvalidInput(
            f"compute = {compute!r} asks for TLS: set {', '.join(missing)} to the PEM files of the "
            "cluster's certificate authority, this client's certificate and its private key."
        )
    for field, path in named.items():
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise InvalidInput(f"{TLS_ENVIRONMENT[field]} names {path}, which is not a readable file.")
    return DaskTarget(f"tls://{rest}", TlsFiles(**named))


@contextlib.contextmanager
def connect(target: DaskTarget) -> Iterator[Client]:
    """A ``distributed.Client`` to ``target`` (the default client while open), closed afterwards.

    Raises
    ------
    InvalidInput
        The scheduler cannot be reached or refused the connection (TLS).
    """
    from distributed import Client

    make: Any = Client
    try:
        client: Client = make(target.address, security=target.security(), timeout=f"{CONNECT_TIMEOUT_S}s",
                        set_as_default=True)
    except (OSError, TimeoutError) as exc:
        raise InvalidInput(
            f"Could not connect to the Dask scheduler at {target.address}: {exc}. Check that the scheduler "
            "runs, the address and port, and (for tls://) the TLS files."
        ) from None
    try:
        yield client
    finally:
        close: Any = client.close
        close()


def worker_threads(client: Client) -> int:
    """How many tasks the cluster runs at once (the sum of its workers' threads; at least 1)."""
    info = client.scheduler_info(n_workers=-1)
    return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))


# --- the export rule (parent side) ----------------------------------------------------------


def check_cluster_export(spec: TrainingSpec, role: str, *, allow_data_export: bool,
                         environ: Mapping[str, str] | None = None) -> DaskTarget:
    """Refuse sending ``spec``'s data to its Dask cluster unless confirmed and allowed here.

    Called by the service before anything runs (and before the audit event is written).

    Parameters
    ----------
    spec
        A spec whose ``compute`` names a Dask scheduler.
    role
        The workspace's role; the roles in :data:`EXPORT_FORBIDDEN_ROLES` never send data out.
    allow_data_export
        The caller's confirmation that the data may leave the encrypted workspace.
    environ
        Where the TLS variables are read (the process environment when None).

    Returns
    -------
    DaskTarget
        The scheduler the data goes to.

    Raises
    ------
    PermissionDenied
        The workspace is a production one.
    InvalidInput
        Not confirmed, a search kind that cannot run on a cluster, or a bad address/TLS setting.
    """
    target = dask_target(spec.compute, environ)
    if role in EXPORT_FORBIDDEN_ROLES:
        raise PermissionDenied(
            f"This is a {role} workspace: its data is never sent to a Dask cluster (compute = {spec.compute!r}). "
            "Train here with compute = \"cpu\" or \"gpu\", or train on a copy of the data in a dev or qa workspace."
        )
    if spec.search.kind == SearchKind.HALVING:
        raise InvalidInput(
            "compute = Dask runs grid, random and bayesian searches; successive halving (search kind "
            "\"halving\") runs its rounds in one process. Choose another search kind or compute = \"cpu\"."
        )
    if not allow_data_export:
        raise InvalidInput(
            f"Training on {target.address} sends the training rows of {spec.dataset} (columns: the target and "
            f"the {len(spec.features)} features) to that Dask cluster, outside the encrypted workspace"
            f"{'' if target.encrypted else ', over an unencrypted connection'}. Confirm it: "
            "allow_data_export=True (on the command line: answer the question, or --yes)."
        )
    return target


def record_cluster_export(tx: Transaction, target: DaskTarget, spec: TrainingSpec, *, spec_hash: str,
                          dataset_version_id: str, rows: int) -> None:
    """Write ``training.data_sent_to_cluster`` in ``tx``, before the data leaves.

    The event names the scheduler, whether TLS was used, the dataset version (label, id and
    content hash), its row count (the training part, at most that many rows, is sent; the
    holdout stays) and the columns sent.
    """
    tx.audit(EXPORT_AUDIT_ACTION, f"dataset:{spec.dataset}", {
        "address": target.address, "tls": target.encrypted, "dataset": spec.dataset,
        "dataset_version": dataset_version_id, "dataset_sha256": spec.dataset_sha256, "rows": rows,
        "columns": [*spec.features, spec.target], "part": "training", "spec_hash": spec_hash,
    })


# --- work on the cluster (child side) -------------------------------------------------------


def search_on_dask(cluster: DaskTarget | Client, evaluate_fn: Callable[..., R], candidates: Sequence[Sequence[Any]],
                   *, shared: Sequence[Any] = (), ctx: TaskContext | None = None, deadline: float | None = None,
                   describe: Callable[[R], str] | None = None) -> list[R]:
    """``evaluate_fn(*shared, *candidate)`` for every candidate, on the cluster's workers.

    The calls go through joblib's Dask backend (``joblib.parallel_config(backend="dask")``);
    ``shared`` (the training rows) is scattered to every worker once, not sent per call.
    ``evaluate_fn`` must be an importable function (the workers unpickle it: they need the same
    Airlock and library versions as this machine).

    Parameters
    ----------
    cluster
        The scheduler to connect to (connected here and closed afterwards), or an open client.
    evaluate_fn
        Scores one candidate; must not raise for a bad candidate (return a failed result).
    candidates
        The arguments of each call after ``shared``.
    shared
        Arguments common to every call (scattered).
    ctx
        A report as each call finishes; cancel is checked between finished calls (the calls
        still running are cancelled on the cluster).
    deadline
        ``time.monotonic()`` after which no more results are waited for (the rest are cancelled;
        at least one result is always waited for).
    describe
        A progress message for a finished call's result.

    Returns
    -------
    list
        The results of the calls that finished, in the order of ``candidates``.
    """
    ctx = ensure_context(ctx)
    if not candidates:
        return []
    if isinstance(cluster, DaskTarget):
        with connect(cluster) as client:
            return search_on_dask(client, evaluate_fn, candidates, shared=shared, ctx=ctx, deadline=deadline,
                                  describe=describe)
    total = len(candidates)
    done: dict[int, R] = {}
    ctx.check()
    with _finished_calls(cluster, evaluate_fn, candidates, shared) as finished:
        for index, result in finished:
            done[index] = result
            ctx.report(len(done) / total, f"trial {len(done)}/{total} done on the cluster"
                       + (f": {describe(result)}" if describe else ""))
            ctx.check()
            if deadline is not None and time.monotonic() > deadline and len(done) < total:
                break
    return [done[i] for i in sorted(done)]


@contextlib.contextmanager
def _finished_calls(client: Client, evaluate_fn: Callable[..., R], candidates: Sequence[Sequence[Any]],
                    shared: Sequence[Any]) -> Iterator[Iterator[tuple[int, R]]]:
    """``(index, result)`` of each call as it finishes on the cluster; the unfinished are cancelled on exit.

    joblib's Dask backend dispatches the calls; it runs them in this process when the cluster
    has a single thread (joblib's rule for one job), so such a cluster gets them straight
    through ``client.submit`` instead: either way they run on the workers.
    """
    if worker_threads(client) > 1:
        import joblib

        # The client passed explicitly: the default one may be another, older cluster.
        with joblib.parallel_config(backend="dask", client=client, scatter=list(shared) or None):
            parallel = joblib.Parallel(n_jobs=-1, return_as="generator_unordered", batch_size=1)
            results: Any = parallel(joblib.delayed(_indexed)(i, evaluate_fn, *shared, *candidate)
                                    for i, candidate in enumerate(candidates))
            try:
                yield results
            finally:
                results.close()  # stops the calls still queued or running on the cluster
        return
    from distributed import as_completed

    untyped: Any = client  # distributed's client is not typed
    finish: Any = as_completed
    scattered: list[Any] = untyped.scatter(list(shared), broadcast=True) if shared else []
    futures = [untyped.submit(_indexed, i, evaluate_fn, *scattered, *candidate, pure=False)
               for i, candidate in enumerate(candidates)]
    try:
        yield (future.result() for future in finish(futures))
    finally:
        untyped.cancel(futures)


def _indexed(index: int, fn: Callable[..., R], *args: Any) -> tuple[int, R]:
    return index, fn(*args)


def training_part(split: Split) -> Split:
    """``split`` without its holdout rows: what may be sent to a cluster."""
    return dataclasses.replace(split, X_hold=split.X_hold.iloc[:0], y_hold=split.y_hold.iloc[:0],
                               frame_hold=split.frame_hold.iloc[:0])


def cross_validate_on_worker(spec: TrainingSpec, split: Split, device: Device, total: int, number: int,
                             algorithm: Algorithm, params: Mapping[str, Any]) -> TrialResult:
    """One trial on a worker: :func:`core.training.runner.cross_validate`, with no progress sink."""
    from core.training.runner import cross_validate

    return cross_validate(TaskContext(), spec, split, device, number, total, algorithm, params)


def trials_on_dask(ctx: TaskContext, cluster: DaskTarget | Client, spec: TrainingSpec, split: Split,
                   device: Device, planned: Sequence[tuple[Algorithm, Mapping[str, Any]]],
                   deadline: float | None = None) -> list[TrialResult]:
    """The grid or random search's trials (``planned``, numbered from 1) cross-validated on the cluster.

    Each result equals what the local loop computes for the same candidate (same folds, same
    seed); only the training part is sent (:func:`training_part`).
    """
    total = len(planned)
    return search_on_dask(
        cluster, cross_validate_on_worker,
        [(number, algorithm, dict(params)) for number, (algorithm, params) in enumerate(planned, start=1)],
        shared=(spec, training_part(split), device, total), ctx=ctx, deadline=deadline, describe=_trial_text,
    )


def bayesian_on_dask(ctx: TaskContext, client: Client, spec: TrainingSpec, split: Split, device: Device,
                     deadline: float | None = None) -> list[TrialResult]:
    """Optuna's TPE (seeded) with trials evaluated on the cluster, a batch at a time.

    Each batch holds as many trials as the cluster runs at once (asked of the study together,
    told together), so the sequence of trials differs from the local one-at-a-time search.
    """
    import optuna

    from core.training.pipeline import suggest_params

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    total = spec.search.trials * len(spec.algorithms)
    width = worker_threads(client)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=spec.seed))
    part = training_part(split)
    trials: list[TrialResult] = []
    while len(trials) < total:
        if deadline is not None and trials and time.monotonic() > deadline:
            break
        asked = [study.ask() for _ in range(min(width, total - len(trials)))]
        batch: list[tuple[int, Algorithm, dict[str, Any]]] = []
        for trial in asked:
            algorithm = (Algorithm(trial.suggest_categorical("algorithm", [str(a) for a in spec.algorithms]))
                         if len(spec.algorithms) > 1 else spec.algorithms[0])
            batch.append((len(trials) + len(batch) + 1, algorithm, suggest_params(trial, algorithm, spec.task)))
        start = len(trials) / total
        results = search_on_dask(client, cross_validate_on_worker, batch, shared=(spec, part, device, total),
                                 ctx=ctx.sub(start, start + len(batch) / total), describe=_trial_text)
        for trial, result in zip(asked, results, strict=True):
            if result.score is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, result.score)
        trials += results
    return trials


def search_on_cluster(ctx: TaskContext, spec: TrainingSpec, split: Split, device: Device,
                      deadline: float | None = None) -> list[TrialResult]:
    """The runner's search when ``spec.compute`` names a Dask cluster: every trial on its workers.

    Grid and random searches cross-validate the runner's candidates
    (:func:`core.training.runner.candidates`) there (:func:`trials_on_dask`); a bayesian search
    asks Optuna for a batch at a time (:func:`bayesian_on_dask`).

    Raises
    ------
    InvalidInput
        The scheduler cannot be reached, or the search kind cannot run on a cluster.
    """
    from core.training.runner import candidates

    if spec.search.kind == SearchKind.HALVING:
        raise InvalidInput("Successive halving does not run on a Dask cluster; choose grid, random or bayesian.")
    with connect(dask_target(spec.compute)) as client:
        if spec.search.kind == SearchKind.BAYESIAN:
            return bayesian_on_dask(ctx, client, spec, split, device, deadline)
        return trials_on_dask(ctx, client, spec, split, device, candidates(spec), deadline)


def fit_final(spec: TrainingSpec, algorithm: Algorithm, pipeline: Any, X: Any, y: Any) -> Any:
    """Fit the chosen candidate's ``pipeline`` on the training part where the spec says.

    XGBoost with ``compute`` a Dask cluster trains there (:func:`refit_on_dask`); anything else
    is ``pipeline.fit(X, y)`` in this process.
    """
    if spec.compute_kind != "dask" or algorithm != Algorithm.XGBOOST:
        return pipeline.fit(X, y)
    with connect(dask_target(spec.compute)) as client:
        return refit_on_dask(client, pipeline, X, y, spec.task)


def _trial_text(result: TrialResult) -> str:
    score = "failed" if result.score is None else f"{result.score:.4g}"
    return f"trial {result.number} ({result.algorithm}) {score}"


def fit_xgboost_on_dask(client: Client, X: Any, y: Any, params: Mapping[str, Any], task: Task) -> Any:
    """Train XGBoost on the cluster (``xgboost.dask``); a local scikit-learn model holding its booster.

    ``X`` (numeric: the preprocessed training part) and ``y`` become Dask dataframes with one
    partition per worker; a ``DaskXGBClassifier`` or ``DaskXGBRegressor`` with ``params``
    trains on them. The returned model is the one a local run stores
    (:class:`~core.training.xgb.LabelledXGBClassifier` with the original labels, or
    ``XGBRegressor``) with the same parameters, its booster loaded from the cluster's
    (``get_booster()`` and the UBJ artefact work as after a local fit).
    """
    import dask.dataframe
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    from xgboost import XGBRegressor
    from xgboost import dask as dxgb

    from core.training.xgb import LabelledXGBClassifier

    data: Any = X
    named = isinstance(X, pd.DataFrame)
    matrix = data.toarray() if sp.issparse(X) else np.asarray(data)
    columns = [str(c) for c in X.columns] if named else [f"f{i}" for i in range(matrix.shape[1])]
    frame = pd.DataFrame(matrix.astype(np.float32), columns=columns)
    kept = {k: v for k, v in params.items() if k not in ("n_jobs", "nthread") and v is not None}
    kept["device"] = "cpu"  # the workers' own device; a GPU cluster is not supported yet
    dd: Any = dask.dataframe
    parts = max(1, min(len(client.scheduler_info(n_workers=-1).get("workers", {})), len(frame)))
    classify = task != Task.REGRESSION
    labels: Any = None
    target = np.asarray(y)
    if classify:
        labels, target = np.unique(target, return_inverse=True)
    features = list(frame.columns)
    frame["__target__"] = target
    # One frame, so features and target share their partitions (no alignment on the cluster).
    both = dd.from_pandas(frame, npartitions=parts)
    X_dd, y_dd = both[features], both["__target__"]
    remote: Any = (dxgb.DaskXGBClassifier if classify else dxgb.DaskXGBRegressor)(**kept)
    remote.client = client
    remote.fit(X_dd, y_dd)
    booster = remote.get_booster()
    if not named:  # as after a local fit on an array: the booster knows no feature names
        booster.feature_names = None
    raw = bytearray(booster.save_raw("ubj"))
    local: Any = LabelledXGBClassifier(**dict(params)) if classify else XGBRegressor(**dict(params))
    local.load_model(raw)
    if classify:
        local.labels_ = labels
    return local


def refit_on_dask(client: Client, pipeline: Any, X: Any, y: Any, task: Task) -> Any:
    """Fit ``pipeline`` (preprocessing here, its XGBoost step on the cluster); the fitted pipeline.

    The preprocessing is fitted on this machine exactly as ``pipeline.fit`` would
    (``fit_transform`` on the training part); only its numeric output and the target go to
    the cluster, where :func:`fit_xgboost_on_dask` trains the model step.
    """
    from core.training.pipeline import MODEL_STEP

    *front, (name, model) = pipeline.steps
    if name != MODEL_STEP:
        raise ValueError(f"the pipeline's last step is {name!r}, not {MODEL_STEP!r}")
    data = X
    for _, step in front:
        data = step.fit_transform(data, y)
    pipeline.steps[-1] = (MODEL_STEP, fit_xgboost_on_dask(client, data, y, model.get_params(), task))
    return pipeline


__all__ = [
    "CONNECT_TIMEOUT_S", "EXPORT_AUDIT_ACTION", "EXPORT_FORBIDDEN_ROLES", "TLS_ENVIRONMENT", "DaskTarget",
    "GpuInfo", "TlsFiles", "bayesian_on_dask", "check_cluster_export", "connect", "cross_validate_on_worker",
    "dask_target", "fit_final", "fit_xgboost_on_dask", "gpu_info", "parse_gpu_query", "record_cluster_export", "refit_on_dask",
    "search_on_cluster", "search_on_dask", "training_part", "trials_on_dask", "worker_threads",
]
