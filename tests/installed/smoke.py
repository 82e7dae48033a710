"""Smoke flow through an installed Airlock: the wheel, its ``airlock`` command, no source tree.

``make smoke`` builds the wheel, installs it into ``.venv-installed`` and runs this script,
which:

1. checks that the venv imports ``core`` and ``airlock_resources`` from its own site-packages
   (never from the checkout) and that the wheel holds the resources and the migrations;
2. runs one user's flow through the installed ``airlock`` command, from a temporary folder,
   with ``HOME`` and the XDG folders pointed inside it: workspace init, CSV import, profile
   with a target and an HTML report, schema inference, an assessment on every built-in model
   with its HTML and PDF report; then promotion: a small model trained and rubric run, signing
   keys made, a package built and checked by the public ``python -m model_signing verify key``
   installed beside Airlock, approved, a QA workspace given a signed trust policy, the package
   admitted there (its canary scored in a child) and promoted; backup, verify-backup;
3. runs the same flow again inside a new network namespace (``unshare -n``, or ``unshare -rn``
   where only user namespaces are allowed) after proving that nothing there can be reached;
   where neither is allowed it prints ``SKIPPED no-network smoke: <reason>`` and succeeds.

Standard library only, so any Python 3.11 can run it. It never touches the real home folder,
the keyring or the network, and it leaves nothing behind but what it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

PASSPHRASE = "smoke-test-passphrase"
REPO = Path(__file__).resolve().parents[2]
CHECK_IMPORTS = """
import json, sys, sysconfig
import airlock_resources, core, core.resources
print(json.dumps({
    "core": core.__file__,
    "resources": airlock_resources.__file__,
    "purelib": sysconfig.get_paths()["purelib"],
    "path": sys.path,
    "models": [f.name for f in core.resources.list_resources("maturity")],
}))
"""


class SmokeFailure(Exception):
    """One step of the flow did not do what a user would expect."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, required=True, help="the venv Airlock's wheel is installed in")
    parser.add_argument("--wheel", type=Path, help="folder holding the wheel that was installed (checked too)")
    parser.add_argument("--no-network-only", action="store_true",
                        help="(internal) run the flow here, after checking there is no network")
    args = parser.parse_args(argv)
    venv = args.venv.resolve()
    try:
        if args.no_network_only:
            _check_no_network()
            _run_flow(venv, "no network")
            return 0
        if args.wheel is not None:
            _check_wheel(args.wheel)
        _check_installed(venv)
        _run_flow(venv, "network namespace of the host")
        _run_without_network(venv)
    except SmokeFailure as exc:
        print(f"SMOKE FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


def _check_wheel(folder: Path) -> None:
    wheels = sorted(folder.glob("airlock_ml-*.whl"))
    if len(wheels) != 1:
        raise SmokeFailure(f"expected one airlock_ml wheel in {folder}, found {[w.name for w in wheels]}")
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    shipped = sorted(p.relative_to(REPO / "resources").as_posix()
                     for p in (REPO / "resources").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts)
    missing = [f"resources/{s}" for s in shipped if f"airlock_resources/{s}" not in names]
    migrations = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "core/store/migrations").rglob("*.py"))
    missing += [m for m in migrations if m not in names]
    if missing:
        raise SmokeFailure(f"{wheels[0].name} lacks {missing}: add them to package-data in pyproject.toml")
    print(f"ok   wheel {wheels[0].name} holds {len(shipped)} resource file(s) and {len(migrations)} migration file(s)")


