"""One limit on every request body, enforced before any route parses it: its size (413), its depth as
JSON (400) and the character U+0000, which no stored text may hold (PostgreSQL refuses it; 400). A pure
ASGI middleware, so that it holds for every route, the public ones included, whatever the route does
with the body.

The body is taken in chunk by chunk and counted: a ``Content-Length`` over the limit is refused before a
byte is read, a streamed body as soon as its chunks pass the limit. A body within the limit is handed
to the app as it came, in one piece.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from cityos.core.iris import where_nul
from cityos.core.jsondepth import holds_escaped_nul, nests_deeper_than
from cityos.errors import CityError, InvalidInput, JsonTooDeep, PayloadTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# Answers a refused request: (the error, the request's scope) → an ASGI app that sends the answer.
Refuse = Callable[[CityError, Scope], ASGIApp]


def holds_nul(body: bytes, content_type: bytes) -> bool:
    """Whether a body holds U+0000: as a byte, as a JSON escape, or as ``%00`` in a form."""
    if b"\x00" in body or holds_escaped_nul(body):
        return True
    return content_type.startswith(b"application/x-www-form-urlencoded") and b"%00" in body


class BodyLimit:
    """Refuses a body over ``max_bytes`` (413), JSON nested over ``max_depth`` levels (400) and a body
    holding U+0000 (400), but on the routes in ``nul_to_route``, which handle it themselves (telemetry
    holding it becomes a dead letter, with its reason)."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, max_depth: int, refuse: Refuse, nul_to_route: tuple[str, ...] = ()
    ) -> None:
        self.app, self.max_bytes, self.max_depth, self.refuse = app, max_bytes, max_depth, refuse
        self.nul_to_route = nul_to_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if not length and b"transfer-encoding" not in headers:  # no body (HTTP/1.1): a GET, a live stream
            await self.app(scope, receive, send)
            return
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(self._too_large(int(length)), scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:  # the client went away before it sent the whole body: nothing to answer
            return
        if isinstance(body, CityError):
            await self._refuse(body, scope, receive, send)
            return
        # Every body, whatever its media type says: some routes parse JSON sent as a form or as text.
        # (No route takes binary uploads; one that does would need to be left out here.)
        if nests_deeper_than(body, self.max_depth):
            err = JsonTooDeep(
                f"the body nests arrays and objects more than {self.max_depth} levels deep: "
                f"send at most {self.max_depth} levels"
            )
            await self._refuse(err, scope, receive, send)
            return
        routed = any(scope["path"].startswith(prefix) for prefix in self.nul_to_route)
        if not routed and holds_nul(body, headers.get(b"content-type", b"")):
            nul = InvalidInput(
                f"the body holds the character U+0000{_where_nul(body)}, which no stored text may hold: leave it out"
            )
            await self._refuse(nul, scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | CityError | None:
        """The whole body, or the error that refuses it once its chunks pass the limit (None: the client
        went away)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return self._too_large(size, more=message.get("more_body", False))
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, size: int, *, more: bool = False) -> PayloadTooLarge:
        has = f"more than {self.max_bytes}" if more else str(size)
        return PayloadTooLarge(
            f"the body has {has} bytes; the limit is {self.max_bytes} (CITYOS_MAX_BODY_BYTES): send less at a time"
        )

    async def _refuse(self, err: CityError, scope: Scope, receive: Receive, send: Send) -> None:
        await self.refuse(err, scope)(scope, receive, send)


def _where_nul(body: bytes) -> str:
    """Where in a JSON body the first U+0000 is (`` in reporter.name``), so the message names the field;
    empty when the body is not JSON (a form)."""
    try:
        path = where_nul(orjson.loads(body))
    except orjson.JSONDecodeError:
        return ""
    return "" if path is None else f" in {path or 'the body'}"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body once, in one piece, and then what the client sends (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
