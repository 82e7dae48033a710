"""What this installation can do: versions, keyring, GPU, Dask. Imports nothing heavy.

The keyring check names the backend Airlock would use (chosen from its allowlist) and
flags any other keyring configuration on the machine, which Airlock ignores; it reads that
configuration as text and never lets ``keyring`` load it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
from dataclasses import dataclass, field

import core


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.name in {"sqlcipher"})


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cuda() -> Check:
    from core.training.compute import gpu_info

    gpu = gpu_info()
    if gpu is not None:
        return Check("cuda_gpu", True, gpu.summary)
    return Check("cuda_gpu", False, "no CUDA GPU found (nvidia-smi absent or finds none): training runs on the CPU")


def run_doctor() -> DoctorReport:
    from core.store.keys import configured_elsewhere, keyring_status

    checks = [Check("airlock", True, core.__version__), Check("python", True, platform.python_version())]
    from core.store.db import cipher_versions

    try:
        cipher, provider = cipher_versions()
        checks.append(Check("sqlcipher", cipher is not None, f"{cipher or 'missing'} ({provider or '?'})"))
    except Exception as exc:
        checks.append(Check("sqlcipher", False, f"not usable: {exc}"))
    for dist in ("SQLAlchemy", "alembic", "cryptography", "keyring", "numpy", "matplotlib", "PySide6-Essentials"):
        version = _version(dist)
        checks.append(Check(dist.lower(), version is not None, version or "not installed"))
    ok, why = keyring_status()
    checks.append(Check("keyring_backend", ok, f"would use {why}" if ok else f"{why}: workspaces use a passphrase"))
    others = configured_elsewhere()
    checks.append(Check(
        "keyring_config", not others,
        "nothing else configured" if not others else
        "ignored for Airlock's key (only the allowlisted OS keyrings are used): " + "; ".join(others),
    ))
    checks.append(_cuda())
    dask = importlib.util.find_spec("dask") is not None and importlib.util.find_spec("distributed") is not None
    dask_detail = "dask.distributed installed" if dask else "dask.distributed not installed: no cluster training"
    checks.append(Check("dask", dask, dask_detail))
    return DoctorReport(checks)
