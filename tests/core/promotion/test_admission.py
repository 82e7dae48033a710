"""End to end: a package built in development, approved, admitted at QA and production, the registry.

Each test gets a fresh QA or production workspace; the development workspace, its trained model and
the signed package are made once per module (training is the slow part). Every refusal is checked
to change nothing in the receiving workspace (audit head, registry, nonces).
"""

from __future__ import annotations

import io
import pickle
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.api import Engine
from core.errors import AirlockError, PermissionDenied
from core.promotion import admission
from core.promotion.admission import AdmissionRefused, Lookups
from core.promotion.models import (
    AdmissionCheck,
    Environment,
    EnvironmentRule,
    KeyRole,
    RegistryAction,
    StepStatus,
)
from core.promotion.service import PolicyMissing
from tests.core.promotion.world import World, key_passphrase, make_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("promotion-world"))
    with w.dev:  # the development workspace, closed after the module
        yield w


@pytest.fixture
def qa(world: World, tmp_path: Path) -> Iterator[Engine]:
    with world.site(tmp_path / "qa.airlock", Environment.QA) as engine:  # closed after the test
        yield engine


def _copy(world: World, tmp_path: Path, approvals: bool = True) -> Path:
    """The package (and its approvals folder) copied where a test may change it."""
    dest = tmp_path / world.package.name
    shutil.copyfile(world.package, dest)
    folder = world.package.with_name(world.package.name + ".approvals")
    if approvals and folder.is_dir():
        shutil.copytree(folder, dest.with_name(dest.name + ".approvals"))
    return dest


def _state(engine: Engine) -> tuple[Any, ...]:
    return (engine.workspace.info().audit_head, engine.promotion.registry(), engine.promotion.history())


def _refused(engine: Engine, package: Path, check: AdmissionCheck, words: str, **kw: Any) -> AdmissionRefused:
    before = _state(engine)
    with pytest.raises(AdmissionRefused) as caught:
        engine.promotion.admit(package, **kw)
    failure = caught.value.report.failure
    assert failure is not None and failure.check == check, caught.value.report
    assert words in failure.detail, failure.detail
    assert not caught.value.report.admitted
    # Later steps were not reached; nothing was stored.
    later = [s for s in caught.value.report.steps if list(AdmissionCheck).index(s.check) > list(AdmissionCheck).index(check)]
    assert all(s.status == StepStatus.NOT_REACHED for s in later)
    assert _state(engine) == before
    return caught.value


# --- the happy path -------------------------------------------------------------------------


def test_a_package_approved_for_qa_is_admitted_with_every_step_passed(world: World, qa: Engine, tmp_path: Path) -> None:
    package = _copy(world, tmp_path, approvals=False)
    world.approve("qa1", Environment.QA, package)
    report = qa.promotion.admit(package).value
    assert report.admitted and report.label == "cancer@1" and report.package_digest == world.digest
    assert [s.check for s in report.steps] == list(AdmissionCheck)
    assert all(s.status in (StepStatus.PASSED, StepStatus.NOT_REQUIRED) for s in report.steps), report.steps
    [version] = qa.promotion.registry()
    assert (version.label, version.approvers, version.champion) == ("cancer@1", ("qa1",), False)
    assert version.canary_rows > 0 and version.canary_max_difference <= 1e-9
    # The admitted files are the package's, byte for byte, and the same package is not admitted twice.
    files = qa.promotion.admitted_files("cancer@1")
    assert "manifest.json" in files and "/author.sig" in files
    _refused(qa, package, AdmissionCheck.MANIFEST, "admitted here already")


