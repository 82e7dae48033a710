"""A read-only look at the first rows of a file before it is imported (the import wizard's preview).

Delimited text is read with the delimiter and header that the importer's own sniffer
(:func:`core.data.importing.sniff`) picks, so what is shown is what the import will use; Excel
through openpyxl in read-only mode; Parquet through pyarrow. Nothing is written anywhere and
at most :data:`PREVIEW_ROWS` rows are kept. Values are shown as text: types are inferred by the
import itself. Reached through :meth:`core.data.service.DatasetService.preview_file`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.data.models import CsvOptions, SourceKind
from core.errors import InvalidInput

PREVIEW_ROWS = 20
_READ_BYTES = 256 * 1024
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITER_NAMES = {",": "comma ( , )", ";": "semicolon ( ; )", "\t": "tab", "|": "pipe ( | )"}


@dataclass(frozen=True, slots=True)
class Preview:
    """What the wizard shows: kind, column names, first rows, how the file will be read."""

    kind: SourceKind  # csv, excel or parquet
    names: list[str]
    rows: list[list[str]]
    settings: str  # one line: "delimiter: tab (sniffed) · header row: yes (sniffed) · encoding: utf-8"
    delimiter: str | None = None
    has_header: bool | None = None
    sheets: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # Parquet only: stored types
    ragged: list[str] = field(default_factory=list)  # "line 4: 4 fields, expected 3"


def default_name(path: Path) -> str:
    """A dataset name made from a file name (``Sales 2024.csv`` → ``Sales_2024``), as the CLI and the wizard give it."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem).strip("._-") or "dataset"
    return name[:100]


def file_kind(path: Path) -> SourceKind:
    """The kind of file ``path`` names, by its suffix (anything else is read as delimited text)."""
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return SourceKind.EXCEL
    if suffix in PARQUET_SUFFIXES:
        return SourceKind.PARQUET
    return SourceKind.CSV


def preview_file(path: Path, options: CsvOptions, sheet: str | None = None, limit: int = PREVIEW_ROWS) -> Preview:
    """The first ``limit`` rows of ``path`` as the import would read them.

    Raises
    ------
    InvalidInput
        The file cannot be opened or is not the kind its name says.
    """
    kind = file_kind(path)
    if kind == SourceKind.EXCEL:
        return _preview_excel(path, sheet, options.has_header, limit)
    if kind == SourceKind.PARQUET:
        return _preview_parquet(path, limit)
    return _preview_csv(path, options, limit)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _preview_csv(path: Path, options: CsvOptions, limit: int) -> Preview:
    from core.data.importing import check_width, header_names, sniff

    dialect = sniff(path, options)
    try:
        with path.open("rb") as fh:
            raw = fh.read(_READ_BYTES)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror}).") from None
    text = raw.decode(dialect.encoding, errors="replace")
    if len(raw) == _READ_BYTES:
        text = text[: text.rfind("\n") + 1] or text
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, quotechar=dialect.quote_char)
    records: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            if record:
                records.append((reader.line_num, record))
            if len(records) > limit:
                break
    except csv.Error as exc:
        raise InvalidInput(f"{path}, line {reader.line_num}: {exc}.") from None
    if not records:
        raise InvalidInput(f"{path}: the file is empty.")
    check_width(_width(path, dialect.encoding, dialect.delimiter, dialect.quote_char), str(path))
    if dialect.has_header:
        names, _ = header_names(records[0][1])
        body = records[1:]
    else:
        names = [f"column_{i}" for i in range(1, len(records[0][1]) + 1)]
        body = records
    body = body[:limit]
    ragged = [f"line {line}: {len(r)} fields, expected {len(names)}" for line, r in body if len(r) != len(names)]
    if len(names) == 1:
        # The sniffer falls back to a comma when it cannot decide (e.g. one ragged row in the sample).
        seen = [d for d in DELIMITER_NAMES if d != dialect.delimiter and d in names[0]]
        if seen:
            ragged.insert(0, f"only one column was found, yet the first row contains {DELIMITER_NAMES[seen[0]]}: "
                             "choose that delimiter above")
    sniffed = "sniffed" if options.delimiter is None else "chosen"
    header_how = "sniffed" if options.has_header is None else "chosen"
    delimiter = DELIMITER_NAMES.get(dialect.delimiter, repr(dialect.delimiter))
    decimal_how = "sniffed" if options.decimal is None else "chosen"
    bom = " (byte-order mark)" if dialect.notes else ""
    settings = (f"delimiter: {delimiter} ({sniffed}) · header row: {'yes' if dialect.has_header else 'no'} "
                f"({header_how}) · decimal mark: {'comma' if dialect.decimal == ',' else 'point'} ({decimal_how}) · "
                f"encoding: {dialect.encoding.removesuffix('-sig')}{bom}")
    return Preview(SourceKind.CSV, names, [r for _, r in body], settings, dialect.delimiter, dialect.has_header, ragged=ragged)


def _width(path: Path, encoding: str, delimiter: str, quote_char: str) -> int:
    """The number of fields of the first record, read whole however long it is (a wide header)."""
    with path.open("rb") as fh, _field_limit():
        text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
        try:
            first = next((r for r in csv.reader(text, delimiter=delimiter, quotechar=quote_char) if r), [])
        except csv.Error:
            return 0  # the preview has already shown what it could read
    return len(first)


@contextlib.contextmanager
def _field_limit() -> Iterator[None]:
    from core.data.importing import MAX_FIELD_CHARS

    previous = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _preview_excel(path: Path, sheet: str | None, has_header: bool | None, limit: int) -> Preview:
    from core.data.excel import open_sheet

    book, ws = open_sheet(path, sheet)
    try:
        sheets, shown = list(book.sheetnames), ws.title
        rows: list[list[object]] = []
        for row in ws.iter_rows(values_only=True):
            cells: list[object] = list(row)
            while cells and cells[-1] is None:
                cells.pop()
            if cells:
                rows.append(cells)
            if len(rows) > limit:
                break
    finally:
        book.close()
    if not rows:
        raise InvalidInput(f"{path}: the sheet is empty.")
    header = has_header if has_header is not None else all(isinstance(c, str) for c in rows[0])
    width = max(len(r) for r in rows)
    names = [_cell(c) for c in rows[0]] if header else [f"column_{i}" for i in range(1, width + 1)]
    body = [[_cell(c) for c in r] for r in (rows[1:] if header else rows)][:limit]
    how = "sniffed" if has_header is None else "chosen"
    settings = f"sheet: {shown} · header row: {'yes' if header else 'no'} ({how})"
    return Preview(SourceKind.EXCEL, names, body, settings, has_header=header, sheets=sheets)


def _preview_parquet(path: Path, limit: int) -> Preview:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        first = next(pf.iter_batches(batch_size=limit), None)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file.") from None
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc}).") from None
    names = list(pf.schema_arrow.names)
    types = [str(t) for t in pf.schema_arrow.types]
    body: list[list[str]] = []
    if first is not None:
        columns = [first.column(i).to_pylist() for i in range(first.num_columns)]
        body = [[_cell(col[r]) for col in columns] for r in range(first.num_rows)]
    settings = f"Parquet: {pf.metadata.num_rows:,} rows, {len(names)} typed columns (types are kept as stored)"
    return Preview(SourceKind.PARQUET, names, body, settings, types=types)
