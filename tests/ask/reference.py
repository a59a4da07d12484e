"""A pandas reference for the evaluation's gold values: the same questions answered without SQL.

It reads the frames of :func:`datalake.ask.evaluation.sample_frames` directly, with its own
implementation of the rules the SQL follows (one source per hour, ree > entsoe > sample and
sample never mixed with real rows; per day the best source and grain of generation; totals
recomputed from positive technology values). ``build_questions.py`` uses it to write the
gold values of ``questions.yaml``, so the gold never comes from the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from datalake.ask.lexicon import RANKED_TECHNOLOGIES, TECHNOLOGIES

MADRID = "Europe/Madrid"
_RANK = {"ree": 1, "entsoe": 2, "sample": 3}
_TECH = {t.key: t for t in TECHNOLOGIES}
#: A source's technology name -> the ranked technology it counts for (a name not listed ranks as itself).
_RANKED_KEY = {name: t.key for t in RANKED_TECHNOLOGIES for name in t.names}


def utc(text: str) -> pd.Timestamp:
    """An ISO local time (with offset) as a UTC timestamp."""
    return pd.Timestamp(dt.datetime.fromisoformat(text)).tz_convert("UTC")


def _in_periods(ts: pd.Series, periods: list[tuple[str, str]]) -> pd.Series:
    mask = pd.Series(False, index=ts.index)
    for start, end in periods:
        mask |= (ts >= utc(start)) & (ts < utc(end))
    return mask


def _needs_hours(spec: dict[str, Any]) -> bool:
    aggregate, granularity = spec["aggregate"], spec.get("granularity")
    if aggregate == "rank":
        return spec.get("inner", "total") == "average"
    if aggregate == "average":
        return granularity in (None, "hour")
    if aggregate == "compare":
        return spec.get("inner", "total") != "total"
    return aggregate in ("instant", "max", "min", "top", "trend") and granularity in (None, "hour")


def series(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> pd.DataFrame:
    """Per ``ts_utc``: ``local_date`` and ``value`` (demand/forecast) or ``part``/``whole`` (generation)."""
    region = spec.get("region", "national")
    periods = spec["periods"]
    if spec["measure"] in ("demand", "forecast"):
        rows = frames["demand_hourly"]
        column = "tso_forecast_mw" if spec["measure"] == "forecast" else "demand_mw"
        rows = rows[(rows["region"] == region) & rows[column].notna()]
        if (rows["source"] != "sample").any():
            rows = rows[rows["source"] != "sample"]
        rows = rows[_in_periods(rows["ts_utc"], periods)]
        rows = rows.assign(rank=rows["source"].map(_RANK)).sort_values(["ts_utc", "rank"])
        chosen = rows.drop_duplicates("ts_utc", keep="first")
        return chosen[["ts_utc", "local_date"]].assign(value=chosen[column].to_numpy()).reset_index(drop=True)
    rows = generation_rows(frames, spec)
    technology = _TECH.get(spec.get("technology") or "")
    part = rows["energy_mwh"] > 0 if technology is None else _of_technology(rows, technology)
    frame = rows.assign(
        part=rows["energy_mwh"].where(part, 0.0), whole=rows["energy_mwh"].where(rows["energy_mwh"] > 0, 0.0)
    )
    return frame.groupby(["ts_utc", "local_date"], as_index=False)[["part", "whole"]].sum()


def generation_rows(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> pd.DataFrame:
    """The generation rows that count: per local day the best (source, grain), no REE "total" rows."""
    rows = frames["generation"]
    rows = rows[
        (rows["region"] == spec.get("region", "national")) & (rows["technology_group"].fillna("") != "total")
    ]
    if (rows["source"] != "sample").any():
        rows = rows[rows["source"] != "sample"]
    rows = rows[_in_periods(rows["ts_utc"], spec["periods"])]
    if _needs_hours(spec):
        rows = rows[rows["time_grain"] == "hour"]
    rank = rows["source"].map(_RANK) * 10 + np.where(rows["time_grain"] == "hour", 1, 2)
    best = rank.groupby(rows["local_date"]).transform("min")
    return rows[rank == best]


def _of_technology(rows: pd.DataFrame, technology: Any) -> pd.Series:
    if technology.group:
        return rows["technology_group"] == technology.group
    return rows["technology"].isin(technology.names)


def ranking(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """Technologies ranked over the period: ``values`` and ``technologies`` (keys), in order."""
    rows = generation_rows(frames, spec)
    rows = rows[rows["energy_mwh"] > 0]
    total, hours = rows["energy_mwh"].sum(), rows["ts_utc"].nunique()
    family = _TECH.get(spec.get("technology") or "")
    if family is not None:
        rows = rows[_of_technology(rows, family)]
    keys = rows["technology"].map(_RANKED_KEY).fillna(rows["technology"])
    energy = rows.groupby(keys)["energy_mwh"].sum()
    energy = energy[energy > 0]
    if spec["measure"] == "share":
        values = energy / total
    elif spec.get("inner") == "average":
        values = energy / hours
    else:
        values = energy
    ascending = spec.get("order", "desc") == "asc"
    ordered = sorted(values.items(), key=lambda kv: (kv[1] if ascending else -kv[1], kv[0]))
    ordered = ordered[: spec.get("k") or len(ordered)]
    return {"values": [float(v) for _, v in ordered], "technologies": [key for key, _ in ordered]}


def _bucket(frame: pd.DataFrame, granularity: str) -> pd.Series:
    day = pd.to_datetime(frame["local_date"])
    if granularity == "day":
        return day.dt.date.astype(str)
    if granularity == "week":
        return (day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date.astype(str)
    if granularity == "month":
        return day.dt.to_period("M").dt.start_time.dt.date.astype(str)
    return day.dt.to_period("Y").dt.start_time.dt.date.astype(str)


def _summary(group: pd.DataFrame, inner: str, share: bool) -> float | None:
    if share:
        whole = group["whole"].sum()
        return float(group["part"].sum() / whole) if whole else None
    values = group["value"] if "value" in group else group["part"]
    if values.empty:
        return None
    return float(
        {
            "total": values.sum,
            "instant": values.sum,
            "average": values.mean,
            "max": values.max,
            "min": values.min,
        }[inner]()
    )


def answer(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """``{"values": [...], "times": [...]}`` answering ``spec`` (times only where the answer has them)."""
    if spec["aggregate"] == "rank":
        return ranking(frames, spec)
    if spec["aggregate"] == "error":
        return forecast_error(frames, {**spec, "statistic": spec["inner"]})
    if spec.get("against"):  # two technologies side by side, in the order asked
        first = {k: v for k, v in spec.items() if k != "against"} | {"aggregate": spec.get("inner", "total")}
        second = {**first, "technology": spec["against"]}
        return measures_side_by_side(frames, [first, second])
    data = series(frames, spec)
    share = spec["measure"] == "share"
    if share:
        data = data.assign(value=data["part"] / data["whole"].where(data["whole"] != 0))
    elif "value" not in data:
        data = data.assign(value=data["part"])
    aggregate = spec["aggregate"]
    inner = spec.get("inner", "total")
    granularity = spec.get("granularity") or "hour"
    iso = lambda ts: ts.isoformat()  # noqa: E731
    if aggregate == "instant":
        return {"values": data["value"].tolist(), "times": data["ts_utc"].map(iso).tolist()}
    if aggregate == "total":
        return {"values": [_summary(data, "total", share)]}
    if aggregate == "average":
        if granularity == "hour":
            return {"values": [float(data["value"].mean()) if len(data) else None]}
        totals = data.groupby(_bucket(data, granularity))["value"].sum()
        return {"values": [float(totals.mean()) if len(totals) else None]}
    if aggregate in ("max", "min", "top"):
        ascending = spec.get("order", "desc") == "asc"
        k = spec.get("k") or 1
        if granularity == "hour":
            ranked = data[data["whole"] > 0] if share else data
            ranked = ranked.sort_values(["value", "ts_utc"], ascending=[ascending, True]).head(k)
            return {"values": ranked["value"].tolist(), "times": ranked["ts_utc"].map(iso).tolist()}
        keys = _bucket(data, granularity)
        inner_bucket = inner if inner in ("total", "average") else "total"
        buckets = pd.Series({key: _summary(group, inner_bucket, share) for key, group in data.groupby(keys)})
        buckets = buckets.dropna()
        ordered = sorted(buckets.items(), key=lambda kv: (kv[1] if ascending else -kv[1], kv[0]))[:k]
        return {"values": [v for _, v in ordered], "times": [key for key, _ in ordered]}
    if aggregate == "trend":
        if granularity == "hour":
            ordered = data.sort_values("ts_utc")
            return {"values": ordered["value"].tolist(), "times": ordered["ts_utc"].map(iso).tolist()}
        keys = _bucket(data, granularity)
        buckets = {key: _summary(group, inner, share) for key, group in data.groupby(keys)}
        return {"values": [buckets[k] for k in sorted(buckets)], "times": sorted(buckets)}
    if aggregate == "compare":
        values = []
        for start, end in spec["periods"]:
            part = data[(data["ts_utc"] >= utc(start)) & (data["ts_utc"] < utc(end))]
            values.append(_summary(part, inner, share))
        return {"values": values}
    raise ValueError(aggregate)


# -- the generalisation clusters (tests/ask/build_generalisation.py) ---------------------------------

#: Local weekdays, Monday first (as ``datetime.date.weekday`` numbers them).
WEEKDAYS = (
    ("monday", "lunes"), ("tuesday", "martes"), ("wednesday", "miércoles"), ("thursday", "jueves"),
    ("friday", "viernes"), ("saturday", "sábado"), ("sunday", "domingo"),
)  # fmt: skip


def hourly(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> pd.DataFrame:
    """Per hour of ``spec``'s periods: ``ts_utc``, ``weekday`` (local, Monday 0) and ``value`` (MW)."""
    data = series(frames, {**spec, "aggregate": "average"})
    value = data["value"] if "value" in data else data["part"]
    weekday = pd.to_datetime(data["local_date"]).dt.weekday
    return pd.DataFrame({"ts_utc": data["ts_utc"], "weekday": weekday, "value": value})


