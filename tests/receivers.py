"""A notification receiver on loopback for subscription tests: real HTTP, recorded bodies."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conftest import Seen

WAIT = 15.0  # seconds a test waits for something that should happen; never reached when it works


class Receiver:
    """A notification endpoint: records POSTed JSON and headers; may fail, answer slowly, or hang until released."""

    def __init__(
        self, *, status: int = 200, fail_first: int = 0, hang: threading.Event | None = None, delay: float = 0.0
    ) -> None:
        self.status, self.fail_first, self.hang, self.delay = status, fail_first, hang, delay
        self.seen: Seen[tuple[dict[str, Any], dict[str, str]]] = Seen()  # (body, headers) of each one accepted
        self.attempts = 0
        self.entered = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver._lock:
                    receiver.attempts += 1
                    n = receiver.attempts
                if receiver.hang is not None:
                    receiver.entered.set()
                    receiver.hang.wait(WAIT)
                if receiver.delay:
                    time.sleep(receiver.delay)  # a slow receiver, when a test asks for one
                status = 500 if n <= receiver.fail_first else receiver.status
                if status < 300:
                    receiver.seen((body, dict(self.headers)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/notify"

    @property
    def got(self) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """The (body, headers) of each notification accepted so far."""
        return self.seen.now()

    def wait_for(self, n: int) -> list[dict[str, Any]]:
        """The bodies of the notifications accepted, once there are ``n`` or more."""
        return self.seen.wait_for(lambda got: [b for b, _ in got] if len(got) >= n else None, WAIT)

    def close(self) -> None:
        if self.hang is not None:
            self.hang.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
