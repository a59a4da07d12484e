"""The answer sentence and chart spec, in the question's language, from a query's rows.

Numbers carry their units: energy in MWh, GWh or TWh, power in MW, shares in percent. Times
are local (Europe/Madrid) and every sentence names the exact period it covers.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from datalake.ask.intent import DAYS_KEPT, Intent
from datalake.ask.lexicon import (
    MONTH_NAMES_EN,
    MONTH_NAMES_ES,
    TECHNOLOGIES,
    WEEKDAY_NAMES_EN,
    WEEKDAY_NAMES_ES,
)
from datalake.ask.periods import MADRID, Period, day_text, hour_text
from datalake.ask.sqlbuild import QueryPlan
from datalake.formatting import format_number


def number(value: float, decimals: int, language: str) -> str:
    """``31,245.5`` in English, ``31.245,5`` in Spanish."""
    return format_number(value, language, decimals)


def energy(mwh: float, language: str) -> str:
    """An energy in the unit that keeps it readable (MWh, GWh, TWh)."""
    size = abs(mwh)
    if size >= 1e6:
        return f"{number(mwh / 1e6, 2, language)} TWh"
    if size >= 1e3:
        return f"{number(mwh / 1e3, 1 if size >= 1e5 else 2, language)} GWh"
    return f"{number(mwh, 1, language)} MWh"


def power(mw: float, language: str) -> str:
    """A power in MW, whole megawatts."""
    return f"{number(mw, 0, language)} MW"


def percent(share: float, language: str) -> str:
    """A 0..1 share as ``52,3 %`` / ``52.3%``."""
    return (
        f"{number(share * 100, 1, language)} %"
        if language == "es"
        else f"{number(share * 100, 1, language)}%"
    )


def formatted(value: float, unit: str, language: str) -> str:
    """``value`` in its unit (``MWh``, ``MW``, ``share``)."""
    if unit == "share":
        return percent(value, language)
    if unit == "MW":
        return power(value, language)
    return energy(value, language)


def _subject(intent: Intent) -> str:
    """What is measured, as a noun phrase ("la demanda eléctrica", "wind generation")."""
    es = intent.language == "es"
    tech = intent.technology
    if intent.measure == "demand":
        text = "la demanda eléctrica" if es else "electricity demand"
    elif intent.measure == "forecast":
        text = "la previsión de demanda del operador (REE)" if es else "the grid operator's demand forecast"
    elif intent.measure == "generation":
        if tech is None:
            text = "la generación total" if es else "total generation"
        else:
            text = f"la generación {tech.label_es}" if es else f"{tech.label_en} generation"
    else:
        label = tech.label_es if tech and es else (tech.label_en if tech else "renewable")
        if tech is not None and tech.group is not None:
            text = f"la cuota {label} de la generación" if es else f"the {label} share of generation"
        else:
            text = f"la cuota de {label} en la generación" if es else f"the {label} share of generation"
    return text + _place(intent)


def _place(intent: Intent) -> str:
    """Where, with its leading space: " en España", " in the peninsular system"."""
    es = intent.language == "es"
    if intent.region == "peninsular":
        return " en el sistema peninsular" if es else " in the peninsular system"
    return " en España" if es else " in Spain"


def _bare_subject(subject: str) -> str:
    """The subject without its article: "demanda eléctrica en España", "wind generation in Spain"."""
    for article in ("la ", "el ", "the "):
        if subject.startswith(article):
            return subject[len(article) :]
    return subject


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def bucket_text(value: Any, granularity: str, language: str) -> str:
    """A bucket key (hour, day, week start, month start, year start) in words."""
    es = language == "es"
    if granularity == "hour":
        moment = _as_datetime(value)
        return hour_text(moment, language).removeprefix("el ").removeprefix("on ")
    day = _as_date(value)
    if granularity == "day":
        return day_text(day, language)
    if granularity == "week":
        last = day + dt.timedelta(days=6)
        if es:
            return f"semana del {day_text(day, 'es', weekday=False)} al {day_text(last, 'es', weekday=False)}"
        return f"week of {day_text(day, 'en', weekday=False)} to {day_text(last, 'en', weekday=False)}"
    if granularity == "month":
        return (
            f"{MONTH_NAMES_ES[day.month - 1]} de {day.year}"
            if es
            else f"{MONTH_NAMES_EN[day.month - 1]} {day.year}"
        )
    return str(day.year)


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(MADRID)
    raise TypeError(f"not a timestamp: {value!r}")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"not a date: {value!r}")


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number_ = float(value)
    return None if math.isnan(number_) else number_


def is_empty(plan: QueryPlan, columns: list[str], rows: list[list[Any]]) -> bool:
    """Whether the result holds no value at all (the period has no data)."""
    if plan.value_column not in columns:
        return not rows
    index = columns.index(plan.value_column)
    return all(_num(row[index]) is None for row in rows)


def data_range(first_hour: Any, last_hour: Any, language: str) -> str:
    """ "The data covers ..." for a no-data answer, or that there is none at all."""
    if first_hour is None or last_hour is None:
        return (
            " Aún no hay ningún dato de esta medida."
            if language == "es"
            else " There is no data for this measure yet."
        )
    if isinstance(first_hour, int) and isinstance(last_hour, int):  # a table of whole years (OWID's)
        return (
            f" Los datos disponibles van de {first_hour} a {last_hour}."
            if language == "es"
            else f" The data covers {first_hour} to {last_hour}."
        )
    first = _as_datetime(first_hour).astimezone(MADRID).date()
    last = _as_datetime(last_hour).astimezone(MADRID).date()
    if language == "es":
        first_text, last_text = day_text(first, "es", weekday=False), day_text(last, "es", weekday=False)
        return f" Los datos disponibles van del {first_text} al {last_text}."
    first_text, last_text = day_text(first, "en", weekday=False), day_text(last, "en", weekday=False)
    return f" The data covers {first_text} to {last_text}."


def compose(intent: Intent, plan: QueryPlan, columns: list[str], rows: list[list[Any]]) -> str:
    """The answer sentence for ``rows`` of ``plan`` (see the module docstring).

    Parameters
    ----------
    intent
        The understood question.
    plan
        The query that ran (which column holds the value, which the time, the unit).
    columns, rows
        Its result, values already JSON-like (ISO strings for times).

    Returns
    -------
    str
    """
    if intent.aggregate == "rank":
        return _ranking(intent, plan, columns, rows)
    es = intent.language == "es"
    label = intent.period.label(intent.language) + _days_said(intent)
    subject = _subject(intent)
    value_index = columns.index(plan.value_column)
    time_index = columns.index(plan.time_column) if plan.time_column in columns else None
    values = [_num(row[value_index]) for row in rows]
    if not rows or all(v is None for v in values):
        if intent.aggregate == "compare":
            labels = " / ".join(p.label(intent.language) for p in intent.periods)
            return (
                f"No hay datos de {subject} {labels}." if es else f"There is no data on {subject} {labels}."
            )
        return f"No hay datos de {subject} {label}." if es else f"There is no data on {subject} {label}."
    was = "es" if intent.measure == "forecast" else "fue"
    was_en = "is" if intent.measure == "forecast" else "was"
    unit = plan.unit
    aggregate = intent.aggregate

    if aggregate == "instant":
        value = formatted(values[0] or 0.0, unit, intent.language)
        return (
            f"{_capital(subject)} {label} {was} de {value}."
            if es
            else f"{_capital(subject)} {label} {was_en} {value}."
        )

    if aggregate == "total":
        value = formatted(values[0] or 0.0, unit, intent.language)
        extra = _coverage(intent, columns, rows[0])
        if unit == "share":
            part, whole = rows[0][columns.index("part_mwh")], rows[0][columns.index("generation_mwh")]
            extra = (
                f" ({energy(float(part), 'es')} de {energy(float(whole), 'es')})"
                if es
                else f" ({energy(float(part), 'en')} of {energy(float(whole), 'en')})"
            )
            return (
                f"{_capital(subject)} {label} fue del {value}{extra}."
                if es
                else f"{_capital(subject)} {label} was {value}{extra}."
            )
        if es:
            verb = "suma" if intent.measure == "forecast" else "sumó"
            return f"{_capital(subject)} {label} {verb} {value}{extra}."
        verb = "totals" if intent.measure == "forecast" else "totalled"
        return f"{_capital(subject)} {label} {verb} {value}{extra}."

    if aggregate == "average":
        value = formatted(values[0] or 0.0, unit, intent.language)
        if intent.granularity in (None, "hour"):
            return (
                f"La media horaria de {subject} {label} {was} de {value}."
                if es
                else f"The hourly average of {subject} {label} {was_en} {value}."
            )
        per = {
            "day": ("día", "day"),
            "week": ("semana", "week"),
            "month": ("mes", "month"),
            "year": ("año", "year"),
        }
        word_es, word_en = per[intent.granularity]
        return (
            f"La media por {word_es} de {subject} {label} {was} de {value} por {word_es}."
            if es
            else f"The average per {word_en} of {subject} {label} {was_en} {value} per {word_en}."
        )

    if aggregate in ("max", "min", "top"):
        granularity = intent.granularity or "hour"
        when = (
            [bucket_text(row[time_index], granularity, intent.language) for row in rows]
            if time_index is not None
            else []
        )
        high = intent.order == "desc"
        if aggregate in ("max", "min") or len(rows) == 1:
            value = formatted(values[0] or 0.0, unit, intent.language)
            if granularity == "hour":
                if es:
                    word = "máximo" if high else "mínimo"
                    return f"El {word} horario de {subject} {label} {was} de {value}, el {when[0]}."
                word = "peak" if high else "minimum"
                return f"The hourly {word} of {subject} {label} {was_en} {value}, on {when[0]}."
            names_es = {"day": "El día", "week": "La semana", "month": "El mes", "year": "El año"}
            if es:
                word = "mayor" if high else "menor"
                article = "la " if granularity == "week" else ("" if granularity == "month" else "el ")
                what = f"{names_es[granularity]} de {word} {_bare_subject(subject)}"
                return f"{what} {label} {was} {article}{when[0]}, con {value}."
            word = "highest" if high else "lowest"
            what = f"The {granularity} with the {word} {_bare_subject(subject)}"
            return f"{what} {label} {was_en} {when[0]}, with {value}."
        items = "; ".join(
            f"{i}) {w}: {formatted(v or 0.0, unit, intent.language)}"
            for i, (w, v) in enumerate(zip(when, values, strict=True), 1)
        )
        units_es = {"hour": "horas", "day": "días", "week": "semanas", "month": "meses", "year": "años"}
        if es:
            word = "mayor" if high else "menor"
            what = f"Los {len(rows)} {units_es[granularity]} de {word} {_bare_subject(subject)}"
            return f"{what} {label}: {items}."
        word = "highest" if high else "lowest"
        return f"The {len(rows)} {granularity}s with the {word} {_bare_subject(subject)} {label}: {items}."

    if aggregate == "trend":
        return _trend(intent, rows, values, time_index, unit, subject, label)

    if aggregate == "group":
        return _grouped(intent, rows, values, unit, subject, label)
    if aggregate == "error":
        return _forecast_error(intent, dict(zip(columns, rows[0], strict=True)), label)
    if aggregate == "compare" and intent.against is not None:
        return _versus(intent, rows[0], unit, label)
    if aggregate == "compare" and intent.change == "percent":
        return _percent_change(intent, rows[0], unit, subject)
    if aggregate == "compare":
        return _compare(intent, rows, values, unit, subject)
    raise ValueError(f"unknown aggregate {aggregate!r}")


def _days_said(intent: Intent) -> str:
    """ ", solo fines de semana": the kind of day whose hours were counted, when the question chose one."""
    if intent.days is None:
        return ""
    es = intent.language == "es"
    if intent.days == "weekends":
        return " (solo fines de semana)" if es else " (weekends only)"
    if intent.days == "weekdays":
        return " (solo entre semana)" if es else " (weekdays only)"
    (weekday,) = DAYS_KEPT[intent.days]
    name = WEEKDAY_NAMES_ES[weekday] if es else WEEKDAY_NAMES_EN[weekday]
    plural = name + "s" if not name.endswith("s") else name  # sábados, Mondays; los lunes
    return f" (solo los {plural})" if es else f" ({plural} only)"


def _expected_hours(intent: Intent) -> int:
    """The hours of the period, of the kind of day asked for only (local weekdays or weekends)."""
    period = intent.period
    if intent.days is None:
        return period.hours
    # Day by day, not hour by hour: a year is 366 steps, on the path of every answer.
    kept, count = DAYS_KEPT[intent.days], 0
    day = period.start.astimezone(MADRID).date()
    while (whole := Period.day(day)).start_utc < period.end_utc:
        if day.weekday() in kept:
            overlap = min(whole.end_utc, period.end_utc) - max(whole.start_utc, period.start_utc)
            count += int(overlap / dt.timedelta(hours=1))
        day += dt.timedelta(days=1)
    return count


def _coverage(intent: Intent, columns: list[str], row: list[Any]) -> str:
    if "hours" not in columns or row[columns.index("hours")] is None:
        return ""
    hours, expected = int(row[columns.index("hours")]), _expected_hours(intent)
    if hours >= expected:
        return ""
    return (
        f" (datos de {hours} de {expected} horas)"
        if intent.language == "es"
        else f" (data for {hours} of {expected} hours)"
    )


def _trend(intent: Intent, rows, values, time_index, unit, subject, label) -> str:  # type: ignore[no-untyped-def]
    es = intent.language == "es"
    granularity = intent.granularity or "day"
    keys = [bucket_text(row[time_index], granularity, intent.language) for row in rows]
    present = [(k, v) for k, v in zip(keys, values, strict=True) if v is not None]
    top = max(present, key=lambda kv: kv[1])
    low = min(present, key=lambda kv: kv[1])
    first, last = present[0], present[-1]
    fmt = lambda v: formatted(v, unit, intent.language)  # noqa: E731
    names_es = {"hour": "horaria", "day": "diaria", "week": "semanal", "month": "mensual", "year": "anual"}
    names_en = {"hour": "Hourly", "day": "Daily", "week": "Weekly", "month": "Monthly", "year": "Yearly"}
    if es:
        return (
            f"Evolución {names_es[granularity]} de {subject} {label}: {len(present)} puntos, "
            f"de {fmt(first[1])} ({first[0]}) a {fmt(last[1])} ({last[0]}); "
            f"máximo {fmt(top[1])} ({top[0]}), mínimo {fmt(low[1])} ({low[0]})."
        )
    return (
        f"{names_en[granularity]} trend of {subject} {label}: {len(present)} points, from {fmt(first[1])} "
        f"({first[0]}) to {fmt(last[1])} ({last[0]}); "
        f"highest {fmt(top[1])} ({top[0]}), lowest {fmt(low[1])} ({low[0]})."
    )


#: How a compared period, a group or a pair is summarised, in words (Spanish, English).
_INNER_WORDS = {
    "total": ("total", "total"),
    "average": ("media horaria", "hourly average"),
    "max": ("máxima horaria", "hourly peak"),
    "min": ("mínima horaria", "hourly minimum"),
    "instant": ("", ""),
}


def _inner_words(intent: Intent) -> str:
    """ "media horaria", "hourly peak": the summary of ``intent.inner`` in the question's language."""
    return _INNER_WORDS.get(intent.inner, ("", ""))[0 if intent.language == "es" else 1]


