"""The notifications' HTTP/1.1 sender against real receivers on loopback that answer in each way HTTP allows."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from cityos.context.subscriptions.httpsend import HttpSender, HttpSendError, Target, header_block
from cityos.core.loops import new_event_loop

Answer = Callable[[socket.socket, int], bool]  # writes the answer to the n-th request; False: close the connection


class Server:
    """A receiver on loopback: records each request (head, body) and its connection, answers with ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[tuple[bytes, bytes, int]] = []  # (head, body, connection number)
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook?x=1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn:
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = next(int(v) for k, _, v in (line.partition(b":") for line in head.split(b"\r\n"))
                              if k.lower() == b"content-length")  # fmt: skip
                while len(buf) < length:
                    buf += conn.recv(65536)
                body, buf = buf[:length], buf[length:]
                self.requests.append((head, body, number))
                if not self.answer(conn, len(self.requests)):
                    return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], Server]]:
    made: list[Server] = []

    def make(answer: Answer) -> Server:
        made.append(Server(answer))
        return made[-1]

    yield make
    for s in made:
        s.close()


@pytest.fixture(params=["asyncio", "cityos"])
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine on asyncio's own loop and on the one delivery runs on (uvloop where installed)."""

    def runner(coro: Coroutine[Any, Any, Any]) -> Any:
        loop = asyncio.new_event_loop() if request.param == "asyncio" else new_event_loop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()

    return runner


def kept_alive(conn: socket.socket, n: int) -> bool:
    conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    return True


async def post_all(url: str, bodies: list[bytes], headers: dict[str, str] | None = None) -> list[int]:
    sender = HttpSender()
    try:
        target, lines = Target.of(url), header_block(headers or {"Content-Type": "application/json"})
        return [await sender.post(target, lines, body, 5.0) for body in bodies]
    finally:
        sender.close()


def test_a_kept_alive_connection_carries_every_notification(serve: Any, run: Any) -> None:
    server = serve(kept_alive)
    bodies = [b'{"n":%d}' % n for n in range(3)]
    headers = {"Content-Type": "application/json", "Link": '<http://x/c.jsonld>; rel="x"', "X-Token": "ab c"}
    assert run(post_all(server.url, bodies, headers)) == [204, 204, 204]
    assert [body for _, body, _ in server.requests] == bodies
    assert {number for _, _, number in server.requests} == {1}
    head = server.requests[0][0].decode()
    assert head.startswith("POST /hook?x=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}" in head
    assert "Content-Length: 7" in head and "X-Token: ab c" in head and 'Link: <http://x/c.jsonld>; rel="x"' in head


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
    ids=["chunked", "length", "interim"],
)
def test_an_answer_with_a_body_is_read_to_its_end_and_the_connection_kept(serve: Any, run: Any, answer: bytes) -> None:
    def reply(conn: socket.socket, n: int) -> bool:
        conn.sendall(answer)
        return True

    server = serve(reply)
    assert run(post_all(server.url, [b"{}", b"{}"])) == [200, 200]
    assert server.connections == 1


def test_a_body_ended_by_closing_and_connection_close_are_not_reused(serve: Any, run: Any) -> None:
    def reply(conn: socket.socket, n: int) -> bool:
        conn.sendall(b"HTTP/1.0 202 Accepted\r\n\r\nbye" if n % 2 else b"HTTP/1.1 500 No\r\nConnection: close\r\n\r\n")
        return False

    server = serve(reply)
    assert run(post_all(server.url, [b"{}", b"{}", b"{}"])) == [202, 500, 202]
    assert server.connections == 3


@pytest.mark.parametrize("idle", [0.0, 0.2], ids=["at-once", "seen-closed"])
def test_a_connection_the_receiver_closed_while_idle_is_replaced_without_a_failure(
    serve: Any, run: Any, idle: float
) -> None:
    """Seen closed before the next request, or lost by it before any answer (sent again once, on a new one)."""

    def reply(conn: socket.socket, n: int) -> bool:
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        return False  # closed without saying so

    server = serve(reply)

    async def two() -> list[int]:
        sender = HttpSender()
        target, lines = Target.of(server.url), header_block({})
        first = await sender.post(target, lines, b"1", 5.0)
        await asyncio.sleep(idle)
        second = await sender.post(target, lines, b"2", 5.0)
        sender.close()
        return [first, second]

    assert run(two()) == [204, 204]
    assert [body for _, body, _ in server.requests] == [b"1", b"2"]


def test_a_receiver_that_never_answers_times_out(serve: Any, run: Any) -> None:
    server = serve(lambda conn, n: (time.sleep(3), False)[1])
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        run(HttpSender().post(Target.of(server.url), b"", b"{}", 0.3))
    assert time.monotonic() - t0 < 2


def test_a_malformed_answer_and_a_refused_connection_are_send_errors(serve: Any, run: Any) -> None:
    def garbage(conn: socket.socket, n: int) -> bool:
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        return True

    server = serve(garbage)
    with pytest.raises(HttpSendError, match="malformed"):
        run(HttpSender().post(Target.of(server.url), b"", b"{}", 5.0))
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(HttpSendError, match="cannot connect"):
        run(HttpSender().post(Target.of(f"http://127.0.0.1:{port}/"), b"", b"{}", 5.0))


def test_targets_and_headers() -> None:
    assert (
        Target.of("http://example.org/a b/ü?q=x y").head
        == b"POST /a%20b/%C3%BC?q=x%20y HTTP/1.1\r\nHost: example.org\r\n"
    )
    assert Target.of("https://[::1]:8443").origin == ("https", "::1", 8443)
    assert Target.of("https://[::1]:8443").head.endswith(b"Host: [::1]:8443\r\n")
    assert Target.of("https://Example.org/").origin == ("https", "example.org", 443)
    with pytest.raises(ValueError):
        Target.of("mqtt://broker/topic")
    assert header_block({"A": "1", "B": "ä"}) == "A: 1\r\nB: ä\r\n".encode()
    for bad in ({"A": "1\r\nB: 2"}, {"A": "1\n"}, {"A\r": "1"}):
        with pytest.raises(ValueError):
            header_block(bad)
