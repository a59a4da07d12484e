"""The registry of sources: one :class:`SourceSpec` per source, from which the wiring derives.

``datalake transform SOURCE``, the Glue job script (``glue_jobs/to_processed.py --source NAME``),
the S3 trigger's raw prefix -> job mapping, the Lambda bundles and the CloudFormation job list
(checked by tests/unit/test_source_registry.py) all read :data:`SOURCES`, so adding a source is a
source module, a dataset-spec module, its transforms, its tests and one entry here
(docs/adding-a-source.md walks through it).

This module imports no Spark and no HTTP client: the start-transform Lambda reads it. The code a
source runs is named by :class:`CodeRef` (``"module:function"``) and imported when called; the
Glue packaging check follows those names like imports (datalake.deploy.glue_imports).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from datalake.datasets import DEMAND_HOURLY, GENERATION
from datalake.datasets.energy_company import CLIENTES, PROVEEDORES, TRANSACCIONES
from datalake.datasets.movies import MOVIE_COMPANIES, MOVIE_GENRES, MOVIE_KEYWORDS, MOVIE_PEOPLE, MOVIES
from datalake.datasets.owid import OWID_TABLES, QUARANTINE_FOLDERS
from datalake.datasets.prices import ENERGY_PRICES_DAILY
from datalake.datasets.realtime import PORTFOLIO_EVENTS
from datalake.datasets.spec import DatasetSpec
from datalake.datasets.store_sales import QUARANTINE_FOLDERS as STORE_SALES_QUARANTINE
from datalake.datasets.store_sales import STORE_SALES_DAILY, STORES_TABLE
from datalake.datasets.weather import WEATHER_DAILY, WEATHER_HOURLY, WEATHER_NATIONAL_HOURLY, WEATHER_TABLES
from datalake.errors import ConfigurationError, LakeError
from datalake.sales import FEATURES_PREFIX
from datalake.settings import Settings
from datalake.storage.paths import join_key

#: The one Glue job script every source's job runs, with ``--source NAME``.
GLUE_SCRIPT = "to_processed.py"


class UnknownSourceError(LakeError, KeyError):
    """A source name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


def pascal_case(name: str) -> str:
    """A registry name as the templates' logical ids spell it (``energy_company`` -> ``EnergyCompany``)."""
    return "".join(part.capitalize() for part in name.split("_"))


@dataclass(frozen=True)
class CodeRef:
    """A function named as ``"package.module:function"``, imported on first use.

    The registry stays importable where Spark is not installed (Lambda). Write the name as one
    string literal: the Glue packaging check follows such strings as if they were imports.
    """

    path: str

    def __post_init__(self) -> None:
        module, _, name = self.path.partition(":")
        if not module or not name.isidentifier():
            raise ConfigurationError(f"code reference {self.path!r}: expected 'package.module:function'")

    def resolve(self) -> Callable[..., Any]:
        """The function itself (imports its module)."""
        module, _, name = self.path.partition(":")
        return getattr(importlib.import_module(module), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)


@dataclass(frozen=True)
class DatasetBuilder:
    """The rows of one processed dataset, built from a source's flattened values."""

    build: CodeRef
    dataset: DatasetSpec


@dataclass(frozen=True)
class JobOption:
    """A source-specific job argument (``--NAME value`` on Glue and on ``datalake transform``).

    Attributes
    ----------
    name
        The keyword the source's process function takes, and the flag's name.
    help
        One line for the CLI's help.
    parse
        Text (a job argument) -> the value the process function takes; ``""`` means not given.
    """

    name: str
    help: str
    parse: Callable[[str], Any] = str