def _summarised(intent: Intent, subject: str, unit: str, *, say_total: bool = True) -> str:
    """ "la demanda eléctrica (media horaria)": the subject and how it was summarised (shares as is)."""
    words = _inner_words(intent)
    if unit == "share" or not words or (intent.inner == "total" and not say_total):
        return subject
    return f"{subject} ({words})"


def _compare(intent: Intent, rows, values, unit, subject) -> str:  # type: ignore[no-untyped-def]
    es = intent.language == "es"
    labels = [p.label(intent.language) for p in intent.periods]
    by_label = {row[0]: v for row, v in zip(rows, values, strict=True)}
    keys = [p.short_label(intent.language) for p in intent.periods]
    a, b = by_label.get(keys[0]), by_label.get(keys[1])
    what = _summarised(intent, subject, unit)
    if a is None or b is None:
        missing = labels[0] if a is None else labels[1]
        return f"No hay datos de {subject} {missing}." if es else f"There is no data on {subject} {missing}."
    fa, fb = formatted(a, unit, intent.language), formatted(b, unit, intent.language)
    if unit == "share":
        points = number((a - b) * 100, 1, intent.language)
        diff = (
            f"{'+' if a >= b else ''}{points} puntos"
            if es
            else f"{'+' if a >= b else ''}{points} percentage points"
        )
    else:
        change = formatted(a - b, unit, intent.language)
        pct = number((a - b) / b * 100, 1, intent.language) if b else "n/a"
        sign = "+" if a >= b else ""
        diff = f"{sign}{change} ({sign}{pct} %)" if es else f"{sign}{change} ({sign}{pct}%)"
    if es:
        return f"{_capital(what)}: {fa} {labels[0]} frente a {fb} {labels[1]}; diferencia {diff}."
    return f"{_capital(what)}: {fa} {labels[0]} versus {fb} {labels[1]}; difference {diff}."


