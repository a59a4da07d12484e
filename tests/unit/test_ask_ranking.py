"""Rankings of technologies: what the parser reads as one, the SQL, the sentence and the chart."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from api.services import charts
from datalake.ask import AskRefusal, AskResult, guard_sql, parse
from datalake.ask.answer import chart, compose
from datalake.ask.lexicon import RANKED_TECHNOLOGIES, TECHNOLOGIES, is_family
from datalake.ask.periods import MADRID
from datalake.ask.routing import route
from datalake.ask.sqlbuild import build_query
from datalake.sources.ree_sample import TECHNOLOGIES as REE_SERIES
from datalake.transforms.entsoe import TECHNOLOGIES as ENTSOE_TECHNOLOGIES

AS_OF = dt.datetime(2024, 4, 17, 14, 30, tzinfo=MADRID)
BY_KEY = {tech.key: tech for tech in TECHNOLOGIES}


def understood(question: str) -> dict:
    return parse(question, AS_OF).as_dict()


@pytest.mark.parametrize(
    ("question", "measure", "family", "k", "order"),
    [
        ("¿Qué tecnología generó más energía ayer?", "generation", None, 1, "desc"),
        ("que tecnologia genero mas ayer", "generation", None, 1, "desc"),
        ("qué tecnolgía produjo más electricidad ayer", "generation", None, 1, "desc"),
        ("Which technology generated the most last month?", "generation", None, 1, "desc"),
        ("wich tecnology generated most yesterday", "generation", None, 1, "desc"),
        ("¿Cuál fue la fuente que más produjo en 2023?", "generation", None, 1, "desc"),
        ("Which source produced the most electricity yesterday?", "generation", None, 1, "desc"),
        ("¿qué tecnología generó menos ayer?", "generation", None, 1, "asc"),
        ("Which technology generated the least last week?", "generation", None, 1, "asc"),
        ("top 3 tecnologías por generación el mes pasado", "generation", None, 3, "desc"),
        ("las tres fuentes que más produjeron en marzo", "generation", None, 3, "desc"),
        ("the 2 technologies that produced the least yesterday", "generation", None, 2, "asc"),
        ("ranking de tecnologías en octubre", "generation", None, None, "desc"),
        ("ranking de tecnologías de menor a mayor en marzo", "generation", None, None, "asc"),
        ("generación por tecnología la semana pasada", "generation", None, None, "desc"),
        ("generacion por fuentes el mes pasado", "generation", None, None, "desc"),
        ("mix de generación de ayer", "generation", None, None, "desc"),
        ("What was the generation mix in 2022?", "generation", None, None, "desc"),
        ("¿Cuáles fueron las tecnologías que más generaron en 2023?", "generation", None, None, "desc"),
        ("Top technologies by generation last month", "generation", None, None, "desc"),
        ("¿Qué renovable generó más ayer?", "generation", "renewable", 1, "desc"),
        ("¿Que renovable genero mas ayer?", "generation", "renewable", 1, "desc"),
        ("Which renewable produced the most last week?", "generation", "renewable", 1, "desc"),
        ("¿Cuál de las renovables produjo más el año pasado?", "generation", "renewable", 1, "desc"),
        ("la renovable que menos generó ayer", "generation", "renewable", 1, "asc"),
        ("the renewable that generated the least last month", "generation", "renewable", 1, "asc"),
        ("top 3 renovables en 2023", "generation", "renewable", 3, "desc"),
        ("generación renovable por tecnología ayer", "generation", "renewable", None, "desc"),
        ("¿Qué fósil generó más en 2023?", "generation", "fossil", 1, "desc"),
        ("¿Cuál fue la principal fuente de generación el mes pasado?", "generation", None, 1, "desc"),
        ("What was the main source of electricity last month?", "generation", None, 1, "desc"),
        ("¿Qué tecnología lideró la generación en marzo?", "generation", None, 1, "desc"),
        ("¿Quién generó más ayer?", "generation", None, 1, "desc"),
        ("what was the top renewable yesterday", "generation", "renewable", 1, "desc"),
        ("las 3 principales fuentes de generación ayer", "generation", None, 3, "desc"),
        ("¿qué fuente dominó la generación esta mañana?", "generation", None, 1, "desc"),
        ("¿Qué tipo de energía produjo más ayer?", "generation", None, 1, "desc"),
        ("What kind of energy was produced the most last week?", "generation", None, 1, "desc"),
        ("¿qué energía se generó más ayer?", "generation", None, 1, "desc"),
        # "the second largest": the list down to the second
        ("¿Cuál es la segunda tecnología que más generó ayer?", "generation", None, 2, "desc"),
        ("What was the third largest source last month?", "generation", None, 3, "desc"),
        ("¿Qué tecnología tuvo mayor cuota ayer?", "share", None, 1, "desc"),
        ("¿Qué tecnología tuvo mayor porcentaje ayer?", "share", None, 1, "desc"),
        ("share of each technology last month", "share", None, None, "desc"),
        ("share of each renewable technology yesterday", "share", "renewable", None, "desc"),
        ("¿Qué renovable tuvo mayor cuota el mes pasado?", "share", "renewable", 1, "desc"),
    ],
)
def test_rankings_in_both_languages_with_typos_and_without_accents(
    question: str, measure: str, family: str | None, k: int | None, order: str
) -> None:
    meaning = understood(question)
    assert (
        meaning["aggregate"],
        meaning["measure"],
        meaning["technology"],
        meaning["k"],
        meaning["order"],
    ) == (
        "rank",
        measure,
        family,
        k,
        order,
    )


def test_a_ranking_covers_its_period_and_knows_mean_power() -> None:
    hour = understood("qué tecnología generaba más ayer a las 15:00")
    assert hour["period"]["start"] == "2024-04-16T15:00:00+02:00" and hour["aggregate"] == "rank"
    assert understood("generación media por tecnología ayer")["inner"] == "average"
    assert understood("mix de generación peninsular ayer")["region"] == "peninsular"
    # One bucket as long as the period is still one ranking.
    assert understood("generación diaria por tecnología ayer")["aggregate"] == "rank"


@pytest.mark.parametrize(
    ("question", "aggregate", "technology"),
    [
        # One technology's share or energy, not a ranking.
        ("¿Qué peso tuvo la nuclear en el mix de 2023?", "total", "nuclear"),
        ("cuota renovable en el mix de ayer", "total", "renewable"),
        ("What renewable share did we have yesterday?", "total", "renewable"),
        ("generación de fuentes renovables ayer", "total", "renewable"),
        ("¿Cuánto generaron las centrales nucleares ayer?", "total", "nuclear"),
        ("generación eólica por tecnología ayer", "total", "wind"),
        # When the family peaked, not which member won.
        ("¿Cuándo generaron más las renovables ayer?", "max", "renewable"),
        ("¿Qué día generaron más las renovables el mes pasado?", "max", "renewable"),
        ("the 3 days with the lowest wind generation in 2023", "top", "wind"),
    ],
)
def test_questions_about_one_technology_are_not_rankings(
    question: str, aggregate: str, technology: str
) -> None:
    meaning = understood(question)
    assert (meaning["aggregate"], meaning["technology"]) == (aggregate, technology)


@pytest.mark.parametrize(
    ("question", "kind", "says"),
    [
        ("¿Qué central generó más ayer?", "out_of_scope", "central"),
        ("Which power plant produced the most yesterday?", "out_of_scope", "plant"),
        ("¿Qué central nuclear generó más en 2023?", "out_of_scope", "central"),
        ("demanda por tecnología ayer", "ambiguous", "demanda"),
        ("generación diaria por tecnología el mes pasado", "ambiguous", "serie"),
        ("evolución del mix en 2023", "ambiguous", "serie"),
        ("qué tecnología generó más en enero frente a febrero", "ambiguous", "periodo"),
        ("previsión de generación por tecnología para mañana", "out_of_scope", "previsión"),
        ("¿Qué tecnología generó más, la eólica o la solar?", "ambiguous", "varias tecnologías"),
        ("Which technology had the highest price yesterday?", "out_of_scope", "price"),
        ("emissions by technology last year", "out_of_scope", "emissions"),
        ("qué tecnología generó más y menos ayer", "ambiguous", "máximo y el mínimo"),
        ("top 500 tecnologías en 2023", "ambiguous", "entre 1 y 100"),
        ("¿Qué tecnología generó más mañana?", "no_data", "no ha ocurrido"),
    ],
)
def test_rankings_it_cannot_answer_are_refused_with_the_reason(question: str, kind: str, says: str) -> None:
    with pytest.raises(AskRefusal) as caught:
        parse(question, AS_OF)
    assert caught.value.kind == kind, caught.value.reason
    assert says in caught.value.reason
    assert 2 <= len(caught.value.suggestions) <= 3
    for suggestion in caught.value.suggestions:  # every suggestion is a question /ask answers
        if route(suggestion) is None:
            parse(suggestion, AS_OF)


def test_ranked_technologies_split_every_source_name_once() -> None:
    owners: dict[str, str] = {}
    for tech in RANKED_TECHNOLOGIES:
        for name in tech.names:
            assert name not in owners, f"{name} is in {owners.get(name)} and {tech.key}"
            owners[name] = tech.key
    # Every name the project's sources write ranks under a technology with a proper label;
    # pumping consumption is negative and never counts.
    produced = {name for name, _ in ENTSOE_TECHNOLOGIES.values()} - {"Hydro Pumped Storage consumption"}
    produced |= {series.title for series in REE_SERIES}
    assert produced - set(owners) == set()
    assert owners["Hydro Water Reservoir"] == owners["Hidráulica"] == "hydro"
    assert owners["Wind Onshore"] == owners["Eólica"] == "wind"


def test_families_rank_their_members() -> None:
    assert {key for key in BY_KEY if is_family(BY_KEY[key])} == {
        "solar",
        "fossil",
        "renewable",
        "non_renewable",
    }


@pytest.mark.parametrize("dialect", ["postgres", "athena", "duckdb"])
def test_the_ranking_sql_passes_the_guard_and_holds_no_question_text(dialect: str) -> None:
    for question in (
        "top 3 renovables por cuota en 2023",
        "generación media por tecnología ayer",
        "¿Qué fósil generó menos el mes pasado?",
    ):
        intent = parse(question, AS_OF)
        hash(intent)  # the service caches build+guard per intent
        plan = build_query(intent)
        guarded = guard_sql(plan.select.sql(dialect=dialect), dialect, max_limit=1000)
        assert "fósil" not in guarded and "cuota" not in guarded and "top" not in guarded.lower()
        assert "energy_mwh > 0" in guarded  # only positive values count
        assert "'total'" in guarded  # REE's total rows are recomputed, never summed
        assert plan.time_column == "technology_label"


ROWS = [
    ["combined_cycle", "Ciclo combinado", 192_435.2, 0.2764, 696_148.9],
    ["nuclear", "Nuclear", 170_400.0, 0.2448, 696_148.9],
    ["Almacenamiento", "Almacenamiento", 1_200.0, 0.0017, 696_148.9],
]
COLUMNS = ["technology", "technology_label", "generation_mwh", "share", "total_generation_mwh"]


def test_the_winner_is_named_with_its_value_unit_and_period() -> None:
    intent = parse("¿Qué tecnología generó más energía ayer?", AS_OF)
    plan = build_query(intent)
    answer = compose(intent, plan, COLUMNS, ROWS[:1])
    assert answer == (
        "La tecnología que más generó en España ayer (martes 16 de abril de 2024) fue el ciclo combinado, "
        "con 192,4 GWh, el 27,6 % de la generación."
    )
    english = parse("Which technology had the largest share yesterday?", AS_OF)
    assert compose(english, build_query(english), COLUMNS, ROWS[:1]) == (
        "The technology with the largest share of generation in Spain yesterday (Tuesday 16 April 2024) "
        "was combined cycle, with 27.6% of all generation (192.4 GWh)."
    )


def test_a_list_numbers_every_technology_and_says_when_fewer_generated() -> None:
    top = parse("top 5 tecnologías por generación ayer", AS_OF)
    answer = compose(top, build_query(top), COLUMNS, ROWS)
    assert answer.startswith(
        "Las 3 tecnologías que más generaron en España ayer (martes 16 de abril de 2024)"
    )
    assert (
        "1) ciclo combinado, 192,4 GWh (27,6 %); 2) nuclear, 170,4 GWh (24,5 %); 3) Almacenamiento" in answer
    )
    assert answer.endswith("Solo 3 generaron en ese periodo.")
    mix = parse("What was the generation mix yesterday?", AS_OF)
    answer = compose(mix, build_query(mix), COLUMNS, ROWS)
    assert answer.startswith(
        "Generation by technology in Spain yesterday (Tuesday 16 April 2024), largest first"
    )
    assert "1) combined cycle, 192.4 GWh (27.6%)" in answer and answer.endswith("Total: 364.0 GWh.")
    assert compose(mix, build_query(mix), COLUMNS, []) == (
        "There is no data on generation by technology in Spain yesterday (Tuesday 16 April 2024)."
    )


def test_the_chart_is_horizontal_bars_in_the_questions_language_with_shares_in_percent() -> None:
    intent = parse("cuota de cada tecnología ayer", AS_OF)
    plan = build_query(intent)
    spec = chart(intent, plan)
    assert spec["kind"] == "bar" and spec["orientation"] == "horizontal" and spec["unit"] == "%"
    assert spec["title"].startswith("Cuota de la generación por tecnología ayer")
    assert (spec["x_label"], spec["y_label"]) == ("Tecnología", "Cuota de la generación (%)")
    result = AskResult(
        question="cuota de cada tecnología ayer",
        language="es",
        answer=compose(intent, plan, COLUMNS, ROWS),
        interpretation=intent.as_dict() | {"value_column": plan.value_column, "unit": plan.unit},
        sql="",
        columns=COLUMNS,
        rows=ROWS,
        engine="lake",
        chart=spec,
    )
    json.dumps(result.interpretation)
    assert (
        result.interpretation["ranked"] == "technology"
        and "ranked" not in parse("demanda ayer", AS_OF).as_dict()
    )
    data = charts.chart_data(result)
    assert data["x"] == ["Ciclo combinado", "Nuclear", "Almacenamiento"]
    assert data["series"][0]["values"] == pytest.approx([27.64, 24.48, 0.17])
    assert data["orientation"] == "horizontal"
    assert charts.render_png(result)[:4] == b"\x89PNG"
