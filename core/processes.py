"""Running a function in a child process, with progress and cancel through the same TaskContext.

``run_in_child(fn, *args, ctx=ctx, secrets={...}, **kwargs)`` starts a fresh interpreter (the
``spawn`` method, never ``fork``: no copy of the parent's threads, locks, open store or key),
sends it the job over a pipe, and runs ``fn(child_ctx, *args, **kwargs, **secrets)`` there.
``fn`` is an importable top-level function written against :class:`~core.tasks.TaskContext`,
so the same service function runs unchanged on a thread or in a child:

- ``child_ctx.report(fraction, message)`` arrives as ``ctx.report`` in the parent, throttled
  the same way (the child's context throttles, the parent's too);
- ``ctx.token.cancel()`` in the parent makes ``child_ctx.check()`` raise
  :class:`~core.errors.Cancelled`; a child that does not stop by itself within
  :data:`CANCEL_GRACE_S` is terminated, then killed. Either way the parent raises ``Cancelled``
  and the child is gone: cancel ends it within a second.
- The return value (picklable) comes back over the pipe in chunks of :data:`CHUNK_BYTES`.
- An :class:`~core.errors.AirlockError` raised in the child is raised again in the parent as
  the same class with the same message; any other exception becomes :class:`ChildFailed`
  naming it; ``MemoryError`` (for instance past ``memory_limit_bytes``) becomes
  :class:`ChildOutOfMemory`; a child that exits or is killed without answering becomes a
  ``ChildFailed`` saying how it ended. The parent waits on the child's pipe and its process
  sentinel together, so a dead child is noticed at once, never by a timeout.

Everything the child sends is decoded with an unpickler that imports no class (plain data
only), and an error's class is looked up only in ``core``; the return value too when
``plain_result=True``, which work that loads untrusted artefacts must use: then nothing the
child does can run code in the parent.

Secrets (the workspace key, a passphrase) go over the pipe after the child started, never in
its command line or environment: while the child is started, variables whose names look
secret (``*PASSPHRASE*``, ``*PASSWORD*``, ``*SECRET*``, ``*TOKEN*``, ``*_KEY``) or whose value
is one of the given secrets are taken out of the environment it inherits.

What this module must not do: write anything to disk (no temporary files, no named
semaphores: only anonymous pipes), or let the child write to the store. The child holds no
writer; it hands its results back and the parent commits them in one write transaction (see
"Work in a child process" in docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import multiprocessing
import os
import pickle
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from core import runtime
from core.errors import AirlockError, Cancelled, InvalidInput
from core.tasks import CancelToken, TaskContext, ensure_context

T = TypeVar("T")

#: Seconds a child has, after the parent's cancel, to stop by itself before it is terminated.
CANCEL_GRACE_S = 0.5
#: Seconds a terminated (SIGTERM) child has before it is killed (SIGKILL).
TERMINATE_GRACE_S = 0.2
#: Seconds a child that answered has to exit before it is terminated.
EXIT_GRACE_S = 1.0
#: How often the parent looks at its cancel token while it waits for the child's next word.
POLL_S = 0.05
#: Results and jobs cross the pipe in pieces of this size.
CHUNK_BYTES = 4 * 1024 * 1024

_SPAWN = multiprocessing.get_context("spawn")
_SECRET_NAME = re.compile(r"PASSPHRASE|PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|_KEY$", re.IGNORECASE)
_environment_lock = threading.Lock()


class ChildFailed(AirlockError):
    """Work in a child process failed: an exception there, or the process died."""

    code = "child_failed"


class ChildOutOfMemory(ChildFailed):
    """Work in a child process ran out of memory (its limit, or the machine's)."""

    code = "child_out_of_memory"


#: How much lower than its parent a child runs (``nice`` increment, POSIX).
CHILD_NICENESS = 5


def run_in_child(
    fn: Callable[..., T],
    *args: Any,
    ctx: TaskContext | None = None,
    secrets: Mapping[str, Any] | None = None,
    memory_limit_bytes: int | None = None,
    plain_result: bool = False,
    **kwargs: Any,
) -> T:
    """Run ``fn(child_ctx, *args, **kwargs, **secrets)`` in a spawned child and return its result.

    Parameters
    ----------
    fn:
        An importable top-level function whose first parameter is a ``TaskContext``.
    ctx:
        The parent's context: the child's reports arrive here and its token cancels the child.
    secrets:
        Keyword arguments for ``fn`` that must not reach the child's command line or
        environment (keys, passphrases); they travel over the pipe like the others.
    memory_limit_bytes:
        Address-space limit of the child (``RLIMIT_AS``, POSIX only); an allocation past it
        raises ``MemoryError`` there and :class:`ChildOutOfMemory` here.
    plain_result:
        Accept only plain data back (str, bytes, numbers, lists, dicts, tuples, sets, None):
        for work that loads untrusted artefacts, so nothing the child sends can make the
        parent import a class or run code while decoding it.

    Returns
    -------
    T
        What ``fn`` returned (it must be picklable).

    Raises
    ------
    Cancelled
        The token was cancelled before the result arrived; the child has ended.
    AirlockError
        The same class and message the child raised.
    ChildFailed
        Any other exception in the child, or the child ended without answering.
    """
    return ChildTask(
        fn, *args, ctx=ctx, secrets=secrets, memory_limit_bytes=memory_limit_bytes, plain_result=plain_result, **kwargs,
    ).run()


class ChildTask(Generic[T]):
    """One function run in one child process; :func:`run_in_child` in two steps.

    ``process`` is the child (None before :meth:`run` starts it), for a caller or a test that
    needs its pid. A task runs once.
    """

    def __init__(
        self,
        fn: Callable[..., T],
        *args: Any,
        ctx: TaskContext | None = None,
        secrets: Mapping[str, Any] | None = None,
        memory_limit_bytes: int | None = None,
        plain_result: bool = False,
        **kwargs: Any,
    ) -> None:
        self._target = _reference(fn)
        #: How messages name the work: ``train_model`` reads "train model".
        self.description = self._target[1].replace("_", " ").strip() or "work"
        clash = set(kwargs) & set(secrets or {})
        if clash:
            raise TypeError(f"{sorted(clash)} given both as secrets and as keyword arguments")
        if memory_limit_bytes is not None:
            if isinstance(memory_limit_bytes, bool) or not isinstance(memory_limit_bytes, int) or memory_limit_bytes < 1:
                raise InvalidInput(f"A memory limit must be a positive number of bytes, not {memory_limit_bytes!r}.")
            try:
                import resource  # noqa: F401  (only to fail here, not in the child)
            except ImportError:
                raise InvalidInput("A memory limit for a child process needs a POSIX system.") from None
        self._ctx = ensure_context(ctx)
        self._memory_limit = memory_limit_bytes
        self._plain_result = plain_result
        self._secret_values = [v for v in (secrets or {}).values() if isinstance(v, (str, bytes))]
        # Pickled now, so an argument that cannot cross fails before any process starts.
        try:
            self._job: bytes | None = pickle.dumps((args, kwargs, dict(secrets or {})), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # pickle raises several kinds for the same mistake
            raise TypeError(f"the arguments of {self._target[1]} cannot be sent to a child process: {exc}") from exc
        self.process: BaseProcess | None = None

    def run(self) -> T:
        """Start the child, relay its progress, and return its result (see :func:`run_in_child`)."""
        if self._job is None:
            raise RuntimeError("a ChildTask runs once")
        self._ctx.check()
        job_r, job_w = _SPAWN.Pipe(duplex=False)  # parent -> child: the job, then "cancel"
        out_r, out_w = _SPAWN.Pipe(duplex=False)  # child -> parent: progress, then the answer
        proc = _SPAWN.Process(
            target=_child_main,
            args=(job_r, out_w, self._target, runtime.current(), self._memory_limit),
            name=f"airlock-child-{self._target[1]}",
        )
        self.process = proc
        try:
            with _environment_without(self._secret_values):
                proc.start()
        finally:
            # Only the child holds these ends now, so a read here ends when the child does.
            job_r.close()
            out_w.close()
        cancel_at: list[float] = []
        try:
            job, self._job, self._secret_values = self._job, None, []
            try:
                _send_payload(job_w, job)
            except OSError:
                pass  # the child died before reading: its sentinel says so below
            del job
            return self._relay(proc, job_w, out_r, cancel_at)
        finally:
            patience = max(0.0, cancel_at[0] - time.monotonic()) if cancel_at else EXIT_GRACE_S
            _stop(proc, patience)
            job_w.close()
            out_r.close()

    def _relay(self, proc: BaseProcess, job_w: Connection, out_r: Connection, cancel_at: list[float]) -> T:
        ctx = self._ctx
        while True:
            if not cancel_at and ctx.token.cancelled:
                cancel_at.append(time.monotonic() + CANCEL_GRACE_S)
                with contextlib.suppress(OSError):
                    job_w.send(("cancel",))
            timeout = POLL_S if not cancel_at else max(0.0, cancel_at[0] - time.monotonic())
            ready = wait([out_r, proc.sentinel], timeout)
            if out_r in ready:
                try:
                    message = _plain_loads(out_r.recv_bytes())
                except (EOFError, OSError):
                    proc.join(EXIT_GRACE_S)  # it closed its end: it is exiting or dead
                    raise self._ended(proc) from None
                kind = message[0] if isinstance(message, tuple) and message else None
                if kind == "progress":
                    if not cancel_at:
                        ctx.report(float(message[1]), str(message[2]))
                    continue
                if kind == "result" and isinstance(message[1], int) and message[1] >= 0:
                    data = _receive_payload(out_r, message[1], ctx.token)
                    if data is None or ctx.token.cancelled:
                        raise Cancelled("Cancelled by the user.")
                    try:
                        value: T = _plain_loads(data) if self._plain_result else pickle.loads(data)
                    except pickle.UnpicklingError as exc:
                        raise ChildFailed(
                            f"The work \"{self.description}\" returned something other than plain data ({exc}), "
                            "which work on untrusted input may not. Nothing was saved."
                        ) from None
                    return value
                if kind == "error":
                    if cancel_at or ctx.token.cancelled:
                        raise Cancelled("Cancelled by the user.")
                    raise self._rebuild(message[1])
                raise ChildFailed(f"The child process running \"{self.description}\" sent {kind!r}, which is not a message.")
            if proc.sentinel in ready:
                proc.join()
                if cancel_at:
                    raise Cancelled("Cancelled by the user.")
                raise self._ended(proc)
            if cancel_at and time.monotonic() >= cancel_at[0]:
                raise Cancelled("Cancelled by the user.")  # run() terminates the child

    def _ended(self, proc: BaseProcess) -> ChildFailed:
        code = proc.exitcode
        limit = f" (its memory limit was {_mib(self._memory_limit)})" if self._memory_limit else ""
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code == signal.SIGKILL:
                return ChildFailed(
                    f"The child process running \"{self.description}\" was killed ({name}): the system does "
                    f"that when memory runs out{limit}, or someone ended it. Nothing was saved; free some "
                    "memory or use less data, and try again."
                )
            return ChildFailed(
                f"The child process running \"{self.description}\" died of {name}{limit}. Nothing was saved; "
                "try again, and report it if it happens again."
            )
        if code is None:
            return ChildFailed(f"The child process running \"{self.description}\" stopped answering. Nothing was saved.")
        return ChildFailed(
            f"The child process running \"{self.description}\" exited with status {code} before it finished. "
            "Nothing was saved; try again, and report it if it happens again."
        )

    def _rebuild(self, error: dict[str, Any]) -> AirlockError:
        note = "In the child process:\n" + error["traceback"]
        if error["kind"] == "memory":
            limit = f" of {_mib(self._memory_limit)}" if self._memory_limit else ""
            exc: AirlockError = ChildOutOfMemory(
                f"The work \"{self.description}\" ran out of memory in its child process (a limit{limit} or the "
                "machine's) and was stopped. Nothing was saved; use less data or allow more memory."
            )
        elif error["kind"] == "airlock" and (cls := _airlock_class(str(error["module"]), str(error["qualname"]))) is not None:
            exc = cls.__new__(cls)  # the class's own __init__ may want more than the message
            Exception.__init__(exc, error["message"])
            exc.__dict__.update(error["state"])
        else:
            exc = ChildFailed(
                f"The work \"{self.description}\" failed in its child process: {error['qualname']}: {error['message']}. "
                "Nothing was saved."
            )
        exc.add_note(note)
        return exc


def _reference(fn: Callable[..., Any]) -> tuple[str, str]:
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or not name or "." in name or "<" in name:
        raise TypeError(f"{fn!r} must be a top-level function of an importable module to run in a child process")
    found = getattr(importlib.import_module(module), name, None)
    if found is not fn:
        raise TypeError(f"{module}.{name} does not name {fn!r}, so a child process could not import it")
    return module, name


def _airlock_class(module: str, qualname: str) -> type[AirlockError] | None:
    if module != "core" and not module.startswith("core."):  # never import what a child names
        return None
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) and issubclass(found, AirlockError) else None


def _mib(n: int | None) -> str:
    return f"{(n or 0) / 2**20:,.0f} MiB"


@contextlib.contextmanager
def _environment_without(secret_values: list[str | bytes]) -> Iterator[None]:
    """The environment minus anything secret while a child is started (it inherits a copy).

    Other threads briefly see those variables missing; they are read once, when a workspace
    is opened, so that window is accepted.
    """
    texts = {v if isinstance(v, str) else v.hex() for v in secret_values if v}
    with _environment_lock:
        removed = {
            name: value for name, value in os.environ.items()
            if _SECRET_NAME.search(name) or value in texts
        }
        for name in removed:
            del os.environ[name]
        try:
            yield
        finally:
            os.environ.update(removed)


def _stop(proc: BaseProcess, patience: float) -> None:
    """The child is gone when this returns: it gets ``patience`` s, then SIGTERM, then SIGKILL."""
    if proc.pid is None:
        return
    proc.join(patience)
    if proc.exitcode is None:
        proc.terminate()
        proc.join(TERMINATE_GRACE_S)
    if proc.exitcode is None:
        proc.kill()
        proc.join()


def _send_payload(conn: Connection, data: bytes) -> None:
    conn.send(("payload", len(data)))
    view = memoryview(data)
    for start in range(0, len(data), CHUNK_BYTES):
        conn.send_bytes(view[start:start + CHUNK_BYTES])


def _receive_payload(conn: Connection, size: int, token: CancelToken | None = None) -> bytearray | None:
    """``size`` bytes sent by :func:`_send_payload`; None when ``token`` is cancelled meanwhile."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    offset = 0
    while offset < size:
        if token is not None and token.cancelled:
            return None
        offset += conn.recv_bytes_into(view[offset:])
    return buffer


class _PlainUnpickler(pickle.Unpickler):
    """Decodes plain data only: no class is imported, so decoding cannot run anyone's code."""

    _ALLOWED = frozenset({("builtins", n) for n in ("set", "frozenset", "bytearray", "complex", "slice", "range")})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _plain_loads(data: bytes | bytearray) -> Any:
    return _PlainUnpickler(io.BytesIO(data)).load()


# --- in the child ---------------------------------------------------------------------


class _Outbox:
    """The child's end of the pipe to the parent; one message at a time whatever the thread.

    Once the parent is gone (the pipe is broken) nothing more is sent, and the token is
    cancelled so the work stops at its next check.
    """

    def __init__(self, conn: Connection, token: CancelToken) -> None:
        self._conn = conn
        self._token = token
        self._lock = threading.Lock()

    def progress(self, fraction: float, message: str) -> None:
        with self._lock, self._unless_the_parent_is_gone():
            self._conn.send_bytes(pickle.dumps(("progress", float(fraction), str(message))))

    @contextlib.contextmanager
    def _unless_the_parent_is_gone(self) -> Iterator[None]:
        try:
            yield
        except OSError:  # nobody is listening any more
            self._token.cancel()

    def answer(self, kind: str, payload: Any) -> None:
        with self._lock, self._unless_the_parent_is_gone():
            if kind == "result":
                self._conn.send_bytes(pickle.dumps(("result", len(payload))))
                view = memoryview(payload)
                for start in range(0, len(payload), CHUNK_BYTES):
                    self._conn.send_bytes(view[start:start + CHUNK_BYTES])
            else:
                self._conn.send_bytes(pickle.dumps((kind, payload)))


def _child_main(
    job_in: Connection, out: Connection, target: tuple[str, str], settings: runtime.RuntimeSettings,
    memory_limit: int | None,
) -> None:
    """The child's whole life: limit, configure, read the job, run it, answer, exit."""
    if hasattr(os, "nice"):
        # Below the parent's priority: a busy child never starves the window that watches it
        # (measured: 10 ms GUI ticks stalled up to 0.9 s on a loaded 2-core machine without it).
        # With nothing else to run, a niced process runs just as fast.
        os.nice(CHILD_NICENESS)
    if memory_limit is not None:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # hard too: the work cannot raise it
    token = CancelToken()
    outbox = _Outbox(out, token)
    try:
        runtime.configure(settings.threads, io_threads=settings.io_threads)
        header = job_in.recv()
        data = _receive_payload(job_in, header[1])
        assert data is not None
        args, kwargs, secrets = pickle.loads(data)
        del data
        fn = getattr(importlib.import_module(target[0]), target[1])
    except BaseException as exc:  # noqa: BLE001 - whatever it was, the parent hears of it
        outbox.answer("error", _describe(exc))
        return
    threading.Thread(target=_listen, args=(job_in, token), name="airlock-child-cancel", daemon=True).start()
    try:
        result = fn(TaskContext(outbox.progress, token), *args, **kwargs, **secrets)
        del args, kwargs, secrets
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        del result
    except BaseException as exc:  # noqa: BLE001 - whatever it was, the parent hears of it
        outbox.answer("error", _describe(exc))
        return
    outbox.answer("result", payload)


def _listen(job_in: Connection, token: CancelToken) -> None:
    """Turn the parent's "cancel" into the token; if the parent is gone, stop soon regardless."""
    try:
        while job_in.recv() != ("cancel",):
            pass
        token.cancel()
        return
    except (EOFError, OSError):
        token.cancel()  # the parent died or gave up: nobody will read the result
    time.sleep(CANCEL_GRACE_S)
    os._exit(70)


def _describe(exc: BaseException) -> dict[str, Any]:
    kind = "memory" if isinstance(exc, MemoryError) else "airlock" if isinstance(exc, AirlockError) else "other"
    state: dict[str, Any] = {}
    if kind == "airlock":  # plain fields only (WorkspaceInUse's host and pid); the class and message always
        state = {k: v for k, v in vars(exc).items() if isinstance(v, (str, int, float, bool, type(None)))}
    try:
        text = "".join(traceback.format_exception(exc))
    except MemoryError:
        text = f"{type(exc).__name__} (no memory left for the traceback)\n"
    return {
        "kind": kind, "module": type(exc).__module__, "qualname": type(exc).__qualname__,
        "message": str(exc), "state": state, "traceback": text,
    }


__all__ = ["CANCEL_GRACE_S", "ChildFailed", "ChildOutOfMemory", "ChildTask", "run_in_child"]