@dataclass(frozen=True)
class RowOwnership:
    """The rows of its processed tables one raw prefix's runs own: those whose ``column`` is in ``values``.

    Sources share processed tables (REE and ENTSO-E both write ``demand_hourly``); a run rewrites
    only the rows it owns and keeps every other row of the partitions it rewrites.
    """

    raw_prefix: str
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class SourceLambda:
    """A Lambda of a source (an extractor or a landing function): ``lambdas/<name>/handler.py``.

    ``rule`` is the logical id of the EventBridge rule in cloudformation/ingestion.yaml that
    invokes it (a schedule, an on-demand event, an S3 event).

    ``daily`` is set exactly for a Lambda on an EventBridge schedule (a ``ScheduleExpression``
    rule; tests/unit/test_source_registry.py holds the two equal): what it does, on whichever
    runtime the settings name, as ``datalake run daily`` runs it::

        (now: datetime, *, sample: bool, settings: Settings, progress) -> RunReport

    raising when the invocation would fail. A scheduled Lambda gets, from this one declaration,
    its place in ``datalake run daily`` and its Errors and dead-letter-queue alarms in
    cloudformation/monitoring.yaml (``datalake deploy monitoring`` writes them).
    """

    name: str
    rule: str
    description: str
    daily: CodeRef | None = None

    @property
    def folder(self) -> str:
        return f"lambdas/{self.name}"

    @property
    def scheduled(self) -> bool:
        """Whether an EventBridge schedule invokes it (it declares its ``daily`` step)."""
        return self.daily is not None

    @property
    def function_name(self) -> str:
        """The function's name after ``<project>-<env>-`` (``ree_daily`` -> ``ree-daily``), as the
        templates name it, its dead-letter queue (``<name>-dlq``) and its log group."""
        return self.name.replace("_", "-")

    @property
    def logical_name(self) -> str:
        """The templates' logical-id stem of its resources (``ree_daily`` -> ``ReeDaily``)."""
        return pascal_case(self.name)


#: The longest expected lag a source may declare (31 days): staleness is for data on a schedule.
MAX_EXPECTED_LAG_HOURS = 31 * 24


@dataclass(frozen=True)
class Freshness:
    """How fresh a source's processed data is expected to be.

    Attributes
    ----------
    dataset
        The processed table whose newest value says how fresh the source is (one of its datasets).
    column
        Its date or timestamp column giving that value (a date counts from its start, UTC).
    expected_lag
        The most that value may lag behind the clock before the source is stale: ``datalake status``
        says so, and its freshness alarm fires (cloudformation/monitoring.yaml).
    """

    dataset: DatasetSpec
    column: str
    expected_lag: dt.timedelta

    def __post_init__(self) -> None:
        if self.column not in self.dataset.column_names:
            raise ConfigurationError(f"freshness: {self.column!r} is not a column of {self.dataset.name}")
        kind = self.dataset.column(self.column).type
        if kind not in ("date", "timestamp"):
            raise ConfigurationError(
                f"freshness: {self.dataset.name}.{self.column} is a {kind}, not a date or timestamp"
            )
        hours = self.expected_lag / dt.timedelta(hours=1)
        # Whole hours: the freshness alarm's threshold is in hours, its period a whole minute count.
        if hours < 1 or hours != int(hours) or hours > MAX_EXPECTED_LAG_HOURS:
            raise ConfigurationError(
                f"freshness: expected lag of {self.dataset.name} must be whole hours, 1 to "
                f"{MAX_EXPECTED_LAG_HOURS}, got {self.expected_lag}"
            )

    @property
    def expected_lag_hours(self) -> int:
        """The expected lag in hours (the freshness alarm's threshold)."""
        return int(self.expected_lag / dt.timedelta(hours=1))


