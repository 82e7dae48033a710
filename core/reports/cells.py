"""Cells of a CSV or spreadsheet export, made safe to open in a spreadsheet program.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula (CSV injection: ``=HYPERLINK(...)``
sends data elsewhere when clicked, ``=cmd|...`` ran programs in old versions). Such a cell
gets a leading apostrophe, which spreadsheets show as text and which a reader can strip.
Numbers are left alone (``-3`` stays a number). Every CSV/XLSX writer in ``core`` passes
its rows through :func:`safe_row`. This module must not write files.
"""

from __future__ import annotations

from collections.abc import Iterable

#: First characters a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula.

    Parameters
    ----------
    value
        One cell: text, a number, ``None``.

    Returns
    -------
    object
        The same value, or the text with a leading ``'`` when it starts with one of
        :data:`FORMULA_STARTS`.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    """Each cell of ``row`` through :func:`safe_cell`."""
    return [safe_cell(v) for v in row]
