"""The Promotion page: build a signed package (development); review any package and sign an approval.

*Build* (development workspaces): pick a model version and one of my signing keys, choose
where the ``.airpkg`` goes, and build it in the background (``engine.promotion.build``, with
progress and Cancel); a key kept in a file asks for its passphrase in a dialog.
*Review and approve* (any workspace): open any ``.airpkg`` and see what it holds — summary,
lineage, rubric, every file with its digest, the model card rendered as Markdown — then sign
an approval or a rejection for QA or production with my key and a comment
(``engine.promotion.approve``; the statement is written beside the package).

The page only shows values and calls the service through :meth:`Page.query` / :meth:`Page.mutate`;
it never signs, verifies or reads a package itself.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.api import Change, Environment, InstalledPolicy, Outcome, PackageSummary, TaskContext
from desktop.bus import EventBus
from desktop.pages.base import BAD_STYLE, MUTED_STYLE, NOTE_STYLE, OK_STYLE, Page
from desktop.pages.workspace import short_time
from desktop.widgets.dataset_profile import table_view
from desktop.widgets.signing_key import KeyChooser, passphrase_for
from desktop.widgets.table_model import Column, TableModel

LIST, BUILD, REVIEW, APPROVE = "list", "build", "review", "approve"
PACKAGE_FILTER = "Airlock packages (*.airpkg);;All files (*)"
INTRO = ("Build a signed package of a model version to send to QA or production (development workspaces), "
         "or open any package, read what it holds and sign your approval or rejection.")

FILE_COLUMNS = (
    Column("File", lambda f: f.path),
    Column("Bytes", lambda f: f.size, fmt=lambda n: f"{n:,}", align_right=True),
    Column("SHA-256", lambda f: f.sha256[:16] + "…", tooltip=lambda f: f.sha256),
)


def summary_html(s: PackageSummary) -> str:
    """What a reviewer reads first: the model, the author and whether their signature checked out."""
    m = s.manifest
    e = html.escape
    signed = (f"<span style='{OK_STYLE}'>verified</span> against the author's public key"
              if s.author_verified else
              f"<span style='{BAD_STYLE}'>not checked</span>: the author's public key is not known on this machine "
              "(import it with airlock keys import); you cannot approve until it is")
    rubric = (f"score <b>{m.rubric.score:g}</b> ({e(m.rubric.band)}); passed {len(m.rubric.passed)}, failed "
              f"{e(', '.join(m.rubric.failed)) or 'none'}, not done {len(m.rubric.not_done)}"
              if m.rubric else "<span style='color:#8a5a00'>never run for this version</span>")
    rows = [
        ("Model", f"<b>{e(m.label)}</b> — {e(m.task)}, {e(m.algorithm)}; holdout {e(m.metric)} {m.holdout:.4g}"),
        ("Author", f"{e(m.author)} (key {e(m.author_keyid[:16])}…) — signature {signed}"),
        ("Package digest", f"<code>{e(s.package_digest)}</code> — approvals bind to exactly this"),
        ("Trained", e(short_time(m.created_at))),
        ("Lineage", f"dataset {e(m.lineage.dataset)} (sha256 {e(m.lineage.dataset_sha256[:16])}…), spec "
                    f"{e(m.lineage.spec_hash[:16])}…, training run {e(m.lineage.training_run_id[:8])}"),
        ("From workspace", f"{e(m.source_workspace_name)} ({e(m.source_workspace_id[:8])}), audit entry {m.audit_seq}"),
        ("Rubric", rubric),
        ("Artefacts", e(", ".join(f"{a.path} ({a.format})" for a in m.artefacts))),
        ("Canary", f"{m.canary.rows} synthetic rows, tolerance {m.canary.tolerance:g}" if m.canary else "none"),
        ("Environment", e(", ".join(f"{k} {v}" for k, v in m.environment[:6]))
         + (f" and {len(m.environment) - 6} more" if len(m.environment) > 6 else "")),
    ]
    body = "".join(f"<tr><td style='padding-right:12px'><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


class PromotionPage(Page):
    name = "promotion"
    title = "Promotion packages"
    watches = frozenset({Change.MODELS, Change.TRAINING, Change.POLICY})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.summary: PackageSummary | None = None
        self.role = ""
        self.installed: InstalledPolicy | None = None
        self.add_label(INTRO, MUTED_STYLE)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_tab(), "Build a package")
        self.tabs.addTab(self._review_tab(), "Review and approve")
        self.layout_.addWidget(self.tabs, 1)
        self.runner(LIST).finished.connect(self._on_listed)
        build = self.runner(BUILD)
        build.progressed.connect(self._on_build_progressed)
        build.finished.connect(self._on_built)
        build.cancelled.connect(self._on_build_cancelled)
        build.busy_changed.connect(self._on_busy_changed)
        self.runner(REVIEW).finished.connect(self._on_reviewed)
        self.runner(APPROVE).finished.connect(self._on_approved)
        self._refresh_actions()

    # --- layout ----------------------------------------------------------------------------

    def _build_tab(self) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        form = QFormLayout()
        self.version_box = QComboBox()
        self.version_box.setMinimumWidth(240)
        form.addRow("Model version", self.version_box)
        self.build_key = KeyChooser()
        form.addRow("Sign with my key", self.build_key)
        out_row = QHBoxLayout()
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("/path/to/model-1.airpkg")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_out_browse_clicked)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(browse)
        form.addRow("Write the package to", out_row)
        box.addLayout(form)
        what = QLabel("The package is one signed file: the model, its schema, model card, evidence (no raw rows), "
                      "rubric result, report and a synthetic canary batch. Anyone can check it with the public "
                      "model_signing verify tool and your public key.")
        what.setWordWrap(True)
        what.setStyleSheet(MUTED_STYLE)
        box.addWidget(what)
        buttons = QHBoxLayout()
        self.build_button = QPushButton("Build package")
        self.build_button.setToolTip("Gather the model, its evidence, model card, rubric and a canary batch into "
                                     "one file and sign it with your key (recorded in the audit log)")
        self.build_button.clicked.connect(self._on_build_clicked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.build_note = QLabel()
        self.build_note.setWordWrap(True)
        box.addWidget(self.build_note)
        box.addStretch(1)
        return tab

    def _review_tab(self) -> QWidget:
        tab = QWidget()
        box = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.package_edit = QLineEdit()
        self.package_edit.setPlaceholderText("a package (.airpkg) to review")
        self.package_edit.returnPressed.connect(self._on_review_clicked)
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._on_choose_clicked)
        self.review_button = QPushButton("Review")
        self.review_button.clicked.connect(self._on_review_clicked)
        row.addWidget(QLabel("Package"))
        row.addWidget(self.package_edit, 1)
        row.addWidget(choose)
        row.addWidget(self.review_button)
        box.addLayout(row)
        self.details = QTabWidget()
        self.summary_view = QTextBrowser()
        self.details.addTab(self.summary_view, "Summary and lineage")
        self.files_model = TableModel(FILE_COLUMNS, self)
        self.files_view, _ = table_view(self.files_model, self)
        self.details.addTab(self.files_view, "Files")
        self.card_view = QTextBrowser()
        self.card_view.setReadOnly(True)
        self.card_view.setOpenLinks(False)  # a model card is text to read, not a browser
        self.details.addTab(self.card_view, "Model card")
        box.addWidget(self.details, 1)
        box.addWidget(self._approve_group())
        self.review_note = QLabel()
        self.review_note.setWordWrap(True)
        box.addWidget(self.review_note)
        return tab

    def _approve_group(self) -> QWidget:
        group = QWidget()
        form = QFormLayout(group)
        form.setContentsMargins(0, 6, 0, 0)
        form.addRow(QLabel("<b>Your decision</b> — signed with your key; it binds this package's digest, the "
                           "environment and site, and your comment"))
        env_row = QHBoxLayout()
        self.env_box = QComboBox()
        self.env_box.addItem("QA", Environment.QA)
        self.env_box.addItem("Production", Environment.PROD)
        self.env_box.currentIndexChanged.connect(self._on_env_changed)
        self.approve_radio = QRadioButton("Approve")
        self.reject_radio = QRadioButton("Reject")
        self.approve_radio.setChecked(True)
        self.decision = QButtonGroup(self)
        self.decision.addButton(self.approve_radio)
        self.decision.addButton(self.reject_radio)
        env_row.addWidget(self.env_box)
        env_row.addWidget(self.approve_radio)
        env_row.addWidget(self.reject_radio)
        env_row.addSpacing(16)
        env_row.addWidget(QLabel("Site"))
        self.site_edit = QLineEdit()
        self.site_edit.setPlaceholderText("target site, e.g. Clinic-QA")
        self.site_edit.setToolTip("The site named in the target workspace's trust policy; an approval for one site "
                                  "does not count at another")
        env_row.addWidget(self.site_edit, 1)
        env_row.addWidget(QLabel("Its trust-policy version"))
        self.policy_spin = QSpinBox()
        self.policy_spin.setRange(1, 1_000_000)
        env_row.addWidget(self.policy_spin)
        form.addRow("For", env_row)
        self.comment_edit = QPlainTextEdit()
        self.comment_edit.setPlaceholderText("Why: what you checked (this comment is part of what you sign)")
        self.comment_edit.setMaximumHeight(60)
        self.comment_edit.textChanged.connect(self._refresh_actions)
        form.addRow("Comment", self.comment_edit)
        sign_row = QHBoxLayout()
        self.approve_key = KeyChooser()
        self.sign_button = QPushButton("Sign my decision")
        self.sign_button.setToolTip("Sign a statement binding this package's digest, the environment and site, your "
                                    "decision and comment; it is written beside the package")
        self.sign_button.clicked.connect(self._on_sign_clicked)
        sign_row.addWidget(self.approve_key, 1)
        sign_row.addWidget(self.sign_button)
        form.addRow("With my key", sign_row)
        return group

    # --- loading ---------------------------------------------------------------------------

    def reload(self) -> None:
        if self.engine is None:
            return
        engine = self.engine

        def listing(ctx: TaskContext) -> tuple[str, list[str], InstalledPolicy | None]:
            role = engine.workspace.info().role
            labels = [v.label for latest in engine.training.models()
                      for v in reversed(engine.training.versions(latest.model))]
            return role, labels, engine.promotion.policy()

        self.build_key.refresh()
        self.approve_key.refresh()
        self.query(listing, "Listing model versions", "The promotion page could not list the models.", concern=LIST)

    @Slot(object)
    def _on_listed(self, result: object) -> None:
        if not isinstance(result, tuple):
            return
        role, labels, installed = result
        self.role, self.installed = role, installed
        keep = self.version_box.currentText()
        self.version_box.clear()
        self.version_box.addItems(labels)
        i = self.version_box.findText(keep)
        self.version_box.setCurrentIndex(i if i >= 0 else 0 if labels else -1)
        if role != "dev":
            self.build_note.setText(f"Packages are built in a development workspace; this one is {role}. "
                                    "Review and approve packages in the other tab.")
            self.build_note.setStyleSheet(NOTE_STYLE)
            self.tabs.setCurrentIndex(1)
        elif not labels:
            self.build_note.setText("No model versions yet: train one on the Training page first.")
            self.build_note.setStyleSheet(NOTE_STYLE)
        self._on_env_changed(self.env_box.currentIndex())
        self._refresh_actions()

    def _refresh_actions(self) -> None:
        dev = self.engine is not None and self.role == "dev" and self.writable
        busy = self.runner(BUILD).busy
        self.build_button.setEnabled(dev and not busy and bool(self.version_box.currentText())
                                     and self.build_key.keyid() is not None)
        self.cancel_button.setEnabled(busy)
        self.review_button.setEnabled(self.engine is not None)
        self.sign_button.setEnabled(self.writable and self.summary is not None and self.summary.author_verified
                                    and self.approve_key.keyid() is not None
                                    and bool(self.comment_edit.toPlainText().strip()))

    # --- building --------------------------------------------------------------------------

    def build(self, model_ref: str, dest: str | Path, keyid: str, passphrase: str | None) -> None:
        """Build and sign the package of ``model_ref`` into ``dest`` in the background."""
        if self.engine is None:
            return
        promotion, target = self.engine.promotion, Path(dest)
        self.build_note.setStyleSheet("")
        self.build_note.setText(f"Building {target.name} from {model_ref}…")
        self.mutate(lambda ctx: promotion.build(model_ref, target, signer=keyid, passphrase=passphrase, ctx=ctx),
                    f"Building the package of {model_ref}", f"The package of {model_ref} could not be built.",
                    concern=BUILD)

    @Slot()
    def _on_build_clicked(self) -> None:
        label, keyid, dest = self.version_box.currentText(), self.build_key.keyid(), self.out_edit.text().strip()
        if not label or keyid is None:
            return
        if not dest:
            self._on_out_browse_clicked()
            dest = self.out_edit.text().strip()
            if not dest:
                return
        go, passphrase = passphrase_for(self, keyid, f"Building the package of {label}")
        if go:
            self.build(label, dest, keyid, passphrase)

    @Slot()
    def _on_out_browse_clicked(self) -> None:
        default = (self.version_box.currentText() or "model").replace("@", "-") + ".airpkg"
        path, _ = QFileDialog.getSaveFileName(self, "Write the package to", default, PACKAGE_FILTER)
        if path:
            self.out_edit.setText(path)

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.runner(BUILD).cancel()

    @Slot(float, str)
    def _on_build_progressed(self, fraction: float, message: str) -> None:
        self.build_note.setText(f"Building… {fraction:.0%} {message}")

    @Slot(bool)
    def _on_busy_changed(self, _busy: bool) -> None:
        self._refresh_actions()

    @Slot(object)
    def _on_built(self, result: object) -> None:
        if not isinstance(result, Outcome) or not isinstance(result.value, PackageSummary):
            return
        s = result.value
        self.build_note.setStyleSheet(OK_STYLE)
        self.build_note.setText(f"Wrote {s.path} ({len(s.files)} files), signed by your key. Reviewers approve "
                                f"package digest {s.package_digest[:16]}…; send them the file.")
        self.package_edit.setText(s.path)
        self.show_summary(s)

    @Slot()
    def _on_build_cancelled(self) -> None:
        self.build_note.setStyleSheet(NOTE_STYLE)
        self.build_note.setText("Cancelled: no package was written.")

    # --- reviewing and approving ------------------------------------------------------------

    def review(self, path: str | Path) -> None:
        """Read ``path`` in the background and show what it holds."""
        if self.engine is None:
            return
        promotion, target = self.engine.promotion, Path(path)
        self.package_edit.setText(str(target))
        self.review_note.setStyleSheet("")
        self.review_note.setText(f"Reading {target.name}…")
        self.query(lambda ctx: promotion.review(target), f"Reviewing {target.name}",
                   f"{target.name} could not be reviewed.", concern=REVIEW)

    def show_summary(self, s: PackageSummary) -> None:
        self.summary = s
        self.summary_view.setHtml(summary_html(s))
        self.files_model.set_rows(s.files)
        self.card_view.setMarkdown(s.model_card_markdown or "*This package has no model card.*")
        if s.author_verified:
            self.review_note.setStyleSheet("")
            self.review_note.setText(f"{s.manifest.label}: {len(s.files)} files, the author's signature verified. "
                                     "Read the summary, files and model card, then sign your decision below.")
        else:
            self.review_note.setStyleSheet(BAD_STYLE)
            self.review_note.setText("The author's public key is not known on this machine, so the signature was not "
                                     "checked and you cannot approve: import the author's key (airlock keys import).")
        self._refresh_actions()

    @Slot(object)
    def _on_reviewed(self, result: object) -> None:
        if isinstance(result, PackageSummary):
            self.show_summary(result)

    @Slot()
    def _on_review_clicked(self) -> None:
        if self.package_edit.text().strip():
            self.review(self.package_edit.text().strip())

    @Slot()
    def _on_choose_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Review a package", "", PACKAGE_FILTER)
        if path:
            self.review(path)

    @Slot(int)
    def _on_env_changed(self, _index: int) -> None:
        env = self.env_box.currentData()
        if self.installed is not None and self.installed.policy.environment == env:
            self.site_edit.setText(self.installed.policy.site)
            self.policy_spin.setValue(self.installed.policy.version)

    def approve(self, *, environment: Environment, decision: str, comment: str, keyid: str,
                passphrase: str | None, site: str, policy_version: int) -> None:
        """Sign ``decision`` on the package on screen for ``environment`` in the background."""
        if self.engine is None or self.summary is None:
            return
        promotion, package = self.engine.promotion, Path(self.summary.path)
        self.mutate(lambda ctx: promotion.approve(package, environment=environment, decision=decision,
                                                  comment=comment, signer=keyid, passphrase=passphrase,
                                                  site=site or None, policy_version=policy_version),
                    f"Signing your decision on {package.name}", f"Your decision on {package.name} was not signed.",
                    concern=APPROVE)

    @Slot()
    def _on_sign_clicked(self) -> None:
        keyid = self.approve_key.keyid()
        if keyid is None or self.summary is None:
            return
        go, passphrase = passphrase_for(self, keyid, f"Signing your decision on {self.summary.manifest.label}")
        if go:
            self.approve(environment=self.env_box.currentData(),
                         decision="approve" if self.approve_radio.isChecked() else "reject",
                         comment=self.comment_edit.toPlainText().strip(), keyid=keyid, passphrase=passphrase,
                         site=self.site_edit.text().strip(), policy_version=self.policy_spin.value())

    @Slot(object)
    def _on_approved(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, Path):
            self.review_note.setStyleSheet(OK_STYLE)
            self.review_note.setText(f"Signed and written beside the package: {result.value}. Send it along with the "
                                     "package; it does not change the package itself.")
            self.comment_edit.clear()


__all__ = ["PromotionPage", "summary_html"]
