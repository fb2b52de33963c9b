"""HTTP/1.1 POSTs of notifications: connections kept alive per receiver, responses parsed by ``httptools``.

A notification is one small POST whose answer only matters for its status, sent at thousands a
second from one event loop. A general client (aiohttp) spends most of a notification's CPU on what
this does not need (cookies, redirects, tracing, multidict headers, a URL object per request, a
response object with its streams), so delivery writes the request bytes itself and reads the
answer with the C parser that uvicorn uses (llhttp), on connections kept per origin:

- a connection is reused while the receiver keeps it alive (HTTP/1.1 without ``Connection: close``);
  one found closed is dropped, and a request that a reused connection loses before any byte of an
  answer is sent once more on a new connection (the receiver closed it while idle; at most once);
- the body of an answer is read to its end (Content-Length, chunked, or until close) and discarded;
- the timeout covers connecting, sending and the whole answer; a connection that timed out is closed;
- no redirects, no proxies from the environment, TLS (``https``) verified by the system's roots;
- no limit on connections: each subscription sends one notification at a time, so they are bounded by
  the number of subscriptions, and a receiver that hangs holds one.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import quote, urlsplit

import httptools

KEEPALIVE = 30.0  # seconds an idle connection is kept for the next notification to its origin


class HttpSendError(Exception):
    """The request got no complete answer (connection refused or lost, a malformed answer)."""


@dataclass(frozen=True)
class Target:
    """Where a notification goes, and the fixed start of every request there (made once per endpoint)."""

    origin: tuple[str, str, int]  # scheme, host, port
    head: bytes  # the request line and the Host header

    @classmethod
    def of(cls, uri: str) -> Target:
        """Parse an ``http(s)://`` endpoint; ValueError when it is not one."""
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an HTTP URL: {uri!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname
        netloc = f"[{host}]" if ":" in host else host.encode("idna").decode()
        if parts.port is not None:
            netloc += f":{parts.port}"
        path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if parts.query:
            path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        return cls((parts.scheme, host, port), f"POST {path} HTTP/1.1\r\nHost: {netloc}\r\n".encode())


def header_block(headers: dict[str, str]) -> bytes:
    """Header lines as sent; ValueError when a name or value holds a line break (the parser refuses those)."""
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if lines.count("\r") != len(headers) or lines.count("\n") != len(headers):
        raise ValueError("a header holds a line break")
    return lines.encode()


class _Connection(asyncio.Protocol):
    """One connection to a receiver, answering one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.answer: asyncio.Future[int] | None = None
        self.got_bytes = False  # of the answer awaited
        self.headers_done = False
        self.keep = False
        self.idle_since = 0.0

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def send(self, data: bytes) -> asyncio.Future[int]:
        if self.transport is None or self.transport.is_closing():
            raise HttpSendError("connection lost before the request was sent")
        self.answer = asyncio.get_running_loop().create_future()
        self.got_bytes = self.headers_done = self.keep = False
        self.transport.write(data)
        return self.answer

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # --- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport instances

    def data_received(self, data: bytes) -> None:
        if self.answer is None or self.answer.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted with the next request
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpSendError(f"malformed answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        answer = self.answer
        if answer is not None and not answer.done():
            if self.headers_done:  # a body that ends with the connection
                answer.set_result(self.parser.get_status_code())
            else:
                answer.set_exception(HttpSendError(f"connection lost{f': {exc}' if exc else ''}"))
        self.transport = None

    # --- httptools callbacks -------------------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # an interim answer (100 Continue, 103 Early Hints): the final one follows
            self.headers_done = False
            return
        self.keep = self.parser.should_keep_alive()
        if self.answer is not None and not self.answer.done():
            self.answer.set_result(status)

    def time_out(self) -> None:
        """The deadline passed before the whole answer came: the request fails with TimeoutError."""
        self._fail(TimeoutError())

    def _fail(self, exc: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)


class HttpSender:
    """POSTs over connections kept per origin; one per event loop, used from that loop only."""

    def __init__(self, keepalive: float = KEEPALIVE) -> None:
        self.keepalive = keepalive
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(self, target: Target, headers: bytes, content: bytes, timeout: float) -> int:
        """Send one POST and return the answer's status; TimeoutError or HttpSendError when there is none."""
        data = b"%sContent-Length: %d\r\n%s\r\n%s" % (target.head, len(content), headers, content)
        # One timer handle per exchange rather than asyncio.timeout(), whose Python-level bookkeeping cost as much
        # as the exchange itself on a kept-alive connection.
        deadline = asyncio.get_running_loop().time() + timeout
        conn = self._reused(target.origin)
        if conn is not None:
            try:
                return await self._exchange(target, conn, data, deadline)
            except HttpSendError:
                if conn.got_bytes:
                    raise
                # closed by the receiver while idle: once more on a new connection
        async with asyncio.timeout_at(deadline):
            conn = await self._connect(target.origin)
        return await self._exchange(target, conn, data, deadline)

    def close(self) -> None:
        """Close every idle connection (those in use close when their request ends or times out)."""
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def _exchange(self, target: Target, conn: _Connection, data: bytes, deadline: float) -> int:
        timer = None
        try:
            answer = conn.send(data)
            timer = asyncio.get_running_loop().call_at(deadline, conn.time_out)
            status = await answer
        except BaseException:  # lost, malformed, timed out or cancelled: the connection is done with
            conn.close()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if conn.keep and conn.usable:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(target.origin, []).append(conn)
        else:
            conn.close()
        return status

    def _reused(self, origin: tuple[str, str, int]) -> _Connection | None:
        conns = self._idle.get(origin)
        oldest = time.monotonic() - self.keepalive
        while conns:
            conn = conns.pop()
            if conn.usable and conn.idle_since > oldest:
                return conn
            conn.close()
        return None

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(_Connection, host, port, ssl=tls)
        except OSError as exc:  # refused, unreachable, a name that does not resolve, a TLS failure
            raise HttpSendError(f"cannot connect to {host}:{port}: {exc}") from exc
        return conn