def _grouped(intent: Intent, rows, values, unit: str, subject: str, label: str) -> str:  # type: ignore[no-untyped-def]
    """Per weekday or kind of day: every group with its value, or the top one."""
    es = intent.language == "es"
    how, what = _inner_words(intent), _summarised(intent, subject, unit)
    pairs = zip(rows, values, strict=True)
    items = [(row[1], formatted(v, unit, intent.language)) for row, v in pairs if v is not None]
    if intent.k is not None and items:
        name, value = items[0]
        bare = _bare_subject(subject)
        if es:
            most = "menos" if intent.order == "asc" else "más"
            return f"El día de la semana con {most} {bare} {label} fue el {name}: {value} ({how})."
        most = "least" if intent.order == "asc" else "most"
        return f"The day of the week with the {most} {bare} {label} was {name}: {value} ({how})."
    joined = "; ".join(f"{name} {value}" for name, value in items)
    if intent.group == "weekday":
        by = "por día de la semana" if es else "by day of the week"
    else:
        by = "entre semana y en fin de semana" if es else "on weekdays and on weekends"
    return f"{_capital(what)} {by} {label}: {joined}."


def _versus(intent: Intent, row, unit: str, label: str) -> str:  # type: ignore[no-untyped-def]
    """Two things over one period, in the order asked, and how far apart they are."""
    es = intent.language == "es"
    first, second = _num(row[0]), _num(row[1])
    if intent.against == "forecast":
        names = ("la demanda real", "la previsión del operador (REE)") if es else (
            "actual demand", "the grid operator's forecast")  # fmt: skip
    else:
        assert intent.technology is not None and not isinstance(intent.against, str | None)
        names = (
            (f"la generación {intent.technology.label_es}", f"la {intent.against.label_es}")
            if es
            else (f"{intent.technology.label_en} generation", intent.against.label_en)
        )
    how = _inner_words(intent)
    shown = [formatted(v, unit, intent.language) if v is not None else "—" for v in (first, second)]
    gap = ""
    if first is not None and second is not None:
        difference = formatted(abs(first - second), unit, intent.language)
        if es:
            gap = f"; {'la primera' if first >= second else 'la segunda'} supera a la otra en {difference}"
        else:
            gap = f"; the {'first' if first >= second else 'second'} is higher by {difference}"
    return f"{_capital(names[0])} {label} ({how}): {shown[0]}; {names[1]}: {shown[1]}{gap}."


