"""One place decides the threads and the allocator; importing the engine changes nothing.

Process-wide settings cannot be undone reliably inside the test process, so the checks that
change them run in a fresh interpreter each and print what they saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core import runtime
from core.errors import InvalidInput

ROOT = Path(__file__).parents[2]


def _fresh(code: str, **env: str) -> dict[str, Any]:
    environment = {k: v for k, v in os.environ.items() if k not in ("ARROW_DEFAULT_MEMORY_POOL", *runtime.THREAD_VARIABLES)}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


_LOOK = (
    "import json, os, sys\n"
    "import pyarrow as pa\n"
    "def look(**more):\n"
    "    return json.dumps(dict(pool=pa.default_memory_pool().backend_name, cpu=pa.cpu_count(), io=pa.io_thread_count(),\n"
    "                           omp=os.environ.get('OMP_NUM_THREADS'), **more))\n"
)


def test_importing_the_engine_changes_no_process_wide_state() -> None:
    seen = _fresh(
        "import json, os, sys, gc\n"
        "before = (dict(os.environ), list(sys.meta_path), gc.isenabled())\n"
        "import core.api, core.data.service, core.data.profiling, core.data.drift, core.processes, core.runtime\n"
        "after = (dict(os.environ), list(sys.meta_path), gc.isenabled())\n"
        + _LOOK
        + "print(look(same=before == after, configured=core.runtime.is_configured()))\n"
    )
    assert seen["same"] is True and seen["configured"] is False
    assert seen["pool"] == "mimalloc"  # pyarrow's own default: nobody chose for it


def test_configure_chooses_the_allocator_when_pyarrow_loads_and_respects_the_variable() -> None:
    code = (
        "import sys\n"
        "from core import runtime\n"
        "runtime.configure()\n"
        "loaded_early = 'pyarrow' in sys.modules\n"
        + _LOOK
        + "print(look(loaded_early=loaded_early))\n"
    )
    chosen = _fresh(code)
    assert chosen["loaded_early"] is False  # configure() itself loads nothing heavy
    assert chosen["pool"] in ("jemalloc", "system")
    assert chosen["omp"] is None  # no thread count given: the libraries keep their defaults
    assert chosen["cpu"] == min(os.cpu_count() or 1, runtime.usable_cores())
    kept = _fresh(code, ARROW_DEFAULT_MEMORY_POOL="mimalloc")
    assert kept["pool"] == "mimalloc"


def test_a_thread_count_reaches_blas_arrow_and_our_pools_and_can_be_replaced() -> None:
    seen = _fresh(
        "import numpy, threadpoolctl\n"
        "from core import runtime\n"
        + _LOOK
        + "runtime.configure(threads=1, io_threads=3)\n"
        "blas = {i['num_threads'] for i in threadpoolctl.threadpool_info()}\n"
        "first = json.loads(look(blas=sorted(blas), workers=runtime.cpu_workers(), io_workers=runtime.io_threads()))\n"
        "runtime.configure()\n"
        "print(json.dumps(dict(first=first, then=json.loads(look(workers=runtime.cpu_workers())))))\n"
    )
    first, then = seen["first"], seen["then"]
    assert (first["cpu"], first["io"], first["omp"], first["workers"], first["io_workers"]) == (1, 3, "1", 1, 3)
    assert first["blas"] in ([], [1])  # every BLAS/OpenMP pool loaded now runs one thread
    assert then["omp"] is None and then["io"] == 8
    assert then["workers"] == min(runtime.DEFAULT_CPU_WORKERS_CAP, runtime.usable_cores())


def test_the_engine_configures_itself_when_no_entry_point_did(tmp_path: Path) -> None:
    seen = _fresh(
        "import json, sys\n"
        "from core import runtime\n"
        "from core.store import keys\n"
        "keys.KDF_ITERATIONS = 2_000\n"
        "from core.api import Engine\n"
        "before = runtime.is_configured()\n"
        f"engine, _ = Engine.create({str(tmp_path / 'w.airlock')!r}, name='T', passphrase='correct horse', use_keyring=False)\n"
        "engine.close()\n"
        "print(json.dumps(dict(before=before, after=runtime.is_configured())))\n"
    )
    assert seen == {"before": False, "after": True}


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "4"])
def test_a_thread_count_must_be_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        runtime.configure(bad)  # type: ignore[arg-type]
