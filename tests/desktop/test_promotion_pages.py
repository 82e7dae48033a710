"""The promotion pages driven as a user would, on real data (pytest-qt, offscreen).

A development workspace with a model trained on breast_cancer (two versions), people with
their own passphrase-protected keys, signed trust policies and fresh QA workspaces come from
``tests/core/promotion/world.py``. Each test builds, approves, admits, promotes or installs
through the pages' buttons and checks what a user would see and what the workspace holds.
Set ``AIRLOCK_SHOTS=/folder`` to save a screenshot of each page there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from core.api import AdmissionCheck, Engine, Environment, RegistryAction
from desktop.bus import EventBus
from desktop.pages import PAGES, page_spec
from desktop.pages import admission as admission_mod
from desktop.pages import registry as registry_mod
from desktop.pages.admission import ADMIT, AdmissionPage
from desktop.pages.promotion import APPROVE, BUILD, LIST, REVIEW, PromotionPage
from desktop.pages.registry import CHANGE, RegistryPage
from desktop.pages.trust_policy import INSTALL, TrustPolicyPage
from desktop.widgets import signing_key
from tests.core.promotion.world import World, key_passphrase, make_world, train

TIMEOUT = 180_000


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("desktop-promotion"))
    train(w.dev, w.root / "data2")  # cancer@2, for the build page and the registry
    with w.dev:  # the development workspace, closed after the module
        yield w


@pytest.fixture
def qa(world: World, tmp_path: Path) -> Iterator[Engine]:
    with world.site(tmp_path / "qa.airlock", Environment.QA) as engine:  # closed after the test
        yield engine


def _as(monkeypatch: pytest.MonkeyPatch, world: World, person: str) -> None:
    """This machine is ``person``'s: the key store follows $XDG_CONFIG_HOME."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(world.folder(person)))


def _copy(world: World, tmp_path: Path) -> Path:
    dest = tmp_path / world.package.name
    shutil.copyfile(world.package, dest)
    return dest


def _shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("AIRLOCK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.resize(1200, 800)
        QApplication.processEvents()
        assert widget.grab().save(str(Path(folder) / f"{name}.png"))


def _page(qtbot, cls: type, bus: EventBus, engine: Engine):  # type: ignore[no-untyped-def]
    page = cls(bus)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    bus.changed.connect(page.on_changes)
    return page


def _settle(qtbot, page) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not any(r.busy for r in page.runners()), timeout=TIMEOUT)


def test_pages_are_offered_by_workspace_role() -> None:
    roles = {s.name: s for s in PAGES}
    assert roles["promotion"].offered("dev") and roles["promotion"].offered("qa")
    for name in ("admission", "registry", "trust_policy"):
        assert not roles[name].offered("dev") and roles[name].offered("qa") and roles[name].offered("prod")
        assert page_spec(name) is not None


