"""The canary (ML Test Score Infra 6): load an admitted model's verified bytes in a child with no
network, score the canary batch that came in the package, compare with the development predictions.

:func:`canary_in_child` runs in a spawned child (:func:`core.processes.run_in_child`, plain results
only). Before anything is loaded it installs an audit hook that refuses every socket operation, so
a model that tries to reach the network while loading or predicting fails there and then; the
bytes' hash is checked again immediately before ``joblib.load``. :func:`compare` is the parent's
side: labels must be equal, numbers within the package's tolerance.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from core.tasks import TaskContext

_NETWORK_EVENTS = frozenset({
    "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.sendto",
    "socket.sendmsg",
})


def _refuse_network(event: str, args: tuple[Any, ...]) -> None:
    if event in _NETWORK_EVENTS:
        raise PermissionError(f"The canary runs with no network: {event} refused.")


def canary_in_child(ctx: TaskContext, pipeline_bytes: bytes, sha256: str, rows_parquet: bytes) -> list[object]:
    """Predictions of the pipeline in ``pipeline_bytes`` for the rows (child side; no network)."""
    sys.addaudithook(_refuse_network)
    from core.training.runner import score_in_child

    return score_in_child(ctx, pipeline_bytes, sha256, rows_parquet)


def compare(expected: Sequence[object], got: Sequence[object], tolerance: float) -> tuple[float, str | None]:
    """The largest numeric difference, and why the predictions disagree (None when they agree)."""
    if len(expected) != len(got):
        return math.inf, f"the model gave {len(got)} predictions for {len(expected)} canary rows"
    worst = 0.0
    for i, (want, have) in enumerate(zip(expected, got, strict=True)):
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (want, have))
        if numeric:
            diff = abs(float(want) - float(have))  # type: ignore[arg-type]
            if math.isnan(diff) and not (math.isnan(float(want)) and math.isnan(float(have))):  # type: ignore[arg-type]
                return math.inf, f"row {i}: expected {want!r}, got {have!r}"
            worst = max(worst, 0.0 if math.isnan(diff) else diff)
            if diff > tolerance:
                return worst, f"row {i}: expected {want!r}, got {have!r} (tolerance {tolerance:g})"
        elif want != have:
            return math.inf, f"row {i}: expected {want!r}, got {have!r}"
    return worst, None
