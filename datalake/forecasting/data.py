"""Hourly demand series for forecasting: load them from files or the lake, checked and made regular.

A :class:`DemandSeries` is one hourly series on a regular UTC index: every hour between the
first and the last hour with a demand value is there, NaN where the value is missing. It
comes from

- the ENTSO-E "Total Load - Day Ahead / Actual" export or the Kaggle energy file (one or
  several files, the format detected from each header; the later file wins a repeated hour);
- a Parquet or CSV file with ``ts_utc`` and ``demand_mw`` (and optionally
  ``tso_forecast_mw``, ``region``, ``source``);
- the lake's ``demand_hourly`` table, through the query port.

Malformed structure (repeated hours, stamps not on the hour, naive local times, values that
are not numbers or not positive) is refused with a :class:`DataValidationError` naming the
field; a missing value is NaN, counted in :attr:`DemandSeries.missing_hours`.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from datalake.datasets import DEMAND_HOURLY, DEMAND_SOURCE_PREFERENCE, SAMPLE_SOURCE
from datalake.errors import ConfigurationError, DataValidationError
from datalake.sources import entsoe

if TYPE_CHECKING:
    from datalake.settings import Settings

HOUR = pd.Timedelta(hours=1)
#: Per hour, the first of these sources with a row wins; ``sample`` is generated data.
SOURCE_PREFERENCE = DEMAND_SOURCE_PREFERENCE
REGIONS: tuple[str, ...] = next(
    rule.allowed for rule in DEMAND_HOURLY.quality_rules if rule.column == "region"
)

_HAS_OFFSET = re.compile(r"(?:[+-]\d{2}(?::?\d{2})?|Z|UTC)$", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class DemandSeries:
    """One hourly demand series on a regular UTC index.

    Attributes
    ----------
    demand_mw
        Mean demand per hour, MW; index ``ts_utc`` (tz-aware UTC hour starts, every hour
        from the first to the last, no repeats); NaN where the value is missing.
    tso_forecast_mw
        The grid operator's day-ahead forecast on the same index, or None when the input
        has none.
    description
        Where the series came from; contains ``SAMPLE`` when it is generated sample data.
    notes
        What loading did that a reader should know (superseded hours, dropped sample rows).
    """

    demand_mw: pd.Series
    tso_forecast_mw: pd.Series | None
    description: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        index = self.demand_mw.index
        if not isinstance(index, pd.DatetimeIndex) or str(index.tz) != "UTC":
            raise DataValidationError("ts_utc", "the index must be a tz-aware UTC DatetimeIndex")
        if index.name != "ts_utc":
            raise DataValidationError("ts_utc", f"the index must be named 'ts_utc', not {index.name!r}")
        if len(index) == 0:
            raise DataValidationError("demand_mw", "the series is empty")
        if len(index) > 1 and not (index[1:] - index[:-1] == HOUR).all():
            raise DataValidationError("ts_utc", "the index must hold every hour once, in order (regular)")
        if (index != index.floor("h")).any():
            raise DataValidationError("ts_utc", "hour starts must be on the hour")
        if self.tso_forecast_mw is not None and not self.tso_forecast_mw.index.equals(index):
            raise DataValidationError("tso_forecast_mw", "must have the same index as demand_mw")

    @property
    def start(self) -> pd.Timestamp:
        """The first hour (UTC)."""
        return self.demand_mw.index[0]

    @property
    def end(self) -> pd.Timestamp:
        """The last hour (UTC); the series covers ``[start, end + 1 h)``."""
        return self.demand_mw.index[-1]

    @property
    def hours(self) -> int:
        """Hours on the index, missing ones included."""
        return len(self.demand_mw)

    @property
    def missing_hours(self) -> int:
        """Hours on the index without a demand value."""
        return int(self.demand_mw.isna().sum())

    @property
    def is_sample(self) -> bool:
        """Whether the series is generated sample data rather than measurements."""
        return "SAMPLE" in self.description

    def to_frame(self) -> pd.DataFrame:
        """``ts_utc`` index, ``demand_mw`` and (when present) ``tso_forecast_mw`` columns."""
        columns = {"demand_mw": self.demand_mw}
        if self.tso_forecast_mw is not None:
            columns["tso_forecast_mw"] = self.tso_forecast_mw
        return pd.DataFrame(columns)


def load_series(
    input_path: PathLike | Sequence[PathLike] | None = None,
    table: str | None = None,
    settings: Settings | None = None,
    region: str = "national",
) -> DemandSeries:
    """Load an hourly demand series from files or from the lake's ``demand_hourly`` table.

    Parameters
    ----------
    input_path
        One file or a list of files: ENTSO-E Total Load exports, the Kaggle energy file
        (the corrected copy; the original with day and month swapped is refused), or
        Parquet/CSV with ``ts_utc`` (tz-aware, or strings with an offset or ``Z``) and
        ``demand_mw``, optionally ``tso_forecast_mw``, ``region`` (filtered on ``region``)
        and ``source`` (chosen as for a table). When files overlap, the later file wins.
    table
        A table in the processed database (``demand_hourly``, or ``database.table``) read
        through :func:`datalake.runtime.query_engine`. Per hour the ``ree`` row is preferred,
        then ``entsoe``, then ``sample``; sample rows are dropped whenever real rows exist.
    settings
        Settings for the query engine (table input only); the process settings by default.
    region
        ``national`` or ``peninsular``.

    Returns
    -------
    DemandSeries
        Regular hourly series from the first to the last hour that has a demand value.

    Raises
    ------
    DataValidationError
        When not exactly one of ``input_path`` and ``table`` is given, for an unknown file
        format, naive local timestamps, repeated hours, stamps not on the hour, values that
        are not numbers or not positive; it names the field and the reason.
    """
    if (input_path is None) == (table is None):
        raise DataValidationError("input_path", "give exactly one of input_path or table")
    if region not in REGIONS:
        raise DataValidationError("region", f"{region!r} is not one of {list(REGIONS)}")
    if table is not None:
        return _load_table(table, settings, region)
    assert input_path is not None
    paths = [input_path] if isinstance(input_path, str | os.PathLike) else list(input_path)
    if not paths:
        raise DataValidationError("input_path", "no file given")
    return _load_files([Path(p) for p in paths], region)


# -- files ------------------------------------------------------------------------------------------


def _load_files(paths: list[Path], region: str) -> DemandSeries:
    frames: list[pd.DataFrame] = []
    kinds: list[str] = []
    notes: list[str] = []
    samples: list[bool] = []
    for path in paths:
        if not path.is_file():
            raise DataValidationError("input_path", f"{path} is not a file")
        kind, frame, file_notes, sample = _read_file(path, region)
        kinds.append(kind)
        samples.append(sample)
        frames.append(frame.assign(_file=len(frames)))
        notes.extend(f"{path.name}: {note}" for note in file_notes)
    if any(samples) and not all(samples):
        # As for a table: generated rows never mix with measured ones.
        dropped = [p.name for p, sample in zip(paths, samples, strict=True) if sample]
        notes.append(f"dropped SAMPLE (generated) file(s) {dropped}: other files hold real rows")
        frames = [frame for frame, sample in zip(frames, samples, strict=True) if not sample]
    rows = pd.concat(frames, ignore_index=True)
    # Several files may overlap (a re-export); the later one is the correction.
    rows = rows.sort_values(["ts_utc", "_file"], kind="stable")
    superseded = rows["ts_utc"].duplicated(keep="last")
    if superseded.any():
        notes.append(f"{int(superseded.sum())} hour(s) present in several files: the later file's row kept")
    rows = rows[~superseded].drop(columns="_file")
    names = ", ".join(p.name for p in paths)
    label = " + ".join(dict.fromkeys(kinds))
    sample = " SAMPLE (generated data)" if all(samples) else ""
    return _build(rows, f"{label}{sample}: {names}", notes)


def _read_file(path: Path, region: str) -> tuple[str, pd.DataFrame, list[str], bool]:
    """(kind, rows with ts_utc/demand_mw/tso_forecast_mw, notes, whether it is sample data) of one file."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return "Parquet", *_generic_rows(pd.read_parquet(path), str(path), region)
    header = _first_csv_line(path)
    if "ts_utc" in [cell.strip() for cell in header]:
        frame = pd.read_csv(path, dtype={"ts_utc": str})
        return "CSV", *_generic_rows(frame, str(path), region)
    try:
        fmt = entsoe.detect_format(path)
    except DataValidationError as error:
        raise DataValidationError(
            error.field, f"{error.reason}; or a Parquet/CSV file with ts_utc and demand_mw columns"
        ) from None
    if fmt == entsoe.TOTAL_LOAD:
        return "ENTSO-E Total Load export", _entsoe_rows(entsoe.parse_total_load(path), path), [], False
    rows = _entsoe_rows(entsoe.parse_kaggle(path), path)
    check = entsoe.check_day_month_swap(rows["ts_utc"], rows["demand_mw"].fillna(rows["tso_forecast_mw"]))
    if check.verdict == "swapped":
        raise DataValidationError(
            str(path),
            "looks like the ORIGINAL Kaggle file, whose rows with a local day of month of 12 or less carry "
            f"the data of the date with day and month swapped ({check.describe()}); use the corrected copy "
            f"({entsoe.CORRECTED_KAGGLE_HINT})",
        )
    return "Kaggle energy file", rows, [], False


