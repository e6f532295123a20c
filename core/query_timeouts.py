"""A database query that hit its statement timeout, as an alert with its full context: the process,
the query's name (verb and table), the timeout and its parameters redacted of secrets. Pure.

Redaction keeps what helps the operator (ids, sizes, times) and hides: SecretStr values, any value
under a key that names a secret (secret, token, password, passphrase, key, auth, signature, url),
the credentials and query string of a URL, and bearer or basic credentials.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from pydantic import SecretStr

from core.enums import Severity
from core.models import Alert

__all__ = ["query_name", "redact", "statement_timeout_alert"]

REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"secret|token|passw|passphrase|key|auth|signature|url|cred", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]*@")
_URL_QUERY = re.compile(r"(\w+://[^\s?]*)\?\S*")
_AUTH_WORD = re.compile(r"\b(bearer|basic)\s+\S+", re.IGNORECASE)
_VERB_TABLE = re.compile(
    r"^\s*(?:(insert)\s+into|(update)|(delete)\s+from|(select)\b.*?\bfrom|(select))\s+\"?([\w.]+)",
    re.IGNORECASE | re.DOTALL,
)


def query_name(sql: str) -> str:
    """`verb table` (`select fills`), the called function for a SELECT without FROM, else the verb."""
    found = _VERB_TABLE.match(sql)
    if found is None:
        words = sql.split()
        return words[0].lower() if words else "query"
    verb = next(g for g in found.groups()[:5] if g)
    return f"{verb.lower()} {found.group(6).lower()}"


def _scrub(text: str) -> str:
    text = _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)
    text = _URL_QUERY.sub(rf"\1?{REDACTED}", text)
    return _AUTH_WORD.sub(rf"\1 {REDACTED}", text)


def _clean(value: object) -> object:
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def redact(params: object) -> str:
    """The parameters as text, secrets replaced by `<redacted>`."""
    return repr(_clean(params))[:1000]


def statement_timeout_alert(process: str, sql: str, params: object, timeout_ms: int, at: datetime) -> Alert:
    name = query_name(sql)
    return Alert(
        alert_kind="db.statement_timeout",
        severity=Severity.CRITICAL,
        message=(
            f"{process}: query {name!r} cancelled by its statement timeout ({timeout_ms} ms); "
            f"parameters {redact(params)}; query {_scrub(' '.join(sql.split()))[:500]}"
        )[:2000],
        dedupe_key=f"{process}:{name}:{at.isoformat()}",
        event_ts=at,
    )
