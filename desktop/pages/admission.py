"""The Admission page (QA and production): verify a package against this site's trust policy and admit it.

Drop a ``.airpkg`` onto the page (or choose it); *Admit* runs ``engine.promotion.admit`` in the
background with progress and Cancel. The checklist has one row per :class:`AdmissionCheck`, in
the order they run; each row fills in as the service reports the step (``on_step`` is called on
the worker thread and relayed to the GUI thread through a queued signal, tagged with the run it
belongs to so a stale run's steps are dropped). A refusal marks the failing row, explains it in
words with the step's detail and what to do, and says that nothing was stored.

The page never verifies, unpacks or loads anything itself.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from core.api import (
    AdmissionCheck,
    AdmissionRefused,
    AdmissionReport,
    AdmissionStep,
    Change,
    InstalledPolicy,
    Outcome,
    StepStatus,
    TaskContext,
)
from desktop.bus import EventBus
from desktop.pages.base import BAD_STYLE, MUTED_STYLE, NOTE_STYLE, OK_STYLE, Page

ADMIT, STATE = "admit", "state"
PACKAGE_FILTER = "Airlock packages (*.airpkg);;All files (*)"
INTRO = ("Drop a signed package (.airpkg) here, or choose it, to check it against this site's trust policy; "
         "only a package that passes every step is admitted. Approvals are read from FILE.airpkg.approvals/.")

#: What each check means, in the words of someone who has not read the design.
CHECK_TITLES: dict[AdmissionCheck, str] = {
    AdmissionCheck.UNPACK: "Safe unpacking: no paths outside, no links, within size limits",
    AdmissionCheck.AUTHOR_SIGNATURE: "The author's signature, and every file unchanged since signing",
    AdmissionCheck.MANIFEST: "Manifest readable, artefact formats allowed, newer than what is here",
    AdmissionCheck.LINEAGE: "The development workspace's audit log only grew",
    AdmissionCheck.APPROVALS: "Enough independent approvals, as the trust policy demands",
    AdmissionCheck.QA_ATTESTATION: "The QA site's signed admission (when production requires it)",
    AdmissionCheck.RUBRIC: "Rubric score and required tests",
    AdmissionCheck.CANARY: "Canary: the model loads here and predicts as in development",
}
#: What to do when a check fails.
CHECK_ADVICE: dict[AdmissionCheck, str] = {
    AdmissionCheck.UNPACK: "The file is not a well-formed package: ask for it again and do not open it otherwise.",
    AdmissionCheck.AUTHOR_SIGNATURE: "The package was changed after it was signed, or its author's key is not trusted "
                                     "here: ask for the original file, or for the author's key to be in the policy.",
    AdmissionCheck.MANIFEST: "Ask for a package of a newer version, built with artefact formats the policy allows.",
    AdmissionCheck.LINEAGE: "The development audit log was cut or rewritten since the last package from there: "
                            "report it to the administrators before admitting anything from that workspace.",
    AdmissionCheck.APPROVALS: "Ask reviewers the trust policy lists to approve this package for this site and "
                              "environment, and put their files in FILE.airpkg.approvals/.",
    AdmissionCheck.QA_ATTESTATION: "Admit the package at the QA site first and bring its signed attestation along.",
    AdmissionCheck.RUBRIC: "Run the missing rubric tests in development and build the package again.",
    AdmissionCheck.CANARY: "The model does not behave here as it did in development: check the environment.",
}
STATUS_TEXT = {StepStatus.PASSED: "✔ passed", StepStatus.FAILED: "✘ failed", StepStatus.NOT_REACHED: "not reached",
               StepStatus.NOT_REQUIRED: "– not required"}
STATUS_COLOUR = {StepStatus.PASSED: "#1b5e20", StepStatus.FAILED: "#b00020", StepStatus.NOT_REACHED: "#777777",
                 StepStatus.NOT_REQUIRED: "#555555"}
RUNNING_TEXT = "… checking"


class StepRelay(QObject):
    """Carries admission steps from the worker thread to the page (a queued connection)."""

    step_reported = Signal(int, object)
    """Payload: the run's number and the :class:`AdmissionStep` that just ended."""


