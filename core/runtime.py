"""The one place that decides how many threads the application uses, and Arrow's allocator.

The entry points (``airlock``, ``airlock-desktop``) call :func:`configure` once at start; a
child process started by :mod:`core.processes` calls it with its parent's settings; and
:class:`core.api.Engine` calls :func:`ensure_configured`, so in-process use (tests, benchmarks,
a notebook) gets the same policy without an entry point. Library code reads the pool sizes
from :func:`cpu_workers` and :func:`io_threads` instead of writing numbers of its own.

The policy:

- **Our own thread pools** (profile, drift, type inference) get :func:`cpu_workers`: the
  configured thread count, or one per usable core up to four.
- **BLAS and OpenMP** keep their own default (one thread per core, or whatever the user's
  ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` say) unless a thread count is configured; then
  libraries loaded later read it from those variables and the ones already loaded are limited
  with threadpoolctl. Code that runs many small matrix products on its own threads caps BLAS
  for that block only (``core.data.associations`` uses ``threadpool_limits`` as a context).
- **Arrow** gets its CPU pool bounded by the usable cores (the configured count when given),
  its I/O pool as configured (Arrow's default otherwise) and the memory pool chosen in
  :func:`_choose_the_allocator`.

What this module must not do: import anything heavy, or change anything when it is merely
imported. Arrow's settings are applied the moment pyarrow is first imported (at once when it
already is), so ``airlock --help`` and the desktop's first window do not pay for pyarrow.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from core.errors import InvalidInput

#: At most this many threads in one of our pools when no count is configured: measured on
#: the profile and drift benchmarks, more only fight the BLAS and Arrow pools for the cores.
DEFAULT_CPU_WORKERS_CAP = 4
#: Arrow's own default for its I/O pool, used when nothing is configured.
DEFAULT_IO_THREADS = 8
#: Variables that native thread pools read when they load.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """What an entry point decided.

    Parameters
    ----------
    threads:
        Cores the application's work may use at once (our pools, BLAS/OpenMP, Arrow's CPU
        pool); None: this machine's usable cores, with each library's own default.
    io_threads:
        Threads of Arrow's I/O pool; None: Arrow's default.
    """

    threads: int | None = None
    io_threads: int | None = None


_lock = threading.RLock()
_settings: RuntimeSettings | None = None
_saved_environment: dict[str, str | None] = {}
_blas_limits: Any = None  # a threadpoolctl.threadpool_limits while a count is imposed
_arrow_default_cpu: int | None = None
_arrow_default_io: int | None = None
_allocator_chosen = False
_hook_installed = False


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity call here (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def current() -> RuntimeSettings:
    """The settings in force (the defaults before anything was configured)."""
    return _settings if _settings is not None else RuntimeSettings()


def is_configured() -> bool:
    return _settings is not None


def cpu_workers() -> int:
    """Threads for one of our CPU-bound pools (columns profiled or compared side by side)."""
    threads = current().threads
    if threads is not None:
        return threads
    return min(DEFAULT_CPU_WORKERS_CAP, usable_cores())


def io_threads() -> int:
    """Threads for work that mostly waits on the disk (as configured, else Arrow's usual 8)."""
    io = current().io_threads
    return io if io is not None else DEFAULT_IO_THREADS


def configure(threads: int | None = None, *, io_threads: int | None = None) -> RuntimeSettings:
    """Set the process's thread policy and Arrow's allocator; the entry point calls this once.

    Calling it again with other settings replaces them (what an earlier call imposed on BLAS
    and the environment is undone first); with the same settings it does nothing.

    Parameters
    ----------
    threads:
        Cores the work may use at once; None keeps each library's default (one per core).
    io_threads:
        Threads of Arrow's I/O pool; None keeps Arrow's default.

    Returns
    -------
    RuntimeSettings
        The settings now in force.
    """
    for name, value in (("threads", threads), ("io_threads", io_threads)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InvalidInput(f"The runtime's {name} must be a whole number of at least 1, not {value!r}.")
    global _settings
    settings = RuntimeSettings(threads, io_threads)
    with _lock:
        if _settings == settings:
            return settings
        _settings = settings
        _apply_native_threads(settings)
        _apply_to_arrow_when_loaded()
    return settings


def ensure_configured() -> RuntimeSettings:
    """Configure with the defaults unless an entry point already did (cheap when it did)."""
    with _lock:
        if _settings is not None:
            return _settings
        return configure()


def _apply_native_threads(settings: RuntimeSettings) -> None:
    global _blas_limits
    if _blas_limits is not None:
        _blas_limits.restore_original_limits()
        _blas_limits = None
    for name, value in _saved_environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved_environment.clear()
    if settings.threads is None:
        return
    for name in THREAD_VARIABLES:  # for libraries loaded later, here and in child processes
        _saved_environment[name] = os.environ.get(name)
        os.environ[name] = str(settings.threads)
    if any(name in sys.modules for name in ("numpy", "scipy", "sklearn", "xgboost")):
        threadpoolctl = importlib.import_module("threadpoolctl")
        _blas_limits = threadpoolctl.threadpool_limits(limits=settings.threads)


def _apply_to_arrow_when_loaded() -> None:
    global _hook_installed
    arrow = sys.modules.get("pyarrow")
    if arrow is not None and not getattr(getattr(arrow, "__spec__", None), "_initializing", False):
        _apply_to_arrow()  # (one still loading gets the settings from the finder when it is done)
    elif not _hook_installed:
        _hook_installed = True
        sys.meta_path.insert(0, _WhenArrowLoads())


class _WhenArrowLoads(importlib.abc.MetaPathFinder):
    """Finds nothing itself; lets pyarrow load as usual, then applies the settings to it.

    It stays in ``sys.meta_path`` (answering None) after pyarrow loaded: removing a finder
    while another thread walks that list could make that thread skip one.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pyarrow" or "pyarrow" in sys.modules:
            return None
        spec: importlib.machinery.ModuleSpec | None = None
        for finder in list(sys.meta_path):  # whoever would have found it without us
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        load = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            with _lock:
                _apply_to_arrow()

        loader.exec_module = exec_module  # type: ignore[method-assign]  # this spec's own loader object
        return spec


def _apply_to_arrow() -> None:
    pa = importlib.import_module("pyarrow")
    global _allocator_chosen, _arrow_default_cpu, _arrow_default_io
    if not _allocator_chosen:
        _allocator_chosen = True
        _choose_the_allocator(pa)
    if _arrow_default_cpu is None or _arrow_default_io is None:
        _arrow_default_cpu, _arrow_default_io = pa.cpu_count(), pa.io_thread_count()
    settings = current()
    cpu = settings.threads if settings.threads is not None else min(_arrow_default_cpu, usable_cores())
    if pa.cpu_count() != cpu:
        pa.set_cpu_count(cpu)
    io = settings.io_threads if settings.io_threads is not None else _arrow_default_io
    if pa.io_thread_count() != io:
        pa.set_io_thread_count(io)


def _choose_the_allocator(pa: Any) -> None:
    """Arrow's buffers from jemalloc where pyarrow has it, else from the C library; not mimalloc.

    Measured here on the 1M × 30 benchmarks, alternating runs: profile and drift run about
    0.3–0.8 s faster with either than with Arrow's default mimalloc (which keeps freed
    pages and then has the kernel zero fresh ones for the next column); the C library's
    allocator makes a CSV import peak at 1.3 GB (an arena per parsing thread), jemalloc at
    0.67 GB, mimalloc at 0.73 GB. Whoever sets ``ARROW_DEFAULT_MEMORY_POOL`` keeps their
    choice. See docs/discovery.md.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc (Windows)
        pa.set_memory_pool(pa.system_memory_pool())


__all__ = [
    "DEFAULT_CPU_WORKERS_CAP", "DEFAULT_IO_THREADS", "RuntimeSettings", "configure", "cpu_workers",
    "current", "ensure_configured", "io_threads", "is_configured", "usable_cores",
]
