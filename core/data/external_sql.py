"""Read the result of a SQL query against an external database as Arrow record batches.

A source of the discovery area: it belongs here, not in the workspace store, although it
speaks SQLAlchemy (the one module outside ``core.store`` allowed to, named in the import
contract "only core.store speaks SQL to the workspace"); it never sees the workspace's own
database. It only reads: the query runs in a transaction that is rolled back.
Passwords are taken separately from the URL and are never part of what callers store or
of any message raised here.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Generator, Iterator
from typing import Any

import pyarrow as pa
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from core.errors import InvalidInput


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise InvalidInput(f"Not a database URL: {redact(url)!r} ({type(exc).__name__}).") from None


def redact(url: str) -> str:
    """The URL without its password (what may be stored and shown)."""
    try:
        return make_url(url)._replace(password=None).render_as_string(hide_password=False)
    except Exception:
        return "<unparseable URL>"


def url_password(url: str) -> str | None:
    return parse_url(url).password


def _scrub(message: str, password: str | None) -> str:
    return message.replace(password, "***") if password else message


def _arrow_type(values: list[Any]) -> pa.DataType:
    sample = next((v for v in values if v is not None), None)
    if sample is None:
        return pa.string()
    if isinstance(sample, bool):
        return pa.bool_()
    if isinstance(sample, int):
        return pa.int64()
    if isinstance(sample, (float, decimal.Decimal)):
        return pa.float64()
    if isinstance(sample, dt.datetime):
        return pa.timestamp("us", tz="UTC") if sample.tzinfo else pa.timestamp("us")
    if isinstance(sample, dt.date):
        return pa.date32()
    return pa.string()


#: Rows held back while a column has shown no value yet, so that its type comes from its first
#: value, not from a batch of NULLs; past this, such a column is text (of missing values).
LOOKAHEAD_BYTES = 256 * 1024 * 1024


def _column(values: list[Any], typ: pa.DataType) -> pa.Array:
    if pa.types.is_floating(typ):
        values = [float(v) if v is not None else None for v in values]
    elif pa.types.is_string(typ):
        values = [v if v is None or isinstance(v, str) else str(v) for v in values]
    return pa.array(values, type=typ)


def query_batches(
    url: str, query: str, *, password: str | None = None, batch_rows: int = 50_000
) -> tuple[list[str], Generator[pa.RecordBatch, None, None]]:
    """Column names and an iterator of batches of ``query``'s result.

    Types are taken from the first batch that has a value in each column: batches are held
    back (up to :data:`LOOKAHEAD_BYTES`) while some column has held only NULLs, so an integer
    column whose first rows are NULL is still an integer column. DECIMAL becomes float64,
    anything exotic becomes text. A later value of another type is an error that names the
    column and row.
    """
    parsed = parse_url(url)
    if password is not None:
        parsed = parsed.set(password=password)
    secret = parsed.password
    try:
        engine = create_engine(parsed)
        conn = engine.connect()
    except Exception as exc:  # driver missing, bad host, bad credentials
        raise InvalidInput(f"Cannot connect to {redact(url)}: {_scrub(str(exc).splitlines()[0], secret)}") from None
    try:
        result = conn.execution_options(stream_results=True).execute(text(query))
        if not result.returns_rows:
            raise InvalidInput("The query returns no rows (is it a SELECT?).")
        names = [str(k) for k in result.keys()]
    except InvalidInput:
        conn.close()
        engine.dispose()
        raise
    except Exception as exc:
        conn.close()
        engine.dispose()
        raise InvalidInput(f"The query failed on {redact(url)}: {_scrub(str(getattr(exc, 'orig', exc)), secret)}") from None

    def batches() -> Generator[pa.RecordBatch, None, None]:
        # None: no value seen yet in that column (its arrays so far are all NULL).
        types: list[pa.DataType | None] = [None] * len(names)
        held: list[tuple[int, list[pa.Array | None]]] = []  # batches waiting for every column's type
        held_bytes = 0
        seen = 0

        def release() -> Iterator[pa.RecordBatch]:
            final = [t if t is not None else pa.string() for t in types]
            for count, columns in held:
                yield pa.RecordBatch.from_arrays(
                    [a if a is not None else pa.nulls(count, t) for a, t in zip(columns, final, strict=True)],
                    names=names)
            held.clear()

        try:
            while True:
                try:
                    rows = result.fetchmany(batch_rows)
                except Exception as exc:
                    raise InvalidInput(f"Reading the query result failed: {_scrub(str(exc), secret)}") from None
                if not rows:
                    break
                arrays: list[pa.Array | None] = []
                for i, name in enumerate(names):
                    values = [r[i] for r in rows]
                    if types[i] is None:
                        if all(v is None for v in values):
                            arrays.append(None)
                            continue
                        types[i] = _arrow_type(values)
                    try:
                        arrays.append(_column(values, types[i]))
                    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                        raise InvalidInput(
                            f"Column {name!r} changes type within rows {seen + 1}–{seen + len(rows)} of the "
                            f"result (expected {types[i]}); cast it in the query."
                        ) from None
                seen += len(rows)
                held.append((len(rows), arrays))
                held_bytes += sum(a.nbytes for a in arrays if a is not None)
                if all(t is not None for t in types) or held_bytes > LOOKAHEAD_BYTES:
                    yield from release()
                    types = [t if t is not None else pa.string() for t in types]
                    held_bytes = 0
            yield from release()
        finally:
            conn.rollback()
            conn.close()
            engine.dispose()

    return names, batches()
