"""Readers that turn a source file into a stream of Arrow record batches, checked first.

CSV/TSV (here) and Excel (:mod:`core.data.excel`) are read as text and checked before anything is stored. A UTF-8 CSV is
checked and typed in one Arrow pass (:func:`scan_csv`); whenever that pass cannot vouch for
the file, a validation scan with Python's ``csv`` module, which knows line numbers, names the
line of the problem. Then Arrow batches that :mod:`core.data.snapshot` types and writes:
kept from the checking pass when they fit in :data:`SPOOL_BYTES`, else read again. Parquet
files are already typed and are streamed row group by row group (:mod:`core.data.parquet_source`).
Nothing here writes to disk.

Every problem with the input is an :class:`~core.errors.InvalidInput` naming the file and,
where known, the line and column; any other exception from a reader is a bug.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.data.models import CsvOptions, SourceKind
from core.errors import InvalidInput
from core.tasks import TaskContext, ensure_context

#: A single field longer than this is refused: most likely an unclosed quote or a binary file.
MAX_FIELD_CHARS = 1_000_000
#: A table with more columns than this is refused before it is read (a profile and its
#: correlations grow with the columns; a 100,000-column file is a matrix, not a table).
MAX_COLUMNS = 2_000
#: The name given to an unnamed first column (R's ``write.csv`` and pandas' ``to_csv`` write
#: their row names or index there).
ROWNAMES = "rownames"
#: Arrow's block size: one row must fit in one block.
BLOCK_SIZE = 16 * 1024 * 1024
#: Parsed text kept from the checking pass so a file this size is parsed once, not twice.
SPOOL_BYTES = 512 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
#: Parses tried before the line-by-line scan decides (line breaks in values, columns that
#: were presumed to be numbers).
_MAX_ATTEMPTS = 5
#: Text values read as missing (Arrow's defaults, as pandas does).
NULL_TOKENS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
               "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"]

BatchFactory = Callable[[], Iterator[pa.RecordBatch]]


class TextBatches(Protocol):
    """Streams a text-like source from its start; a CSV converts columns to ``types`` while parsing."""

    def __call__(self, types: dict[str, pa.DataType] | None = None, /) -> Iterator[pa.RecordBatch]: ...


@dataclass(frozen=True, slots=True)
class TextSource:
    """A checked text-like source: its header, size, hash and a way to stream it (again)."""

    kind: SourceKind
    path: Path
    names: list[str]
    rows: int
    sha256: str
    batches: TextBatches
    notes: tuple[str, ...] = ()
    #: Column types and warnings, when the checking pass already inferred them.
    inferred: tuple[dict[str, pa.DataType], list[str]] | None = None


def check_names(names: list[str], where: str) -> None:
    """Refuse too many columns (:data:`MAX_COLUMNS`), empty or duplicate names, naming their positions."""
    check_width(len(names), where)
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if not str(name).strip():
            raise InvalidInput(f"{where}: column {i} has an empty name; give every column a header.")
        if name in seen:
            raise InvalidInput(f"{where}: columns {seen[name]} and {i} are both named {name!r}; names must be unique.")
        seen[name] = i


def check_width(count: int, where: str) -> None:
    """Refuse a table of more than :data:`MAX_COLUMNS` columns, before any of it is read."""
    if count > MAX_COLUMNS:
        raise InvalidInput(
            f"{where}: {count:,} columns, more than the {MAX_COLUMNS:,} an import takes; "
            "keep the columns you need (or split the table) and import that."
        )


def header_names(header: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """The column names a header gives, and a note when one was made up.

    An empty first name with named columns after it is the row-name column that R's
    ``write.csv`` (and pandas' ``to_csv`` with its index) writes: it is named
    :data:`ROWNAMES` (``rownames_2``… if that is taken). Any other empty name is refused
    by :func:`check_names`.
    """
    if len(header) < 2 or str(header[0]).strip() or not any(str(n).strip() for n in header[1:]):
        return list(header), ()
    name, n = ROWNAMES, 1
    while name in header:
        n += 1
        name = f"{ROWNAMES}_{n}"
    note = (f"Column 1 has no name in the header (row names, as R's write.csv writes them); "
            f"it is named {name!r}.")
    return [name, *header[1:]], (note,)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_file(path: Path) -> io.BufferedReader:
    """``path`` opened for reading, or an :class:`InvalidInput` saying why it cannot be."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a folder, not a file.") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror}).") from None


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dialect:
    delimiter: str
    encoding: str
    has_header: bool
    quote_char: str
    #: The decimal mark of numbers: ``.`` or ``,`` (European files, with ``;`` between fields).
    decimal: str = "."
    #: What the sniffer decided that the user should know (an encoding read from a byte-order mark).
    notes: tuple[str, ...] = ()