def test_the_public_model_signing_verifier_accepts_a_package_airlock_built(world: World, tmp_path: Path) -> None:
    with tarfile.open(world.package) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    pub = tmp_path / "author.pem"
    pub.write_text(world.pem("author"))
    ok = subprocess.run([sys.executable, "-m", "model_signing", "verify", "key", str(tmp_path / "x" / "content"),
                         "--signature", str(tmp_path / "x" / "author.sig"), "--public_key", str(pub)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    card = tmp_path / "x" / "content" / "model_card.md"
    card.write_text(card.read_text() + "\nA claim added after signing.\n")
    bad = subprocess.run([sys.executable, "-m", "model_signing", "verify", "key", str(tmp_path / "x" / "content"),
                          "--signature", str(tmp_path / "x" / "author.sig"), "--public_key", str(pub)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0


def test_building_again_differs_only_in_the_audit_head_it_carries(world: World, tmp_path: Path) -> None:
    """The bytes are a function of the model and the workspace's audit head: the first build's own audit
    entry moves the head, so a second build differs in the manifest's head and the chain file only."""
    import dataclasses

    from core import formats
    from core.promotion import archive
    from core.promotion.models import Manifest

    again = archive.read_package(world.build(tmp_path / "again.airpkg"))
    first = archive.read_package(world.package)
    changed = {name for name in first.files if first.files[name] != again.files.get(name)}
    assert set(first.files) == set(again.files)
    assert changed <= {"manifest.json", "lineage/audit_chain.json", "model_card.md", "model_card.json"}
    a, b = (formats.loads(Manifest, bytes(p.files["manifest.json"])) for p in (first, again))
    assert b.audit_seq > a.audit_seq
    assert dataclasses.replace(b, audit_seq=a.audit_seq, audit_hash=a.audit_hash) == a


# --- refusals, each at its own step ---------------------------------------------------------


def test_no_approval_is_refused_at_the_approvals_step(world: World, qa: Engine, tmp_path: Path) -> None:
    _refused(qa, _copy(world, tmp_path, approvals=False), AdmissionCheck.APPROVALS, "0 of 1")


def test_a_qa_approval_offered_for_production_does_not_count(world: World, tmp_path: Path) -> None:
    package = _copy(world, tmp_path, approvals=False)
    world.approve("qa1", Environment.QA, package)
    world.approve("prod1", Environment.QA, package, site="Clinic-QA")  # a production approver, but for QA
    prod = world.site(tmp_path / "prod.airlock", Environment.PROD)
    try:
        _refused(prod, package, AdmissionCheck.APPROVALS, "QA")
    finally:
        prod.close()


def test_a_flipped_bit_in_the_model_is_refused_and_nothing_is_loaded(world: World, qa: Engine, tmp_path: Path) -> None:
    package = _copy(world, tmp_path, approvals=False)
    world.approve("qa1", Environment.QA, package)
    data = bytearray(package.read_bytes())
    at = data.find(b"content/model/pipeline.joblib")
    assert at > 0
    data[at + 512 + 200] ^= 0x01  # inside the pipeline's bytes
    package.write_bytes(bytes(data))
    _refused(qa, package, AdmissionCheck.AUTHOR_SIGNATURE, "pipeline.joblib")


def _sentinel_pickle(sentinel: Path) -> bytes:
    class Boom:
        def __reduce__(self) -> tuple[Any, ...]:
            return (exec, (f"open({str(sentinel)!r}, 'w').write('pwned')",))

    return pickle.dumps(Boom())


def _rewrite(package: Path, replace: dict[str, bytes]) -> None:
    """Rewrite members of the tar in place (the signature is left as it was)."""
    with tarfile.open(package) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar.getmembers()]  # type: ignore[union-attr]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as out:
        for member, data in members:
            data = replace.get(member.name, data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    package.write_bytes(buffer.getvalue())


def test_a_model_that_runs_code_when_unpickled_never_runs_on_an_unverified_path(
        world: World, qa: Engine, tmp_path: Path) -> None:
    sentinel = tmp_path / "SENTINEL"
    evil = _sentinel_pickle(sentinel)
    # Swapped into a signed package: the signature check refuses it before anything is loaded.
    package = _copy(world, tmp_path, approvals=False)
    world.approve("qa1", Environment.QA, package)
    _rewrite(package, {"content/model/pipeline.joblib": evil})
    _refused(qa, package, AdmissionCheck.AUTHOR_SIGNATURE, "pipeline.joblib")
    assert not sentinel.exists()
    # Signed properly, but by a key the policy does not trust: refused as well.
    from core.promotion import archive, author

    unpacked = archive.read_package(world.package)
    files = {name: bytes(data) for name, data in unpacked.files.items()}
    files["model/pipeline.joblib"] = evil
    outsider = tmp_path / "outsider.airpkg"
    archive.write_package(outsider, files, author.sign_content(files, world.signer("outsider").private_key))
    _refused(qa, outsider, AdmissionCheck.AUTHOR_SIGNATURE, "does not list")
    # A reviewer's review of either never loads it.
    qa.promotion.review(outsider)
    with pytest.raises(AirlockError):
        qa.promotion.review(package)
    assert not sentinel.exists()


def test_the_rubric_floor_refuses_before_the_canary_loads_anything(world: World, tmp_path: Path) -> None:
    strict = world.policy(Environment.QA, rules=[EnvironmentRule(Environment.QA, 1, KeyRole.QA_REVIEWER, 2.5,
                                                                ("Infra 1",))])
    site = world.site(tmp_path / "strict.airlock", Environment.QA, strict)
    try:
        package = _copy(world, tmp_path, approvals=False)
        world.approve("qa1", Environment.QA, package)
        _refused(site, package, AdmissionCheck.RUBRIC, "2.5")
    finally:
        site.close()


def test_an_author_approving_their_own_package_does_not_count(world: World, tmp_path: Path) -> None:
    keys = [world.pkey("author", KeyRole.AUTHOR, KeyRole.QA_REVIEWER), world.pkey("qa1", KeyRole.QA_REVIEWER)]
    site = world.site(tmp_path / "self.airlock", Environment.QA, world.policy(Environment.QA, keys=keys))
    try:
        package = _copy(world, tmp_path, approvals=False)
        with pytest.raises(Exception, match="own model"):
            world.approve("author", Environment.QA, package)
        from core.promotion import approvals

        approval = approvals.new_approval(
            package_digest=world.digest, model="cancer", version=1, environment=Environment.QA, site="Clinic-QA",
            decision=approvals.Decision.APPROVE, policy_version=1, reviewer=world.signer("author").public,
            comment="mine",
        )
        folder = package.with_name(package.name + ".approvals")
        folder.mkdir()
        (folder / "self.json").write_bytes(approvals.sign_approval(approval, world.signer("author")))
        _refused(site, package, AdmissionCheck.APPROVALS, "author")
    finally:
        site.close()


def test_an_older_version_after_a_newer_one_is_refused(world: World, tmp_path: Path) -> None:
    from tests.core.promotion.world import train

    train(world.dev, tmp_path / "data2")  # cancer@2
    newer = world.build(tmp_path / "cancer-2.airpkg", "cancer@2")
    older = _copy(world, tmp_path, approvals=False)
    for pkg in (newer, older):
        world.approve("qa1", Environment.QA, pkg)
    site = world.site(tmp_path / "order.airlock", Environment.QA)
    try:
        assert site.promotion.admit(newer).value.admitted
        _refused(site, older, AdmissionCheck.MANIFEST, "not newer")
    finally:
        site.close()


# --- the trust policy -------------------------------------------------------------------------


def test_policy_rollback_and_lost_state(world: World, qa: Engine, tmp_path: Path) -> None:
    again = world.sign_policy(world.policy(Environment.QA), tmp_path / "v1.json")
    with pytest.raises(Exception, match="(?i)rollback|older|version"):
        qa.promotion.install_policy(again)
    one_admin = world.sign_policy(world.policy(Environment.QA, version=2), tmp_path / "v2.json", ["admin1"])
    with pytest.raises(Exception, match="needs signatures from 2 distinct current administrators"):
        qa.promotion.install_policy(one_admin)
    v2 = world.sign_policy(world.policy(Environment.QA, version=2), tmp_path / "v2ok.json")
    assert qa.promotion.install_policy(v2).value.policy.version == 2
    assert [p.version for p in qa.promotion.policy_history()] == [1, 2]


def test_a_workspace_without_a_policy_admits_nothing(world: World, tmp_path: Path) -> None:
    engine, _ = Engine.create(tmp_path / "bare.airlock", name="bare", role="qa", passphrase="bare workspace pw",
                              use_keyring=False)
    try:
        with pytest.raises(PolicyMissing):
            engine.promotion.admit(world.package)
    finally:
        engine.close()


# --- the registry -------------------------------------------------------------------------------


def test_promote_rollback_and_a_revoked_approver(world: World, tmp_path: Path) -> None:
    from tests.core.promotion.world import train

    if len(world.dev.training.versions("cancer")) < 2:
        train(world.dev, tmp_path / "data3")
    second = world.build(tmp_path / "cancer-2.airpkg", "cancer@2")
    first = _copy(world, tmp_path, approvals=False)
    world.approve("qa1", Environment.QA, first)
    world.approve("qa2", Environment.QA, second)
    site = world.site(tmp_path / "reg.airlock", Environment.QA)
    try:
        site.promotion.admit(first)
        site.promotion.admit(second)
        site.promotion.promote("cancer@1", "first release")
        site.promotion.promote("cancer@2", "better recall")
        assert site.promotion.champion("cancer").label == "cancer@2"  # type: ignore[union-attr]
        event = site.promotion.rollback("cancer", "drill: recall dropped").value
        assert (event.action, event.version, event.previous) == (RegistryAction.ROLLBACK, 1, 2)
        assert event.duration_seconds is not None and event.duration_seconds > 0
        assert site.promotion.champion("cancer").label == "cancer@1"  # type: ignore[union-attr]
        assert [e.action for e in site.promotion.history("cancer")] == [
            RegistryAction.ADMIT, RegistryAction.ADMIT, RegistryAction.PROMOTE, RegistryAction.PROMOTE,
            RegistryAction.ROLLBACK]
        # Revoke qa1, whose approval admitted @1: promoting @1 again is refused under the new policy.
        site.promotion.promote("cancer@2", "fixed")
        v2 = world.sign_policy(world.policy(Environment.QA, version=2, revoked=[world.keys["qa1"]]),
                               tmp_path / "revoke.json")
        site.promotion.install_policy(v2)
        with pytest.raises(Exception, match="revoked"):
            site.promotion.rollback("cancer", "again")
        assert site.promotion.champion("cancer").label == "cancer@2"  # type: ignore[union-attr]
    finally:
        site.close()


# --- lineage: the development log only grows ------------------------------------------------------


class _FakeManifest:
    def __init__(self, seq: int, head: str) -> None:
        self.audit_seq, self.audit_hash = seq, head
        self.source_workspace_id, self.source_workspace_name = "dev-1", "Dev"


@pytest.mark.parametrize(("seen", "offered", "words"), [
    (None, ["a", "b"], None),
    ((2, "b", ["a", "b"]), ["a", "b", "c"], None),  # grew
    ((3, "c", ["a", "b", "c"]), ["a", "b"], None),  # an older package arriving late
    ((2, "b", ["a", "b"]), ["a", "X", "c"], "rewritten"),
    ((3, "c", ["a", "b", "c"]), ["a", "X"], "cut or rewritten"),
])
def test_the_development_audit_log_may_only_grow(seen: Any, offered: list[str], words: str | None) -> None:
    import json

    lookups = Lookups(lambda m: None, lambda d: False, lambda n: set(),
                      lambda w: None if seen is None else (seen[0], seen[1], json.dumps(seen[2]).encode()))
    problem, _ = admission._lineage_problem(_FakeManifest(len(offered), offered[-1]),  # type: ignore[arg-type]
                                            json.dumps(offered).encode(), lookups)
    assert (problem is None) if words is None else (problem is not None and words in problem), problem


# --- QA to production ----------------------------------------------------------------------------


def test_production_requires_the_qa_sites_attestation_and_other_approvers(world: World, tmp_path: Path) -> None:
    package = _copy(world, tmp_path, approvals=False)
    world.approve("qa1", Environment.QA, package)
    qa_site = world.site(tmp_path / "qa.airlock", Environment.QA)
    rules = [EnvironmentRule(Environment.PROD, 2, KeyRole.PROD_APPROVER, 0.0, (), approvers_differ_from_qa=True,
                             require_qa_attestation=True)]
    # qa1 also holds a production approver key in the production policy: as a QA approver they must not count.
    keys = [world.pkey("author", KeyRole.AUTHOR), world.pkey("qa1", KeyRole.QA_REVIEWER, KeyRole.PROD_APPROVER),
            world.pkey("prod1", KeyRole.PROD_APPROVER), world.pkey("prod2", KeyRole.PROD_APPROVER),
            world.pkey("qasite", KeyRole.SITE)]
    prod = world.site(tmp_path / "prod.airlock", Environment.PROD, world.policy(Environment.PROD, rules=rules, keys=keys))
    try:
        assert qa_site.promotion.admit(package).value.admitted
        world.approve("prod1", Environment.PROD, package)
        world.approve("qa1", Environment.PROD, package)
        # Without the attestation: refused (the approvals step counts prod1 only, qa1 approved for QA).
        _refused(prod, package, AdmissionCheck.APPROVALS, "1 of 2")
        world.approve("prod2", Environment.PROD, package)
        _refused(prod, package, AdmissionCheck.QA_ATTESTATION, "none came with it")
        folder = package.with_name(package.name + ".approvals")
        with world.as_person("qasite"):
            qa_site.promotion.attest("cancer@1", folder / "qa-site.json", signer=world.keys["qasite"],
                                     passphrase=key_passphrase("qasite"))
        report = prod.promotion.admit(package).value
        assert report.admitted
        steps = {s.check: s for s in report.steps}
        assert steps[AdmissionCheck.QA_ATTESTATION].status == StepStatus.PASSED
        assert "Clinic-QA" in steps[AdmissionCheck.QA_ATTESTATION].detail
        assert set(prod.promotion.registry()[0].approvers) == {"prod1", "prod2"}
        # The QA site's key is revoked: the version no longer satisfies the production policy.
        v2 = world.policy(Environment.PROD, version=2, rules=rules, keys=keys, revoked=[world.keys["qasite"]])
        prod.promotion.install_policy(world.sign_policy(v2, tmp_path / "prod-v2.json"))
        with pytest.raises(PermissionDenied, match="QA site.s attestation no longer counts.*revoked"):
            prod.promotion.promote("cancer@1", "go live")
    finally:
        qa_site.close()
        prod.close()


def test_one_approval_offered_twice_counts_once(world: World, tmp_path: Path) -> None:
    package = _copy(world, tmp_path, approvals=False)
    first = world.approve("prod1", Environment.PROD, package)
    shutil.copyfile(first, first.with_name("copy-of-" + first.name))
    prod = world.site(tmp_path / "prod.airlock", Environment.PROD)
    try:
        _refused(prod, package, AdmissionCheck.APPROVALS, "1 of 2")
    finally:
        prod.close()


# --- the policy's own state ------------------------------------------------------------------------


def test_lost_policy_state_needs_an_explicit_recovery(world: World, tmp_path: Path) -> None:
    from core.store import keys as store_keys
    from tests.core.helpers import tamper_connection
    from tests.core.promotion.world import WS_PASSPHRASE

    path = tmp_path / "lost.airlock"
    engine, recovery = Engine.create(path, name="lost", role="qa", passphrase=WS_PASSPHRASE, use_keyring=False)
    engine.promotion.install_policy(world.sign_policy(world.policy(Environment.QA), tmp_path / "v1.json"))
    engine.close()
    conn = tamper_connection(path, store_keys.parse_recovery_key(recovery))
    conn.execute("DELETE FROM trust_policy")
    conn.close()
    from core.api import Unlock

    engine = Engine.open(path, Unlock.with_passphrase(WS_PASSPHRASE))
    try:
        assert engine.promotion.policy() is None
        offered = world.sign_policy(world.policy(Environment.QA, version=1), tmp_path / "again.json")
        with pytest.raises(PolicyMissing, match="recover"):
            engine.promotion.install_policy(offered)
        with pytest.raises(PolicyMissing):
            engine.promotion.admit(world.package)
        with pytest.raises(Exception, match="newer than version 1"):
            engine.promotion.recover_policy(offered, "restored the site after a disk failure")
        v2 = world.sign_policy(world.policy(Environment.QA, version=2), tmp_path / "v2.json")
        installed = engine.promotion.recover_policy(v2, "restored the site after a disk failure").value
        assert installed.recovered and installed.policy.version == 2
        [event], _ = engine.audit.events(action="policy.recovered")
        assert event.details["reason"].startswith("restored") and event.details["version"] == 2
    finally:
        engine.close()


def test_an_expired_policy_admits_nothing(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    from core.promotion import service as service_mod

    site = world.site(tmp_path / "exp.airlock", Environment.QA)  # valid for a year from now
    try:
        later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400)
        monkeypatch.setattr(service_mod, "_now", lambda: later)  # this site's clock, a year and more on
        with pytest.raises(PolicyMissing, match="expired"):
            site.promotion.admit(world.package)
    finally:
        site.close()


def test_a_policy_written_into_the_store_without_the_administrators_keys_is_refused(
        world: World, tmp_path: Path) -> None:
    """Someone with the workspace key but not the administrators' keys swaps in a policy of their own."""
    import dataclasses

    from core.store import keys as store_keys
    from tests.core.helpers import tamper_connection
    from tests.core.promotion.world import WS_PASSPHRASE

    path = tmp_path / "forged.airlock"
    engine, recovery = Engine.create(path, name="forged", role="qa", passphrase=WS_PASSPHRASE, use_keyring=False)
    engine.promotion.install_policy(world.sign_policy(world.policy(Environment.QA), tmp_path / "v1.json"))
    engine.close()
    # A version 2 whose administrators are the forger's own two keys, signed by them: valid on its own.
    forged = dataclasses.replace(world.policy(Environment.QA, version=2),
                                 administrators=(world.pkey("outsider"), world.pkey("qa2")))
    envelope = world.sign_policy(forged, tmp_path / "forged.json", ["outsider", "qa2"]).read_text()
    conn = tamper_connection(path, store_keys.parse_recovery_key(recovery))
    conn.execute("INSERT INTO trust_policy VALUES (2, 'Clinic-QA', 'qa', ?, ?, 'mallory', 0, ?)",
                 (forged.expires_at, "2026-12-01T12:00:00.000000+00:00", envelope))
    conn.close()
    from core.api import Unlock

    engine = Engine.open(path, Unlock.with_passphrase(WS_PASSPHRASE))
    try:
        with pytest.raises(PolicyMissing, match="does not verify"):
            engine.promotion.policy()
        with pytest.raises(PolicyMissing):
            engine.promotion.admit(world.package)
    finally:
        engine.close()


def test_the_next_draft_of_the_installed_policy_signs_into_a_rotation(world: World, qa: Engine, tmp_path: Path) -> None:
    from core.promotion import authoring

    draft = tmp_path / "next.toml"
    text = qa.promotion.next_policy_draft()
    assert "version = 2" in text
    draft.write_text(text.replace("revoked = []", f'revoked = ["{world.keys["qa2"]}"]'))
    with world.as_person("admin1") as store:
        signed, count = authoring.sign_file(draft, world.keys["admin1"], "admin1-signing-passphrase", store=store)
    with world.as_person("admin2") as store:
        signed, count = authoring.sign_file(signed, world.keys["admin2"], "admin2-signing-passphrase", store=store)
    assert count == 2
    installed = qa.promotion.install_policy(signed).value
    assert installed.policy.version == 2 and world.keys["qa2"] in installed.policy.revoked


def test_a_reviewer_reads_a_package_without_any_workspace(world: World, tmp_path: Path) -> None:
    from core.promotion.review import review_with_my_keys

    with world.as_person("qa1"):  # qa1 imported the author's key at the key ceremony
        summary = review_with_my_keys(world.package)
    assert summary.author_verified and summary.package_digest == world.digest
    assert summary.manifest.label == "cancer@1" and "# Model card" in summary.model_card_markdown
    with world.as_person("outsider") as store:  # knows the author's key too; forget it for this test
        store.pub_path(world.keys["author"]).unlink()
        unknown = review_with_my_keys(world.package)
        assert not unknown.author_verified and unknown.package_digest == world.digest
        # Unverified, the files are still checked against the statement: a changed model card is refused.
        package = _copy(world, tmp_path, approvals=False)
        data = bytearray(package.read_bytes())
        at = data.find(b"content/model_card.md")
        data[at + 512 + 10] ^= 0x20
        package.write_bytes(bytes(data))
        with pytest.raises(AirlockError, match="changed after it was signed"):
            review_with_my_keys(package)
        store.import_public(world.root / "author.pub")  # as it was, for the tests after this one


def test_large_files_are_read_again_and_rehashed_and_a_swap_after_verification_stores_nothing(
        world: World, qa: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files above the in-memory limit are hashed, not kept; the canary's pipeline and the stored
    copies are read again and must hash to the verified digests. A package swapped on disk after the
    checks passed (between verifying and storing) is refused and nothing is kept."""
    monkeypatch.setattr(admission, "KEEP_IN_MEMORY", 1024)  # almost every file is "large" now
    package = _copy(world, tmp_path, approvals=False)
    world.approve("qa1", Environment.QA, package)
    tampered = tmp_path / "tampered.airpkg"
    shutil.copyfile(package, tampered)
    _rewrite(tampered, {"content/model_card.md": b"# Model card\n\nA different story.\n"})
    before = _state(qa)

    def swap_when_checked(step: Any) -> None:
        if step.check == AdmissionCheck.CANARY:
            shutil.copyfile(tampered, package)

    with pytest.raises(AirlockError, match="changed since it was verified"):
        qa.promotion.admit(package, on_step=swap_when_checked)
    assert _state(qa) == before
    # Untouched, the same large-file path admits, and the stored files are the verified ones.
    (tmp_path / "again").mkdir()
    fresh = _copy(world, tmp_path / "again", approvals=False)
    world.approve("qa1", Environment.QA, fresh)
    assert qa.promotion.admit(fresh).value.admitted
    from core.promotion import archive

    original = archive.read_package(world.package)
    stored = qa.promotion.admitted_files("cancer@1")
    assert {k: v for k, v in stored.items() if k != "/author.sig"} == {k: bytes(v) for k, v in original.files.items()}
