"""The ``.airpkg`` file: a deterministic POSIX tar written atomically, and read back safely into memory.

Layout (package format 1): an uncompressed POSIX ustar archive of regular-file members only,
each header exactly what :func:`write_package` writes (mode 0644, uid/gid 0, no user or group
names, mtime 0, no directories, no links, no pax or GNU extensions):

1. ``author.sig``: the author's model-signing bundle (first, so a reader meets it before the
   bulk of the content);
2. ``content/<path>`` for every signed file, sorted by path component by component (the order
   model-signing lists its resources in);
3. two zero blocks, then zeros up to a multiple of 10 240 bytes (tar's record size).

``tar xf pkg.airpkg`` (or Python's ``tarfile`` with the data filter) gives ``author.sig`` and a
``content/`` folder that the public ``model_signing verify key`` checks.

Reading never extracts anything: it parses each 512-byte header itself (``tarfile`` accepts far
more than this format allows), refuses anything but the layout above with a message naming the
member, and reads every file into memory while hashing it in the same pass.

This module must not load, unpickle or interpret any file it reads, nor touch the workspace.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from core.errors import AirlockError
from core.promotion.models import PackageFile

SIGNATURE_MEMBER = "author.sig"
CONTENT_PREFIX = "content/"
BLOCK = 512
RECORD = 20 * BLOCK
#: Paths the public model_signing verifier ignores in a folder (its git defaults): never content.
VERIFIER_IGNORED = (".git", ".gitattributes", ".github", ".gitignore")
_CHUNK = 8 << 20
_THREADED_MIN = 32 << 20
#: The reused buffer of a file that is hashed but not kept (1 MiB stays in the CPU's cache).
_STREAM_CHUNK = 1 << 20
_RESERVED = frozenset('\\:*?"<>|')

BytesLike = bytes | bytearray | memoryview


class PackageUnsafe(AirlockError):
    """The file is not a package this Airlock wrote, or it holds something a package may not hold."""

    code = "package_unsafe"


@dataclass(frozen=True, slots=True)
class PackageLimits:
    """What a package may hold at most (admission refuses more before reading it)."""

    max_total_bytes: int = 8 << 30
    max_file_bytes: int = 4 << 30
    max_members: int = 10_000
    max_bundle_bytes: int = 1 << 20


@dataclass(frozen=True, slots=True)
class UnpackedPackage:
    """A package read into memory: the content files, their SHA-256 and the author's bundle.

    ``files`` and ``digests`` are keyed by the path inside ``content/`` (``"model/model.ubj"``).
    The digests were computed over exactly the bytes in ``files``, in the same pass.
    """

    path: str
    files: dict[str, bytearray] = field(repr=False)
    digests: dict[str, str]
    bundle: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())

    @property
    def package_files(self) -> tuple[PackageFile, ...]:
        return tuple(PackageFile(name, self.digests[name], len(self.files[name])) for name in self.files)


def content_order(name: str) -> tuple[str, ...]:
    """The order of content members: path components compared one by one (model-signing's order)."""
    return tuple(name.split("/"))


def content_name_problem(name: str) -> str | None:
    """Why ``name`` (a path inside ``content/``) cannot be in a package, or None when it can."""
    parts = name.split("/")
    if not name:
        return "the name is empty"
    if "\x00" in name:
        return "the name contains a NUL character"
    if name.startswith("/"):
        return "the path is absolute"
    if "\\" in name:
        return "the name contains a backslash"
    if ".." in parts:
        return "the path has a '..' component"
    if any(p in ("", ".") for p in parts):
        return "the path has an empty or '.' component"
    if any(c in _RESERVED or unicodedata.category(c).startswith("C") for c in name):
        return "the name contains a control character or one of \\ : * ? \" < > |"
    if not unicodedata.is_normalized("NFC", name):
        return "the name is not in Unicode normal form NFC"
    if str(PurePosixPath(name)) != name:
        return "the path is not in canonical form"
    if parts[0] in VERIFIER_IGNORED:
        return f"the public model_signing verifier ignores {parts[0]!r} in a folder"
    return None


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


class _Names:
    """Duplicate and file-versus-folder checks over the members seen so far."""

    def __init__(self) -> None:
        self._files: dict[str, str] = {}
        self._folders: dict[str, str] = {}

    def add(self, name: str) -> str | None:
        key = _fold(name)
        if key in self._files:
            other = self._files[key]
            return "it appears twice" if other == name else f"it duplicates {other!r} (ignoring case and Unicode form)"
        if key in self._folders:
            return f"it is also a folder holding {self._folders[key]!r}"
        parts = name.split("/")
        for i in range(1, len(parts)):
            prefix = _fold("/".join(parts[:i]))
            if prefix in self._files:
                return f"it lies under {self._files[prefix]!r}, which is a file"
            self._folders.setdefault(prefix, name)
        self._files[key] = name
        return None


def _header(member: str, size: int) -> bytes:
    """The one header this format allows for ``member`` of ``size`` bytes."""
    info = tarfile.TarInfo(member)
    info.size, info.mtime, info.mode, info.uid, info.gid = size, 0, 0o644, 0, 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")


def _padding(size: int) -> int:
    return -size % BLOCK


# --- writing -------------------------------------------------------------------------------


def write_package(dest: Path, files: Mapping[str, BytesLike], bundle: bytes) -> None:
    """Write the package file atomically (a temporary file beside ``dest``, fsync, rename; mode 0600).

    The same ``files`` and ``bundle`` give the same bytes.

    Raises
    ------
    PackageUnsafe
        A name the format cannot carry (see :func:`content_name_problem`; also a path too long
        for ustar), two names that differ only in case or Unicode form, or no content.
    """
    if not files:
        raise PackageUnsafe(f"{dest}: nothing to package (no content files)")
    names = _Names()
    order = sorted(files, key=content_order)
    headers: list[tuple[bytes, BytesLike]] = []
    for name, data in [(SIGNATURE_MEMBER, bundle), *((CONTENT_PREFIX + n, files[n]) for n in order)]:
        if name != SIGNATURE_MEMBER:
            problem = content_name_problem(name[len(CONTENT_PREFIX):]) or names.add(name[len(CONTENT_PREFIX):])
            if problem:
                raise PackageUnsafe(f"{dest}: cannot package {name!r}: {problem}")
        try:
            header = _header(name, len(data))
        except ValueError as exc:
            raise PackageUnsafe(f"{dest}: cannot package {name!r}: {exc}") from None
        headers.append((header, data))
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb", buffering=0) as out:
            written = 0
            for header, data in headers:
                written += _write_all(out, header)
                with memoryview(data) as view:
                    for start in range(0, len(view), _CHUNK):
                        written += _write_all(out, view[start:start + _CHUNK])
                written += _write_all(out, bytes(_padding(len(data))))
            written += _write_all(out, bytes(2 * BLOCK))
            _write_all(out, bytes(-written % RECORD))
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    folder = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _write_all(out: BinaryIO, data: BytesLike) -> int:
    with memoryview(data) as view:
        done = 0
        while done < len(view):
            done += out.write(view[done:]) or 0
        return done


# --- reading -------------------------------------------------------------------------------

_TYPES = {
    b"1": "a hard link", b"2": "a symbolic link", b"3": "a character device", b"4": "a block device",
    b"5": "a directory", b"6": "a FIFO", b"7": "a contiguous file", b"x": "a pax extended header",
    b"g": "a pax global header", b"L": "a GNU long-name header", b"K": "a GNU long-link header",
    b"S": "a GNU sparse file", b"D": "a GNU directory dump", b"M": "a GNU multi-volume part",
    b"V": "a GNU volume label",
}


def _cstr(field_bytes: bytes) -> bytes:
    return field_bytes.split(b"\x00", 1)[0]


def _octal(field_bytes: bytes) -> int | None:
    text = field_bytes.rstrip(b"\x00 ").lstrip(b" ")
    if not text or any(c not in b"01234567" for c in text):
        return None
    return int(text, 8)


def _checksum_ok(header: bytes) -> bool:
    stored = _octal(header[148:156])
    return stored is not None and stored == sum(header[:148]) + 8 * 0x20 + sum(header[156:])


class _Reader:
    def __init__(self, path: Path, handle: BinaryIO, size: int, pool: ThreadPoolExecutor) -> None:
        self.path, self.handle, self.size, self.pool = path, handle, size, pool
        self.pos = 0

    def fail(self, what: str) -> PackageUnsafe:
        return PackageUnsafe(f"{self.path}: {what}; this is not a package to admit (ask for a new copy)")

    def read_exact(self, n: int, what: str) -> bytes:
        data = self.handle.read(n) or b""
        while len(data) < n:
            more = self.handle.read(n - len(data))
            if not more:
                raise self.fail(f"the archive is truncated inside {what} (it ends at byte {self.pos + len(data):,})")
            data += more
        self.pos += n
        return data

    def hash_only(self, size: int, member: str) -> str:
        """Hash the next ``size`` bytes through one reused buffer (nothing kept: no fresh memory to fault in)."""
        hasher = hashlib.sha256()
        buf = bytearray(min(size, _STREAM_CHUNK))
        with memoryview(buf) as view:
            left = size
            while left:
                n = self.handle.readinto(view[:min(left, len(buf))])  # type: ignore[attr-defined]
                if not n:
                    raise self.fail(f"the archive is truncated inside member {member!r}")
                hasher.update(view[:n])
                left -= n
        self.pos += size
        return hasher.hexdigest()

    def read_hashed(self, size: int, member: str) -> tuple[bytearray, str]:
        buf = bytearray(size)
        hasher = hashlib.sha256()
        pending: Future[None] | None = None
        with memoryview(buf) as view:
            done = 0
            while done < size:
                n = self.handle.readinto(view[done:done + _CHUNK])  # type: ignore[attr-defined]
                if not n:
                    raise self.fail(f"the archive is truncated inside member {member!r}")
                chunk = view[done:done + n]
                if size < _THREADED_MIN:
                    hasher.update(chunk)
                else:
                    if pending is not None:
                        pending.result()
                    pending = self.pool.submit(hasher.update, chunk)
                done += n
            if pending is not None:
                pending.result()
        self.pos += size
        return buf, hasher.hexdigest()


def read_package(path: Path, *, limits: PackageLimits | None = None,
                 keep: Callable[[str, int], bool] | None = None) -> UnpackedPackage:
    """Read a package into memory, refusing anything but the layout :func:`write_package` writes.

    Nothing is extracted to disk and nothing is interpreted: the result holds the bytes of each
    content file, their SHA-256 (computed while reading) and the author's bundle, still to be
    verified (:func:`core.promotion.author.verify_content`). ``keep(name, size)`` says which
    content files to hold in memory (default: all); the others are hashed through a small reused
    buffer: they have a digest but no bytes here (:func:`read_member` reads one again, checked).

    Raises
    ------
    PackageUnsafe
        Naming the member and the reason: not a POSIX tar, a damaged or non-canonical header,
        links, devices, FIFOs, directories, pax/GNU headers, absolute paths, ``..``, names
        outside ``content/``, duplicates (also by case or Unicode form), members out of order,
        a member or the total over the limits, too many members, truncation, trailing data.
    """
    limits = limits or PackageLimits()
    path = Path(path)
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115
    except OSError as exc:
        raise PackageUnsafe(f"{path}: cannot open the package ({exc.strerror})") from None
    with handle, ThreadPoolExecutor(max_workers=1, thread_name_prefix="airpkg-hash") as pool:
        reader = _Reader(path, handle, os.fstat(handle.fileno()).st_size, pool)
        return _read(reader, limits, keep)


def read_member(path: Path, name: str, sha256: str, *, limits: PackageLimits | None = None) -> bytearray:
    """One content file of a package, read again (the whole archive checked as strictly as before)
    and refused unless it hashes to ``sha256``, the digest that was verified.

    Raises
    ------
    PackageUnsafe
        The archive no longer reads, or the file is not there or changed since it was verified.
    """
    unpacked = read_package(path, limits=limits, keep=lambda member, size: member == name)
    if name not in unpacked.files or unpacked.digests[name] != sha256:
        raise PackageUnsafe(f"{path}: {name!r} changed since it was verified; nothing of it was used")
    return unpacked.files[name]


def _read(reader: _Reader, limits: PackageLimits, keep: Callable[[str, int], bool] | None = None) -> UnpackedPackage:
    files: dict[str, bytearray] = {}
    digests: dict[str, str] = {}
    bundle: bytes | None = None
    names = _Names()
    total = members = 0
    previous: tuple[str, ...] | None = None
    if reader.size < 3 * BLOCK:
        raise reader.fail("too short to be a package (not a tar archive, or truncated)")
    while True:
        at = reader.pos
        header = reader.read_exact(BLOCK, "a header")
        if header == bytes(BLOCK):
            break
        if not _checksum_ok(header):
            if at == 0:
                raise reader.fail("not a tar archive (the first header's checksum is wrong)")
            raise reader.fail(f"the header at byte {at:,} is damaged (checksum mismatch)")
        raw_name = (_cstr(header[345:500]) + b"/" if _cstr(header[345:500]) else b"") + _cstr(header[0:100])
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise reader.fail(f"the member at byte {at:,} has a name that is not UTF-8 ({raw_name!r})") from None
        if header[257:265] != b"ustar\x0000":
            kind = "GNU tar" if header[257:265] == b"ustar  \x00" else "old or unknown tar"
            raise reader.fail(f"member {name!r} is in {kind} format, not POSIX ustar")
        typeflag = header[156:157]
        if typeflag not in (b"0", b"\x00"):
            kind = _TYPES.get(typeflag, f"of unknown type {typeflag!r}")
            link = _cstr(header[157:257]).decode("utf-8", "replace")
            target = f" to {link!r}" if typeflag in (b"1", b"2") else ""
            raise reader.fail(f"member {name!r} is {kind}{target}; a package holds regular files only")
        members += 1
        if members > limits.max_members:
            raise reader.fail(f"more than {limits.max_members:,} members")
        if name == SIGNATURE_MEMBER:
            if at != 0:
                raise reader.fail(f"member {name!r} must come first and only once")
        else:
            if bundle is None:
                raise reader.fail(f"the first member is {name!r}; a package starts with {SIGNATURE_MEMBER!r}")
            if not name.startswith(CONTENT_PREFIX):
                raise reader.fail(f"member {name!r} lies outside 'content/' (only 'content/…' and "
                                  f"{SIGNATURE_MEMBER!r} may be in a package)")
            inner = name[len(CONTENT_PREFIX):]
            problem = content_name_problem(inner) or names.add(inner)
            if problem:
                raise reader.fail(f"member {name!r} is refused: {problem}")
            if previous is not None and content_order(inner) <= previous:
                raise reader.fail(f"member {name!r} is out of order")
            previous = content_order(inner)
        size = _octal(header[124:136])
        if size is None:
            raise reader.fail(f"member {name!r} has an unreadable size field")
        if header != _header(name, size):
            raise reader.fail(f"member {name!r} has a header this Airlock does not write "
                              f"({_header_difference(header, _header(name, size))})")
        limit = limits.max_bundle_bytes if name == SIGNATURE_MEMBER else limits.max_file_bytes
        if size > limit:
            raise reader.fail(f"member {name!r} is {size:,} bytes, more than the {limit:,} allowed")
        total += size
        if total > limits.max_total_bytes:
            raise reader.fail(f"the content is more than the {limits.max_total_bytes:,} bytes allowed "
                              f"(at member {name!r})")
        if reader.pos + size + _padding(size) + 2 * BLOCK > reader.size:
            raise reader.fail(f"the archive is truncated inside member {name!r} "
                              f"({size:,} bytes announced, {max(reader.size - reader.pos, 0):,} left in the file)")
        inner = name[len(CONTENT_PREFIX):]
        kept = name == SIGNATURE_MEMBER or keep is None or keep(inner, size)
        data, digest = reader.read_hashed(size, name) if kept else (None, reader.hash_only(size, name))
        if reader.read_exact(_padding(size), f"the padding of {name!r}") != bytes(_padding(size)):
            raise reader.fail(f"the padding after member {name!r} is not zero")
        if name == SIGNATURE_MEMBER:
            assert data is not None
            bundle = bytes(data)
        else:
            if data is not None:
                files[inner] = data
            digests[inner] = digest
    if bundle is None:
        raise reader.fail(f"the archive is empty (no {SIGNATURE_MEMBER!r})")
    _check_end(reader)
    if not digests:
        raise reader.fail("the package holds no content files")
    return UnpackedPackage(str(reader.path), files, digests, bundle)


def _check_end(reader: _Reader) -> None:
    if reader.read_exact(BLOCK, "the end-of-archive marker") != bytes(BLOCK):
        raise reader.fail(f"the end-of-archive marker at byte {reader.pos - BLOCK:,} is damaged")
    expected = reader.pos + (-reader.pos % RECORD)
    if reader.size > expected:
        raise reader.fail(f"{reader.size - expected:,} bytes of trailing data after the end of the archive")
    rest = reader.read_exact(expected - reader.pos, "the final record")
    if rest != bytes(len(rest)):
        raise reader.fail("the bytes after the end-of-archive marker are not zero (trailing data)")


_FIELDS = (("name", 0, 100), ("mode", 100, 108), ("uid", 108, 116), ("gid", 116, 124), ("size", 124, 136),
           ("mtime", 136, 148), ("checksum", 148, 156), ("type", 156, 157), ("link name", 157, 257),
           ("magic", 257, 265), ("user name", 265, 297), ("group name", 297, 329), ("device", 329, 345),
           ("prefix", 345, 500), ("padding", 500, 512))


def _header_difference(got: bytes, want: bytes) -> str:
    differ = [name for name, start, end in _FIELDS if got[start:end] != want[start:end] and name != "checksum"]
    return "unexpected " + ", ".join(differ) if differ else "unexpected header"


__all__ = [
    "CONTENT_PREFIX", "SIGNATURE_MEMBER", "PackageLimits", "PackageUnsafe", "UnpackedPackage",
    "content_name_problem", "content_order", "read_member", "read_package", "write_package",
]
