"""GPU detection, Dask targets and TLS settings, the cluster export rule, and compute = "gpu" without a GPU.

The Dask cluster tests (real ``distributed.LocalCluster`` worker processes) are in
``test_compute_dask.py``.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInput, PermissionDenied
from core.training import compute
from core.training.compute import DaskTarget, check_cluster_export, dask_target, gpu_info, parse_gpu_query
from core.training.models import Algorithm, Device, SearchKind, SearchSpec, SplitSpec, Task, TrainingSpec

NO_GPU = "no CUDA GPU on this machine"


def _spec(**changes: Any) -> TrainingSpec:
    spec = TrainingSpec(dataset="bc@1", dataset_sha256="0" * 64, target="target", task=Task.BINARY,
                        features=("a", "b"), algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(SearchKind.RANDOM, 2),
                        compute="dask://127.0.0.1:8786")
    return dataclasses.replace(spec, **changes)


# --- GPU ------------------------------------------------------------------------------------


def test_nvidia_smi_answer_is_read_as_name_memory_and_driver() -> None:
    gpu = parse_gpu_query("NVIDIA H200, 143771 MiB, 550.54.15\nNVIDIA H200, 143771 MiB, 550.54.15\n")
    assert gpu is not None
    assert (gpu.name, gpu.memory_bytes, gpu.driver, gpu.count) == ("NVIDIA H200", 143771 * 2**20, "550.54.15", 2)
    assert gpu.summary == "NVIDIA H200, 140 GiB, driver 550.54.15 (1 of 2)"
    # a name with a comma keeps it; unknown memory stays unknown
    odd = parse_gpu_query("Tesla, rev. B, [N/A], 470.1")
    assert odd is not None and (odd.name, odd.memory_bytes, odd.driver) == ("Tesla, rev. B", None, "470.1")
    assert parse_gpu_query("") is None
    assert parse_gpu_query("No devices were found") is None


def test_gpu_info_is_none_without_nvidia_smi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_info() is None


def test_gpu_info_runs_nvidia_smi_and_doctor_shows_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a real executable named nvidia-smi on PATH answering as the driver does: checks the command line too
    smi = tmp_path / "nvidia-smi"
    smi.write_text('#!/bin/sh\n[ "$1" = "--query-gpu=name,memory.total,driver_version" ] && '
                   '[ "$2" = "--format=csv,noheader" ] && echo "NVIDIA A100-SXM4-80GB, 81920 MiB, 535.104.05"\n')
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    gpu = gpu_info()
    assert gpu is not None and gpu.name == "NVIDIA A100-SXM4-80GB" and gpu.driver == "535.104.05"
    from core.doctor import run_doctor
    from core.training.service import gpu_available

    check = next(c for c in run_doctor().checks if c.name == "cuda_gpu")
    assert check.ok and check.detail == "NVIDIA A100-SXM4-80GB, 80 GiB, driver 535.104.05"
    assert gpu_available()


# --- Dask targets and TLS -------------------------------------------------------------------


def _tls_files(folder: Path) -> dict[str, str]:
    env = {}
    for field, var in compute.TLS_ENVIRONMENT.items():
        path = folder / f"{field}.pem"
        path.write_text("-----BEGIN CERTIFICATE-----\n")
        env[var] = str(path)
    return env


def test_dask_addresses() -> None:
    assert dask_target("dask://sched.example:8786", {}) == DaskTarget("tcp://sched.example:8786")
    assert dask_target("tcp://10.0.0.5:8786", {}) == DaskTarget("tcp://10.0.0.5:8786")
    assert not dask_target("dask://h:1", {}).encrypted and dask_target("dask://h:1", {}).security() is None
    for bad in ("dask://", "dask://host", "dask://host:port", "http://host:8786", "cpu"):
        with pytest.raises(InvalidInput, match="not a Dask scheduler address"):
            dask_target(bad, {})


def test_tls_target_takes_its_files_from_the_environment(tmp_path: Path) -> None:
    env = _tls_files(tmp_path)
    target = dask_target("tls://sched.example:8786", env)
    assert target.encrypted and target.address == "tls://sched.example:8786"
    security = target.security()
    assert security is not None and security.require_encryption
    assert security.tls_ca_file == env["AIRLOCK_DASK_TLS_CA_FILE"]
    assert security.tls_client_cert == env["AIRLOCK_DASK_TLS_CERT_FILE"]
    assert security.tls_client_key == env["AIRLOCK_DASK_TLS_KEY_FILE"]


def test_tls_settings_that_cannot_work_are_refused(tmp_path: Path) -> None:
    env = _tls_files(tmp_path)
    with pytest.raises(InvalidInput, match="AIRLOCK_DASK_TLS_KEY_FILE") as missing:
        dask_target("tls://h:8786", {k: v for k, v in env.items() if k != "AIRLOCK_DASK_TLS_KEY_FILE"})
    assert "AIRLOCK_DASK_TLS_CA_FILE" not in str(missing.value)
    with pytest.raises(InvalidInput, match="not a readable file"):
        dask_target("tls://h:8786", {**env, "AIRLOCK_DASK_TLS_CA_FILE": str(tmp_path / "absent.pem")})
    # TLS files set but a plain address: refused, never silently unencrypted
    with pytest.raises(InvalidInput, match="plain \\(unencrypted\\) connection"):
        dask_target("dask://h:8786", env)


def test_tls_variables_reach_a_child_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # core.processes strips secret-looking names (``*_KEY``) from a child's environment: ours must pass
    from core.processes import run_in_child

    for var, value in _tls_files(tmp_path).items():
        monkeypatch.setenv(var, value)
    seen = run_in_child(_tls_environment_in_child)
    assert seen == {var: os.environ[var] for var in compute.TLS_ENVIRONMENT.values()}


def _tls_environment_in_child(ctx: Any) -> dict[str, str | None]:
    return {var: os.environ.get(var) for var in compute.TLS_ENVIRONMENT.values()}


# --- the export rule ------------------------------------------------------------------------


def test_export_needs_confirmation_saying_what_leaves() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_cluster_export(_spec(), "dev", allow_data_export=False, environ={})
    message = str(refused.value)
    assert "tcp://127.0.0.1:8786" in message and "bc@1" in message and "outside the encrypted workspace" in message
    assert "unencrypted" in message and "allow_data_export=True" in message
    assert check_cluster_export(_spec(), "dev", allow_data_export=True, environ={}) == DaskTarget("tcp://127.0.0.1:8786")
    assert check_cluster_export(_spec(), "qa", allow_data_export=True, environ={}).address == "tcp://127.0.0.1:8786"


def test_production_workspace_never_sends_data_to_a_cluster() -> None:
    with pytest.raises(PermissionDenied, match="prod workspace: its data is never sent to a Dask cluster"):
        check_cluster_export(_spec(), "prod", allow_data_export=True, environ={})


def test_successive_halving_is_refused_on_a_cluster() -> None:
    with pytest.raises(InvalidInput, match="successive halving"):
        check_cluster_export(_spec(search=SearchSpec(SearchKind.HALVING, 2)), "dev", allow_data_export=True, environ={})


def test_service_refuses_prod_and_unconfirmed_before_anything_runs(
        tmp_path: Path, engine: Any, imported: Callable[..., Any]) -> None:
    from core.api import Engine
    from tests.conftest import PASSPHRASE

    version = imported("breast_cancer")
    spec = engine.training.init_spec(version.label, "target")
    spec = dataclasses.replace(spec, compute="dask://127.0.0.1:9", search=SearchSpec(SearchKind.RANDOM, 1),
                               split=SplitSpec(cv_folds=2))
    _, before = engine.audit.events(limit=1)
    with pytest.raises(InvalidInput, match="outside the encrypted workspace"):
        engine.training.run(spec)
    assert engine.training.runs() == []
    assert engine.audit.events(limit=1)[1] == before  # nothing recorded, nothing sent

    prod, _ = Engine.create(tmp_path / "prod.airlock", name="Prod", role="prod", passphrase=PASSPHRASE,
                            use_keyring=False)
    try:
        path = tmp_path / "files" / "breast_cancer.csv"
        pv = prod.datasets.import_file(path, name="breast_cancer").value.version
        pspec = dataclasses.replace(spec, dataset=pv.label, dataset_sha256=pv.content_sha256)
        with pytest.raises(PermissionDenied, match="This is a prod workspace"):
            prod.training.run(pspec, allow_data_export=True)
        assert prod.training.runs() == []
    finally:
        prod.close()


# --- compute = "gpu" ------------------------------------------------------------------------


@pytest.mark.skipif(gpu_info() is not None, reason="this machine has a CUDA GPU: the no-GPU paths do not apply")
def test_gpu_without_a_gpu_fails_before_the_run_or_falls_back(engine: Any, imported: Callable[..., Any]) -> None:
    version = imported("breast_cancer")
    spec = engine.training.init_spec(version.label, "target")
    spec = dataclasses.replace(spec, compute="gpu", algorithms=(Algorithm.XGBOOST,),
                               search=SearchSpec(SearchKind.RANDOM, 1), split=SplitSpec(cv_folds=2), bootstrap_rounds=20)
    with pytest.raises(InvalidInput, match="no CUDA GPU was found here") as refused:
        engine.training.run(spec)
    assert "allow_cpu_fallback" in str(refused.value)
    assert engine.training.runs() == []  # refused before a run was recorded

    stored = engine.training.run(dataclasses.replace(spec, allow_cpu_fallback=True)).value
    assert stored.device == Device.CPU and stored.algorithm == Algorithm.XGBOOST
    assert stored.environment.gpu is None


@pytest.mark.skipif(gpu_info() is None, reason=NO_GPU)
def test_gpu_trains_xgboost_on_cuda(engine: Any, imported: Callable[..., Any]) -> None:
    version = imported("breast_cancer")
    spec = engine.training.init_spec(version.label, "target")
    spec = dataclasses.replace(spec, compute="gpu", algorithms=(Algorithm.XGBOOST,),
                               search=SearchSpec(SearchKind.RANDOM, 1), split=SplitSpec(cv_folds=2), bootstrap_rounds=20)
    stored = engine.training.run(spec).value
    assert stored.device == Device.CUDA and stored.environment.gpu is not None
