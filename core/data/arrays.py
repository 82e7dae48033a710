"""Arrow arrays read straight from their buffers with numpy.

Small helpers for hot paths: each reads a fixed-width array's buffers without a copy per
value and without pyarrow's Python conversions (``to_numpy(zero_copy_only=False)`` and
``pc.index`` with a Python value import pandas on first use, half a second).

pyarrow imports pandas (0.15 s) the first time it converts anything from Python or numpy
(``pa.array``, ``pa.scalar``, a compute function given a Python number, ``to_numpy``):
:func:`from_numpy`, :func:`scalar` and :func:`floats` do those jobs from the buffers, so
the CLI's import and profile never load it. Nothing here imports pandas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


def _bitmap(buffer: Any, offset: int, length: int) -> np.ndarray:
    bits = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[offset : offset + length].astype(bool)


def valid(arr: pa.Array) -> np.ndarray:
    """Which values of ``arr`` are present."""
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    return _bitmap(arr.buffers()[0], arr.offset, len(arr))


def booleans(arr: pa.Array) -> np.ndarray:
    """The values of a boolean array (whatever is stored under missing values, usually False)."""
    return _bitmap(arr.buffers()[1], arr.offset, len(arr))


def plain(arr: pa.Array, dtype: Any) -> np.ndarray:
    """A copy of a fixed-width array's values (whatever is stored under missing values)."""
    return np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr)].copy()


def first_true(mask: pa.Array) -> int:
    """The position of the first true value of a boolean array without missing values; -1 if none."""
    hits = np.flatnonzero(booleans(mask))
    return int(hits[0]) if hits.size else -1


def strings(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's value offsets (int64, ``len + 1`` of them, this slice's own) and all its bytes.

    Value ``i`` is ``data[offsets[i]:offsets[i + 1]]``; a missing value's slot is usually
    empty but may hold bytes.
    """
    _, offsets_buffer, data_buffer = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, dtype=np.uint8)
    return offsets, data


def from_numpy(values: np.ndarray) -> pa.Array:
    """A 1-D numpy array of numbers or booleans as an Arrow array without missing values (no pandas)."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), values.size, [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), values.size, [None, pa.py_buffer(values)])


def scalar(value: bool | int | float) -> pa.Scalar:
    """An Arrow boolean, int64 or float64 scalar of a Python value (``pa.scalar`` imports pandas)."""
    dtype = np.bool_ if isinstance(value, bool) else np.int64 if isinstance(value, int) else np.float64
    return from_numpy(np.array([value], dtype=dtype))[0]


def _numbers(arr: pa.Array) -> np.ndarray:
    """A fixed-width numeric or temporal array's values (whatever is stored under missing
    values): a read-only view of its buffer where the type allows, else a new array."""
    t = arr.type
    if pa.types.is_boolean(t):
        return booleans(arr)
    if pa.types.is_decimal(t):
        arr, t = arr.cast(pa.float64()), pa.float64()
    kind = "float" if pa.types.is_floating(t) else "uint" if pa.types.is_unsigned_integer(t) else "int"
    # signed integers, and times and dates as their integers
    return np.frombuffer(arr.buffers()[1], dtype=np.dtype(f"{kind}{t.bit_width}"))[arr.offset : arr.offset + len(arr)]


def _gathered(arr: pa.Array | pa.ChunkedArray, dtype: Any, missing: float | None) -> np.ndarray:
    """Every chunk's values written once into one new array of ``dtype`` (no combined copy
    first); ``missing`` written where a value is missing (None: whatever is stored there)."""
    chunks = [arr] if isinstance(arr, pa.Array) else arr.chunks
    out = np.empty(len(arr), dtype=dtype)
    at = 0
    for chunk in chunks:
        n = len(chunk)
        if n == 0:
            continue
        part = out[at : at + n]
        part[:] = _numbers(chunk)
        if missing is not None and chunk.null_count:
            part[~valid(chunk)] = missing
        at += n
    return out


def floats(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric, boolean or temporal array's values as float64, NaN where missing
    (``to_numpy(zero_copy_only=False)`` without pandas; times and dates as their integers)."""
    return _gathered(arr, np.float64, np.nan)


def integers(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer array without missing values as int64 (``to_numpy()`` without pandas)."""
    return _gathered(arr, np.int64, None)


#: Microseconds in one step of each Arrow timestamp unit.
_MICROSECONDS = {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}


def microseconds(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Timestamps or dates as float64 microseconds since the epoch, NaN where missing.

    From the stored integers in the column's own unit (a date32 counts days, a date64
    milliseconds), so nanoseconds below a microsecond are no error (Arrow's cast to
    microseconds refuses to cut them); float64 keeps about a quarter microsecond today.
    """
    t = arr.type
    if pa.types.is_timestamp(t):
        scale = _MICROSECONDS[t.unit]
    elif pa.types.is_date32(t):
        scale = 86_400e6
    elif pa.types.is_date64(t):
        scale = 1e3
    else:
        raise TypeError(f"not a timestamp or date type: {t}")
    out = floats(arr)
    if scale != 1.0:
        out *= scale
    return out