#: Byte-order marks and the encodings they announce (UTF-32's before UTF-16's: FF FE 00 00 starts both).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: Encodings in which a zero byte is part of ordinary characters.
_WIDE = ("utf-16", "utf-32")
_COMMA_NUMBER = re.compile(r"^[+-]?\d+,\d+([eE][+-]?\d+)?$")
_POINT_NUMBER = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")


def _bom_encoding(raw: bytes) -> str | None:
    return next((name for bom, name in _BOMS if raw.startswith(bom)), None)


def nul_position(path: Path, offset: int, encoding: str) -> str:
    """"line L, column C" of the byte at ``offset`` (lines counted from 1, characters from 1)."""
    with open_file(path) as fh:
        head = fh.read(offset)
    line = head.count(b"\n") + 1
    start = head.rfind(b"\n") + 1
    column = len(head[start:].decode(encoding, errors="replace")) + 1
    return f"line {line}, column {column}"


def _refuse_nul(path: Path, offset: int, encoding: str) -> InvalidInput:
    return InvalidInput(
        f"{path}, {nul_position(path, offset, encoding)}: a NUL byte: this looks like a binary file, not delimited "
        "text (or text in another encoding: give it, e.g. --encoding utf-16)."
    )


def _python_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InvalidInput(f"Unknown text encoding {encoding!r}.") from None
    return "utf-8-sig" if name == "utf-8" else name


def sniff(path: Path, options: CsvOptions) -> Dialect:
    """The delimiter, header and decimal mark of ``path``, each overridable by ``options``.

    A UTF-16 or UTF-32 byte-order mark decides the encoding when none other than the
    default UTF-8 was given (such a file is never valid UTF-8); ``notes`` says so.
    """
    encoding = _python_encoding(options.encoding)
    with open_file(path) as fh:
        raw = fh.read(SNIFF_BYTES)
    notes: tuple[str, ...] = ()
    bom = _bom_encoding(raw)
    if bom is not None and not encoding.startswith(bom):
        if encoding != "utf-8-sig":
            raise InvalidInput(f"{path}: starts with a {bom.upper()} byte-order mark but {options.encoding} was "
                               f"given; import it with --encoding {bom}.")
        encoding = bom
        notes = (f"Read as {bom.upper()} (the file starts with its byte-order mark).",)
    if not raw.strip() or (bom and not raw.decode(encoding, errors="replace").strip("\ufeff \t\r\n")):
        raise InvalidInput(f"{path}: the file is empty.")
    if not encoding.startswith(_WIDE) and (at := raw.find(b"\x00")) >= 0:
        raise _refuse_nul(path, at, encoding)
    sample = raw.decode(encoding, errors="replace").removeprefix("\ufeff")
    if len(raw) == SNIFF_BYTES:  # drop a partial last line
        sample = sample[: sample.rfind("\n") + 1] or sample
    delimiter = options.delimiter
    if delimiter is None:
        if path.suffix.lower() in (".tsv", ".tab"):
            delimiter = "\t"
        else:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = _likely_delimiter(sample)
    if len(delimiter) != 1 or delimiter in ("\n", "\r", options.quote_char):
        raise InvalidInput(f"The delimiter must be one character other than a newline or quote, not {delimiter!r}.")
    has_header = options.has_header
    if has_header is None:
        has_header = _looks_like_header(sample, delimiter, options.quote_char)
    decimal = options.decimal
    if decimal is None:
        decimal = _likely_decimal(sample, delimiter, options.quote_char)
    if decimal not in (".", ","):
        raise InvalidInput(f"The decimal mark is '.' or ',', not {decimal!r}.")
    if decimal == delimiter:
        raise InvalidInput(f"The decimal mark {decimal!r} cannot also be the delimiter; give another --delimiter.")
    return Dialect(delimiter, encoding, has_header, options.quote_char, decimal, notes)


