"""Excel workbooks as a checked text source: one sheet, every cell as the text a user sees.

Read with openpyxl in read-only mode, a batch of rows at a time; the header and the checks
are the CSV reader's (:mod:`core.data.importing`), and so is the typing that follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from core.data.importing import NULL_TOKENS, TextSource, check_names, file_sha256
from core.data.models import SourceKind
from core.errors import InvalidInput
from core.tasks import TaskContext, ensure_context

#: Rows per batch read from a sheet.
EXCEL_BATCH_ROWS = 20_000


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = str(value)
    return None if text in NULL_TOKENS else text


def open_sheet(path: Path, sheet: str | None) -> tuple[Any, Any]:
    """The workbook (read-only; the caller closes it) and the sheet named, or the first one.

    Every reason it cannot be opened is an :class:`InvalidInput` naming the file.
    """
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file.") from None
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise InvalidInput(f"{path}: not a readable Excel workbook (.xlsx) ({type(exc).__name__}).") from None
    if sheet is None:
        return book, book.worksheets[0]
    if sheet not in book.sheetnames:
        book.close()
        raise InvalidInput(f"{path}: has no sheet {sheet!r}; sheets are {', '.join(book.sheetnames)}.")
    return book, book[sheet]


def _sheet_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[str | None]]]:
    book, ws = open_sheet(path, sheet)
    try:
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in row]
            while cells and cells[-1] is None:
                cells.pop()
            if cells:
                yield number, cells
    finally:
        book.close()


def scan_excel(path: Path, sheet: str | None, has_header: bool | None, ctx: TaskContext | None = None) -> TextSource:
    """Check a worksheet: a header, no cells beyond it, at least one data row."""
    ctx = ensure_context(ctx)
    names: list[str] | None = None
    rows = 0
    header = True
    for number, cells in _sheet_rows(path, sheet):
        if names is None:
            header = has_header if has_header is not None else all(isinstance(c, str) for c in cells)
            if header:
                names = [c or "" for c in cells]
                check_names(names, str(path))
                continue
            names = [f"column_{i}" for i in range(1, len(cells) + 1)]
        if len(cells) > len(names):
            raise InvalidInput(f"{path}, row {number}: a value in column {len(cells)}, beyond the {len(names)} named columns.")
        rows += 1
        if rows % 10_000 == 0:
            ctx.check()
    if names is None:
        raise InvalidInput(f"{path}: the sheet is empty.")
    if rows == 0:
        raise InvalidInput(f"{path}: has a header but no data rows.")
    width = len(names)

    def batches(types: dict[str, pa.DataType] | None = None, /) -> Iterator[pa.RecordBatch]:
        # Cells arrive as text; the caller converts them (``types`` is for the CSV reader).
        columns: list[list[str | None]] = [[] for _ in range(width)]
        skip = header
        for _, cells in _sheet_rows(path, sheet):
            if skip:
                skip = False
                continue
            cells = cells + [None] * (width - len(cells))
            for col, value in zip(columns, cells, strict=True):
                col.append(value)
            if len(columns[0]) >= EXCEL_BATCH_ROWS:
                yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)
                columns = [[] for _ in range(width)]
        if columns[0]:
            yield pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)

    return TextSource(SourceKind.EXCEL, path, names, rows, file_sha256(path), batches)