def _forecast_error(intent: Intent, row: dict[str, Any], label: str) -> str:
    """Both statistics, the one asked for first, over the hours that had a forecast and an actual."""
    es = intent.language == "es"
    mape = number(_num(row["mape_pct"]) or 0.0, 2, intent.language)
    mae = formatted(_num(row["mae_mw"]) or 0.0, "MW", intent.language)
    hours = number(float(row["hours"]), 0, intent.language)
    if es:
        stats = (
            f"un error porcentual medio (MAPE) del {mape} % (error absoluto medio {mae})"
            if intent.inner == "mape"
            else f"un error absoluto medio (MAE) de {mae} (MAPE {mape} %)"
        )
        return (
            f"La previsión de demanda del operador (REE) {label} tuvo {stats}, "
            f"frente a la demanda real, hora a hora ({hours} horas con ambas)."
        )
    stats = (
        f"a mean absolute percentage error (MAPE) of {mape}% (mean absolute error {mae})"
        if intent.inner == "mape"
        else f"a mean absolute error (MAE) of {mae} (MAPE {mape}%)"
    )
    return (
        f"The grid operator's demand forecast {label} had {stats} against the actual demand, "
        f"hour by hour ({hours} hours with both)."
    )


def _percent_change(intent: Intent, row, unit: str, subject: str) -> str:  # type: ignore[no-untyped-def]
    """ "La demanda eléctrica (media horaria) cambió un -2,4 %: de X en enero a Y en febrero de 2024"."""
    es = intent.language == "es"
    earlier, later = sorted(intent.periods[:2], key=lambda p: p.start_utc)
    first, second, change = _num(row[1]), _num(row[3]), _num(row[4])
    if first is None or second is None or change is None:
        missing = earlier.label(intent.language) if first is None else later.label(intent.language)
        return f"No hay datos de {subject} {missing}." if es else f"There is no data on {subject} {missing}."
    what = _summarised(intent, subject, unit, say_total=False)
    sign = "+" if change >= 0 else ""
    pct = number(change, 1, intent.language)
    fa, fb = formatted(first, unit, intent.language), formatted(second, unit, intent.language)
    a, b = earlier.label(intent.language), later.label(intent.language)
    if es:
        return f"{_capital(what)} cambió un {sign}{pct} %: de {fa} {a} a {fb} {b}."
    return f"{_capital(what)} changed by {sign}{pct}%: from {fa} {a} to {fb} {b}."


