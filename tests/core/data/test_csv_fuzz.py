"""Fuzzing the CSV path: whatever the bytes, an import succeeds or raises InvalidInput."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import importing, snapshot
from core.data.models import CsvOptions
from core.errors import InvalidInput

_CELLS = st.text(alphabet=st.sampled_from(list('ab1.-,;"\t\n\r x9é\x00e+')), max_size=8)
_CSV = st.lists(st.lists(_CELLS, min_size=1, max_size=4), min_size=0, max_size=6).map(
    lambda rows: "\n".join(",".join(r) for r in rows).encode())


def _read(data: bytes, options: CsvOptions) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(data)
        try:
            dialect = importing.sniff(path, options)
            source = importing.scan_csv(path, dialect)
            types, _ = snapshot.infer_types(source.names, source.batches(), source.rows)
            stream = snapshot.ParquetStream(
                __import__("pyarrow").schema(list(types.items())), snapshot.cast_batches(source.batches(), types))
            while stream.read(1 << 20):
                pass
        except InvalidInput:
            pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(_CSV, st.binary(max_size=300)), header=st.sampled_from([None, True, False]))
def test_any_bytes_import_or_invalid_input(data: bytes, header: bool | None) -> None:
    _read(data, CsvOptions(has_header=header))
