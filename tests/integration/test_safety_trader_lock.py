"""One active trader: a second instance refuses and names the first; the lock dies with its session."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from execution.trader_lock import LockLost, LockRefused, TraderLock
from sinks.postgres.migrate import migrate

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def database(fresh_database: str) -> str:
    migrate(fresh_database)
    return fresh_database


def acquire_within(lock: TraderLock, now: datetime, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            lock.acquire(now)
            return
        except LockRefused:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_second_instance_refuses_and_names_the_holder(database: str) -> None:
    first = TraderLock(database, "host-a:101:LIVE")
    second = TraderLock(database, "host-b:202:LIVE")
    first.acquire(T0)
    first.beat(T0 + timedelta(seconds=5))
    try:
        with pytest.raises(LockRefused) as refused:
            second.acquire(T0 + timedelta(seconds=6))
        assert refused.value.holder is not None
        assert refused.value.holder.holder == "host-a:101:LIVE"
        assert refused.value.holder.since == T0
        assert refused.value.holder.last_heartbeat == T0 + timedelta(seconds=5)
        text = str(refused.value)
        assert "host-a:101:LIVE" in text and T0.isoformat() in text
        assert not second.held
    finally:
        first.release()
    second.acquire(T0 + timedelta(seconds=7))
    assert second.current_holder() is not None
    second.release()
    assert second.current_holder() is None, "a clean stop removes the holder row"


def test_a_killed_session_loses_the_lock_and_the_second_takes_over(database: str) -> None:
    first = TraderLock(database, "host-a:101:LIVE")
    second = TraderLock(database, "host-b:202:LIVE")
    first.acquire(T0)
    with pytest.raises(LockRefused):
        second.acquire(T0)
    pid = first.backend_pid()
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    acquire_within(second, T0 + timedelta(seconds=1), timeout_s=10)
    try:
        holder = second.current_holder()
        assert holder is not None and holder.holder == "host-b:202:LIVE"
        with pytest.raises(LockLost):
            first.beat(T0 + timedelta(seconds=2))
        with pytest.raises(LockRefused):
            first.acquire(T0 + timedelta(seconds=3))
    finally:
        second.release()


def test_a_holder_that_stops_beating_loses_the_lock_after_its_lease(database: str) -> None:
    hung = TraderLock(database, "host-a:101:LIVE", lease_s=1)
    second = TraderLock(database, "host-b:202:LIVE")
    hung.acquire(T0)
    acquire_within(second, T0 + timedelta(seconds=2), timeout_s=15)
    try:
        with pytest.raises(LockLost):
            hung.beat(T0 + timedelta(seconds=3))
    finally:
        second.release()
