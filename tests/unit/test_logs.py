"""Logging as `polywindow` configures it: JSON lines off a terminal, the level honoured, no secret
rendered whatever shape it is logged in."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from polywindow.logs import CHATTY_LIBRARIES, HIDDEN, configure, is_secret_name, redacted


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_off_a_terminal_structlog_and_stdlib_records_are_json_lines() -> None:
    out = Pipe()
    configure("INFO", stream=out)
    structlog.get_logger("polywindow.test").info("feeds.started", connectors=["market"])
    logging.getLogger("sinks.archive_recorder").warning("lost %d records", 3)
    first, second = lines(out)
    assert first["event"] == "feeds.started" and first["connectors"] == ["market"]
    assert first["level"] == "info" and str(first["timestamp"]).endswith("Z")
    assert second == {
        **second,
        "event": "lost 3 records",
        "level": "warning",
        "logger": "sinks.archive_recorder",
    }


def test_on_a_terminal_records_are_console_lines() -> None:
    out = Terminal()
    configure("INFO", stream=out)
    structlog.get_logger().info("feeds.started", port=8765)
    text = out.getvalue()
    assert "feeds.started" in text and "port=8765" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR"])
def test_the_level_is_honoured_for_structlog_and_stdlib(level: str) -> None:
    out = Pipe()
    configure(level, stream=out)
    for name in ("debug", "info", "warning", "error"):
        getattr(structlog.get_logger(), name)(f"s.{name}")
        getattr(logging.getLogger("std"), name)(f"l.{name}")
    order = ["DEBUG", "INFO", "WARNING", "ERROR"]
    expected = [n.lower() for n in order[order.index(level) :]]
    got = [(e["event"], e["level"]) for e in lines(out)]
    assert got == [(f"{p}.{n}", n) for n in expected for p in ("s", "l")]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "console"])
def test_a_secret_in_an_event_is_never_rendered(as_json: bool) -> None:
    out = Pipe()
    configure("DEBUG", stream=out, as_json=as_json)
    structlog.get_logger().info(
        "venue.connect url=postgresql://trader:hunter1@db/x",
        api_secret="hunter2",
        creds=SecretStr("hunter3"),
        headers={"POLY_PASSPHRASE": "hunter4", "X-Admin-Token": "hunter5", "Accept": "json"},
        config={"sasl.password": "hunter6", "security.protocol": "SASL_SSL"},
        dsn="postgresql://trader:hunter7@db:5432/x",
        token_id="123456",
        key="hunter8",
    )
    logging.getLogger("std").info("connecting to %s", "postgresql://u:hunter9@h/db")
    text = out.getvalue()
    assert "hunter" not in text
    for kept in ("SASL_SSL", "123456", "trader:***@db", "json"):
        assert kept in text


def test_an_exception_is_rendered_without_local_variables() -> None:
    out = Pipe()
    configure("INFO", stream=out, as_json=False)
    password = "hunter2"
    try:
        raise RuntimeError("broker refused")
    except RuntimeError:
        structlog.get_logger().exception("kafka.failed")
    assert "broker refused" in out.getvalue()
    assert password not in out.getvalue()


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_secret", True),
        ("POLY_API_KEY", True),
        ("sasl.password", True),
        ("admin-token", True),
        ("passphrase", True),
        ("token_id", False),
        ("up_token_id", False),
        ("tokens", False),
        ("condition_id", False),
        ("keys_seen", False),
    ],
)
def test_names_like_a_secret_are_recognised(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@given(st.text(alphabet="0123456789", min_size=6, max_size=20), st.sampled_from(["password", "token"]))
def test_a_secret_nested_anywhere_is_hidden(secret: str, word: str) -> None:
    shaped = {"a": [{"b": {f"x_{word}": secret}}, (SecretStr(secret),)], "n": 1}
    assert secret not in repr(redacted(shaped))
    assert redacted(shaped)["a"][0]["b"][f"x_{word}"] == HIDDEN


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_chatty_libraries_narrate_requests_only_at_debug(level: str, shown: bool) -> None:
    out = Pipe()
    configure(level, stream=out)
    logging.getLogger("httpx").info("HTTP Request: GET /book")
    logging.getLogger("httpx").warning("retrying")
    assert [e["event"] for e in lines(out)] == (["HTTP Request: GET /book"] if shown else []) + ["retrying"]
