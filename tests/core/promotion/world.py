"""A promotion world for the end-to-end tests: people with their own key folders, a development
workspace with a trained model and its signed package, and signed trust policies for QA and production.

Everything is real: encrypted workspaces, ECDSA P-256 keys in passphrase-protected PKCS#8 files (one
folder per person, as on their own machines), a model trained on breast_cancer in a child process,
the package built and signed by the service, policies signed by two administrators.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.api import Engine
from core.promotion import policy as policy_mod
from core.promotion.keys import KeyStore, Signer
from core.promotion.models import (
    Environment,
    EnvironmentRule,
    KeyRole,
    KeyStorage,
    PolicyKey,
    TrustPolicy,
)
from core.training.models import Algorithm, SearchKind, SearchSpec, SplitSpec, Task
from tests.core.data import real_data

WS_PASSPHRASE = "promotion world passphrase"
PEOPLE = ("author", "qa1", "qa2", "prod1", "prod2", "admin1", "admin2", "qasite", "outsider")
QA_SITE = "Clinic-QA"
PROD_SITE = "Clinic-Prod"


def key_passphrase(person: str) -> str:
    return f"{person}-signing-passphrase"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclasses.dataclass
class World:
    root: Path
    keys: dict[str, str]  # person -> keyid
    dev: Engine
    package: Path  # cancer@1, built by "author"
    digest: str

    def folder(self, person: str) -> Path:
        return self.root / "machines" / person

    @contextlib.contextmanager
    def as_person(self, person: str) -> Iterator[KeyStore]:
        """Act on ``person``'s machine: the key store follows $XDG_CONFIG_HOME."""
        before = os.environ.get("XDG_CONFIG_HOME")
        os.environ["XDG_CONFIG_HOME"] = str(self.folder(person))
        try:
            yield KeyStore()
        finally:
            if before is None:
                os.environ.pop("XDG_CONFIG_HOME", None)
            else:
                os.environ["XDG_CONFIG_HOME"] = before

    def signer(self, person: str) -> Signer:
        with self.as_person(person) as store:
            return store.signer(self.keys[person], key_passphrase(person))

    def pem(self, person: str) -> str:
        with self.as_person(person) as store:
            return store.public_key(self.keys[person]).pem

    def pkey(self, person: str, *roles: KeyRole, name: str | None = None, days: int = 365,
             start: datetime | None = None) -> PolicyKey:
        start = start or datetime.now(UTC) - timedelta(days=1)
        return PolicyKey(self.keys[person], self.pem(person), name or person, tuple(roles), iso(start),
                         iso(start + timedelta(days=days)))

    def policy(self, environment: Environment, *, version: int = 1, rules: Sequence[EnvironmentRule] | None = None,
               keys: Sequence[PolicyKey] | None = None, revoked: Sequence[str] = (), days: int = 365,
               formats: Sequence[str] = ("joblib", "xgboost-ubj")) -> TrustPolicy:
        now = datetime.now(UTC) - timedelta(minutes=1)
        if keys is None:
            keys = [self.pkey("author", KeyRole.AUTHOR), self.pkey("qa1", KeyRole.QA_REVIEWER),
                    self.pkey("qa2", KeyRole.QA_REVIEWER), self.pkey("prod1", KeyRole.PROD_APPROVER),
                    self.pkey("prod2", KeyRole.PROD_APPROVER), self.pkey("qasite", KeyRole.SITE)]
        if rules is None:
            rules = [EnvironmentRule(Environment.QA, 1, KeyRole.QA_REVIEWER, 0.0, ())] if environment == Environment.QA \
                else [EnvironmentRule(Environment.PROD, 2, KeyRole.PROD_APPROVER, 0.0, (), approvers_differ_from_qa=True)]
        return TrustPolicy(
            version=version, site=QA_SITE if environment == Environment.QA else PROD_SITE, environment=environment,
            issued_at=iso(now), expires_at=iso(now + timedelta(days=days)),
            administrators=(self.pkey("admin1"), self.pkey("admin2")), admin_threshold=2, keys=tuple(keys),
            revoked=tuple(revoked), rules=tuple(rules), allowed_formats=tuple(formats),
        )

    def sign_policy(self, policy: TrustPolicy, path: Path, signers: Sequence[str] = ("admin1", "admin2")) -> Path:
        envelope: bytes | None = None
        for person in signers:
            envelope = policy_mod.sign_policy(envelope, policy, self.signer(person))
        assert envelope is not None
        path.write_bytes(envelope)
        return path

    def site(self, path: Path, environment: Environment, policy: TrustPolicy | None = None) -> Engine:
        """A fresh QA or production workspace at ``path`` with ``policy`` (default: this world's) installed."""
        engine, _ = Engine.create(path, name=path.stem, role=str(environment), passphrase=WS_PASSPHRASE,
                                  use_keyring=False)
        signed = self.sign_policy(policy or self.policy(environment), path.with_suffix(".policy.json"))
        engine.promotion.install_policy(signed)
        return engine

    def approve(self, person: str, environment: Environment, package: Path | None = None, *,
                decision: str = "approve", site: str | None = None, policy_version: int = 1) -> Path:
        with self.as_person(person):
            out: Path = self.dev.promotion.approve(
                package or self.package, environment=environment, decision=decision, comment=f"{person} checked it",
                signer=self.keys[person], passphrase=key_passphrase(person),
                site=site or (QA_SITE if environment == Environment.QA else PROD_SITE), policy_version=policy_version,
            ).value
        return out

    def build(self, out: Path, model_ref: str = "cancer@1", person: str = "author") -> Path:
        with self.as_person(person):
            self.dev.promotion.build(model_ref, out, signer=self.keys[person], passphrase=key_passphrase(person))
        return out


