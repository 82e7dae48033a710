"""The alerts of a profile: what a careful reader should look at first, most severe first.

Column alerts (personal data, constant, missing, high cardinality, near constant, identifier,
outliers by Tukey's fences), duplicate rows, highly correlated predictors, and with a target
the columns left out of its associations and possible target leakage.
"""

from __future__ import annotations

import dataclasses

from core.data import associations
from core.data.models import (
    Alert,
    AlertKind,
    ColumnFlag,
    ColumnProfile,
    Correlation,
    CorrelationMethod,
    SemanticType,
    Severity,
    TargetAssociation,
)

#: One value covering at least this share of the rows makes a column near constant.
NEAR_CONSTANT_SHARE = 0.95
#: |Pearson r| or |Spearman ρ| above which two predictors get a high-correlation alert.
HIGH_CORRELATION = 0.95
_SEVERITY_ORDER = {severity: i for i, severity in enumerate(Severity)}


def alerts(cols: list[ColumnProfile], dup: int, rows: int, correlations: list[Correlation], target: str | None,
           assoc: list[TargetAssociation]) -> tuple[list[Alert], list[TargetAssociation]]:
    """The profile's alerts, most severe first, and the target associations with leakage by
    rank correlation marked (see :func:`_leakage_by_rank`)."""
    out = _column_alerts(cols, dup, rows)
    out += _correlation_alerts(correlations, target)
    if target is not None:
        assoc = _leakage_by_rank(assoc, correlations, target)
        for name, why in associations.excluded_from_target(cols, target):
            if why != "constant":  # constant columns have their own alert
                because = f"{why} (unique per row, it cannot generalise)" if why.startswith("identifier") else why
                out.append(Alert(Severity.INFO, name, AlertKind.TARGET_EXCLUDED,
                                 f"{name} is not measured against {target}: {because}."))
        for a in assoc:
            if a.leakage:
                limit = associations.LEAKAGE_R2 if a.score_name == "r2" else associations.LEAKAGE_AUC
                how = (f"{a.score_name} {a.model_score:.3f} from this column alone, ≥ {limit}" if a.model_score >= limit
                       else f"rank correlation |ρ| ≥ {associations.LEAKAGE_RANK}")
                out.append(Alert(
                    Severity.HIGH, a.column, AlertKind.LEAKAGE,
                    f"{a.column} predicts {target} almost perfectly ({how}): possible target leakage.",
                ))
    out.sort(key=lambda a: (_SEVERITY_ORDER[a.severity], a.column or ""))
    return out, assoc


def _column_alerts(cols: list[ColumnProfile], dup: int, rows: int) -> list[Alert]:
    """Each column's alerts (PII, constant, missing, high cardinality, near constant, identifier,
    outliers) and the duplicate rows'."""
    out: list[Alert] = []
    for c in cols:
        if c.pii:
            out.append(Alert(
                Severity.HIGH, c.name, AlertKind.PII,
                f"{c.name} looks like {c.pii.replace('_', ' ')} data (PII); values redacted.",
            ))
        if ColumnFlag.CONSTANT in c.flags:
            out.append(Alert(
                Severity.HIGH, c.name, AlertKind.CONSTANT,
                f"{c.name} has a single value (or none): it carries no information.",
            ))
        if c.missing_fraction > 0.5:
            out.append(Alert(
                Severity.HIGH, c.name, AlertKind.MISSING,
                f"{c.name} is missing in {c.missing_fraction:.0%} of rows.",
            ))
        elif c.missing_fraction > 0.05:
            out.append(Alert(
                Severity.MEDIUM, c.name, AlertKind.MISSING,
                f"{c.name} is missing in {c.missing_fraction:.0%} of rows.",
            ))
        if ColumnFlag.HIGH_CARDINALITY in c.flags:
            out.append(Alert(
                Severity.MEDIUM, c.name, AlertKind.HIGH_CARDINALITY,
                f"{c.name} has {c.distinct:,} distinct values.",
            ))
        if ColumnFlag.NEAR_CONSTANT in c.flags:
            out.append(Alert(
                Severity.LOW, c.name, AlertKind.NEAR_CONSTANT,
                f"{c.name}: one value covers ≥{NEAR_CONSTANT_SHARE:.0%} of rows.",
            ))
        if c.semantic_type == SemanticType.IDENTIFIER:
            out.append(Alert(
                Severity.INFO, c.name, AlertKind.IDENTIFIER,
                f"{c.name} looks like an identifier ({c.identifier or 'unique per row'}): left out of correlations, "
                "target associations and drift; exclude it from features.",
            ))
        outliers = c.stats.get("outliers") or 0
        present = c.count - c.missing
        if present and outliers / present > 0.05 and "0.25" in c.quantiles and "0.75" in c.quantiles:
            q1, q3 = c.quantiles["0.25"], c.quantiles["0.75"]
            lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
            out.append(Alert(
                Severity.LOW, c.name, AlertKind.OUTLIERS,
                f"{c.name} has {outliers:,} values ({outliers / present:.0%}) outside Tukey's fences "
                f"(1.5×IQR beyond the quartiles: below {lo:.6g} or above {hi:.6g}).",
            ))
    if dup:
        out.append(Alert(
            Severity.MEDIUM, None, AlertKind.DUPLICATES,
            f"{dup:,} rows ({dup / max(rows, 1):.1%}) repeat an earlier row.",
        ))
    return out


def _correlation_alerts(correlations: list[Correlation], target: str | None) -> list[Alert]:
    """One alert per pair of predictors (the target left out) with |Pearson r| or |Spearman ρ|
    above :data:`HIGH_CORRELATION`, naming both columns and both figures."""
    pairs: dict[tuple[str, str], dict[str, float]] = {}
    for c in correlations:
        if c.method in (CorrelationMethod.PEARSON, CorrelationMethod.SPEARMAN) and target not in (c.a, c.b):
            pairs.setdefault((c.a, c.b), {})[c.method] = c.value
    out = []
    for (a, b), figures in pairs.items():
        if max(abs(v) for v in figures.values()) > HIGH_CORRELATION:
            shown = ", ".join(f"{'Pearson r' if m == CorrelationMethod.PEARSON else 'Spearman ρ'} {v:.3f}"
                              for m, v in sorted(figures.items()))
            out.append(Alert(
                Severity.LOW, a, AlertKind.HIGH_CORRELATION,
                f"{a} and {b} are highly correlated ({shown}; above {HIGH_CORRELATION}): "
                "one of them adds little as a feature.",
            ))
    return out


def _leakage_by_rank(assoc: list[TargetAssociation], correlations: list[Correlation], target: str) -> list[TargetAssociation]:
    """Mark as leakage the columns whose |Spearman ρ| with the target reaches :data:`associations.LEAKAGE_RANK`."""
    near = {c.b if c.a == target else c.a for c in correlations
            if c.method == CorrelationMethod.SPEARMAN and target in (c.a, c.b) and abs(c.value) >= associations.LEAKAGE_RANK}
    return [dataclasses.replace(a, leakage=True) if a.column in near and not a.leakage else a for a in assoc]
