"""One rubric result on screen: the section sums beside the minimum, each test, and its detail.

:class:`RubricView` shows a :class:`~core.api.RubricResult` as the QA lead reads it: a score
strip (the four section sums, the weakest marked as the minimum, the final score and band with
the scoring rule next to it), a tree of the four sections with each test's status, outcome,
evidence and when it ran (failed tests highlighted, tests not done greyed), and a detail pane
for the selected test with its thresholds, detail or reason it was not done, its attestations
and the evidence as links. A click on a link emits :attr:`RubricView.evidence_clicked` with the
record link (``"model_version:ID"``); the page decides what to do with it. No engine calls here.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.api import Attestation, RubricCatalogue, RubricResult, Section, TestResult

COLUMNS = ("Test", "Status", "Outcome", "Evidence", "Ran", "Detail")
STATUS_TEXT = {"not_done": "not done", "manual": "manual (attested)", "automated": "automated"}
OUTCOME_TEXT = {"pass": "pass", "fail": "fail", "not_applicable": "not applicable"}
FAIL_BRUSH = QBrush(QColor("#fdecea"))
NOT_DONE_BRUSH = QBrush(QColor("#777777"))
#: The scheme of evidence links in the detail pane (``record:model_version:ID``).
LINK_SCHEME = "record"


def moment(text: str | None) -> str:
    """An ISO 8601 moment to the minute (``2026-12-01 10:00``); "—" when absent."""
    if not text:
        return "—"
    return text.replace("T", " ")[:16]


def points(p: float) -> str:
    return f"{p:g}"


class RubricView(QWidget):
    """The score strip, the tree of tests and the selected test's detail."""

    evidence_clicked = Signal(str)
    """A record link in the detail pane was clicked; payload: ``"kind:id"``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: RubricResult | None = None
        self.catalogue: RubricCatalogue | None = None
        self.attestations: tuple[Attestation, ...] = ()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.score_label = QLabel()
        self.score_label.setTextFormat(Qt.TextFormat.RichText)
        self.score_label.setWordWrap(True)
        layout.addWidget(self.score_label)
        self.rule_label = QLabel()
        self.rule_label.setWordWrap(True)
        layout.addWidget(self.rule_label)
        split = QSplitter(Qt.Orientation.Vertical)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAlternatingRowColors(True)
        for column in (0, 1, 2, 4):
            self.tree.header().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(3, 200)
        self.tree.header().setStretchLastSection(True)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        split.addWidget(self.tree)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.detail.setOpenExternalLinks(False)
        self.detail.anchorClicked.connect(self._on_anchor)
        split.addWidget(self.detail)
        split.setSizes([500, 220])
        layout.addWidget(split, 1)
        self.clear()

    def clear(self, note: str = "No rubric result for this model version yet: run the rubric.") -> None:
        """Show nothing but ``note``."""
        self.result = None
        self.tree.clear()
        self.score_label.setText(escape(note))
        self.rule_label.setText("")
        self.detail.setHtml("")

    def show_result(self, result: RubricResult, catalogue: RubricCatalogue,
                    attestations: Sequence[Attestation] = ()) -> None:
        """Show ``result`` (tests named from ``catalogue``; ``attestations`` of its model version)."""
        self.result, self.catalogue, self.attestations = result, catalogue, tuple(attestations)
        score = result.score
        sums = {s.section: s.points for s in score.sections}
        low = min(sums.values()) if sums else 0.0
        cells = []
        for s in Section:
            got = sums.get(s, 0.0)
            style = " style='background:#fdecea'" if got == low else ""
            mark = "<br><i>the minimum</i>" if got == low else ""
            cells.append(f"<td{style} align='center'>{escape(s.heading)}<br><b>{points(got)}</b> of "
                         f"{len(catalogue.section(s))}{mark}</td>")
        self.score_label.setText(
            f"<table cellpadding='6' border='1' style='border-collapse:collapse'><tr>{''.join(cells)}</tr></table>"
            f"<p><b>Final score {points(score.final)}</b>: {escape(score.band)}</p>")
        self.rule_label.setText(f"Scoring rule: {score.rule_text}")
        self.tree.clear()
        by_id = {r.test_id: r for r in result.results}
        for s in Section:
            tests = catalogue.section(s)
            top = QTreeWidgetItem([f"{s.heading}: {points(sums.get(s, 0.0))} of {len(tests)}"])
            top.setFirstColumnSpanned(True)
            top.setData(0, Qt.ItemDataRole.UserRole, None)
            self.tree.addTopLevelItem(top)
            for t in tests:
                r = by_id.get(t.id)
                item = QTreeWidgetItem(self._row(t.id, t.title, r))
                item.setData(0, Qt.ItemDataRole.UserRole, t.id)
                if r is not None and r.outcome is not None and r.outcome.value == "fail":
                    for c in range(len(COLUMNS)):
                        item.setBackground(c, FAIL_BRUSH)
                elif r is None or r.status.value == "not_done":
                    for c in range(len(COLUMNS)):
                        item.setForeground(c, NOT_DONE_BRUSH)
                top.addChild(item)
            top.setExpanded(True)
        self.detail.setHtml("<p>Select a test to see its detail and evidence.</p>")

    @staticmethod
    def _row(test_id: str, title: str, r: TestResult | None) -> list[str]:
        if r is None:
            return [f"{test_id} {title}", "not done", "—", "—", "—", "Not in this result."]
        detail = r.reason_not_done if r.status.value == "not_done" and r.reason_not_done else r.detail
        outcome = OUTCOME_TEXT.get(r.outcome.value, r.outcome.value) if r.outcome is not None else "—"
        return [f"{test_id} {title}", STATUS_TEXT.get(r.status.value, r.status.value), outcome,
                ", ".join(r.evidence) or "—", moment(r.ran_at), detail or "—"]

    def select_test(self, test_id: str) -> bool:
        """Make ``test_id`` the current test; False when it is not shown."""
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top is None:
                continue
            for j in range(top.childCount()):
                child = top.child(j)
                if child is not None and child.data(0, Qt.ItemDataRole.UserRole) == test_id:
                    self.tree.setCurrentItem(child)
                    return True
        return False

    def current_test(self) -> str | None:
        """The selected test's id, or None."""
        item = self.tree.currentItem()
        found = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return found if isinstance(found, str) else None

    def detail_html(self, test_id: str) -> str:
        """The detail pane's page for ``test_id``."""
        if self.result is None or self.catalogue is None:
            return ""
        e = escape
        t = self.catalogue.test(test_id)
        r = self.result.result(test_id)
        out = [f"<h3>{e(t.id)} {e(t.title)}</h3><p><i>Passing:</i> {e(t.passing)}</p>"]
        if r is None:
            out.append("<p>Not in this result.</p>")
        else:
            outcome = r.outcome.value if r.outcome is not None else "—"
            out.append(f"<p><b>Status:</b> {e(STATUS_TEXT.get(r.status.value, r.status.value))} · "
                       f"<b>Outcome:</b> {e(OUTCOME_TEXT.get(outcome, outcome))} · <b>Ran:</b> {e(moment(r.ran_at))}</p>")
            if r.reason_not_done:
                out.append(f"<p><b>Not done:</b> {e(r.reason_not_done)}</p>")
            if r.detail:
                out.append(f"<p>{e(r.detail)}</p>")
            if r.thresholds:
                pairs = "; ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                                  for k, v in sorted(r.thresholds.items()))
                out.append(f"<p><b>Thresholds:</b> {e(pairs)}</p>")
            links = " ".join(f"<a href='{LINK_SCHEME}:{e(ref)}'>{e(ref)}</a>" for ref in r.evidence)
            out.append(f"<p><b>Evidence:</b> {links or '—'}</p>")
        out.append(f"<p><i>Automated check:</i> {e(t.check or 'none yet')} · <i>reads:</i> {e(t.evidence)}</p>")
        out.append(f"<p><i>To attest by hand:</i> {e(t.attestation)}</p>")
        for a in self.attestations:
            if a.test_id != test_id:
                continue
            state = "valid" if a.valid_at(self.result.created_at) else "expired"
            files = ", ".join(f"{name} (SHA-256 {digest[:12]}…)" for name, digest in a.evidence_files) or "no files"
            out.append(f"<p><b>Attested by {e(a.attested_by)}</b> on {e(moment(a.attested_at))}, expires "
                       f"{e(moment(a.expires_at))} ({state}): {e(a.statement)} · {e(files)}</p>")
        return "".join(out)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        test_id = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        if isinstance(test_id, str):
            self.detail.setHtml(self.detail_html(test_id))

    @Slot(QUrl)
    def _on_anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith(f"{LINK_SCHEME}:"):
            self.evidence_clicked.emit(text[len(LINK_SCHEME) + 1:])
