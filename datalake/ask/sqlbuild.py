"""An :class:`Intent` as one SELECT, built as a sqlglot AST from the dataset specs.

Nothing from the question reaches the SQL as text: periods become timestamp literals built
here from Python datetimes (UTC bounds of the local periods), technologies become the
``technology`` values listed in :mod:`datalake.ask.lexicon`, and every identifier is a
column of a dataset spec. The AST renders for PostgreSQL, Athena and DuckDB.

Per hour, demand comes from one source: ``ree``, else ``entsoe``, else ``sample``; sample rows
are used only when the table has no real rows for the region, so the two never mix (the same
rule as :func:`datalake.forecasting.data.choose_sources`). Generation takes, per local day,
the best (source, grain) pair present: hourly rows before daily ones, so a day is never
counted twice. Totals of generation are recomputed from the technologies (the REE "total"
rows are skipped), counting positive values only; a share is the technology's energy over
that total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from datalake.ask import lexicon as lx
from datalake.ask.intent import DAYS_KEPT, Intent
from datalake.ask.lexicon import RANKED_TECHNOLOGIES, Technology
from datalake.ask.periods import Period
from datalake.datasets import DEMAND_DAILY, DEMAND_HOURLY, GENERATION, SAMPLE_SOURCE, DatasetSpec
from datalake.datasets import DEMAND_SOURCE_PREFERENCE as SOURCE_PREFERENCE

_BUCKET_COLUMNS = {
    "hour": "ts_utc",
    "day": "local_date",
    "week": "week_start",
    "month": "month_start",
    "year": "year_start",
}


@dataclass(frozen=True)
class QueryPlan:
    """A built query and how to read its result.

    Attributes
    ----------
    select
        The AST (render it with ``select.sql(dialect=...)``).
    value_column
        The column holding the answer's number(s).
    time_column
        The column saying when (hour, day, bucket or period label), or None.
    unit
        ``MW``, ``MWh`` or ``share`` (a fraction, 0..1) of ``value_column``.
    """

    select: exp.Select
    value_column: str
    time_column: str | None
    unit: str


def _col(name: str, spec: DatasetSpec | None = None, table: str | None = None) -> exp.Column:
    if spec is not None and name not in spec.column_names:
        raise ValueError(f"{name} is not a column of {spec.name}")  # a bug here, never user input
    return exp.column(name, table=table)


def timestamp_literal(moment: dt.datetime) -> exp.Expression:
    """A UTC timestamp literal (sessions run in UTC; ``ts_utc`` holds UTC instants)."""
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("timestamp"))


def _in_period(period: Period, column: exp.Expression) -> exp.Expression:
    return exp.and_(
        exp.GTE(this=column.copy(), expression=timestamp_literal(period.start_utc)),
        exp.LT(this=column.copy(), expression=timestamp_literal(period.end_utc)),
    )


def _in_periods(periods: tuple[Period, ...], column: exp.Expression) -> exp.Expression:
    conditions = [_in_period(p, column) for p in periods]
    return conditions[0] if len(conditions) == 1 else exp.paren(exp.or_(*conditions))


def _source_rank(spec: DatasetSpec) -> exp.Expression:
    case = exp.case()
    for rank, source in enumerate(SOURCE_PREFERENCE[:-1], 1):
        case = case.when(_col("source", spec).eq(exp.Literal.string(source)), exp.Literal.number(rank))
    return case.else_(exp.Literal.number(len(SOURCE_PREFERENCE)))


def _no_sample_when_real(spec: DatasetSpec, table: str, region: str) -> exp.Expression:
    """Sample rows only when no real row exists for the region."""
    real_rows = (
        exp.select(exp.Literal.number(1))
        .from_(exp.to_table(table).as_("real_rows"))
        .where(
            exp.and_(
                # IN the real sources, not <> sample: an index probe even when only samples exist.
                _col("source", spec, "real_rows").isin(
                    *[exp.Literal.string(s) for s in SOURCE_PREFERENCE if s != SAMPLE_SOURCE]
                ),
                _col("region", spec, "real_rows").eq(exp.Literal.string(region)),
            )
        )
    )
    return exp.paren(
        exp.or_(
            _col("source", spec).neq(exp.Literal.string(SAMPLE_SOURCE)),
            exp.not_(exp.Exists(this=real_rows)),
        )
    )


def needs_hours(intent: Intent) -> bool:
    """Whether only hourly rows can answer (a value at an hour, an hourly mean, peak or series)."""
    hourly_aggregates = {"instant", "max", "min", "top", "trend"}
    if intent.aggregate == "rank":
        return intent.inner == "average"
    if intent.aggregate == "average":
        return intent.granularity in (None, "hour")
    if intent.aggregate in ("compare", "group"):
        return intent.inner != "total"
    return intent.aggregate in hourly_aggregates and intent.granularity in (None, "hour")


def _demand_series(intent: Intent, table: str) -> tuple[exp.Select, exp.Select]:
    spec = DEMAND_HOURLY
    value = "tso_forecast_mw" if intent.measure == "forecast" else "demand_mw"
    pick = exp.Window(
        this=exp.RowNumber(),
        partition_by=[_col("ts_utc", spec)],
        order=exp.Order(expressions=[exp.Ordered(this=_source_rank(spec))]),
    )
    candidates = (
        exp.select(
            _col("ts_utc", spec),
            _col("local_date", spec),
            exp.alias_(_col(value, spec), "value"),
            exp.alias_(pick, "source_pick"),
        )
        .from_(exp.to_table(table))
        .where(
            exp.and_(
                _col("region", spec).eq(exp.Literal.string(intent.region)),
                exp.Not(this=exp.Is(this=_col(value, spec), expression=exp.Null())),
                _in_periods(intent.periods, _col("ts_utc", spec)),
                _no_sample_when_real(spec, table, intent.region),
            )
        )
    )
    series = (
        exp.select("ts_utc", "local_date", "value")
        .from_("candidates")
        .where(exp.column("source_pick").eq(exp.Literal.number(1)))
    )
    return candidates, series


_DAY_GRAINS = ("day", "week", "month", "year")


def _whole_days(period: Period) -> bool:
    return period.start.time() == dt.time(0) and period.end.time() == dt.time(0)


def answerable_by_days(intent: Intent) -> bool:
    """Whether the per-day sums and hour counts of :data:`~datalake.datasets.DEMAND_DAILY` answer
    ``intent`` exactly: a total or a mean of demand (or of the operator's forecast) over whole
    local days, per day or longer, or per weekday. An hour's value, a peak hour or a part of a
    day needs the hours."""
    if intent.measure not in ("demand", "forecast") or not all(_whole_days(p) for p in intent.periods):
        return False
    if intent.aggregate in ("total", "average", "group"):
        return True
    if intent.aggregate in ("max", "min", "top"):
        return intent.granularity in _DAY_GRAINS
    if intent.aggregate == "trend":
        return intent.granularity in _DAY_GRAINS and intent.inner in ("total", "average")
    return False


def _date_literal(day: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("date"))


def _daily_demand_series(intent: Intent, table: str) -> exp.Select:
    """Per local day of the periods: ``value`` (the day's MWh) and ``hours`` (hours with a value),
    from the warehouse's rollup of ``demand_hourly`` (:mod:`datalake.warehouse.rollups`), with the
    hourly series' rule: sample days only when the region has no real day at all."""
    spec = DEMAND_DAILY
    stem = "tso_forecast" if intent.measure == "forecast" else "demand"
    day = _col("local_date", spec)
    in_periods = [
        exp.and_(
            exp.GTE(this=day.copy(), expression=_date_literal(p.start.date())),
            exp.LT(this=day.copy(), expression=_date_literal(p.end.date())),
        )
        for p in intent.periods
    ]
    real_days = (
        exp.select(exp.Literal.number(1))
        .from_(exp.to_table(table).as_("real_rows"))
        .where(
            exp.and_(
                exp.Not(this=_col("sample", spec, "real_rows")),
                _col("region", spec, "real_rows").eq(exp.Literal.string(intent.region)),
            )
        )
    )
    return (
        exp.select(
            day,
            exp.alias_(_col(f"{stem}_mwh", spec), "value"),
            exp.alias_(_col(f"{stem}_hours", spec), "hours"),
        )
        .from_(exp.to_table(table))
        .where(
            exp.and_(
                _col("region", spec).eq(exp.Literal.string(intent.region)),
                in_periods[0] if len(in_periods) == 1 else exp.paren(exp.or_(*in_periods)),
                exp.GT(this=_col(f"{stem}_hours", spec), expression=exp.Literal.number(0)),
                exp.paren(exp.or_(exp.Not(this=_col("sample", spec)), exp.not_(exp.Exists(this=real_days)))),
            )
        )
    )


def _generation_candidates(intent: Intent, table: str) -> exp.Select:
    """The generation rows of the period, each with its (source, grain) rank and its day's best rank."""
    spec = GENERATION
    grain_rank = (
        exp.case()
        .when(_col("time_grain", spec).eq(exp.Literal.string("hour")), exp.Literal.number(1))
        .else_(exp.Literal.number(2))
    )
    rank = exp.Add(
        this=exp.Mul(this=exp.paren(_source_rank(spec)), expression=exp.Literal.number(10)),
        expression=exp.paren(grain_rank),
    )
    best = exp.Window(this=exp.Min(this=rank.copy()), partition_by=[_col("local_date", spec)])
    conditions = [
        _col("region", spec).eq(exp.Literal.string(intent.region)),
        _in_periods(intent.periods, _col("ts_utc", spec)),
        # Totals are recomputed from the technologies, the same way for every source.
        exp.Coalesce(this=_col("technology_group", spec), expressions=[exp.Literal.string("")]).neq(
            exp.Literal.string("total")
        ),
        _no_sample_when_real(spec, table, intent.region),
    ]
    if needs_hours(intent):
        conditions.append(_col("time_grain", spec).eq(exp.Literal.string("hour")))
    return (
        exp.select(
            _col("ts_utc", spec),
            _col("local_date", spec),
            _col("technology", spec),
            _col("technology_group", spec),
            _col("energy_mwh", spec),
            exp.alias_(rank, "row_rank"),
            exp.alias_(best, "best_rank"),
        )
        .from_(exp.to_table(table))
        .where(exp.and_(*conditions))
    )


def _generation_series(intent: Intent, table: str) -> tuple[exp.Select, exp.Select]:
    """(candidates, series): per hour ``part`` (the technology's energy, or all positive energy),
    ``whole`` (all positive energy) and, for a pair, ``part2`` (the second technology's)."""
    candidates = _generation_candidates(intent, table)
    energy = exp.column("energy_mwh")
    positive = exp.GT(this=energy.copy(), expression=exp.Literal.number(0))
    technology = intent.technology
    part_condition = positive if technology is None else _of_technology(technology)

    def energy_when(condition: exp.Expression) -> exp.Expression:
        return exp.Sum(this=exp.case().when(condition, energy.copy()).else_(exp.Literal.number(0)))

    parts = [
        exp.alias_(energy_when(part_condition), "part"),
        exp.alias_(energy_when(positive.copy()), "whole"),
    ]
    if isinstance(intent.against, Technology):
        parts.append(exp.alias_(energy_when(_of_technology(intent.against)), "part2"))
    series = (
        exp.select("ts_utc", "local_date", *parts)
        .from_("candidates")
        .where(exp.column("row_rank").eq(exp.column("best_rank")))
        .group_by("ts_utc", "local_date")
    )
    return candidates, series


def _of_technology(technology: Technology) -> exp.Expression:
    """The rows of ``technology``: its ``technology_group`` for a group, else its source names."""
    if technology.group is not None:
        return exp.column("technology_group").eq(exp.Literal.string(technology.group))
    return exp.column("technology").isin(*[exp.Literal.string(n) for n in technology.names])


def _ranked_key() -> exp.Expression:
    """Each source's technology name as its ranked technology's key.

    A name no ranked technology lists stays itself: it is ranked on its own, never dropped.
    """
    case = exp.case()
    for tech in RANKED_TECHNOLOGIES:
        names = [exp.Literal.string(n) for n in tech.names]
        # copy=False: the builders copy the whole CASE on every branch otherwise (quadratic).
        case = case.when(exp.column("technology").isin(*names), exp.Literal.string(tech.key), copy=False)
    return case.else_(exp.column("technology"), copy=False)


def _ranked_label(language: str) -> exp.Expression:
    """A ranked technology's key as its name in ``language``, capitalised (chart labels)."""
    case = exp.case()
    for tech in RANKED_TECHNOLOGIES:
        label = tech.label_es if language == "es" else tech.label_en
        case = case.when(
            exp.column("technology").eq(exp.Literal.string(tech.key)),
            exp.Literal.string(label[:1].upper() + label[1:]),
            copy=False,
        )
    return case.else_(exp.column("technology"), copy=False)


def _technology_ranking(intent: Intent, table: str) -> QueryPlan:
    """Technologies ordered by their energy (or share, or mean power) over the period.

    Only positive values count (pumping consumes); the total each share is of is all positive
    generation of the period, whatever family is ranked.
    """
    candidates = _generation_candidates(intent, table)
    energy = exp.column("energy_mwh")
    chosen = exp.and_(
        exp.column("row_rank").eq(exp.column("best_rank")),
        exp.GT(this=energy.copy(), expression=exp.Literal.number(0)),
    )
    part = energy.copy()
    if intent.technology is not None:
        part = exp.case().when(_of_technology(intent.technology), energy.copy()).else_(exp.Literal.number(0))
    columns = [
        exp.alias_(_ranked_key(), "technology"),
        exp.alias_(exp.Sum(this=part), "generation_mwh"),
        exp.alias_(exp.Window(this=exp.Sum(this=exp.Sum(this=energy.copy()))), "total_generation_mwh"),
    ]
    outputs: list[exp.Expression] = [
        exp.column("technology"),
        exp.alias_(_ranked_label(intent.language), "technology_label"),
        exp.column("generation_mwh"),
    ]
    value = "share" if intent.measure == "share" else "generation_mwh"
    if intent.inner == "average" and intent.measure != "share":
        # Mean power: the energy over the hours with data (hourly rows only, see needs_hours).
        hours = exp.select(exp.Count(this=exp.Distinct(expressions=[exp.column("ts_utc")])))
        columns.append(exp.alias_(exp.Subquery(this=hours.from_("candidates").where(chosen.copy())), "hours"))
        outputs.append(exp.alias_(_ratio(exp.column("generation_mwh"), exp.column("hours")), "generation_mw"))
        value = "generation_mw"
    by_technology = exp.select(*columns).from_("candidates").where(chosen).group_by(exp.Literal.number(1))
    outputs += [
        exp.alias_(_ratio(exp.column("generation_mwh"), exp.column("total_generation_mwh")), "share"),
        exp.column("total_generation_mwh"),
    ]
    select = (
        exp.select(*outputs)
        .from_("by_technology")
        # A family ranks its own members: technologies with nothing in it are not listed.
        .where(exp.GT(this=exp.column("generation_mwh"), expression=exp.Literal.number(0)))
        .order_by(
            exp.Ordered(this=exp.column(value), desc=intent.order == "desc"),
            exp.Ordered(this=exp.column("technology")),
        )
    )
    if intent.k is not None:
        select = select.limit(intent.k)
    select = select.with_("candidates", as_=candidates, copy=False).with_(
        "by_technology", as_=by_technology, copy=False
    )
    unit = {"share": "share", "generation_mw": "MW", "generation_mwh": "MWh"}[value]
    return QueryPlan(select, value, "technology_label", unit)


def _bucket(granularity: str) -> exp.Expression:
    if granularity == "hour":
        return exp.column("ts_utc")
    if granularity == "day":
        return exp.column("local_date")
    truncated = exp.DateTrunc(unit=exp.Literal.string(granularity.upper()), this=exp.column("local_date"))
    return exp.cast(truncated, exp.DataType.build("date"))


def _names(intent: Intent) -> tuple[str, str]:
    """(column stem, unit of a sum) for the measure: demand_mw summed is demand_mwh."""
    if intent.measure == "share":
        key = intent.technology.key if intent.technology else "renewable"
        return f"{key}_share", "share"
    stem = {"demand": "demand", "forecast": "tso_forecast", "generation": "generation"}[intent.measure]
    return stem, "MWh"


def build_query(intent: Intent, table: str | None = None, daily_table: str | None = None) -> QueryPlan:
    """The SELECT that answers ``intent``.

    Parameters
    ----------
    intent
        The understood question.
    table
        The table to read; the dataset's warehouse table (also its lake table name) by default.
    daily_table
        Where the engine keeps :data:`~datalake.datasets.DEMAND_DAILY` (the warehouse does), if
        anywhere: a question it answers (:func:`answerable_by_days`) reads days, not hours.

    Returns
    -------
    QueryPlan
    """
    if intent.aggregate == "rank":
        return _technology_ranking(intent, table or GENERATION.warehouse_table)
    if intent.aggregate == "error":
        return _forecast_error(intent, table or DEMAND_HOURLY.warehouse_table)
    if intent.aggregate == "compare" and intent.against == "forecast":
        return _actual_against_forecast(intent, table or DEMAND_HOURLY.warehouse_table)
    daily = daily_table is not None and answerable_by_days(intent)
    candidates: exp.Select | None
    if daily:
        assert daily_table is not None
        candidates, series = None, _daily_demand_series(intent, daily_table)
        value: exp.Expression = exp.column("value")
    elif intent.measure in ("demand", "forecast"):
        table = table or DEMAND_HOURLY.warehouse_table
        candidates, series = _demand_series(intent, table)
        value = exp.column("value")
    else:
        table = table or GENERATION.warehouse_table
        candidates, series = _generation_series(intent, table)
        value = exp.column("part")
    if intent.days is not None:
        series = series.where(_days_condition(intent.days))
    is_share = intent.measure == "share"
    stem, _ = _names(intent)
    select = _aggregate(intent, value, stem, is_share, daily)
    plan_select, value_column, time_column, unit = select
    if candidates is not None:
        plan_select = plan_select.with_("candidates", as_=candidates)
    plan_select = plan_select.with_("series", as_=series)
    return QueryPlan(plan_select, value_column, time_column, unit)


def _ratio(part: exp.Expression, whole: exp.Expression) -> exp.Expression:
    return exp.Div(this=part, expression=exp.Nullif(this=whole, expression=exp.Literal.number(0)))


def _hours(daily: bool) -> exp.Expression:
    """The hours with a value among the series' rows (days carry their count)."""
    if daily:  # no day: 0 hours, as COUNT(*) says, not NULL
        return exp.Coalesce(this=exp.Sum(this=exp.column("hours")), expressions=[exp.Literal.number(0)])
    return exp.Count(this=exp.Star())


def _summary(inner: str, value: exp.Expression, is_share: bool, daily: bool = False) -> exp.Expression:
    if is_share:
        return _ratio(exp.Sum(this=exp.column("part")), exp.Sum(this=exp.column("whole")))
    if daily:
        # Days hold sums: a total adds them, a mean is over their hours (never a mean of days).
        if inner == "total":
            return exp.Sum(this=value.copy())
        if inner == "average":
            return _ratio(exp.Sum(this=value.copy()), _hours(daily))
        raise ValueError(f"{inner} needs the hours, not days")  # answerable_by_days keeps it out
    function = {"total": exp.Sum, "instant": exp.Sum, "average": exp.Avg, "max": exp.Max, "min": exp.Min}[
        inner
    ]
    return function(this=value.copy())


def _aggregate(
    intent: Intent, value: exp.Expression, stem: str, is_share: bool, daily: bool = False
) -> tuple[exp.Select, str, str | None, str]:
    aggregate = intent.aggregate
    hourly_share = _ratio(exp.column("part"), exp.column("whole"))
    share_parts = [
        exp.alias_(exp.Sum(this=exp.column("part")), "part_mwh"),
        exp.alias_(exp.Sum(this=exp.column("whole")), "generation_mwh"),
    ]
    power = f"{stem}_mw" if stem != "generation" else "generation_mw"
    energy = f"{stem}_mwh"
    value_name = stem if is_share else None

    if aggregate == "instant":
        name = value_name or (energy if stem == "generation" else power)
        shown = hourly_share if is_share else value.copy()
        extra = [
            exp.alias_(exp.column("part"), "part_mwh"),
            exp.alias_(exp.column("whole"), "generation_mwh"),
        ]
        columns = [exp.column("ts_utc"), exp.alias_(shown, name), *(extra if is_share else [])]
        select = exp.select(*columns).from_("series").order_by("ts_utc")
        return select, name, "ts_utc", "share" if is_share else ("MWh" if stem == "generation" else "MW")

    if aggregate == "total":
        name = value_name or energy
        columns = [exp.alias_(_summary("total", value, is_share), name)]
        if is_share:
            columns += share_parts
        elif intent.measure != "generation":  # generation may come in daily rows: no hour count
            columns.append(exp.alias_(_hours(daily), "hours"))
        return exp.select(*columns).from_("series"), name, None, "share" if is_share else "MWh"

    if aggregate == "average":
        if intent.granularity in (None, "hour"):
            columns = [
                exp.alias_(_summary("average", value, False, daily), power),
                exp.alias_(_hours(daily), "hours"),
            ]
            return exp.select(*columns).from_("series"), power, None, "MW"
        name = f"{energy}_per_{intent.granularity}"
        buckets = (
            exp.select(
                exp.alias_(_bucket(intent.granularity), "bucket"),
                exp.alias_(exp.Sum(this=value.copy()), "bucket_mwh"),
            )
            .from_("series")
            .group_by(_bucket(intent.granularity))
        )
        select = exp.select(
            exp.alias_(exp.Avg(this=exp.column("bucket_mwh")), name),
            exp.alias_(exp.Count(this=exp.Star()), f"{intent.granularity}s"),
        ).from_(buckets.subquery("buckets"))
        return select, name, None, "MWh"

    if aggregate in ("max", "min", "top"):
        descending = intent.order == "desc"
        granularity = intent.granularity or "hour"
        k = intent.k or 1
        if granularity == "hour":
            name = value_name or (energy if stem == "generation" else power)
            shown = hourly_share if is_share else value.copy()
            select = exp.select(exp.column("ts_utc"), exp.alias_(shown, name)).from_("series")
            if is_share:
                select = select.where(exp.GT(this=exp.column("whole"), expression=exp.Literal.number(0)))
            select = select.order_by(
                exp.Ordered(this=exp.column(name), desc=descending), exp.Ordered(this=exp.column("ts_utc"))
            ).limit(k)
            return select, name, "ts_utc", "share" if is_share else ("MWh" if stem == "generation" else "MW")
        bucket_column = _BUCKET_COLUMNS[granularity]
        inner = intent.inner if intent.inner in ("total", "average") else "total"
        name = value_name or (power if inner == "average" else energy)
        select = (
            exp.select(
                exp.alias_(_bucket(granularity), bucket_column),
                exp.alias_(_summary(inner, value, is_share, daily), name),
            )
            .from_("series")
            .group_by(_bucket(granularity))
        )
        if is_share:
            select = select.having(
                exp.GT(this=exp.Sum(this=exp.column("whole")), expression=exp.Literal.number(0))
            )
        select = select.order_by(
            exp.Ordered(this=exp.column(name), desc=descending), exp.Ordered(this=exp.column(bucket_column))
        ).limit(k)
        unit = "share" if is_share else ("MW" if inner == "average" else "MWh")
        return select, name, bucket_column, unit

    if aggregate == "trend":
        granularity = intent.granularity or "day"
        bucket_column = _BUCKET_COLUMNS[granularity]
        inner = intent.inner
        if granularity == "hour":
            name = value_name or (energy if stem == "generation" else power)
            shown = hourly_share if is_share else value.copy()
            select = (
                exp.select(exp.column("ts_utc"), exp.alias_(shown, name)).from_("series").order_by("ts_utc")
            )
            return select, name, "ts_utc", "share" if is_share else ("MWh" if stem == "generation" else "MW")
        name = value_name or (
            energy if inner == "total" else f"{'peak' if inner == 'max' else inner}_{power}"
        )
        if inner == "min":
            name = value_name or f"min_{power}"
        select = (
            exp.select(
                exp.alias_(_bucket(granularity), bucket_column),
                exp.alias_(_summary(inner, value, is_share, daily), name),
            )
            .from_("series")
            .group_by(_bucket(granularity))
            .order_by(bucket_column)
        )
        unit = "share" if is_share else ("MWh" if inner == "total" else "MW")
        return select, name, bucket_column, unit

    if aggregate == "group":
        return _grouped(intent, value, is_share, power, energy, value_name, daily)

    if aggregate == "compare" and intent.against is not None:
        return _technology_pair(intent)

    if aggregate == "compare":
        first = intent.periods[0]
        which = exp.case().when(
            _in_period(first, exp.column("ts_utc")), exp.Literal.string(first.short_label(intent.language))
        )
        which = which.else_(exp.Literal.string(intent.periods[1].short_label(intent.language)))
        order = (
            exp.case()
            .when(_in_period(first, exp.column("ts_utc")), exp.Literal.number(1))
            .else_(exp.Literal.number(2))
        )
        inner = intent.inner
        if is_share:
            name = value_name or stem
        elif inner == "total":
            name = energy
        elif inner == "instant":
            name = energy if stem == "generation" else power
        else:
            name = f"{'peak' if inner == 'max' else inner}_{power}" if inner != "average" else power
        select = (
            exp.select(exp.alias_(which, "period"), exp.alias_(_summary(inner, value, is_share), name))
            .from_("series")
            .group_by(which.copy())
            .order_by(exp.Min(this=order))
        )
        unit = (
            "share"
            if is_share
            else ("MWh" if inner == "total" or (inner == "instant" and stem == "generation") else "MW")
        )
        if intent.change == "percent":
            return _percent_change(intent, select, name), "change_pct", None, unit
        return select, name, "period", unit

    raise ValueError(f"unknown aggregate {aggregate!r}")


def _pair_summary(intent: Intent) -> tuple[type[exp.Func], str, str]:
    """(aggregate function, unit, column suffix) of a pair: totals, or hourly means."""
    if intent.inner == "average":
        return exp.Avg, "MW", "mw"
    return exp.Sum, "MWh", "mwh"


def _actual_against_forecast(intent: Intent, table: str) -> QueryPlan:
    """The actual demand and the operator's forecast over one period, in one row (each over its
    own hours, see :func:`_paired_demand`)."""
    function, unit, suffix = _pair_summary(intent)
    candidates, paired = _paired_demand(intent, table)
    first, second = f"demand_{suffix}", f"tso_forecast_{suffix}"
    select = (
        exp.select(
            exp.alias_(function(this=exp.column("actual")), first),
            exp.alias_(function(this=exp.column("forecast")), second),
        )
        .from_("paired")
        .with_("candidates", as_=candidates)
        .with_("paired", as_=paired)
    )
    return QueryPlan(select, first, None, unit)


def _technology_pair(intent: Intent) -> tuple[exp.Select, str, str | None, str]:
    """Two technologies' generation over one period, in one row in the order asked (the series'
    ``part`` and ``part2``)."""
    assert intent.technology is not None and isinstance(intent.against, Technology)
    function, unit, suffix = _pair_summary(intent)
    first, second = f"{intent.technology.key}_{suffix}", f"{intent.against.key}_{suffix}"
    select = exp.select(
        exp.alias_(function(this=exp.column("part")), first),
        exp.alias_(function(this=exp.column("part2")), second),
    ).from_("series")
    return select, first, None, unit


def _iso_weekday() -> exp.Expression:
    """The local weekday of a series row, Monday 1 to Sunday 7."""
    return exp.Extract(this=exp.var("ISODOW"), expression=exp.column("local_date"))


def _weekend() -> exp.Expression:
    """Whether a series row is of a local weekend (Saturday or Sunday)."""
    return exp.GTE(this=_iso_weekday(), expression=exp.Literal.number(6))


def _days_condition(days: str) -> exp.Expression:
    """The rows of the local weekdays ``days`` keeps (weekends, weekdays, one weekday)."""
    iso = sorted(number + 1 for number in DAYS_KEPT[days])
    return exp.In(this=_iso_weekday(), expressions=[exp.Literal.number(n) for n in iso])


def _grouped(
    intent: Intent,
    value: exp.Expression,
    is_share: bool,
    power: str,
    energy: str,
    value_name: str | None,
    daily: bool = False,
) -> tuple[exp.Select, str, str | None, str]:
    """One row per local weekday (Monday first) or per kind of day (weekdays, then weekends)."""
    weekday = _iso_weekday()
    es = intent.language == "es"
    if intent.group == "weekday":
        names = lx.WEEKDAY_NAMES_ES if es else lx.WEEKDAY_NAMES_EN
        key, key_column, label_column = weekday, "weekday", "weekday_name"
        label = exp.case()
        for number, name in enumerate(names, 1):
            label = label.when(weekday.copy().eq(exp.Literal.number(number)), exp.Literal.string(name))
    else:
        weekend = _weekend()
        key = exp.case().when(weekend, exp.Literal.number(2)).else_(exp.Literal.number(1))
        key_column, label_column = "day_type", "day_type_name"
        label = (
            exp.case()
            .when(weekend.copy(), exp.Literal.string("fines de semana" if es else "weekends"))
            .else_(exp.Literal.string("entre semana" if es else "weekdays"))
        )
    inner = intent.inner if intent.inner in ("total", "average") else "average"
    name = value_name or (power if inner == "average" else energy)
    select = (
        exp.select(
            exp.alias_(key, key_column),
            exp.alias_(label, label_column),
            exp.alias_(_summary(inner, value, is_share, daily), name),
        )
        .from_("series")
        .group_by(key.copy(), label.copy())
    )
    if intent.k is not None:
        descending = intent.order == "desc"
        select = select.order_by(
            exp.Ordered(this=exp.column(name), desc=descending), exp.Ordered(this=exp.column(key_column))
        ).limit(intent.k)
    else:
        select = select.order_by(key_column)
    unit = "share" if is_share else ("MW" if inner == "average" else "MWh")
    return select, name, label_column, unit


def _paired_demand(intent: Intent, table: str) -> tuple[exp.Select, exp.Select]:
    """(candidates, paired): per hour the actual demand and the operator's forecast, each from the
    hour's best source having that value (as every demand answer picks).

    Both are picked in one scan and paired by a GROUP BY: no join (with stale statistics
    PostgreSQL ran a join of two window subqueries as a nested loop, minutes for a year) and no
    UNION (the guard refuses set operations).
    """
    spec = DEMAND_HOURLY

    def pick(column: str) -> exp.Expression:
        missing = (
            exp.case()
            .when(exp.Is(this=_col(column, spec), expression=exp.Null()), exp.Literal.number(1))
            .else_(exp.Literal.number(0))
        )
        order = [exp.Ordered(this=missing), exp.Ordered(this=_source_rank(spec))]
        return exp.Window(
            this=exp.RowNumber(), partition_by=[_col("ts_utc", spec)], order=exp.Order(expressions=order)
        )

    candidates = (
        exp.select(
            _col("ts_utc", spec),
            exp.alias_(_col("demand_mw", spec), "actual_mw"),
            exp.alias_(_col("tso_forecast_mw", spec), "forecast_mw"),
            exp.alias_(pick("demand_mw"), "actual_pick"),
            exp.alias_(pick("tso_forecast_mw"), "forecast_pick"),
        )
        .from_(exp.to_table(table))
        .where(
            exp.and_(
                _col("region", spec).eq(exp.Literal.string(intent.region)),
                _in_periods(intent.periods, _col("ts_utc", spec)),
                _no_sample_when_real(spec, table, intent.region),
                *([_days_condition(intent.days)] if intent.days else []),
            )
        )
    )

    def chosen(value: str, rank: str) -> exp.Expression:
        return exp.Max(this=exp.case().when(exp.column(rank).eq(exp.Literal.number(1)), exp.column(value)))

    paired = (
        exp.select(
            "ts_utc",
            exp.alias_(chosen("actual_mw", "actual_pick"), "actual"),
            exp.alias_(chosen("forecast_mw", "forecast_pick"), "forecast"),
        )
        .from_("candidates")
        .group_by("ts_utc")
    )
    return candidates, paired


def _forecast_error(intent: Intent, table: str) -> QueryPlan:
    """The operator's forecast against the actual demand, hour by hour: mean absolute error (MW)
    and mean absolute percentage error (%), over the hours with both (see :func:`_paired_demand`)."""
    candidates, paired = _paired_demand(intent, table)
    gap = exp.Abs(this=exp.Sub(this=exp.column("actual"), expression=exp.column("forecast")))
    relative = exp.Div(
        this=gap.copy(), expression=exp.Nullif(this=exp.column("actual"), expression=exp.Literal.number(0))
    )
    select = (
        exp.select(
            exp.alias_(exp.Avg(this=gap), "mae_mw"),
            exp.alias_(exp.Mul(this=exp.Literal.number(100), expression=exp.Avg(this=relative)), "mape_pct"),
            exp.alias_(exp.Count(this=exp.Star()), "hours"),
        )
        .from_("paired")
        .where(
            exp.and_(
                exp.Not(this=exp.Is(this=exp.column("actual"), expression=exp.Null())),
                exp.Not(this=exp.Is(this=exp.column("forecast"), expression=exp.Null())),
            )
        )
        .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0)))
        .with_("candidates", as_=candidates)
        .with_("paired", as_=paired)
    )
    value_column, unit = ("mape_pct", "%") if intent.inner == "mape" else ("mae_mw", "MW")
    return QueryPlan(select, value_column, None, unit)


