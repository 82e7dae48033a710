"""Importing files: types, versions by content, lineage, and bad input refused whole."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data.models import CsvOptions
from core.data.service import DatasetService
from core.errors import Cancelled, InvalidInput
from core.tasks import CancelToken, TaskContext


def _csv(tmp_path: Path, text: str | bytes, name: str = "d.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def _count_blobs(engine: object) -> int:
    from core.store import blobs

    with engine._opened.store.read() as tx:  # type: ignore[attr-defined]
        return blobs.stats(tx)[0]


def test_csv_round_trip_with_types_and_lineage(datasets: DatasetService, tmp_path: Path) -> None:
    rows = "".join(f"{i},{i / 2},name{i},2024-01-{i % 28 + 1:02d},{'true' if i % 2 else 'false'},00{i}\n" for i in range(500))
    path = _csv(tmp_path, "id,x,label,day,flag,zip\n" + rows)
    out = datasets.import_file(path, name="sales")
    v = out.value.version
    assert out.value.new and v.label == "sales@1"
    assert (v.row_count, v.column_count) == (500, 6)
    assert [c.type for c in v.columns] == ["int64", "double", "string", "timestamp[us]", "bool", "string"]
    assert v.lineage.source_kind == "csv" and v.lineage.source.endswith("d.csv") and v.lineage.imported_by
    table = datasets.read_table("sales")
    assert table.column("x").to_pylist()[:3] == [0.0, 0.5, 1.0]
    assert table.column("zip").to_pylist()[:2] == ["000", "001"]  # leading zeros kept as text


def test_same_content_twice_is_one_version_and_new_content_is_the_next(datasets: DatasetService, tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,b\n1,2\n3,4\n")
    first = datasets.import_file(path, name="d").value
    again = datasets.import_file(path, name="d")
    assert not again.value.new and again.value.version.id == first.version.id and not again.changes
    _csv(tmp_path, "a,b\n1,2\n3,5\n")
    assert datasets.import_file(path, name="d").value.version.number == 2
    assert [v.number for v in datasets.versions("d")] == [1, 2]


def test_import_is_audited(engine: object, datasets: DatasetService, tmp_path: Path) -> None:
    datasets.import_file(_csv(tmp_path, "a\n1\n2\n"), name="d")
    events, _ = engine.audit.events(action="dataset.imported")  # type: ignore[attr-defined]
    assert any(e.action == "dataset.imported" and e.subject == "dataset:d@1" for e in events)


def test_tsv_semicolon_latin1_and_no_header(datasets: DatasetService, tmp_path: Path) -> None:
    tsv = datasets.import_file(_csv(tmp_path, "a\tb\n1\tx\n2\ty\n", "t.tsv")).value.version
    assert [c.name for c in tsv.columns] == ["a", "b"]
    semi = datasets.import_file(_csv(tmp_path, "a;b;c\n1;2;3\n4;5;6\n7;8;9\n", "s.csv")).value.version
    assert semi.column_count == 3
    latin = _csv(tmp_path, "name,n\nJosé,1\nRenée,2\n".encode("latin-1"), "l.csv")
    with pytest.raises(InvalidInput, match="line 2"):
        datasets.import_file(latin, name="l")
    v = datasets.import_file(latin, name="l", csv=CsvOptions(encoding="latin-1")).value.version
    assert datasets.read_table(v.label).column("name").to_pylist() == ["José", "Renée"]
    nh = datasets.import_file(_csv(tmp_path, "1,2\n3,4\n", "n.csv"), name="n", csv=CsvOptions(has_header=False)).value.version
    assert ([c.name for c in nh.columns], nh.row_count) == (["column_1", "column_2"], 2)


def test_mixed_types_are_text_with_a_warning(datasets: DatasetService, tmp_path: Path) -> None:
    body = "".join(f"{i}\n" for i in range(100)) + "unknown\n"
    v = datasets.import_file(_csv(tmp_path, "amount\n" + body), name="m").value.version
    assert v.columns[0].type == "string"
    assert any("mixed types" in w and "data row 101" in w for w in v.warnings)


def test_parquet_and_excel(datasets: DatasetService, tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}), tmp_path / "p.parquet")
    v = datasets.import_file(tmp_path / "p.parquet").value.version
    assert (v.dataset_name, v.row_count, v.lineage.source_kind) == ("p", 3, "parquet")
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["city", "pop"])
    ws.append(["Oslo", 700000])
    ws.append(["Bergen", 285000.0])
    wb.save(tmp_path / "x.xlsx")
    v = datasets.import_file(tmp_path / "x.xlsx").value.version
    assert [c.type for c in v.columns] == ["string", "int64"]
    assert datasets.read_table(v.label).column("pop").to_pylist() == [700000, 285000]



def test_excel_preview_and_import_open_sheets_alike(tmp_path: Path) -> None:
    """The preview and the import open a workbook through one function: same sheet, same errors."""
    import openpyxl

    from core.data import excel, preview

    wb = openpyxl.Workbook()
    ws = wb.worksheets[0]
    ws.title = "Data"
    ws.append(["city", "pop"])
    ws.append(["Oslo", 700000])
    wb.create_sheet("Other").append(["z"])
    wb.save(tmp_path / "x.xlsx")
    shown = preview.preview_file(tmp_path / "x.xlsx", CsvOptions())
    assert (shown.names, shown.rows, shown.sheets) == (["city", "pop"], [["Oslo", "700000"]], ["Data", "Other"])
    assert shown.settings.startswith("sheet: Data ·")
    assert preview.preview_file(tmp_path / "x.xlsx", CsvOptions(), sheet="Other").settings.startswith("sheet: Other ·")
    for read in (lambda: preview.preview_file(tmp_path / "x.xlsx", CsvOptions(), sheet="Nope"),
                 lambda: excel.scan_excel(tmp_path / "x.xlsx", "Nope", None)):
        with pytest.raises(InvalidInput, match="has no sheet 'Nope'; sheets are Data, Other"):
            read()
    (tmp_path / "fake.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InvalidInput, match="not a readable Excel workbook"):
        preview.preview_file(tmp_path / "fake.xlsx", CsvOptions())


BAD = [
    ("empty", b"", "empty"),
    ("blank", b"\n\n  \n", "empty"),
    ("header only", b"a,b,c\n", "no data rows"),
    ("ragged", b"a,b\n1,2\n3,4,5\n", "line 3: expected 2 fields, found 3"),
    ("undecodable", b"a,b\n1,2\n\xff\xfe,3\n", "line 3"),
    ("binary", bytes(range(256)) * 4, "binary|NUL"),
    ("duplicate names", b"a,b,a\n1,2,3\n", "columns 1 and 3 are both named 'a'"),
    ("empty name", b"a,,c\n1,2,3\n", "column 2 has an empty name"),
    ("huge field", b"a,b\n1," + b"x" * 1_100_000 + b"\n", "longer than"),
    ("unclosed quote", b'a,b\n1,"oops\n2,3\n', "line"),
]


@pytest.mark.parametrize(("case", "content", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_csv_is_refused_clearly_and_leaves_nothing(
    engine: object, datasets: DatasetService, tmp_path: Path, case: str, content: bytes, message: str
) -> None:
    path = _csv(tmp_path, content, "bad.csv")
    before = _count_blobs(engine)
    with pytest.raises(InvalidInput, match=message) as info:
        datasets.import_file(path, name="bad")
    assert "bad.csv" in str(info.value)
    assert datasets.list() == [] and _count_blobs(engine) == before


def test_bad_parquet_and_excel_are_invalid_input(datasets: DatasetService, tmp_path: Path) -> None:
    for name in ("x.parquet", "x.xlsx"):
        (tmp_path / name).write_bytes(b"not really")
        with pytest.raises(InvalidInput, match=name):
            datasets.import_file(tmp_path / name)
    with pytest.raises(InvalidInput, match="no such file"):
        datasets.import_file(tmp_path / "missing.csv")


def test_cancel_during_import_stores_nothing(
    engine: object, datasets: DatasetService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import core.tasks

    monkeypatch.setattr(core.tasks, "_MIN_INTERVAL_S", 0.0)  # every report reaches the callback
    path = _csv(tmp_path, "a,b\n" + "".join(f"{i},{i}\n" for i in range(200_000)))
    token = CancelToken()
    seen: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if fraction > 0.5:
            token.cancel()

    before = _count_blobs(engine)
    with pytest.raises(Cancelled):
        datasets.import_file(path, name="c", ctx=TaskContext(progress, token))
    assert datasets.list() == [] and _count_blobs(engine) == before and seen


def test_snapshot_is_encrypted_at_rest(engine: object, datasets: DatasetService, tmp_path: Path) -> None:
    datasets.import_file(_csv(tmp_path, "secret\nZebraPineapple42\n"), name="s")
    engine.close()  # type: ignore[attr-defined]
    raw = (tmp_path / "w.airlock").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("w.airlock*") if p.is_file())
    assert b"ZebraPineapple42" not in raw


def test_leading_zeros_keep_codes_as_text_but_not_decimals(
    datasets: DatasetService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.data import importing

    monkeypatch.setattr(importing, "BLOCK_SIZE", 4096)  # the first rows decide: a small first block
    rows = [f"{i},{i}.25" for i in range(1, 2000)] + ["007,00.5"]
    out = datasets.import_file(_csv(tmp_path, "code,amount\n" + "\n".join(rows) + "\n"), name="d").value
    assert [c.type for c in out.version.columns] == ["string", "double"]
    table = datasets.read_table("d")
    assert table.column("code").to_pylist()[-1] == "007" and table.column("amount").to_pylist()[-1] == 0.5


def test_a_column_of_numbers_with_text_far_down_is_kept_whole_as_text(
    datasets: DatasetService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.data import importing

    monkeypatch.setattr(importing, "BLOCK_SIZE", 4096)
    rows = [f"{i}.5,x{i}" for i in range(5000)] + ["n.a.,last"]
    out = datasets.import_file(_csv(tmp_path, "price,label\n" + "\n".join(rows) + "\n"), name="d").value
    assert out.version.columns[0].type == "string"
    assert any("mixed types" in w and "row 5001" in w for w in out.version.warnings)
    prices = datasets.read_table("d").column("price").to_pylist()
    assert prices[0] == "0.5" and prices[-1] == "n.a." and len(prices) == 5001


def test_a_quoted_line_break_far_down_is_one_value(
    datasets: DatasetService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.data import importing

    monkeypatch.setattr(importing, "BLOCK_SIZE", 4096)
    rows = [f'{i},"plain {i}"' for i in range(3000)] + ['3000,"two\nlines"', '3001,"after"']
    out = datasets.import_file(_csv(tmp_path, "id,note\n" + "\n".join(rows) + "\n"), name="d").value
    assert out.version.row_count == 3002
    notes = datasets.read_table("d").column("note").to_pylist()
    assert notes[-2:] == ["two\nlines", "after"]


def test_a_ragged_semicolon_file_is_read_as_semicolons_and_the_bad_line_named(
    datasets: DatasetService, tmp_path: Path,
) -> None:
    from core.data import importing

    text = "name;age;city\n" + "".join(f"p{i};{20 + i};Oslo\n" for i in range(30)) + "bad;1\n"
    path = _csv(tmp_path, text)
    assert importing.sniff(path, CsvOptions()).delimiter == ";"
    with pytest.raises(InvalidInput, match=r"line 32: expected 3 fields, found 2"):
        datasets.import_file(path, name="d")

