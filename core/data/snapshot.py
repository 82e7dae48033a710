"""Typing text columns and streaming record batches into a Parquet snapshot, in memory only.

:func:`infer_types` decides each text column's type from every value (one streaming pass);
:class:`ParquetStream` is a file-like object whose ``read`` pulls the next batches, writes
them as Parquet row groups into a small in-memory buffer and hands those bytes on, so the
blob store can consume a snapshot without a plaintext temporary file and without holding
more than about one batch. Nothing here touches the store or the disk.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core import runtime
from core.data import arrays
from core.errors import InvalidInput
from core.tasks import TaskContext, ensure_context

#: Tried in this order; the first type every non-missing value converts to wins.
CANDIDATES: tuple[tuple[str, pa.DataType], ...] = (
    ("integer", pa.int64()),
    ("float", pa.float64()),
    ("boolean", pa.bool_()),
    ("datetime", pa.timestamp("us")),
    # An ISO timestamp with an offset (``Z``, ``+02:00``): converted to UTC; the offsets seen
    # are named in the version's warnings.
    ("datetime with time zone", pa.timestamp("us", tz="UTC")),
)
NUMBER_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
LEADING_ZERO_PATTERN = r"^[+-]?0\d"
#: Whole numbers as the int64 parser reads them (a plus sign is not one of them).
INTEGER_PATTERN = r"^-?\d+$"
#: The time zone offset at the end of an ISO timestamp.
OFFSET_PATTERN = r"(?P<offset>Z|[+-]\d\d:?\d\d)$"
#: Distinct offsets kept per column for the warning.
MAX_OFFSETS = 8
#: int64 holds every whole number of up to 18 digits; one of 19 or more may not fit.
_INT64_DIGITS = 19
#: A text column is reported as mixed when at least this share of its values are numbers.
MIXED_NUMERIC_SHARE = 0.5
#: Snapshot compression. LZ4 encodes about a third faster than zstd and decodes twice as
#: fast, for snapshots about a fifth larger: every profile, drift and training run reads
#: the snapshot again, so read speed wins (see docs/discovery.md).
COMPRESSION = "lz4"
#: Values tried first: Arrow scans a whole array even to report that a cast fails.
_PROBE = 256
#: ``False`` as an Arrow scalar (a Python ``False`` given to a compute function imports pandas).
_FALSE = arrays.scalar(False)


class _Tally:
    __slots__ = ("alive", "big_integer", "decimal", "first_infinite_row", "first_text_row", "infinite", "integral",
                 "leading_zero", "non_null", "numeric", "offsets", "seen")

    def __init__(self) -> None:
        self.alive = [t for _, t in CANDIDATES]
        self.non_null = 0
        self.numeric = 0
        self.first_text_row: int | None = None
        self.leading_zero = False
        #: Whether the column's first batch with values held decimals (numbers, not all integers).
        self.decimal = False
        self.seen = False
        #: Whether every value so far is a whole number (checked once the int64 parse failed).
        self.integral = True
        #: A whole number too long for int64, when one was met in a column of whole numbers.
        self.big_integer: str | None = None
        self.infinite = 0
        self.first_infinite_row: int | None = None
        self.offsets: set[str] = set()


def _heads(values: pa.Array) -> tuple[Any, Any, Any, Any, Any] | None:
    """The first two bytes, lengths and starts of every value of a string array, and its bytes.

    Read straight from the array's buffers with numpy, which is much cheaper than a pattern
    match over every value. A missing value's slot is usually empty but may hold bytes, so
    callers treat a hit as a candidate when the array has missing values.
    """
    import numpy as np

    if len(values) == 0 or not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    offsets, data = arrays.strings(values)
    if data.size == 0:
        return None
    starts, lengths = offsets[:-1], np.diff(offsets)
    last = data.size - 1
    return data[np.minimum(starts, last)], data[np.minimum(starts + 1, last)], lengths, starts, data


def _digit(b: Any) -> Any:
    return (b >= 48) & (b <= 57)


def _leads_with_zero(values: pa.Array) -> bool:
    """Whether any value starts with a zero followed by a digit (``007``, ``+01``): a code, not a number.

    Equal to matching :data:`LEADING_ZERO_PATTERN`, from three bytes per value.
    """
    import numpy as np

    heads = _heads(values)
    if heads is None:
        return False
    first, second, lengths, starts, data = heads
    found = bool(np.any((lengths >= 2) & (first == 48) & _digit(second)))
    if not found:
        signed = (lengths >= 3) & ((first == 43) | (first == 45)) & (second == 48)
        if np.any(signed):
            found = bool(np.any(_digit(data[np.minimum(starts[signed] + 2, data.size - 1)])))
    if found and values.null_count:
        found = bool(pc.any(pc.match_substring_regex(values, LEADING_ZERO_PATTERN)).as_py())
    return found


def _number_byte_table() -> Any:
    import numpy as np

    table = np.ones(256, dtype=np.int32)
    table[list(b"0123456789+-.eE")] = 0
    return table


#: 0 for the bytes a number can hold, 1 for every other byte.
_FOREIGN_TO_NUMBERS = _number_byte_table()
#: The bytes a number can start with (:data:`NUMBER_PATTERN` is anchored: sign, digit or point).
_STARTS_NUMBERS = _FOREIGN_TO_NUMBERS == 0
_STARTS_NUMBERS[list(b"eE")] = False


def _may_hold_numbers(values: pa.Array) -> bool:
    """False when no value can match :data:`NUMBER_PATTERN`: each holds a byte no number has.

    Counted from the string buffers with numpy (a byte-class lookup and a running sum),
    much cheaper than the pattern itself, which then only runs where this says yes; and
    first from the first bytes alone, which answer for most text.
    """
    import numpy as np

    heads = _heads(values)
    if heads is None:
        return bool(len(values) > values.null_count)  # not a string array: let the pattern decide
    first, _, lengths, starts, data = heads
    if not np.any(_STARTS_NUMBERS[first] & (lengths > 0)):
        return False  # no value starts as a number can (most text: a name, a code): no byte count needed
    lo, hi = int(starts[0]), int(starts[-1] + lengths[-1])
    foreign = np.zeros(hi - lo + 1, dtype=np.int32)
    np.cumsum(_FOREIGN_TO_NUMBERS[data[lo:hi]], out=foreign[1:])
    inside = foreign[starts + lengths - lo] - foreign[starts - lo]
    return bool(np.any((lengths > 0) & (inside == 0)))


def _matches(column: pa.Array, pattern: str) -> pa.Array:
    """``match_substring_regex`` evaluated once per distinct value (text columns repeat a lot)."""
    encoded = pc.dictionary_encode(column)
    if len(encoded.dictionary) * 4 > len(column):
        return pc.match_substring_regex(column, pattern)
    return pc.take(pc.match_substring_regex(encoded.dictionary, pattern), encoded.indices)


def decimal_view(values: pa.Array, decimal: str) -> pa.Array:
    """``values`` as the number parser reads them when the decimal mark is ``decimal``.

    With a decimal comma, ``1,5`` reads as ``1.5`` and a value holding a point (``1.5``,
    ``1.234,5``) is no number at all (its point becomes a byte no number has), so a
    thousands separator is never mistaken for a decimal mark. Only used to test and convert
    numbers: a column that stays text keeps its own values.
    """
    if decimal == "." or not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return values
    return pc.replace_substring(pc.replace_substring(values, ".", "\x01"), ",", ".")


def _integer_byte_table() -> Any:
    import numpy as np

    table = np.ones(256, dtype=np.int32)
    table[list(b"0123456789-")] = 0
    return table


#: 0 for the bytes a whole number (as int64 reads it) can hold, 1 for every other byte.
_FOREIGN_TO_INTEGERS = _integer_byte_table()


def _all_whole_numbers(values: pa.Array) -> bool:
    """Whether every present value matches :data:`INTEGER_PATTERN` (a byte check first)."""
    heads = _heads(values)
    if heads is not None and not values.null_count:
        _, _, lengths, starts, data = heads
        lo, hi = int(starts[0]), int(starts[-1] + lengths[-1])
        if _FOREIGN_TO_INTEGERS[data[lo:hi]].any():
            return False
    present = pc.drop_null(values)
    return bool(pc.all(pc.match_substring_regex(present, INTEGER_PATTERN)).as_py() is not False)


def _first_long_integer(values: pa.Array) -> str | None:
    """The first value with at least :data:`_INT64_DIGITS` digits (a whole number int64 may not hold)."""
    lengths = pc.utf8_length(pc.utf8_ltrim(values, characters="-"))
    long = pc.fill_null(pc.greater_equal(lengths, arrays.scalar(_INT64_DIGITS)), _FALSE)
    where = arrays.first_true(long)
    return None if where < 0 else str(values[where].as_py())


def _count_infinite(t: _Tally, converted: pa.Array, offset: int) -> None:
    """Tally the infinite values of a float column (``1e400`` overflows to infinity)."""
    inf = pc.fill_null(pc.is_inf(converted), _FALSE)
    count = int(pc.sum(inf).as_py() or 0)
    if count:
        t.infinite += count
        if t.first_infinite_row is None:
            t.first_infinite_row = offset + arrays.first_true(inf) + 1


class TypeInference:
    """Decides each text column's type batch by batch (see :func:`infer_types`).

    Leading zeros: integers written with one (``007``, ``02134``) are codes, and the
    column stays text. A column whose first values are decimals is a column of numbers,
    and a later ``00.5`` in it is the number 0.5 (which lets a reader parse such columns
    straight to numbers after looking at their first rows).

    Fed by whichever pass already reads the batches, so a CSV is not parsed once more just
    to type it. Work is skipped where the answer is already known: a batch that converts to
    an integer also converts to a float, and the number pattern is only matched in batches
    that do not convert to a number (those that do are numbers).

    Nothing changes a value silently: whole numbers beyond int64 keep their digits as text
    (as floats, distinct ids would merge), infinite floats (``1e400``) and time zone offsets
    converted to UTC are named in the warnings. ``decimal`` is the decimal mark numbers are
    written with (``","``: see :func:`decimal_view`).
    """

    def __init__(self, names: list[str], *, threads: int | None = None, decimal: str = ".") -> None:
        self.names = list(names)
        self.decimal = decimal
        self._tallies = {n: _Tally() for n in names}
        self.offset = 0
        # Arrow's kernels release the GIL: columns are typed side by side.
        self._threads = threads if threads is not None else runtime.cpu_workers()
        self._pool: ThreadPoolExecutor | None = None

    def add(self, batch: pa.RecordBatch) -> list[pa.Array | None]:
        """Tally one batch; return each column converted to its current leading type (None: text).

        The caller may keep the converted arrays: when a column's final type is the type it
        had in this batch, they need not be converted again.
        """
        work = [(self._tallies[n], c) for n, c in zip(self.names, batch.columns, strict=True)]
        if self._threads > 1 and len(work) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="airlock-types")
            converted = list(self._pool.map(lambda w: self._add_column(w[0], w[1], self.offset, self.decimal), work))
        else:
            converted = [self._add_column(t, c, self.offset, self.decimal) for t, c in work]
        self.offset += batch.num_rows
        return converted

    @staticmethod
    def _add_column(t: _Tally, column: pa.Array, offset: int, decimal: str = ".") -> pa.Array | None:
        non_null = len(column) - column.null_count
        if not pa.types.is_string(column.type):
            # Parsed straight to this type (the reader checked every value): it is the only one left.
            t.non_null += non_null
            t.numeric += non_null if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) else 0
            t.alive = [column.type]
            t.decimal = t.seen = True
            if pa.types.is_floating(column.type):
                t.integral = False  # presumed decimal from its first rows
                _count_infinite(t, column, offset)
            return column
        if non_null == 0:
            return None
        t.non_null += non_null
        numbers = decimal_view(column, decimal)
        numeric_alive = any(pa.types.is_integer(a) or pa.types.is_floating(a) for a in t.alive)
        maybe_numbers = numeric_alive or _may_hold_numbers(numbers)
        if not t.decimal and not t.leading_zero and maybe_numbers and _leads_with_zero(column):
            t.leading_zero = True
            t.alive = [a for a in t.alive if not (pa.types.is_integer(a) or pa.types.is_floating(a))]
        survivors = []
        first: pa.Array | None = None
        converted_int = False
        for typ in t.alive:
            if pa.types.is_floating(typ) and converted_int:
                survivors.append(typ)  # every integer text is a float text too
                continue
            source = numbers if pa.types.is_integer(typ) or pa.types.is_floating(typ) else column
            try:
                if len(source) > _PROBE:
                    pc.cast(source.slice(0, _PROBE), typ)  # a failing cast costs a full scan
                cast = pc.cast(source, typ)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                continue
            survivors.append(typ)
            first = cast if first is None else first
            converted_int = converted_int or pa.types.is_integer(typ)
            if typ.equals(pa.timestamp("us", tz="UTC")) and len(t.offsets) < MAX_OFFSETS:
                found = pc.struct_field(pc.extract_regex(pc.drop_null(column), OFFSET_PATTERN), [0])
                t.offsets.update(str(o) for o in pc.unique(found).to_pylist()[:MAX_OFFSETS])
        if survivors and pa.types.is_floating(survivors[0]) and first is not None:
            # Whole numbers that int64 refused: too long for it (then they stay text), or
            # written in a way only the float parser takes (``+5``).
            if t.integral and not _all_whole_numbers(numbers):
                t.integral, t.big_integer = False, None
            if t.integral and t.big_integer is None:
                t.big_integer = _first_long_integer(numbers)
            _count_infinite(t, first, offset)
        t.alive = survivors
        if not t.seen:
            t.seen = True
            t.decimal = bool(survivors) and pa.types.is_floating(survivors[0])
        if any(pa.types.is_integer(a) or pa.types.is_floating(a) for a in survivors):
            t.numeric += non_null
        elif not maybe_numbers:  # plain text: no value is a number
            if t.first_text_row is None:
                t.first_text_row = offset + arrays.first_true(column.is_valid()) + 1
        else:
            is_number = _matches(numbers, NUMBER_PATTERN)
            t.numeric += int(pc.sum(is_number).as_py() or 0)
            if t.first_text_row is None:
                where = arrays.first_true(pc.and_not_kleene(column.is_valid(), is_number))
                if where >= 0:
                    t.first_text_row = offset + where + 1
        return first

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def result(self) -> tuple[dict[str, pa.DataType], list[str]]:
        self.close()
        types: dict[str, pa.DataType] = {}
        warnings: list[str] = []
        for name in self.names:
            t = self._tallies[name]
            if t.non_null == 0:
                types[name] = pa.string()
                warnings.append(f"Column {name!r} is empty in every row; stored as text.")
            elif t.alive and pa.types.is_floating(t.alive[0]) and t.integral and t.big_integer is not None:
                types[name] = pa.string()
                warnings.append(
                    f"Column {name!r} holds whole numbers beyond the 64-bit integer range (e.g. {t.big_integer}); "
                    "stored as text so that every value keeps its exact digits (as decimals, distinct values "
                    "would merge)."
                )
            elif t.alive:
                types[name] = t.alive[0]
                if pa.types.is_floating(t.alive[0]) and t.infinite:
                    warnings.append(
                        f"Column {name!r} has {t.infinite:,} infinite value{'s' if t.infinite > 1 else ''} (a number "
                        f"beyond the range of 64-bit floats, such as 1e400, or written as inf), first at data row "
                        f"{t.first_infinite_row}; stored as infinity."
                    )
                if t.alive[0].equals(pa.timestamp("us", tz="UTC")) and t.offsets:
                    seen = ", ".join(sorted(t.offsets))
                    warnings.append(
                        f"Column {name!r} holds timestamps with a time zone offset ({seen}); stored in UTC "
                        "(timestamp[us, tz=UTC]), so the same instant compares equal whatever its offset."
                    )
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
    names: list[str], batches: Iterator[pa.RecordBatch], total_rows: int, ctx: TaskContext | None = None,
    *, decimal: str = ".",
) -> tuple[dict[str, pa.DataType], list[str]]:
    """The type of each text column, and warnings for the user (mixed and empty columns).

    A column whose values are mostly numbers but not all is kept as text, with a warning
    that says how many values are not numbers and where the first one is (never coerced to
    missing). Numbers with leading zeros (codes, postcodes) stay text.
    """
    ctx = ensure_context(ctx)
    inference = TypeInference(names, decimal=decimal)
    try:
        for batch in batches:
            ctx.check()
            inference.add(batch)
            ctx.report(inference.offset / max(total_rows, 1), "Inferring column types")
        return inference.result()
    finally:
        inference.close()


def cast_batches(
    batches: Iterator[pa.RecordBatch], types: dict[str, pa.DataType], *, decimal: str = ".",
) -> Iterator[pa.RecordBatch]:
    """Convert text batches to the inferred types (all values were checked to convert).

    Columns that already have their type (converted while parsing, or kept from the
    inference pass) pass through untouched; numbers are read with ``decimal`` as the
    decimal mark.
    """
    schema = pa.schema([(n, t) for n, t in types.items()])

    def convert(col: pa.Array, typ: pa.DataType) -> pa.Array:
        if col.type == typ:
            return col
        if pa.types.is_integer(typ) or pa.types.is_floating(typ):
            col = decimal_view(col, decimal)
        return pc.cast(col, typ)

    for batch in batches:
        columns = [convert(col, typ) for col, typ in zip(batch.columns, schema.types, strict=True)]
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary-encoding in Parquet: text and categories.

    Numbers rarely repeat enough to pay for it: building a dictionary for a column of
    floats costs about as much as the rest of the encoding and then is thrown away (the
    writer falls back to plain encoding once the dictionary is full).
    """
    return [f.name for f in schema
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_dictionary(f.type)]


