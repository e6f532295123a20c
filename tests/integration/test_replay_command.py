"""`polywindow replay` as an operator runs it: the archive (real fixture books) and the `feed_gaps`
table of the stack's PostgreSQL in, a per-strategy summary out; a window with a gap is left out."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from infra.stack import Endpoints
from sinks.postgres.migrate import migrate
from tests.fixture_archive import write_fixture_archive
from tests.integration.cli import POLYWINDOW, REPO, run_cli

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]

FROM = datetime(2026, 9, 28, 11, 0, tzinfo=UTC)
TO = datetime(2026, 9, 28, 11, 30, tzinfo=UTC)
FIRST = "btc-updown-15m-1790593200"
SECOND = "btc-updown-15m-1790594100"


def _url(endpoints: Endpoints, conninfo: str) -> str:
    base, _, query = endpoints.database_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{conninfo_to_dict(conninfo)['dbname']}" + (f"?{query}" if query else "")


def test_replay_prints_the_summary_and_leaves_out_the_window_with_a_feed_gap(
    endpoints: Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO feed_gaps (feed, started_at, ended_at, detail) VALUES ('market', %s, %s, 'test')",
            (FROM + timedelta(minutes=5), FROM + timedelta(minutes=5, seconds=30)),
        )
    write_fixture_archive(tmp_path / "archive", FROM, TO)
    out = tmp_path / "intents.jsonl"
    env = {
        "DATABASE_URL": _url(endpoints, fresh_database),
        "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    args = ("replay", "--from", "2026-09-28T10:30Z", "--to", "2026-09-28T11:35Z", "--intents-out", str(out))

    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stderr
    assert f"left out (feed gap): {FIRST}" in done.stdout
    assert [json.loads(line)["window_id"] for line in out.read_text().splitlines()] == [SECOND]
    canary = next(line for line in done.stdout.splitlines() if line.startswith("canary"))
    assert canary.split()[1:3] == ["1", "1"]

    kept = run_cli(*args, "--keep-gaps", "-w", "2", env=env)
    assert kept.returncode == 0, kept.stderr
    assert f"kept despite a feed gap (--keep-gaps): {FIRST}" in kept.stdout
    assert sorted(json.loads(line)["window_id"] for line in out.read_text().splitlines()) == [FIRST, SECOND]
    assert "(1 in gap windows)" in kept.stdout


LONG_FROM = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
LONG_TO = datetime(2026, 9, 28, 13, 0, tzinfo=UTC)  # ~32,000 archived events, 6 intents


def popen_cli(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(POLYWINDOW), *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _intents(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _written(out_dir: Path) -> int:
    return sum(part.read_bytes().count(b"\n") for part in out_dir.glob("intents.*.jsonl"))


def _committed_epoch(state: Path) -> int:
    """The last epoch whose snapshot Bytewax committed in the recovery store (0: none yet)."""
    try:
        with closing(sqlite3.connect(f"file:{state / 'part-0.sqlite3'}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT MAX(commit_epoch) FROM commits").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


def test_a_replay_killed_mid_way_and_started_again_gives_the_same_intents_none_twice(
    endpoints: Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    write_fixture_archive(tmp_path / "archive", LONG_FROM, LONG_TO)
    env = {
        "DATABASE_URL": _url(endpoints, fresh_database),
        "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    period = ("replay", "--from", "2026-09-28T08:30Z", "--to", "2026-09-28T13:00Z")
    whole = tmp_path / "whole.jsonl"
    done = run_cli(*period, "--intents-out", str(whole), env=env)
    assert done.returncode == 0, done.stderr
    expected = _intents(whole)
    assert len(expected) >= 4

    recovery, resumed = tmp_path / "recovery", tmp_path / "resumed.jsonl"
    args = (*period, "--recovery-dir", str(recovery), "--epoch-s", "0.2", "--intents-out", str(resumed))
    killed = popen_cli(*args, env=env)
    deadline = time.monotonic() + 180
    # Kill once a snapshot is committed and an intent was written after it (so the resumed run
    # emits that intent again and must refuse it), the run still going. The replay runs in short
    # slices (SIGCONT ... SIGSTOP) while the test looks, so however fast the machine, it cannot
    # finish between two looks; snapshots are taken on the wall clock, so they still come.
    epoch, written = 0, 0
    while epoch == 0 or _written(recovery / "out") <= written:
        assert killed.poll() is None, "the replay ended before it could be killed mid-way"
        assert time.monotonic() < deadline, "the replay made no progress"
        os.kill(killed.pid, signal.SIGCONT)
        time.sleep(0.05)  # one slice of the replay's work
        os.kill(killed.pid, signal.SIGSTOP)
        now_epoch = _committed_epoch(recovery / "state")
        if now_epoch != epoch:
            epoch, written = now_epoch, _written(recovery / "out")
    assert killed.poll() is None, "the replay ended before it could be killed mid-way"
    killed.send_signal(signal.SIGKILL)
    killed.wait(30)
    assert _written(recovery / "out") < len(expected), "killed too late to prove anything"
    assert not resumed.exists()

    again = run_cli(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert "resumed after archived event" in again.stdout
    assert _intents(resumed) == expected
    ids = [json.loads(line)["client_order_id"] for line in _intents(resumed)]
    assert len(ids) == len(set(ids))


def test_one_worker_two_workers_and_two_processes_give_identical_intents(
    endpoints: Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    write_fixture_archive(tmp_path / "archive", FROM, TO)
    env = {
        "DATABASE_URL": _url(endpoints, fresh_database),
        "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    period = ("replay", "--from", "2026-09-28T10:30Z", "--to", "2026-09-28T11:35Z")
    outputs = []
    for name, how in (("one", ()), ("two-workers", ("-w", "2")), ("two-processes", ("-p", "2"))):
        out = tmp_path / f"{name}.jsonl"
        done = run_cli(*period, *how, "--intents-out", str(out), env=env)
        assert done.returncode == 0, done.stderr
        outputs.append(_intents(out))
        if name == "two-processes":
            assert "replay: process 1 done" in done.stdout  # the second process ran its share
            assert "archived events" in done.stdout and "canary" in done.stdout
    assert outputs[0] == outputs[1] == outputs[2]
    assert sorted(json.loads(line)["window_id"] for line in outputs[0]) == [FIRST, SECOND]