def _likely_decimal(sample: str, delimiter: str, quote_char: str) -> str:
    """``,`` when fields are separated by something else and more numbers in the sample are
    written ``1,5`` than ``1.5`` (a European file: ``;`` between fields); else ``.``."""
    if delimiter == ",":
        return "."
    comma = point = 0
    try:
        for i, record in enumerate(csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar=quote_char)):
            for value in record:
                value = value.strip()
                comma += bool(_COMMA_NUMBER.match(value))
                point += bool(_POINT_NUMBER.match(value))
            if i >= 200:
                break
    except csv.Error:
        pass
    return "," if comma > point else "."


def _likely_delimiter(sample: str) -> str:
    """When ``csv.Sniffer`` cannot decide (a ragged row in the sample, say): the candidate
    that appears in the first line and the same number of times in most other lines; a comma
    when none does. The import then checks every row against the header, so a wrong guess
    is refused with the line that does not fit, not imported silently."""
    lines = [ln for ln in sample.splitlines() if ln.strip()][:50]
    best, best_score = ",", 0
    for candidate in ",;\t|":
        first = lines[0].count(candidate) if lines else 0
        if first == 0:
            continue
        score = sum(1 for ln in lines if ln.count(candidate) == first)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _looks_like_header(sample: str, delimiter: str, quote_char: str) -> bool:
    """A first row of distinct, non-empty, non-numeric names is a header; else ask the sniffer."""
    try:
        first = next(csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar=quote_char))
    except (csv.Error, StopIteration):
        return True
    def numeric(v: str) -> bool:
        try:
            float(v)
        except ValueError:
            return False
        return True
    if any(v.strip() for v in first) and not any(numeric(v) for v in first if v.strip()):
        return True
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return True