def _first_csv_line(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def _entsoe_rows(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The landed rows of a parsed ENTSO-E file; any dropped row but the spring gap is refused."""
    dropped = frame[~frame["landed"]]
    bad = dropped[dropped["problem"] != entsoe.SPRING_GAP]
    if len(bad):
        reasons = bad["problem"].value_counts().to_dict()
        raise DataValidationError(
            "ts_utc",
            f"{path}: {len(bad)} row(s) without a usable hour (first at line {int(bad['line'].iloc[0])}): "
            f"{reasons}",
        )
    landed = frame[frame["landed"]]
    return landed[["ts_utc", "demand_mw", "tso_forecast_mw"]].reset_index(drop=True)


def _generic_rows(frame: pd.DataFrame, label: str, region: str) -> tuple[pd.DataFrame, list[str], bool]:
    """(rows, notes, is sample) of a Parquet/CSV frame, filtered on region and chosen by source."""
    missing = [col for col in ("ts_utc", "demand_mw") if col not in frame.columns]
    if missing:
        raise DataValidationError(
            label, f"missing column(s) {missing}; columns are {list(frame.columns)[:10]}"
        )
    frame = frame.copy()
    frame["ts_utc"] = _utc_stamps(frame["ts_utc"], naive_is_utc=False)
    if "region" in frame.columns:
        frame = frame[frame["region"] == region]
        if frame.empty:
            raise DataValidationError("region", f"{label}: no rows for region {region!r}")
    if "tso_forecast_mw" not in frame.columns:
        frame["tso_forecast_mw"] = np.nan
    for col in ("demand_mw", "tso_forecast_mw"):
        frame[col] = _numbers(frame[col], col)
    notes: list[str] = []
    sample = False
    if "source" in frame.columns:
        frame, notes = choose_sources(frame)
        sample = bool((frame["source"] == SAMPLE_SOURCE).all())
    # Checked per file: across files a repeated hour is a correction (the later file wins).
    _check_unique(frame["ts_utc"], label)
    return frame[["ts_utc", "demand_mw", "tso_forecast_mw"]].reset_index(drop=True), notes, sample


def _utc_stamps(values: pd.Series, *, naive_is_utc: bool) -> pd.Series:
    """UTC instants from datetimes or ISO strings; naive values are refused unless known to be UTC."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.to_datetime(values)
        if stamps.dt.tz is None:
            if not naive_is_utc:
                raise DataValidationError(
                    "ts_utc",
                    "timestamps have no time zone; store them tz-aware (UTC) so local wall time "
                    "cannot pass for UTC",
                )
            return stamps.dt.tz_localize("UTC")
        return stamps.dt.tz_convert("UTC")
    text = values.astype("string").str.strip()
    if text.isna().any() or (text == "").any():
        first = int(np.flatnonzero((text.isna() | (text == "")).to_numpy())[0])
        raise DataValidationError("ts_utc", f"row {first}: empty timestamp")
    if not naive_is_utc:
        naive = ~text.str.contains(_HAS_OFFSET)
        if naive.any():
            first = text[naive].iloc[0]
            raise DataValidationError(
                "ts_utc",
                f"{int(naive.sum())} timestamp(s) without a UTC offset (first {first!r}); local wall "
                "time is ambiguous: write them with an offset (+01:00) or in UTC (Z)",
            )
    parsed = pd.to_datetime(
        text.str.replace(r"\s*UTC$", "+00:00", regex=True), utc=True, format="ISO8601", errors="coerce"
    )
    if parsed.isna().any():
        raise DataValidationError("ts_utc", f"not an ISO 8601 timestamp: {text[parsed.isna()].iloc[0]!r}")
    return parsed


def _numbers(values: pd.Series, field: str) -> pd.Series:
    """Floats; empty is missing (NaN), anything else that is not a number is refused."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = numbers.isna() & text.notna() & (text != "") & (text.str.lower() != "nan")
    if bad.any():
        raise DataValidationError(
            field, f"{int(bad.sum())} value(s) are not numbers (first {text[bad].iloc[0]!r})"
        )
    return numbers.astype("float64")


# -- the lake's table -----------------------------------------------------------------------------


def _load_table(table: str, settings: Settings | None, region: str) -> DemandSeries:
    from datalake import runtime

    if not _IDENTIFIER.match(table):
        raise DataValidationError("table", f"{table!r} is not a table name (name or database.name)")
    # region is one of REGIONS (checked), so quoting it in the SQL is safe.
    sql = (
        f"SELECT ts_utc, demand_mw, tso_forecast_mw, source FROM {table} "
        f"WHERE region = '{region}' ORDER BY ts_utc"
    )
    frame = runtime.query_engine(settings).query(sql)
    if frame.empty:
        raise DataValidationError("table", f"{table} has no rows for region {region!r}")
    chosen, notes = _chosen_table_rows(frame)
    used = [name for name in SOURCE_PREFERENCE if (chosen["source"] == name).any()]
    sample = " SAMPLE (generated data)" if used == [SAMPLE_SOURCE] else ""
    return _build(chosen, f"table {table} (region {region}, source {'+'.join(used)}){sample}", notes)


def _chosen_table_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Typed rows of ``demand_hourly`` (any engine), one per hour by source preference."""
    # The column is UTC by the dataset spec; Athena hands timestamps back without a zone.
    frame["ts_utc"] = _utc_stamps(frame["ts_utc"], naive_is_utc=True)
    for col in ("demand_mw", "tso_forecast_mw"):
        frame[col] = _numbers(frame[col], col)
    return choose_sources(frame)


def load_recent(
    hours: int, settings: Settings | None = None, region: str = "national", *, boto3_session=None
) -> DemandSeries:
    """The newest ``hours`` hours of demand from the warehouse's ``demand_hourly`` table.

    This is what a forecast made "now" reads: the window ends at the newest hour that has a
    demand value, whatever the wall clock says.

    Parameters
    ----------
    hours
        Hours to read, counted back from the newest hour with a demand value.
    settings
        Where the warehouse is; the process settings by default.
    region
        ``national`` or ``peninsular``.
    boto3_session
        For the Secrets Manager lookup of the database credentials on AWS.

    Raises
    ------
    DataValidationError
        When the table holds no demand for ``region``.
    """
    from psycopg import sql
    from psycopg.errors import UndefinedTable

    from datalake.warehouse.connection import connection
    from datalake.warehouse.ddl import table_identifier

    if region not in REGIONS:
        raise DataValidationError("region", f"{region!r} is not one of {list(REGIONS)}")
    table = table_identifier(DEMAND_HOURLY)
    newest = sql.SQL(
        "SELECT source, max(ts_utc) FROM {table} WHERE region = %(region)s AND demand_mw IS NOT NULL"
        " GROUP BY source"
    ).format(table=table)
    window = sql.SQL(
        "SELECT ts_utc, demand_mw, tso_forecast_mw, source FROM {table} WHERE region = %(region)s"
        " AND ts_utc > %(start)s AND ts_utc <= %(end)s ORDER BY ts_utc"
    ).format(table=table)
    with connection(settings, read_only=True, boto3_session=boto3_session) as conn:
        try:
            ends = dict(conn.execute(newest, {"region": region}).fetchall())
        except UndefinedTable:
            raise ConfigurationError(
                "the warehouse has no demand_hourly table yet", hint="run `datalake sync` after a transform"
            ) from None
        real = [end for source, end in ends.items() if source != SAMPLE_SOURCE]
        # The cut-off is the newest real hour: sample rows are dropped whenever real ones exist.
        end = max(real or ends.values(), default=None)
        if end is None:
            raise DataValidationError("demand_hourly", f"the warehouse has no demand for region {region!r}")
        start = end - pd.Timedelta(hours=hours).to_pytimedelta()
        cursor = conn.execute(window, {"region": region, "start": start, "end": end})
        frame = pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description or []])
    if frame.empty:
        raise DataValidationError("demand_hourly", f"the warehouse has no demand for region {region!r}")
    chosen, notes = _chosen_table_rows(frame)
    return _build(chosen, f"warehouse demand_hourly (region {region}, newest {hours} h)", notes)


