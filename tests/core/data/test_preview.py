"""The import preview: what the wizard shows is what the import will read, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data.models import CsvOptions
from core.data.service import DatasetService
from core.errors import InvalidInput


def test_csv_preview_uses_the_sniffed_dialect_and_stores_nothing(datasets: DatasetService, tmp_path: Path) -> None:
    src = tmp_path / "loans.csv"
    src.write_text("id;amount;grade\n" + "".join(f"{i};{i * 10.5};{'AB'[i % 2]}\n" for i in range(50)))
    preview = datasets.preview_file(src, limit=5)
    assert preview.kind == "csv"
    assert preview.names == ["id", "amount", "grade"]
    assert preview.rows[0] == ["0", "0.0", "A"] and len(preview.rows) == 5
    assert preview.delimiter == ";" and preview.has_header is True
    assert "semicolon" in preview.settings
    assert datasets.list() == []  # a preview imports nothing


def test_overridden_options_change_the_preview(datasets: DatasetService, tmp_path: Path) -> None:
    src = tmp_path / "raw.csv"
    src.write_text("1,2\n3,4\n")
    preview = datasets.preview_file(src, CsvOptions(has_header=False))
    assert preview.has_header is False and len(preview.rows) == 2


def test_parquet_preview_and_a_bad_file(datasets: DatasetService, tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1, 2, 3], "y": ["a", "b", "c"]}), tmp_path / "t.parquet")
    preview = datasets.preview_file(tmp_path / "t.parquet")
    assert preview.kind == "parquet" and preview.names == ["x", "y"] and len(preview.rows) == 3
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInput, match="broken.parquet"):
        datasets.preview_file(tmp_path / "broken.parquet")
