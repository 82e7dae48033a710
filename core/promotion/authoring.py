"""Writing trust policies: a draft from named administrator keys, and signing a draft or a signed policy.

The files an administrator handles (``airlock policy new|sign``): the TOML draft names keys by key
id (looked up in this machine's :class:`~core.promotion.keys.KeyStore`) or by a ``.pub`` file path
(read and checked); signing turns a draft into the DSSE envelope of its canonical payload, or adds
one more administrator's signature to an envelope. Nothing here touches a workspace: a policy is
installed by :meth:`core.promotion.service.PromotionService.install_policy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from core.errors import InvalidInput
from core.promotion import drafts
from core.promotion import policy as policy_mod
from core.promotion.keys import KeyStore, parse_pub_file
from core.promotion.models import Environment
from core.store.keys import write_atomically


def resolver(store: KeyStore, base: Path) -> Callable[[str], tuple[str, str]]:
    """``resolve(ref) -> (keyid, pem)``: a ``.pub`` path (relative to ``base``) or a key id in ``store``."""

    def resolve(ref: str) -> tuple[str, str]:
        if ref.endswith(".pub") or "/" in ref:
            path = (base / ref) if not Path(ref).is_absolute() else Path(ref)
            public = parse_pub_file(path.read_bytes(), str(path)).public
        else:
            public = store.public_key(ref)
        return public.keyid, public.pem

    return resolve


def draft(site: str, environment: Environment | str, admins: Sequence[str], store: KeyStore | None = None) -> str:
    """A first draft naming each administrator by the owner recorded on their key."""
    store = store or KeyStore()
    resolve = resolver(store, Path.cwd())
    pairs = []
    for ref in admins:
        keyid, _ = resolve(ref)
        owner = next((i.public.owner for i in store.list() if i.public.keyid == keyid), None)
        if owner is None:
            owner = parse_pub_file(Path(ref).read_bytes(), ref).public.owner
        # A .pub file is named by its absolute path: the draft is signed from wherever it is kept.
        pairs.append((owner, str(Path(ref).resolve()) if ref.endswith(".pub") else keyid))
    return drafts.draft_template(site, environment, pairs)


def sign_file(path: Path, signer: str, passphrase: str | None, out: Path | None = None,
              store: KeyStore | None = None) -> tuple[Path, int]:
    """Sign a draft (``.toml``) into a new signed policy, or add a signature to a signed one (``.json``).

    Returns the file written and how many signatures it now holds. A draft's signed form goes to
    ``out`` or ``DRAFT.json`` beside it; a signed policy is rewritten in place unless ``out`` is given.
    """
    store = store or KeyStore()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}.") from None
    key = store.signer(signer, passphrase)
    if path.suffix == ".toml":
        policy = drafts.read_draft(data.decode("utf-8"), str(path), resolver(store, path.parent))
        signed = policy_mod.sign_policy(None, policy, key, source=path.name)
        dest = out or path.with_suffix(".json")
    else:
        signed = policy_mod.sign_policy(data, _payload(data, path), key, source=path.name)
        dest = out or path
    write_atomically(dest, signed, mode=0o644)
    _, keyids = policy_mod.read_policy_envelope(signed, source=dest.name)
    return dest, len(keyids)


def _payload(envelope: bytes, path: Path) -> bytes:
    from core.promotion import envelopes

    return envelopes.read_envelope(envelope, path.name, payload_type=policy_mod.POLICY_PAYLOAD_TYPE,
                                   signatures=None, min_signatures=1).payload
