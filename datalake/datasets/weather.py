"""Weather (issue 23): hourly weather per location, the population-weighted national series, and
the observed days per location that /ask answers from.

``weather_hourly`` and ``weather_national_hourly`` hold exactly the columns of
:mod:`datalake.weather.frames` (``COLUMNS``, ``NATIONAL_COLUMNS``); the job computes them with
that module's pandas functions, per processed partition. ``weather_daily`` summarises the
observed hours of each Europe/Madrid day (questions and days are in Madrid time).
"""

from __future__ import annotations

from datalake.datasets.semantics import Dimension, Measure, Semantics, SourceChoice, TimeAxis, Words
from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule
from datalake.weather.frames import KINDS, OBSERVATIONS_FILE_SOURCE

#: ``source`` values: Open-Meteo's APIs, the OpenWeatherMap file from Kaggle, the SAMPLE generator.
SOURCES = ("open-meteo", OBSERVATIONS_FILE_SOURCE, "sample")
#: When several sources have the same hour of a place (the national series and the days take one):
#: station observations first, then Open-Meteo's model data, generated data last.
SOURCE_PREFERENCE = (OBSERVATIONS_FILE_SOURCE, "open-meteo", "sample")

#: The six variables with their meaning; units are in the names (frames.VARIABLES).
_VARIABLES = (
    ColumnSpec("temperature_c", "double", True, "Air temperature at 2 m, °C"),
    ColumnSpec("apparent_temperature_c", "double", True, "Apparent (felt) temperature, °C"),
    ColumnSpec("relative_humidity_pct", "double", True, "Relative humidity at 2 m, %"),
    ColumnSpec("wind_speed_kmh", "double", True, "Wind speed at 10 m, km/h"),
    ColumnSpec("cloud_cover_pct", "double", True, "Total cloud cover, %"),
    ColumnSpec(
        "shortwave_radiation_wm2",
        "double",
        True,
        "Global horizontal irradiance, W/m², mean of the hour ending at ts_utc (Open-Meteo)",
    ),
)
#: Physically possible values; outside them a row is a unit or parsing error (quarantined).
_RANGES = (
    QualityRule("temperature_c", "range", -60.0, 60.0),
    QualityRule("apparent_temperature_c", "range", -80.0, 70.0),
    QualityRule("relative_humidity_pct", "range", 0.0, 100.0),
    QualityRule("wind_speed_kmh", "range", 0.0, 400.0),
    QualityRule("cloud_cover_pct", "range", 0.0, 100.0),
    QualityRule("shortwave_radiation_wm2", "range", 0.0, 1500.0),
)
_YEAR_MONTH = (ColumnSpec("year", "int", False), ColumnSpec("month", "int", False))

WEATHER_HOURLY = DatasetSpec(
    name="weather_hourly",
    description="Hourly weather per location, observed or forecast (with the forecast's issue time); "
    "one row per hour, location, kind, issue and source.",
    columns=(
        ColumnSpec("ts_utc", "timestamp", False, "The hour (instant values at it), UTC"),
        ColumnSpec("location", "string", False, "City (WEATHER_LOCATIONS: Madrid, Barcelona, ...)"),
        ColumnSpec("kind", "string", False, "observed, or forecast"),
        ColumnSpec(
            "issued_at", "timestamp", True, "When a forecast was issued (fetched), UTC; empty when observed"
        ),
        *_VARIABLES,
        ColumnSpec("source", "string", False, "open-meteo, openweathermap-kaggle, or sample (generated)"),
        ColumnSpec("extracted_at", "timestamp", False, "When the values were fetched or landed, UTC"),
    ),
    # No key column may be empty in PostgreSQL, and issued_at is empty on observations: a forecast
    # row's extraction is its issue (both are the run's time), and an observation keeps only its
    # newest extraction, so this key is one row per hour, location, kind, issue and source.
    primary_key=("ts_utc", "location", "kind", "source", "extracted_at"),
    time_column="ts_utc",
    partition_by=_YEAR_MONTH,
    partition_source="ts_utc",
    warehouse_table="weather_hourly",
    indexes=(("location", "kind", "ts_utc"),),
    quality_rules=(
        *_RANGES,
        QualityRule("kind", "allowed_values", allowed=KINDS),
        QualityRule("source", "allowed_values", allowed=SOURCES),
    ),
    source="weather",
)

WEATHER_NATIONAL_HOURLY = DatasetSpec(
    name="weather_national_hourly",
    description="Population-weighted national weather per hour and kind (each forecast issue its own "
    "series), from one source per location and hour.",
    columns=(
        ColumnSpec("ts_utc", "timestamp", False, "The hour, UTC"),
        ColumnSpec("kind", "string", False, "observed, or forecast"),
        ColumnSpec("issued_at", "timestamp", True, "The forecast's issue time, UTC; empty when observed"),
        *_VARIABLES,
        ColumnSpec("locations_reporting", "bigint", False, "Locations with a temperature that hour"),
    ),
    # issued_at is empty on every observed hour: a key column declared nullable, so the warehouse's
    # key is UNIQUE NULLS NOT DISTINCT (one observed row per hour), not a primary key.
    primary_key=("ts_utc", "kind", "issued_at"),
    time_column="ts_utc",
    partition_by=_YEAR_MONTH,
    partition_source="ts_utc",
    warehouse_table="weather_national_hourly",
    quality_rules=(QualityRule("kind", "allowed_values", allowed=KINDS),),
    source="weather",
)

