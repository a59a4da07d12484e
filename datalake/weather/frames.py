"""The hourly weather frame: its columns, the shared observation file read into it, and the
population-weighted national series.

One row is one hour at one location, as observed or as forecast at ``issued_at``. Units are in
the column names. Pure pandas, so the local pipeline, a Glue job (``applyInPandas``) and the
forecaster's covariates share this one definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from datalake.weather.locations import WeatherLocation, weights

#: The measured variables, with their units in the name.
VARIABLES: tuple[str, ...] = (
    "temperature_c",
    "apparent_temperature_c",
    "relative_humidity_pct",
    "wind_speed_kmh",
    "cloud_cover_pct",
    "shortwave_radiation_wm2",
)
#: ``weather_hourly``'s columns, in order.
COLUMNS: tuple[str, ...] = (
    "ts_utc", "location", "kind", "issued_at", *VARIABLES, "source", "extracted_at",
)  # fmt: skip
#: ``weather_national_hourly``'s columns: the weighted mean over the locations, with how many
#: of them had a temperature that hour.
NATIONAL_COLUMNS: tuple[str, ...] = ("ts_utc", "kind", "issued_at", *VARIABLES, "locations_reporting")
KINDS: tuple[str, ...] = ("observed", "forecast")

#: ``source`` of rows read from the shared file (OpenWeatherMap observations, via Kaggle).
OBSERVATIONS_FILE_SOURCE = "openweathermap-kaggle"

_KELVIN = 273.15
_MS_TO_KMH = 3.6
#: The shared file's physically impossible values, blanked rather than kept (see SOURCES.md):
#: three Valencia winds of 54-133 m/s, and humidities of 0 % that are missing readings.
_MAX_WIND_MS = 50.0
_FILE_COLUMNS = ("dt_iso", "city_name", "temp", "humidity", "wind_speed", "clouds_all")


@dataclass
class WeatherRead:
    """The result of reading an observation file.

    Attributes
    ----------
    frame
        Accepted hours in :data:`COLUMNS` order, one row per (``ts_utc``, ``location``).
    rejected
        Rows that could not be used: ``line`` (1-based, the header is line 1) and ``reason``.
    duplicates_merged
        Rows that repeated an hour and location already read (the feed lists several
        conditions for one hour; their measurements are identical).
    values_blanked
        ``{column: count}`` of impossible values set to missing.
    """

    frame: pd.DataFrame
    rejected: pd.DataFrame
    duplicates_merged: int = 0
    values_blanked: dict[str, int] = field(default_factory=dict)


def empty_frame() -> pd.DataFrame:
    """A ``weather_hourly`` frame with no rows and the right dtypes."""
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in COLUMNS})
    for column in ("ts_utc", "issued_at", "extracted_at"):
        frame[column] = pd.Series(dtype="datetime64[ns, UTC]")
    for column in ("location", "kind", "source"):
        frame[column] = pd.Series(dtype="object")
    return frame


def read_observations_csv(
    path: Path, *, extracted_at: dt.datetime | None = None, locations: Sequence[WeatherLocation] | None = None
) -> WeatherRead:
    """The shared hourly observation file (``weather_features_2015_2017.csv.gz`` format) as
    ``weather_hourly`` rows of kind ``observed``.

    Kelvin becomes °C and m/s km/h; city names are stripped (" Barcelona"); local stamps with
    their offset become UTC; repeated (hour, city) rows merge into one.

    Parameters
    ----------
    path
        A ``.csv`` or ``.csv.gz`` file with at least ``dt_iso, city_name, temp, humidity,
        wind_speed, clouds_all``.
    extracted_at
        Stamped on every row (default: now, UTC).
    locations
        When given, rows of other cities are rejected with a reason.

    Raises
    ------
    ValueError
        When a needed column is missing (naming it); bad rows are rejected, not raised.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in _FILE_COLUMNS if column not in raw.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
    line = pd.Series(np.arange(2, len(raw) + 2), index=raw.index)
    ts_utc = pd.to_datetime(raw["dt_iso"], utc=True, errors="coerce", format="ISO8601")
    city = raw["city_name"].str.strip()
    numbers = {column: pd.to_numeric(raw[column], errors="coerce") for column in _FILE_COLUMNS[2:]}
    reasons = pd.Series("", index=raw.index)
    reasons[ts_utc.isna()] = "dt_iso: not a timestamp with a UTC offset"
    reasons[(reasons == "") & (city == "")] = "city_name: empty"
    if locations is not None:
        known = {location.name for location in locations}
        reasons[(reasons == "") & ~city.isin(known)] = "city_name: not one of WEATHER_LOCATIONS"
    for column, values in numbers.items():
        reasons[(reasons == "") & values.isna()] = f"{column}: not a number"
    bad = reasons != ""
    rejected = pd.DataFrame({"line": line[bad].to_numpy(), "reason": reasons[bad].to_numpy()})

    ok = ~bad
    wind_ms = numbers["wind_speed"][ok]
    humidity = numbers["humidity"][ok]
    blanked = {
        "wind_speed_kmh": int((wind_ms > _MAX_WIND_MS).sum()),
        "relative_humidity_pct": int((humidity <= 0).sum()),
    }
    stamp = pd.Timestamp(extracted_at or dt.datetime.now(dt.UTC))
    frame = pd.DataFrame(
        {
            "ts_utc": ts_utc[ok],
            "location": city[ok],
            "kind": "observed",
            "issued_at": pd.NaT,
            "temperature_c": numbers["temp"][ok] - _KELVIN,
            "apparent_temperature_c": np.nan,
            "relative_humidity_pct": humidity.where(humidity > 0),
            "wind_speed_kmh": wind_ms.where(wind_ms <= _MAX_WIND_MS) * _MS_TO_KMH,
            "cloud_cover_pct": numbers["clouds_all"][ok],
            "shortwave_radiation_wm2": np.nan,
            "source": OBSERVATIONS_FILE_SOURCE,
            "extracted_at": stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC"),
        }
    )
    before = len(frame)
    frame = frame.drop_duplicates(subset=["ts_utc", "location"], keep="first")
    frame = frame.sort_values(["location", "ts_utc"], kind="stable").reset_index(drop=True)
    return WeatherRead(
        frame=conform(frame),
        rejected=rejected,
        duplicates_merged=before - len(frame),
        values_blanked={column: count for column, count in blanked.items() if count},
    )


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly :data:`COLUMNS`, in order, with their dtypes.

    Raises
    ------
    ValueError
        Naming a missing column or a ``kind`` outside :data:`KINDS`.
    """
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"weather frame: missing column(s) {', '.join(missing)}")
    out = frame.loc[:, list(COLUMNS)].copy()
    for column in ("ts_utc", "issued_at", "extracted_at"):
        out[column] = pd.to_datetime(out[column], utc=True)
    for column in VARIABLES:
        out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
    unknown = sorted(set(out["kind"].dropna()) - set(KINDS))
    if unknown:
        raise ValueError(f"weather frame: kind must be one of {list(KINDS)}, got {unknown}")
    forecast_without_issue = (out["kind"] == "forecast") & out["issued_at"].isna()
    if forecast_without_issue.any():
        raise ValueError(
            f"weather frame: issued_at is empty on {int(forecast_without_issue.sum()):,} forecast row(s)"
        )
    return out


def national_hourly(frame: pd.DataFrame, locations: Sequence[WeatherLocation]) -> pd.DataFrame:
    """The population-weighted national series of a ``weather_hourly`` frame.

    Each variable is the weighted mean over the locations that have it at that hour (weights
    renormalised over them), so one missing city does not drop the hour. Rows of locations
    not in ``locations`` are ignored. Grouped by (``ts_utc``, ``kind``, ``issued_at``): each
    forecast issue stays its own series.

    Returns
    -------
    pandas.DataFrame
        :data:`NATIONAL_COLUMNS`, sorted by ``kind``, ``issued_at``, ``ts_utc``.
    """
    share = weights(locations)
    rows = frame[frame["location"].isin(share)].copy()
    if rows.empty:
        empty = pd.DataFrame({column: pd.Series(dtype="float64") for column in NATIONAL_COLUMNS})
        for column in ("ts_utc", "issued_at"):
            empty[column] = pd.Series(dtype="datetime64[ns, UTC]")
        empty["kind"] = pd.Series(dtype="object")
        empty["locations_reporting"] = pd.Series(dtype="int64")
        return empty
    rows["_weight"] = rows["location"].map(share)
    # A sentinel stands in for "no issue time" because groupby drops NaT keys.
    never = pd.Timestamp("1970-01-01", tz="UTC")
    rows["issued_at"] = rows["issued_at"].fillna(never)
    keys = ["ts_utc", "kind", "issued_at"]
    out = rows[keys].drop_duplicates().set_index(keys)
    grouped = rows.groupby(keys, sort=False)
    for column in VARIABLES:
        present = rows[column].notna()
        weighted = (rows[column].fillna(0.0) * rows["_weight"]).groupby([rows[k] for k in keys]).sum()
        mass = (rows["_weight"] * present).groupby([rows[k] for k in keys]).sum()
        out[column] = (weighted / mass.replace(0.0, np.nan)).reindex(out.index)
    out["locations_reporting"] = grouped["temperature_c"].count().reindex(out.index).astype("int64")
    out = out.reset_index()
    out["issued_at"] = out["issued_at"].where(out["issued_at"] != never)
    out = out.sort_values(["kind", "issued_at", "ts_utc"], na_position="first", kind="stable")
    return out.loc[:, list(NATIONAL_COLUMNS)].reset_index(drop=True)
