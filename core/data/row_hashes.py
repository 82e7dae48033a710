"""64-bit hashes of values and rows, for the profile's duplicate-row count (numpy only).

Each value is hashed in numpy (SplitMix64's finaliser over the value's bits, -0.0 as 0.0 and
every NaN alike; text dictionary-encoded and each distinct string hashed once, byte by byte
with its position, vectorised); the profile combines the value hashes column by column into
row hashes and counts the rows that repeat an earlier one (exact up to hash collisions,
about 1e-8 at a million rows).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.data import arrays

NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over uint64 values (wrapping arithmetic), in place."""
    z += NULL_HASH
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def text_hashes(values: pa.Array) -> np.ndarray:
    """A 64-bit hash of each string of a string array without missing values (numpy, no loop per value).

    Each byte is mixed with its position in its string and the mixes are summed per
    string (``np.add.reduceat``), then mixed again with the length: equal strings get equal
    hashes in every part; different ones collide with probability about 2**-64.
    """
    offsets, data = arrays.strings(values)
    lengths = np.diff(offsets)
    sums = np.zeros(len(values), dtype=np.uint64)
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi > lo:
        data = data[lo:hi].astype(np.uint64)
        starts = offsets[:-1] - lo
        position = np.arange(hi - lo, dtype=np.int64) - np.repeat(starts, lengths)
        mixed = mix(data | (position.astype(np.uint64) << np.uint64(8)))
        present = lengths > 0
        sums[present] = np.add.reduceat(mixed, starts[present])
    return mix(sums ^ (lengths.astype(np.uint64) << np.uint64(40)))


def text_value_hashes(encoded: pa.DictionaryArray, codes: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Value hashes of a dictionary-encoded text array: each distinct string hashed once."""
    table = np.append(text_hashes(encoded.dictionary), NULL_HASH)
    return table[np.where(present, codes, len(encoded.dictionary))]


def value_hashes(column: pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each value (missing values share one hash of their own).

    Numbers, booleans and times hash their value (-0.0 as 0.0, every NaN alike); text is
    dictionary-encoded first, so each distinct value is hashed once per part.
    """
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        encoded = pc.dictionary_encode(arr)
        return text_value_hashes(encoded, arrays.plain(encoded.indices, np.int32), arrays.valid(encoded.indices))
    if pa.types.is_boolean(t):
        values = arrays.booleans(arr).astype(np.uint64)
    elif pa.types.is_floating(t) or pa.types.is_decimal(t):
        floats = arrays.plain(arr.cast(pa.float64()), np.float64) + 0.0  # -0.0 becomes 0.0
        floats[np.isnan(floats)] = np.nan  # one NaN
        values = floats.view(np.uint64)
    elif pa.types.is_integer(t) or pa.types.is_temporal(t):
        width = t.bit_width
        ints = arr.view(pa.int64() if width == 64 else pa.int32() if width == 32 else pa.int16() if width == 16 else pa.int8())
        values = arrays.plain(ints, np.dtype(f"int{width}")).astype(np.int64).view(np.uint64)
    else:  # anything else: its text
        return value_hashes(pa.chunked_array([arr.cast(pa.string())]))
    hashed = mix(values.copy())
    if arr.null_count:
        hashed[~arrays.valid(arr)] = NULL_HASH
    return hashed


def repeats(hashes: np.ndarray) -> int:
    """How many values repeat an earlier one (a sort beats np.unique's hash table here)."""
    if hashes.size < 2:
        return 0
    hashes.sort()
    return int(hashes.size - 1 - np.count_nonzero(hashes[1:] != hashes[:-1]))
