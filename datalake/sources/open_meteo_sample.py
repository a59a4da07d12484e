"""A labelled SAMPLE Open-Meteo: generated hourly weather behind the real forecast and archive API shapes.

Plausible, not real: the temperature follows the season (coldest mid-January) and the hour
(warmest mid-afternoon UTC), lower with latitude; humidity moves against it, radiation follows
the sun's height, wind and cloud vary around a mean, all with seeded noise, so a location, hour
and seed always give the same values. Every answer carries ``"sample": true`` and the raw files
and rows made from it say ``sample``.

:class:`SampleTransport` answers as Open-Meteo does (``open_meteo/`` in ../shared/data): the
envelope's keys in order, a bare object for one location and an array (with ``location_id``
after the first) for several, ``hourly_units`` then ``hourly`` in request order, integers for the
percentages, ``{"error": true, "reason": ...}`` with HTTP 400 for an unknown variable, a latitude
out of range or a date outside the allowed window, so ``sample_client()`` runs the real client,
raw writer and transform offline.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np

from datalake.sources.open_meteo import HOURLY, OpenMeteoClient

SAMPLE_FORECAST_URL = "https://api.open-meteo-sample.invalid/v1/forecast"
SAMPLE_ARCHIVE_URL = "https://archive-api.open-meteo-sample.invalid/v1/archive"
#: The archive's first day, as on the real host.
ARCHIVE_FIRST_DAY = dt.date(1940, 1, 1)


def hourly_values(
    latitude: float, longitude: float, hours: list[dt.datetime], seed: int = 23
) -> dict[str, list]:
    """The generated values of each variable of :data:`HOURLY` at each UTC hour (rounded as the API does)."""
    temperature, apparent, humidity, wind, cloud, radiation = ([] for _ in range(6))
    for moment in hours:
        cell = (round(latitude * 100) % 100_000, round(longitude * 100) % 100_000)
        rng = np.random.default_rng([seed, *cell, int(moment.timestamp()) // 3600])
        day_of_year = moment.timetuple().tm_yday
        season = -math.cos((day_of_year - 15) / 365.25 * 2 * math.pi)  # -1 mid-January, +1 mid-July
        solar_hour = moment.hour + moment.minute / 60 + longitude / 15
        diurnal = math.sin((solar_hour - 9) / 24 * 2 * math.pi)  # warmest about 15:00 solar
        base = 33.0 - 0.45 * latitude  # a yearly mean of about 15 °C at Madrid's latitude
        t = base + 9.0 * season + 5.5 * diurnal + float(rng.normal(0, 1.2))
        h = min(100.0, max(8.0, 62 - 2.2 * (t - base) - 8 * season + float(rng.normal(0, 6))))
        w = max(0.0, 11 + 3 * diurnal + float(rng.normal(0, 3)))
        c = min(100.0, max(0.0, 38 - 18 * season + float(rng.normal(0, 25))))
        # The sun's height from the day and the solar hour; radiation is the mean of the hour before.
        declination = 23.44 * math.sin((day_of_year - 81) / 365.25 * 2 * math.pi)
        elevation = math.asin(
            math.sin(math.radians(latitude)) * math.sin(math.radians(declination))
            + math.cos(math.radians(latitude))
            * math.cos(math.radians(declination))
            * math.cos(math.radians(15 * (solar_hour - 0.5 - 12)))
        )
        r = max(0.0, 1000 * math.sin(elevation)) * (1 - 0.6 * c / 100)
        temperature.append(round(t, 1))
        apparent.append(round(t - 0.1 * w + 0.02 * (h - 50), 1))
        humidity.append(round(h))
        wind.append(round(w, 1))
        cloud.append(round(c))
        radiation.append(round(r, 1))
    return dict(zip(HOURLY, (temperature, apparent, humidity, wind, cloud, radiation), strict=True))


def _answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "X-Sample-Data": "true"},
    )


def _error(reason: str) -> httpx.Response:
    return _answer(400, {"error": True, "reason": reason})


class SampleTransport(httpx.MockTransport):
    """An httpx transport answering Open-Meteo forecast and archive requests with generated weather.

    ``clock`` says what "today" is for the forecast (its hours start at 00:00 UTC today) and for
    the windows the hosts allow; ``requests`` keeps every request answered (tests read them).
    """

    def __init__(self, seed: int = 23, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.seed = seed
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.requests: list[httpx.Request] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        path = request.url.path.rstrip("/")
        if path not in ("/v1/forecast", "/v1/archive"):
            return _answer(404, {"error": True, "reason": "Not Found"})
        try:
            latitudes = [float(v) for v in params.get("latitude", "").split(",")]
            longitudes = [float(v) for v in params.get("longitude", "").split(",")]
        except ValueError:
            return _error("Parameter 'latitude' and 'longitude' must be numbers")
        for latitude in latitudes:
            if not -90 <= latitude <= 90:
                return _error(f"Latitude must be in range of -90 to 90°. Given: {latitude}.")
        if len(latitudes) != len(longitudes):
            return _error("Parameter 'latitude' and 'longitude' must have the same number of elements")
        variables = [v for v in params.get("hourly", "").split(",") if v]
        for variable in variables:
            if variable not in HOURLY:
                return _error(
                    "Data corrupted at path ''. Cannot initialize SurfacePressureAndHeightVariable"
                    f"<SAMPLE> from invalid String value {variable}."
                )
        today = self.clock().astimezone(dt.UTC).date()
        if path == "/v1/forecast":
            days = int(params.get("forecast_days", "7"))
            if not 0 <= days <= 16:
                return _error(
                    f"Parameter 'forecast_days' is out of allowed range from 0 to 16. Given: {days}."
                )
            first, last = today, today + dt.timedelta(days=days - 1)
        else:
            try:
                first = dt.date.fromisoformat(params.get("start_date", ""))
                last = dt.date.fromisoformat(params.get("end_date", ""))
            except ValueError:
                return _error("Parameter 'start_date' and 'end_date' are required")
            for name, day in (("start_date", first), ("end_date", last)):
                if not ARCHIVE_FIRST_DAY <= day <= today:
                    return _error(
                        f"Parameter '{name}' is out of allowed range from {ARCHIVE_FIRST_DAY} to {today}"
                    )
        unixtime = params.get("timeformat") == "unixtime"
        start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
        hours = [start + dt.timedelta(hours=n) for n in range(((last - first).days + 1) * 24)]
        envelopes = [
            self._envelope(index, latitude, longitude, variables, hours, unixtime)
            for index, (latitude, longitude) in enumerate(zip(latitudes, longitudes, strict=True))
        ]
        return _answer(200, envelopes if len(envelopes) > 1 else envelopes[0])

    def _envelope(
        self,
        index: int,
        latitude: float,
        longitude: float,
        variables: list[str],
        hours: list[dt.datetime],
        unixtime: bool,
    ) -> dict[str, Any]:
        values = hourly_values(latitude, longitude, hours, self.seed)
        envelope: dict[str, Any] = {
            # The grid cell's coordinates, not the request's (as the real API answers).
            "latitude": round(latitude * 50) / 50,
            "longitude": round(longitude * 50) / 50,
            "generationtime_ms": 0.1,
            "utc_offset_seconds": 0,
            "timezone": "GMT",
            "timezone_abbreviation": "GMT",
            "elevation": 100.0,
        }
        if index:
            envelope["location_id"] = index
        envelope["hourly_units"] = {
            "time": "unixtime" if unixtime else "iso8601",
            **{v: HOURLY[v][1] for v in variables},
        }
        envelope["hourly"] = {
            "time": [int(h.timestamp()) if unixtime else h.strftime("%Y-%m-%dT%H:%M") for h in hours],
            **{v: values[v] for v in variables},
        }
        envelope["sample"] = True
        return envelope


def sample_client(
    seed: int = 23, clock: Callable[[], dt.datetime] | None = None, **client_options: Any
) -> OpenMeteoClient:
    """An ``OpenMeteoClient`` wired to :class:`SampleTransport`: the real code path, offline."""
    http = httpx.Client(transport=SampleTransport(seed, clock))
    return OpenMeteoClient(SAMPLE_FORECAST_URL, SAMPLE_ARCHIVE_URL, http=http, **client_options)
