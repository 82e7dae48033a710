"""The test session's own guards (tests/conftest.py): no network, no real home folder."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NetworkBlocked

UNROUTABLE = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): never routed anywhere


def test_connect_to_a_remote_address_is_refused_before_any_packet(expects_network_refusal: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setblocking(False)  # a connect that reached the kernel would raise BlockingIOError here
        with pytest.raises(NetworkBlocked, match=r"192\.0\.2\.1"):
            s.connect(UNROUTABLE)
        # The kernel was never asked: the socket is still unconnected and has no pending error.
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        with pytest.raises(OSError) as unconnected:
            s.getpeername()
        assert unconnected.value.errno == errno.ENOTCONN
    assert expects_network_refusal == [f"connect to {UNROUTABLE!r}"]


def test_udp_send_and_name_lookup_are_refused(expects_network_refusal: list[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(NetworkBlocked):
        s.sendto(b"x", UNROUTABLE)
    with pytest.raises(NetworkBlocked, match="example.org"):
        socket.getaddrinfo("example.org", 443)
    assert len(expects_network_refusal) == 2


def test_a_swallowed_refusal_still_fails_the_test(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_tolerant.py").write_text(
        "import socket\n"
        "\n"
        "def test_tolerant_code():\n"
        "    try:\n"
        "        socket.create_connection(('192.0.2.1', 9), timeout=1)\n"
        "    except Exception:\n"
        "        pass  # code that 'works offline' must not hide the attempt\n",
        encoding="utf-8",
    )
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:pytest-qt",
                          "test_tolerant.py"],
                         cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stdout
    assert "1 failed" in run.stdout and "the test tried to use the network" in run.stdout, run.stdout
    assert "192.0.2.1" in run.stdout


def test_loopback_and_unix_sockets_stay_allowed(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=5):
            pass
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)


def test_home_and_xdg_folders_point_into_the_session_folder(real_home: Path, session_home: Path) -> None:
    assert Path.home() == session_home != real_home
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        assert Path(os.environ[name]).is_relative_to(session_home), name
    child = subprocess.run([sys.executable, "-c", "import pathlib; print(pathlib.Path.home())"],
                           capture_output=True, text=True, check=True)
    assert Path(child.stdout.strip()) == session_home  # child processes inherit it
