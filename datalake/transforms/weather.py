"""Raw weather files -> ``weather_hourly``, ``weather_national_hourly`` and ``weather_daily``.

The raw files are Open-Meteo documents (``datalake.sources.open_meteo``: forecasts with their
issue time, archive days) and the shared observation file as landed by ``datalake ingest
weather-csv`` (``observations_file/``). Parsing needs Python (JSON arrays per variable, the CSV's
Kelvin, offsets and repeated hours), so each file is read by the same pandas functions the rest of
the lake uses (:func:`datalake.sources.open_meteo.document_rows`,
:func:`datalake.weather.frames.read_observations_csv`) inside ``mapInPandas``. The tables are then
computed per processed partition (a UTC month) with ``applyInPandas`` calling
:func:`datalake.weather.frames.conform` and :func:`~datalake.weather.frames.national_hourly`, so
the logic is defined once, for this job and for the forecaster.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from datalake.datasets.weather import (
    SOURCE_PREFERENCE,
    WEATHER_DAILY,
    WEATHER_HOURLY,
    WEATHER_NATIONAL_HOURLY,
)
from datalake.sources.open_meteo import document_rows
from datalake.transforms.documents import conform, local_date
from datalake.weather.frames import COLUMNS, NATIONAL_COLUMNS, national_hourly, read_observations_csv
from datalake.weather.frames import conform as conform_weather
from datalake.weather.locations import DEFAULT_LOCATIONS, WeatherLocation

PROBLEM = "problem"
_LANDED = re.compile(r"/year=(\d{4})/month=(\d{2})/day=(\d{2})/")
_SPARK_TYPES = {"timestamp": T.TimestampType(), "double": T.DoubleType(), "string": T.StringType()}


def _fields(columns: Sequence[str], spec_columns: dict[str, str]) -> list[T.StructField]:
    return [T.StructField(name, _SPARK_TYPES.get(spec_columns[name], T.LongType())) for name in columns]


_HOURLY_TYPES = {c.name: c.type for c in WEATHER_HOURLY.columns}
#: One parsed row: where it came from, the ``weather_hourly`` columns, and why it cannot stand.
PARSED = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("line", T.LongType()),
        *_fields(COLUMNS, _HOURLY_TYPES),
        T.StructField(PROBLEM, T.StringType()),
        T.StructField("raw_record", T.StringType()),
    ]
)
_PARTITION = [T.StructField("year", T.IntegerType()), T.StructField("month", T.IntegerType())]
HOURLY = T.StructType([*_fields(COLUMNS, _HOURLY_TYPES), *_PARTITION])
NATIONAL = T.StructType(
    [*_fields(NATIONAL_COLUMNS, {c.name: c.type for c in WEATHER_NATIONAL_HOURLY.columns}), *_PARTITION]
)


# -- files -> rows ----------------------------------------------------------------------------------


def landed_at(path: str) -> dt.datetime | None:
    """00:00 UTC of the landing day a raw file's ``year=/month=/day=`` folder names (None outside one)."""
    found = _LANDED.search(path)
    if found is None:
        return None
    return dt.datetime(*(int(part) for part in found.groups()), tzinfo=dt.UTC)


def csv_rows(path: str, content: bytes, locations: Sequence[WeatherLocation]) -> pd.DataFrame:
    """The shared observation file's hours, and its rejected lines with their reasons and text.

    ``extracted_at`` is the file's landing day (its folder), so parsing it again (``--full``) gives
    the same rows.
    """
    stamp = landed_at(path)
    if stamp is None:
        return _problem(path, "raw file is not under year=/month=/day=/ (the landing date)", path)
    suffix = ".csv.gz" if path.endswith(".gz") else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / f"observations{suffix}"
        local.write_bytes(content)
        try:
            read = read_observations_csv(local, extracted_at=stamp, locations=locations)
        except (ValueError, UnicodeDecodeError, EOFError, OSError) as error:
            return _problem(
                path, f"unreadable observation file: {error}", content[:2000].decode(errors="replace")
            )
    rows = read.frame.assign(line=pd.NA, problem=None, raw_record=None)
    if read.rejected.empty:
        return rows
    text = (gzip.decompress(content) if suffix == ".csv.gz" else content).decode("utf-8", errors="replace")
    lines = text.splitlines()
    rejected = pd.DataFrame(
        {
            "line": read.rejected["line"].astype("int64"),
            PROBLEM: read.rejected["reason"],
            "raw_record": [lines[n - 1] if 0 < n <= len(lines) else "" for n in read.rejected["line"]],
        }
    )
    return pd.concat([rows, rejected], ignore_index=True)


def _problem(path: str, problem: str, raw: str) -> pd.DataFrame:
    return pd.DataFrame({"path": [path], PROBLEM: [problem], "raw_record": [raw]})