_TECHNOLOGY_BY_KEY = {tech.key: tech for tech in TECHNOLOGIES}


def _ranked_name(key: str, language: str, article: bool = False) -> str:
    """A ranked technology in a sentence ("el ciclo combinado", "wind"); a source's own name as is."""
    tech = _TECHNOLOGY_BY_KEY.get(key)
    if tech is None:
        return key
    if language == "en":
        return tech.label_en
    return f"{tech.article_es} {tech.label_es}" if article else tech.label_es


def _plural_es(word: str) -> str:
    return word + ("s" if word[-1:] in "aeiou" else "es")


#: The words of a ranking's sentence per language: what is ranked, how ("que más generó", "with the
#: largest share"), for the winner (k=1), the top k, or every technology (a breakdown).
_RANKING_WORDS: dict[str, dict[str, Any]] = {
    "es": {
        "one": "la tecnología {f}",
        "many": "tecnologías {fs}",
        "how": {
            ("total", True): ("que más generó", "que más generaron"),
            ("total", False): ("que menos generó", "que menos generaron"),
            ("share", True): ("con mayor cuota de la generación",) * 2,
            ("share", False): ("con menor cuota de la generación",) * 2,
            ("average", True): ("con mayor generación media",) * 2,
            ("average", False): ("con menor generación media",) * 2,
        },
        "winner": "{Noun} {how}{place} {label} fue {name}, con {value}.",
        "winner_value": {
            "total": "{mwh}, el {share} de la generación",
            "share": "el {share} de la generación ({mwh})",
            "average": "{mw} ({mwh})",
        },
        "top": "Las {n} {noun} {how}{place} {label} fueron: {items}.",
        "fewer": " Solo {n} generaron en ese periodo.",
        "all": {
            "total": "Generación {f} por tecnología",
            "share": "Cuota de cada tecnología {f} en la generación",
            "average": "Generación media por tecnología {f}",
        },
        "order": ("de menor a mayor", "de mayor a menor"),
        "total": (" Total: {listed}.", " Total: {listed} de {whole} generados."),
        "empty": "No hay datos de generación {f} por tecnología{place} {label}.",
    },
    "en": {
        "one": "the {f} technology",
        "many": "{f} technologies",
        "how": {
            ("total", True): ("that generated the most",) * 2,
            ("total", False): ("that generated the least",) * 2,
            ("share", True): ("with the largest share of generation",) * 2,
            ("share", False): ("with the smallest share of generation",) * 2,
            ("average", True): ("with the highest average output",) * 2,
            ("average", False): ("with the lowest average output",) * 2,
        },
        "winner": "{Noun} {how}{place} {label} was {name}, with {value}.",
        "winner_value": {
            "total": "{mwh}, {share} of all generation",
            "share": "{share} of all generation ({mwh})",
            "average": "{mw} ({mwh})",
        },
        "top": "The {n} {noun} {how}{place} {label} were: {items}.",
        "fewer": " Only {n} generated in that period.",
        "all": {
            "total": "{f} generation by technology",
            "share": "Share of each {f} technology in generation",
            "average": "Average generation by {f} technology",
        },
        "order": ("smallest first", "largest first"),
        "total": (" Total: {listed}.", " Total: {listed} of {whole} generated."),
        "empty": "There is no data on {f} generation by technology{place} {label}.",
    },
}


