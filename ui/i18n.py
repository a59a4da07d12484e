"""The app's words in Spanish and English, and the browser's language as the default."""

from __future__ import annotations

LANGUAGES = ("es", "en")
LANGUAGE_NAMES = {"es": "Español", "en": "English"}

TEXTS: dict[str, dict[str, str]] = {
    # navigation and shared
    "app_title": {"es": "Datos de energía de España", "en": "Spanish energy data"},
    "language": {"es": "Idioma", "en": "Language"},
    "page_ask": {"es": "Preguntar", "en": "Ask"},
    "page_forecast": {"es": "Previsión", "en": "Forecast"},
    "page_energy": {"es": "Energía", "en": "Energy"},
    "page_movies": {"es": "Películas", "en": "Movies"},
    "page_sales": {"es": "Ventas", "en": "Sales"},
    "page_company": {"es": "Empresa", "en": "Energy company"},
    "page_status": {"es": "Estado", "en": "Status"},
    "api_at": {"es": "API en {url}", "en": "API at {url}"},
    "loading": {"es": "Consultando la API…", "en": "Asking the API…"},
    "err_down": {
        "es": "La API no responde en {url}. ¿Está arrancada? (`datalake serve`)",
        "en": "The API does not answer at {url}. Is it running? (`datalake serve`)",
    },
    "err_slow": {
        "es": "La API tarda demasiado en responder. Inténtalo de nuevo en un momento.",
        "en": "The API is taking too long to answer. Try again in a moment.",
    },
    "err_unavailable": {
        "es": "Todavía no está disponible: {detail}",
        "en": "Not available yet: {detail}",
    },
    "err_refused": {
        "es": "La API no aceptó la petición: {detail}",
        "en": "The API refused the request: {detail}",
    },
    "err_server": {
        "es": "La API falló al responder ({status}). Inténtalo más tarde.",
        "en": "The API failed to answer ({status}). Try again later.",
    },
    "err_bad_answer": {
        "es": "La API respondió algo inesperado.",
        "en": "The API answered something unexpected.",
    },
    "err_unexpected": {
        "es": "Algo salió mal al mostrar esta página. Inténtalo de nuevo; si sigue, avisa al equipo.",
        "en": "Something went wrong showing this page. Try again; if it persists, tell the data team.",
    },
    "sql": {"es": "SQL usada", "en": "SQL used"},
    "download_csv": {"es": "Descargar CSV", "en": "Download CSV"},
    "no_rows": {"es": "Sin filas.", "en": "No rows."},
    # ask
    "ask_title": {"es": "Pregunta a los datos", "en": "Ask the data"},
    "ask_intro": {
        "es": "Escribe una pregunta en español o en inglés; la respuesta trae la tabla y la SQL.",
        "en": "Type a question in Spanish or English; the answer comes with its table and SQL.",
    },
    "ask_placeholder": {"es": "¿Qué quieres saber?", "en": "What do you want to know?"},
    "ask_examples": {"es": "Ejemplos por conjunto de datos", "en": "Examples from each dataset"},
    "ask_refused": {"es": "No puedo responder a eso.", "en": "I cannot answer that."},
    "ask_try": {"es": "Prueba con:", "en": "Try:"},
    "ask_clear": {"es": "Borrar la conversación", "en": "Clear the conversation"},
    # forecast
    "fc_title": {"es": "Previsión de demanda eléctrica", "en": "Electricity demand forecast"},
    "fc_days": {"es": "Días de previsión", "en": "Days ahead"},
    "fc_model": {"es": "Modelo", "en": "Model"},
    "fc_cutoff": {"es": "Datos hasta", "en": "Data up to"},
    "fc_peak": {"es": "Pico previsto (p50)", "en": "Forecast peak (p50)"},
    "fc_history": {"es": "Histórico", "en": "History"},
    "fc_band": {"es": "Banda p10-p90", "en": "p10-p90 band"},
    "fc_no_history": {
        "es": "No hay histórico que dibujar junto a la previsión.",
        "en": "No history to draw beside the forecast.",
    },
    "fc_accuracy": {
        "es": "Precisión reciente de las previsiones servidas",
        "en": "Recent accuracy of served forecasts",
    },
    "fc_no_accuracy": {
        "es": "Aún no hay previsiones servidas con el valor real conocido.",
        "en": "No served forecast has its actual value yet.",
    },
    "fc_mae": {"es": "Error absoluto medio", "en": "Mean absolute error"},
    "fc_mape": {"es": "Error porcentual medio", "en": "Mean percentage error"},
    "fc_coverage": {"es": "Reales dentro de la banda", "en": "Actuals inside the band"},
    "fc_scored": {"es": "Horas con valor real", "en": "Hours with an actual"},
    "fc_time": {"es": "Hora (Madrid)", "en": "Hour (Madrid)"},
    "fc_demand": {"es": "Demanda (MW)", "en": "Demand (MW)"},
    # energy
    "en_title": {"es": "Paneles de energía", "en": "Energy dashboards"},
    "en_spain": {"es": "España: demanda y mix de generación", "en": "Spain: demand and generation mix"},
    "en_prices": {"es": "Precios del petróleo y el gas", "en": "Oil and gas prices"},
    "en_world": {"es": "Energía en el mundo", "en": "World energy"},
    # movies
    "mv_title": {"es": "Películas", "en": "Movies"},
    "mv_predict": {"es": "¿Tendrá éxito una película?", "en": "Will a film succeed?"},
    "mv_rule": {
        "es": "Éxito = recaudar al menos el doble del presupuesto y una valoración de 6 o más.",
        "en": "Success = revenue of at least twice the budget and a rating of 6 or more.",
    },
    "mv_film_title": {"es": "Título", "en": "Title"},
    "mv_budget": {"es": "Presupuesto (USD)", "en": "Budget (USD)"},
    "mv_runtime": {"es": "Duración (minutos)", "en": "Runtime (minutes)"},
    "mv_genres": {"es": "Géneros", "en": "Genres"},
    "mv_lang": {"es": "Idioma original (ISO)", "en": "Original language (ISO)"},
    "mv_release": {"es": "Fecha de estreno", "en": "Release date"},
    "mv_companies": {
        "es": "Productoras (separadas por comas)",
        "en": "Production companies (comma-separated)",
    },
    "mv_director": {"es": "Director/a", "en": "Director"},
    "mv_submit": {"es": "Predecir", "en": "Predict"},
    "mv_probability": {"es": "Probabilidad de éxito", "en": "Success probability"},
    "mv_success": {"es": "Probable éxito", "en": "Likely a success"},
    "mv_no_success": {"es": "Éxito poco probable", "en": "Success unlikely"},
    "mv_threshold": {
        "es": "umbral {threshold}, modelo {version}",
        "en": "threshold {threshold}, model {version}",
    },
    "mv_factors": {"es": "Factores que más pesaron", "en": "Factors that weighed most"},
    "mv_need_genre": {"es": "Elige al menos un género.", "en": "Pick at least one genre."},
    "mv_top": {"es": "Películas destacadas", "en": "Top movies"},
    # sales
    "sl_title": {"es": "Ventas de tiendas", "en": "Store sales"},
    "sl_form": {"es": "Un día de una tienda", "en": "One store, one day"},
    "sl_store": {"es": "Tienda", "en": "Store"},
    "sl_date": {"es": "Día", "en": "Day"},
    "sl_promo": {"es": "Promoción", "en": "Promotion"},
    "sl_state_holiday": {"es": "Festivo estatal", "en": "State holiday"},
    "sl_school_holiday": {"es": "Vacaciones escolares", "en": "School holiday"},
    "sl_open": {"es": "Abierta", "en": "Open"},
    "sl_submit": {"es": "Predecir ventas", "en": "Predict sales"},
    "sl_upload": {"es": "O sube un CSV", "en": "Or upload a CSV"},
    "sl_upload_help": {
        "es": "Columnas: store_id, date, promo, state_holiday, school_holiday y opcionalmente open.",
        "en": "Columns: store_id, date, promo, state_holiday, school_holiday and optionally open.",
    },
    "sl_result": {"es": "Predicciones", "en": "Predictions"},
    "sl_total": {"es": "Ventas previstas en total", "en": "Total predicted sales"},
    "sl_history": {"es": "Historial de predicciones", "en": "Prediction history"},
    "sl_no_history": {"es": "Aún no hay predicciones registradas.", "en": "No predictions logged yet."},
    "sl_holiday_none": {"es": "Ninguno", "en": "None"},
    # company
    "co_title": {"es": "Empresa de energía", "en": "Energy company"},
    "co_intro": {
        "es": "Las consultas con nombre de la empresa, contestadas por la API.",
        "en": "The company's named queries, answered by the API.",
    },
    # status
    "st_title": {"es": "Estado del sistema", "en": "System status"},
    "st_ready": {"es": "La API está lista", "en": "The API is ready"},
    "st_degraded": {"es": "La API funciona con limitaciones", "en": "The API is degraded"},
    "st_version": {
        "es": "versión {version}, en marcha desde hace {uptime}",
        "en": "version {version}, up for {uptime}",
    },
    "st_checks": {"es": "Comprobaciones", "en": "Checks"},
    "st_models": {"es": "Modelos campeones", "en": "Champion models"},
    "st_sources": {"es": "Fuentes y frescura", "en": "Sources and freshness"},
    "st_runs": {"es": "Últimas predicciones servidas", "en": "Latest served predictions"},
    "st_check": {"es": "Comprobación", "en": "Check"},
    "st_ok": {"es": "Correcto", "en": "OK"},
    "st_detail": {"es": "Detalle", "en": "Detail"},
    "st_latency": {"es": "Latencia (ms)", "en": "Latency (ms)"},
    "st_tables": {"es": "Tablas en el catálogo", "en": "Tables in the catalog"},
    "st_newest": {"es": "Dato más reciente", "en": "Newest data"},
    "st_jobs": {"es": "Últimas ejecuciones", "en": "Latest runs"},
    "st_stale": {"es": "desactualizada", "en": "stale"},
    "st_fresh": {"es": "al día", "en": "fresh"},
    "st_never": {"es": "nunca", "en": "never"},
    "st_no_expectation": {"es": "sin plazo", "en": "no expectation"},
    "st_stale_count": {
        "es": "{count} fuente(s) con datos más antiguos de lo esperado: {names}",
        "en": "{count} source(s) with data older than expected: {names}",
    },
}


