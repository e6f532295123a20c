"""Text the API accepts: PostgreSQL stores neither a NUL character nor a lone UTF-16 surrogate, so
either is refused at the edge (a 422 naming the field), never a 500 from the database."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

__all__ = ["StoredText", "storable"]


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


StoredText = Annotated[str, AfterValidator(storable)]
