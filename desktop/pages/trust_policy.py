"""The Trust policy page (QA and production): the signed policy this workspace admits packages under.

It shows the installed policy — version, site, environment, issue and expiry dates,
administrators and their threshold, every trusted key with its person, roles, validity and
whether it is revoked, the rules per environment, the allowed artefact formats — and the
history of every version installed here. Administrators *Install* a newer signed policy file
(it must carry the current administrators' threshold and its own) or, when the stored state
was lost, *Recover* one with a reason (audited). Refusals are shown as messages.

The page never reads, verifies or signs a policy itself: it calls ``engine.promotion``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QWidget,
)

from core.api import ADMIN, Change, InstalledPolicy, Outcome, PolicyKey, StoredPolicy, TaskContext, TrustPolicy, key_fingerprint
from desktop.bus import EventBus
from desktop.pages.base import BAD_STYLE, MUTED_STYLE, NOTE_STYLE, OK_STYLE, Page
from desktop.pages.registry import ask_reason
from desktop.pages.workspace import short_time
from desktop.widgets.dataset_profile import table_view
from desktop.widgets.table_model import Column, TableModel

LIST, INSTALL = "list", "install"
POLICY_FILTER = "Signed trust policies (*.json);;All files (*)"
INTRO = ("The signed rules this site admits packages under: whose keys it trusts for what, how many independent "
         "approvals each environment needs, and the history of its versions. Administrators install new versions.")


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key as the table shows it: the key, whether it administers, whether it is revoked."""

    key: PolicyKey
    admin: bool
    revoked: bool


def key_state(row: KeyRow, now: datetime | None = None) -> str:
    """Whether the key counts at ``now``: "REVOKED", "not yet valid", "expired" or "valid"."""
    if row.revoked:
        return "REVOKED"
    moment = now or datetime.now(UTC)
    try:
        start, end = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (row.key.valid_from, row.key.valid_until))
    except ValueError:
        return "unreadable dates"
    return "not yet valid" if moment < start else "expired" if moment > end else "valid"


KEY_COLUMNS = (
    Column("Person", lambda r: r.key.person),
    Column("Fingerprint", lambda r: " ".join(key_fingerprint(r.key.keyid).split()[:4]) + " …",
           tooltip=lambda r: f"key id {r.key.keyid}"),
    Column("Roles", lambda r: ", ".join(["administrator"] * r.admin + [str(x) for x in r.key.roles])),
    Column("Valid from", lambda r: r.key.valid_from, fmt=short_time),
    Column("Valid until", lambda r: r.key.valid_until, fmt=short_time),
    Column("State", key_state),
)
HISTORY_COLUMNS = (
    Column("Version", lambda p: p.version, align_right=True),
    Column("Site", lambda p: p.site),
    Column("Environment", lambda p: str(p.environment)),
    Column("Expires", lambda p: p.expires_at, fmt=short_time),
    Column("Installed", lambda p: p.installed_at, fmt=short_time),
    Column("By", lambda p: p.installed_by),
    Column("How", lambda p: "recovery (audited)" if p.recovered else "installed"),
)


def rules_html(policy: TrustPolicy) -> str:
    e = html.escape
    items = []
    for rule in policy.rules:
        extra = (["QA approvers do not count here"] if rule.approvers_differ_from_qa else []) + \
                (["the QA site's signed admission must come along"] if rule.require_qa_attestation else [])
        items.append(
            f"<li><b>{e(str(rule.environment))}</b>: {rule.approvals_required} distinct people holding "
            f"“{e(str(rule.approver_role))}” (the author never counts); rubric score at least "
            f"{rule.min_rubric_score:g}; required tests: {e(', '.join(rule.required_tests)) or 'none'}"
            + "".join(f"; {e(x)}" for x in extra) + "</li>")
    return (f"<ul>{''.join(items) or '<li>no rules: nothing can be admitted</li>'}</ul>"
            f"<p>Allowed artefact formats: {e(', '.join(policy.allowed_formats)) or 'none'}</p>")


@dataclass(frozen=True, slots=True)
class Shown:
    role: str
    admin: bool
    installed: InstalledPolicy | None
    history: tuple[StoredPolicy, ...]


