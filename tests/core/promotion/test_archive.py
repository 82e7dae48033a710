"""The .airpkg file: deterministic and atomic writing; a reader that refuses every hostile archive."""

from __future__ import annotations

import io
import os
import random
import stat
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.errors import AirlockError
from core.promotion import author
from core.promotion.archive import (
    PackageLimits,
    PackageUnsafe,
    read_package,
    write_package,
)

FILES: dict[str, bytes] = {
    "manifest.json": b'{"model":"cancer","version":1}',
    "model/pipeline.joblib": random.Random(13).randbytes(40_000),
    "model_card.md": b"# Model card\n",
    "model_card.json": b"{}",
    "evidence/evidence.json": b"[]",
    "a-b/c": b"dash sorts before slash as text, after it by component",
    "a/b": b"slash",
    "empty": b"",
}


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def bundle(key: ec.EllipticCurvePrivateKey) -> bytes:
    return author.sign_content(FILES, key)


@pytest.fixture
def package(tmp_path: Path, bundle: bytes) -> Path:
    path = tmp_path / "p.airpkg"
    write_package(path, FILES, bundle)
    return path


def info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode, ti.uid, ti.gid, ti.uname, ti.gname, ti.type = size, 0, 0o644, 0, 0, "", "", kind
    for attr, value in fields.items():
        setattr(ti, attr, value)
    return ti


def hostile(tmp: Path, bundle: bytes, members: Sequence[tuple[tarfile.TarInfo, bytes | None]],
            fmt: int = tarfile.USTAR_FORMAT, signature_first: bool = True) -> Path:
    """A tar with ``author.sig`` first (as a package starts) then ``members``, written by tarfile."""
    path = tmp / "hostile.airpkg"
    with tarfile.open(path, "w", format=fmt) as tar:
        if signature_first:
            tar.addfile(info("author.sig", len(bundle)), io.BytesIO(bundle))
        for ti, data in members:
            tar.addfile(ti, io.BytesIO(data) if data is not None else None)
    return path


def refused(path: Path, match: str, limits: PackageLimits | None = None) -> str:
    with pytest.raises(PackageUnsafe, match=match) as caught:
        read_package(path, limits=limits)
    assert isinstance(caught.value, AirlockError)
    return str(caught.value)


# --- writing ---------------------------------------------------------------------------------


def test_round_trip(package: Path, bundle: bytes, pem: str) -> None:
    unpacked = read_package(package)
    assert unpacked.files == FILES
    assert unpacked.bundle == bundle
    assert unpacked.digests == author.content_digests(FILES)
    assert author.verify_content(unpacked.bundle, pem, unpacked.digests) == author.root_digest(unpacked.digests)
    assert {f.path for f in unpacked.package_files} == set(FILES)
    assert unpacked.size == sum(map(len, FILES.values()))


def test_layout_and_header_fields(package: Path) -> None:
    with tarfile.open(package, "r:") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["author.sig", "content/a/b", "content/a-b/c", "content/empty",
                                         "content/evidence/evidence.json", "content/manifest.json",
                                         "content/model/pipeline.joblib", "content/model_card.json",
                                         "content/model_card.md"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.type) for m in members} == {
        (0, 0, 0, "", "", 0o644, tarfile.REGTYPE)}
    assert package.stat().st_size % 10240 == 0
    assert stat.S_IMODE(package.stat().st_mode) == 0o600


