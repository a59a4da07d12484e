"""Energy prices: the daily spot prices of the EIA source (WTI, Brent, Henry Hub by default)."""

from __future__ import annotations

from datalake.datasets.semantics import Dimension, Measure, Semantics, SourceChoice, TimeAxis, Words
from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule

#: WTI settled at -36.98 USD/bbl on 2020-04-20 and Brent peaked near 144 in 2008; Henry Hub's
#: record is about 24 USD/MMBtu. A price outside this range is a unit or parsing error.
MIN_PLAUSIBLE_PRICE = -100.0
MAX_PLAUSIBLE_PRICE = 500.0

# -- what /ask may ask (the semantic layer) ----------------------------------------------------------

#: The series the lake names itself (``series_name``) -> how people name them.
_SERIES = {
    # Names are matched folded; the first is how answers write it ("WTI", not "Wti").
    "WTI": Words(
        ("WTI", "west texas", "petróleo de texas"), ("WTI", "west texas intermediate", "west texas")
    ),
    "Brent": Words(("brent", "petróleo brent", "crudo brent"), ("brent", "brent crude", "brent oil")),
    "Henry Hub": Words(("Henry Hub",), ("Henry Hub",)),
}
PRICE_SEMANTICS = Semantics(
    subject="energy_prices",
    # A row is one series' price on one trading day: "¿cuántos días...?" counts rows.
    entity=Words(("día", "días", "cotización", "cotizaciones"), ("day", "days", "quote", "quotes")),
    entity_names=Words(("día", "días"), ("day", "days")),
    subject_words=Words(("precios de la energía", "eia"), ("energy prices", "eia")),
    key=(),
    # A listing names each price by its day ("the 3 highest WTI prices": three days).
    label="date",
    order="price",
    measures=(
        Measure(
            "price",
            "price",
            # WTI and Brent are in USD per barrel, Henry Hub in USD per MMBtu: dollars when they are
            # mixed, the series' own unit otherwise (unit_by).
            "USD",
            Words(
                ("precio", "precios", "cotización", "valor", "dólares"),
                ("price", "prices", "spot price", "value", "dollars"),
            ),
            aggregations=("avg", "max", "min"),
            # The answer names the unit of the series or product asked about.
            unit_by={
                "series": {"WTI": "USD/bbl", "Brent": "USD/bbl", "Henry Hub": "USD/MMBtu"},
                "product": {"crude oil": "USD/bbl", "natural gas": "USD/MMBtu"},
            },
            superlatives=Words(("más caro", "más alto", "más alta"), ("highest", "most expensive", "peak")),
            least=Words(("más barato", "más bajo", "más baja"), ("lowest", "cheapest")),
        ),
    ),
    dimensions=(
        Dimension(
            "series",
            "series_name",
            Words(("serie", "series", "referencia", "índice"), ("series", "benchmark", "index")),
            values=_SERIES,
        ),
        Dimension(
            "product",
            "product",
            Words(("producto", "productos"), ("product", "products", "commodity")),
            values={
                "crude oil": Words(("petróleo", "crudo", "barril"), ("crude oil", "oil", "crude", "barrel")),
                "natural gas": Words(("gas natural", "gas"), ("natural gas", "gas")),
            },
        ),
    ),
    time=TimeAxis(
        "date",
        words=Words(("fecha", "cuándo", "qué día"), ("date", "when", "which day", "on which day")),
        observed=True,  # a price is published after its day
    ),
    # Real EIA rows and generated SAMPLE rows never mix: the real ones when present.
    source=SourceChoice("source", ("eia", "sample")),
    examples=Words(
        ("¿Cuál fue el precio del Brent ayer?", "Precio medio del WTI en 2020"),
        ("Average WTI price in 2020", "Highest Henry Hub price last year"),
    ),
)

ENERGY_PRICES_DAILY = DatasetSpec(
    name="energy_prices_daily",
    description="Daily energy spot prices (EIA): one row per day, series and source; "
    "revisions replace, the newest extraction of a day's price wins.",
    columns=(
        ColumnSpec("date", "date", False, "Trading day the price is for (EIA's period; no time zone)"),
        ColumnSpec("series_id", "string", False, "EIA series id (RWTC, RBRTE, RNGWHHD)"),
        ColumnSpec("series_name", "string", False, "Short name of the series (WTI, Brent, Henry Hub)"),
        ColumnSpec("product", "string", True, "What is priced (crude oil, natural gas)"),
        ColumnSpec("area", "string", True, "Where it is priced (Cushing, OK; Europe; Henry Hub, LA)"),
        ColumnSpec("price", "double", False, "Spot price, in the row's unit"),
        ColumnSpec("unit", "string", False, "Unit of price: USD/bbl (crude oil) or USD/MMBtu (natural gas)"),
        ColumnSpec("source", "string", False, "eia, or sample (generated)"),
        ColumnSpec("extracted_at", "timestamp", False, "When the price was fetched from the API, UTC"),
    ),
    primary_key=("date", "series_id", "source"),
    time_column="date",
    partition_by=(ColumnSpec("year", "int", False),),
    partition_source="date",
    warehouse_table="energy_prices_daily",
    indexes=(("series_id", "source"),),
    quality_rules=(
        QualityRule("price", "range", MIN_PLAUSIBLE_PRICE, MAX_PLAUSIBLE_PRICE),
        QualityRule("source", "allowed_values", allowed=("eia", "sample")),
    ),
    source="eia",
    askable=True,
    ask=PRICE_SEMANTICS,
)
