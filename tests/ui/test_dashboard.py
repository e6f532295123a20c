"""The dashboard in a real headless Chromium (Debian's, driven by playwright) against a running stack:
the real API on a free port over a fresh migrated database with a few rows, and `polywindow dashboard`
(Streamlit) on another. Every page opens and reads well (screenshots kept in .artifacts/screenshots/);
PAUSE, confirmed, reaches the API."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from psycopg.conninfo import conninfo_to_dict

from infra.stack import Endpoints
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import TOKEN, RunningApi, running_api, wait_for
from tests.integration.private_kafka import private_kafka
from tests.ui.dashboard_rows import insert_rows
from tests.ui.live_rows import ORACLE, STRIKE, live_feed

pytestmark = [pytest.mark.stack, pytest.mark.timeout(240)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
PAGES = {  # url path -> (screenshot name, title, text drawn last); the command center is the default page, at /
    "": ("command-center", "Command center", "Alerts"),
    "instrument": ("instrument", "Instrument view", "What each strategy sees"),
    "risk": ("risk", "Risk", "Change a control"),
    "trades": ("trades", "Trade history", "Dates (UTC)"),
    "campaigns": ("campaigns", "Verification campaigns", "No campaign has run yet."),
}
WAIT_MS = 30_000
expect.set_options(timeout=WAIT_MS)


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail("Debian's chromium is missing: `make browser` installs it (apt-get install chromium)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _url(endpoints: Endpoints, conninfo: str) -> str:
    """The fresh database as the postgresql:// URL the settings take."""
    base, _, query = endpoints.database_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{conninfo_to_dict(conninfo)['dbname']}" + (f"?{query}" if query else "")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def api(fresh_database: str, request: pytest.FixtureRequest) -> Iterator[RunningApi]:
    """The API over a migrated database with a few rows (parametrize "empty" for none)."""
    migrate(fresh_database)
    live = None
    if getattr(request, "param", "rows") != "empty":
        insert_rows(fresh_database)
        live = live_feed()
    with private_kafka() as kafka, running_api(fresh_database, kafka.bootstrap, live=live) as running:
        yield running


@pytest.fixture
def dashboard(api: RunningApi, endpoints: Endpoints, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _url(endpoints, api.database),
        "POLYWINDOW_API_URL": api.base,
        "POLYWINDOW_API_TOKEN": TOKEN,
        "POLYWINDOW_DASHBOARD_PORT": str(port),
        "POLYWINDOW_FLOW_STRATEGIES": '{"canary": {"notional_usd": "1"}}',
    }
    log = (tmp_path / "dashboard.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "polywindow"), "dashboard"], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/_stcore/health") or proc.poll() is not None, 60, "the dashboard")
        assert proc.poll() is None, (tmp_path / "dashboard.log").read_text()
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=_chromium(), headless=True)
        yield launched
        launched.close()


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    return page


def _settled(page: Page, title: str) -> None:
    """The page's title and the health panel are drawn, and nothing is still running."""
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_role("heading", name="System health")).to_be_visible()
    expect(page.get_by_text("DB pool")).to_be_visible()
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)


def test_every_page_opens_and_reads_without_an_error(dashboard: str, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, (name, title, last) in PAGES.items():
        page = _open(browser, f"{dashboard}/{path}")
        _settled(page, title)
        expect(page.get_by_text(last, exact=True)).to_be_visible()
        expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_role("dialog")).to_have_count(0)  # no "Page not found"
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        page.close()


@pytest.mark.parametrize("api", ["empty"], indirect=True)
def test_an_empty_database_reads_as_sentences_not_errors(dashboard: str, browser: Browser) -> None:
    page = _open(browser, f"{dashboard}/")
    _settled(page, "Command center")
    expect(page.get_by_text("No positions yet.")).to_be_visible()
    expect(page.get_by_text("not marked yet")).to_be_visible()
    expect(page.get_by_text("none reported yet")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "command-center-empty.png"), full_page=True)
    page.goto(f"{dashboard}/risk")
    _settled(page, "Risk")
    expect(page.get_by_text("No position closed this session yet: no drawdown to chart.")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "risk-empty.png"), full_page=True)


def test_the_csv_export_is_the_apis(dashboard: str, browser: Browser) -> None:
    page = _open(browser, f"{dashboard}/trades")
    _settled(page, "Trade history")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download fills.csv").click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("trade_id,mode,") and "gross_usd" in text and "t-1" in text


def test_command_center_shows_the_rows_and_feed_colours(dashboard: str, browser: Browser) -> None:
    page = _open(browser, f"{dashboard}/")
    _settled(page, "Command center")
    expect(page.get_by_text("DRY_RUN").first).to_be_visible()
    expect(page.get_by_text("$1,000.00")).to_be_visible()
    expect(page.get_by_text("$1.70")).to_be_visible()  # 3.20 won, 1.50 lost, closed today
    sidebar = page.get_by_test_id("stSidebar")
    for feed, colour in (("market", "green"), ("rtds", "yellow"), ("binance", "red")):
        dot = sidebar.get_by_text(f"● {feed}", exact=True)
        expect(dot).to_be_visible()
        css = dot.evaluate("e => getComputedStyle(e).color")
        assert _hue(css) == colour, (feed, css)


def _hue(css: str) -> str:
    """green, yellow or red from a CSS rgb()/rgba() colour, by its channels."""
    r, g, b = (int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    if g >= r and g > b:
        return "green"
    if r > g > 2 * b and g > r // 2:  # Streamlit's text yellow is an ochre, rgb(149, 107, 15)
        return "yellow"
    if r > g and r > b:
        return "red"
    return css


def test_the_instrument_page_shows_both_books_the_oracle_against_the_strike_and_the_strategies(
    dashboard: str, browser: Browser
) -> None:
    page = _open(browser, f"{dashboard}/instrument")
    _settled(page, "Instrument view")
    expect(page.get_by_role("heading", name="Up book")).to_be_visible()
    expect(page.get_by_role("heading", name="Down book")).to_be_visible()
    expect(page.get_by_text("bid 0.63 · ask 0.65", exact=False)).to_be_visible()
    expect(page.get_by_text("bid 0.35 · ask 0.37", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").filter(has_text=ORACLE)).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").filter(has_text=STRIKE)).to_be_visible()
    expect(page.get_by_text("What each strategy sees", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "instrument-live.png"), full_page=True)


def test_pause_confirmed_in_the_browser_is_what_the_api_reports(
    api: RunningApi, dashboard: str, browser: Browser
) -> None:
    with api.client() as client:
        assert (
            client.post("/api/kill-switch/resume", json={"who": "test", "why": "start running"}).status_code
            == 200
        )
        assert client.get("/api/controls").json()["kill_switch"]["value"] == "RUN"
    page = _open(browser, f"{dashboard}/")
    _settled(page, "Command center")
    page.get_by_role("button", name="PAUSE", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("no new entries")).to_be_visible()
    dialog.get_by_label("Why (recorded in the audit log)").fill("odd fills in the browser test")
    dialog.get_by_role("button", name="Confirm PAUSE").click()
    expect(page.get_by_text("kill switch: RUN → PAUSE")).to_be_visible()
    _settled(page, "Command center")
    expect(page.get_by_role("heading", name="Open positions")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "command-center-paused.png"), full_page=True)
    with api.client(token=None) as client:
        wait_for(
            lambda: client.get("/api/controls").json()["kill_switch"]["value"] == "PAUSE",
            10,
            "PAUSE at the API",
        )
        audit = client.get("/api/history/audit").json()["rows"]
    assert any("odd fills in the browser test" in row["detail"] for row in audit)