@dataclass(frozen=True)
class SourceSpec:
    """Everything the lake wires for one source.

    Attributes
    ----------
    name
        The source's name: ``datalake transform NAME``, ``--source NAME``, runs ``<name>_to_processed``.
    description
        One line: raw files -> processed tables.
    raw_prefixes
        The raw folders its files land in; the first is the default. New objects under any of
        them start its Glue job (one run per prefix).
    file_format, file_pattern
        The raw files' format and the glob that selects them under a prefix.
    flatten
        Raw files (``path``, ``content``, ``extracted_at``) -> one row per raw value.
    builders
        Per processed dataset, flattened values -> its typed rows.
    unreadable
        Flattened values -> the rows no dataset took (files that could not be read), with a ``problem``.
    problem_source
        The quarantine folder of those unreadable rows.
    job_setting
        The :class:`~datalake.settings.Settings` field naming its Glue job.
    process
        ``(spark, store, raw_prefix, report, progress, *, full=False, **options) -> RunReport``; None
        runs the standard pipeline (:func:`datalake.pipelines.processing.process_documents`) on the
        parts above.
    options
        Job arguments beyond ``--raw_prefix`` and ``--full`` that its process function takes.
    settings_options
        Process keywords filled from settings: ``{keyword: Settings field}``.
    lambdas
        Its extractor or landing Lambdas and the rules that invoke them.
    quarantine_folders
        Where its bad records go; by default each dataset's name and ``problem_source``.
    reads_back
        Processed tables a run reads before replacing them (it merges into them).
    value_day
        The standard pipeline's day of each flattened value (``values -> Column`` of dates), which
        incremental runs recompute by; None: the Europe/Madrid day of ``ts_utc``. Its datasets
        take that day in their ``partition_source`` column.
    record
        The standard pipeline's :class:`~datalake.transforms.quality.RawRecord` (``module:NAME``):
        the pieces its builders' and unreadable rows carry instead of ``raw_record``, written as
        text only for the rows quarantined; None: the builders give ``raw_record``.
    owned_values
        Per raw prefix, the values of ``owner_column`` its rows carry (``{"raw/ree": ("ree",)}``): a
        run of that prefix replaces only the rows holding one of them, keeps every other row of the
        partitions it rewrites (another source's, another prefix's) and quarantines a row it built
        with another value. Empty: its runs own every row of its tables (no other writer). A table
        written from more than one raw prefix needs it (:func:`index_sources` checks).
    owner_column
        The column of its datasets that names which raw prefix's rows a row is.
    freshness
        How fresh its processed data should be; None: no expectation (files dropped by hand), so no
        freshness alarm and no stale flag. Its processing runs record (and on AWS publish) the age.
    option_writes
        Lake prefixes its runs also write when a flag option is ``true`` (``{"features":
        ("features/store_sales",)}``): Spark's files and the driver's small ones below each prefix.
    """

    name: str
    description: str
    raw_prefixes: tuple[str, ...]
    file_format: Literal["json", "csv"]
    file_pattern: str
    flatten: CodeRef
    builders: tuple[DatasetBuilder, ...]
    unreadable: CodeRef | None
    problem_source: str
    job_setting: str
    process: CodeRef | None = None
    options: tuple[JobOption, ...] = ()
    settings_options: Mapping[str, str] = field(default_factory=dict)
    lambdas: tuple[SourceLambda, ...] = ()
    quarantine_folders: tuple[str, ...] | None = None
    reads_back: tuple[DatasetSpec, ...] = ()
    value_day: CodeRef | None = None
    record: CodeRef | None = None
    owned_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    owner_column: str = "source"
    freshness: Freshness | None = None
    option_writes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ConfigurationError(f"source {self.name!r}: name must be an identifier (a job argument)")
        # The trigger maps an object to raw/<first folder> (datalake.pipelines.trigger.raw_prefix_of).
        if not self.raw_prefixes or any(
            p.count("/") != 1 or p.split("/")[0] != "raw" or not p.split("/")[1] for p in self.raw_prefixes
        ):
            raise ConfigurationError(f"source {self.name}: each raw prefix must be raw/<folder>")
        if self.process is None and self.unreadable is None:
            raise ConfigurationError(f"source {self.name}: the standard pipeline needs an unreadable builder")
        if self.owned_values:
            self._check_owned_values()
        unknown = sorted(set(self.option_writes) - {option.name for option in self.options})
        if unknown:
            raise ConfigurationError(f"source {self.name}: option_writes names options it lacks: {unknown}")
        if self.freshness is not None and self.freshness.dataset not in self.datasets:
            raise ConfigurationError(
                f"source {self.name}: freshness reads {self.freshness.dataset.name}, "
                "which it does not publish"
            )

    def _check_owned_values(self) -> None:
        if set(self.owned_values) != set(self.raw_prefixes):
            raise ConfigurationError(
                f"source {self.name}: owned_values must name each raw prefix "
                f"({', '.join(self.raw_prefixes)}), got {', '.join(sorted(self.owned_values))}"
            )
        seen: dict[str, str] = {}
        for prefix, values in self.owned_values.items():
            if not values:
                raise ConfigurationError(f"source {self.name}: owned_values of {prefix} is empty")
            for value in values:
                if value in seen:
                    raise ConfigurationError(
                        f"source {self.name}: owned_values: {self.owner_column}={value!r} is claimed "
                        f"by both {seen[value]} and {prefix}"
                    )
                seen[value] = prefix
        for spec in self.datasets:
            if self.owner_column not in spec.column_names:
                raise ConfigurationError(
                    f"source {self.name}: owner_column {self.owner_column!r} is not a column of {spec.name}"
                )

    @property
    def raw_prefix(self) -> str:
        """The default raw prefix."""
        return self.raw_prefixes[0]

    @property
    def run_name(self) -> str:
        """Its run reports' name (``_runs/<run_name>/``), also the Spark application's."""
        return f"{self.name}_to_processed"

    @property
    def datasets(self) -> tuple[DatasetSpec, ...]:
        """The processed tables it publishes."""
        return tuple(b.dataset for b in self.builders)

    @property
    def quarantines(self) -> tuple[str, ...]:
        """The ``quarantine/<folder>/`` folders its bad records go to."""
        if self.quarantine_folders is not None:
            return self.quarantine_folders
        return (*(spec.name for spec in self.datasets), self.problem_source)

    @property
    def job_arguments(self) -> dict[str, str]:
        """The Glue job's own DefaultArguments (besides the lake settings every job gets)."""
        return {"--source": self.name, "--raw_prefix": self.raw_prefix}

    @property
    def scheduled_lambdas(self) -> tuple[SourceLambda, ...]:
        """Its Lambdas on an EventBridge schedule (each declares its ``daily`` step)."""
        return tuple(function for function in self.lambdas if function.scheduled)

    @property
    def owner_values(self) -> tuple[str, ...]:
        """Every value of ``owner_column`` its rows carry; empty when it owns every row of its tables."""
        return tuple(value for values in self.owned_values.values() for value in values)

    @property
    def max_concurrent_runs(self) -> int:
        """One run per raw prefix at a time (the trigger starts one per prefix)."""
        return len(self.raw_prefixes)

    def check_raw_prefix(self, prefix: str | None) -> str:
        """``prefix`` (the default when None), refused unless it is one of its raw prefixes or below one.

        Raises
        ------
        ConfigurationError
            Naming the source's raw prefixes.
        """
        if prefix is None:
            return self.raw_prefix
        clean = prefix.strip("/")
        if not any(clean == p or clean.startswith(f"{p}/") for p in self.raw_prefixes):
            raise ConfigurationError(
                f"raw prefix {prefix!r}: source {self.name} reads {', '.join(self.raw_prefixes)} "
                "(or a folder below one)"
            )
        return clean

    def ownership(self, raw_prefix: str) -> RowOwnership | None:
        """The rows a run of ``raw_prefix`` (one of its prefixes or a folder below one) owns.

        None when the source declares no ``owned_values``: its runs own every row of its tables.
        """
        if not self.owned_values:
            return None
        clean = self.check_raw_prefix(raw_prefix)
        prefix = next(p for p in self.raw_prefixes if clean == p or clean.startswith(f"{p}/"))
        return RowOwnership(prefix, self.owner_column, tuple(self.owned_values[prefix]))

    def parse_options(self, given: Mapping[str, str]) -> dict[str, Any]:
        """Job arguments as text (``{"day": "2024-06-03"}``) -> the process function's keywords.

        Empty values are left out (not given).

        Raises
        ------
        ConfigurationError
            For an option the source does not take, or a value its parser refuses.
        """
        known = {option.name: option for option in self.options}
        parsed: dict[str, Any] = {}
        for name, text in given.items():
            if name not in known:
                raise ConfigurationError(f"--{name}: source {self.name} takes {self._option_list()}")
            if text == "":
                continue
            try:
                parsed[name] = known[name].parse(text)
            except ValueError as error:
                raise ConfigurationError(f"--{name}: {text!r} is not valid ({error})") from None
        return parsed

    def process_keywords(self, settings: Settings, options: Mapping[str, Any]) -> dict[str, Any]:
        """The keywords its process function gets: ``options`` (checked) and the settings it reads."""
        unknown = sorted(set(options) - {option.name for option in self.options})
        if unknown:
            raise ConfigurationError(f"--{unknown[0]}: source {self.name} takes {self._option_list()}")
        from_settings = {keyword: getattr(settings, name) for keyword, name in self.settings_options.items()}
        return {**from_settings, **options}

    def _option_list(self) -> str:
        names = [f"--{option.name}" for option in self.options]
        return "no option besides --raw-prefix and --full" if not names else ", ".join(names)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError("expected true or false")
    return text == "true"