def weekday_means(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """The hourly mean per local weekday, Monday to Sunday."""
    data = hourly(frames, spec)
    means = data.groupby("weekday")["value"].mean()
    return {"values": [float(means[day]) if day in means else None for day in range(7)]}


def workday_weekend_means(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """The hourly mean on weekdays (Monday to Friday), then on weekends (local Saturday and Sunday)."""
    data = hourly(frames, spec)
    weekend = data["weekday"] >= 5
    return {"values": [float(data.loc[~weekend, "value"].mean()), float(data.loc[weekend, "value"].mean())]}


def weekend_mean(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """The hourly mean over the weekends' hours only."""
    return {"values": workday_weekend_means(frames, spec)["values"][1:]}


def busiest_weekday(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """The weekday with the highest hourly mean: its mean, and its names (English, Spanish)."""
    means = weekday_means(frames, spec)["values"]
    best = max(range(7), key=lambda day: (means[day] is not None, means[day] or 0.0))
    return {"values": [means[best]], "labels": [list(WEEKDAYS[best])]}


def forecast_error(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """MAE (MW) or MAPE (%) of the operator's forecast against the actual demand, hour by hour.

    The actual is the lake's demand for the hour (the best source); only hours with both count.
    """
    actual = series(frames, {**spec, "measure": "demand"}).set_index("ts_utc")["value"]
    forecast = series(frames, {**spec, "measure": "forecast"}).set_index("ts_utc")["value"]
    both = pd.concat([actual.rename("actual"), forecast.rename("forecast")], axis=1, join="inner").dropna()
    error = (both["actual"] - both["forecast"]).abs()
    if spec["statistic"] == "mape":
        return {"values": [float((error / both["actual"]).mean() * 100)]}
    return {"values": [float(error.mean())]}


def measures_side_by_side(
    frames: dict[str, pd.DataFrame], specs: list[dict[str, Any]]
) -> dict[str, list[Any]]:
    """One value per spec (two measures or two technologies over one period), in the order asked."""
    return {"values": [answer(frames, spec)["values"][0] for spec in specs]}


def percent_change(
    frames: dict[str, pd.DataFrame], before: dict[str, Any], after: dict[str, Any]
) -> dict[str, list[Any]]:
    """``(after - before) / before`` in percent, each side answered as its own question."""
    first, second = answer(frames, before)["values"][0], answer(frames, after)["values"][0]
    return {"values": [float((second - first) / first * 100)]}


# -- the held-out electricity set (tests/ask/build_heldout_electricity.py) ---------------------------


def quietest_weekday(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """The weekday with the lowest hourly mean: its mean, and its names (English, Spanish)."""
    means = weekday_means(frames, spec)["values"]
    present = [day for day in range(7) if means[day] is not None]
    worst = min(present, key=lambda day: means[day])
    return {"values": [means[worst]], "labels": [list(WEEKDAYS[worst])]}


def one_weekday_mean(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """The hourly mean over the hours of one local weekday (``spec["weekday"]``, Monday 0)."""
    return {"values": [weekday_means(frames, spec)["values"][spec["weekday"]]]}


def extreme_bucket(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """Only the time of the top bucket (a day or a month by its total): "which day had the most"
    asks for the day, whatever size the asker reads next to it."""
    return {"times": answer(frames, spec)["times"]}


def top_technologies(frames: dict[str, pd.DataFrame], spec: dict[str, Any]) -> dict[str, list[Any]]:
    """Only the ranked technologies' keys: "which source led" asks for the source."""
    return {"technologies": ranking(frames, spec)["technologies"]}
