"""Questions the parser answers, offered with every refusal (in the question's language)."""

from __future__ import annotations

_SUGGESTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "demand": (
            "¿Cuál fue la demanda total ayer?",
            "¿Cuál fue el pico de demanda la semana pasada y cuándo ocurrió?",
            "Compara la demanda de este mes con la del mismo mes del año pasado",
        ),
        "generation": (
            "¿Cuánta energía eólica se generó el mes pasado?",
            "¿Qué porcentaje de la generación fue renovable ayer?",
            "¿Qué tecnología generó más energía el mes pasado?",
        ),
        "forecast": (
            "¿Cuál es la previsión de demanda del operador para mañana?",
            "¿Cuál fue la demanda ayer a las 15:00?",
            "¿Cuál fue la demanda media la semana pasada?",
        ),
    },
    "en": {
        "demand": (
            "What was the total demand yesterday?",
            "What was the peak demand last week and when did it happen?",
            "Compare demand this month with the same month last year",
        ),
        "generation": (
            "How much wind energy was generated last month?",
            "What was the renewable share of generation yesterday?",
            "Which technology generated the most last month?",
        ),
        "forecast": (
            "What is the grid operator's demand forecast for tomorrow?",
            "What was the demand yesterday at noon?",
            "What was the average demand last week?",
        ),
    },
}


def suggestions(language: str, topic: str | None = None) -> list[str]:
    """Answerable questions in ``language`` (``es``/``en``), about ``topic`` when given.

    Parameters
    ----------
    language
        ``"es"`` or ``"en"``.
    topic
        ``demand``, ``generation``, ``forecast`` or a declared subject (``movies``,
        ``energy_company``); when None, one from each: electricity and every declared dataset.

    Returns
    -------
    list[str]
    """
    table = _SUGGESTIONS.get(language, _SUGGESTIONS["es"])
    if topic in table:
        return list(table[topic])
    declared = _declared_examples(language)
    if topic in declared:
        return list(declared[topic])
    # Three: electricity's, then one of each declared dataset (two of electricity's without them).
    others = [examples[0] for examples in declared.values()]
    return [table["demand"][0], *others, table["generation"][1]][:3]


def _declared_examples(language: str) -> dict[str, list[str]]:
    """Subject -> the example questions its tables declare, in ``language``."""
    from datalake.datasets import ask_datasets

    found: dict[str, list[str]] = {}
    for spec in ask_datasets():
        if spec.ask is not None:
            words = spec.ask.examples.es if language == "es" else spec.ask.examples.en
            found.setdefault(spec.ask.subject, []).extend(words)
    return {subject: examples for subject, examples in found.items() if examples}