#: Headers for the columns the API's tables carry (others keep their names: /ask's SQL aliases).
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "ts": {"es": "Hora (Madrid)", "en": "Hour (Madrid)"},
    "ts_local": {"es": "Hora (Madrid)", "en": "Hour (Madrid)"},
    "demand_mw": {"es": "Demanda (MW)", "en": "Demand (MW)"},
    "store_id": {"es": "Tienda", "en": "Store"},
    "date": {"es": "Día", "en": "Day"},
    "predicted_sales": {"es": "Ventas previstas (€)", "en": "Predicted sales (€)"},
    "actual_sales": {"es": "Ventas reales (€)", "en": "Actual sales (€)"},
    "error": {"es": "Error (€)", "en": "Error (€)"},
    "ape_pct": {"es": "Error (%)", "en": "Error (%)"},
    "closed": {"es": "Cerrada", "en": "Closed"},
    "served_at": {"es": "Servida (Madrid)", "en": "Served (Madrid)"},
    "model": {"es": "Modelo", "en": "Model"},
    "model_version": {"es": "Versión del modelo", "en": "Model version"},
    "source": {"es": "Fuente", "en": "Source"},
    "schedule": {"es": "Programación", "en": "Schedule"},
    "last_success": {"es": "Último éxito", "en": "Last success"},
    "newest": {"es": "Dato más reciente", "en": "Newest data"},
    "age_h": {"es": "Antigüedad (h)", "en": "Age (h)"},
    "expected_lag_h": {"es": "Plazo esperado (h)", "en": "Expected lag (h)"},
    "fresh": {"es": "Frescura", "en": "Freshness"},
    "job": {"es": "Trabajo", "en": "Job"},
    "status": {"es": "Estado", "en": "Status"},
    "started_at": {"es": "Inicio", "en": "Started"},
    "rows_in": {"es": "Filas leídas", "en": "Rows read"},
    "rows_out": {"es": "Filas escritas", "en": "Rows written"},
    "rows_quarantined": {"es": "En cuarentena", "en": "Quarantined"},
    "seconds": {"es": "Segundos", "en": "Seconds"},
    "predictions": {"es": "Predicciones", "en": "Predictions"},
    "data_cutoff": {"es": "Datos hasta (Madrid)", "en": "Data up to (Madrid)"},
    "p50_mw": {"es": "Previsión p50 (MW)", "en": "Forecast p50 (MW)"},
    "actual_mw": {"es": "Real (MW)", "en": "Actual (MW)"},
    "error_mw": {"es": "Error (MW)", "en": "Error (MW)"},
    "in_band": {"es": "En la banda p10-p90", "en": "In the p10-p90 band"},
}
YES_NO = {"es": ("Sí", "No"), "en": ("Yes", "No")}