def train(engine: Any, folder: Path, model: str = "cancer") -> Any:
    """A logistic model on breast_cancer (2 trials), its schema inferred and the rubric run."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"breast_cancer_{model}"
    path = real_data.write_csv(name, folder, df=real_data.frame("breast_cancer"))
    version = engine.datasets.import_file(path, name=name).value.version
    engine.datasets.infer_schema(version.label)
    spec = engine.training.init_spec(version.label, "target", task=Task.BINARY)
    spec = dataclasses.replace(
        spec, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(kind=SearchKind.RANDOM, trials=2),
        split=SplitSpec(cv_folds=3), bootstrap_rounds=60, smoke_rows=200,
    )
    trained = engine.training.run(spec, model=model).value
    engine.rubric.run(trained.label)
    return trained


def make_world(root: Path) -> World:
    from core.promotion import keys as signing_keys

    cost, signing_keys.SCRYPT_N = signing_keys.SCRYPT_N, 1 << 10  # module-scoped: the autouse fixture is not active
    try:
        return _make_world(root)
    finally:
        signing_keys.SCRYPT_N = cost


def _make_world(root: Path) -> World:
    keys: dict[str, str] = {}
    world = World(root, keys, None, root / "cancer-1.airpkg", "")  # type: ignore[arg-type]
    for person in PEOPLE:
        with world.as_person(person) as store:
            info = store.generate(person.title(), storage=KeyStorage.FILE, passphrase=key_passphrase(person))
            keys[person] = info.public.keyid
    # Everyone knows the author's public key (the key ceremony), so reviewers can check the signature.
    with world.as_person("author") as store:
        author_pub = store.export_public(keys["author"], root / "author.pub")
    for person in PEOPLE:
        if person != "author":
            with world.as_person(person) as store:
                store.import_public(author_pub)
    dev, _ = Engine.create(root / "dev.airlock", name="Dev", role="dev", passphrase=WS_PASSPHRASE, use_keyring=False)
    world.dev = dev
    train(dev, root / "data")
    world.build(world.package)
    world.digest = dev.promotion.review(world.package).package_digest
    return world