def _check_installed(venv: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="airlock-smoke-") as tmp:
        out = _run([str(venv / "bin" / "python"), "-c", CHECK_IMPORTS], cwd=Path(tmp), env=_env(Path(tmp)))
    found = json.loads(out)
    purelib = Path(found["purelib"]).resolve()
    for key in ("core", "resources"):
        where = Path(found[key]).resolve()
        if not where.is_relative_to(purelib):
            raise SmokeFailure(f"{key} was imported from {where}, not from the venv's site-packages {purelib}")
    on_path = [p for p in found["path"] if p and Path(p).resolve() == REPO]
    if on_path:
        raise SmokeFailure(f"the source tree {REPO} is on the installed interpreter's sys.path")
    if not found["models"]:
        raise SmokeFailure("the installed package lists no built-in maturity model")
    print(f"ok   core imported from {Path(found['core']).parent} (not the checkout); models {found['models']}")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "AIRLOCK_", "XDG_")) and k not in {"VIRTUAL_ENV", "HOME"}}
    env.update({
        "HOME": str(home / "home"),
        "XDG_CONFIG_HOME": str(home / "home" / ".config"),
        "XDG_DATA_HOME": str(home / "home" / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / "home" / ".cache"),
        "MPLCONFIGDIR": str(home / "home" / ".config" / "matplotlib"),
        "PYTHONNOUSERSITE": "1",
        "AIRLOCK_NO_KEYRING": "1",
        "AIRLOCK_PASSPHRASE": PASSPHRASE,
    })
    return env


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise SmokeFailure(f"{' '.join(cmd[:4])}… exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _write_csv(path: Path) -> None:
    rng = random.Random(8)
    lines = ["age,income,region,defaulted"]
    for _ in range(300):
        age, income = rng.randint(18, 80), rng.randint(800, 9000)
        defaulted = int(income < 2500 and rng.random() < 0.7)
        lines.append(f"{age},{income},{rng.choice('NSEW')},{defaulted}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _expect_file(path: Path, head: bytes) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        raise SmokeFailure(f"{path.name} was not written")
    with path.open("rb") as f:
        start = f.read(512)
    if head.lower() not in start.lower():
        raise SmokeFailure(f"{path.name} does not start like a {head.decode()} file: {start[:40]!r}")


def _run_flow(venv: Path, label: str) -> None:
    started = time.monotonic()
    airlock = str(venv / "bin" / "airlock")
    with tempfile.TemporaryDirectory(prefix="airlock-smoke-") as tmp:
        here = Path(tmp)
        env = _env(here)
        env["AIRLOCK_WORKSPACE"] = str(here / "smoke.airlock")

        def cli(*words: str) -> str:
            return _run([airlock, *words], cwd=here, env=env)

        def cli_json(*words: str) -> object:
            return json.loads(cli("--json", *words))

        cli("workspace", "init", "smoke.airlock", "--name", "Smoke", "--no-keyring")
        _write_csv(here / "loans.csv")
        imported = cli_json("data", "import", "loans.csv", "--name", "loans")
        if not isinstance(imported, dict) or imported["version"]["row_count"] != 300:
            raise SmokeFailure(f"the import did not report 300 rows: {str(imported)[:300]}")
        cli("data", "profile", "loans", "--target", "defaulted", "--html", "profile.html")
        _expect_file(here / "profile.html", b"<!doctype html")
        schema = cli_json("data", "schema", "infer", "loans")
        if not isinstance(schema, dict) or [c["name"] for c in schema["columns"]] != ["age", "income", "region", "defaulted"]:
            raise SmokeFailure(f"the inferred schema does not list the CSV's columns: {str(schema)[:300]}")
        models = cli_json("assess", "models")
        ids = [m["id"] for m in models] if isinstance(models, list) else []
        if "airlock-data-ml" not in ids:
            raise SmokeFailure(f"'assess models' does not list airlock-data-ml: {ids}")
        for model in ids:
            made = cli_json("assess", "new", "--model", model, "--unit", "Smoke unit")
            if not isinstance(made, dict) or made.get("model_id") != model:
                raise SmokeFailure(f"'assess new --model {model}' answered {str(made)[:300]}")
            cli("assess", "report", made["id"], "--html", f"{model}.html")
            cli("assess", "report", made["id"], "--pdf", f"{model}.pdf")
            _expect_file(here / f"{model}.html", b"<!doctype html")
            _expect_file(here / f"{model}.pdf", b"%PDF-")
        promoted = _promotion_flow(cli, cli_json, here, venv, env)
        cli("workspace", "backup", "backup.airlock")
        verified = cli("workspace", "verify-backup", "backup.airlock")
        if "Result:" not in verified or "ok" not in verified.split("Result:")[1].split("\n")[0]:
            raise SmokeFailure(f"verify-backup did not say ok:\n{verified}")
        keys = Path(env["XDG_CONFIG_HOME"]) / "airlock"  # the signing keys' folder belongs there
        leaked = sorted(p.name for p in Path(env["HOME"]).rglob("*")
                        if "airlock" in p.name.lower() and p != keys and keys not in p.parents)
    print(f"ok   smoke flow ({label}): init, import, profile, schema, {len(ids)} assessments with "
          f"HTML+PDF reports, {promoted}, backup, verify-backup in {time.monotonic() - started:.1f} s"
          + (f"; files in HOME: {leaked}" if leaked else ""))


def _promotion_flow(cli: Any, cli_json: Any, here: Path, venv: Path, env: dict[str, str]) -> str:
    """Train a small model, package and sign it, verify it with the public model_signing tool, approve
    it, and admit it into a QA workspace under a signed trust policy (its canary runs in a child)."""
    env["AIRLOCK_SIGNING_PASSPHRASE"] = "smoke-signing-passphrase"
    spec = here / "spec.toml"
    cli("train", "init", "loans", "--target", "defaulted", "--out", str(spec))
    text = spec.read_text(encoding="utf-8")
    start = text.index("algorithms = [")
    text = text[:start] + 'algorithms = ["logistic"]' + text[text.index("]", start) + 1:]
    spec.write_text(text.replace("trials = 20", "trials = 2").replace("cv_folds = 5", "cv_folds = 3")
                    .replace("bootstrap_rounds = 200", "bootstrap_rounds = 50"), encoding="utf-8")
    cli("train", "run", str(spec), "--model", "loans")
    cli("rubric", "run", "loans@1")
    keys = {who: cli_json("keys", "new", "--owner", who, "--file")["key"]["public"]["keyid"]  # type: ignore[index]
            for who in ("Smoke Author", "Smoke Reviewer", "Smoke Admin")}
    cli("package", "build", "loans@1", "--out", "loans-1.airpkg", "--signer", keys["Smoke Author"])
    # The public verifier, installed beside Airlock, accepts the package's contents.
    with _Untar(here / "loans-1.airpkg", here / "unpacked") as folder:
        cli("keys", "export", keys["Smoke Author"], "--out", str(here / "author.pub"))
        _run([str(venv / "bin" / "python"), "-m", "model_signing", "verify", "key", str(folder / "content"),
              "--signature", str(folder / "author.sig"), "--public_key", str(here / "author.pub")], cwd=here, env=env)
    qa = ["--workspace", str(here / "qa.airlock")]
    cli("workspace", "init", str(here / "qa.airlock"), "--role", "qa", "--name", "Smoke QA", "--no-keyring")
    cli("policy", "new", "--site", "Smoke-QA", "--env", "qa", "--admin", keys["Smoke Admin"], "--out", "qa.toml")
    with (here / "qa.toml").open("a", encoding="utf-8") as draft:
        for who, role in (("Smoke Author", "author"), ("Smoke Reviewer", "qa-reviewer")):
            draft.write(f'\n[[keys]]\nperson = "{who}"\nkey = "{keys[who]}"\nroles = ["{role}"]\n')
    cli("policy", "sign", "qa.toml", "--signer", keys["Smoke Admin"])
    cli(*qa, "policy", "install", "qa.json")
    cli("package", "approve", "loans-1.airpkg", "--env", "qa", "--decision", "approve", "--comment", "smoke",
        "--signer", keys["Smoke Reviewer"], "--site", "Smoke-QA", "--policy-version", "1")
    report = cli_json(*qa, "package", "admit", "loans-1.airpkg")
    if not isinstance(report, dict) or not report.get("admitted"):
        raise SmokeFailure(f"the package was not admitted: {str(report)[:600]}")
    cli(*qa, "registry", "promote", "loans@1", "--reason", "smoke")
    return "a model trained, packaged, verified by model_signing, approved and admitted"


class _Untar:
    """Extract a package (a plain tar) into a folder for the public verifier; removed afterwards."""

    def __init__(self, archive: Path, folder: Path) -> None:
        self.archive, self.folder = archive, folder

    def __enter__(self) -> Path:
        import tarfile

        with tarfile.open(self.archive) as tar:
            tar.extractall(self.folder, filter="data")
        return self.folder

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _check_no_network() -> None:
    # TEST-NET-1 is never routed; with no interface up, connect fails at once (no packet leaves).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        try:
            s.connect(("192.0.2.1", 9))
        except OSError as exc:
            if isinstance(exc, TimeoutError):
                raise SmokeFailure("inside the namespace a connection attempt left the machine (timed out)") from None
            return
    raise SmokeFailure("inside the namespace 192.0.2.1 answered: the network is not isolated")


def _run_without_network(venv: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        print("SKIPPED no-network smoke: the 'unshare' command is not installed (util-linux)")
        return
    reasons = []
    for flags in (["-n"], ["-rn"]):
        probe = subprocess.run([unshare, *flags, "true"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            break
        reasons.append(f"unshare {' '.join(flags)}: {probe.stderr.strip() or f'exit {probe.returncode}'}")
    else:
        print(f"SKIPPED no-network smoke: {'; '.join(reasons)}")
        return
    cmd = [unshare, *flags, sys.executable, str(Path(__file__).resolve()), "--venv", str(venv), "--no-network-only"]
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise SmokeFailure(f"the smoke flow failed with no network (unshare {' '.join(flags)})")


if __name__ == "__main__":
    sys.exit(main())