class TrustPolicyPage(Page):
    name = "trust_policy"
    title = "Trust policy"
    watches = frozenset({Change.POLICY, Change.USERS})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.shown: Shown | None = None
        self.add_label(INTRO, MUTED_STYLE)
        top = QHBoxLayout()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        top.addWidget(self.headline, 1)
        self.install_button = QPushButton("Install signed policy…")
        self.install_button.setToolTip("Administrators: install a newer version, signed by the current "
                                       "administrators' threshold and its own")
        self.install_button.clicked.connect(self._on_install_clicked)
        self.recover_button = QPushButton("Recover…")
        self.recover_button.setToolTip("Administrators: install a policy after the stored one was lost (asks why; "
                                       "audited)")
        self.recover_button.clicked.connect(self._on_recover_clicked)
        top.addWidget(self.install_button)
        top.addWidget(self.recover_button)
        self.layout_.addLayout(top)
        self.admins = QLabel()
        self.admins.setWordWrap(True)
        self.layout_.addWidget(self.admins)
        self.keys_model = TableModel(KEY_COLUMNS, self)
        self.keys_view, _ = table_view(self.keys_model, self)
        self.rules = QLabel()
        self.rules.setWordWrap(True)
        self.rules.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.history_model = TableModel(HISTORY_COLUMNS, self)
        self.history_view, _ = table_view(self.history_model, self)
        tabs = QTabWidget()
        tabs.addTab(self.keys_view, "Trusted keys")
        tabs.addTab(self.rules, "Rules per environment")
        tabs.addTab(self.history_view, "Versions installed here")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(tabs)
        self.layout_.addWidget(split, 1)
        self.note = self.add_label()
        self.runner(LIST).finished.connect(self._on_loaded)
        self.runner(INSTALL).finished.connect(self._on_installed)
        self._refresh_actions()

    def reload(self) -> None:
        if self.engine is None:
            return
        engine = self.engine

        def load(ctx: TaskContext) -> Shown:
            me = engine.users.current()
            return Shown(engine.workspace.info().role, bool(me and ADMIN in me.roles), engine.promotion.policy(),
                         tuple(reversed(engine.promotion.policy_history())))

        self.query(load, "Reading the trust policy", "The trust policy could not be read.", concern=LIST)

    @Slot(object)
    def _on_loaded(self, result: object) -> None:
        if not isinstance(result, Shown):
            return
        self.shown = result
        self.history_model.set_rows(result.history)
        installed = result.installed
        if result.role not in ("qa", "prod"):
            self.headline.setStyleSheet(NOTE_STYLE)
            self.headline.setText(f"A trust policy belongs to a QA or production workspace; this one is {result.role}.")
        if installed is None:
            self.keys_model.set_rows([])
            self.admins.setText("")
            self.rules.setText("")
            if result.role in ("qa", "prod"):
                self.headline.setStyleSheet(BAD_STYLE)
                self.headline.setText("No trust policy is installed here, so nothing can be admitted. An "
                                      "administrator installs the signed policy file.")
        else:
            self.show_policy(installed)
        self._refresh_actions()

    def show_policy(self, installed: InstalledPolicy) -> None:
        p = installed.policy
        expired = p.expires_at < datetime.now(UTC).isoformat()
        how = " by recovery" if installed.recovered else ""
        self.headline.setStyleSheet(BAD_STYLE if expired else "")
        self.headline.setText(
            f"<b>Version {p.version}</b> for site <b>{html.escape(p.site)}</b> ({p.environment}) · issued "
            f"{short_time(p.issued_at)} · {'EXPIRED on' if expired else 'expires'} {short_time(p.expires_at)}"
            f" · installed{how} by {html.escape(installed.installed_by)} on {short_time(installed.installed_at)}"
            + ("<br>An expired policy admits nothing until the administrators sign a new version." if expired else ""))
        people = sorted({k.person for k in p.administrators})
        self.admins.setText(f"Administrators: {html.escape(', '.join(people))} — any {p.admin_threshold} of them "
                            "must sign a new version (and the new administrators too, when they change).")
        admin_ids = {k.keyid for k in p.administrators}
        rows = [KeyRow(k, True, k.keyid in p.revoked) for k in p.administrators] + \
               [KeyRow(k, k.keyid in admin_ids, k.keyid in p.revoked) for k in p.keys if k.keyid not in admin_ids]
        self.keys_model.set_rows(rows)
        self.rules.setText(rules_html(p) + (f"<p>Revoked key ids: {len(p.revoked)}</p>" if p.revoked else ""))

    def _refresh_actions(self) -> None:
        s = self.shown
        can = self.writable and s is not None and s.admin and s.role in ("qa", "prod")
        self.install_button.setEnabled(can)
        self.recover_button.setEnabled(can)
        if s is not None and not s.admin:
            self.install_button.setToolTip("Only the workspace's administrators install a trust policy")

    # --- installing ------------------------------------------------------------------------

    def install(self, path: str | Path, *, recover_reason: str | None = None) -> None:
        """Install (or, with a reason, recover) the signed policy at ``path`` in the background."""
        if self.engine is None:
            return
        promotion, target = self.engine.promotion, Path(path)
        if recover_reason is None:
            self.mutate(lambda ctx: promotion.install_policy(target), f"Installing {target.name}",
                        f"{target.name} was not installed.", concern=INSTALL)
        else:
            reason = recover_reason
            self.mutate(lambda ctx: promotion.recover_policy(target, reason), f"Recovering with {target.name}",
                        f"{target.name} was not installed.", concern=INSTALL)

    @Slot()
    def _on_install_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Install a signed trust policy", "", POLICY_FILTER)
        if path:
            self.install(path)

    @Slot()
    def _on_recover_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Recover with a signed trust policy", "", POLICY_FILTER)
        if not path:
            return
        reason = ask_reason(self, "Recover the trust policy", "Why is the stored policy being recovered? (audited)")
        if reason is not None:
            self.install(path, recover_reason=reason)

    @Slot(object)
    def _on_installed(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, InstalledPolicy):
            p = result.value.policy
            self.note.setStyleSheet(OK_STYLE)
            self.note.setText(f"Installed trust policy version {p.version} for {p.site}.")

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        if concern == INSTALL:
            self.note.setStyleSheet(NOTE_STYLE)
            self.note.setText("The installed policy did not change.")
        super().on_task_failed(concern, error)


__all__ = ["KeyRow", "TrustPolicyPage", "key_state", "rules_html"]
