"""Rossmann store sales: the drops' headers, and the processed tables ``store_sales_daily`` and ``stores``.

Two kinds of file arrive as drops in the landing zone, as CSV or XLSX (``datalake.sources.store_sales``):
the daily sales (``Store, DayOfWeek, Date, Sales, Customers, Open, Promo, StateHoliday,
SchoolHoliday``: a row per store and day) and the store attributes (``Store, StoreType,
Assortment, CompetitionDistance, ...``: a row per store). The shared subset
(../shared/data/retail_rossmann/, SOURCES.md) has its dates shifted +9 years and a ``DayOfWeek``
recomputed with another convention than Kaggle's, so the lake ignores ``DayOfWeek`` and derives
``day_of_week`` from the date (ISO: Monday 1 .. Sunday 7).

Column names are the contract the sales features and model read (issue 20): ``store_id``,
``date``, ``sales``, ``customers``, ``open``, ``promo``, ``state_holiday`` (the text code ``0``,
``a``, ``b``, ``c``), ``school_holiday``; the stores' distance carries its unit (metres).
"""

from __future__ import annotations

from datalake.datasets.spec import ColumnSpec, DatasetSpec, QualityRule

#: Where the files live in every zone: raw/store_sales/, quarantine/store_sales/, rejected/store_sales/.
SOURCE = "store_sales"
#: The two kinds of drop (their folders under raw/store_sales/).
SALES, STORES = "sales", "stores"
#: Headers by kind: lower-cased file column -> the parsed field it fills. Every column is required.
SALES_HEADER = {
    "store": "store",
    "dayofweek": "day_of_week_given",
    "date": "date",
    "sales": "sales",
    "customers": "customers",
    "open": "open",
    "promo": "promo",
    "stateholiday": "state_holiday",
    "schoolholiday": "school_holiday",
}
STORES_HEADER = {
    "store": "store",
    "storetype": "store_type",
    "assortment": "assortment",
    "competitiondistance": "competition_distance",
    "competitionopensincemonth": "competition_open_since_month",
    "competitionopensinceyear": "competition_open_since_year",
    "promo2": "promo2",
    "promo2sinceweek": "promo2_since_week",
    "promo2sinceyear": "promo2_since_year",
    "promointerval": "promo_interval",
}
#: The columns that tell a header's kind; a file of that kind lacking another column is rejected
#: (Kaggle's test file, Store and Date without Sales, is refused as a sales file without sales).
SALES_KEY_COLUMNS = ("store", "date")
STORES_KEY_COLUMNS = ("store", "storetype", "assortment")
#: Kaggle's state-holiday codes: none, public holiday, Easter, Christmas.
STATE_HOLIDAY_CODES = ("0", "a", "b", "c")
STORE_TYPES = ("a", "b", "c", "d")
ASSORTMENTS = ("a", "b", "c")
#: Promo2's restart months as Kaggle writes them.
PROMO_INTERVALS = ("Jan,Apr,Jul,Oct", "Feb,May,Aug,Nov", "Mar,Jun,Sept,Dec")

#: ``quarantine/<folder>/`` of the job: bad rows of each table and files that could not be read.
QUARANTINE_FOLDERS = {
    SALES: f"{SOURCE}/store_sales_daily",
    STORES: f"{SOURCE}/stores",
    "unreadable": f"{SOURCE}/unreadable",
}

_STORE_ID = ColumnSpec("store_id", "int", False, "Rossmann store number (Kaggle's Store)")
_LANDED_ON = ColumnSpec("landed_on", "date", False, "Landing day of the drop the row comes from")

STORE_SALES_DAILY = DatasetSpec(
    name="store_sales_daily",
    description=(
        "Rossmann daily sales: one row per store and day (closed days kept, flagged closed); "
        "day_of_week recomputed from the date."
    ),
    columns=(
        _STORE_ID,
        ColumnSpec("date", "date", False, "Day of the sales (the shared subset's are shifted +9 years)"),
        ColumnSpec("day_of_week", "int", False, "ISO day of week of date: Monday 1 .. Sunday 7"),
        ColumnSpec("sales", "bigint", False, "Turnover of the day, EUR (whole euros)"),
        ColumnSpec("customers", "bigint", False, "Customers that day"),
        ColumnSpec("open", "boolean", False, "The store was open"),
        ColumnSpec("closed", "boolean", False, "The store was closed that day (not open): kept, flagged"),
        ColumnSpec("promo", "boolean", False, "A store promotion ran that day"),
        ColumnSpec("state_holiday", "string", False, "0 none, a public holiday, b Easter, c Christmas"),
        ColumnSpec("school_holiday", "boolean", False, "Public schools were closed that day"),
        _LANDED_ON,
    ),
    primary_key=("store_id", "date"),
    time_column="date",
    partition_by=(ColumnSpec("year", "int", False),),
    partition_source="date",
    warehouse_table="store_sales_daily",
    indexes=(("date",),),
    quality_rules=(
        QualityRule("sales", "range", 0, None),
        QualityRule("customers", "range", 0, None),
        QualityRule("day_of_week", "range", 1, 7),
        QualityRule("state_holiday", "allowed_values", allowed=STATE_HOLIDAY_CODES),
    ),
    source=SOURCE,
)

STORES_TABLE = DatasetSpec(
    name="stores",
    description="Rossmann store attributes: type, assortment, nearest competitor, Promo2 participation.",
    columns=(
        _STORE_ID,
        ColumnSpec("store_type", "string", False, "Store model: a, b, c or d"),
        ColumnSpec("assortment", "string", False, "Assortment level: a basic, b extra, c extended"),
        ColumnSpec("competition_distance_m", "int", True, "Distance to the nearest competitor, metres"),
        ColumnSpec("competition_open_since_month", "int", True, "Month the nearest competitor opened"),
        ColumnSpec("competition_open_since_year", "int", True, "Year the nearest competitor opened"),
        ColumnSpec("promo2", "boolean", False, "The store takes part in the continuing Promo2"),
        ColumnSpec("promo2_since_week", "int", True, "Calendar week the store joined Promo2"),
        ColumnSpec("promo2_since_year", "int", True, "Year the store joined Promo2"),
        ColumnSpec("promo_interval", "string", True, "Months Promo2 restarts in (Jan,Apr,Jul,Oct, ...)"),
        _LANDED_ON,
    ),
    primary_key=("store_id",),
    warehouse_table="stores",
    quality_rules=(
        QualityRule("store_type", "allowed_values", allowed=STORE_TYPES),
        QualityRule("assortment", "allowed_values", allowed=ASSORTMENTS),
        QualityRule("competition_distance_m", "range", 0, None),
        QualityRule("competition_open_since_month", "range", 1, 12),
        QualityRule("competition_open_since_year", "range", 1900, 2100),
        QualityRule("promo2_since_week", "range", 1, 53),
        QualityRule("promo2_since_year", "range", 1900, 2100),
        QualityRule("promo_interval", "allowed_values", allowed=PROMO_INTERVALS),
    ),
    source=SOURCE,
)

STORE_SALES_TABLES = (STORE_SALES_DAILY, STORES_TABLE)
