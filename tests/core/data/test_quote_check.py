"""The one-pass check's quote rule, on files where a quote that looks like it closes a value
opens none (found by test_csv_fuzz): the fast path must refuse or accept exactly as the
line-by-line scan does."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data import importing
from core.data.models import CsvOptions
from tests.core.data.test_csv_fuzz import _outcome

CASES = [
    b'1"\r"',  # a literal quote in the header, then a quote left open: refused
    b'a,b\n1",2\n"x,3\n',  # the same across lines
    b'a,b\n"x""y",2\n"""",3\n',  # doubled quotes inside values: accepted
    b'a,b\n"x",2\n"y"z,3\n',  # text after a closing quote: refused
    b'a,b\n"x\ny",2\n3,4\n',  # a line break inside a quoted value: accepted
]


@pytest.mark.parametrize("data", CASES)
@pytest.mark.parametrize("header", [True, False])
def test_fast_check_agrees_with_the_line_by_line_scan(tmp_path: Path, data: bytes, header: bool) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    dialect = importing.sniff(path, CsvOptions(has_header=header, delimiter=","))
    assert _outcome(path, dialect, fast=True) == _outcome(path, dialect, fast=False)
