"""Reading a package for review: what it holds, and whether its author's signature checks out here.

:func:`review_package` needs no workspace: a reviewer reads a ``.airpkg`` with the public keys they
know (their own key store, and the installed policy's keys when a workspace is open). Nothing in
the package is deserialised except its manifest (a JSON record); no artefact is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from core import formats
from core.promotion.models import Manifest, PackageFile, PackageSummary

BytesLike = bytes | bytearray | memoryview


def summary(path: Path, digest: str, manifest: Manifest, files: Mapping[str, BytesLike], digests: Mapping[str, str],
            verified: bool) -> PackageSummary:
    """The summary of a package whose content is ``files`` with their SHA-256 ``digests`` (computed once, by
    whoever read or signed the files; paths inside the content folder)."""
    listed = tuple(PackageFile(p, digests[p], len(files[p])) for p in sorted(files))
    card = bytes(files.get("model_card.md", b"")).decode("utf-8", "replace")
    return PackageSummary(str(path), digest, manifest, listed, verified, card)


def review_package(package: Path | str, known_pems: Iterable[str]) -> PackageSummary:
    """What a reviewer sees before signing: the manifest, every file, the model card.

    When one of ``known_pems`` is the author's key (by the bundle's key hint), the signature and
    every file's digest are verified (``author_verified``); otherwise the files are still checked
    against the digests the statement lists, and the summary says the author was not verified.

    Raises
    ------
    PackageUnsafe, SignatureInvalid
        The package is malformed, its signature does not verify, or its files do not match.
    """
    from core.promotion import archive, author

    path = Path(package)
    unpacked = archive.read_package(path)
    hint = author.author_key_hint(unpacked.bundle)
    pem = next((p for p in known_pems if author.public_key_hint(p) == hint), None)
    if pem is not None:
        digest = author.verify_content(unpacked.bundle, pem, unpacked.digests)
    else:
        digest = author.statement_digest(unpacked.bundle)
        if author.root_digest(unpacked.digests) != digest:
            raise author.SignatureInvalid(f"{path.name}: its files do not match the digests its author's statement "
                                          "lists: it was changed after it was signed.")
    manifest = formats.loads(Manifest, bytes(unpacked.files["manifest.json"]), source=f"{path.name}: manifest.json")
    return summary(path, digest, manifest, unpacked.files, unpacked.digests, pem is not None)


def review_with_my_keys(package: Path | str) -> PackageSummary:
    """:func:`review_package` with the public keys in this machine's key store (no workspace)."""
    from core.promotion.keys import KeyStore

    return review_package(package, [k.public.pem for k in KeyStore().list()])
