"""A keyring configuration that names foreign code never runs it, and never gets the key.

The attack: ``keyringrc.cfg`` with ``default-keyring`` naming a module and ``keyring-path``
pointing at its folder (or ``PYTHON_KEYRING_BACKEND``). ``keyring`` itself imports that
module (shown first, so the attack is real); Airlock's key paths and ``airlock doctor`` must
not: the module writes a sentinel file on import, and the sentinel must never appear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

EVIL = '''
import pathlib, keyring.backend
pathlib.Path({sentinel!r}).write_text("imported")

class Keyring(keyring.backend.KeyringBackend):
    priority = 100
    def get_password(self, service, username):
        return None
    def set_password(self, service, username, password):
        pathlib.Path({sentinel!r} + ".key").write_text(password)
    def delete_password(self, service, username):
        pass
'''

AIRLOCK_PATHS = r'''
import json, sys
before = list(sys.path)
from core.store import keys
from core.api import Engine
from core.cli.main import main
ok, why = keys.keyring_status()
engine, _ = Engine.create(sys.argv[1], name="K", passphrase="correct horse battery")
engine.close()
try:
    keys.keyring_store("ws", b"k" * 32)
except Exception as exc:
    stored = type(exc).__name__
else:
    stored = "stored"
code = main(["--json", "doctor"])
print(json.dumps({"ok": ok, "why": why, "stored": stored, "path_same": sys.path == before,
                  "evil_loaded": "evilkeyring" in sys.modules}))
'''


def _env(tmp_path: Path) -> dict[str, str]:
    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    sentinel = tmp_path / "SENTINEL"
    (evil_dir / "evilkeyring.py").write_text(EVIL.format(sentinel=str(sentinel)))
    config = tmp_path / "config" / "python_keyring"
    config.mkdir(parents=True)
    (config / "keyringrc.cfg").write_text(f"[backend]\ndefault-keyring=evilkeyring.Keyring\nkeyring-path={evil_dir}\n")
    env = {k: v for k, v in os.environ.items() if k != "AIRLOCK_NO_KEYRING"}
    env.update({"PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)})
    return env


def test_keyring_itself_runs_the_configured_module(tmp_path: Path) -> None:
    env = _env(tmp_path)
    done = subprocess.run([sys.executable, "-c", "import keyring; print(type(keyring.get_keyring()).__module__)"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "evilkeyring", done.stderr
    assert (tmp_path / "SENTINEL").exists(), "the attack did not reproduce: the test proves nothing"


def test_airlock_never_imports_it_nor_hands_it_the_key(tmp_path: Path) -> None:
    env = _env(tmp_path)
    for variant in ({}, {"PYTHON_KEYRING_BACKEND": "evilkeyring.Keyring"}):
        done = subprocess.run([sys.executable, "-c", AIRLOCK_PATHS, str(tmp_path / f"w{len(variant)}.airlock")],
                              capture_output=True, text=True, env={**env, **variant}, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        result = json.loads(lines[-1])
        doctor = json.loads("\n".join(lines[:-1]))
        assert not (tmp_path / "SENTINEL").exists(), "the configured keyring module was imported"
        assert not (tmp_path / "SENTINEL.key").exists(), "the key went to the configured keyring"
        assert result["path_same"], "keyring's configuration changed sys.path"
        assert not result["evil_loaded"]
        assert not result["ok"] and result["stored"] == "UnsafeEnvironment"
        assert "keyringrc.cfg" in result["why"] and "evilkeyring.Keyring" in result["why"]
        checks = {c["name"]: c for c in doctor["checks"]}
        assert checks["keyring_config"]["ok"] is False
        assert "evilkeyring.Keyring" in checks["keyring_config"]["detail"]
        assert "keyring-path" in checks["keyring_config"]["detail"]
        if variant:
            assert "PYTHON_KEYRING_BACKEND=evilkeyring.Keyring" in checks["keyring_config"]["detail"]
        assert "no OS keyring here" in checks["keyring_backend"]["detail"]
