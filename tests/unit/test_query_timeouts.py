"""A query that hit its statement timeout becomes an alert naming the query, with its parameters
redacted of secrets."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from core.enums import Severity
from core.query_timeouts import query_name, redact, statement_timeout_alert

T0 = datetime(2031, 5, 1, 9, tzinfo=UTC)


def test_a_query_is_named_by_its_verb_and_table() -> None:
    assert query_name("INSERT INTO alerts (kind) VALUES (%s)") == "insert alerts"
    assert query_name("  select count(*)\n FROM   fills WHERE x = %s") == "select fills"
    assert query_name("UPDATE feed_gaps SET ended_at = %s") == "update feed_gaps"
    assert query_name("DELETE FROM orders WHERE 1=0") == "delete orders"
    assert query_name("SELECT pg_sleep(%s)") == "select pg_sleep"
    assert query_name("WITH x AS (SELECT 1) SELECT * FROM x") == "with"


def test_secrets_are_redacted_and_the_rest_kept() -> None:
    params = {
        "order": "c-1",
        "api_secret": "hunter2",
        "token": "abc",
        "url": "json://127.0.0.1/hook",
        "where": "https://user:pw@host/x?sig=1",
        "hook": SecretStr("json://h/p"),
        "size": 5,
    }
    text = redact(params)
    for secret in ("hunter2", "abc", "user:pw", "sig=1", "json://h/p", "/hook"):
        assert secret not in text
    assert "c-1" in text and "5" in text and "host" in text
    positional = redact(("c-2", SecretStr("pk"), "Bearer eyJabc.def"))
    assert "c-2" in positional and "pk" not in positional and "eyJabc" not in positional


@given(st.text(max_size=40))
def test_what_a_secret_was_leaves_no_trace(secret: str) -> None:
    assert redact({"password": secret}) == redact({"password": "x"})
    assert redact([SecretStr(secret)]) == redact([SecretStr("x")])


def test_the_timeout_alert_names_the_process_query_and_parameters() -> None:
    a = statement_timeout_alert("feeds", "SELECT pg_sleep(%s) FROM alerts", (2, SecretStr("s3cr3t")), 150, T0)
    assert a.alert_kind == "db.statement_timeout" and a.severity is Severity.CRITICAL
    assert a.event_ts == T0 and a.dedupe_key == f"feeds:select alerts:{T0.isoformat()}"
    assert "feeds" in a.message and "select alerts" in a.message and "150 ms" in a.message
    assert "2" in a.message and "s3cr3t" not in a.message
