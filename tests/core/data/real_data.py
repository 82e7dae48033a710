"""Real public datasets that ship inside a package, written as files a user would import.

scikit-learn bundles these tables in its wheel (no download): iris, wine, breast cancer,
diabetes, linnerud and digits. Each is written exactly as the package gives it, with the
target as a column, so a test imports what a user would and checks every figure against an
independent reference (numpy, scipy, scikit-learn, pandas) computed on the same frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

BUNDLED = ("iris", "wine", "breast_cancer", "diabetes", "linnerud", "digits")


def frame(name: str) -> pd.DataFrame:
    """The dataset as a pandas frame with its target column(s) last (``target``; linnerud: Weight, Waist, Pulse)."""
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    bunch = loader(as_frame=True)
    return bunch.frame.copy()  # linnerud's frame already holds its three targets


def write_csv(name: str, folder: Path, *, df: pd.DataFrame | None = None) -> Path:
    """``folder/<name>.csv`` holding the dataset (or ``df``), header row, comma separated."""
    path = folder / f"{name}.csv"
    (frame(name) if df is None else df).to_csv(path, index=False)
    return path
