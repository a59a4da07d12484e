"""The places whose weather stands for Spain's demand, and how much each one counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WeatherLocation:
    """A city the lake keeps weather for.

    Attributes
    ----------
    name
        The ``location`` value in the weather tables (``Madrid``).
    latitude, longitude
        Where Open-Meteo is asked for it (decimal degrees).
    weight
        Its share of the national series; weights are relative, normalised over the
        locations that have a value at each hour.
    """

    name: str
    latitude: float
    longitude: float
    weight: float

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("weather location: name is empty")
        if not -90 <= self.latitude <= 90:
            raise ValueError(f"weather location {self.name}: latitude {self.latitude} is outside -90..90")
        if not -180 <= self.longitude <= 180:
            raise ValueError(f"weather location {self.name}: longitude {self.longitude} is outside -180..180")
        if not self.weight > 0:
            raise ValueError(f"weather location {self.name}: weight must be above 0, got {self.weight}")


#: Spain's five largest metropolitan areas, weighted by population (INE, millions, rounded):
#: together they hold about a third of the country, and their weighted temperature follows
#: national heating and cooling demand better than any one city.
DEFAULT_LOCATIONS: tuple[WeatherLocation, ...] = (
    WeatherLocation("Madrid", 40.4168, -3.7038, 6.8),
    WeatherLocation("Barcelona", 41.3874, 2.1686, 5.7),
    WeatherLocation("Valencia", 39.4699, -0.3763, 1.6),
    WeatherLocation("Seville", 37.3891, -5.9845, 1.5),
    WeatherLocation("Bilbao", 43.2630, -2.9350, 1.0),
)


def parse_locations(text: str) -> tuple[WeatherLocation, ...]:
    """Locations from the ``WEATHER_LOCATIONS`` setting: a JSON list of objects.

    Example: ``[{"name": "Madrid", "latitude": 40.42, "longitude": -3.70, "weight": 6.8}]``.

    Raises
    ------
    ValueError
        Naming the entry and the field that is wrong.
    """
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"WEATHER_LOCATIONS is not JSON: {error.msg} at character {error.pos}") from None
    if not isinstance(entries, list) or not entries:
        raise ValueError("WEATHER_LOCATIONS must be a non-empty JSON list of locations")
    locations = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"WEATHER_LOCATIONS[{index}] must be an object")
        missing = [key for key in ("name", "latitude", "longitude", "weight") if key not in entry]
        if missing:
            raise ValueError(f"WEATHER_LOCATIONS[{index}]: missing {', '.join(missing)}")
        unknown = sorted(set(entry) - {"name", "latitude", "longitude", "weight"})
        if unknown:
            raise ValueError(f"WEATHER_LOCATIONS[{index}]: unknown field(s) {', '.join(unknown)}")
        try:
            locations.append(
                WeatherLocation(
                    str(entry["name"]),
                    float(entry["latitude"]),
                    float(entry["longitude"]),
                    float(entry["weight"]),
                )
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"WEATHER_LOCATIONS[{index}]: {error}") from None
    names = [location.name for location in locations]
    if len(set(names)) != len(names):
        raise ValueError(f"WEATHER_LOCATIONS: a name appears twice in {names}")
    return tuple(locations)


def weights(locations: Sequence[WeatherLocation]) -> dict[str, float]:
    """``{name: weight}`` normalised to sum to 1."""
    total = sum(location.weight for location in locations)
    return {location.name: location.weight / total for location in locations}


def configured_locations(weather_locations: str | None) -> tuple[WeatherLocation, ...]:
    """The locations of the ``WEATHER_LOCATIONS`` setting (``settings.weather_locations``), or
    :data:`DEFAULT_LOCATIONS` when it is empty."""
    return parse_locations(weather_locations) if weather_locations else DEFAULT_LOCATIONS