def test_build_review_and_approve_on_the_promotion_page(qtbot, world: World, tmp_path: Path, bus: EventBus,
                                                        monkeypatch: pytest.MonkeyPatch, messages) -> None:
    _as(monkeypatch, world, "author")
    asked: list[str] = []

    def answer(parent: object, keyid: str, purpose: str) -> str | None:
        asked.append(keyid)
        return key_passphrase("author") if len(asked) > 1 else None  # the first time the user cancels

    monkeypatch.setattr(signing_key, "ask_passphrase", answer)
    page = _page(qtbot, PromotionPage, bus, world.dev)
    with qtbot.waitSignal(page.runner(LIST).finished, timeout=TIMEOUT):
        page.set_engine(world.dev)
    assert [page.version_box.itemText(i) for i in range(page.version_box.count())] == ["cancer@2", "cancer@1"]
    assert page.build_key.keyid() == world.keys["author"] and "Author" in page.build_key.currentText()
    out = tmp_path / "cancer-2.airpkg"
    page.out_edit.setText(str(out))
    assert page.build_button.isEnabled() and not page.cancel_button.isEnabled()
    page.build_button.click()  # cancelled at the passphrase dialog: nothing happens
    assert asked == [world.keys["author"]] and not out.exists() and not page.runner(BUILD).busy
    with qtbot.waitSignal(page.runner(BUILD).finished, timeout=TIMEOUT):
        page.build_button.click()
        assert page.cancel_button.isEnabled() and not page.build_button.isEnabled()
    assert out.is_file() and "Wrote" in page.build_note.text()
    assert page.summary is not None and page.summary.manifest.label == "cancer@2" and page.summary.author_verified
    files = [f.path for f in page.files_model.rows()]
    assert "manifest.json" in files and "model_card.md" in files and "model/pipeline.joblib" in files
    assert "cancer" in page.card_view.toPlainText() and page.card_view.isReadOnly()
    assert "#" not in page.card_view.toPlainText().splitlines()[0]  # Markdown rendered, not shown as source
    assert "verified" in page.summary_view.toPlainText() and "breast_cancer" in page.summary_view.toPlainText()
    _shot(page, "promotion-build")

    # A QA reviewer on their own machine opens the package, reads it and signs an approval.
    _as(monkeypatch, world, "qa1")
    monkeypatch.setattr(signing_key, "ask_passphrase", lambda *a: key_passphrase("qa1"))
    with qtbot.waitSignal(page.runner(LIST).finished, timeout=TIMEOUT):
        page.reload()
    assert page.approve_key.keyid() == world.keys["qa1"]
    with qtbot.waitSignal(page.runner(REVIEW).finished, timeout=TIMEOUT):
        page.review(out)
    assert page.summary is not None and page.summary.author_verified
    assert not page.sign_button.isEnabled()  # no comment yet
    page.tabs.setCurrentIndex(1)
    page.env_box.setCurrentIndex(page.env_box.findData(Environment.QA))
    page.site_edit.setText("Clinic-QA")
    page.policy_spin.setValue(1)
    page.comment_edit.setPlainText("Read the card and the rubric; fine for QA.")
    assert page.sign_button.isEnabled()
    with qtbot.waitSignal(page.runner(APPROVE).finished, timeout=TIMEOUT):
        page.sign_button.click()
    [approval] = list(out.with_name(out.name + ".approvals").iterdir())
    assert approval.name.startswith("qa-approve-") and str(approval) in page.review_note.text()
    page.tabs.setCurrentIndex(1)
    page.details.setCurrentIndex(2)
    _shot(page, "promotion-review")
    # The author cannot approve their own package: a readable message, nothing written.
    _as(monkeypatch, world, "author")
    monkeypatch.setattr(signing_key, "ask_passphrase", lambda *a: key_passphrase("author"))
    with qtbot.waitSignal(page.runner(LIST).finished, timeout=TIMEOUT):
        page.reload()
    with qtbot.waitSignal(page.runner(APPROVE).failed, timeout=TIMEOUT):
        page.comment_edit.setPlainText("mine")
        page.sign_button.click()
    assert "author never approves" in messages.texts() and "Traceback" not in messages.texts()
    assert len(list(out.with_name(out.name + ".approvals").iterdir())) == 1
    _settle(qtbot, page)
    page.set_engine(None)


def _admission_page(qtbot, bus: EventBus, qa: Engine) -> AdmissionPage:  # type: ignore[no-untyped-def]
    page = _page(qtbot, AdmissionPage, bus, qa)
    with qtbot.waitSignal(page.runner("state").finished, timeout=TIMEOUT):
        page.set_engine(qa)
    return page