# -- the sources ------------------------------------------------------------------------------------

REE = SourceSpec(
    name="ree",
    description="Raw REData JSON documents -> processed demand_hourly and generation",
    # raw/ree_sample holds the labelled SAMPLE generator's documents: same job, its own prefix.
    raw_prefixes=("raw/ree", "raw/ree_sample"),
    file_format="json",
    file_pattern="*.json",
    flatten=CodeRef("datalake.transforms.ree:documents_to_rows"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.ree:demand_rows"), DEMAND_HOURLY),
        DatasetBuilder(CodeRef("datalake.transforms.ree:generation_rows"), GENERATION),
    ),
    unreadable=CodeRef("datalake.transforms.ree:unreadable_rows"),
    record=CodeRef("datalake.transforms.ree:RAW_RECORD"),
    problem_source="ree_unreadable",
    # REE's documents say whether they are generated (datalake.sources.ree.parse_values labels them).
    owned_values={"raw/ree": ("ree",), "raw/ree_sample": ("sample",)},
    job_setting="ree_glue_job",
    lambdas=(
        SourceLambda(
            "ree_daily",
            "DailySchedule",
            "daily: re-fetch the days the last 48 hours touch",
            daily=CodeRef("datalake.pipelines.ingest:ree_daily_step"),
        ),
        SourceLambda("ree_backfill", "BackfillRule", "on demand: put-events source datalake.backfill"),
    ),
    # The daily run (05:30 UTC) lands the Madrid days the last 48 hours touch, today's included:
    # newest local_date is the run's day, about 6 hours old then and 30 before the next run. 48
    # hours means the newest day is at least two days before the run's, a day missed.
    freshness=Freshness(DEMAND_HOURLY, "local_date", dt.timedelta(hours=48)),
)

