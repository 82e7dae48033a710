"""Fuzzing the CSV path: whatever the bytes, an import succeeds or raises InvalidInput."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import arrays, importing, snapshot
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


def _outcome(path: Path, dialect: importing.Dialect, fast: bool) -> object:
    import pyarrow as pa

    from core.tasks import ensure_context

    try:
        source = importing.scan_csv(path, dialect) if fast else importing._scan_csv_lines(path, dialect, ensure_context(None))
        types, warnings = source.inferred or snapshot.infer_types(
            source.names, source.batches(), source.rows, decimal=dialect.decimal)
        batches = list(snapshot.cast_batches(source.batches(types), types, decimal=dialect.decimal))
        warnings = [*source.notes, *warnings]
        table = pa.Table.from_batches(batches, schema=pa.schema(list(types.items())))
    except InvalidInput as exc:
        return ("refused", str(exc))
    return (source.names, source.rows, source.sha256, types, warnings, table.to_pylist())


_QUOTED = st.lists(st.lists(st.one_of(_CELLS, _CELLS.map(lambda c: '"' + c.replace('"', '""') + '"')), min_size=2, max_size=2),
                   min_size=1, max_size=6).map(lambda rows: "\n".join(",".join(r) for r in rows).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(_CSV, _QUOTED), header=st.sampled_from([True, False]))
def test_the_one_pass_check_agrees_with_the_line_by_line_scan(data: bytes, header: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(data)
        try:
            dialect = importing.sniff(path, CsvOptions(has_header=header, delimiter=","))
        except InvalidInput:
            return
        assert _outcome(path, dialect, fast=True) == _outcome(path, dialect, fast=False)


def test_a_stray_quote_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b'a,b\n1,2\n3,"x"y\n')
    dialect = importing.sniff(path, CsvOptions())
    try:
        importing.scan_csv(path, dialect)
    except InvalidInput as exc:
        assert "line 3" in str(exc)
    else:
        raise AssertionError("a stray quote was accepted")


_NUMERIC_CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.integers(-999, 999).map(str),
    st.sampled_from(["007", "00.5", "-01", "+0.5", "abc", "", "NA", "1e5", ".5"]),
)
_NUMERIC_CSV = st.lists(st.lists(_NUMERIC_CELLS, min_size=3, max_size=3), min_size=1, max_size=60).map(
    lambda rows: ("a,b,c\n" + "".join(",".join(r) + "\n" for r in rows)).encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_NUMERIC_CSV)
def test_columns_parsed_straight_to_numbers_agree_with_the_line_by_line_scan(data: bytes) -> None:
    # Small blocks: the first block (the sample that decides which columns are parsed
    # straight to numbers) is a few rows, so later rows break the presumption often.
    original = importing.BLOCK_SIZE
    importing.BLOCK_SIZE = 64
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "f.csv"
            path.write_bytes(data)
            dialect = importing.sniff(path, CsvOptions(has_header=True, delimiter=","))
            assert _outcome(path, dialect, fast=True) == _outcome(path, dialect, fast=False)
    finally:
        importing.BLOCK_SIZE = original


_VALUES = st.lists(st.one_of(st.none(), st.text(alphabet="0123456789+-.eEx _", max_size=6)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(values=_VALUES, start=st.integers(0, 5))
def test_the_buffer_checks_agree_with_the_patterns(values: list[str | None], start: int) -> None:
    import re

    import pyarrow as pa

    array = pa.array(values, pa.string()).slice(min(start, len(values)))
    present = [v for v in array.to_pylist() if v is not None]
    assert snapshot._leads_with_zero(array) == any(re.match(snapshot.LEADING_ZERO_PATTERN, v) for v in present)
    if any(re.match(snapshot.NUMBER_PATTERN, v) for v in present):
        assert snapshot._may_hold_numbers(array)  # never a false "no"
    first = next((i for i, v in enumerate(array.to_pylist()) if v is not None), -1)
    assert arrays.first_true(array.is_valid()) == first


_EU_CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: repr(f).replace(".", ",")),
    st.integers(-999, 999).map(str),
    st.sampled_from(["1.234,5", "0,5", "1.5", "abc, d", "", "NA", "1e5", ",5", "12345678901234567890", "1e400"]),
)
_EU_CSV = st.lists(st.lists(_EU_CELLS, min_size=3, max_size=3), min_size=1, max_size=60).map(
    lambda rows: ("a;b;c\n" + "".join(";".join(r) + "\n" for r in rows)).encode())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_EU_CSV)
def test_decimal_comma_files_agree_with_the_line_by_line_scan(data: bytes) -> None:
    original = importing.BLOCK_SIZE
    importing.BLOCK_SIZE = 64
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "f.csv"
            path.write_bytes(data)
            dialect = importing.sniff(path, CsvOptions(has_header=True, delimiter=";", decimal=","))
            assert _outcome(path, dialect, fast=True) == _outcome(path, dialect, fast=False)
    finally:
        importing.BLOCK_SIZE = original