def _drop(page: AdmissionPage, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    page.dropEvent(event)


def test_admission_checklist_fills_in_step_by_step_and_admits(qtbot, world: World, qa: Engine, tmp_path: Path,
                                                              bus: EventBus, monkeypatch: pytest.MonkeyPatch,
                                                              messages) -> None:
    package = _copy(world, tmp_path)
    world.approve("qa1", Environment.QA, package)
    page = _admission_page(qtbot, bus, qa)
    assert "trust policy version 1 of site Clinic-QA" in page.policy_label.text()
    seen: list[tuple[AdmissionCheck, bool, bool]] = []
    show = page.show_step

    def watch(step):  # type: ignore[no-untyped-def]
        on_gui = QThread.currentThread() is QApplication.instance().thread()  # type: ignore[union-attr]
        seen.append((step.check, on_gui, page.runner(ADMIT).busy))
        show(step)

    monkeypatch.setattr(page, "show_step", watch)
    _drop(page, package)
    assert page.package_edit.text() == str(package) and "press Admit" in page.result.text()
    with qtbot.waitSignal(page.runner(ADMIT).finished, timeout=TIMEOUT):
        page.admit_button.click()
    # Every step arrived on the GUI thread while the admission was still running, in order.
    live = [check for check, on_gui, busy in seen if busy]
    assert live == list(AdmissionCheck) and all(on_gui for _, on_gui, _ in seen)
    for check in AdmissionCheck:
        assert page.rows[check].text(2) in ("✔ passed", "– not required"), (check, page.rows[check].text(3))
    assert page.rows[AdmissionCheck.CANARY].text(2) == "✔ passed"
    assert "Admitted cancer@1" in page.result.text() and not messages.shown
    assert [v.label for v in qa.promotion.registry()] == ["cancer@1"]
    _shot(page, "admission-passed")
    _settle(qtbot, page)
    page.set_engine(None)


def test_approvals_kept_elsewhere_are_added_to_the_admission(qtbot, world: World, qa: Engine, tmp_path: Path,
                                                             bus: EventBus, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _copy(world, tmp_path)
    approval = world.approve("qa1", Environment.QA, package)
    elsewhere = tmp_path / "mail" / "from-qa1.json"
    elsewhere.parent.mkdir()
    approval.rename(elsewhere)  # the .approvals folder is empty now
    page = _admission_page(qtbot, bus, qa)
    _drop(page, package)
    with qtbot.waitSignal(page.runner(ADMIT).failed, timeout=TIMEOUT):  # refused: no approval beside it
        page.admit_button.click()
    _settle(qtbot, page)
    assert page.rows[AdmissionCheck.APPROVALS].text(2) != "✔ passed" and not qa.promotion.registry()
    _drop(page, package)
    monkeypatch.setattr(admission_mod.QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(elsewhere)], ""))
    page.statements_button.click()
    assert page.statements_button.text() == "Approvals from elsewhere (1)…"
    with qtbot.waitSignal(page.runner(ADMIT).finished, timeout=TIMEOUT):
        page.admit_button.click()
    assert "Admitted cancer@1" in page.result.text()
    assert [v.approvers for v in qa.promotion.registry()] == [("qa1",)]
    _settle(qtbot, page)
    page.set_engine(None)


def test_a_tampered_package_shows_the_failing_row_and_stores_nothing(qtbot, world: World, qa: Engine, tmp_path: Path,
                                                                     bus: EventBus, messages) -> None:
    package = _copy(world, tmp_path)
    world.approve("qa1", Environment.QA, package)
    data = bytearray(package.read_bytes())
    at = data.find(b"content/model/pipeline.joblib")
    data[at + 512 + 200] ^= 0x01  # one bit inside the model's bytes
    package.write_bytes(bytes(data))
    head = qa.workspace.info().audit_head
    page = _admission_page(qtbot, bus, qa)
    with qtbot.waitSignal(page.runner(ADMIT).failed, timeout=TIMEOUT):
        page.admit(package)
    assert page.rows[AdmissionCheck.UNPACK].text(2) == "✔ passed"
    row = page.rows[AdmissionCheck.AUTHOR_SIGNATURE]
    assert row.text(2) == "✘ failed" and "pipeline.joblib" in row.text(3)
    later = list(AdmissionCheck)[2:]
    assert all(page.rows[c].text(2) == "not reached" for c in later)
    text = page.result.text()
    assert "failed step 2" in text and "changed after it was signed" in text and "Nothing was stored" in text
    assert not messages.shown  # a refusal is explained on the page, not as an error box
    assert qa.promotion.registry() == [] and qa.workspace.info().audit_head == head
    _shot(page, "admission-refused")
    # No approval at all: refused at the approvals step, with what to do.
    bare = tmp_path / "bare" / world.package.name
    bare.parent.mkdir()
    shutil.copyfile(world.package, bare)
    with qtbot.waitSignal(page.runner(ADMIT).failed, timeout=TIMEOUT):
        page.admit(bare)
    assert page.rows[AdmissionCheck.AUTHOR_SIGNATURE].text(2) == "✔ passed"
    assert page.rows[AdmissionCheck.APPROVALS].text(2) == "✘ failed"
    assert "0 of 1" in page.rows[AdmissionCheck.APPROVALS].text(3) and "Ask reviewers" in page.result.text()
    assert qa.promotion.registry() == []
    _settle(qtbot, page)
    page.set_engine(None)