ENTSOE = SourceSpec(
    name="entsoe",
    description="Raw ENTSO-E day files (both formats) -> processed demand_hourly and generation",
    raw_prefixes=("raw/entsoe",),
    file_format="csv",
    file_pattern="*.csv",
    flatten=CodeRef("datalake.transforms.entsoe:files_to_rows"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.entsoe:demand_rows"), DEMAND_HOURLY),
        DatasetBuilder(CodeRef("datalake.transforms.entsoe:generation_rows"), GENERATION),
    ),
    unreadable=CodeRef("datalake.transforms.entsoe:unreadable_rows"),
    problem_source="entsoe_unreadable",
    owned_values={"raw/entsoe": ("entsoe",)},
    job_setting="entsoe_glue_job",
    # No freshness expectation: its files are downloaded by hand, on no schedule.
)

_ENERGY = (CLIENTES, PROVEEDORES, TRANSACCIONES)
ENERGY_COMPANY = SourceSpec(
    name="energy_company",
    description="Raw energy company CSV drops -> processed clientes, proveedores, transacciones",
    raw_prefixes=("raw/energy_company",),
    file_format="csv",
    file_pattern="*.csv",
    flatten=CodeRef("datalake.transforms.energy_company:drops_to_rows"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.energy_company:clientes_rows"), CLIENTES),
        DatasetBuilder(CodeRef("datalake.transforms.energy_company:proveedores_rows"), PROVEEDORES),
        DatasetBuilder(CodeRef("datalake.transforms.energy_company:transacciones_rows"), TRANSACCIONES),
    ),
    unreadable=None,
    problem_source="energy_company/unreadable",
    job_setting="energy_company_glue_job",
    # Typed with parse checks, masters deduplicated by value, merged into the processed tables.
    process=CodeRef("datalake.pipelines.energy_company:process_raw_energy_company"),
    options=(JobOption("day", "only the drops landed that day (YYYY-MM-DD), merged in", _date),),
    settings_options={"max_line_bytes": "csv_max_line_bytes"},
    lambdas=(SourceLambda("ingest_csv", "LandingObjectCreatedRule", "a CSV drop in the landing bucket"),),
    quarantine_folders=tuple(
        join_key("energy_company", name) for name in (*(s.table_name for s in _ENERGY), "unreadable")
    ),
    reads_back=_ENERGY,
    # No freshness expectation: the company drops its extracts when it has them, on no schedule.
)

#: The TMDB extractors (issue 17): the tmdb source lists them as its ``lambdas``.
TMDB_LAMBDAS = (
    SourceLambda(
        "tmdb_daily",
        "TmdbDailySchedule",
        "daily: /movie/changes since the last successful run",
        daily=CodeRef("datalake.pipelines.tmdb_ingest:tmdb_daily_step"),
    ),
    SourceLambda(
        "tmdb_backfill", "TmdbBackfillRule", "on demand (source datalake.tmdb-backfill), then itself"
    ),
)