def _ranking(intent: Intent, plan: QueryPlan, columns: list[str], rows: list[list[Any]]) -> str:
    """The winner with its value, the numbered top k, or every technology (see :func:`compose`)."""
    language = intent.language
    words = _RANKING_WORDS[language]
    family = intent.technology
    f = (family.label_es if language == "es" else family.label_en) if family else ""
    place = _place(intent)
    label = intent.period.label(language)

    def tidy(text: str) -> str:
        return _capital(" ".join(text.split()))

    if not rows:
        return tidy(words["empty"].format(f=f, place=place, label=label))
    at = {name: columns.index(name) for name in columns}

    def figures(row: list[Any]) -> dict[str, str]:
        figures = {
            "mwh": energy(float(row[at["generation_mwh"]]), language),
            "share": percent(float(row[at["share"]]), language),
        }
        if "generation_mw" in at:
            figures["mw"] = power(float(row[at["generation_mw"]]), language)
        return figures

    kind = {"share": "share", "generation_mw": "average"}.get(plan.value_column, "total")
    one, many = words["how"][(kind, intent.order == "desc")]
    if intent.k == 1:
        row = rows[0]
        return words["winner"].format(
            Noun=tidy(words["one"].format(f=f)),
            how=one,
            place=place,
            label=label,
            name=_ranked_name(row[at["technology"]], language, article=True),
            value=words["winner_value"][kind].format(**figures(row)),
        )
    listed = {"total": "{mwh} ({share})", "share": "{share} ({mwh})", "average": "{mw} ({mwh})"}[kind]
    items = "; ".join(
        f"{i}) {_ranked_name(row[at['technology']], language)}, {listed.format(**figures(row))}"
        for i, row in enumerate(rows, 1)
    )
    if intent.k is not None:
        fs = _plural_es(family.label_es) if family else ""
        noun = " ".join(words["many"].format(f=f, fs=fs).split())
        text = words["top"].format(n=len(rows), noun=noun, how=many, place=place, label=label, items=items)
        return text + (words["fewer"].format(n=len(rows)) if len(rows) < intent.k else "")
    order = words["order"][intent.order == "desc"]
    text = f"{tidy(words['all'][kind].format(f=f))}{place} {label}, {order}: {items}."
    if kind == "total":
        total = sum(float(row[at["generation_mwh"]]) for row in rows)
        whole = float(rows[0][at["total_generation_mwh"]])
        text += words["total"][family is not None].format(
            listed=energy(total, language), whole=energy(whole, language)
        )
    return text


