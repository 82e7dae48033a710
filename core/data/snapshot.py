"""Typing text columns and streaming record batches into a Parquet snapshot, in memory only.

:func:`infer_types` decides each text column's type from every value (one streaming pass);
:class:`ParquetStream` is a file-like object whose ``read`` pulls the next batches, writes
them as Parquet row groups into a small in-memory buffer and hands those bytes on, so the
blob store can consume a snapshot without a plaintext temporary file and without holding
more than about one batch. Nothing here touches the store or the disk.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core.errors import InvalidInput
from core.tasks import TaskContext, ensure_context

#: Tried in this order; the first type every non-missing value converts to wins.
CANDIDATES: tuple[tuple[str, pa.DataType], ...] = (
    ("integer", pa.int64()),
    ("float", pa.float64()),
    ("boolean", pa.bool_()),
    ("datetime", pa.timestamp("us")),
)
NUMBER_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
LEADING_ZERO_PATTERN = r"^[+-]?0\d"
#: A text column is reported as mixed when at least this share of its values are numbers.
MIXED_NUMERIC_SHARE = 0.5
#: Values tried first: Arrow scans a whole array even to report that a cast fails.
_PROBE = 256


class _Tally:
    __slots__ = ("alive", "first_text_row", "leading_zero", "non_null", "numeric")

    def __init__(self) -> None:
        self.alive = [t for _, t in CANDIDATES]
        self.non_null = 0
        self.numeric = 0
        self.first_text_row: int | None = None
        self.leading_zero = False


def _may_lead_with_zero(values: pa.Array) -> bool:
    """A cheap filter before the leading-zero pattern: does any value start with 0, +0 or -0?"""
    return any(pc.any(pc.starts_with(values, p)).as_py() for p in ("0", "+0", "-0"))


def _matches(column: pa.Array, pattern: str) -> pa.Array:
    """``match_substring_regex`` evaluated once per distinct value (text columns repeat a lot)."""
    encoded = pc.dictionary_encode(column)
    if len(encoded.dictionary) * 4 > len(column):
        return pc.match_substring_regex(column, pattern)
    return pc.take(pc.match_substring_regex(encoded.dictionary, pattern), encoded.indices)


class TypeInference:
    """Decides each text column's type batch by batch (see :func:`infer_types`).

    Fed by whichever pass already reads the batches, so a CSV is not parsed once more just
    to type it. Work is skipped where the answer is already known: a batch that converts to
    an integer also converts to a float, and the number pattern is only matched in batches
    that do not convert to a number (those that do are numbers).
    """

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        self._tallies = {n: _Tally() for n in names}
        self.offset = 0

    def add(self, batch: pa.RecordBatch) -> None:
        for name, column in zip(self.names, batch.columns, strict=True):
            t = self._tallies[name]
            values = pc.drop_null(column)
            if len(values) == 0:
                continue
            t.non_null += len(values)
            if not t.leading_zero and _may_lead_with_zero(values) \
                    and pc.any(pc.match_substring_regex(values, LEADING_ZERO_PATTERN)).as_py():
                t.leading_zero = True
                t.alive = [a for a in t.alive if not (pa.types.is_integer(a) or pa.types.is_floating(a))]
            survivors = []
            converted_int = False
            for typ in t.alive:
                if pa.types.is_floating(typ) and converted_int:
                    survivors.append(typ)  # every integer text is a float text too
                    continue
                try:
                    if len(values) > _PROBE:
                        pc.cast(values.slice(0, _PROBE), typ)  # a failing cast costs a full scan
                    pc.cast(values, typ)
                    survivors.append(typ)
                    converted_int = converted_int or pa.types.is_integer(typ)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                    pass
            t.alive = survivors
            if any(pa.types.is_integer(a) or pa.types.is_floating(a) for a in survivors):
                t.numeric += len(values)
            else:
                is_number = _matches(column, NUMBER_PATTERN)
                t.numeric += int(pc.sum(is_number).as_py() or 0)
                if t.first_text_row is None:
                    where = pc.index(pc.fill_null(is_number, True), False).as_py()
                    if where >= 0:
                        t.first_text_row = self.offset + where + 1
        self.offset += batch.num_rows

    def result(self) -> tuple[dict[str, pa.DataType], list[str]]:
        types: dict[str, pa.DataType] = {}
        warnings: list[str] = []
        for name in self.names:
            t = self._tallies[name]
            if t.non_null == 0:
                types[name] = pa.string()
                warnings.append(f"Column {name!r} is empty in every row; stored as text.")
            elif t.alive:
                types[name] = t.alive[0]
            else:
                types[name] = pa.string()
                share = t.numeric / t.non_null
                if MIXED_NUMERIC_SHARE <= share < 1.0 and not t.leading_zero:
                    warnings.append(
                        f"Column {name!r} has mixed types: {t.numeric:,} of {t.non_null:,} values are numbers, "
                        f"{t.non_null - t.numeric:,} are not (first at data row {t.first_text_row}); stored as text."
                    )
        return types, warnings


def infer_types(
    names: list[str], batches: Iterator[pa.RecordBatch], total_rows: int, ctx: TaskContext | None = None
) -> tuple[dict[str, pa.DataType], list[str]]:
    """The type of each text column, and warnings for the user (mixed and empty columns).

    A column whose values are mostly numbers but not all is kept as text, with a warning
    that says how many values are not numbers and where the first one is (never coerced to
    missing). Numbers with leading zeros (codes, postcodes) stay text.
    """
    ctx = ensure_context(ctx)
    inference = TypeInference(names)
    for batch in batches:
        ctx.check()
        inference.add(batch)
        ctx.report(inference.offset / max(total_rows, 1), "Inferring column types")
    return inference.result()


def cast_batches(batches: Iterator[pa.RecordBatch], types: dict[str, pa.DataType]) -> Iterator[pa.RecordBatch]:
    """Convert text batches to the inferred types (all values were checked to convert)."""
    schema = pa.schema([(n, t) for n, t in types.items()])
    for batch in batches:
        arrays = [pc.cast(col, typ) for col, typ in zip(batch.columns, schema.types, strict=True)]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


class _Sink:
    """The in-memory end the Parquet writer writes to; :class:`ParquetStream` drains it."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.buffer += view
        self.position += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class ParquetStream(io.RawIOBase):
    """Readable Parquet bytes of ``batches``, produced one row group at a time."""

    def __init__(
        self, schema: pa.Schema, batches: Iterator[pa.RecordBatch], *, total_rows: int | None = None,
        ctx: TaskContext | None = None,
    ) -> None:
        import pyarrow.parquet as pq

        super().__init__()
        self._ctx = ensure_context(ctx)
        self._schema = schema
        self._batches = batches
        self._sink = _Sink()
        self._writer: Any = pq.ParquetWriter(
            self._sink, schema, compression="zstd", write_statistics=True, use_dictionary=True,
        )
        self._done = False
        self._offset = 0
        self._total = total_rows
        self.rows = 0

    def readable(self) -> bool:
        return True

    def _pump(self) -> None:
        self._ctx.check()
        try:
            batch = next(self._batches)
        except StopIteration:
            self._writer.close()
            self._done = True
            return
        if batch.schema != self._schema:
            try:
                batch = batch.cast(self._schema)
            except (pa.ArrowInvalid, ValueError, pa.ArrowNotImplementedError) as exc:
                raise InvalidInput(f"A later part of the data does not match the first part's columns: {exc}") from None
        if batch.num_rows:
            self._writer.write_batch(batch)
            self.rows += batch.num_rows
            if self._total:
                self._ctx.report(self.rows / self._total, "Writing the encrypted snapshot")

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        pending = self._sink.buffer
        if len(pending) - self._offset < want and self._offset:
            del pending[: self._offset]  # moves less than one read's worth
            self._offset = 0
        while len(pending) - self._offset < want and not self._done:
            self._pump()
        n = min(want, len(pending) - self._offset)
        buffer[:n] = pending[self._offset : self._offset + n]
        self._offset += n
        return n

    def close(self) -> None:
        if not self._done:
            try:
                self._writer.close()
            except Exception:  # closing after an error must not hide that error
                pass
            self._done = True
        super().close()


def read_snapshot(data: bytes, columns: list[str] | None = None) -> pa.Table:
    """A snapshot's table (or some of its columns) from its Parquet bytes."""
    import pyarrow.parquet as pq

    # Arrow reads a buffer without copying and from several threads; a BytesIO goes through Python.
    return pq.ParquetFile(pa.BufferReader(data)).read(columns=columns)
