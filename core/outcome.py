"""What a mutation returns, which areas it changed, and how service methods declare their kind.

Every public service method is either a **query** (reads only: works on a read-only workspace
and for any member) or a **mutation** (one write transaction with its audit event, returning an
:class:`Outcome`). The two decorators below mark which; a conformance test walks every service
and refuses an unmarked public method, and the desktop routes work by the kind (queries to the
read pool, mutations to the one write thread).

While a query runs inside :func:`queries_only`, the store refuses to open a write transaction,
so a query that writes is caught the first time it runs, not in review.

The desktop re-broadcasts ``Outcome.changes`` on one bus and each page reloads only what it
shows. Change names live here, once, as :class:`Change`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Literal, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class Change(StrEnum):
    """An area of the workspace a mutation changed; pages watch the ones they show."""

    WORKSPACE = "workspace"
    USERS = "users"
    AUDIT = "audit"
    BACKUPS = "backups"
    ASSESSMENTS = "assessments"
    DATASETS = "datasets"
    TRAINING = "training"  # specs and runs
    MODELS = "models"  # model versions and their evidence
    RUBRIC = "rubric"  # rubric results, attestations and the rubric policy
    POLICY = "policy"  # the trust policy of a QA or production workspace
    REGISTRY = "registry"  # admitted packages, champions and their history


# The old module-level names, kept so call sites read naturally (``outcome.AUDIT``).
WORKSPACE = Change.WORKSPACE
USERS = Change.USERS
AUDIT = Change.AUDIT
BACKUPS = Change.BACKUPS
ASSESSMENTS = Change.ASSESSMENTS
DATASETS = Change.DATASETS
TRAINING = Change.TRAINING
MODELS = Change.MODELS
RUBRIC = Change.RUBRIC


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """The value a mutation produced and the areas it changed (empty: nothing was stored)."""

    value: T
    changes: frozenset[Change]


def changes(*areas: Change) -> frozenset[Change]:
    """The change set of a mutation that touched ``areas``; the audit log always changes too."""
    return frozenset((*areas, Change.AUDIT))


OpKind = Literal["query", "mutation"]
_KIND_ATTR = "__airlock_op__"


def query(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark a service method as a query: it never writes and returns a plain value."""
    setattr(fn, _KIND_ATTR, "query")
    return fn


def mutation(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark a service method as a mutation: one audited write transaction, returns an Outcome."""
    setattr(fn, _KIND_ATTR, "mutation")
    return fn


def op_kind(fn: object) -> OpKind | None:
    """``"query"``, ``"mutation"`` or None for a function that was not marked."""
    kind = getattr(getattr(fn, "__func__", fn), _KIND_ATTR, None)
    return kind if kind in ("query", "mutation") else None


_queries_only: contextvars.ContextVar[str | None] = contextvars.ContextVar("airlock_queries_only", default=None)


@contextlib.contextmanager
def queries_only(description: str = "a query") -> Iterator[None]:
    """Inside this block the store refuses write transactions (see :func:`write_forbidden_by`)."""
    token = _queries_only.set(description)
    try:
        yield
    finally:
        _queries_only.reset(token)


def write_forbidden_by() -> str | None:
    """The description of the enclosing :func:`queries_only` block, or None where writes are allowed."""
    return _queries_only.get()
