"""Rows of the assessment's question tree that grow to hold their whole, wrapped text.

Qt's default delegate sizes a row for one line whatever the column's width, so a wrapped
question would be cut to its first line. :class:`WrappingDelegate` measures the text at the
width the first column really has (less the indentation of its level) and asks for that
height. Pure presentation: it never calls the engine.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeView

#: Room the style keeps around a cell's text (both sides together), in pixels.
_TEXT_MARGIN = 10


class WrappingDelegate(QStyledItemDelegate):
    """Sizes first-column rows for their text wrapped at the column's width."""

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint(option, index)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if index.column() != 0 or not isinstance(text, str) or not text:
            return hint
        depth = 1 if self._view.rootIsDecorated() else 0
        parent = index.parent()
        while parent.isValid():
            depth += 1
            parent = parent.parent()
        width = self._view.columnWidth(0) - depth * self._view.indentation() - _TEXT_MARGIN
        if width <= 40:
            return hint
        style = self._view.style()
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameVMargin) * 2 + 2 if style else 4
        needed = option.fontMetrics.boundingRect(
            QRect(0, 0, width, 100_000), int(Qt.TextFlag.TextWordWrap), text
        ).height() + margin
        return QSize(hint.width(), max(hint.height(), needed))
