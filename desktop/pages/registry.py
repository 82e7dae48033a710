"""The Registry page (QA and production): admitted versions, the champion, and who changed it when and why.

Pick a model; the page shows its admitted versions (the champion marked) and the full history
of its registry — admissions, promotions, rollbacks — with who, when, why and how long a
rollback took. *Promote…* makes the selected version the champion and *Roll back…* makes the
previous champion current again in one step; both ask for a reason, which is recorded. A
refusal (say, a version whose approver was revoked since) is shown as a message.

Everything goes through ``engine.promotion`` on the page's runners; the page decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.api import AdmittedVersion, AirlockError, Change, KeyStore, Outcome, RegistryAction, RegistryEvent, TaskContext
from desktop.bus import EventBus
from desktop.pages.base import MUTED_STYLE, NOTE_STYLE, OK_STYLE, Page
from desktop.pages.workspace import short_time
from desktop.widgets.dataset_profile import table_view
from desktop.widgets.signing_key import key_text, passphrase_for
from desktop.widgets.table_model import Column, TableModel

LIST, CHANGE, ATTEST = "list", "change", "attest"
INTRO = ("The models admitted here, which version is serving (the champion), and who changed that, when and why. "
         "Promote a version or roll back to the previous champion in one step; each asks for a reason.")
CHAMPION_MARK = "★ champion"
ACTION_TEXT = {RegistryAction.ADMIT: "admitted", RegistryAction.PROMOTE: "promoted",
               RegistryAction.ROLLBACK: "rolled back"}

VERSION_COLUMNS = (
    Column("Version", lambda v: v.label),
    Column("Serving", lambda v: CHAMPION_MARK if v.champion else ""),
    Column("Author", lambda v: v.author),
    Column("Approved by", lambda v: ", ".join(v.approvers)),
    Column("Policy", lambda v: v.policy_version, align_right=True),
    Column("Admitted", lambda v: v.admitted_at, fmt=short_time, tooltip=lambda v: f"{v.admitted_at} by {v.admitted_by}"),
    Column("Canary", lambda v: v.canary_rows, fmt=lambda n: f"{n} rows", align_right=True,
           tooltip=lambda v: f"largest difference from development: {v.canary_max_difference:g}"),
    Column("Package digest", lambda v: v.package_digest[:16] + "…", tooltip=lambda v: v.package_digest),
)
HISTORY_COLUMNS = (
    Column("#", lambda e: e.seq, align_right=True),
    Column("When", lambda e: e.at, fmt=short_time, tooltip=lambda e: e.at),
    Column("What", lambda e: ACTION_TEXT.get(e.action, str(e.action))),
    Column("Version", lambda e: f"{e.model}@{e.version}"),
    Column("Champion before", lambda e: f"@{e.previous}" if e.previous is not None else "none"),
    Column("Who", lambda e: e.actor),
    Column("Took", lambda e: e.duration_seconds,
           fmt=lambda d: f"{d:.3f} s" if isinstance(d, float) else "", align_right=True),
    Column("Why", lambda e: e.reason, tooltip=lambda e: e.reason),
)


@dataclass(frozen=True, slots=True)
class Shown:
    """What the page loads: every model's versions and, for the chosen model, its history."""

    models: tuple[str, ...]
    model: str
    versions: tuple[AdmittedVersion, ...]
    history: tuple[RegistryEvent, ...]
    environment: str | None = None  # the installed policy's environment (None: no readable policy)


def ask_reason(parent: QWidget, title: str, question: str) -> str | None:
    """The reason the user typed; None when they cancelled."""
    text, ok = QInputDialog.getText(parent, title, question, QLineEdit.EchoMode.Normal, "")
    return text if ok else None


