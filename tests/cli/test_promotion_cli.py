"""The promotion flow through the real ``airlock`` command: keys and their ceremony, a package built in
development, reviewed and approved, a QA site's trust policy drafted, signed by two administrators and
installed, the package admitted, promoted, and a tampered copy refused without changing anything.

Each person acts on their own "machine": their own ``$XDG_CONFIG_HOME`` (so their own key store) and
their own signing passphrase in ``$AIRLOCK_SIGNING_PASSPHRASE``; public keys travel as ``.pub`` files
in a shared folder standing for removable media. Passphrases are never on the command line.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.api import Algorithm, SearchSpec, SplitSpec, dump_spec, load_spec
from tests.core.data import real_data

PEOPLE = {"author": "Ann Author", "qa": "Quinn Reviewer", "admin1": "Ada Admin", "admin2": "Bo Admin"}
SITE = "Clinic-QA"
CHECKS = ("unpack", "author-signature", "manifest", "lineage", "approvals", "qa-attestation", "rubric", "canary")


class Machines:
    """Switch between people's machines (key store folder and signing passphrase)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch

    def be(self, person: str) -> None:
        self.monkeypatch.setenv("XDG_CONFIG_HOME", str(self.root / "machines" / person))
        self.monkeypatch.setenv("AIRLOCK_SIGNING_PASSPHRASE", f"{person} signing passphrase")


def _ok(result: Any) -> Any:
    assert result.code == 0, (result.out, result.err)
    return result


def _fingerprint_in(text: str) -> str:
    found = re.findall(r"\b(?:[0-9A-F]{4} ){15}[0-9A-F]{4}\b", text)
    assert len(set(found)) == 1, text
    return found[0]


def _train(run: Any, dev: tuple[str, Path], tmp_path: Path) -> None:
    """A small logistic model on breast_cancer, and its rubric."""
    (tmp_path / "data").mkdir()
    csv = real_data.write_csv("cancer", tmp_path / "data", df=real_data.frame("breast_cancer"))
    _ok(run(*dev, "data", "import", csv, "--name", "cancer"))
    spec_path = tmp_path / "spec.toml"
    _ok(run(*dev, "train", "init", "cancer", "--target", "target", "--out", spec_path))
    spec = dataclasses.replace(
        load_spec(spec_path), metric="roc_auc", algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(trials=2),
        split=SplitSpec(cv_folds=3), bootstrap_rounds=50, smoke_rows=100,
    )
    spec_path.write_text(dump_spec(spec), encoding="utf-8")
    trained = _ok(run(*dev, "train", "run", spec_path, "--cpu", "--model", "cancer"))
    assert "cancer@1" in trained.out
    _ok(run(*dev, "rubric", "run", "cancer@1"))


def _flip_in_member(package: Path, member: str, at: int) -> None:
    """Flip one bit ``at`` bytes into ``member``'s data (its 512-byte ustar header comes first)."""
    data = bytearray(package.read_bytes())
    header = data.find(member.encode("ascii") + b"\x00")
    assert header >= 0 and header % 512 == 0, member
    data[header + 512 + at] ^= 0x01
    package.write_bytes(bytes(data))