def _percent_change(intent: Intent, compared: exp.Select, name: str) -> exp.Select:
    """One row: each period's value, earlier first, and the change from the earlier in percent."""
    earlier, later = sorted(intent.periods[:2], key=lambda p: p.start_utc)

    def value_of(period: Period) -> exp.Expression:
        label = exp.Literal.string(period.short_label(intent.language))
        return exp.Max(this=exp.case().when(exp.column("period").eq(label), exp.column(name)))

    change = exp.Div(
        this=exp.Mul(
            this=exp.Literal.number(100),
            expression=exp.paren(exp.Sub(this=value_of(later), expression=value_of(earlier))),
        ),
        expression=exp.Nullif(this=value_of(earlier), expression=exp.Literal.number(0)),
    )
    return exp.select(
        exp.alias_(exp.Literal.string(earlier.short_label(intent.language)), "from_period"),
        exp.alias_(value_of(earlier), f"from_{name}"),
        exp.alias_(exp.Literal.string(later.short_label(intent.language)), "to_period"),
        exp.alias_(value_of(later), f"to_{name}"),
        exp.alias_(change, "change_pct"),
    ).from_(compared.subquery("compared"))


def coverage_query(intent: Intent, table: str | None = None) -> exp.Select:
    """First and last hour of data for the intent's measure and region: said when a period has none."""
    spec = DEMAND_HOURLY if intent.measure in ("demand", "forecast") else GENERATION
    table = table or spec.warehouse_table
    conditions = [_col("region", spec).eq(exp.Literal.string(intent.region))]
    if intent.measure == "forecast":
        conditions.append(exp.Not(this=exp.Is(this=_col("tso_forecast_mw", spec), expression=exp.Null())))
    return (
        exp.select(
            exp.alias_(exp.Min(this=_col("ts_utc", spec)), "first_hour"),
            exp.alias_(exp.Max(this=_col("ts_utc", spec)), "last_hour"),
        )
        .from_(exp.to_table(table))
        .where(exp.and_(*conditions))
    )