def chart(intent: Intent, plan: QueryPlan) -> dict[str, Any]:
    """How to draw the answer: ``kind`` (line, bar, none), axes, unit, titles (question's language)."""
    es = intent.language == "es"
    measure_es = {
        "demand": "Demanda",
        "forecast": "Previsión de demanda",
        "generation": "Generación",
        "share": "Cuota",
    }
    measure_en = {
        "demand": "Demand",
        "forecast": "Demand forecast",
        "generation": "Generation",
        "share": "Share",
    }
    if intent.aggregate == "rank":
        return _ranking_chart(intent, plan)
    name = measure_es[intent.measure] if es else measure_en[intent.measure]
    if intent.technology is not None:
        name += f" {intent.technology.label_es if es else intent.technology.label_en}"
    unit = "%" if plan.unit == "share" else plan.unit
    kind = {"trend": "line", "top": "bar", "compare": "bar", "group": "bar"}.get(intent.aggregate, "none")
    if intent.change == "percent" or intent.against is not None:  # one row: nothing to draw over time
        kind = "none"
    x_labels_es = {
        "ts_utc": "Hora (UTC)",
        "local_date": "Día",
        "week_start": "Semana",
        "month_start": "Mes",
        "year_start": "Año",
        "period": "Periodo",
        "weekday_name": "Día de la semana",
        "day_type_name": "Tipo de día",
    }
    x_labels_en = {
        "ts_utc": "Hour (UTC)",
        "local_date": "Day",
        "week_start": "Week",
        "month_start": "Month",
        "year_start": "Year",
        "period": "Period",
        "weekday_name": "Day of the week",
        "day_type_name": "Kind of day",
    }
    x = plan.time_column if kind != "none" else None
    period = intent.period.label(intent.language) if intent.aggregate != "compare" else ""
    chart = {
        "kind": kind,
        "x": x,
        "y": plan.value_column if kind != "none" else None,
        "unit": unit,
        "title": f"{name} {period}".strip(),
        "x_label": (x_labels_es if es else x_labels_en).get(x or "", ""),
        "y_label": f"{name} ({unit})",
    }
    if intent.aggregate == "error":  # the statistic asked for, not every number of the row
        chart["y"] = plan.value_column
    if intent.against is not None:  # both values of the pair, not the first alone
        chart["y"] = plan.select.named_selects[:2]
        other = (
            ("previsión del operador" if es else "operator's forecast")
            if intent.against == "forecast"
            else (intent.against.label_es if es else intent.against.label_en)  # type: ignore[union-attr]
        )
        chart["title"] = f"{name} {'frente a' if es else 'vs'} {other} {period}".strip()
    if intent.change == "percent" or (intent.aggregate == "error" and intent.inner == "mape"):
        # Already in percent (shares are fractions, scaled by the chart).
        chart["in_percent"] = True
        chart["unit"] = "%"
        if intent.change == "percent":
            chart["y"] = "change_pct"
            chart["y_label"] = "Cambio (%)" if es else "Change (%)"
    return chart


