"""`polywindow feeds`, the real command in a subprocess against a simulator on a free port: the
simulator's windows reach md.windows and their books md.book, the venue clock offset is stored, and
SIGINT or SIGTERM stops it with exit code 0 and no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from core.models import BookSnapshot, WindowEvent
from infra import stack
from tests.integration.cli import POLYWINDOW, REPO
from tests.integration.feeds_harness import TopicTail, Venue, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue() as running:
        yield running


def feed_env(port: int, database_url: str) -> dict[str, str]:
    base = f"127.0.0.1:{port}"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "POLYWINDOW_CLOB_URL": f"http://{base}",
        "POLYWINDOW_GAMMA_URL": f"http://{base}/gamma",
        "POLYWINDOW_MARKET_WS_URL": f"ws://{base}/ws/market",
        "POLYWINDOW_USER_WS_URL": f"ws://{base}/ws/user",
        "POLYWINDOW_RTDS_URL": f"ws://{base}/rtds",
        "POLYWINDOW_FEED_ASSETS": '["btc"]',
        "POLYWINDOW_FEED_INTERVALS_S": "[300]",
        "POLYWINDOW_GAMMA_POLL_S": "1",
    }


def as_url(admin_url: str, conninfo: str) -> str:
    """The fresh database as the postgresql:// URL the command's settings expect."""
    parts = urlsplit(admin_url)
    name = str(conninfo_to_dict(conninfo)["dbname"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def clock_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM clock_offsets WHERE source = 'clob'").fetchone()
    return 0 if row is None else int(row[0])


def _as_a_background_job() -> None:
    """What a shell does to a job it starts with `&`: SIGINT ignored, inherited by what it runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("stop_signal", "background"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["SIGINT", "SIGTERM", "SIGTERM-background-job"],
)
def test_feeds_command_publishes_the_venues_windows_and_books_and_stops_cleanly(
    venue: Venue,
    endpoints: stack.Endpoints,
    fresh_database: str,
    stop_signal: signal.Signals,
    background: bool,
) -> None:
    windows = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.windows")
    books = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.book")
    proc = subprocess.Popen(
        [str(POLYWINDOW), "feeds", "--only", "gamma,market,rtds"],
        cwd=REPO,
        env=feed_env(venue.port, as_url(endpoints.database_url, fresh_database)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_as_a_background_job if background else None,
    )
    try:

        def listed() -> dict[str, Any]:
            return {w.condition_id: w for w in venue.scenario.registry.listed() if w.asset == "btc"}

        found = windows.read(
            lambda e: isinstance(e, WindowEvent) and e.condition_id in listed(), lambda ev: len(ev) >= 2, 20
        )
        tokens = {t for e in found for t in (e.up_token_id, e.down_token_id)}
        books.read(
            lambda e: isinstance(e, BookSnapshot) and e.token_id in tokens,
            lambda ev: {e.token_id for e in ev} == tokens,
            10,
        )
        wait_for(lambda: clock_rows(fresh_database) >= 1, 10, "a clock_offsets row")
        process = psutil.Process(proc.pid)
        family = [process, *process.children(recursive=True)]
        proc.send_signal(stop_signal)
        out, _ = proc.communicate(timeout=15)
    except BaseException:
        proc.kill()
        print(proc.communicate(timeout=10)[0])  # the command's own account of what went wrong
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
        windows.close()
        books.close()
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out
    venue_windows = listed()
    for member in found:
        window = venue_windows[member.condition_id]
        assert (member.window_id, member.up_token_id, member.down_token_id) == (
            window.slug,
            window.up_token_id,
            window.down_token_id,
        )
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in family)
