"""Fixed frames for evaluating /ask on the movie tables and on the energy company's tables.

:func:`movie_frames` builds ``movies``, ``movie_genres``, ``movie_keywords`` and
``movie_companies`` from the Kaggle TMDB 5000 file with pandas, as the lake holds them
(``source`` ``kaggle``; a budget, revenue or runtime of 0 is unknown: NULL; genres, keywords and
companies from the file's JSON columns). :func:`energy_frames` builds ``energy_clientes``,
``energy_proveedores`` and ``energy_transacciones`` as the processed tables hold them, from
closed-form formulas (no randomness): January to June 2024, seven cities, the five energy types,
purchases (COMPRA) and sales (VENTA), with group sizes chosen so that no ranking ties.

Both sets load into the lake and the warehouse with the loaders of
:mod:`datalake.ask.evaluation`, next to (or instead of) :func:`~datalake.ask.evaluation.sample_frames`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from datalake.datasets.energy_company import (
    BANDAS_PRECIO,
    CLIENTES,
    PROVEEDORES,
    TIPOS_ENERGIA,
    TRANSACCIONES,
)
from datalake.datasets.movies import MOVIE_COMPANIES, MOVIE_GENRES, MOVIE_KEYWORDS, MOVIES

#: The shared data folder beside the checkout (never copied into the repository).
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
KAGGLE_MOVIES_CSV = SHARED_DATA / "tmdb" / "tmdb_5000_movies.csv"
#: When the Kaggle file "landed" (its rows' ``extracted_at``), UTC.
KAGGLE_EXTRACTED_AT = pd.Timestamp("2025-01-02", tz="UTC")

#: Clients per city: every count differs, so a ranking of cities has no ties.
CLIENT_CITIES = (
    ("BOGOTÁ", 12),
    ("MEDELLÍN", 9),
    ("CALI", 7),
    ("BARRANQUILLA", 5),
    ("CARTAGENA", 4),
    ("BUCARAMANGA", 2),
    ("PEREIRA", 1),
)
#: Suppliers per energy type (every count differs) and the name stem of each.
SUPPLIER_TYPES = (
    ("HIDROELÉCTRICA", 5, "HIDRO"),
    ("SOLAR", 4, "SOL"),
    ("EÓLICA", 3, "VIENTOS"),
    ("TÉRMICA", 2, "TERMO"),
    ("NUCLEAR", 1, "ÁTOMO"),
)
#: Wholesale price per energy type, COP/kWh; sales are at a margin over it.
BASE_PRICE_COP_KWH = {
    "EÓLICA": 260.0,
    "HIDROELÉCTRICA": 210.0,
    "SOLAR": 280.0,
    "TÉRMICA": 480.0,
    "NUCLEAR": 350.0,
}
SALE_MARGIN = 1.8
FIRST_DAY, LAST_DAY = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
ENERGY_LOAD_DATE = dt.date(2024, 7, 1)
#: Sales per day, and every how many sales one goes to a counterparty missing from clientes.
SALES_PER_DAY, UNKNOWN_CLIENT_EVERY = 3, 37
_FIRST_NAMES = ("MARÍA", "JUAN", "SOFÍA", "ANDRÉS", "CAMILA", "JULIÁN", "LUCÍA", "ÓSCAR", "PAULA", "TOMÁS")
_LAST_NAMES = ("GÓMEZ", "RODRÍGUEZ", "PÉREZ", "MUÑOZ", "OSPINA", "VÉLEZ", "ROJAS", "DÍAZ", "PEÑA")
_COMPANIES = ("INDUSTRIAS", "TEXTILES", "ALIMENTOS", "CEMENTOS", "LOGÍSTICA")
#: Region words differ from their first letter, so names sort alike under any collation.
_REGIONS = ("ANDINA", "CARIBE", "PACÍFICO", "ORIENTE", "VALLE")


# -- movies -----------------------------------------------------------------------------------------


def movie_frames(path: Path | str = KAGGLE_MOVIES_CSV) -> dict[str, pd.DataFrame]:
    """The Kaggle TMDB 5000 file as the lake's movie tables (spec columns only, ``source`` kaggle).

    Parameters
    ----------
    path
        The Kaggle ``tmdb_5000_movies.csv`` (the shared data's copy by default).

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``movies``, ``movie_genres``, ``movie_keywords`` and ``movie_companies``.
    """
    raw = pd.read_csv(path, dtype={"id": "int64"}, keep_default_na=False, na_values=[""])
    release = pd.to_datetime(raw["release_date"], format="%Y-%m-%d", errors="coerce")
    movies = pd.DataFrame(
        {
            "movie_id": raw["id"],
            "title": _text(raw["title"]),
            "original_title": _text(raw["original_title"]),
            "original_language": _text(raw["original_language"]),
            "release_date": release.dt.date.astype(object).where(release.notna(), None),
            "release_year": release.dt.year.astype("Int64"),
            # TMDB's 0 means "unknown": the lake stores NULL (the transform's rule).
            "runtime_min": _unknown_zero(raw["runtime"]),
            "budget_usd": _unknown_zero(raw["budget"]),
            "revenue_usd": _unknown_zero(raw["revenue"]),
            "popularity": raw["popularity"].astype("float64"),
            "vote_average": raw["vote_average"].astype("float64"),
            "vote_count": raw["vote_count"].astype("Int64"),
            "status": _text(raw["status"]),
            "collection_id": pd.array([pd.NA] * len(raw), dtype="Int64"),  # the file has no collections
            "overview": _text(raw["overview"]),
            "source": "kaggle",
            "extracted_at": KAGGLE_EXTRACTED_AT,
        }
    )
    return {
        "movies": movies[MOVIES.column_names],
        "movie_genres": _named(raw, "genres", "genre_id", "genre_name")[MOVIE_GENRES.column_names],
        "movie_keywords": _named(raw, "keywords", "keyword_id", "keyword_name")[MOVIE_KEYWORDS.column_names],
        "movie_companies": _named(raw, "production_companies", "company_id", "company_name")[
            MOVIE_COMPANIES.column_names
        ],
    }


def _text(values: pd.Series) -> pd.Series:
    """Trimmed text; NULL (None) where nothing is left."""
    trimmed = values.astype("string").str.strip()
    return trimmed.where(trimmed.notna() & (trimmed != ""), None).astype(object)


def _unknown_zero(values: pd.Series) -> pd.Series:
    return values.where(values.notna() & (values != 0)).astype("Int64")


def _named(raw: pd.DataFrame, column: str, id_name: str, name_name: str) -> pd.DataFrame:
    """A JSON list of ``{id, name}`` per movie -> one row per movie and entry (an id listed twice once)."""
    entries = raw[["id", column]].assign(entry=raw[column].fillna("[]").map(json.loads)).explode("entry")
    entries = entries[entries["entry"].notna()]
    frame = pd.DataFrame(
        {
            "movie_id": entries["id"].to_numpy(),
            id_name: [int(e["id"]) for e in entries["entry"]],
            name_name: _text(pd.Series([e.get("name") for e in entries["entry"]], dtype=object)).to_numpy(),
            "source": "kaggle",
        }
    )
    frame = frame.sort_values(["movie_id", id_name, name_name], na_position="last", kind="stable")
    return frame.drop_duplicates(["movie_id", id_name]).reset_index(drop=True)


# -- energy company ---------------------------------------------------------------------------------


def energy_frames() -> dict[str, pd.DataFrame]:
    """The energy company's processed tables, from formulas (see the module docstring).

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``energy_clientes``, ``energy_proveedores`` and ``energy_transacciones`` (spec columns only).
    """
    clientes = _clientes()
    proveedores = _proveedores()
    transacciones = _transacciones(clientes, proveedores)
    return {
        "energy_clientes": clientes[CLIENTES.column_names],
        "energy_proveedores": proveedores[PROVEEDORES.column_names],
        "energy_transacciones": transacciones[TRANSACCIONES.column_names],
    }


def _clientes() -> pd.DataFrame:
    cities = [city for city, count in CLIENT_CITIES for _ in range(count)]
    rows = []
    for index, city in enumerate(cities):
        # Cities interleave over the list so each identification type appears in several cities.
        if index % 4 == 0:
            tipo = "NIT"
            nombre = f"{_COMPANIES[index % 5]} {_REGIONS[(index // 5) % 5]} {index:02d} S.A.S."
        else:
            tipo = "CE" if index % 9 == 5 else "CC"
            surnames = f"{_LAST_NAMES[index % 9]} {_LAST_NAMES[(index * 4) % 9]}"
            nombre = f"{_FIRST_NAMES[index % 10]} {surnames} {index:02d}"
        identificacion = str(10_000_000 + (index * 7_919_113) % 89_999_989)
        rows.append((tipo, identificacion, nombre, city))
    frame = pd.DataFrame(rows, columns=["tipo_identificacion", "identificacion", "nombre", "ciudad"])
    return frame.assign(fecha_carga=ENERGY_LOAD_DATE)


def _proveedores() -> pd.DataFrame:
    rows = []
    for tipo, count, stem in SUPPLIER_TYPES:
        for number in range(1, count + 1):
            position = len(rows)
            registered = dt.date(2015, 1, 15) + dt.timedelta(days=173 * position + 11 * number)
            rows.append((f"{stem} {_REGIONS[position % 5]} {number} S.A. E.S.P.", tipo, registered))
    frame = pd.DataFrame(rows, columns=["nombre_proveedor", "tipo_energia", "fecha_registro"])
    return frame.assign(fecha_carga=ENERGY_LOAD_DATE)


def _transacciones(clientes: pd.DataFrame, proveedores: pd.DataFrame) -> pd.DataFrame:
    # A weighted cycle of energy types for sales (5:4:3:2:1), so their counts differ too.
    sale_types = [tipo for tipo, count, _ in SUPPLIER_TYPES for _ in range(count)]
    rows = []
    sale = 0
    for day_number in range((LAST_DAY - FIRST_DAY).days + 1):
        day = FIRST_DAY + dt.timedelta(days=day_number)
        season = 1 + 0.12 * np.sin(2 * np.pi * (day_number - 20) / 182)
        for slot in range(SALES_PER_DAY):
            tipo = sale_types[(day_number * 2 + slot * 7) % len(sale_types)]
            if sale % UNKNOWN_CLIENT_EVERY == UNKNOWN_CLIENT_EVERY - 1:
                nombre = f"CLIENTE NO REGISTRADO {sale:03d}"
            else:
                nombre = clientes["nombre"].iat[(day_number * 7 + slot * 13) % len(clientes)]
            kwh = 12_000 * season + 4_000 * np.sin(sale * 0.7) + ((sale * 7919) % 97) * 97.0
            price = (
                BASE_PRICE_COP_KWH[tipo]
                * SALE_MARGIN
                * (1 + 0.06 * np.sin(day_number / 9) + ((sale * 31) % 17 - 8) * 0.005)
            )
            rows.append(("VENTA", nombre, tipo, round(float(kwh), 1), round(float(price), 2), day))
            sale += 1
        if day_number % 2 == 0:  # a purchase every other day, from the suppliers in turn
            purchase = day_number // 2
            supplier = proveedores.iloc[(purchase * 4) % len(proveedores)]
            tipo = supplier["tipo_energia"]
            kwh = 80_000 * season + 18_000 * np.cos(purchase * 0.9) + ((purchase * 613) % 89) * 150.0
            price = BASE_PRICE_COP_KWH[tipo] * (
                1 + 0.05 * np.cos(day_number / 11) + ((purchase * 17) % 13 - 6) * 0.007
            )
            rows.append(
                (
                    "COMPRA",
                    supplier["nombre_proveedor"],
                    tipo,
                    round(float(kwh), 1),
                    round(float(price), 2),
                    day,
                )
            )
    frame = pd.DataFrame(rows, columns=list(TRANSACCIONES.source_columns))
    frame["transaccion_id"] = [
        hashlib.sha256("|".join(str(value) for value in row).encode()).hexdigest()
        for row in frame[list(TRANSACCIONES.source_columns)].itertuples(index=False)
    ]
    frame["precio_total_cop"] = (frame["cantidad_comprada_kwh"] * frame["precio_kwh_cop"]).round(2)
    frame["banda_precio"] = _price_bands(frame)
    known = set(clientes["nombre"]) | set(proveedores["nombre_proveedor"])
    frame["contraparte_conocida"] = frame["nombre_cliente_proveedor"].isin(known)
    return frame.assign(fecha_carga=ENERGY_LOAD_DATE)


def _price_bands(frame: pd.DataFrame) -> pd.Series:
    """The tercile of the price within its energy type over the batch (exact 1/3 and 2/3 percentiles)."""
    cheap, average, dear = BANDAS_PRECIO
    bands = pd.Series(dear, index=frame.index, dtype=object)
    for tipo in TIPOS_ENERGIA:
        prices = frame.loc[frame["tipo_energia"] == tipo, "precio_kwh_cop"]
        if prices.empty:
            continue
        first, second = np.percentile(prices, [100 / 3, 200 / 3])
        bands[prices.index] = np.where(prices <= first, cheap, np.where(prices <= second, average, dear))
    return bands


# -- energy prices ----------------------------------------------------------------------------------

#: The years of EIA prices the evaluation holds (WTI, Brent and Henry Hub on NY business days).
PRICE_FIRST_DAY, PRICE_LAST_DAY = dt.date(2019, 1, 1), dt.date(2021, 12, 31)
#: When the generated prices "landed" (their rows' ``extracted_at``), UTC.
PRICES_EXTRACTED_AT = pd.Timestamp("2022-01-03", tz="UTC")


def price_frames(seed: int = 11) -> dict[str, pd.DataFrame]:
    """``energy_prices_daily`` for 2019-2021 from the SAMPLE EIA generator, as the transform writes it.

    The generator (:mod:`datalake.sources.eia_sample`) is deterministic per seed; the series'
    names, products, areas and units are the ones the transform gives the known series
    (:data:`datalake.sources.eia.KNOWN_SERIES`). Rows say ``source`` ``sample``: generated, not EIA's.

    Parameters
    ----------
    seed
        The generator's seed.

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``energy_prices_daily`` (spec columns only), one row per business day and series.
    """
    from datalake.datasets.prices import ENERGY_PRICES_DAILY
    from datalake.sources.eia import KNOWN_SERIES
    from datalake.sources.eia_sample import prices

    rows = []
    for series_id, by_day in prices(seed).items():
        series = KNOWN_SERIES[series_id]
        for day, price in by_day.items():
            if PRICE_FIRST_DAY <= day <= PRICE_LAST_DAY:
                rows.append((day, series_id, series.name, series.product, series.area, price, series.unit))
    columns = ["date", "series_id", "series_name", "product", "area", "price", "unit"]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.assign(source="sample", extracted_at=PRICES_EXTRACTED_AT)
    frame = frame.sort_values(["date", "series_id"], kind="stable").reset_index(drop=True)
    return {"energy_prices_daily": frame[ENERGY_PRICES_DAILY.column_names]}


# -- world energy (OWID) ----------------------------------------------------------------------------

#: OWID's 2020 energy file in the shared data (the held-out world-energy questions' gold reads it too).
OWID_ENERGY_CSV = SHARED_DATA / "owid" / "owid-energy-data_2020-12.csv"
#: When the 2020 file "landed" (its rows' ``landed_on``).
OWID_LANDED_ON = dt.date(2020, 12, 1)


def owid_aggregates(country: pd.Series, iso_code: pd.Series) -> pd.Series:
    """``is_aggregate`` as the OWID job computes it (:func:`datalake.transforms.owid.aggregate_flag`),
    in pandas: by name first, then an ISO code is a country, an ``OWID_*`` code a region unless
    OWID coined it for a country, and no code a region unless a vintage lists the country without one."""
    from datalake.datasets.owid import AGGREGATE_NAMES, COUNTRIES_WITHOUT_CODE, OWID_COUNTRY_CODES

    code = iso_code.fillna("").astype(str).str.strip()
    by_code = np.where(
        code.str.fullmatch(r"[A-Z]{3}"),
        False,
        np.where(
            code.str.startswith("OWID_"),
            ~code.isin(OWID_COUNTRY_CODES),
            ~country.isin(COUNTRIES_WITHOUT_CODE),
        ),
    )
    return pd.Series(np.where(country.isin(AGGREGATE_NAMES), True, by_code), index=country.index, dtype=bool)


def world_energy_frames(path: Path = OWID_ENERGY_CSV) -> dict[str, pd.DataFrame]:
    """``world_energy`` from OWID's 2020 file, as the OWID job writes it: every row, columns renamed
    to the lake's (unit suffixes), the current indicators the 2020 file lacks as null, regions
    flagged ``is_aggregate``.

    Raises
    ------
    FileNotFoundError
        The shared file is not there.
    """
    from datalake.datasets.owid import BY_NAME, RENAMED_COLUMNS, WORLD_ENERGY

    raw = pd.read_csv(path, encoding="utf-8-sig").rename(columns=RENAMED_COLUMNS)
    raw["country"] = raw["country"].str.strip()
    iso = raw["iso_code"].where(raw["iso_code"].notna(), None)
    columns: dict[str, object] = {
        "country": raw["country"],
        "iso_code": iso,
        "year": raw["year"].astype("int32"),
    }
    columns |= {
        i.column: pd.to_numeric(raw[name], errors="coerce") if name in raw else np.nan
        for name, i in BY_NAME.items()
    }
    frame = pd.DataFrame(columns).assign(
        is_aggregate=owid_aggregates(raw["country"], raw["iso_code"]), landed_on=OWID_LANDED_ON
    )
    frame = frame.drop_duplicates(["country", "year"], keep="last")
    return {"world_energy": frame[WORLD_ENERGY.column_names].reset_index(drop=True)}


# -- real-time portfolio events (issue 21) -----------------------------------------------------------

#: The evaluation's transactions: eight users, from 1 November 2026 to 09:59 on 3 December (Madrid).
PORTFOLIO_USERS = tuple(f"user-{n:02d}" for n in range(1, 9))
PORTFOLIO_FIRST_DAY, PORTFOLIO_LAST_DAY = dt.date(2026, 11, 1), dt.date(2026, 12, 3)
#: When the raw lines "landed" (their rows' ``extracted_at``), UTC.
PORTFOLIO_EXTRACTED_AT = pd.Timestamp("2026-12-03 10:00", tz="UTC")


def portfolio_frames() -> dict[str, pd.DataFrame]:
    """``portfolio_events`` as the realtime transform writes it, from closed-form formulas.

    Each user posts one to three transactions a day at fixed Madrid hours, buys and sells of USD
    or COP with amounts from a formula (no randomness); balances are replayed in arrival order, so
    a sale larger than the balance is ``rejected`` with ``insufficient_balance``, as the stream
    processor decides it. Times are UTC; the Madrid day of ``received_at`` is ``local_date``.

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``portfolio_events`` (spec columns only), one row per transaction.
    """
    from datalake.datasets.realtime import PORTFOLIO_EVENTS

    rows = []
    balances: dict[tuple[str, str], float] = {}
    day = PORTFOLIO_FIRST_DAY
    while day <= PORTFOLIO_LAST_DAY:
        d = (day - PORTFOLIO_FIRST_DAY).days
        for u, user in enumerate(PORTFOLIO_USERS, 1):
            for k in range(1 + (d + u) % 3):
                hour = 8 + (u + 3 * k + d) % 12
                local = pd.Timestamp(
                    dt.datetime.combine(day, dt.time(hour, (7 * u + 11 * k) % 60)), tz="Europe/Madrid"
                )
                if day == PORTFOLIO_LAST_DAY and local.hour >= 10:
                    continue  # asked at 10:00 on the last day: nothing after it
                currency = "USD" if (u + k + d) % 5 < 3 else "COP"
                kind = "sell" if (2 * u + k + d) % 4 == 0 else "buy"
                steps = 1 + (13 * u + 7 * d + 17 * k) % 37
                amount = steps * 25.5 if currency == "USD" else steps * 152_300.0
                if kind == "sell":
                    amount *= 2 + (u * d) % 5  # sales are larger than single buys: some exceed the balance
                amount = round(amount, 2)
                balance = balances.get((user, currency), 0.0)
                status, reason = "applied", None
                if kind == "buy":
                    balance = round(balance + amount, 2)
                elif amount <= balance:
                    balance = round(balance - amount, 2)
                else:
                    status, reason = "rejected", "insufficient_balance"
                balances[(user, currency)] = balance
                received = local.tz_convert("UTC")
                digest = hashlib.sha256(f"{user}/{day}/{k}".encode()).hexdigest()[:32]
                rows.append(
                    {
                        "event_id": f"tx-{digest}",
                        "user_id": user,
                        "type": kind,
                        "amount": Decimal(f"{amount:.2f}"),
                        "currency": currency,
                        "client_time": received - pd.Timedelta(seconds=2 + u),
                        "received_at": received,
                        "local_date": day,
                        "status": status,
                        "reject_reason": reason,
                        "balance_after": Decimal(f"{balance:.2f}"),
                        "processed_at": received + pd.Timedelta(milliseconds=150),
                        "extracted_at": PORTFOLIO_EXTRACTED_AT,
                    }
                )
        day += dt.timedelta(days=1)
    frame = pd.DataFrame(rows).sort_values(["received_at", "event_id"], kind="stable").reset_index(drop=True)
    return {"portfolio_events": frame[PORTFOLIO_EVENTS.column_names]}


# -- weather (issue 23) -----------------------------------------------------------------------------

#: The shared hourly observations of five Spanish cities, 2015-2017 (OpenWeatherMap via Kaggle).
WEATHER_OBSERVATIONS_CSV = SHARED_DATA / "spain_weather" / "weather_features_2015_2017.csv.gz"
WEATHER_EXTRACTED_AT = pd.Timestamp("2026-12-06", tz="UTC")


def weather_frames(path: Path = WEATHER_OBSERVATIONS_CSV) -> dict[str, pd.DataFrame]:
    """``weather_daily`` from the shared observation file, with pandas: each city's Europe/Madrid
    days (mean, lowest and highest hourly temperature; mean humidity, wind and cloud; hours with a
    temperature), ``source`` ``openweathermap-kaggle``. An independent pandas reckoning of what the
    weather job's Spark aggregation writes.
    """
    from datalake.datasets.weather import WEATHER_DAILY
    from datalake.weather.frames import read_observations_csv

    hourly = read_observations_csv(path, extracted_at=WEATHER_EXTRACTED_AT.to_pydatetime()).frame
    hourly = hourly.assign(local_date=hourly["ts_utc"].dt.tz_convert("Europe/Madrid").dt.date)
    grouped = hourly.groupby(["local_date", "location", "source"], sort=True)
    daily = grouped.agg(
        temperature_mean_c=("temperature_c", "mean"),
        temperature_min_c=("temperature_c", "min"),
        temperature_max_c=("temperature_c", "max"),
        relative_humidity_pct=("relative_humidity_pct", "mean"),
        wind_speed_kmh=("wind_speed_kmh", "mean"),
        cloud_cover_pct=("cloud_cover_pct", "mean"),
        hours_observed=("temperature_c", "count"),
    ).reset_index()
    return {"weather_daily": daily[WEATHER_DAILY.column_names]}