_MOVIE_TABLES = (MOVIES, MOVIE_GENRES, MOVIE_KEYWORDS, MOVIE_COMPANIES, MOVIE_PEOPLE)
TMDB = SourceSpec(
    name="tmdb",
    description="Raw TMDB extracts (JSON Lines) and the Kaggle TMDB 5000 file -> the processed movie tables",
    # One folder (the trigger maps an object to raw/<first folder>): movie/ holds the API's
    # envelopes, kaggle/ the Kaggle file as landed; one run reads both.
    raw_prefixes=("raw/tmdb",),
    file_format="json",
    file_pattern="*.jsonl",
    flatten=CodeRef("datalake.transforms.tmdb:envelope_records"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.tmdb:movie_rows"), MOVIES),
        DatasetBuilder(CodeRef("datalake.transforms.tmdb:genre_rows"), MOVIE_GENRES),
        DatasetBuilder(CodeRef("datalake.transforms.tmdb:keyword_rows"), MOVIE_KEYWORDS),
        DatasetBuilder(CodeRef("datalake.transforms.tmdb:company_rows"), MOVIE_COMPANIES),
        DatasetBuilder(CodeRef("datalake.transforms.tmdb:people_rows"), MOVIE_PEOPLE),
    ),
    unreadable=None,
    problem_source="tmdb",
    job_setting="tmdb_glue_job",
    # The newest extraction of a movie wins whatever day it landed, tombstones included: parsed
    # records are kept between runs and the tables recomputed from them (datalake.pipelines.tmdb).
    process=CodeRef("datalake.pipelines.tmdb:process_raw_tmdb"),
    quarantine_folders=("tmdb",),
    reads_back=_MOVIE_TABLES,
    lambdas=TMDB_LAMBDAS,
    # The daily run (09:00 UTC) extracts the day's changed movies: the newest extraction is about
    # a day old before the next run; 48 hours means a day's changes are missing.
    freshness=Freshness(MOVIES, "extracted_at", dt.timedelta(hours=48)),
)

EIA = SourceSpec(
    name="eia",
    description="Raw EIA API v2 day files (daily spot prices) -> processed energy_prices_daily",
    # raw/eia_sample holds the labelled SAMPLE generator's files: same job, its own prefix.
    raw_prefixes=("raw/eia", "raw/eia_sample"),
    file_format="json",
    file_pattern="*.json",
    flatten=CodeRef("datalake.transforms.eia:documents_to_rows"),
    builders=(DatasetBuilder(CodeRef("datalake.transforms.eia:price_rows"), ENERGY_PRICES_DAILY),),
    unreadable=CodeRef("datalake.transforms.eia:unreadable_rows"),
    problem_source="eia_unreadable",
    # Raw days are the days the prices are about; each row's day is its period.
    value_day=CodeRef("datalake.transforms.eia:price_day"),
    owned_values={"raw/eia": ("eia",), "raw/eia_sample": ("sample",)},
    job_setting="eia_glue_job",
    lambdas=(
        SourceLambda(
            "eia_daily",
            "EiaDailySchedule",
            "daily: re-fetch the last 14 days (revisions win)",
            daily=CodeRef("datalake.pipelines.eia_ingest:eia_daily_step"),
        ),
    ),
    # Spot prices are for business days and EIA publishes them in weekly batches: a week and a
    # long weekend behind is normal, more is stale.
    freshness=Freshness(ENERGY_PRICES_DAILY, "date", dt.timedelta(days=10)),
)