def test_registry_promote_and_roll_back_with_reasons(qtbot, world: World, qa: Engine, tmp_path: Path, bus: EventBus,
                                                     monkeypatch: pytest.MonkeyPatch, messages) -> None:
    first = _copy(world, tmp_path)
    second = world.build(tmp_path / "cancer-2.airpkg", "cancer@2")
    world.approve("qa1", Environment.QA, first)
    world.approve("qa2", Environment.QA, second)
    qa.promotion.admit(first)
    qa.promotion.admit(second)
    page = _page(qtbot, RegistryPage, bus, qa)
    with qtbot.waitSignal(page.runner("list").finished, timeout=TIMEOUT):
        page.set_engine(qa)
    assert page.model_box.currentText() == "cancer" and "no champion yet" in page.champion_label.text()
    assert [v.label for v in page.versions_model.rows()] == ["cancer@1", "cancer@2"]
    assert not page.rollback_button.isEnabled()
    reasons = iter(["first release", "better recall", "drill: recall dropped", "again"])
    monkeypatch.setattr(registry_mod, "ask_reason", lambda *a: next(reasons))
    for label in ("cancer@1", "cancer@2"):
        assert page.select_version(label) and page.promote_button.isEnabled()
        with qtbot.waitSignal(page.runner("list").finished, timeout=TIMEOUT):
            page.promote_button.click()
    assert "Serving now: <b>cancer@2</b>" in page.champion_label.text() and page.rollback_button.isEnabled()
    with qtbot.waitSignal(page.runner("list").finished, timeout=TIMEOUT):
        page.rollback_button.click()
    assert "Serving now: <b>cancer@1</b>" in page.champion_label.text()
    assert "rolled back" not in page.note.text() and "cancer@1 is the champion now (was @2); took" in page.note.text()
    history = page.history_model.rows()
    assert [e.action for e in history] == [RegistryAction.ADMIT, RegistryAction.ADMIT, RegistryAction.PROMOTE,
                                           RegistryAction.PROMOTE, RegistryAction.ROLLBACK]
    assert [e.reason for e in history][2:] == ["first release", "better recall", "drill: recall dropped"]
    took = page.history_model.index(4, 6).data()
    assert took.endswith(" s") and page.history_model.index(2, 6).data() == ""
    assert page.history_model.index(4, 5).data() == qa.actor
    champions = [v.label for v in page.versions_model.rows() if v.champion]
    assert champions == ["cancer@1"] and page.versions_model.index(0, 1).data() == "★ champion"
    _shot(page, "registry")
    # Nothing before @1 to roll back to: the refusal is a message, and the champion stays.
    with qtbot.waitSignal(page.runner(CHANGE).failed, timeout=TIMEOUT):
        page.rollback("cancer", "again")
    assert "no previous champion" in messages.texts() and "Traceback" not in messages.texts()
    assert qa.promotion.champion("cancer").label == "cancer@1"  # type: ignore[union-attr]
    _settle(qtbot, page)
    page.set_engine(None)