def text(key: str, language: str, **values: object) -> str:
    """The text ``key`` in ``language`` (Spanish when missing), with ``values`` filled in.

    Parameters
    ----------
    key
        A key of :data:`TEXTS`.
    language
        ``es`` or ``en``.
    values
        Named values for the text's ``{placeholders}``.

    Returns
    -------
    str
    """
    entry = TEXTS[key]
    template = entry.get(language) or entry["es"]
    return template.format(**values) if values else template


def browser_language(locale: str | None, accept_language: str | None) -> str:
    """``es`` or ``en`` from the browser's locale (``es-ES``) or Accept-Language header.

    Parameters
    ----------
    locale
        The browser's language (``navigator.language``), when known.
    accept_language
        The request's ``Accept-Language`` header, e.g. ``en-GB,en;q=0.9,es;q=0.8``.

    Returns
    -------
    str
        The first of the browser's languages the app speaks; Spanish when none is.
    """
    candidates: list[str] = []
    if locale:
        candidates.append(locale)
    if accept_language:
        ranked = []
        for order, part in enumerate(accept_language.split(",")):
            name, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            ranked.append((-quality, order, name.strip()))
        candidates += [name for _, _, name in sorted(ranked)]
    for candidate in candidates:
        primary = candidate.lower().split("-")[0].split("_")[0]
        if primary in LANGUAGES:
            return primary
    return "es"