class RegistryPage(Page):
    name = "registry"
    title = "Model registry"
    watches = frozenset({Change.REGISTRY, Change.POLICY})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.shown: Shown | None = None
        self.add_label(INTRO, MUTED_STYLE)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model"))
        self.model_box = QComboBox()
        self.model_box.setMinimumWidth(220)
        self.model_box.currentIndexChanged.connect(self._on_model_changed)
        top.addWidget(self.model_box)
        self.champion_label = QLabel()
        top.addWidget(self.champion_label, 1)
        self.promote_button = QPushButton("Promote selected…")
        self.promote_button.setToolTip("Make the selected version the champion (asks why; recorded)")
        self.promote_button.clicked.connect(self._on_promote_clicked)
        self.rollback_button = QPushButton("Roll back…")
        self.rollback_button.setToolTip("Make the previous champion current again, in one step (asks why; its "
                                        "duration is recorded)")
        self.rollback_button.clicked.connect(self._on_rollback_clicked)
        self.attest_button = QPushButton("Sign QA attestation…")
        self.attest_button.setToolTip("At a QA site: sign, with this site's key, that the selected version was "
                                      "admitted and canaried here; production can require it (put the file in "
                                      "the package's .approvals folder)")
        self.attest_button.clicked.connect(self._on_attest_clicked)
        top.addWidget(self.promote_button)
        top.addWidget(self.rollback_button)
        top.addWidget(self.attest_button)
        self.layout_.addLayout(top)
        self.versions_model = TableModel(VERSION_COLUMNS, self)
        self.versions_view, self.versions_proxy = table_view(self.versions_model, self)
        self.versions_view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.history_model = TableModel(HISTORY_COLUMNS, self)
        self.history_view, _ = table_view(self.history_model, self)
        split = QSplitter(Qt.Orientation.Vertical)
        for label, view in (("Admitted versions", self.versions_view), ("History", self.history_view)):
            holder = QWidget()
            box = QVBoxLayout(holder)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(QLabel(f"<b>{label}</b>"))
            box.addWidget(view)
            split.addWidget(holder)
        self.layout_.addWidget(split, 1)
        self.note = self.add_label()
        self.runner(LIST).finished.connect(self._on_loaded)
        self.runner(CHANGE).finished.connect(self._on_changed)
        self.runner(ATTEST).finished.connect(self._on_attested)
        self._refresh_actions()

    # --- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        if self.engine is None:
            return
        promotion, wanted = self.engine.promotion, self.model_box.currentText()

        def load(ctx: TaskContext) -> Shown:
            models = tuple(sorted({v.model for v in promotion.registry()}))
            model = wanted if wanted in models else models[0] if models else ""
            try:
                installed = promotion.policy()
            except AirlockError:  # the Trust policy page says what is wrong with it
                installed = None
            environment = str(installed.policy.environment) if installed is not None else None
            if not model:
                return Shown(models, "", (), (), environment)
            return Shown(models, model, tuple(promotion.registry(model)), tuple(promotion.history(model)),
                         environment)

        self.query(load, "Loading the registry", "The registry could not be loaded.", concern=LIST)

    @Slot(object)
    def _on_loaded(self, result: object) -> None:
        if not isinstance(result, Shown):
            return
        self.shown = result
        self.model_box.blockSignals(True)
        self.model_box.clear()
        self.model_box.addItems(list(result.models))
        self.model_box.setCurrentIndex(self.model_box.findText(result.model))
        self.model_box.blockSignals(False)
        self.versions_model.set_rows(result.versions)
        self.history_model.set_rows(result.history)
        champion = next((v for v in result.versions if v.champion), None)
        if not result.models:
            self.champion_label.setText("Nothing admitted here yet: admit a package on the Admit page.")
        elif champion is None:
            self.champion_label.setText(f"{result.model} has no champion yet: select a version and promote it.")
        else:
            self.champion_label.setText(f"Serving now: <b>{champion.label}</b>")
        self._refresh_actions()

    def selected(self) -> AdmittedVersion | None:
        rows = self.versions_view.selectionModel().selectedRows()
        if not rows:
            return None
        value = self.versions_proxy.mapToSource(rows[0]).row()
        found = self.versions_model.row_object(value)
        return found if isinstance(found, AdmittedVersion) else None

    def select_version(self, label: str) -> bool:
        for row in range(self.versions_proxy.rowCount()):
            source = self.versions_proxy.mapToSource(self.versions_proxy.index(row, 0)).row()
            if self.versions_model.row_object(source).label == label:
                self.versions_view.selectRow(row)
                return True
        return False

    def _refresh_actions(self) -> None:
        chosen = self.selected()
        self.promote_button.setEnabled(self.writable and chosen is not None and not chosen.champion)
        promotions = [e for e in (self.shown.history if self.shown else ()) if e.action != RegistryAction.ADMIT]
        self.rollback_button.setEnabled(self.writable and len(promotions) >= 2)
        qa_site = self.shown is not None and self.shown.environment == "qa"
        self.attest_button.setVisible(qa_site)
        self.attest_button.setEnabled(self.writable and qa_site and chosen is not None)

    # --- changing the champion -------------------------------------------------------------

    def promote(self, label: str, reason: str) -> None:
        """Make ``label`` the champion, recording ``reason``."""
        if self.engine is None:
            return
        promotion = self.engine.promotion
        self.mutate(lambda ctx: promotion.promote(label, reason), f"Promoting {label}",
                    f"{label} was not promoted.", concern=CHANGE)

    def rollback(self, model: str, reason: str) -> None:
        """Make the previous champion of ``model`` current again, recording ``reason``."""
        if self.engine is None:
            return
        promotion = self.engine.promotion
        self.mutate(lambda ctx: promotion.rollback(model, reason), f"Rolling back {model}",
                    f"{model} was not rolled back.", concern=CHANGE)

    @Slot()
    def _on_promote_clicked(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        reason = ask_reason(self, "Promote", f"Why make {chosen.label} the champion? (recorded in the history)")
        if reason is not None:
            self.promote(chosen.label, reason)

    @Slot()
    def _on_rollback_clicked(self) -> None:
        model = self.model_box.currentText()
        if not model:
            return
        reason = ask_reason(self, "Roll back", f"Why roll {model} back to its previous champion? (recorded)")
        if reason is not None:
            self.rollback(model, reason)

    def attest(self, label: str, dest: str, keyid: str, passphrase: str | None) -> None:
        """Sign the QA site's attestation of admitted version ``label`` into ``dest``."""
        if self.engine is None:
            return
        promotion = self.engine.promotion
        self.mutate(lambda ctx: promotion.attest(label, dest, signer=keyid, passphrase=passphrase),
                    f"Signing the QA attestation of {label}", "The attestation was not written.", concern=ATTEST)

    @Slot()
    def _on_attest_clicked(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        try:
            mine = [k for k in KeyStore().list() if k.mine]
        except AirlockError as exc:
            self.report_error(exc, "Your signing keys could not be read.")
            return
        if not mine:
            self.note.setStyleSheet(NOTE_STYLE)
            self.note.setText("No signing key of yours is on this machine: make this site's key with "
                              "`airlock keys new` and have it listed with the role 'site' in production's policy.")
            return
        labels = [key_text(k) for k in mine]
        picked, ok = QInputDialog.getItem(self, "Sign QA attestation", "This site's key:", labels, 0, False)
        if not ok:
            return
        keyid = mine[labels.index(picked)].public.keyid
        dest, _ = QFileDialog.getSaveFileName(self, "Write the QA attestation", f"{chosen.label}-qa-attestation.json",
                                              "Attestation (*.json)")
        if not dest:
            return
        go_on, passphrase = passphrase_for(self, keyid, "sign the QA attestation")
        if go_on:
            self.attest(chosen.label, dest, keyid, passphrase)

    @Slot(object)
    def _on_attested(self, result: object) -> None:
        if isinstance(result, Outcome):
            self.note.setStyleSheet(OK_STYLE)
            self.note.setText(f"Wrote the QA attestation {result.value}: send it beside the package (in its "
                              ".approvals folder) to production.")

    @Slot(object)
    def _on_changed(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, RegistryEvent):
            e = result.value
            before = f" (was @{e.previous})" if e.previous is not None else ""
            took = f"; took {e.duration_seconds:.3f} s, recorded" if e.duration_seconds is not None else ""
            self.note.setStyleSheet(OK_STYLE)
            self.note.setText(f"{e.model}@{e.version} is the champion now{before}{took}.")

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        if concern == CHANGE:
            self.note.setStyleSheet(NOTE_STYLE)
            self.note.setText("The champion did not change.")
        super().on_task_failed(concern, error)

    @Slot(int)
    def _on_model_changed(self, _index: int) -> None:
        self.reload()

    @Slot()
    def _on_selection_changed(self) -> None:
        self._refresh_actions()


__all__ = ["RegistryPage", "Shown", "ask_reason"]
