"""The seam between the training service (the parent) and the runner (the child process).

What the parent hands the child and what the child returns: plain data and artefact bytes,
pickled over the child's pipe (:mod:`core.processes`). Values of :mod:`core.training.models`.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.training.models import (
    Algorithm,
    Device,
    EnvironmentLock,
    EvidenceItem,
    MetricValue,
    TrainingSpec,
    TrialResult,
)


@dataclass(frozen=True, slots=True)
class TrainingJob:
    """What the parent hands the child: plain data only (the child opens no workspace).

    ``parquet`` is the pinned snapshot's bytes, read by the parent in a query; ``gpu`` says
    whether a CUDA GPU was found (the child trains on it when the spec asks for ``gpu``).
    """

    spec: TrainingSpec
    parquet: bytes
    gpu: bool


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """What the child returns: plain data and artefact bytes, stored by the parent.

    Parameters
    ----------
    algorithm, params
        The chosen candidate and its parameters (the estimator's, without the step prefix).
    trials
        Every trial of the search, in the order they ran.
    holdout
        The optimised metric on the holdout (with its bootstrap interval).
    device
        Where the final model was trained (CPU after a GPU fallback).
    wall_seconds, peak_memory_bytes
        The run's wall time and the child's peak resident memory.
    environment
        The child's environment lock.
    artefacts
        ``(name, bytes)``: ``pipeline.joblib`` always, ``model.ubj`` for XGBoost.
    evidence
        The evidence items computed in the child.
    plots
        ``(name, PNG bytes)`` of the plots built in the child.
    notes
        What the user should hear (``"no GPU found: trained on the CPU"``).
    holdout_output
        The final model's numeric output on the holdout rows, flattened row by row
        (class probabilities, else decision values, else predictions): what the
        reproducibility check compares with a second training in a fresh child.
    """

    algorithm: Algorithm
    params: dict[str, object]
    trials: tuple[TrialResult, ...]
    holdout: MetricValue
    device: Device
    wall_seconds: float
    peak_memory_bytes: int
    environment: EnvironmentLock
    artefacts: tuple[tuple[str, bytes], ...]
    evidence: tuple[EvidenceItem, ...] = ()
    plots: tuple[tuple[str, bytes], ...] = ()
    notes: tuple[str, ...] = ()
    holdout_output: tuple[float, ...] = ()
