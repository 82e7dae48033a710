"""How figures and names read in a report: human labels, rounded numbers, cut text.

A report is read by people who never saw the profile's field names (``min_length``,
``q0.01``): every statistic shown gets a label from here, numbers keep four significant
digits, counts get thousands separators, years do not (2013, not 2,013), and text cut to
fit ends with an ellipsis. Used by the HTML and the PDF reports alike so both say the same
thing. Pure functions on plain values: this module must not import the data area, matplotlib
or reportlab.
"""

from __future__ import annotations

import datetime as dt
import math

#: The character that marks text cut to fit.
ELLIPSIS = "…"

#: Labels of the statistics a profile keeps, by field name (numbers, text lengths, dates).
STAT_LABELS = {
    "count": "Rows",
    "missing": "Missing values",
    "distinct": "Distinct values",
    "min": "Minimum",
    "max": "Maximum",
    "mean": "Mean",
    "std": "Standard deviation",
    "zeros": "Zeros",
    "negatives": "Negative values",
    "outliers": "Outliers",
    "min_length": "Shortest text",
    "mean_length": "Average text length",
    "max_length": "Longest text",
}
#: Statistics that count rows (shown with thousands separators, never rounded).
COUNT_STATS = frozenset({"count", "missing", "distinct", "zeros", "negatives", "outliers"})
#: Statistics measured in characters.
LENGTH_STATS = frozenset({"min_length", "mean_length", "max_length"})
#: Integer columns whose every value lies in this range read as years (no thousands separator).
YEAR_RANGE = (1000, 2999)

_QUANTILE_NAMES = {0.25: "Lower quartile (25th percentile)", 0.5: "Median", 0.75: "Upper quartile (75th percentile)"}


def stat_label(key: str, *, datetime: bool = False) -> str:
    """The label of statistic ``key``; an unknown key is turned into words (``p_value`` → "P value")."""
    if datetime and key in ("min", "max"):
        return "Earliest" if key == "min" else "Latest"
    if key in STAT_LABELS:
        return STAT_LABELS[key]
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def ordinal(n: int) -> str:
    """1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def quantile_label(key: str) -> str:
    """A stored quantile key as words: "0.01" → "1st percentile", "0.5" → "Median"."""
    try:
        q = float(key)
    except ValueError:
        return stat_label(key)
    if q in _QUANTILE_NAMES:
        return _QUANTILE_NAMES[q]
    pct = q * 100
    if pct.is_integer():
        return f"{ordinal(int(pct))} percentile"
    return f"{pct:g}th percentile"


def count(n: int | float | None) -> str:
    """A count of rows or values: ``1,234,567``; "—" when absent."""
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return "—"
    return f"{round(n):,}"


def percent(fraction: float | None) -> str:
    """A share as a percentage with one decimal; tiny but non-zero shares read "<0.1%"."""
    if fraction is None or not math.isfinite(fraction):
        return "—"
    if 0 < fraction < 0.0005:
        return "<0.1%"
    if 0.9995 < fraction < 1:
        return ">99.9%"
    return f"{fraction:.1%}"


def number(v: object, *, years: bool = False, digits: int = 4) -> str:
    """A measured value rounded to ``digits`` significant digits, for people.

    Large values keep their integer part with thousands separators (``12,346``), tiny ones
    use powers of ten (``1.235e-05``); with ``years`` an integer reads as a year (``2013``).
    Text is returned as it is; absent or non-finite values read "—".
    """
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, (int, float)):
        return str(v)
    x = float(v)
    if not math.isfinite(x):
        return "—" if math.isnan(x) else ("∞" if x > 0 else "−∞")
    if years and YEAR_RANGE[0] <= abs(x) <= YEAR_RANGE[1]:
        return f"{x:.0f}" if x.is_integer() else f"{x:.{digits}g}"
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1e15 or a < 1e-4:
        return f"{x:.{digits - 1}e}"
    if a >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    text = f"{x:.{digits}g}"
    return text


def size_text(n_bytes: int) -> str:
    """A size in bytes as people say it: "27.6 kB", "249.1 MB", "1.2 GB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{number(n_bytes / scale)} {unit}"
    return f"{n_bytes} bytes"


def is_year_column(storage_type: str, low: object, high: object) -> bool:
    """An integer column whose minimum and maximum both lie in :data:`YEAR_RANGE`."""
    if not storage_type.startswith(("int", "uint")):
        return False
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return False
    return YEAR_RANGE[0] <= low <= high <= YEAR_RANGE[1]


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def date_text(seconds: float, span: float) -> str:
    """Seconds since the epoch (UTC) as a date, with the time when ``span`` is under three days."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M" if span < 3 * 86_400 else "%Y-%m-%d")
