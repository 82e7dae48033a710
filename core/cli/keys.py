"""``airlock keys …``: personal signing keys (new, list, export, import). No workspace needed.

Private keys stay in the OS keyring or in a passphrase-protected file in the key store folder;
no command here prints, exports or takes one. The passphrase of a key kept in a file comes from
``$AIRLOCK_SIGNING_PASSPHRASE`` or a prompt typed twice, never from the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core import api
from core.cli.common import UsageProblem, add_command, add_group, emit, interactive, local_time, new_passphrase, table

#: Where ``keys new --file`` takes the passphrase from (the same name as ``core.promotion.keys``'s).
ENV_SIGNING_PASSPHRASE = "AIRLOCK_SIGNING_PASSPHRASE"


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "keys", "your signing keys and the public keys of other people")
    p = add_command(group, "new", cmd_new, "make a new signing key pair (ECDSA P-256) for yourself")
    p.add_argument("--owner", metavar="NAME", help="your name as others know it (asked when not given)")
    p.add_argument(
        "--file", action="store_true",
        help="keep the private part in a file encrypted under a passphrase, even where a keyring works "
        f"(passphrase from ${ENV_SIGNING_PASSPHRASE} or asked twice)",
    )
    add_command(group, "list", cmd_list, "the keys on this machine: yours and those imported")
    p = add_command(group, "export", cmd_export, "write a key's public part to a .pub file to hand to others")
    p.add_argument("ref", metavar="ID", help="the key id, a unique prefix of 8+ hex digits, or the fingerprint")
    p.add_argument("--out", metavar="FILE.pub", required=True, help="where to write the public key")
    p = add_command(group, "import", cmd_import, "add someone's public key from their .pub file")
    p.add_argument("path", metavar="FILE.pub", type=Path)


def _store() -> api.KeyStore:
    return api.KeyStore()


def _owner(args: argparse.Namespace) -> str:
    if args.owner:
        return str(args.owner)
    if not interactive():
        raise UsageProblem("Whose key is it? Give --owner NAME (your name as others know it).")
    return input("Your name, as others know it: ")


def cmd_new(args: argparse.Namespace) -> int:
    store = _store()
    owner = _owner(args)
    ok, why = store.keyring_status()
    storage = api.KeyStorage.FILE if args.file or not ok else api.KeyStorage.KEYRING
    passphrase = None
    if storage == api.KeyStorage.FILE:
        if not ok and not args.file:
            print(f"No safe OS keyring here ({why}); the private key goes to a file encrypted under a passphrase.",
                  file=sys.stderr)
        passphrase = new_passphrase(ENV_SIGNING_PASSPHRASE, "Passphrase for the new signing key: ")
    info = store.generate(owner, storage=storage, passphrase=passphrase)
    where = store.where_private(info)
    emit(args, {"key": info, "private_part": where, "public_file": store.pub_path(info.public.keyid)}, [
        f"New signing key for {info.public.owner}",
        f"  key id:       {info.public.keyid}",
        f"  fingerprint:  {info.public.fingerprint}",
        f"  private part: {where}",
        f"  public part:  {store.pub_path(info.public.keyid)}",
        f"Hand the public part to others with: airlock keys export {info.public.keyid[:16]} --out FILE.pub",
    ])
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    store = _store()
    keys = store.list()
    rows = [
        (k.public.keyid[:16], k.public.owner, "yes" if k.mine else "no", k.storage.value if k.storage else "-",
         local_time(k.public.created_at), k.public.fingerprint)
        for k in keys
    ]
    text = (
        table(("KEY ID", "OWNER", "MINE", "PRIVATE PART", "CREATED", "FINGERPRINT"), rows)
        if keys else f"No signing keys in {store.root}. Make one with: airlock keys new --owner NAME"
    )
    emit(args, {"root": store.root, "keys": keys}, text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = _store()
    info = store.get(args.ref)
    written = store.export_public(info.public.keyid, Path(args.out).expanduser())
    emit(args, {"key": info.public, "file": written}, [
        f"Wrote the public key of {info.public.owner} to {written}",
        f"  fingerprint: {info.public.fingerprint}",
        "Read the fingerprint aloud to whoever imports it, so they can check they got this key.",
    ])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    store = _store()
    info, new = store.import_public(args.path)
    said = "Imported" if new else "Already here:"
    emit(args, {"key": info, "new": new}, [
        f"{said} the public key of {info.public.owner} ({'yours' if info.mine else 'not yours'})",
        f"  key id:      {info.public.keyid}",
        f"  fingerprint: {info.public.fingerprint}",
        f"Compare this fingerprint with the one {info.public.owner} reads out to you, in person or by phone. "
        "If any group differs, this is not their key: do not trust it.",
    ])
    return 0
