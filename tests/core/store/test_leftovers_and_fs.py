"""Crash leftovers swept once; passphrases in any Unicode form; mount table matching; tmpfs."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from core.api import Engine, Unlock
from core.errors import InvalidInput
from core.store import keys
from core.store.opening import filesystem_type, memory_fs_notice, refuse_network_filesystem
from tests.conftest import PASSPHRASE


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_leftovers_of_killed_backups_and_inits_are_swept_once(workspace: tuple[Engine, str]) -> None:
    engine, recovery = workspace
    path = engine.path
    engine.close()
    dead = _dead_pid()
    folder = path.parent
    partial = folder / f".b.airlock.partial-{dead}"
    partial.write_bytes(os.urandom(64 * 1024))
    creating = folder / f".new.airlock.creating-{dead}"
    creating.write_bytes(os.urandom(16384))
    (folder / f".new.airlock.creating-{dead}-wal").write_bytes(b"x")
    live = folder / f".c.airlock.partial-{os.getpid()}"  # a backup still running: never touched
    live.write_bytes(b"busy")
    header_tmp = folder / ".w.airlock.keys.abc123.tmp"  # an old-style temporary key header
    header_tmp.write_text("{}")
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as again:
        notices = again.notices
    assert not partial.exists() and not creating.exists() and not header_tmp.exists()
    assert not (folder / f".new.airlock.creating-{dead}-wal").exists()
    assert live.exists()
    assert sum("interrupted backup" in n for n in notices) == 1, notices
    assert sum("interrupted creation" in n for n in notices) == 2, notices
    assert any("key-header write" in n for n in notices), notices
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as again:
        assert again.notices == (), "the sweep was reported again"


def test_a_read_only_open_sweeps_nothing(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    stray = engine.path.parent / f".b.airlock.partial-{_dead_pid()}"
    stray.write_bytes(b"x")
    with Engine.open(engine.path, Unlock.with_passphrase(PASSPHRASE), read_only=True) as reader:
        assert reader.notices == ()
    assert stray.exists()


def test_a_passphrase_typed_in_another_normalisation_form_works(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Crème brûlée façade")
    nfc = unicodedata.normalize("NFC", nfd)
    assert nfd != nfc
    engine, _ = Engine.create(tmp_path / "n.airlock", name="N", passphrase=nfd, use_keyring=False)
    engine.close()
    with Engine.open(tmp_path / "n.airlock", Unlock.with_passphrase(nfc)):
        pass
    with Engine.open(tmp_path / "n.airlock", Unlock.with_passphrase(nfd)):
        pass


def test_an_old_slot_made_from_the_typed_form_still_opens_from_either_form(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Crème brûlée façade")
    nfc = unicodedata.normalize("NFC", nfd)
    path = tmp_path / "o.airlock"
    engine, recovery = Engine.create(path, name="O", passphrase=PASSPHRASE, use_keyring=False)
    engine.close()
    header = keys.KeyHeader.read(keys.header_path(path))
    key = keys.parse_recovery_key(recovery)
    # what release 0.1 wrote: the bytes as typed (NFD here), no normalisation recorded
    real_normalize = keys.normalize_passphrase
    keys.normalize_passphrase = lambda p: p  # type: ignore[assignment]
    try:
        old = header.with_passphrase(key, nfd)
    finally:
        keys.normalize_passphrase = real_normalize  # type: ignore[assignment]
    for slot in old.slots:
        slot.pop("normalization", None)
    old.write(keys.header_path(path))
    with Engine.open(path, Unlock.with_passphrase(nfc)):
        pass


MOUNTINFO = r"""22 1 0:21 / / rw,relatime - ext4 /dev/vda rw
30 22 0:40 / /data rw,relatime - nfs4 server:/export rw
31 22 0:41 / /mnt/my\040share rw,relatime - fuse.rclone remote: rw
32 22 0:42 / /mnt/dav rw,relatime shared:5 - fuse davfs-ignored rw
33 22 0:43 / /mnt/webdav rw,relatime shared:6 master:1 - davfs https://dav.example rw
34 22 0:44 / /scratch rw - tmpfs tmpfs rw
"""


@pytest.fixture
def mountinfo(tmp_path: Path) -> Path:
    path = tmp_path / "mountinfo"
    path.write_text(MOUNTINFO)
    return path


def test_mount_points_match_whole_path_components(mountinfo: Path) -> None:
    assert filesystem_type(Path("/data/w.airlock"), mountinfo) == "nfs4"
    assert filesystem_type(Path("/data2/w.airlock"), mountinfo) == "ext4", "/data2 is not under /data"
    assert filesystem_type(Path("/mnt/my share/w.airlock"), mountinfo) == "fuse.rclone"
    assert filesystem_type(Path("/mnt/webdav/x/w.airlock"), mountinfo) == "davfs"


def test_network_and_fuse_network_file_systems_are_refused(mountinfo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRLOCK_ALLOW_NETWORK_FS", raising=False)
    for where in ("/data/w.airlock", "/mnt/my share/w.airlock", "/mnt/webdav/w.airlock"):
        with pytest.raises(InvalidInput, match="network file system"):
            refuse_network_filesystem(Path(where), mountinfo)
    assert refuse_network_filesystem(Path("/data2/w.airlock"), mountinfo) == "ext4"


def test_a_workspace_on_tmpfs_is_warned_about(mountinfo: Path) -> None:
    fstype = refuse_network_filesystem(Path("/scratch/w.airlock"), mountinfo)
    (notice,) = memory_fs_notice(Path("/scratch/w.airlock"), fstype)
    assert "tmpfs" in notice and "power" in notice
    assert memory_fs_notice(Path("/home/w.airlock"), "ext4") == []
