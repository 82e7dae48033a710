"""Small helpers shared by the core tests: file fingerprints and raw access with the key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlcipher3

from core.store.db import CIPHER_PRAGMAS


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot_dir(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256: compare before and after a failed open."""
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def tamper_connection(path: Path, key: bytes) -> sqlcipher3.Connection:
    """What an attacker holding the raw key can do: a plain SQLCipher connection, no Airlock."""
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    for pragma in CIPHER_PRAGMAS:  # the workspace format's published settings
        conn.execute(pragma)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn
