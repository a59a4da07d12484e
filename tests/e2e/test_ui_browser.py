"""The web app in a real browser: the API (api.main.create_app on uvicorn) and `datalake ui` on
loopback, Debian's chromium driven headless by Playwright.

The API is the real app on real HTTP over a small local lake: three weeks of hourly demand up to
this hour (a daily sine, 22,000 to 28,000 MW) published to the processed zone, which the real /ask
parser answers from (ASK_ENGINE=lake, DuckDB) and an untrained tiny forecaster reads (real
forecasts, logged to a recorder); a movie classifier and a store-sales model are fitted here on
synthetic data in a few seconds. A screenshot of every page lands under the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from api_fixtures import FakePredictions, fake_services
from movie_fixtures import synthetic_tables
from processed_fixtures import publish_frames
from sales_fixtures import synthetic_sales, synthetic_stores

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])"
)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
#: Streamlit reruns a page on each action; give each step this long to show its result.
STEP_MS = 30_000
#: Days after the synthetic sales history (it ends on 2024-02-24) for stores it knows.
SALES_CSV = (
    "store_id,date,promo,state_holiday,school_holiday,open\n"
    "1,2024-02-26,1,0,0,1\n"
    "2,2024-02-26,0,0,1,1\n"
    "3,2024-02-27,1,0,0,1\n"
    "2,2024-02-27,0,0,0,0\n"
)

#: The lake's demand: a daily sine around 25,000 MW, so yesterday's peak is 28,000 and its mean 25,000.
DEMAND_DAYS = 21


def demand_series() -> pd.Series:
    """Hourly national demand for the last DEMAND_DAYS days, up to the current hour (UTC)."""
    end = pd.Timestamp.now(tz="UTC").floor("h")
    hours = pd.date_range(end - pd.Timedelta(days=DEMAND_DAYS), end, freq="h")
    phase = (hours.tz_convert("Europe/Madrid").hour.to_numpy() - 12) * 2 * np.pi / 24
    return pd.Series(25_000.0 + 3_000.0 * np.sin(phase), index=hours, name="demand_mw")


def publish_demand(settings: Any, series: pd.Series) -> None:
    """demand_hourly in the lake's processed zone, partitioned as the job does (Madrid year/month)."""
    from datalake import runtime
    from datalake.datasets import DEMAND_HOURLY

    local = series.index.tz_convert("Europe/Madrid")
    frame = pd.DataFrame(
        {
            "ts_utc": series.index,
            "local_date": local.date,
            "region": "national",
            "demand_mw": series.to_numpy(),
            "source": "ree",
            "tso_forecast_mw": np.nan,
            "extracted_at": series.index[-1],
        }
    )
    parts = {f"year={y}/month={m}": rows for (y, m), rows in frame.groupby([local.year, local.month])}
    publish_frames(runtime.object_store("lake", settings), DEMAND_HOURLY, parts, settings=settings)


if CHROMIUM is None:
    pytest.skip(
        "Debian's chromium is not installed (`make test` installs it: apt-get install chromium)",
        allow_module_level=True,
    )


def _free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The API on uvicorn in a thread, on a loopback port; yields its URL and forecast recorder."""
    import uvicorn

    from api.main import create_app
    from api.services.movies import MovieSuccessService
    from api.services.sales import StoreSalesService
    from datalake.movies.evaluation import YearSplit, fit_model
    from datalake.sales.dataset import build_feature_dataset
    from datalake.sales.predict import LoadedModel
    from datalake.sales.retrain import fit_challenger
    from datalake.settings import Settings

    root = tmp_path_factory.mktemp("ui-api")
    settings = Settings(_env_file=None, lake_root=root / "lake", db_connect_timeout_s=1, ask_engine="lake")
    series = demand_series()
    publish_demand(settings, series)
    recorder = FakePredictions()
    services = fake_services(
        settings, root, predictions=recorder, load_history=lambda hours: series.iloc[-hours:]
    )
    services.ask = None  # the real datalake.ask, over the lake's DuckDB
    movie_model, _ = fit_model(synthetic_tables(), YearSplit(2006, 2010))
    movie_model.version = "v-movies-e2e"
    services.movies = MovieSuccessService(settings, None, load_champion=lambda _dest: movie_model)
    sales = build_feature_dataset(synthetic_sales(stores=3, days=420), synthetic_stores(3))
    sales_model = fit_challenger(sales, {"max_iter": 40, "max_leaf_nodes": 15, "learning_rate": 0.2})
    loaded = LoadedModel(sales_model, "v-sales-e2e", "champion")
    services.sales = StoreSalesService(settings, None, load_champion=lambda: loaded)

    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, services), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    _wait_for(f"{url}/health/live", 30)
    try:
        yield {"url": url, "forecasts": recorder}
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _wait_for(url: str, seconds: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{url}: the process ended with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds} s")


@pytest.fixture(scope="module")
def app_url(api: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`datalake ui` on a loopback port, over the API; stopped (with streamlit) at the end."""
    with _free_socket() as sock:
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "API_BASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    log = (tmp_path_factory.mktemp("ui-app") / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from datalake.cli import main; main()",
            "ui",
            "--port",
            str(port),
            "--api-url",
            api["url"],
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # streamlit runs as its child: stop the whole group at the end
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/_stcore/health", 60, process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ui-screenshots")
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def page(app_url: str) -> Iterator[Any]:
    """One browser tab for the tour, its browser speaking Spanish first."""
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(locale="es-ES", viewport={"width": 1400, "height": 1800})
        tab = context.new_page()
        tab.set_default_timeout(STEP_MS)
        playwright_api.expect.set_options(timeout=STEP_MS)
        tab.goto(app_url)
        yield tab
        context.close()
        browser.close()


def idle(page: Any) -> None:
    """Wait until the script's run is over (what Streamlit's own browser tests wait for)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=STEP_MS)


def settled(page: Any) -> None:
    """Wait until the run is over, with no spinner left, every chart drawn and no exception shown."""
    expect = playwright_api.expect
    idle(page)
    expect(page.get_by_test_id("stSpinner")).to_have_count(0, timeout=STEP_MS)
    charts = page.get_by_test_id("stVegaLiteChart")
    for index in range(charts.count()):  # Vega draws after the run: wait for its canvas
        expect(charts.nth(index).locator("canvas, svg").first).to_be_attached()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page.content()


def speak(page: Any, name: str) -> None:
    """Pick a language in the sidebar's switch (Español or English)."""
    idle(page)
    choice = page.get_by_test_id("stSidebar").get_by_role("radiogroup").get_by_text(name, exact=True)
    choice.click()
    playwright_api.expect(page.get_by_role("radio", name=name)).to_be_checked()


def go(page: Any, title: str) -> None:
    """Open a page from the sidebar's navigation in English (the session carries the language)."""
    idle(page)
    if not page.get_by_role("radio", name="English").is_checked():
        speak(page, "English")
        idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()


def ask(page: Any, question: str) -> None:
    idle(page)  # a rerun would redraw the box and drop what was typed
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def test_ask_in_both_languages_defaulting_to_the_browsers(page: Any, screens: Path) -> None:
    expect = playwright_api.expect
    expect(page.get_by_role("heading", name="Pregunta a los datos")).to_be_visible()  # es-ES browser
    ask(page, "¿Cuál fue la demanda máxima ayer?")
    # The real parser's answer, with the lake's peak of yesterday written the Spanish way.
    answers = page.get_by_test_id("stChatMessage")
    expect(answers).to_have_count(2)
    expect(answers.last).to_contain_text("ayer")
    expect(answers.last).to_contain_text("28.000 MW")
    settled(page)
    speak(page, "English")
    expect(page.get_by_role("heading", name="Ask the data")).to_be_visible()
    ask(page, "Hourly demand yesterday")
    expect(answers).to_have_count(4)
    expect(answers.last).to_contain_text("yesterday")
    expect(answers.last).to_contain_text("28,000 MW")  # the same peak, the English way
    expect(page.get_by_text("SQL used").last).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(1)  # yesterday's hours as a line
    # Tables: the peak with its hour (one row, two columns), then yesterday's hours.
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2)
    settled(page)
    page.screenshot(path=str(screens / "ask.png"), full_page=True)


