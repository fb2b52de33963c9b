"""What the NGSI-LD API does at its edge, before and after any route: the Content-Length precondition of
a write (NGSI-LD clause 6.3.4: a POST, PATCH or PUT without it is a bare 411) and the ``NGSILD-Tenant``
header of a request echoed on its answer, errors included (clause 6.3.14).

A pure ASGI middleware, outermost of the app's: the 411 is decided before the body is read and before the
tenant is looked up, and the echo holds for every answer of the surface, the ones an error handler gives too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

PREFIX = "/ngsi-ld/"
_WRITES = frozenset({"POST", "PATCH", "PUT"})
_TENANT = b"ngsild-tenant"

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class NgsiLdEdge:
    """411 for an NGSI-LD write that names no Content-Length (a chunked one included: 6.3.4 grants it no
    exemption), and the request's ``NGSILD-Tenant`` on every NGSI-LD answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        tenant = next((v for k, v in headers if k == _TENANT), None)
        if scope["method"] in _WRITES and not any(k == b"content-length" for k, _ in headers):
            await _bare_411(receive, send, tenant)
            return
        if tenant is None:
            await self.app(scope, receive, send)
            return

        async def echo(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != _TENANT]
                message["headers"] = [*kept, (_TENANT, tenant)]
            await send(message)

        await self.app(scope, receive, echo)


async def _bare_411(receive: Receive, send: Send, tenant: bytes | None) -> None:
    """Just the status, no body (6.3.4). The request's body is left unread: the connection closes after."""
    headers = [(b"content-length", b"0"), (b"connection", b"close")]
    if tenant is not None:
        headers.append((_TENANT, tenant))
    await send({"type": "http.response.start", "status": 411, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
