"""Hypothesis strategies derived from the event models' own annotations.

Walking the type hints means a model added to a topic is covered by the round-trip test without
anyone writing a strategy for it; our constrained types (ids, Decimal money, UTC datetimes) get
strategies that respect their constraints.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import annotated_types
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from core.ids import ClientOrderId, ConditionId, TokenId, TradeId, VenueOrderId, WindowId

_HEX = "0123456789abcdef"
ID_STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    TokenId: st.integers(min_value=0, max_value=2**256 - 1).map(lambda n: TokenId(str(n))),
    ConditionId: st.text(_HEX, min_size=64, max_size=64).map(lambda h: ConditionId("0x" + h)),
    VenueOrderId: st.text(_HEX, min_size=64, max_size=64).map(lambda h: VenueOrderId("0x" + h)),
    WindowId: st.from_regex(r"[a-z0-9][a-z0-9-]{2,40}", fullmatch=True).map(WindowId),
    ClientOrderId: st.from_regex(r"[A-Za-z0-9_.:-]{8,64}", fullmatch=True).map(ClientOrderId),
    TradeId: st.uuids().map(lambda u: TradeId(str(u))),
}

# hypothesis takes naive bounds and attaches the zone itself
utc_datetimes = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def _decimal(metadata: list[Any]) -> st.SearchStrategy[Decimal]:
    low: Any = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), Decimal(-(10**9)))
    high: Any = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), Decimal(10**9))
    return st.decimals(min_value=low, max_value=high, places=6, allow_nan=False, allow_infinity=False)


def _str(metadata: list[Any]) -> st.SearchStrategy[str]:
    for m in metadata:
        pattern = getattr(m, "pattern", None)
        if isinstance(pattern, str):
            return st.from_regex(pattern, fullmatch=True)
    min_len = next((m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)), 0)
    return st.text(min_size=min_len, max_size=30)


def for_type(tp: Any, metadata: list[Any] | None = None) -> st.SearchStrategy[Any]:
    metadata = list(metadata or [])
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(tp)
        return for_type(base, metadata + extra)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([for_type(arg, metadata) for arg in typing.get_args(tp)])
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(tp))
    if origin is tuple:
        item, _ellipsis = typing.get_args(tp)
        return st.lists(for_type(item), max_size=4).map(tuple)
    if origin is dict:
        key, value = typing.get_args(tp)
        return st.dictionaries(for_type(key), for_type(value), max_size=3)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type):
        if tp in ID_STRATEGIES:
            return ID_STRATEGIES[tp]
        if issubclass(tp, BaseModel):
            return model_strategy(tp)
        if issubclass(tp, Enum):
            return st.sampled_from(list(tp))
        if tp is Decimal:
            return _decimal(metadata)
        if tp is datetime:
            return utc_datetimes
        if tp is bool:
            return st.booleans()
        if tp is int:
            low: Any = next((m.gt for m in metadata if isinstance(m, annotated_types.Gt)), -(2**31) - 1)
            low += 1
            return st.integers(min_value=low, max_value=2**31)
        if tp is bytes:
            return st.binary(max_size=64)
        if tp is str:
            return _str(metadata)
    raise NotImplementedError(f"no strategy for {tp!r}")


def _field_strategy(info: FieldInfo) -> st.SearchStrategy[Any]:
    return for_type(info.annotation, list(info.metadata))


def model_strategy(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    fields = {name: _field_strategy(info) for name, info in model.model_fields.items()}
    return st.fixed_dictionaries(fields).map(lambda kw: model(**kw))
