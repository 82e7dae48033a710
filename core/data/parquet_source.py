"""Parquet files as an import source: already typed, streamed row group by row group.

Columns of types the profile, schema and drift handle are kept as they are; the others are
converted where that loses nothing, or refused with the column named (:func:`open_parquet`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from core.data.importing import BatchFactory, check_names, open_file
from core.errors import InvalidInput

#: Rows per batch streamed from the file.
PARQUET_BATCH_ROWS = 65_536


def _kept_as_is(typ: pa.DataType) -> bool:
    """Whether a Parquet column of this type is stored as it is (profile, schema and drift handle it)."""
    t = pa.types
    return bool(
        t.is_boolean(typ) or t.is_signed_integer(typ) or typ in (pa.uint8(), pa.uint16(), pa.uint32())
        or t.is_float32(typ) or t.is_float64(typ) or t.is_string(typ) or t.is_large_string(typ)
        or t.is_date(typ) or t.is_timestamp(typ) or t.is_time(typ) or t.is_duration(typ) or t.is_decimal(typ)
        or (t.is_dictionary(typ) and (t.is_string(typ.value_type) or t.is_large_string(typ.value_type)))
    )


def _parquet_plan(pf: Any, path: Path) -> tuple[pa.Schema, list[str]]:
    """The schema a Parquet file is stored with, and warnings for the columns converted.

    Columns of types the profile does not handle are refused, all named at once: nested
    values (structs, maps, lists), binary, and the like; flatten or cast them first.
    Converted exactly, with a warning: unsigned 64-bit integers (to int64 when every value
    fits, else to text, the exact digits), half floats (to float32), a column of nothing but
    missing values (to text), dictionaries of numbers (to their values).
    """
    import pyarrow.compute as pc

    schema = pf.schema_arrow
    fields: list[pa.Field] = []
    warnings: list[str] = []
    refused: list[str] = []
    for i, field in enumerate(schema):
        typ = field.type
        if pa.types.is_dictionary(typ) and not _kept_as_is(typ) and _kept_as_is(typ.value_type):
            typ = typ.value_type
        if _kept_as_is(typ):
            fields.append(field.with_type(typ))
        elif pa.types.is_uint64(typ):
            top = pc.max(pf.read(columns=[field.name]).column(0)).as_py()
            if top is None or top <= 2**63 - 1:
                fields.append(field.with_type(pa.int64()))
            else:
                fields.append(field.with_type(pa.string()))
                warnings.append(f"Column {field.name!r} holds unsigned 64-bit integers beyond the signed 64-bit range "
                                f"(up to {top}); stored as text so that every value keeps its exact digits.")
        elif pa.types.is_float16(typ):
            fields.append(field.with_type(pa.float32()))
        elif pa.types.is_null(typ):
            fields.append(field.with_type(pa.string()))
            warnings.append(f"Column {field.name!r} is empty in every row; stored as text.")
        else:
            refused.append(f"{field.name!r} (column {i + 1}, {typ})")
    if refused:
        raise InvalidInput(
            f"{path}: {len(refused)} column{'s' if len(refused) > 1 else ''} of a type a profile cannot describe: "
            f"{', '.join(refused[:10])}{' …' if len(refused) > 10 else ''}. Nested values (structs, maps, lists) and "
            "binary data are not imported: flatten them or cast them to text, or leave them out, and import again."
        )
    return pa.schema(fields), warnings


def open_parquet(path: Path) -> tuple[pa.Schema, int, BatchFactory, list[str]]:
    """A Parquet file's schema as stored, row count, a batch stream and warnings; refuses what it cannot read.

    See :func:`_parquet_plan` for the column types that are converted or refused.
    """
    import pyarrow.parquet as pq

    with open_file(path):
        pass
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc}).") from None
    check_names(list(pf.schema_arrow.names), str(path))
    rows = pf.metadata.num_rows
    if rows == 0:
        raise InvalidInput(f"{path}: the Parquet file has no rows.")
    try:
        schema, warnings = _parquet_plan(pf, path)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{path}: damaged Parquet data ({exc}).") from None
    same = schema.equals(pf.schema_arrow)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
                yield batch if same else batch.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
            raise InvalidInput(f"{path}: damaged Parquet data ({exc}).") from None

    return schema, rows, batches, warnings
