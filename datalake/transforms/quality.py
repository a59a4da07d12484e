"""Quality rules from a dataset spec, applied in Spark: every row is kept or quarantined with reasons."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from datalake.datasets.spec import DatasetSpec, QualityRule

REASON = "reason"


def _failure(rule: QualityRule) -> Column:
    column = F.col(rule.column)
    if rule.kind == "not_null":
        return column.isNull()
    if rule.kind == "range":
        low = F.lit(float("-inf") if rule.min_value is None else rule.min_value)
        high = F.lit(float("inf") if rule.max_value is None else rule.max_value)
        # NaN passes `between` in Spark (NaN is the largest double); treat it as out of range.
        return column.isNotNull() & (F.isnan(column) | ~column.between(low, high))
    return column.isNotNull() & ~column.cast("string").isin(list(rule.allowed))


def with_reasons(df: DataFrame, spec: DatasetSpec) -> DataFrame:
    """Add ``reason``: the broken rules joined by ``; `` (null when the row is valid)."""
    messages = [F.when(_failure(rule), F.lit(rule.reason)) for rule in spec.effective_rules()]
    joined = F.concat_ws("; ", *messages) if messages else F.lit("")
    return df.withColumn(REASON, F.when(joined != "", joined))


def split_valid(df: DataFrame, spec: DatasetSpec) -> tuple[DataFrame, DataFrame]:
    """(valid rows without ``reason``, quarantined rows with it). Together they are the input."""
    flagged = with_reasons(df, spec).cache()
    return flagged.filter(F.col(REASON).isNull()).drop(REASON), flagged.filter(F.col(REASON).isNotNull())


def latest_per_key(
    df: DataFrame, keys: list[str], newest_by: str, tiebreak: tuple[str, ...] = ()
) -> tuple[DataFrame, DataFrame]:
    """(one row per key: the latest by ``newest_by``, the superseded rows with a ``reason``).

    Superseded revisions are returned rather than dropped, so they can be quarantined
    and the run's counts still add up. ``tiebreak`` columns (ascending) decide between rows
    extracted at the same moment, so re-runs pick the same winner.
    """
    window = Window.partitionBy(*keys).orderBy(F.col(newest_by).desc_nulls_last(), *tiebreak)
    ranked = df.withColumn("_rank", F.row_number().over(window)).cache()
    latest = ranked.filter("_rank = 1").drop("_rank")
    superseded = (
        ranked.filter("_rank > 1")
        .drop("_rank")
        .withColumn(
            REASON,
            F.lit(f"superseded by a newer revision (by {newest_by}) of the same {', '.join(keys)}"),
        )
    )
    return latest, superseded