def file_rows(path: str, content: bytes, locations: Sequence[WeatherLocation]) -> pd.DataFrame:
    """One raw file as :data:`PARSED` rows (a file that is neither format is one row with a problem)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".json"):
        rows = document_rows(content.decode("utf-8", errors="replace"))
    elif name.endswith((".csv", ".csv.gz")):
        rows = csv_rows(path, content, locations)
    else:
        rows = _problem(path, "not a weather file (.json from Open-Meteo, or the .csv[.gz] file)", name)
    return rows.assign(path=path)


def files_to_rows(files: DataFrame, locations: Sequence[WeatherLocation] = DEFAULT_LOCATIONS) -> DataFrame:
    """Raw files (``path``, ``content`` bytes) -> :data:`PARSED` rows, one per hour or rejected line."""

    def parse(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            frames = [
                file_rows(path, bytes(content), locations)
                for path, content in zip(batch["path"], batch["content"], strict=True)
            ]
            if frames:
                # One frame per batch, not per file: conforming and the Arrow hand-over cost the
                # same for 24 rows as for thousands (a year of SAMPLE days: 1,840 files).
                yield conform(pd.concat(frames, ignore_index=True), PARSED)

    return files.select("path", "content").mapInPandas(parse, PARSED)


# -- rows -> tables, per processed partition --------------------------------------------------------


def _with_partition(frame: pd.DataFrame) -> pd.DataFrame:
    stamps = pd.to_datetime(frame["ts_utc"], utc=True)
    return frame.assign(year=stamps.dt.year.astype("int32"), month=stamps.dt.month.astype("int32"))


def _spark_frame(frame: pd.DataFrame, schema: T.StructType) -> pd.DataFrame:
    out = frame.copy()
    for name in ("ts_utc", "issued_at", "extracted_at"):
        if name in out.columns:
            # Spark reads naive timestamps in the session zone, which get_spark sets to UTC.
            out[name] = pd.to_datetime(out[name], utc=True).dt.tz_localize(None)
    return out.loc[:, schema.fieldNames()]


def partition_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One partition's kept rows as ``weather_hourly`` (:func:`~datalake.weather.frames.conform`)."""
    return _spark_frame(_with_partition(conform_weather(frame)), HOURLY)


def weather_hourly(latest: DataFrame) -> DataFrame:
    """The kept rows (one per hour, location, kind, issue and source) as ``weather_hourly`` + partitions."""
    rows = latest.select(*COLUMNS).withColumn("year", F.year("ts_utc")).withColumn("month", F.month("ts_utc"))
    return rows.groupBy("year", "month").applyInPandas(partition_rows, HOURLY)


def preferred_source(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (hour, location, kind, issue): the first source of :data:`SOURCE_PREFERENCE` present.

    Station observations, Open-Meteo's model data and generated data are never averaged together.
    """
    rank = (
        frame["source"]
        .map({source: n for n, source in enumerate(SOURCE_PREFERENCE)})
        .fillna(len(SOURCE_PREFERENCE))
    )
    ordered = frame.assign(_rank=rank).sort_values("_rank", kind="stable")
    keys = ["ts_utc", "location", "kind", "issued_at"]
    return ordered.drop_duplicates(subset=keys, keep="first").drop(columns="_rank")


def national_partition(locations: Sequence[WeatherLocation]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The per-partition function of ``weather_national_hourly``: one source per hour and place, then
    :func:`~datalake.weather.frames.national_hourly`."""

    def compute(frame: pd.DataFrame) -> pd.DataFrame:
        national = national_hourly(preferred_source(conform_weather(frame)), locations)
        return _spark_frame(_with_partition(national), NATIONAL)

    return compute


def national_rows(hourly: DataFrame, locations: Sequence[WeatherLocation] = DEFAULT_LOCATIONS) -> DataFrame:
    """``weather_national_hourly`` (+ partitions) from ``weather_hourly``, a UTC month at a time."""
    return hourly.groupBy("year", "month").applyInPandas(national_partition(locations), NATIONAL)


def daily_rows(hourly: DataFrame) -> DataFrame:
    """``weather_daily`` (+ ``year``): each source's observed hours per city and Europe/Madrid day."""
    observed = hourly.filter(F.col("kind") == "observed").withColumn("local_date", local_date())
    days = observed.groupBy("local_date", "location", "source").agg(
        F.avg("temperature_c").alias("temperature_mean_c"),
        F.min("temperature_c").alias("temperature_min_c"),
        F.max("temperature_c").alias("temperature_max_c"),
        *(F.avg(name).alias(name) for name in ("relative_humidity_pct", "wind_speed_kmh", "cloud_cover_pct")),
        F.count("temperature_c").cast("int").alias("hours_observed"),
    )
    return days.withColumn("year", F.year("local_date")).select(*WEATHER_DAILY.column_names, "year")