def test_a_qa_site_signs_its_attestation_from_the_registry_page(qtbot, world: World, qa: Engine, tmp_path: Path,
                                                               bus: EventBus, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.promotion import approvals
    from tests.core.promotion.world import key_passphrase

    package = _copy(world, tmp_path)
    world.approve("qa1", Environment.QA, package)
    qa.promotion.admit(package)
    _as(monkeypatch, world, "qasite")
    page = _page(qtbot, RegistryPage, bus, qa)
    with qtbot.waitSignal(page.runner("list").finished, timeout=TIMEOUT):
        page.set_engine(qa)
    assert page.attest_button.isVisible() and not page.attest_button.isEnabled()  # a QA site; nothing selected
    assert page.select_version("cancer@1") and page.attest_button.isEnabled()
    dest = tmp_path / "qa-site.json"
    monkeypatch.setattr(registry_mod.QInputDialog, "getItem", lambda *a, **k: (a[3][0], True))
    monkeypatch.setattr(registry_mod.QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    monkeypatch.setattr(registry_mod, "passphrase_for", lambda *a: (True, key_passphrase("qasite")))
    with qtbot.waitSignal(page.runner("attest").finished, timeout=TIMEOUT):
        page.attest_button.click()
    assert "Wrote the QA attestation" in page.note.text()
    signed = approvals.read_attestation(dest.read_bytes(), str(dest))
    assert signed.signer_keyid == world.keys["qasite"] and signed.attestation.package_digest == world.digest
    approvals.verify_attestation(signed, world.pem("qasite"))
    _settle(qtbot, page)
    page.set_engine(None)


def test_trust_policy_page_shows_the_policy_installs_a_new_version_and_refuses_an_old_one(
        qtbot, world: World, qa: Engine, tmp_path: Path, bus: EventBus, messages) -> None:
    page = _page(qtbot, TrustPolicyPage, bus, qa)
    with qtbot.waitSignal(page.runner("list").finished, timeout=TIMEOUT):
        page.set_engine(qa)
    head = page.headline.text()
    assert "Version 1</b>" in head and "Clinic-QA" in head and "expires" in head
    assert "admin1, admin2" in page.admins.text()
    assert "any 2 of them" in page.admins.text()
    people = {r.key.person: r for r in page.keys_model.rows()}
    assert set(people) >= {"admin1", "admin2", "author", "qa1", "qa2", "prod1", "qasite"}
    assert page.keys_model.index(0, 2).data().startswith("administrator")
    assert "distinct people holding “qa-reviewer”" in page.rules.text()
    assert page.install_button.isEnabled()
    v2 = world.sign_policy(world.policy(Environment.QA, version=2, revoked=[world.keys["qa1"]]), tmp_path / "v2.json")
    with qtbot.waitSignal(page.runner("list").finished, timeout=TIMEOUT):
        page.install(v2)
    assert "Version 2</b>" in page.headline.text() and "version 2" in page.note.text()
    states = {r.key.person: page.keys_model.index(i, 5).data() for i, r in enumerate(page.keys_model.rows())}
    assert states["qa1"] == "REVOKED" and states["qa2"] == "valid"
    assert [p.version for p in page.history_model.rows()] == [2, 1]
    _shot(page, "trust-policy")
    # Offering version 1 again is a rollback of the policy: refused, as a message; version 2 stays.
    with qtbot.waitSignal(page.runner(INSTALL).failed, timeout=TIMEOUT):
        page.install(tmp_path / "qa.policy.json")
    assert messages.shown and "Traceback" not in messages.texts()
    assert qa.promotion.policy().policy.version == 2  # type: ignore[union-attr]
    _settle(qtbot, page)
    page.set_engine(None)


def test_admission_page_in_a_development_workspace_says_where_packages_go(qtbot, world: World, bus: EventBus) -> None:
    page = _page(qtbot, AdmissionPage, bus, world.dev)
    with qtbot.waitSignal(page.runner("state").finished, timeout=TIMEOUT):
        page.set_engine(world.dev)
    assert "QA or production workspaces; this one is dev" in page.policy_label.text()
    assert admission_mod.CHECK_TITLES.keys() == set(AdmissionCheck) == admission_mod.CHECK_ADVICE.keys()
    page.set_engine(None)