class AdmissionPage(Page):
    name = "admission"
    title = "Admit a package"
    watches = frozenset({Change.POLICY, Change.REGISTRY})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self._runs = itertools.count(1)
        self._run = 0
        self.report: AdmissionReport | None = None
        self.setAcceptDrops(True)
        self.add_label(INTRO, MUTED_STYLE)
        self.policy_label = QLabel()
        self.policy_label.setWordWrap(True)
        self.layout_.addWidget(self.policy_label)
        row = QHBoxLayout()
        self.package_edit = QLineEdit()
        self.package_edit.setPlaceholderText("drop a .airpkg here, or choose one")
        self.package_edit.textChanged.connect(self._refresh_actions)
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._on_choose_clicked)
        self.admit_button = QPushButton("Admit")
        self.admit_button.setToolTip("Run every check in order; the package is stored only if all pass")
        self.admit_button.clicked.connect(self._on_admit_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        #: Approval or attestation files kept elsewhere than FILE.airpkg.approvals/ (chosen by the user).
        self.extra_statements: list[Path] = []
        self.statements_button = QPushButton("Approvals from elsewhere…")
        self.statements_button.setToolTip("Add approval or attestation files that are not in the package's "
                                          ".approvals folder (they are checked like the others)")
        self.statements_button.clicked.connect(self._on_statements_clicked)
        row.addWidget(QLabel("Package"))
        row.addWidget(self.package_edit, 1)
        row.addWidget(choose)
        row.addWidget(self.statements_button)
        row.addWidget(self.admit_button)
        row.addWidget(self.cancel_button)
        self.layout_.addLayout(row)
        self.checklist = QTreeWidget()
        self.checklist.setRootIsDecorated(False)
        self.checklist.setHeaderLabels(["Step", "Check", "Result", "Detail"])
        self.checklist.setWordWrap(True)
        header = self.checklist.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.rows: dict[AdmissionCheck, QTreeWidgetItem] = {}
        for i, check in enumerate(AdmissionCheck, start=1):
            item = QTreeWidgetItem([str(i), CHECK_TITLES[check], "", ""])
            item.setToolTip(1, f"check “{check}”")
            self.checklist.addTopLevelItem(item)
            self.rows[check] = item
        self.layout_.addWidget(self.checklist, 1)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.result)
        self.relay = StepRelay(self)
        self.relay.step_reported.connect(self._on_step_reported)
        admit = self.runner(ADMIT)
        admit.progressed.connect(self._on_admit_progressed)
        admit.finished.connect(self._on_admitted)
        admit.cancelled.connect(self._on_admit_cancelled)
        admit.busy_changed.connect(self._on_busy_changed)
        self.runner(STATE).finished.connect(self._on_state)
        self.clear_checklist()
        self._refresh_actions()

    # --- state -----------------------------------------------------------------------------

    def reload(self) -> None:
        if self.engine is None:
            return
        engine = self.engine

        def state(ctx: TaskContext) -> tuple[str, InstalledPolicy | None]:
            return engine.workspace.info().role, engine.promotion.policy()

        self.query(state, "Reading the trust policy", "The trust policy could not be read.", concern=STATE)

    @Slot(object)
    def _on_state(self, result: object) -> None:
        if not isinstance(result, tuple):
            return
        role, installed = result
        if role not in ("qa", "prod"):
            self.policy_label.setStyleSheet(NOTE_STYLE)
            self.policy_label.setText(f"Packages are admitted into QA or production workspaces; this one is {role}.")
        elif installed is None:
            self.policy_label.setStyleSheet(BAD_STYLE)
            self.policy_label.setText("No trust policy is installed here, so nothing can be admitted: an "
                                      "administrator installs one on the Trust policy page.")
        else:
            p = installed.policy
            self.policy_label.setStyleSheet("")
            self.policy_label.setText(f"Checked against trust policy version {p.version} of site {p.site} "
                                      f"({p.environment}), valid until {p.expires_at[:10]}.")

    def clear_checklist(self) -> None:
        for item in self.rows.values():
            for col, text in ((2, "waiting"), (3, "")):
                item.setText(col, text)
                item.setForeground(col, QColor("#777777"))
            item.setToolTip(3, "")

    def show_step(self, step: AdmissionStep) -> None:
        """Fill in ``step``'s row, and mark the next one as running."""
        item = self.rows[step.check]
        item.setText(2, STATUS_TEXT[step.status])
        item.setText(3, step.detail)
        item.setToolTip(3, step.detail)
        colour = QColor(STATUS_COLOUR[step.status])
        for col in (2, 3):
            item.setForeground(col, colour)
        checks = list(AdmissionCheck)
        at = checks.index(step.check)
        if step.status in (StepStatus.PASSED, StepStatus.NOT_REQUIRED) and at + 1 < len(checks):
            nxt = self.rows[checks[at + 1]]
            if nxt.text(2) == "waiting":
                nxt.setText(2, RUNNING_TEXT)
                nxt.setForeground(2, QColor("#000000"))

    def show_report(self, report: AdmissionReport) -> None:
        """Show every step of ``report`` and what it means."""
        self.report = report
        for step in report.steps:
            self.show_step(step)
        failure = report.failure
        if report.admitted:
            self.result.setStyleSheet(OK_STYLE)
            self.result.setText(f"Admitted {report.label}: every check passed. It is in the registry now; make it the "
                                "champion on the Registry page.")
        elif failure is not None:
            n = list(AdmissionCheck).index(failure.check) + 1
            detail = (failure.detail[:1].upper() + failure.detail[1:]).rstrip(".")
            self.result.setStyleSheet(BAD_STYLE)
            self.result.setText(f"Not admitted: {Path(report.package).name} failed step {n}, "
                                f"“{CHECK_TITLES[failure.check]}”.\n{detail}.\n{CHECK_ADVICE[failure.check]}\n"
                                "Nothing was stored in this workspace.")

    # --- admitting -------------------------------------------------------------------------

    def admit(self, path: str | Path) -> None:
        """Admit ``path`` in the background; the checklist fills in as each step ends."""
        if self.engine is None:
            return
        promotion, target = self.engine.promotion, Path(path)
        run = self._run = next(self._runs)
        relay = self.relay
        self.package_edit.setText(str(target))
        self.report = None
        self.clear_checklist()
        self.rows[AdmissionCheck.UNPACK].setText(2, RUNNING_TEXT)
        self.result.setStyleSheet("")
        self.result.setText(f"Checking {target.name}…")

        def on_step(step: AdmissionStep) -> None:  # the worker thread: only emit, never touch a widget
            relay.step_reported.emit(run, step)

        extra = list(self.extra_statements)
        self.mutate(lambda ctx: promotion.admit(target, extra, ctx=ctx, on_step=on_step), f"Admitting {target.name}",
                    f"{target.name} could not be admitted.", concern=ADMIT)

    @Slot(int, object)
    def _on_step_reported(self, run: int, step: object) -> None:
        if run == self._run and isinstance(step, AdmissionStep):
            self.show_step(step)

    @Slot(float, str)
    def _on_admit_progressed(self, fraction: float, message: str) -> None:
        if self.report is None:
            self.result.setText(f"Checking… {fraction:.0%} {message}")

    @Slot(object)
    def _on_admitted(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, AdmissionReport):
            self.show_report(result.value)

    @Slot()
    def _on_admit_cancelled(self) -> None:
        self._run = 0  # late steps of the stopped run are dropped
        self.result.setStyleSheet(NOTE_STYLE)
        self.result.setText("Cancelled: nothing was admitted or stored.")

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        if concern == ADMIT and isinstance(error, AdmissionRefused):
            self.show_report(error.report)  # a refusal is an answer, shown on the page, not an error box
            return
        if concern == ADMIT:
            self.result.setStyleSheet(BAD_STYLE)
            self.result.setText("Not admitted; nothing was stored.")
        super().on_task_failed(concern, error)

    @Slot(bool)
    def _on_busy_changed(self, _busy: bool) -> None:
        self._refresh_actions()

    def _refresh_actions(self) -> None:
        busy = self.runner(ADMIT).busy
        self.admit_button.setEnabled(self.writable and not busy and bool(self.package_edit.text().strip()))
        self.cancel_button.setEnabled(busy)

    @Slot()
    def _on_admit_clicked(self) -> None:
        if self.package_edit.text().strip():
            self.admit(self.package_edit.text().strip())

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.runner(ADMIT).cancel()

    @Slot()
    def _on_choose_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Admit a package", "", PACKAGE_FILTER)
        if path:
            self.package_edit.setText(path)
            self.set_extra_statements([])

    @Slot()
    def _on_statements_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Approval and attestation files", "", "Signed statements (*.json)")
        self.set_extra_statements([Path(p) for p in paths])

    def set_extra_statements(self, paths: list[Path]) -> None:
        """Use ``paths`` beside the package's .approvals folder at the next admission."""
        self.extra_statements = list(paths)
        self.statements_button.setText(f"Approvals from elsewhere ({len(paths)})…" if paths
                                       else "Approvals from elsewhere…")

    # --- drag and drop ---------------------------------------------------------------------

    @staticmethod
    def _dropped(urls: list[object]) -> str | None:
        for url in urls:
            local = getattr(url, "toLocalFile", lambda: "")()
            if isinstance(local, str) and local.endswith(".airpkg"):
                return local
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self._dropped(list(event.mimeData().urls())):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped(list(event.mimeData().urls())) if event.mimeData().hasUrls() else None
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.package_edit.setText(path)
        self.set_extra_statements([])
        self.clear_checklist()
        self.result.setStyleSheet("")
        self.result.setText(f"{Path(path).name} is ready: press Admit to check it.")


__all__ = ["CHECK_ADVICE", "CHECK_TITLES", "AdmissionPage", "StepRelay"]
