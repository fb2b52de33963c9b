"""Secrets kept out of the access log: a request line names its path and query, and some of them carry a key.

An Open311 app may send its ``api_key`` in the query string, and a reporter's follow token is part of the follow
link's path; whoever reads the log could report, rate or confirm with them. :func:`redact_target` replaces
those values with ``***`` and leaves the rest of the line as it was; :class:`RedactSecrets` applies it to
uvicorn's access log records (``cityos serve`` installs it).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

REDACTED = "***"
# Query parameters whose value is a credential: these names, and any name ending like one of SECRET_SUFFIXES.
SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "password", "secret", "signature"})
SECRET_SUFFIXES = ("_key", "_token", "token", "_secret", "password")
# Paths whose next segment is a credential (the segment ends at '/', '?', or a format suffix such as '.json').
SECRET_PATHS = (
    re.compile(r"^(/cases/follow/)[^/?]+"),
    re.compile(r"^(/open311/v2/tokens/)[^/?.]+"),
)


def secret_param(name: str) -> bool:
    """Whether a query parameter of this name carries a credential."""
    n = unquote_plus(name).strip().lower()
    return n in SECRET_PARAMS or n.endswith(SECRET_SUFFIXES)


def _redact_query(query: str) -> str:
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        parts.append(f"{name}={REDACTED}" if eq and secret_param(name) else part)
    return "&".join(parts)


def redact_target(target: str) -> str:
    """A request target (path and query) with every credential in it replaced by ``***``."""
    path, q, query = target.partition("?")
    for pattern in SECRET_PATHS:
        path = pattern.sub(lambda m: m.group(1) + REDACTED, path)
    return path + (q + _redact_query(query) if q else "")


class RedactSecrets(logging.Filter):
    """Redacts the request target of uvicorn's access log records (their arguments are client address, method,
    target, HTTP version and status); any other record passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_target(args[2]), args[3], args[4])
        return True
