"""The training service: specs from a dataset's profile, checked before anything runs.

``TrainingService(store, actor)`` is what ``Engine.training`` returns. This first part holds
the two queries over specs (:meth:`TrainingService.init_spec`, :meth:`TrainingService.validate`);
the runs, model versions and evidence methods are added beside them. It reads datasets through
the discovery service and must not import the facade or the CLI.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from core.errors import NotFound
from core.outcome import query
from core.training.models import SpecProblem, Task, TrainingSpec
from core.training.spec import init_spec, validate_spec

if TYPE_CHECKING:
    from core.data.models import Schema
    from core.store.db import Store
    from core.tasks import TaskContext


def gpu_available() -> bool:
    """Whether an NVIDIA CUDA driver is present here (what ``airlock doctor`` reports)."""
    return os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi") is not None


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
