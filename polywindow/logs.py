"""Logging, configured once when the `polywindow` command starts.

structlog renders every record, its own and the standard library's (the recorder, uvicorn, httpx,
librdkafka's Python side), on stderr: aligned console lines for a terminal, one JSON object per line
otherwise (a supervisor, a file, a pipe). The level is POLYWINDOW_LOG_LEVEL. Before anything is
rendered, values that could be secrets are replaced: SecretStr values, fields named like a secret
(`api_secret`, `sasl.password`, `admin_token`, `X-Admin-Token`, `key`...), and the password of a URL.
Tracebacks are printed without local variables, which could hold credentials.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from pydantic import SecretBytes, SecretStr

HIDDEN = "<hidden>"
# A field is secret when the last word of its name is one of these (`token_id` is not: its last word is id).
_SECRET_WORDS = frozenset(
    {"secret", "password", "passwd", "passphrase", "token", "key", "apikey", "auth", "authorization",
     "credentials", "creds", "signature", "cookie"}
)  # fmt: skip
# Libraries that narrate every request or step at INFO: kept at WARNING unless the level is DEBUG.
CHATTY_LIBRARIES = ("httpx", "httpcore", "pgserver", "websockets", "urllib3", "hpack")
_WORD_SPLIT = re.compile(r"[_.\-\s]+")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s]+(?P<tail>@)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    words = [w for w in _WORD_SPLIT.split(name.lower()) if w]
    return bool(words) and words[-1] in _SECRET_WORDS


def redacted(value: Any) -> Any:
    """`value` with every secret inside it replaced (containers are copied, never changed)."""
    if isinstance(value, SecretStr | SecretBytes):
        return HIDDEN
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\g<head>***\g<tail>", value)
    if isinstance(value, Mapping):
        return {k: HIDDEN if is_secret_name(str(k)) else redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redacted(v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the last step before rendering, so nothing added earlier escapes it."""
    return {
        k: v if k == "exc_info" else HIDDEN if is_secret_name(k) else redacted(v)
        for k, v in event_dict.items()
    }


def configure(level: str, *, stream: TextIO | None = None, as_json: bool | None = None) -> None:
    """Configure structlog and the standard library's root logger (idempotent: handlers replaced).

    `as_json` None means JSON lines unless `stream` is a terminal."""
    out = stream if stream is not None else sys.stderr
    json_lines = as_json if as_json is not None else not out.isatty()
    numeric = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any
    if json_lines:
        finish: list[Any] = [structlog.processors.format_exc_info, redact_secrets]
        renderer = structlog.processors.JSONRenderer()
    else:
        finish = [redact_secrets]
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(
            max(numeric, logging.WARNING) if numeric > logging.DEBUG else numeric
        )