def test_the_same_content_gives_the_same_bytes(tmp_path: Path, bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    write_package(tmp_path / "one.airpkg", FILES, bundle)
    shuffled = dict(reversed(list(FILES.items())))
    write_package(tmp_path / "two.airpkg", shuffled, author.sign_content(shuffled, key))
    assert (tmp_path / "one.airpkg").read_bytes() == (tmp_path / "two.airpkg").read_bytes()


def test_writing_replaces_atomically_and_leaves_no_temporary(tmp_path: Path, bundle: bytes) -> None:
    dest = tmp_path / "p.airpkg"
    dest.write_bytes(b"old")
    write_package(dest, FILES, bundle)
    assert read_package(dest).files == FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.airpkg"]


@pytest.mark.parametrize("name, message", [
    ("../x", "'..'"), ("/etc/passwd", "absolute"), ("a/../../b", "'..'"), ("a\\b", "backslash"),
    ("a\x00b", "NUL"), ("a//b", "empty"), (".git/config", "ignores"), ("x" * 300, "too long"),
    ("e\u0301", "NFC"), ("con:out", "control character or one of"),
])
def test_writing_refuses_names(tmp_path: Path, bundle: bytes, name: str, message: str) -> None:
    with pytest.raises(PackageUnsafe, match=message):
        write_package(tmp_path / "p.airpkg", {name: b"x"}, bundle)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("names", [("Model.txt", "model.txt"), ("\ufb01le", "file"), ("a", "a/b")])
def test_writing_refuses_clashing_names(tmp_path: Path, bundle: bytes, names: tuple[str, str]) -> None:
    with pytest.raises(PackageUnsafe, match="duplicates|is a file|also a folder"):
        write_package(tmp_path / "p.airpkg", dict.fromkeys(names, b"x"), bundle)


# --- reading: hostile members ----------------------------------------------------------------

HOSTILE: dict[str, tuple[Callable[[], list[tuple[tarfile.TarInfo, bytes | None]]], str]] = {
    "dotdot": (lambda: [(info("content/../x", 1), b"x")], "'..'"),
    "deep dotdot": (lambda: [(info("content/a/../../b", 1), b"x")], "'..'"),
    "absolute": (lambda: [(info("/etc/passwd", 1), b"x")], "outside 'content/'"),
    "absolute in content": (lambda: [(info("content//etc/passwd", 1), b"x")], "absolute"),
    "outside content": (lambda: [(info("evil.sh", 1), b"x")], "outside 'content/'"),
    "backslash": (lambda: [(info("content/..\\..\\x", 1), b"x")], "backslash"),
    "dot": (lambda: [(info("content/./x", 1), b"x")], "empty or '.'"),
    "bare content": (lambda: [(info("content/", 0), b"")], "empty"),
    "git path": (lambda: [(info("content/.gitignore", 1), b"x")], "ignores"),
    "symlink": (lambda: [(info("content/link", kind=tarfile.SYMTYPE, linkname="/etc/passwd"), None)],
                "symbolic link to '/etc/passwd'"),
    "symlink cycle": (lambda: [(info("content/a", kind=tarfile.SYMTYPE, linkname="b"), None),
                               (info("content/b", kind=tarfile.SYMTYPE, linkname="a"), None)], "symbolic link"),
    "hard link": (lambda: [(info("content/x", 1), b"x"),
                           (info("content/y", kind=tarfile.LNKTYPE, linkname="content/x"), None)], "hard link"),
    "hard link outside": (lambda: [(info("content/y", kind=tarfile.LNKTYPE, linkname="/etc/shadow"), None)],
                          "hard link to '/etc/shadow'"),
    "char device": (lambda: [(info("content/null", kind=tarfile.CHRTYPE, devmajor=1, devminor=3), None)],
                    "character device"),
    "block device": (lambda: [(info("content/sda", kind=tarfile.BLKTYPE, devmajor=8), None)], "block device"),
    "fifo": (lambda: [(info("content/pipe", kind=tarfile.FIFOTYPE), None)], "FIFO"),
    "directory": (lambda: [(info("content/model", kind=tarfile.DIRTYPE, mode=0o755), None)], "directory"),
    "contiguous": (lambda: [(info("content/x", 1, kind=tarfile.CONTTYPE), b"x")], "contiguous"),
    "duplicate": (lambda: [(info("content/x", 1), b"x"), (info("content/x", 1), b"y")], "twice"),
    "case duplicate": (lambda: [(info("content/X", 1), b"x"), (info("content/x", 1), b"y")], "ignoring case"),
    "unicode duplicate": (lambda: [(info("content/\u00c5", 1), b"x"), (info("content/\u212b", 1), b"y")],
                          "Unicode form|NFC"),
    "compatibility duplicate": (lambda: [(info("content/file", 1), b"x"), (info("content/\ufb01le", 1), b"y")],
                                "ignoring case and Unicode form"),
    "file and folder": (lambda: [(info("content/a", 1), b"x"), (info("content/a/b", 1), b"y")], "is a file"),
    "out of order": (lambda: [(info("content/b", 1), b"x"), (info("content/a", 1), b"y")], "out of order"),
    "second signature": (lambda: [(info("content/a", 1), b"x"), (info("author.sig", 1), b"y")], "first and only once"),
    "mtime": (lambda: [(info("content/a", 1, mtime=1_700_000_000), b"x")], "unexpected mtime"),
    "mode": (lambda: [(info("content/a", 1, mode=0o4755), b"x")], "unexpected mode"),
    "owner": (lambda: [(info("content/a", 1, uid=1000, uname="ada"), b"x")], "unexpected uid, user name"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_members_are_refused(tmp_path: Path, bundle: bytes, case: str) -> None:
    members, message = HOSTILE[case]
    text = refused(hostile(tmp_path, bundle, members()), message)
    assert "content/" in text or "/etc/passwd" in text or "evil.sh" in text or "author.sig" in text


@pytest.mark.parametrize("fmt, message", [(tarfile.GNU_FORMAT, "GNU tar"), (tarfile.PAX_FORMAT, "pax")])
def test_other_tar_formats_are_refused(tmp_path: Path, bundle: bytes, fmt: int, message: str) -> None:
    long_name = "content/" + "d/" * 80 + "x"
    refused(hostile(tmp_path, bundle, [(info(long_name, 1), b"x")], fmt=fmt), message)


def test_pax_header_on_a_short_name_is_refused(tmp_path: Path, bundle: bytes) -> None:
    ti = info("content/a", 1)
    ti.pax_headers = {"path": "content/../../etc/passwd"}
    refused(hostile(tmp_path, bundle, [(ti, b"x")], fmt=tarfile.PAX_FORMAT), "pax extended header")


def test_content_without_a_signature_first_is_refused(tmp_path: Path, bundle: bytes) -> None:
    refused(hostile(tmp_path, bundle, [(info("content/a", 1), b"x")], signature_first=False),
            "starts with 'author.sig'")


def test_a_signature_alone_is_refused(tmp_path: Path, bundle: bytes) -> None:
    refused(hostile(tmp_path, bundle, []), "no content files")


# --- reading: limits -------------------------------------------------------------------------


def test_a_member_over_the_file_limit(package: Path) -> None:
    refused(package, "model/pipeline.joblib' is 40,000 bytes, more than the 10,000",
            PackageLimits(max_file_bytes=10_000))


def test_content_over_the_total_limit(package: Path) -> None:
    refused(package, "more than the 30,000 bytes allowed", PackageLimits(max_total_bytes=30_000))


def test_too_many_members(package: Path) -> None:
    refused(package, "more than 4 members", PackageLimits(max_members=4))


def test_a_signature_over_its_limit(package: Path) -> None:
    refused(package, "'author.sig' is .* more than the 100 allowed", PackageLimits(max_bundle_bytes=100))


def test_a_huge_member_header_is_refused_before_allocating(tmp_path: Path, bundle: bytes) -> None:
    """A header announcing 3 GiB in a small file: refused as truncated, nothing allocated."""
    path = hostile(tmp_path, bundle, [(info("content/a", 1), b"x")])
    data = bytearray(path.read_bytes())
    second = 512 + len(bundle) + (-len(bundle) % 512)
    good = tarfile.TarInfo.frombuf(bytes(data[second:second + 512]), "utf-8", "strict")
    good.size = 3 << 30
    data[second:second + 512] = good.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
    path.write_bytes(bytes(data))
    refused(path, "truncated inside member 'content/a' .3,221,225,472 bytes announced")
    refused(path, "more than the", PackageLimits(max_file_bytes=1 << 30))


def test_many_small_members_over_the_count(tmp_path: Path, bundle: bytes) -> None:
    members = [(info(f"content/f{i:05d}", 1), b"x") for i in range(50)]
    refused(hostile(tmp_path, bundle, members), "more than 20 members", PackageLimits(max_members=20))


# --- reading: damaged files ------------------------------------------------------------------


def test_truncated_archives_are_refused_at_every_length(tmp_path: Path, package: Path) -> None:
    data = package.read_bytes()
    cuts = sorted({*range(0, len(data), 997), *range(0, 4096, 131), len(data) - 1, len(data) - 512,
                   len(data) - 10240})
    for cut in cuts:
        (tmp_path / "cut.airpkg").write_bytes(data[:cut])
        with pytest.raises(PackageUnsafe):
            read_package(tmp_path / "cut.airpkg")


@pytest.mark.parametrize("extra", [b"\x00" * 512, b"\x00" * 10240, b"garbage", b"\x00" * 10239 + b"!"],
                         ids=["block", "record", "text", "record-ending-in-text"])
def test_trailing_data_is_refused(tmp_path: Path, package: Path, extra: bytes) -> None:
    (tmp_path / "t.airpkg").write_bytes(package.read_bytes() + extra)
    refused(tmp_path / "t.airpkg", "trailing data")


def test_garbage_in_the_final_record_is_refused(tmp_path: Path, package: Path) -> None:
    data = bytearray(package.read_bytes())
    data[-1] = 1
    (tmp_path / "t.airpkg").write_bytes(bytes(data))
    refused(tmp_path / "t.airpkg", "not zero")


@pytest.mark.parametrize("data, message", [
    (b"", "too short"), (b"PK\x03\x04" + bytes(4000), "not a tar archive"),
    (os.urandom(20480), "not a tar archive"), (b"\x1f\x8b" + bytes(20478), "not a tar archive"),
    (bytes(20480), "empty"),
], ids=["empty-file", "zip", "random", "gzip", "zeros"])
def test_non_tar_files_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "x.airpkg").write_bytes(data)
    refused(tmp_path / "x.airpkg", message)


def test_a_compressed_package_is_refused(tmp_path: Path, bundle: bytes) -> None:
    path = tmp_path / "p.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info("author.sig", len(bundle)), io.BytesIO(bundle))
    refused(path, "not a tar archive")


def test_a_missing_file(tmp_path: Path) -> None:
    refused(tmp_path / "nope.airpkg", "cannot open")


def _positions(data: bytes, bundle: bytes) -> list[int]:
    """~40 positions: the first two headers, the signature, content, padding, the end marker."""
    sig_end = 512 + len(bundle)
    rng = random.Random(7)
    fixed = [0, 99, 124, 135, 148, 156, 257, 263, 345, 511, 600, sig_end - 3, sig_end - 1, sig_end + 5,
             len(data) - 1, len(data) - 600, len(data) - 10240 + 3]
    return fixed + sorted(rng.sample(range(len(data)), 40 - len(fixed)))


def test_bit_flips_anywhere_are_refused(tmp_path: Path, package: Path, bundle: bytes, pem: str) -> None:
    data = package.read_bytes()
    accepted = []
    for pos in _positions(data, bundle):
        for bit in (0, 7):
            flipped = bytearray(data)
            flipped[pos] ^= 1 << bit
            (tmp_path / "f.airpkg").write_bytes(bytes(flipped))
            try:
                unpacked = read_package(tmp_path / "f.airpkg")
                author.verify_content(unpacked.bundle, pem, unpacked.digests)
            except (PackageUnsafe, author.SignatureInvalid):
                continue
            accepted.append((pos, bit))
    assert accepted == []


def test_bit_flips_in_every_byte_of_the_signature_are_refused(tmp_path: Path, package: Path, bundle: bytes,
                                                              pem: str) -> None:
    data = package.read_bytes()
    for pos in range(512, 512 + len(bundle), 3):
        flipped = bytearray(data)
        flipped[pos] ^= 0x01
        (tmp_path / "f.airpkg").write_bytes(bytes(flipped))
        unpacked = read_package(tmp_path / "f.airpkg")
        with pytest.raises(author.SignatureInvalid):
            author.verify_content(unpacked.bundle, pem, unpacked.digests)


def test_a_valid_tar_of_changed_content_fails_verification(tmp_path: Path, bundle: bytes, pem: str) -> None:
    """Rebuilt with the same signature but an edited model card: reads fine, verification names the file."""
    write_package(tmp_path / "p.airpkg", {**FILES, "model_card.md": b"# edited\n"}, bundle)
    unpacked = read_package(tmp_path / "p.airpkg")
    with pytest.raises(author.SignatureInvalid, match="changed since the author signed them: model_card.md"):
        author.verify_content(unpacked.bundle, pem, unpacked.digests)


def test_a_large_member_is_hashed_right(tmp_path: Path, bundle: bytes) -> None:
    """Above the threaded-hashing threshold (32 MiB) and not a multiple of the chunk size."""
    big = {"model/big.bin": random.Random(3).randbytes((40 << 20) + 12345)}
    write_package(tmp_path / "big.airpkg", big, bundle)
    unpacked = read_package(tmp_path / "big.airpkg")
    assert unpacked.digests == author.content_digests(big)
    assert unpacked.files == big
