"""The strategy review page (streamlit_app/screens/review.py) run by Streamlit's AppTest on a fresh
database: a registered strategy's first ten live windows are listed for review, each with its
window, the decision the executor audited, positions, orders and fills; later windows are not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from core.strategy_review import Registration
from sinks.postgres.migrate import migrate
from sinks.postgres.strategy_registry import register

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

VENUE_ORDER = "0x" + "cd" * 32


def _page(database_url: str) -> None:
    from pydantic import SecretStr

    from streamlit_app.config import DashboardConfig, install

    install(
        DashboardConfig(api_url="http://127.0.0.1:9", api_token=None, database_url=SecretStr(database_url))
    )
    from streamlit_app.screens import review  # after install: the pages' refresh decorators read it

    review.render()


def _insert(database: str, now: datetime) -> None:
    registration = {
        "strategy": "canary",
        "instruments": ["btc-5m"],
        "expectation": {"win_rate_low": "0.5", "win_rate_high": "0.7", "kill": {"max_loss_usd": "5"}},
    }
    with psycopg.connect(database, autocommit=True) as conn:
        register(conn, Registration.model_validate(registration), "test", now - timedelta(days=1))
        for i in range(12):
            at = now - timedelta(hours=12) + timedelta(minutes=5 * i)
            conn.execute(
                "INSERT INTO positions (position_id, mode, window_id, token_id, strategy, state, size,"
                " avg_entry_price, cost_usd, realized_pnl_usd, opened_at, closed_at, updated_at)"
                " VALUES (%s, 'LIVE', %s, '1', 'canary', 'CLOSED', 0, 0.6, 1.2, -1.2, %s, %s, %s)",
                (f"p{i}", f"btc-updown-5m-{i:02}", at, at + timedelta(minutes=5), at),
            )
        conn.execute(
            "INSERT INTO orders (client_order_id, venue_order_id, mode, position_id, window_id, token_id, side,"
            " order_type, price, size, size_matched, status, created_at, updated_at) VALUES"
            " ('co-1', %s, 'LIVE', 'p0', 'btc-updown-5m-00', '1', 'BUY', 'FAK', 0.61, 2, 2, 'FILLED', %s, %s)",
            (VENUE_ORDER, now, now),
        )
        conn.execute(
            "INSERT INTO fills (trade_id, mode, venue_order_id, client_order_id, window_id, token_id, side,"
            " price, size, fee_usd, status, is_maker, source_ts, recv_ts) VALUES"
            " ('t-1', 'LIVE', %s, 'co-1', 'btc-updown-5m-00', '1', 'BUY', 0.6, 2, 0.03, 'CONFIRMED', false, %s, %s)",
            (VENUE_ORDER, now, now),
        )
        detail = {
            "signal": {"reason": "T-60 s: CLOB favours UP"},
            "clob_price": "0.61",
            "risk_result": "approved",
        }
        conn.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (%s, 'execution', 'entry', 'co-1', %s)",
            (now, json.dumps(detail)),
        )


def test_the_first_ten_live_windows_are_listed_for_review_with_their_trades(fresh_database: str) -> None:
    migrate(fresh_database)
    _insert(fresh_database, datetime.now(UTC))
    app = AppTest.from_function(_page, args=(fresh_database,), default_timeout=30).run()
    assert not app.exception
    assert [e.label for e in app.expander] == [f"btc-updown-5m-{i:02}" for i in range(10)]
    first = app.expander[0]
    assert (
        len(first.dataframe) == 4
    )  # decisions, positions, orders, fills (the window row is not in this database)
    assert first.dataframe[0].value["reason"].tolist() == ["T-60 s: CLOB favours UP"]
    assert "First 10 of 10 live windows flagged for review" in " ".join(m.value for m in app.markdown)
    assert "Expected win rate 0.5-0.7" in " ".join(m.value for m in app.markdown)