def test_forecast_slider_asks_for_more_days(page: Any, screens: Path, api: dict[str, Any]) -> None:
    expect = playwright_api.expect
    go(page, "Forecast")
    expect(page.get_by_role("heading", name="Electricity demand forecast")).to_be_visible()
    expect(page.get_by_text("v-test-1")).to_be_visible()
    settled(page)
    # The week of actual demand before the cut-off is drawn beside the band.
    expect(page.get_by_text("No history to draw beside the forecast.")).to_have_count(0)
    served_before = len(api["forecasts"].logged)
    slider = page.get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")  # 2 -> 3 days
    expect(slider).to_have_value("3")
    deadline = time.monotonic() + STEP_MS / 1000
    while time.monotonic() < deadline and not any(
        len(e["answer"]["points"]) == 72 for e in api["forecasts"].logged[served_before:]
    ):
        time.sleep(0.2)
    assert any(len(e["answer"]["points"]) == 72 for e in api["forecasts"].logged[served_before:])
    settled(page)
    page.screenshot(path=str(screens / "forecast.png"), full_page=True)


def test_energy_dashboards_render(page: Any, screens: Path) -> None:
    expect = playwright_api.expect
    go(page, "Energy")
    expect(page.get_by_role("heading", name="Energy dashboards")).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(3)
    settled(page)
    page.screenshot(path=str(screens / "energy.png"), full_page=True)


def test_a_movie_is_submitted_and_its_probability_shown(page: Any, screens: Path) -> None:
    expect = playwright_api.expect
    go(page, "Movies")
    expect(page.get_by_role("heading", name="Will a film succeed?")).to_be_visible()
    idle(page)
    page.get_by_label("Title").fill("Browser Test Film")
    page.get_by_role("button", name="Predict").click()
    metric = page.get_by_test_id("stMetric").filter(has_text="Success probability")
    expect(metric).to_be_visible()
    expect(metric).to_contain_text("%")
    expect(page.get_by_text("model v-movies-e2e")).to_be_visible()
    settled(page)
    page.screenshot(path=str(screens / "movies.png"), full_page=True)


def test_a_sales_csv_upload_gives_the_result_table(page: Any, screens: Path, tmp_path: Path) -> None:
    expect = playwright_api.expect
    go(page, "Sales")
    expect(page.get_by_role("heading", name="Store sales")).to_be_visible()
    upload = tmp_path / "days.csv"
    upload.write_text(SALES_CSV)
    page.locator("input[type=file]").set_input_files(str(upload))
    expect(page.get_by_role("heading", name="Predictions")).to_be_visible()
    table = page.get_by_test_id("stTable")
    expect(table.locator("tbody tr")).to_have_count(4)  # one row per CSV line, in its order
    expect(table.locator("tbody tr").nth(2)).to_contain_text("2024-02-27")
    closed = table.locator("tbody tr").nth(3)
    expect(closed).to_contain_text("Yes")  # the closed day (open=0)
    expect(page.get_by_test_id("stMetric").filter(has_text="Total predicted sales")).to_contain_text("€")
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    settled(page)
    page.screenshot(path=str(screens / "sales.png"), full_page=True)


@pytest.mark.parametrize(
    ("title", "heading"), [("Energy company", "Energy company"), ("Status", "System status")]
)
def test_company_and_status_pages_render(page: Any, screens: Path, title: str, heading: str) -> None:
    expect = playwright_api.expect
    go(page, title)
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    settled(page)
    page.screenshot(path=str(screens / f"{title.split()[-1].lower()}.png"), full_page=True)
    assert (screens / f"{title.split()[-1].lower()}.png").stat().st_size > 10_000