class _Sink:
    """The in-memory end the Parquet writer writes to; :meth:`take` hands the bytes on."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.buffer += view
        self.position += view.nbytes
        return view.nbytes

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


_END = object()
#: Batches waiting for the encoder: enough to keep it busy, little memory.
_QUEUED_BATCHES = 2


class ParquetStream(io.RawIOBase):
    """Readable Parquet bytes of ``batches``, produced one row group at a time.

    The Parquet encoding (compression included) runs on its own thread, a batch or two
    ahead of the reader, so that it overlaps with whatever consumes the bytes (encryption
    and the store) and with producing the next batches. ``batches`` itself is only ever
    iterated on the reading thread (a database cursor may be tied to it). Memory stays at
    a few batches: the queue ahead of the encoder is bounded and the reader takes the bytes
    as they come.
    """

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
            self._sink, schema, compression=COMPRESSION, write_statistics=False, use_dictionary=dictionary_columns(schema),
        )
        self._todo: queue.Queue[Any] = queue.Queue(maxsize=_QUEUED_BATCHES)
        self._out: queue.Queue[Any] = queue.Queue()
        self._encoder = threading.Thread(target=self._encode, name="airlock-parquet", daemon=True)
        self._encoder.start()
        self._source_done = False
        self._done = False
        self._pending = bytearray()
        self._offset = 0
        self._total = total_rows
        self.rows = 0

    def readable(self) -> bool:
        return True

    def _encode(self) -> None:
        try:
            while True:
                batch = self._todo.get()
                if batch is _END:
                    self._writer.close()
                    self._out.put(self._sink.take())
                    self._out.put(_END)
                    return
                if batch is None:  # stopped by close()
                    return
                self._writer.write_batch(batch)
                self._out.put(self._sink.take())
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._out.put(exc)

    def _feed(self) -> None:
        """Pull the next batch on this thread and queue it for the encoder."""
        self._ctx.check()
        try:
            batch = next(self._batches)
        except StopIteration:
            self._source_done = True
            self._todo.put(_END)
            return
        if batch.schema != self._schema:
            try:
                batch = batch.cast(self._schema)
            except (pa.ArrowInvalid, ValueError, pa.ArrowNotImplementedError) as exc:
                raise InvalidInput(f"A later part of the data does not match the first part's columns: {exc}") from None
        if batch.num_rows:
            self._todo.put(batch)
            self.rows += batch.num_rows
            if self._total:
                self._ctx.report(self.rows / self._total, "Writing the encrypted snapshot")

    def _collect(self) -> None:
        """Wait for the encoder's next bytes (checking for cancel meanwhile)."""
        while True:
            self._ctx.check()
            try:
                item = self._out.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _END:
                self._done = True
            elif isinstance(item, BaseException):
                raise item
            else:
                self._pending += item
            return

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        pending = self._pending
        if len(pending) - self._offset < want and self._offset:
            del pending[: self._offset]  # moves less than one read's worth
            self._offset = 0
        while len(pending) - self._offset < want and not self._done:
            if not self._source_done and not self._todo.full():
                self._feed()
            else:
                self._collect()
        n = min(want, len(pending) - self._offset)
        buffer[:n] = pending[self._offset : self._offset + n]
        self._offset += n
        return n

    def close(self) -> None:
        if self._encoder.is_alive():
            while True:  # make room, then tell the encoder to stop after its current batch
                try:
                    self._todo.get_nowait()
                except queue.Empty:
                    break
            self._todo.put(None)
            self._encoder.join()
        if not self._done:
            try:
                self._writer.close()
            except Exception:  # closing after an error must not hide that error
                pass
            self._done = True
        super().close()