@pytest.mark.slow  # trains a model and runs the canary in a child
def test_the_whole_promotion_flow_through_the_command_line(
        run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machines = Machines(tmp_path, monkeypatch)
    usb = tmp_path / "usb"  # the removable media public keys and packages travel on
    usb.mkdir()

    # --- keys: each person makes their own, on their own machine, and hands over the public part ---
    keyids: dict[str, str] = {}
    fingerprints: dict[str, str] = {}
    for person, name in PEOPLE.items():
        machines.be(person)
        made = _ok(run("--json", "keys", "new", "--owner", name))
        keyids[person] = json.loads(made.out)["key"]["public"]["keyid"]
        listed = _ok(run("keys", "list"))  # what the owner reads aloud at the ceremony
        fingerprints[person] = _fingerprint_in(listed.out)
        _ok(run("keys", "export", keyids[person][:12], "--out", usb / f"{person}.pub"))
        assert "PRIVATE" not in (usb / f"{person}.pub").read_text()

    def ceremony(receiver: str, *owners: str) -> None:
        machines.be(receiver)
        for owner in owners:
            imported = _ok(run("keys", "import", usb / f"{owner}.pub"))
            assert _fingerprint_in(imported.out) == fingerprints[owner]  # read aloud, compared, equal
            assert "Imported" in imported.out and PEOPLE[owner] in imported.out

    # --- development: the author trains and builds the signed package ---
    machines.be("author")
    dev = ("--workspace", tmp_path / "dev.airlock")
    _ok(run("workspace", "init", tmp_path / "dev.airlock", "--name", "Dev", "--role", "dev"))
    _train(run, dev, tmp_path)
    package = usb / "cancer-1.airpkg"
    built = _ok(run(*dev, "--json", "package", "build", "cancer@1", "--out", package, "--signer", keyids["author"][:12]))
    digest = json.loads(built.out)["package_digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)

    # --- the QA reviewer: review (the author's signature is checked once their key is known), approve ---
    machines.be("qa")
    unknown = _ok(run(*dev, "package", "review", package))
    assert "NOT checked" in unknown.out
    ceremony("qa", "author")
    reviewed = _ok(run(*dev, "package", "review", package))
    assert "signature verified" in reviewed.out and digest in reviewed.out
    assert "model_card.md" in reviewed.out and "canary/rows.parquet" in reviewed.out
    review_json = json.loads(_ok(run(*dev, "--json", "package", "review", package)).out)
    assert review_json["author_verified"] is True and review_json["manifest"]["model"] == "cancer"
    approved = _ok(run(*dev, "package", "approve", package, "--env", "qa", "--decision", "approve",
                       "--comment", "Model card, evidence and rubric read; fine for QA.", "--signer", keyids["qa"][:12],
                       "--site", SITE, "--policy-version", "1"))
    approvals = sorted((usb / "cancer-1.airpkg.approvals").glob("*.json"))
    assert len(approvals) == 1 and str(approvals[0].name) in approved.out

    # --- the QA site: a workspace, the key ceremony, the trust policy drafted, signed by both, installed ---
    ceremony("admin2", "admin1")
    ceremony("admin1", "admin2", "author", "qa")
    qa_path = tmp_path / "qa.airlock"
    qa = ("--workspace", qa_path)
    _ok(run("workspace", "init", qa_path, "--name", "Clinic QA", "--role", "qa"))
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    draft = drafts / "qa-policy.toml"
    _ok(run("policy", "new", "--site", SITE, "--env", "qa", "--admin", keyids["admin1"][:12],
            "--admin", usb / "admin2.pub", "--out", draft))
    text = draft.read_text(encoding="utf-8")
    assert "threshold = 2" in text and "Ada Admin" in text and "Bo Admin" in text

    # As written, the draft lists no reviewer: signing it says so, with the line to fix.
    as_is = run("policy", "sign", draft, "--signer", keyids["admin1"][:12])
    assert as_is.code == 2 and "rules.qa.approvals_required" in as_is.err and "qa-reviewer" in as_is.err
    assert not draft.with_suffix(".json").exists()

    # The reviewer approved before this draft was written. A key listed without valid_from is valid from
    # the draft's "issued" time, and an approval signed before its key became valid never counts: so the
    # administrator dates the reviewer's key from when it was handed over at the ceremony (a day ago, here).
    handed_over = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    keys_block = (
        "[[keys]]\n"
        f'person = "{PEOPLE["author"]}"\n'
        f'key = "{keyids["author"]}"\n'  # by key id: imported at the ceremony
        'roles = ["author"]\n\n'
        "[[keys]]\n"
        f'person = "{PEOPLE["qa"]}"\n'
        'key = "../usb/qa.pub"\n'  # by .pub file, relative to the draft
        'roles = ["qa-reviewer"]\n'
        f'valid_from = "{handed_over}"\n\n'
    )
    assert "# [[keys]]\n" in text
    draft.write_text(text.replace("# [[keys]]\n", keys_block + "# [[keys]]\n", 1), encoding="utf-8")
    signed = drafts / "qa-policy.json"
    one = _ok(run("policy", "sign", draft, "--signer", keyids["admin1"][:12]))
    assert "1 administrator signature" in one.out and signed.exists()

    machines.be("author")  # whoever runs the QA workspace; one signature is not the threshold of two
    too_few = run(*qa, "policy", "install", signed)
    assert too_few.code == 2 and "needs signatures from 2 distinct" in too_few.err
    machines.be("admin2")
    two = _ok(run("policy", "sign", signed, "--signer", keyids["admin2"][:12]))
    assert "2 administrator signature" in two.out
    again = run("policy", "sign", signed, "--signer", keyids["admin2"][:12])
    assert again.code == 2 and "signed this policy already" in again.err

    installed = _ok(run(*qa, "policy", "install", signed))
    assert "Installed." in installed.out and "Ada Admin, Bo Admin; threshold 2" in installed.out
    shown = _ok(run(*qa, "policy", "show"))
    assert f"version 1 for site '{SITE}' (qa)" in shown.out and "Quinn Reviewer" in shown.out
    policy_json = json.loads(_ok(run(*qa, "--json", "policy", "show")).out)
    assert policy_json["version"] == 1 and policy_json["admin_threshold"] == 2
    assert {k["person"]: k["roles"] for k in policy_json["keys"]} == {
        PEOPLE["author"]: ["author"], PEOPLE["qa"]: ["qa-reviewer"]}

    # --- admission: every step in order, the canary last ---
    admitted = _ok(run(*qa, "package", "admit", package))
    assert f"Admitted cancer@1 (package {digest})" in admitted.out
    marks = re.findall(r"\[(ok  |FAIL|--  |n/a )\] (\S+)", admitted.out)
    assert [check for _, check in marks] == list(CHECKS)
    assert {check: mark.strip() for mark, check in marks} == {
        **{c: "ok" for c in CHECKS}, "qa-attestation": "n/a"}  # QA requires no attestation from anyone
    assert "Quinn Reviewer" in admitted.out and "child with no network" in admitted.out

    # --- the registry: admitted, promoted, its history ---
    listed = _ok(run(*qa, "registry", "list"))
    assert "cancer@1" in listed.out and "Quinn Reviewer" in listed.out
    promoted = _ok(run(*qa, "registry", "promote", "cancer@1", "--reason", "first model at this site"))
    assert "cancer@1 is the champion now" in promoted.out
    history = _ok(run(*qa, "registry", "show", "cancer"))
    assert "champion cancer@1" in history.out and "first model at this site" in history.out
    shown_json = json.loads(_ok(run(*qa, "--json", "registry", "show", "cancer")).out)
    assert [e["action"] for e in shown_json["history"]] == ["admit", "promote"]
    before = json.loads(_ok(run(*qa, "--json", "registry", "list")).out)
    assert [(v["model"], v["version"], v["champion"], v["package_digest"]) for v in before] == [
        ("cancer", 1, True, digest)]
    head = json.loads(_ok(run(*qa, "--json", "workspace", "info")).out)["audit_head"]

    # --- a tampered copy (one bit of the model card) is refused at the author's signature, changing nothing ---
    tampered = tmp_path / "tampered" / package.name
    tampered.parent.mkdir()
    shutil.copyfile(package, tampered)
    shutil.copytree(package.with_name(package.name + ".approvals"), tampered.with_name(tampered.name + ".approvals"))
    _flip_in_member(tampered, "content/model_card.md", 40)
    refused = run(*qa, "package", "admit", tampered)
    assert refused.code == 1, (refused.out, refused.err)
    assert "NOT admitted" in refused.out and re.search(r"\[FAIL\] author-signature .*model_card\.md", refused.out)
    refused_json = run(*qa, "--json", "package", "admit", tampered)
    assert refused_json.code == 1
    report = json.loads(refused_json.out)
    assert report["admitted"] is False
    statuses = {s["check"]: s["status"] for s in report["steps"]}
    assert statuses["unpack"] == "passed" and statuses["author-signature"] == "failed"
    assert all(statuses[c] == "not-reached" for c in CHECKS[2:])
    assert json.loads(_ok(run(*qa, "--json", "registry", "list")).out) == before
    assert json.loads(_ok(run(*qa, "--json", "workspace", "info")).out)["audit_head"] == head


def test_a_draft_naming_an_administrator_by_a_relative_pub_file_can_be_signed(
        run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machines = Machines(tmp_path, monkeypatch)
    machines.be("admin1")
    made = _ok(run("--json", "keys", "new", "--owner", PEOPLE["admin1"]))
    keyid = json.loads(made.out)["key"]["public"]["keyid"]
    reviewer = json.loads(_ok(run("--json", "keys", "new", "--owner", PEOPLE["qa"])).out)["key"]["public"]["keyid"]
    (tmp_path / "usb").mkdir()
    _ok(run("keys", "export", keyid[:12], "--out", tmp_path / "usb" / "admin1.pub"))
    (tmp_path / "drafts").mkdir()
    monkeypatch.chdir(tmp_path)
    draft = Path("drafts") / "qa-policy.toml"
    _ok(run("policy", "new", "--site", SITE, "--env", "qa", "--admin", "usb/admin1.pub", "--out", draft))
    text = draft.read_text(encoding="utf-8")
    # A reviewer key, so the draft can be signed at all.
    draft.write_text(text.replace("# [[keys]]\n", f'[[keys]]\nperson = "Quinn"\nkey = "{reviewer}"\n'
                                  'roles = ["qa-reviewer"]\n\n# [[keys]]\n', 1), encoding="utf-8")
    signed = run("policy", "sign", draft, "--signer", keyid[:12])
    assert signed.code == 0, signed.err