OWID = SourceSpec(
    name="owid",
    description="Raw OWID energy drops (CSV or XLSX, both column sets) and codebook -> world_energy, "
    "world_energy_indicators, world_energy_codebook",
    # One folder: energy/ holds the data files, codebook/ the codebooks, both as they landed.
    raw_prefixes=("raw/owid",),
    file_format="csv",  # or XLSX workbooks: the job reads each file whole (datalake.transforms.owid)
    file_pattern="*",
    flatten=CodeRef("datalake.transforms.owid:files_to_rows"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.owid:world_energy"), OWID_TABLES[0]),
        DatasetBuilder(CodeRef("datalake.transforms.owid:indicator_rows"), OWID_TABLES[1]),
        DatasetBuilder(CodeRef("datalake.transforms.owid:codebook_table"), OWID_TABLES[2]),
    ),
    unreadable=None,
    problem_source="owid/unreadable",
    job_setting="owid_glue_job",
    # The newest drop holding a (country, year) wins whatever day it landed, so the tables are a
    # function of every drop: parsed rows are kept between runs (datalake.pipelines.owid).
    process=CodeRef("datalake.pipelines.owid:process_raw_owid"),
    # Its drops land through the landing Lambda of the energy company (ingest_csv), which routes them.
    quarantine_folders=tuple(QUARANTINE_FOLDERS.values()),
    reads_back=OWID_TABLES,
)

STORE_SALES = SourceSpec(
    name="store_sales",
    description="Raw Rossmann store-sales drops (daily sales and store attributes, CSV or XLSX) -> "
    "store_sales_daily, stores",
    # One folder: sales/ holds the daily sales files, stores/ the store attributes, both as they landed.
    raw_prefixes=("raw/store_sales",),
    file_format="csv",  # or XLSX workbooks: the job reads each file whole (datalake.transforms.store_sales)
    file_pattern="*",
    flatten=CodeRef("datalake.transforms.store_sales:files_to_rows"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.store_sales:store_sales_daily"), STORE_SALES_DAILY),
        DatasetBuilder(CodeRef("datalake.transforms.store_sales:stores"), STORES_TABLE),
    ),
    unreadable=None,
    problem_source="store_sales/unreadable",
    job_setting="store_sales_glue_job",
    # The newest drop holding a (store, day) or a store wins whatever day it landed, so the tables
    # are a function of every drop: parsed rows are kept between runs (datalake.pipelines.store_sales).
    process=CodeRef("datalake.pipelines.store_sales:process_raw_store_sales"),
    # The Glue job (--features true) ends by writing the features dataset the training job reads.
    options=(
        JobOption("features", "true: end by writing the features dataset (features/store_sales/)", _flag),
    ),
    option_writes={"features": (FEATURES_PREFIX,)},
    # Its drops land through the landing Lambda of the energy company (ingest_csv), which routes them.
    quarantine_folders=tuple(STORE_SALES_QUARANTINE.values()),
    reads_back=(STORE_SALES_DAILY, STORES_TABLE),
)

REALTIME = SourceSpec(
    name="realtime",
    description="Raw real-time stream events (transactions and their apply outcomes, JSON Lines) -> "
    "portfolio_events",
    # One folder: the stream processor writes transactions/, outcomes/ and prices/ below it, one
    # file per micro-batch (datalake.transforms.realtime reads the first two).
    raw_prefixes=("raw/realtime",),
    file_format="json",
    file_pattern="*.jsonl",
    flatten=CodeRef("datalake.transforms.realtime:lines_to_values"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.realtime:portfolio_event_rows"), PORTFOLIO_EVENTS),
    ),
    unreadable=CodeRef("datalake.transforms.realtime:unreadable_lines"),
    problem_source="realtime_unreadable",
    job_setting="realtime_glue_job",
    # Its raw files come from the stream processor (lambdas/stream_processor, the realtime stack), not
    # from a Lambda of its own; no freshness expectation: a quiet app posts nothing for hours.
)


