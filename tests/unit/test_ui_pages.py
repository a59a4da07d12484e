"""Each page of the web app under Streamlit's AppTest, against the API stand-in on loopback
(tests/ui_fixtures.py): its widgets are there, it sends what the API expects, it shows the
answer, and a down, slow or failing API is a sentence, never an exception."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from ui_fixtures import FakeApi, fake_api

from api import examples

UI = Path(__file__).resolve().parents[2] / "ui"
PAGES = ("ask", "forecast", "energy", "movies", "sales", "company", "status")
TIMEOUT_S = 30


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    fake = FakeApi()
    with fake_api(fake) as url:
        monkeypatch.setenv("API_BASE_URL", url)
        monkeypatch.delenv("API_KEY", raising=False)
        yield fake


def page(name: str, language: str = "es") -> AppTest:
    test = AppTest.from_file(str(UI / "pages" / f"{name}.py"), default_timeout=TIMEOUT_S)
    test.session_state["lang"] = language
    return test.run()


def texts(test: AppTest) -> str:
    """Everything the page wrote (markdown, captions, alerts, metrics, titles)."""
    parts = [e.value for kind in ("markdown", "caption", "title", "subheader") for e in getattr(test, kind)]
    parts += [e.value for kind in ("info", "warning", "error", "success") for e in getattr(test, kind)]
    parts += [f"{m.label} {m.value}" for m in test.metric]
    return "\n".join(str(p) for p in parts)


def test_ask_answers_with_sentence_table_chart_and_sql(api: FakeApi) -> None:
    test = page("ask", "en")
    assert not test.exception
    # Example questions from every dataset: electricity and each declared subject.
    labels = [b.label for b in test.button]
    for example in ("Clients per city", "Top 10 best rated movies", "Average WTI price in 2020"):
        assert example in labels
    test.chat_input[0].set_value("Which technology generated the most last month?").run()
    assert not test.exception
    assert "Answer to: Which technology generated the most last month?" in texts(test)
    assert len(test.dataframe) == 1 and test.dataframe[0].value.shape == (3, 2)
    assert test.dataframe[0].value.iloc[0, 1] == "5,120,000"  # numbers for people
    assert any("SELECT" in c.value for c in test.code)
    assert [r["path"] for r in api.requests] == ["/ask", "/ask-visual"]


def test_ask_shows_a_refusal_with_clickable_suggestions(api: FakeApi) -> None:
    test = page("ask", "es")
    test.chat_input[0].set_value("¿Quién ganó el mundial de fútbol?").run()
    assert not test.exception
    assert "No puedo responder a eso" in texts(test)
    suggestion = next(b for b in test.button if b.label == "¿Cuál fue la demanda media de ayer?")
    suggestion.click().run()
    assert not test.exception
    assert "Answer to: ¿Cuál fue la demanda media de ayer?" in texts(test)


def test_an_example_button_asks_its_question(api: FakeApi) -> None:
    test = page("ask", "es")
    next(b for b in test.button if b.label == "¿Cuántos clientes hay por ciudad?").click().run()
    assert not test.exception
    assert "Answer to: ¿Cuántos clientes hay por ciudad?" in texts(test)


def test_forecast_slider_asks_for_the_days_and_shows_model_cutoff_and_accuracy(api: FakeApi) -> None:
    test = page("forecast", "en")
    assert not test.exception
    assert test.slider[0].min == 1 and test.slider[0].max == 14
    test.slider[0].set_value(5).run()
    assert not test.exception
    days = [r["query"]["days"] for r in api.requests if r["path"] == "/forecast"]
    assert days[-1] == ["5"]
    shown = texts(test)
    assert "v20240601T020000-3fa2c1" in shown and "2024-06-09 23:00" in shown  # cut-off in Madrid time
    assert "Mean absolute error 115 MW" in shown and "Actuals inside the band 100.0 %" in shown
    # The history question is asked as of the data cut-off.
    history = next(r for r in api.requests if r["path"] == "/ask-visual")
    assert b"2024-06-09T21:00:00" in history["body"]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_runs_in_both_languages(api: FakeApi, name: str) -> None:
    for language in ("es", "en"):
        test = page(name, language)
        assert not test.exception, (name, language, test.exception)
        assert test.title, name


def test_energy_and_company_pages_draw_each_panel(api: FakeApi) -> None:
    energy = page("energy", "en")
    assert len(energy.tabs) == 3
    asked = [r for r in api.requests if r["path"] == "/ask"]
    assert len(asked) == 6
    energy.run()  # a rerun (a tab or language switch) reuses the panels' answers for a minute...
    # ... and asks again only the refused one (failures are never cached).
    assert len([r for r in api.requests if r["path"] == "/ask"]) == 7
    # The Henry Hub panel is refused: its reason is shown as a note, not as an error.
    assert [i.value for i in energy.info] == [examples.ASK_REFUSAL["detail"]]
    assert not energy.error and not energy.warning
    company = page("company", "es")
    assert not company.exception
    assert "Answer to: Compras vs ventas en marzo de 2024" in texts(company)


def test_movies_form_sends_the_film_and_shows_probability_and_factors(api: FakeApi) -> None:
    test = page("movies", "es")
    assert test.text_input[0].label == "Título" and test.multiselect[0].label == "Géneros"
    test.text_input[0].set_value("Mi película")
    test.button[0].click().run()  # the form's submit button
    assert not test.exception
    sent = next(r for r in api.requests if r["path"] == "/predict")
    import json

    film = json.loads(sent["body"])
    assert film["title"] == "Mi película" and film["genres"] == ["Action", "Adventure"]
    assert film["budget_usd"] == 40_000_000 and film["release_date"] == "2027-07-16"
    shown = texts(test)
    # The example answer: 0.4213 against a 0.21 threshold is a success.
    assert "Probabilidad de éxito 42,1 %" in shown and "Probable éxito" in shown
    assert "umbral 0,21, modelo v20261205T072226-a689fd" in shown


def test_sales_form_and_csv_upload_give_table_chart_download_and_history(api: FakeApi) -> None:
    test = page("sales", "en")
    assert not test.exception
    assert test.dataframe[-1].value.iloc[0]["Error (€)"] == "163.42"  # the history with its error
    test.button[0].click().run()
    assert not test.exception
    assert any(r["path"] == "/predict/sales" for r in api.requests)
    csv = b"store_id,date,promo,state_holiday,school_holiday\n1,2024-07-31,1,0,1\n2,2024-07-31,0,0,0\n"
    test.file_uploader[0].set_value(("days.csv", csv, "text/csv")).run()
    assert not test.exception
    result = test.table[0].value.reset_index()
    assert result["Store"].tolist() == ["1", "2"] and result["Predicted sales (€)"].tolist() == [
        "5,000",
        "5,100.50",
    ]
    assert "Total predicted sales 10,100.50 €" in texts(test)
    assert len(test.get("download_button")) == 1
    uploads = [r for r in api.requests if r["path"] == "/predict/sales/csv"]
    assert len(uploads) == 1
    test.run()  # a rerun does not send the same file again
    assert len([r for r in api.requests if r["path"] == "/predict/sales/csv"]) == 1


def test_status_shows_readiness_models_tables_and_latest_runs(api: FakeApi) -> None:
    test = page("status", "en")
    assert not test.exception
    shown = texts(test)
    assert "The API is ready" in shown and "demand_hourly" in shown
    models = test.dataframe[0].value
    assert models["Check"].tolist() == ["Demand forecaster", "Movie success", "Store sales"]
    sources = test.dataframe[1].value
    assert sources["Source"].tolist() == ["ree"] and sources["Freshness"].tolist() == ["✓ fresh"]
    assert sources["Age (h)"].tolist() == ["5.10"] and sources["Expected lag (h)"].tolist() == ["36"]
    jobs = test.dataframe[2].value
    assert jobs["Job"].tolist() == ["ree_to_processed"] and jobs["Rows written"].tolist() == ["48"]
    assert test.dataframe[3].value["Check"].tolist() == ["Database", "Catalog"]
    runs = test.dataframe[-1].value
    assert runs["Predictions"].tolist() == ["1", "0", "1"]


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("name", PAGES)
def test_an_api_that_is_down_is_a_sentence_on_every_page(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("API_BASE_URL", _closed_port())
    test = page(name, "en")
    if name == "ask":
        test.chat_input[0].set_value("What was the total demand yesterday?").run()
    assert not test.exception
    assert "The API does not answer at" in texts(test)


def test_a_slow_or_failing_api_is_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_api(FakeApi(mode="slow", delay_s=1.5)) as url:
        monkeypatch.setenv("API_BASE_URL", url)
        monkeypatch.setenv("UI_API_TIMEOUT_S", "0.3")
        test = page("forecast", "es")
        assert not test.exception
        assert "La API tarda demasiado" in texts(test)
    with fake_api(FakeApi(mode="error")) as url:
        monkeypatch.setenv("API_BASE_URL", url)
        test = page("status", "en")
        assert not test.exception
        assert "The API failed to answer (500)" in texts(test)


def test_the_app_has_the_language_switch_and_every_page(api: FakeApi) -> None:
    test = AppTest.from_file(str(UI / "app.py"), default_timeout=TIMEOUT_S).run()
    assert not test.exception
    switch = test.sidebar.radio[0]
    assert switch.options == ["Español", "English"] and switch.value == "es"  # no browser: Spanish
    assert test.title[0].value == "Pregunta a los datos"
    switch.set_value("en").run()
    assert test.title[0].value == "Ask the data"
    test.switch_page(str(UI / "pages" / "forecast.py")).run()
    assert not test.exception and test.title[0].value == "Electricity demand forecast"


def test_the_api_key_is_sent_on_every_call_when_set(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "page-key")
    test = page("status", "en")
    assert not test.exception
    assert len(api.requests) >= 5  # /health/details, /status and three histories
    assert {r["headers"].get("X-API-Key") for r in api.requests} == {"page-key"}


@pytest.mark.parametrize("name", PAGES)
def test_an_answer_of_an_unexpected_shape_is_a_sentence_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with fake_api(FakeApi(mode="garbage")) as url:
        monkeypatch.setenv("API_BASE_URL", url)
        test = page(name, "en")
        if name == "ask":
            test.chat_input[0].set_value("What was the total demand yesterday?").run()
        assert not test.exception
        # The client checks each body's shape: the page says the API answered something unexpected.
        assert any("The API answered something unexpected" in e.value for e in test.error), name


def test_a_page_that_fails_anyway_says_so_in_a_sentence() -> None:
    test = AppTest.from_string(
        "from ui.common import guarded\n"
        "def main():\n"
        "    raise KeyError('a field the page expected')\n"
        "guarded(main)\n",
        default_timeout=TIMEOUT_S,
    )
    test.session_state["lang"] = "es"
    test.run()
    assert not test.exception
    assert "Algo salió mal al mostrar esta página" in test.error[0].value