def read_snapshot(data: bytes | bytearray, columns: list[str] | None = None) -> pa.Table:
    """A snapshot's table (or some of its columns) from its Parquet bytes."""
    import pyarrow.parquet as pq

    # Arrow reads a buffer without copying and from several threads; a BytesIO goes through Python.
    return pq.ParquetFile(pa.BufferReader(data)).read(columns=columns)


class SnapshotColumns:
    """A snapshot's columns, each decoded from the Parquet bytes when asked for.

    Quacks like the parts of :class:`pyarrow.Table` that column-by-column work uses
    (``schema``, ``column_names``, ``num_rows``, ``column(name)``), so a comparison holds the compressed
    bytes and only the columns it is working on, not the whole decoded table. Safe to use
    from several threads: each call opens its own reader over the shared bytes.
    """

    def __init__(self, data: bytes | bytearray, *, text_as_codes: bool = False) -> None:
        import pyarrow.parquet as pq

        self._buffer = pa.py_buffer(data)
        self._text_as_codes = text_as_codes
        pf = pq.ParquetFile(pa.BufferReader(self._buffer))
        self.schema: pa.Schema = pf.schema_arrow
        self.column_names: list[str] = list(self.schema.names)
        self.num_rows: int = pf.metadata.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        """The column; with ``text_as_codes``, a text column as a dictionary array (Parquet
        stores text dictionary-encoded: the codes come straight from the file, no string is
        built; for counting, as drift does)."""
        import pyarrow.parquet as pq

        field = self.schema.field(name)
        codes = self._text_as_codes and (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
        pf = pq.ParquetFile(pa.BufferReader(self._buffer), read_dictionary=[name] if codes else None)
        return pf.read(columns=[name], use_threads=False).column(0)