WEATHER = SourceSpec(
    name="weather",
    description="Raw Open-Meteo forecasts (with their issue time) and archive days, and the hourly "
    "observation file -> weather_hourly, weather_national_hourly, weather_daily",
    # One folder: forecast/ and archive/ hold Open-Meteo's answers (sample_forecast/, sample_archive/
    # the labelled SAMPLE's), observations_file/ the shared observation file as landed.
    raw_prefixes=("raw/weather",),
    file_format="json",  # and the observation file (.csv.gz): the job reads each file whole
    file_pattern="*",
    flatten=CodeRef("datalake.transforms.weather:files_to_rows"),
    builders=(
        DatasetBuilder(CodeRef("datalake.transforms.weather:weather_hourly"), WEATHER_HOURLY),
        DatasetBuilder(CodeRef("datalake.transforms.weather:national_rows"), WEATHER_NATIONAL_HOURLY),
        DatasetBuilder(CodeRef("datalake.transforms.weather:daily_rows"), WEATHER_DAILY),
    ),
    unreadable=None,
    problem_source="weather_unreadable",
    job_setting="weather_glue_job",
    # Every forecast issue, archive day and file landed makes the tables: parsed rows are kept
    # between runs and the tables computed per month with datalake.weather.frames (applyInPandas).
    process=CodeRef("datalake.pipelines.weather:process_raw_weather"),
    settings_options={"weather_locations": "weather_locations"},
    quarantine_folders=("weather_hourly", "weather_unreadable"),
    reads_back=WEATHER_TABLES,
    lambdas=(
        SourceLambda(
            "weather_daily",
            "WeatherDailySchedule",
            "daily (10:00 UTC, before the day-ahead market's noon): the forecast, stored with its issue time",
            daily=CodeRef("datalake.pipelines.weather_ingest:weather_daily_step"),
        ),
    ),
    # The daily run lands a forecast issue a day: the newest extraction is about a day old before
    # the next run; 48 hours means an issue is missing (ts_utc would not do: forecasts reach ahead).
    freshness=Freshness(WEATHER_HOURLY, "extracted_at", dt.timedelta(hours=48)),
)


def index_sources(*sources: SourceSpec) -> Mapping[str, SourceSpec]:
    """A read-only registry of ``sources`` by name.

    Refuses a name or a raw prefix registered twice, and a processed table written from more than
    one raw prefix unless each declares the rows it owns there, in one column, none claimed twice
    (:attr:`SourceSpec.owned_values`): else a run of one would delete the other's rows.
    """
    index: dict[str, SourceSpec] = {}
    owner: dict[str, str] = {}
    for source in sources:
        if source.name in index:
            raise ConfigurationError(f"source {source.name} is registered twice")
        for prefix in source.raw_prefixes:
            if prefix in owner:
                raise ConfigurationError(f"raw prefix {prefix}: both {owner[prefix]} and {source.name}")
            owner[prefix] = source.name
        index[source.name] = source
    _check_shared_tables(sources)
    return MappingProxyType(index)


def _check_shared_tables(sources: tuple[SourceSpec, ...]) -> None:
    writers: dict[str, list[tuple[SourceSpec, str]]] = {}
    for source in sources:
        for spec in source.datasets:
            writers.setdefault(spec.name, []).extend((source, p) for p in source.raw_prefixes)
    for table, prefixes in writers.items():
        if len(prefixes) < 2:
            continue
        claimed: dict[tuple[str, str], str] = {}
        for source, prefix in prefixes:
            if not source.owned_values:
                names = ", ".join(p for _s, p in prefixes)
                raise ConfigurationError(
                    f"processed table {table} is written from {names}: source {source.name} must "
                    "declare owned_values (the rows each of its raw prefixes owns there)"
                )
            for value in source.owned_values[prefix]:
                key = (source.owner_column, value)
                if key in claimed and claimed[key] != prefix:
                    raise ConfigurationError(
                        f"processed table {table}: {source.owner_column}={value!r} is claimed by both "
                        f"{claimed[key]} and {prefix}"
                    )
                claimed[key] = prefix
        if len({source.owner_column for source, _p in prefixes}) > 1:
            raise ConfigurationError(f"processed table {table}: its writers name owners in different columns")


#: Every registered source by name; registering one is one entry here.
SOURCES: Mapping[str, SourceSpec] = index_sources(
    REE, ENTSOE, ENERGY_COMPANY, TMDB, EIA, OWID, STORE_SALES, REALTIME, WEATHER
)


def get_source(name: str) -> SourceSpec:
    """The registered source ``name``.

    Raises
    ------
    UnknownSourceError
        Naming the registered sources.
    """
    try:
        return SOURCES[name]
    except KeyError:
        raise UnknownSourceError(
            f"unknown source {name!r}; registered sources: {', '.join(sorted(SOURCES))}"
        ) from None


def scheduled_lambdas() -> list[tuple[SourceSpec, SourceLambda]]:
    """Every registered Lambda on an EventBridge schedule, with its source, in registration order."""
    return [(source, function) for source in SOURCES.values() for function in source.scheduled_lambdas]


def raw_prefix_sources() -> dict[str, SourceSpec]:
    """Every registered raw prefix -> the source whose job processes it."""
    return {prefix: source for source in SOURCES.values() for prefix in source.raw_prefixes}
