"""Every model of every declared topic survives encode -> decode unchanged."""

from __future__ import annotations

import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.models import Event, OracleTick
from core.serde import DecodeError, decode, encode
from core.topics import TOPICS
from tests.strategies import for_type


def _members(value_type: typing.Any) -> list[type[Event]]:
    if typing.get_origin(value_type) is typing.Annotated:
        value_type = typing.get_args(value_type)[0]
    args = typing.get_args(value_type)
    return list(args) if args else [value_type]


CASES = [(spec.name, model) for spec in TOPICS for model in _members(spec.value_type)]


@pytest.mark.parametrize(("topic_name", "model"), CASES, ids=[f"{t}:{m.__name__}" for t, m in CASES])
def test_every_topic_model_round_trips(topic_name: str, model: type[Event]) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        event = data.draw(for_type(model))
        decoded = decode(topic_name, encode(event))
        assert decoded == event
        assert type(decoded) is model
        assert encode(decoded) == encode(event)

    check()


def test_every_declared_topic_has_a_case() -> None:
    assert {name for name, _ in CASES} == {spec.name for spec in TOPICS}


def test_money_is_serialised_as_a_string_never_a_float() -> None:
    tick = decode(
        "md.oracle",
        b'{"schema_version":1,"source_ts":"2026-06-08T08:15:00Z","recv_ts":"2026-06-08T08:15:00.2Z",'
        b'"kind":"oracle","symbol":"btc/usd","stream":"CHAINLINK_SPOT","price":"79696.94817428796"}',
    )
    assert isinstance(tick, OracleTick)
    assert b'"price":"79696.94817428796"' in encode(tick)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"schema_version":2,"kind":"oracle"}', "unknown schema version"),
        (
            b'{"schema_version":1,"source_ts":"2026-06-08T08:15:00Z","recv_ts":"2026-06-08T08:15:00Z",'
            b'"kind":"oracle","symbol":"btc/usd","stream":"CHAINLINK_SPOT","price":79696.9}',
            "float price",
        ),
        (
            b'{"schema_version":1,"source_ts":"2026-06-08T08:15:00","recv_ts":"2026-06-08T08:15:00Z",'
            b'"kind":"oracle","symbol":"btc/usd","stream":"CHAINLINK_SPOT","price":"1"}',
            "naive timestamp",
        ),
        (b"not json", "not json"),
    ],
)
def test_bad_values_raise_decode_error(raw: bytes, why: str) -> None:
    with pytest.raises(DecodeError):
        decode("md.oracle", raw)
