"""The questions the app asks /ask on its own: dashboard panels, the company's named queries, the
top movies, the forecast's history and the example questions of every dataset.

Each is one the /ask parser understands (tests/unit/test_ui_questions.py runs them through it).
"""

from __future__ import annotations

from datalake.ask.suggestions import suggestions
from datalake.datasets import ask_datasets

#: Panel questions per tab, in each language (the same views as dashboards/); each is one the
#: /ask parser reads (checked against datalake.ask when written).
PANELS: dict[str, dict[str, list[str]]] = {
    "en_spain": {
        "es": ["Demanda horaria de la última semana", "Generación por tecnología el mes pasado"],
        "en": ["Hourly demand last week", "Generation by technology last month"],
    },
    "en_prices": {
        "es": ["Precio medio del Brent por mes en 2020", "Precio medio del Henry Hub por mes en 2020"],
        "en": ["Average Brent price per month in 2020", "Average Henry Hub price per month in 2020"],
    },
    "en_world": {
        "es": [
            "Top 5 países por consumo de energía primaria en 2019",
            "Consumo de energía primaria del mundo por año desde 2010",
        ],
        "en": [
            "Top 5 countries by primary energy consumption in 2019",
            "World primary energy consumption per year since 2010",
        ],
    },
}

#: The named queries (datalake/query/named/*.sql), asked in words /ask answers (it refuses to
#: rank clients by name: personal data).
COMPANY_QUESTIONS = {
    "es": [
        "¿Cuántos clientes hay por ciudad?",
        "Compras vs ventas en marzo de 2024",
        "Energía comprada por tipo de energía",
        "Proveedores por tipo de energía",
        "Precio medio del kWh por tipo de transacción",
    ],
    "en": [
        "Clients per city",
        "Purchases versus sales in March 2024",
        "Energy purchased per energy type",
        "Suppliers per energy type",
        "Average kWh price per transaction type",
    ],
}

#: The top movies, by the rules /ask uses (rating, with a minimum of votes).
TOP_MOVIES_QUESTION = {"es": "¿Top 10 películas mejor valoradas?", "en": "Top 10 best rated movies"}
#: The actual demand drawn before a forecast, asked as of its data cut-off (the 7 whole days before
#: the cut-off's day).
HISTORY_QUESTION = {"es": "Demanda horaria de los últimos 7 días", "en": "Hourly demand over the last 7 days"}

SUBJECT_NAMES = {
    "electricity": {"es": "Electricidad", "en": "Electricity"},
    "energy_company": {"es": "Empresa de energía", "en": "Energy company"},
    "movies": {"es": "Películas", "en": "Movies"},
    "energy_prices": {"es": "Precios de la energía", "en": "Energy prices"},
    "world_energy": {"es": "Energía en el mundo", "en": "World energy"},
    "portfolio": {"es": "Transacciones de la app de divisas", "en": "Currency app transactions"},
}


def example_questions(lang: str) -> dict[str, list[str]]:
    """Subject -> example questions: electricity's, then those every declared dataset gives."""
    found: dict[str, list[str]] = {
        "electricity": [*suggestions(lang, "demand")[:2], suggestions(lang, "generation")[0]]
    }
    for spec in ask_datasets():
        if spec.ask is not None:
            listed = found.setdefault(spec.ask.subject, [])
            words = spec.ask.examples.es if lang == "es" else spec.ask.examples.en
            listed.extend(question for question in words if question not in listed)
    return {subject: questions for subject, questions in found.items() if questions}