def _ranking_chart(intent: Intent, plan: QueryPlan) -> dict[str, Any]:
    """Horizontal bars, largest first (a ranking reads top-down), one per technology."""
    es = intent.language == "es"
    family = intent.technology
    kind = {"share": "share", "generation_mw": "average"}.get(plan.value_column, "total")
    if es:
        name = {"total": "Generación", "share": "Cuota de la generación", "average": "Generación media"}[kind]
        title = f"{name} por tecnología" + (f" (solo {_plural_es(family.label_es)})" if family else "")
    else:
        name = {"total": "Generation", "share": "Share of generation", "average": "Average generation"}[kind]
        title = f"{name} by technology" + (f" ({family.label_en} only)" if family else "")
    unit = "%" if plan.unit == "share" else plan.unit
    return {
        "kind": "bar",
        "orientation": "horizontal",
        "x": plan.time_column,
        "y": plan.value_column,
        "unit": unit,
        "title": f"{title} {intent.period.label(intent.language)}",
        "x_label": "Tecnología" if es else "Technology",
        "y_label": f"{name} ({unit})",
    }


def json_rows_summary(columns: list[str], rows: list[list[Any]], language: str, max_rows: int = 5) -> str:
    """A short text rendering of any result (for the model fallback, whose rows have no known shape)."""
    if not rows:
        return "sin filas." if language == "es" else "no rows."
    shown = "; ".join(
        ", ".join(f"{c}={_cell(v, language)}" for c, v in zip(columns, row, strict=False))
        for row in rows[:max_rows]
    )
    more = len(rows) - max_rows
    if more > 0:
        shown += f" (+{more} {'filas' if language == 'es' else 'rows'})"
    return shown + "."


def _cell(value: Any, language: str) -> str:
    if isinstance(value, float):
        return number(value, 2, language)
    return str(value)