@contextlib.contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _undecodable_at(path: Path, encoding: str) -> str:
    """Where the first undecodable byte is ("line N, byte M"); only run once decoding failed."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as exc:
                return f"line {number}, byte {exc.start + 1}"
    return "at the end"


class _HashingReader(io.RawIOBase):
    """Passes bytes through and hashes them; reports how far it has read."""

    def __init__(self, fh: BinaryIO, on_nul: Callable[[int], Exception] | None = None) -> None:
        self._fh = fh
        self._on_nul = on_nul
        self.digest = hashlib.sha256()
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._fh.read(len(buffer))
        if self._on_nul is not None and (at := data.find(b"\x00")) >= 0:
            raise self._on_nul(self.position + at)  # wherever it is (Python's csv reader takes NUL since 3.11)
        self.digest.update(data)
        self.position += len(data)
        buffer[: len(data)] = data
        return len(data)


class _Unsure(Exception):
    """The fast check cannot vouch for the file; the line-by-line scan decides."""


@dataclass(frozen=True, slots=True)
class _RawFacts:
    sha256: str
    #: Whether some quoted value holds a line break (then rows cannot be split at line breaks).
    multiline: bool


class _Multiline(Exception):
    """A quoted value holds a line break: parse again, with line breaks allowed in values."""

    def __init__(self, facts: _RawFacts) -> None:
        super().__init__()
        self.facts = facts  # the raw check is done: the next parse need not repeat it


#: Bytes carried from one block to the next (the byte before a block's first quote).
_CARRY = 1


def _raw_check(path: Path, delimiter: str, quote: str, ctx: TaskContext, *, quoted: bool = True,
               encoding: str = "utf-8", stop: threading.Event | None = None) -> _RawFacts:
    """The file's SHA-256, read in blocks, and whether a quoted value spans lines.

    Raises :class:`_Unsure` where Python's strict reader may object. Counted from the start,
    quotes must pair up: one with an even number of quotes before it opens a value and must
    follow a delimiter, a line break, the start or a quote (the second of a doubled quote
    inside a value); one with an odd number closes a value and must precede a delimiter, a
    line break, the end or a quote. Any other quote may be a stray one (``1"`` is a value
    to Python, not an opening quote), and an odd number of quotes leaves one open. Each
    sends the file to the line-by-line scan, which names the line (slower, never wrong). A
    file without any quote (``quoted=False``) skips the quote checks.

    Once the quotes are known to pair up, a line break lies inside a quoted value exactly
    when an odd number of quotes precede it (a doubled quote adds two). A NUL byte anywhere
    is refused (:class:`InvalidInput` with its line and column).
    """
    import numpy as np

    q, d = ord(quote), ord(delimiter)
    edge = np.zeros(256, dtype=bool)
    edge[[d, 10, 13]] = True
    edge_or_quote = edge.copy()
    edge_or_quote[q] = True
    digest = hashlib.sha256()
    quotes, pending, multiline = 0, False, False
    # Reused buffers: a fresh 16 MiB array per block costs the kernel zeroing its pages.
    # The first _CARRY bytes hold the end of the previous block (a line break at the start).
    buffer = bytearray(b"\n" * _CARRY) + bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    hits = np.empty(BLOCK_SIZE, dtype=bool)
    done = 0
    with open_file(path) as fh:
        while size := fh.readinto(view[_CARRY:]):
            ctx.check()
            if stop is not None and stop.is_set():
                raise _Unsure  # the caller gave up on the fast path
            digest.update(view[_CARRY : _CARRY + size])
            ext = np.frombuffer(buffer, dtype=np.uint8, count=_CARRY + size)
            data = ext[_CARRY:]
            if pending and not edge_or_quote[data[0]]:
                raise _Unsure
            if (nul := buffer.find(b"\x00", _CARRY, _CARRY + size)) >= 0:
                raise _refuse_nul(path, done + nul - _CARRY, encoding)
            done += size
            if quoted:
                where = np.flatnonzero(np.equal(data, q, out=hits[:size]))
                before_block = quotes
                quotes += int(where.size)
                pending = False
                if where.size:
                    # With an even number of quotes before it a quote opens a value, else it closes one.
                    first_opener = before_block % 2
                    openers, closers = where[first_opener::2], where[1 - first_opener::2]
                    if not np.all(edge_or_quote[ext[openers + _CARRY - 1]]):  # ext: the carried byte first
                        raise _Unsure
                    if closers.size:
                        pending = bool(closers[-1] == size - 1)  # what follows is the next block's first byte
                        inner = closers[:-1] if pending else closers
                        if not np.all(edge_or_quote[data[inner + 1]]):
                            raise _Unsure
                if not multiline and (where.size or before_block % 2):
                    for code in (10, 13):
                        if code == 10 or buffer.find(b"\r", _CARRY, _CARRY + size) >= 0:
                            breaks = np.flatnonzero(np.equal(data, code, out=hits[:size]))
                            multiline = multiline or bool(np.any((before_block + np.searchsorted(where, breaks)) % 2))
            buffer[:_CARRY] = buffer[size : size + _CARRY]
    if quotes % 2:
        raise _Unsure
    return _RawFacts(digest.hexdigest(), multiline)


def _header(path: Path, dialect: Dialect) -> tuple[list[str], list[str], tuple[str, ...]]:
    """The first record as Arrow reads it, the column names the full scan gives, and notes."""
    with open_file(path) as fh, _field_limit(MAX_FIELD_CHARS):
        text = io.TextIOWrapper(fh, encoding=dialect.encoding, errors="strict", newline="")
        try:
            first = next(csv.reader(text, delimiter=dialect.delimiter, quotechar=dialect.quote_char, strict=True))
        except (StopIteration, csv.Error, UnicodeDecodeError):
            raise _Unsure from None
    if not first:
        raise _Unsure  # a blank first line: the full scan knows how to count those
    check_width(len(first), str(path))
    if dialect.has_header:
        names, notes = header_names(first)
        check_names(names, str(path))
        return first, names, notes
    generated = [f"column_{i}" for i in range(1, len(first) + 1)]
    return generated, generated, ()


def _contains(path: Path, char: str) -> bool:
    """Whether the file holds ``char`` anywhere (a byte search that stops at the first one)."""
    needle = char.encode()
    with open_file(path) as fh:
        return any(block.find(needle) >= 0 for block in iter(lambda: fh.read(BLOCK_SIZE), b""))


def _arrow_options(names: list[str], dialect: Dialect, skip_header: bool,
                   types: dict[str, pa.DataType] | None = None, *, multiline: bool = True) -> tuple[Any, Any, Any]:
    # With a header, Arrow reads the names itself (``skip_rows`` would count raw lines, not
    # records, and misread a header with a quoted line break); callers compare them to ours.
    read = pacsv.ReadOptions(
        column_names=None if skip_header else names, block_size=BLOCK_SIZE,
        encoding="utf8" if dialect.encoding == "utf-8-sig" else dialect.encoding,
    )
    parse = pacsv.ParseOptions(
        delimiter=dialect.delimiter, quote_char=dialect.quote_char, double_quote=True,
        # Only a quoted value can hold a line break; without one every line break ends a
        # row, and Arrow can then split the file into blocks in parallel (much faster).
        newlines_in_values=multiline, ignore_empty_lines=True,
    )
    # Integers and floats are converted while parsing when their type is already known (the
    # same parser as ``pc.cast``, which accepted every value); the rest stay text for cast_batches.
    types = types or {}
    column_types = {n: (t if (t := types.get(n)) is not None and (pa.types.is_integer(t) or pa.types.is_floating(t))
                        else pa.string())
                    for n in names}
    convert = pacsv.ConvertOptions(
        column_types=column_types, strings_can_be_null=True, null_values=NULL_TOKENS, quoted_strings_can_be_null=True,
        decimal_point=dialect.decimal,
    )
    return read, parse, convert


class _Retype(Exception):
    """A column read straight as numbers held a value that is not one: read it as text."""

    def __init__(self, column: str, facts: _RawFacts) -> None:
        super().__init__(column)
        self.column = column
        self.facts = facts


_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): .*CSV conversion error")


def _sample_decimals(path: Path, dialect: Dialect, names: list[str], header: list[str], *, multiline: bool) -> set[str]:
    """The columns whose first block of rows are decimal numbers: parsed straight to float64.

    Arrow converts those while it parses (in parallel, without building text first), which
    is most of the work for a table of measurements. The first block decides exactly as
    :class:`~core.data.snapshot.TypeInference` would decide it from its first batch; a later
    value that is not a number sends the column back to text (:class:`_Retype`).
    """
    from core.data.snapshot import TypeInference

    with open_file(path) as fh:
        head = fh.read(BLOCK_SIZE)
    if len(head) == BLOCK_SIZE:
        head = head[: head.rfind(b"\n") + 1]  # whole lines only (a quoted line break: no sample)
    read, parse, convert = _arrow_options(names, dialect, skip_header=dialect.has_header, multiline=multiline)
    try:
        table = pacsv.read_csv(pa.BufferReader(head), read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return set()  # the full scan finds and reports the problem
    if table.schema.names != header or table.num_rows == 0:
        return set()
    inference = TypeInference(names, threads=1, decimal=dialect.decimal)
    inference.add(table.combine_chunks().to_batches()[0])
    types, _ = inference.result()
    return {n for n, t in types.items() if pa.types.is_floating(t)}


def _start_raw_check(pool: ThreadPoolExecutor, path: Path, dialect: Dialect, ctx: TaskContext,
                     stop: threading.Event | None = None) -> Future[_RawFacts]:
    """:func:`_raw_check` of ``path`` started on ``pool`` (it then reads the file beside the parser);
    setting ``stop`` ends it early (its result is then not wanted)."""
    quoted = _contains(path, dialect.quote_char)
    return pool.submit(_raw_check, path, dialect.delimiter, dialect.quote_char, ctx, quoted=quoted,
                       encoding=dialect.encoding, stop=stop)


def _done(facts: _RawFacts) -> Future[_RawFacts]:
    done: Future[_RawFacts] = Future()
    done.set_result(facts)
    return done


def _fast_scan(
    path: Path, dialect: Dialect, names: list[str], ctx: TaskContext, *, multiline: bool = False,
    decimals: frozenset[str] = frozenset(), known: Future[_RawFacts] | None = None, header: list[str] | None = None,
) -> tuple[int, str, Any, list[list[pa.Array]] | None]:
    """One Arrow pass that checks, counts, hashes and types the file; :class:`_Unsure` if it cannot vouch.

    The raw-byte check runs on a second thread beside Arrow's parser. Parsed batches are
    kept (up to :data:`SPOOL_BYTES`) so that a file that fits is not parsed a second time.
    A file whose text surely fits is parsed whole by Arrow's multi-threaded reader (cancel is
    checked before and after it); a bigger one is streamed block by block.

    The parse first assumes that no quoted value holds a line break, which lets Arrow split
    the file at line breaks and parse the parts in parallel; when the raw check finds one,
    :class:`_Multiline` asks for the parse again with ``multiline=True``. Columns in
    ``decimals`` are parsed straight to float64; one that holds something else raises
    :class:`_Retype`. Both exceptions carry the raw check's findings, which a second parse
    passes back as ``known`` instead of reading and hashing the file again; ``known`` may
    also be the raw check already running (:func:`scan_csv` starts it before sampling).
    """
    from core.data.snapshot import TypeInference

    rows_hint = max(1, path.stat().st_size // max(64, 8 * len(names)))  # for progress only
    inference = TypeInference(names, decimal=dialect.decimal)
    header = names if header is None else header
    rows = 0
    # Parsed batches, each column as the inference converted it (text where it did not).
    spool: list[list[pa.Array]] | None = []
    spooled = 0
    read, parse, convert = _arrow_options(names, dialect, skip_header=dialect.has_header, multiline=multiline,
                                          types={n: pa.float64() for n in decimals})
    # Arrow's text columns take about the file's size plus offsets and validity.
    whole = path.stat().st_size * 3 // 2 <= SPOOL_BYTES
    with contextlib.closing(inference), ThreadPoolExecutor(1, thread_name_prefix="airlock-csv-check") as pool:
        raw = _start_raw_check(pool, path, dialect, ctx) if known is None else known
        try:
            try:
                reader: Any
                if whole:
                    ctx.report(0.1, "Reading the file")
                    table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
                    ctx.check()
                    reader, names_read = table.to_batches(), table.schema.names
                else:
                    reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
                    names_read = reader.schema.names
                if names_read != header:
                    raise pa.ArrowInvalid("the header reads differently")  # decided below
                for batch in reader:
                    ctx.check()
                    if raw.done() and raw.result().multiline and not multiline:
                        raise _Multiline(raw.result())  # (result() raises _Unsure or Cancelled at once)
                    for column in batch.columns:
                        if len(column) and pa.types.is_string(column.type) \
                                and (pc.max(pc.binary_length(column)).as_py() or 0) > MAX_FIELD_CHARS:
                            raise _Unsure
                    converted = inference.add(batch)
                    rows += batch.num_rows
                    if spool is not None:
                        kept = [a if a is not None else t for t, a in zip(batch.columns, converted, strict=True)]
                        spooled += sum(a.nbytes for a in kept)
                        spool = spool if spooled <= SPOOL_BYTES else None
                        if spool is not None:
                            spool.append(kept)
                    ctx.report(0.1 + 0.9 * rows / max(rows_hint, 1), "Checking and typing the file")
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                # A line break inside quotes misleads the quick parse; a column presumed to
                # be numbers may hold text; anything else goes to the line-by-line scan,
                # which names the line.
                facts = raw.result()
                if not multiline and facts.multiline:
                    raise _Multiline(facts) from None
                failed = _CONVERSION_ERROR.match(str(exc))
                if failed and int(failed.group(1)) < len(names) and names[int(failed.group(1))] in decimals:
                    raise _Retype(names[int(failed.group(1))], facts) from None
                raise _Unsure from None
            facts = raw.result()
            if facts.multiline and not multiline:
                raise _Multiline(facts)
            sha = facts.sha256
        except BaseException:
            raw.cancel()
            raise
    if rows == 0:
        raise _Unsure
    inferred = inference.result()
    if spool is not None and not all(
        _reusable(a.type, inferred[0][n]) for kept in spool for n, a in zip(names, kept, strict=True)
    ):
        spool = None  # a column changed type part-way (then it is text): its earlier text is gone
    return rows, sha, inferred, spool


def _reusable(have: pa.DataType, final: pa.DataType) -> bool:
    """Whether a spooled column (text, or converted to ``have``) still yields its final type exactly."""
    if have == final or pa.types.is_string(have):
        return True
    # A column of integers that later held a decimal: the integer converts to the same float
    # its text does (both round to the nearest double).
    return bool(pa.types.is_integer(have) and pa.types.is_floating(final))


def scan_csv(path: Path, dialect: Dialect, ctx: TaskContext | None = None) -> TextSource:
    """Check the whole file's structure and text; return its header, row count and hash.

    One Arrow pass checks the file and infers its column types at the same time
    (``TextSource.inferred``). When that pass cannot vouch for the file (an Arrow parse
    error, a possibly stray quote, NUL bytes, a very long field, a blank first line, an
    encoding other than UTF-8), Python's strict ``csv`` reader scans it line by line and
    names the line of the problem; the types are then inferred by a separate pass.
    """
    ctx = ensure_context(ctx)
    multiline = False
    try:
        if dialect.encoding not in ("utf-8-sig", "utf-8"):
            raise _Unsure
        # The raw check (hash, quotes) reads the file on its own thread from the start, beside
        # the header, the sample and the parse.
        stop = threading.Event()
        with ThreadPoolExecutor(1, thread_name_prefix="airlock-csv-check") as pool:
            known: Future[_RawFacts] = _start_raw_check(pool, path, dialect, ctx, stop)
            try:
                header, names, notes = _header(path, dialect)
                decimals = _sample_decimals(path, dialect, names, header, multiline=multiline)
                for attempt in range(_MAX_ATTEMPTS):
                    try:
                        rows, sha, inferred, spool = _fast_scan(
                            path, dialect, names, ctx, multiline=multiline, decimals=frozenset(decimals), known=known,
                            header=header)
                        break
                    except _Multiline as again:
                        multiline, known = True, _done(again.facts)
                    except _Retype as retype:
                        # Not a column of numbers after all (or, after a few, no presumptions at all).
                        decimals = decimals - {retype.column} if attempt < _MAX_ATTEMPTS - 3 else set()
                        known = _done(retype.facts)
                else:
                    raise _Unsure
            except BaseException:
                stop.set()
                raise
    except _Unsure:
        return _scan_csv_lines(path, dialect, ctx)
    ctx.report(1.0, "Checked")
    notes = dialect.notes + notes
    if spool is None:
        return TextSource(SourceKind.CSV, path, names, rows, sha,
                          _csv_batches(path, dialect, names, multiline=multiline, header=header),
                          notes=notes, inferred=inferred)
    kept = spool

    def spooled(types: dict[str, pa.DataType] | None = None) -> Iterator[pa.RecordBatch]:
        # Converted columns are reused (integers widened to floats where needed); text
        # columns stay text for cast_batches.
        types = types or inferred[0]
        for arrays in kept:
            arrays = [a if a.type == types[n] or pa.types.is_string(a.type) else pc.cast(a, types[n], safe=False)
                      for n, a in zip(names, arrays, strict=True)]
            yield pa.RecordBatch.from_arrays(arrays, names=names)

    return TextSource(SourceKind.CSV, path, names, rows, sha, spooled, notes=notes, inferred=inferred)


def _csv_batches(
    path: Path, dialect: Dialect, names: list[str], *, multiline: bool = True, header: list[str] | None = None,
) -> Callable[..., Iterator[pa.RecordBatch]]:
    """Arrow batches of the file; ``header`` is its first record as Arrow reads it, when that
    differs from ``names`` (an unnamed first column)."""
    expected = names if header is None else header

    def batches(types: dict[str, pa.DataType] | None = None) -> Iterator[pa.RecordBatch]:
        read, parse, convert = _arrow_options(names, dialect, dialect.has_header, types, multiline=multiline)
        try:
            reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
            if reader.schema.names != expected:
                raise InvalidInput(f"{path}: the header row cannot be read unambiguously (check quotes and line breaks in it).")
            for batch in reader:
                yield batch if expected == names else batch.rename_columns(names)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            message = str(exc)
            if "straddl" in message:
                message = f"a row is longer than {BLOCK_SIZE // (1024 * 1024)} MiB"
            raise InvalidInput(f"{path}: cannot be read as {dialect.delimiter!r}-delimited text: {message}.") from None

    return batches


def _scan_csv_lines(path: Path, dialect: Dialect, ctx: TaskContext) -> TextSource:
    """The line-by-line check with Python's strict csv reader, which names the line of a problem."""
    size = max(path.stat().st_size, 1)
    line = 0
    wide = dialect.encoding.startswith(_WIDE)
    header: list[str] | None = None
    notes: tuple[str, ...] = ()
    with open_file(path) as fh, _field_limit(MAX_FIELD_CHARS):
        hashing = _HashingReader(fh, None if wide else lambda at: _refuse_nul(path, at, dialect.encoding))
        text = io.TextIOWrapper(io.BufferedReader(hashing), encoding=dialect.encoding, errors="strict", newline="")
        reader = csv.reader(text, delimiter=dialect.delimiter, quotechar=dialect.quote_char, strict=True)
        names: list[str] | None = None
        rows = 0
        try:
            for record in reader:
                line = reader.line_num
                if not record:
                    continue
                if wide and any("\x00" in value for value in record):
                    column = next(i for i, value in enumerate(record, start=1) if "\x00" in value)
                    raise InvalidInput(f"{path}, line {line}, field {column}: a NUL character: this looks like a "
                                       "binary file, not delimited text.")
                if names is None:
                    check_width(len(record), str(path))
                    if dialect.has_header:
                        header = record
                        names, notes = header_names(record)
                        check_names(names, str(path))
                        continue
                    names = [f"column_{i}" for i in range(1, len(record) + 1)]
                if len(record) != len(names):
                    raise InvalidInput(
                        f"{path}, line {line}: expected {len(names)} fields, found {len(record)} "
                        f"(check the delimiter {dialect.delimiter!r} and quoting)."
                    )
                rows += 1
                if rows % 50_000 == 0:
                    ctx.check()
                    ctx.report(hashing.position / size, "Checking the file")
        except UnicodeDecodeError as exc:
            where = _undecodable_at(path, dialect.encoding)
            raise InvalidInput(
                f"{path}, {where}: bytes that are not valid {dialect.encoding.removesuffix('-sig')} ({exc.reason}); "
                f"give the right encoding, or this is not a text file."
            ) from None
        except csv.Error as exc:
            message = str(exc)
            if "field larger than field limit" in message:
                message = f"a field is longer than {MAX_FIELD_CHARS:,} characters (an unclosed quote?)"
            elif "NUL" in message:
                message = "contains NUL characters: a binary file, or the wrong encoding"
            raise InvalidInput(f"{path}, line {reader.line_num}: {message}.") from None
    if names is None:
        raise InvalidInput(f"{path}: the file is empty.")
    if rows == 0:
        raise InvalidInput(f"{path}: has a header but no data rows.")
    ctx.report(1.0, "Checked")
    return TextSource(SourceKind.CSV, path, names, rows, hashing.digest.hexdigest(),
                      _csv_batches(path, dialect, names, header=header), notes=dialect.notes + notes)
