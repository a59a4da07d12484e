"""Raw ENTSO-E day files -> typed rows of ``demand_hourly`` and ``generation``.

Raw holds one CSV per Europe/Madrid day (``datalake.sources.entsoe`` wrote it): ISO times
with offsets, the load and the TSO's day-ahead forecast, and, from the Kaggle file,
generation by technology in MW. Each file is read whole and flattened with pandas inside
``mapInPandas``, so files whose columns differ (an empty column is not landed) never shift
into each other the way one multi-file CSV read would.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.transforms.documents import conform, local_date

PROBLEM = "problem"
RENEWABLE, NON_RENEWABLE = "Renovable", "No-Renovable"
#: Pumping water uphill consumes power: it is stored as negative generation, as REE shows it.
CONSUMPTION_COLUMNS = frozenset({"gen_hydro_pumped_storage_consumption_mw"})
#: Raw column -> (ENTSO-E production type, REE's renewable grouping), so both sources group alike.
TECHNOLOGIES: dict[str, tuple[str, str]] = {
    "gen_biomass_mw": ("Biomass", RENEWABLE),
    "gen_fossil_brown_coal_lignite_mw": ("Fossil Brown coal/Lignite", NON_RENEWABLE),
    "gen_fossil_coal_derived_gas_mw": ("Fossil Coal-derived gas", NON_RENEWABLE),
    "gen_fossil_gas_mw": ("Fossil Gas", NON_RENEWABLE),
    "gen_fossil_hard_coal_mw": ("Fossil Hard coal", NON_RENEWABLE),
    "gen_fossil_oil_mw": ("Fossil Oil", NON_RENEWABLE),
    "gen_fossil_oil_shale_mw": ("Fossil Oil shale", NON_RENEWABLE),
    "gen_fossil_peat_mw": ("Fossil Peat", NON_RENEWABLE),
    "gen_geothermal_mw": ("Geothermal", RENEWABLE),
    "gen_hydro_pumped_storage_aggregated_mw": ("Hydro Pumped Storage", NON_RENEWABLE),
    "gen_hydro_pumped_storage_consumption_mw": ("Hydro Pumped Storage consumption", NON_RENEWABLE),
    "gen_hydro_run_of_river_and_poundage_mw": ("Hydro Run-of-river and poundage", RENEWABLE),
    "gen_hydro_water_reservoir_mw": ("Hydro Water Reservoir", RENEWABLE),
    "gen_marine_mw": ("Marine", RENEWABLE),
    "gen_nuclear_mw": ("Nuclear", NON_RENEWABLE),
    "gen_other_mw": ("Other", NON_RENEWABLE),
    "gen_other_renewable_mw": ("Other renewable", RENEWABLE),
    "gen_solar_mw": ("Solar", RENEWABLE),
    # REE splits waste into renewable and not; ENTSO-E does not, so it counts as not renewable.
    "gen_waste_mw": ("Waste", NON_RENEWABLE),
    "gen_wind_offshore_mw": ("Wind Offshore", RENEWABLE),
    "gen_wind_onshore_mw": ("Wind Onshore", RENEWABLE),
}
#: Raw columns kept in a quarantined row's ``raw_record`` (generation columns travel one by one).
_RECORD_COLUMNS = (
    "ts_utc",
    "local_time",
    "period",
    "tso_forecast_mw",
    "demand_mw",
    "problem",
    "extracted_at",
    "source_file",
    "source_line",
)

VALUE_ROWS = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("kind", T.StringType()),
        T.StructField("ts_utc", T.TimestampType()),
        T.StructField("region", T.StringType()),
        T.StructField("source", T.StringType()),
        T.StructField("technology", T.StringType()),
        T.StructField("technology_group", T.StringType()),
        T.StructField("value", T.DoubleType()),
        T.StructField("share", T.DoubleType()),
        T.StructField("tso_forecast_mw", T.DoubleType()),
        T.StructField("extracted_at", T.TimestampType()),
        T.StructField(PROBLEM, T.StringType()),
        T.StructField("raw_record", T.StringType()),
    ]
)


def technology_of(column: str) -> tuple[str, str | None]:
    """(technology name, renewable group) of a raw ``gen_*_mw`` column; unknown ones keep their words."""
    if column in TECHNOLOGIES:
        return TECHNOLOGIES[column]
    return column.removeprefix("gen_").removesuffix("_mw").replace("_", " "), None


def _json_lines(frame: pd.DataFrame) -> list[str]:
    # pandas writes JSON in C: one json.dumps per row is too slow for half a million rows.
    return frame.to_json(orient="records", lines=True, force_ascii=False).splitlines() if len(frame) else []


def _utc(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")


def _numbers(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.replace("", None), errors="coerce").astype("float64")


def _read_file(path: str, content: str) -> pd.DataFrame:
    """One raw day file as text columns, or a single row with a ``problem`` when it cannot be read."""
    try:
        frame = pd.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
        missing = {"ts_utc", "region", "source", "demand_mw", "extracted_at"} - set(frame.columns)
        if missing:
            raise ValueError(f"columns missing: {sorted(missing)}")
    except (ValueError, pd.errors.ParserError) as error:
        return pd.DataFrame(
            {
                "path": [path],
                "_unreadable": [f"unreadable ENTSO-E raw file: {error}"],
                "_content": [content[:2000]],
            }
        )
    return frame.assign(path=path)


def batch_rows(files: pd.DataFrame) -> pd.DataFrame:
    """Raw day files (``path``, ``content``) -> a demand row per hour, a generation row per hour and
    technology, and a row per unreadable file; columns as ``VALUE_ROWS``."""
    frames = [_read_file(p, c) for p, c in zip(files["path"], files["content"], strict=True)]
    out = [
        pd.DataFrame({"path": f["path"], PROBLEM: f["_unreadable"], "raw_record": f["_content"]})
        for f in frames
        if "_unreadable" in f
    ]
    # Files with the same columns are flattened together; a column one file lacks is not a value.
    by_columns: dict[tuple[str, ...], list[pd.DataFrame]] = {}
    for frame in frames:
        if "_unreadable" not in frame:
            by_columns.setdefault(tuple(frame.columns), []).append(frame)
    for group in by_columns.values():
        raw = pd.concat(group, ignore_index=True)
        out += [_demand(raw), _generation(raw)]
    return conform(pd.concat(out, ignore_index=True), VALUE_ROWS)


def _demand(raw: pd.DataFrame) -> pd.DataFrame:
    demand = _numbers(raw["demand_mw"])
    problem = raw.get(PROBLEM, pd.Series("", index=raw.index)).replace("", None)
    return pd.DataFrame(
        {
            "path": raw["path"],
            "kind": "demand",
            "ts_utc": _utc(raw["ts_utc"]),
            "region": raw["region"],
            "source": raw["source"],
            "value": demand,
            "tso_forecast_mw": _numbers(raw["tso_forecast_mw"]) if "tso_forecast_mw" in raw else np.nan,
            "extracted_at": _utc(raw["extracted_at"]),
            # A missing forecast is allowed (nullable); a missing load is the row's problem.
            PROBLEM: problem.fillna("demand_mw missing").where(demand.isna()),
            "raw_record": _json_lines(raw[[c for c in _RECORD_COLUMNS if c in raw.columns]]),
        }
    )


def _generation(raw: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in raw.columns if c.startswith("gen_") and c.endswith("_mw")]
    if not columns:
        return pd.DataFrame()
    megawatts = raw[columns].apply(_numbers)
    for column in CONSUMPTION_COLUMNS & set(columns):
        megawatts[column] = -megawatts[column]
    produced = megawatts.clip(lower=0).sum(axis=1, min_count=1)
    share = megawatts.div(produced.where(produced > 0), axis=0).where(megawatts >= 0)
    for column in CONSUMPTION_COLUMNS & set(columns):
        share[column] = np.nan  # a share of generation; consumption has none
    ids = ["path", "ts_utc", "region", "source", "extracted_at", "source_file", "source_line"]
    keys = raw.reindex(columns=ids).fillna("")
    long = pd.concat(
        [
            keys.assign(column=column, value=megawatts[column], share=share[column], text=raw[column])
            for column in columns
        ],
        ignore_index=True,
    )
    names = {column: technology_of(column) for column in columns}
    return pd.DataFrame(
        {
            "path": long["path"],
            "kind": "generation",
            "ts_utc": _utc(long["ts_utc"]),
            "region": long["region"],
            "source": long["source"],
            "technology": long["column"].map(lambda c: names[c][0]),
            "technology_group": long["column"].map(lambda c: names[c][1]),
            # One hour at a mean of X MW is X MWh.
            "value": long["value"],
            "share": long["share"],
            "extracted_at": _utc(long["extracted_at"]),
            PROBLEM: (long["column"] + " missing").where(long["value"].isna()),
            "raw_record": _json_lines(
                long[["ts_utc", "source_file", "source_line", "column", "text"]].rename(
                    columns={"text": "value"}
                )
            ),
        }
    )


def files_to_rows(documents: DataFrame) -> DataFrame:
    """Flatten raw day files (``path``, ``content``) into one row per demand value or generation value."""
    # mapInPandas stays here (issue 16): each day file carries its own header, whose generation
    # columns vary file to file and become rows (a wide-to-long unpivot per column set), which
    # pandas does per batch of whole files. The data is small (one ~25-row file per day); the
    # energy company and REE transforms, whose inputs grow, use Spark's functions only.

    def flatten(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield batch_rows(batch)

    return documents.mapInPandas(flatten, VALUE_ROWS)


def demand_rows(values: DataFrame) -> DataFrame:
    """``demand_hourly`` rows (with partitions, ``problem`` and ``raw_record``)."""
    return (
        values.filter(F.col("kind") == "demand")
        .select(
            F.col("ts_utc"),
            local_date().alias("local_date"),
            F.col("region"),
            F.col("value").alias("demand_mw"),
            F.col("source"),
            F.col("tso_forecast_mw"),
            F.col("extracted_at"),
            F.year(local_date()).alias("year"),
            F.month(local_date()).alias("month"),
            F.col(PROBLEM),
            F.col("raw_record"),
        )
        .select(*DEMAND_HOURLY.column_names, "year", "month", PROBLEM, "raw_record")
    )


def generation_rows(values: DataFrame) -> DataFrame:
    """``generation`` rows, hourly, one per technology (with partitions, ``problem``, ``raw_record``)."""
    return (
        values.filter(F.col("kind") == "generation")
        .select(
            F.col("ts_utc"),
            local_date().alias("local_date"),
            F.lit("hour").alias("time_grain"),
            F.col("region"),
            F.col("technology"),
            F.col("technology_group"),
            F.col("value").alias("energy_mwh"),
            F.col("share"),
            F.col("source"),
            F.col("extracted_at"),
            F.year(local_date()).alias("year"),
            F.col(PROBLEM),
            F.col("raw_record"),
        )
        .select(*GENERATION.column_names, "year", PROBLEM, "raw_record")
    )


def unreadable_rows(values: DataFrame) -> DataFrame:
    """Files that could not be read at all, for quarantine."""
    return values.filter(F.col("kind").isNull())
