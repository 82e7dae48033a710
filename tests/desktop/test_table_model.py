"""The generic table model passes Qt's model tester and sorts on raw values."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt

from desktop.widgets.table_model import Column, TableModel, sorting_proxy


@dataclass(frozen=True)
class Row:
    name: str
    count: int


COLUMNS = [Column("Name", lambda r: r.name), Column("Count", lambda r: r.count, align_right=True)]


def test_model_conforms(qtmodeltester) -> None:
    model = TableModel(COLUMNS)
    model.set_rows([Row("b", 10), Row("a", 9), Row("c", 100)])
    qtmodeltester.check(model, force_py=True)
    proxy = sorting_proxy(model)
    qtmodeltester.check(proxy, force_py=True)


def test_object_under_user_role_and_numeric_sort(qapp) -> None:
    model = TableModel(COLUMNS)
    rows = [Row("b", 10), Row("a", 9), Row("c", 100)]
    model.set_rows(rows)
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole) is rows[0]
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Count"
    proxy = sorting_proxy(model)
    proxy.sort(1, Qt.SortOrder.AscendingOrder)
    assert [proxy.data(proxy.index(i, 1)) for i in range(3)] == ["9", "10", "100"]  # not "10" < "100" < "9"
    proxy.setFilterFixedString("C")
    assert proxy.rowCount() == 1