def choose_sources(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One row per hour from rows of several sources: ree, then entsoe, then sample.

    Sample rows are generated data: when any real row exists they are all dropped, so a
    series never mixes generated and measured hours. Per hour, each value comes from the
    most preferred source that has it (the grid operator's forecast may exist in one source
    only).

    Parameters
    ----------
    frame
        Rows with ``ts_utc``, ``source``, ``demand_mw`` and ``tso_forecast_mw``.

    Returns
    -------
    (pandas.DataFrame, list[str])
        One row per ``ts_utc`` (sorted) with ``demand_mw``, ``tso_forecast_mw`` and the
        ``source`` of its demand; and notes saying what was chosen (and any sample rows dropped).

    Raises
    ------
    DataValidationError
        For a source outside ``ree``, ``entsoe``, ``sample``.
    """
    unknown = sorted(set(frame["source"].astype(str)) - set(SOURCE_PREFERENCE))
    if unknown:
        raise DataValidationError(
            "source", f"unknown source(s) {unknown}; expected one of {SOURCE_PREFERENCE}"
        )
    notes: list[str] = []
    is_sample = frame["source"] == SAMPLE_SOURCE
    if is_sample.any() and (~is_sample).any():
        notes.append(
            f"dropped {int(is_sample.sum())} SAMPLE (generated) row(s): real rows exist and the two never mix"
        )
        frame = frame[~is_sample]
    rank = frame["source"].map({name: i for i, name in enumerate(SOURCE_PREFERENCE)})
    ordered = frame.assign(_rank=rank).sort_values(["ts_utc", "_rank"], kind="stable")
    # The demand's source is the best-ranked row that has a demand value.
    ordered["_demand_source"] = ordered["source"].where(ordered["demand_mw"].notna())
    # groupby.first takes each column's first non-null value, i.e. the most preferred source having it.
    chosen = ordered.groupby("ts_utc", sort=True)[["demand_mw", "tso_forecast_mw", "_demand_source"]].first()
    chosen = chosen.rename(columns={"_demand_source": "source"}).reset_index()
    if frame["source"].nunique() > 1:
        counts = chosen["source"].value_counts().reindex(list(SOURCE_PREFERENCE)).dropna().astype(int)
        notes.append("demand per hour by source: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return chosen, notes


# -- checks and the regular index ---------------------------------------------------------------------


def _check_unique(stamps: pd.Series, label: str) -> None:
    repeated = stamps.duplicated()
    if repeated.any():
        raise DataValidationError(
            "ts_utc",
            f"{label}: {int(repeated.sum())} repeated hour(s) "
            f"(first {stamps[repeated].iloc[0].isoformat()}); "
            "give each hour once, or a source column to choose between rows",
        )


def _build(rows: pd.DataFrame, origin: str, notes: list[str]) -> DemandSeries:
    """Check the rows (UTC ts_utc, floats) and put them on a regular hourly index."""
    stamps = rows["ts_utc"]
    if stamps.isna().any():
        raise DataValidationError("ts_utc", f"{int(stamps.isna().sum())} row(s) without a timestamp")
    off_hour = stamps != stamps.dt.floor("h")
    if off_hour.any():
        raise DataValidationError(
            "ts_utc",
            f"{int(off_hour.sum())} stamp(s) not on the hour (first {stamps[off_hour].iloc[0].isoformat()}); "
            "expected hour starts",
        )
    _check_unique(stamps, origin)
    for col in ("demand_mw", "tso_forecast_mw"):
        values = rows[col]
        bad = ~np.isfinite(values) & values.notna()
        if bad.any():
            raise DataValidationError(col, f"{int(bad.sum())} infinite value(s)")
        # No positive demand means a sign or unit error (or a zero standing for "missing"),
        # and percentage errors need a positive actual.
        not_positive = values <= 0
        if not_positive.any():
            first = stamps[not_positive].iloc[0].isoformat()
            raise DataValidationError(
                col,
                f"{int(not_positive.sum())} value(s) not positive (first {values[not_positive].iloc[0]} MW "
                f"at {first}); leave a missing hour empty",
            )
    rows = rows.sort_values("ts_utc")
    with_demand = rows[rows["demand_mw"].notna()]
    if with_demand.empty:
        raise DataValidationError("demand_mw", f"{origin}: no hour has a demand value")
    first, last = with_demand["ts_utc"].iloc[0], with_demand["ts_utc"].iloc[-1]
    index = pd.date_range(first, last, freq="h", tz="UTC", name="ts_utc")
    indexed = rows.set_index("ts_utc")
    demand = indexed["demand_mw"].reindex(index).astype("float64").rename("demand_mw")
    tso = indexed["tso_forecast_mw"].reindex(index).astype("float64").rename("tso_forecast_mw")
    missing = int(demand.isna().sum())
    description = (
        f"{origin}; {len(index):,} hours {first:%Y-%m-%d %H:%M}Z .. {last:%Y-%m-%d %H:%M}Z, "
        f"{missing} without demand"
    )
    return DemandSeries(
        demand_mw=demand,
        tso_forecast_mw=None if tso.isna().all() else tso,
        description=description,
        notes=tuple(notes),
    )