# -- what /ask may ask (the semantic layer) ----------------------------------------------------------

_TEMPERATURE = Words(
    ("temperatura", "temperaturas", "grados", "calor", "frío", "frio", "temperatura media"),
    ("temperature", "temperatures", "degrees", "how warm", "how hot", "how cold", "mean temperature"),
)
_CITIES = {
    "Madrid": Words(("Madrid",), ("Madrid",)),
    "Barcelona": Words(("Barcelona",), ("Barcelona",)),
    "Valencia": Words(("Valencia",), ("Valencia",)),
    "Seville": Words(("Sevilla",), ("Seville", "Sevilla")),
    "Bilbao": Words(("Bilbao",), ("Bilbao",)),
}
WEATHER_SEMANTICS = Semantics(
    subject="weather",
    # A row is one city's observed day: "¿cuántos días...?" counts rows.
    entity=Words(("día", "días"), ("day", "days")),
    entity_names=Words(("día", "días"), ("day", "days")),
    subject_words=Words(("tiempo", "clima", "meteorología"), ("weather", "climate")),
    key=(),
    label="local_date",
    order="temperature",
    measures=(
        Measure(
            "temperature",
            "temperature_mean_c",
            "°C",
            _TEMPERATURE,
            aggregations=("avg", "max", "min"),
            superlatives=Words(("más calor", "más caluroso", "más cálido"), ("hottest", "warmest")),
            least=Words(("más frío", "más fría", "más frio"), ("coldest", "coolest")),
        ),
        Measure(
            "max_temperature",
            "temperature_max_c",
            "°C",
            Words(
                ("temperatura máxima", "máxima", "máximas", "temperatura más alta"),
                ("maximum temperature", "highest temperature", "high", "highs"),
            ),
            aggregations=("max", "avg", "min"),
        ),
        Measure(
            "min_temperature",
            "temperature_min_c",
            "°C",
            Words(
                ("temperatura mínima", "mínima", "mínimas", "temperatura más baja"),
                ("minimum temperature", "lowest temperature", "low", "lows"),
            ),
            aggregations=("min", "avg", "max"),
        ),
        Measure(
            "humidity",
            "relative_humidity_pct",
            "%",
            Words(("humedad", "humedad relativa"), ("humidity", "relative humidity")),
            aggregations=("avg", "max", "min"),
        ),
        Measure(
            "wind",
            "wind_speed_kmh",
            "km/h",
            Words(("viento", "velocidad del viento"), ("wind", "wind speed")),
            aggregations=("avg", "max", "min"),
            superlatives=Words(("más viento", "más ventoso"), ("windiest",)),
        ),
        Measure(
            "cloud_cover",
            "cloud_cover_pct",
            "%",
            Words(("nubes", "nubosidad", "nublado"), ("cloud cover", "clouds", "cloudiness", "cloudy")),
            aggregations=("avg", "max", "min"),
        ),
    ),
    dimensions=(
        Dimension(
            "location",
            "location",
            Words(("ciudad", "ciudades", "lugar"), ("city", "cities", "place")),
            values=_CITIES,
        ),
    ),
    time=TimeAxis("local_date", words=Words(("fecha", "cuándo", "qué día"), ("date", "when", "which day"))),
    # Station observations, Open-Meteo's and generated days never mix: the best one present.
    source=SourceChoice("source", SOURCE_PREFERENCE),
    examples=Words(
        ("¿Qué temperatura hizo ayer en Madrid?", "Temperatura media en Sevilla en julio de 2017"),
        ("What was the temperature in Madrid yesterday?", "Hottest day in Seville in 2017"),
    ),
)

WEATHER_DAILY = DatasetSpec(
    name="weather_daily",
    description="Observed weather per city and Europe/Madrid day (23 or 25 hours on clock changes): "
    "mean, lowest and highest temperature and the day's means, per source.",
    columns=(
        ColumnSpec("local_date", "date", False, "The day, Europe/Madrid"),
        ColumnSpec("location", "string", False, "City (WEATHER_LOCATIONS)"),
        ColumnSpec("temperature_mean_c", "double", True, "Mean of the day's hourly temperatures, °C"),
        ColumnSpec("temperature_min_c", "double", True, "Lowest hourly temperature of the day, °C"),
        ColumnSpec("temperature_max_c", "double", True, "Highest hourly temperature of the day, °C"),
        ColumnSpec("relative_humidity_pct", "double", True, "Mean relative humidity, %"),
        ColumnSpec("wind_speed_kmh", "double", True, "Mean wind speed, km/h"),
        ColumnSpec("cloud_cover_pct", "double", True, "Mean cloud cover, %"),
        ColumnSpec("hours_observed", "int", False, "Hours of the day with a temperature"),
        ColumnSpec("source", "string", False, "Where the day's hours come from (weather_hourly.source)"),
    ),
    primary_key=("local_date", "location", "source"),
    time_column="local_date",
    partition_by=(ColumnSpec("year", "int", False),),
    partition_source="local_date",
    warehouse_table="weather_daily",
    quality_rules=(QualityRule("source", "allowed_values", allowed=SOURCES),),
    source="weather",
    askable=True,
    ask=WEATHER_SEMANTICS,
)

WEATHER_TABLES = (WEATHER_HOURLY, WEATHER_NATIONAL_HOURLY, WEATHER_DAILY)
