"""The semantic parser: Spanish and English questions to intents, and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from datalake.ask import AskRefusal, parse
from datalake.ask.parser import detect_language, read
from datalake.ask.periods import MADRID
from datalake.ask.routing import route

AS_OF = dt.datetime(2024, 4, 17, 14, 30, tzinfo=MADRID)


def understood(question: str) -> dict:
    return parse(question, AS_OF).as_dict()


@pytest.mark.parametrize(
    ("question", "measure", "aggregate", "technology"),
    [
        ("¿Cuál fue la demanda total ayer?", "demand", "total", None),
        ("What was electricity consumption yesterday?", "demand", "total", None),
        ("consumo medio la semana pasada", "demand", "average", None),
        ("pico de carga en marzo", "demand", "max", None),
        ("lowest demand yesterday", "demand", "min", None),
        ("¿Cuánto produjo la eólica ayer?", "generation", "total", "wind"),
        ("solar photovoltaic output last week", "generation", "total", "solar_pv"),
        ("producción de ciclo combinado en 2023", "generation", "total", "combined_cycle"),
        ("hydro generation in 2023", "generation", "total", "hydro"),
        ("generación total el mes pasado", "generation", "total", None),
        ("¿Qué porcentaje de la generación fue renovable ayer?", "share", "total", "renewable"),
        ("renewables share last month", "share", "total", "renewable"),
        ("cuota de la nuclear en 2023", "share", "total", "nuclear"),
        ("previsión de demanda del operador para mañana", "forecast", "total", None),
        ("REE forecast yesterday at noon", "forecast", "instant", None),
        ("demanda ayer a las 15:00", "demand", "instant", None),
        ("top 3 días con más demanda en marzo", "demand", "top", None),
        ("compara la demanda de enero con febrero de 2024", "demand", "compare", None),
        ("demand this month versus the same month last year", "demand", "compare", None),
        ("evolución mensual de la eólica en 2023", "generation", "trend", "wind"),
        ("daily demand last week", "demand", "trend", None),
    ],
)
def test_measures_and_aggregates(question: str, measure: str, aggregate: str, technology: str | None) -> None:
    meaning = understood(question)
    assert (meaning["measure"], meaning["aggregate"], meaning["technology"]) == (
        measure,
        aggregate,
        technology,
    )


def test_accents_case_and_typos_do_not_change_the_meaning() -> None:
    reference = understood("¿Cuál fue la generación eólica el mes pasado?")
    for variant in (
        "cual fue la generacion eolica el mes pasado",
        "CUÁL FUE LA GENERACIÓN EÓLICA EL MES PASADO",
        "cual fue la genracion eolca el mes pasdo",
        "generación eólica del mes pasado",
    ):
        meaning = understood(variant)
        assert {k: meaning[k] for k in ("measure", "aggregate", "technology", "period")} == {
            k: reference[k] for k in ("measure", "aggregate", "technology", "period")
        }, variant


def test_granularity_k_and_order() -> None:
    top = understood("the 3 days with the lowest wind generation in 2023")
    assert (top["aggregate"], top["granularity"], top["k"], top["order"]) == ("top", "day", 3, "asc")
    day = understood("¿qué día de marzo hubo más demanda?")
    assert (day["aggregate"], day["granularity"]) == ("max", "day")
    # "el día de mayor demanda" within one day is its peak hour
    assert understood("el pico de demanda del día de ayer")["granularity"] == "hour"
    assert understood("demanda media diaria en marzo")["granularity"] == "day"
    assert understood("demanda por semana en febrero de 2024")["granularity"] == "week"


def test_per_bucket_averages_are_a_series_and_the_moment_of_a_peak_is_no_bucket() -> None:
    # "Por mes" asks for one value per month, even of averages; "media diaria" for one value.
    monthly = understood("demanda media por mes en 2023")
    assert (monthly["aggregate"], monthly["granularity"], monthly["inner"]) == ("trend", "month", "average")
    assert understood("average demand per month in the first half of 2023")["aggregate"] == "trend"
    assert understood("demanda media diaria en marzo")["aggregate"] == "average"
    # Asking for the day and hour of a peak asks for the peak hour, not for the peak day.
    for question in ("pico de demanda en 2023, con día y hora", "peak demand in 2023 with the date and time"):
        peak = understood(question)
        assert (peak["aggregate"], peak["granularity"]) == ("max", "hour"), question


def test_a_percentage_change_is_one_comparison_from_the_earlier_period() -> None:
    change = understood("¿En qué porcentaje cambió la demanda media de enero a febrero de 2024?")
    assert (change["aggregate"], change["change"], change["inner"]) == ("compare", "percent", "average")
    assert [p["start"][:10] for p in change["periods"]] == ["2024-01-01", "2024-02-01"]
    grew = understood("how much did wind generation grow in Q1 2024 compared with Q1 2023, in percent?")
    assert (grew["measure"], grew["technology"], grew["change"]) == ("generation", "wind", "percent")
    # "What percentage of ..." is still a share, and a range without a change word still one period.
    assert understood("What percentage of electricity came from wind in 2023?")["measure"] == "share"
    assert understood("demanda de enero a febrero de 2024")["aggregate"] == "total"
    with pytest.raises(AskRefusal) as caught:
        parse("variación porcentual de la demanda en 2023", AS_OF)
    assert caught.value.kind == "ambiguous"  # a change needs two periods


def test_the_operators_forecast_error_is_a_statistic_over_one_period() -> None:
    mae = understood("MAE of the TSO's demand forecast last week")
    assert (mae["measure"], mae["aggregate"], mae["inner"]) == ("forecast", "error", "mae")
    mape = understood("error porcentual medio de la previsión de REE ayer")
    assert (mape["aggregate"], mape["inner"]) == ("error", "mape")
    assert understood("how accurate was the grid operator's forecast in January 2024?")["inner"] == "mape"
    # Only the demand forecast is scored; other statistics stay refused.
    others = ("error de la generación eólica en 2023", "correlación de la demanda y la eólica en 2023")
    for question in others:
        with pytest.raises(AskRefusal) as caught:
            parse(question, AS_OF)
        assert caught.value.kind == "not_understood", question


def test_weekends_weekdays_and_weekday_groupings() -> None:
    weekends = understood("la media de los fines de semana de la demanda en febrero de 2024")
    assert (weekends["aggregate"], weekends["days"], weekends["group"]) == ("average", "weekends", None)
    assert understood("total demand on weekdays in March 2024")["days"] == "weekdays"
    both = understood("weekday vs weekend demand in February 2024")
    assert (both["aggregate"], both["group"], both["inner"]) == ("group", "daytype", "average")
    by_day = understood("demanda media por día de la semana en enero de 2024")
    assert (by_day["group"], by_day["k"]) == ("weekday", None)
    busiest = understood("which weekday is busiest for electricity demand in 2023?")
    assert (busiest["group"], busiest["k"], busiest["order"]) == ("weekday", 1, "desc")
    # A named weekend is a period, not a kind of day.
    last = understood("demanda el fin de semana pasado")
    assert last["days"] is None and last["period"]["start"][:10] == "2024-04-13"


def test_two_technologies_or_actual_against_forecast_over_one_period() -> None:
    pair = understood("¿se generó más solar o eólica en julio de 2023?")
    assert (pair["aggregate"], pair["technology"], pair["against"]) == ("compare", "solar", "wind")
    assert understood("nuclear vs wind generation in 2023")["against"] == "wind"
    actual = understood("actual vs forecast average demand on 2024-03-05")
    assert (actual["measure"], actual["against"], actual["inner"]) == ("demand", "forecast", "average")
    # Spanish "actual" is "current": still the forecast alone.
    assert understood("previsión de demanda actual")["against"] is None
    # A ranking of technologies is not a pair, nor are two measures of different units.
    assert understood("¿qué tecnología generó más ayer?")["aggregate"] == "rank"
    with pytest.raises(AskRefusal):
        parse("demanda y generación eólica ayer", AS_OF)


def test_ranking_buckets_uses_whole_buckets_only() -> None:
    week = understood("¿Qué semana de 2023 tuvo la menor demanda?")
    assert week["period"]["start"].startswith("2023-01-02") and week["period"]["end"].startswith("2024-01-01")
    day = understood("el día con menos demanda este mes")
    assert day["period"]["end"].startswith("2024-04-17T00:00")


def test_region_and_language() -> None:
    assert understood("demanda peninsular ayer")["region"] == "peninsular"
    assert understood("demand yesterday")["region"] == "national"
    assert understood("demand yesterday")["language"] == "en"
    assert understood("demanda de ayer")["language"] == "es"
    assert detect_language(read("What was the demand?").text.split()) == "en"


def test_future_demand_is_the_operators_forecast() -> None:
    assert understood("¿Cuál será la demanda máxima mañana?")["measure"] == "forecast"
    assert understood("demand tomorrow at 8 pm")["measure"] == "forecast"


def test_autumn_repeated_hour_is_its_first_occurrence() -> None:
    period = understood("demanda el 29 de octubre de 2023 a las 2:00")["period"]
    assert (period["start"], period["end"]) == ("2023-10-29T02:00:00+02:00", "2023-10-29T02:00:00+01:00")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("borra la tabla", "unsafe"),
        ("DROP TABLE demand_hourly", "unsafe"),
        ("drop demand_hourly", "unsafe"),
        ("crea una tabla nueva", "unsafe"),
        ("update demand_hourly set demand_mw = 0", "unsafe"),
        ("remove all rows", "unsafe"),
        ("demanda de ayer; DELETE FROM generation", "unsafe"),
        ("¿Cuál fue el precio de la luz ayer?", "out_of_scope"),
        ("price of electricity yesterday", "out_of_scope"),
        ("exporta los datos a excel", "out_of_scope"),
        ("exportaciones a Francia en 2023", "out_of_scope"),
        ("emisiones de CO2 el año pasado", "out_of_scope"),
        ("demanda en Cataluña ayer", "out_of_scope"),
        ("¿Qué tiempo hace?", "not_understood"),
        ("hola", "not_understood"),
        ("¿Cuál fue la demanda?", "ambiguous"),
        # Two measures of different units in one question (two technologies are a pair now).
        ("demanda y generación nuclear ayer", "ambiguous"),
        ("demanda y generación ayer", "ambiguous"),
        ("¿qué cuota tuvo ayer?", "ambiguous"),
        ("demand yesterday at 3", "ambiguous"),
        ("demanda el 31 de marzo de 2024 a las 2:30", "ambiguous"),
        ("demand on 04/05/2024", "ambiguous"),
        ("demanda el 31 de febrero de 2024", "ambiguous"),
        ("pico y valle de demanda ayer", "ambiguous"),
        ("generación solar mañana", "no_data"),
        ("horas con más de 30000 MW ayer", "not_understood"),
    ],
)
def test_refusals_say_why_and_suggest_answerable_questions(question: str, kind: str) -> None:
    with pytest.raises(AskRefusal) as caught:
        parse(question, AS_OF)
    refusal = caught.value
    assert refusal.kind == kind, refusal.reason
    assert refusal.reason and 2 <= len(refusal.suggestions) <= 3
    for suggestion in refusal.suggestions:  # questions /ask answers: electricity's or a declared table's
        routed = route(suggestion)
        assert routed is not None or parse(suggestion, AS_OF).measure in (
            "demand",
            "generation",
            "share",
            "forecast",
        )


def test_refusals_come_in_the_questions_language() -> None:
    with pytest.raises(AskRefusal) as spanish:
        parse("¿Cuál fue el precio ayer?", AS_OF)
    with pytest.raises(AskRefusal) as english:
        parse("What was the price yesterday?", AS_OF)
    assert spanish.value.language == "es" and "precios" in spanish.value.reason
    assert english.value.language == "en" and "price" in english.value.reason
    assert all(s.isascii() for s in english.value.suggestions)


@pytest.mark.parametrize(
    ("question", "aggregate"),
    [
        # "drop", "create", "update" are ordinary words in a question; only with a data object
        # (or in SQL) are they commands.
        ("How much did demand drop last week compared to the week before?", "compare"),
        ("Did demand drop yesterday versus the day before?", "compare"),
        ("¿Cuánta energía crea la eólica ayer?", "total"),
    ],
)
def test_verbs_that_are_also_sql_keywords_are_read_as_words(question: str, aggregate: str) -> None:
    assert understood(question)["aggregate"] == aggregate
