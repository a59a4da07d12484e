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
    """Three answerable questions in ``language`` (``es``/``en``), about ``topic`` when given.

    Parameters
    ----------
    language
        ``"es"`` or ``"en"``.
    topic
        ``demand``, ``generation`` or ``forecast``; a mix of demand and generation when None.

    Returns
    -------
    list[str]
    """
    table = _SUGGESTIONS.get(language, _SUGGESTIONS["es"])
    if topic in table:
        return list(table[topic])
    return [table["demand"][0], table["generation"][1], table["demand"][1]]
