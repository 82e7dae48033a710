"""Arrow arrays read straight from their buffers with numpy.

Small helpers for hot paths: each reads a fixed-width array's buffers without a copy per
value and without pyarrow's Python conversions (``to_numpy(zero_copy_only=False)`` and
``pc.index`` with a Python value import pandas on first use, half a second).
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
