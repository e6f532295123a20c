"""Distinct identifier types: a TokenId can never be passed where a ConditionId is expected.

Each is a validated `str` subclass, so mypy keeps them apart, pydantic validates them on the way in
and they serialise as plain strings on the wire.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class _Id(str):
    """Base of our id types; subclasses set `pattern` (a full match is required)."""

    pattern: ClassVar[re.Pattern[str]] = re.compile(r".+")
    __slots__ = ()

    def __new__(cls, value: str) -> _Id:
        if not isinstance(value, str) or not cls.pattern.fullmatch(value):
            raise ValueError(f"not a valid {cls.__name__}: {value!r}")
        return super().__new__(cls, value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


class TokenId(_Id):
    """CLOB outcome token id: a decimal uint256 (about 77 digits)."""

    pattern = re.compile(r"[0-9]{1,78}")


class ConditionId(_Id):
    """CLOB market (condition) id: 0x + 64 hex."""

    pattern = re.compile(r"0x[0-9a-fA-F]{64}")


class WindowId(_Id):
    """Our window key: the market slug, e.g. `btc-updown-5m-1780906500`."""

    pattern = re.compile(r"[a-z0-9][a-z0-9-]{2,120}")


class ClientOrderId(_Id):
    """Our own id for an order, unique per intent; chosen before the venue sees the order."""

    pattern = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


class VenueOrderId(_Id):
    """Venue order id: the EIP-712 digest of the signed order, 0x + 64 hex."""

    pattern = re.compile(r"0x[0-9a-fA-F]{64}")


class TradeId(_Id):
    """Venue trade id (a UUID string at Polymarket; kept opaque)."""

    pattern = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
