"""Benchmark of subscription notifications. Prints figures; asserts nothing.

A real `cityos serve` process (SQLite) with S subscriptions (default 1,000) on one entity type, all
notifying HTTP receivers on loopback; one subscription's receiver never answers. Updates of the
entities fan out to every subscription. Figures: notifications received per second, and the
latency from the update's commit (the 204 of its PATCH) to each receiver, p50 and p99, beside
the rate of the updates themselves.

Run: .venv/bin/python bench/notify.py [--subscriptions 1000] [--updates 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import pct


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receivers:
    """One asyncio HTTP/1.1 server standing for every receiver (paths /r/<n>); /hang/ never answers.

    Lean on purpose: the receivers share the machine with the server under test.
    """

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, int]] = []  # (receive time, update number)
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.port = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    request = await reader.readline()
                    if not request:
                        return
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    body = await reader.readexactly(length)
                    if b" /hang/" in request:
                        await asyncio.sleep(3600)
                    now = time.perf_counter()
                    seqs = [int(e.get("seq", -1)) for e in orjson.loads(body).get("data", [])]
                    with self.lock:
                        self.arrivals.extend((now, s) for s in seqs)
                    writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                return

        async def serve() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=2048)
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            async with server:
                await server.serve_forever()

        def run() -> None:
            with contextlib.suppress(RuntimeError):  # stopped by close()
                self.loop.run_until_complete(serve())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscriptions", type=int, default=1000)
    ap.add_argument("--updates", type=int, default=20)
    args = ap.parse_args()
    recv = Receivers()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, CITYOS_DATABASE_URL=f"sqlite:///{d}/notify.db", CITYOS_DATA_DIR=d)
        cli = [sys.executable, "-m", "cityos.cli"]
        token = subprocess.run(
            [*cli, "token", "create", "bench", "--role", "admin"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        port = _free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}/ngsi-ld/v1"
        h = {"Authorization": f"Bearer {token}"}
        try:
            with httpx.Client(timeout=30) as c:
                for _ in range(100):
                    try:
                        if c.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                c.post(
                    f"{base}/entities",
                    headers=h,
                    json={"id": "urn:ngsi-ld:Sensor:b1", "type": "Sensor", "seq": {"type": "Property", "value": -1}},
                )
                for n in range(args.subscriptions):
                    path = f"/hang/{n}" if n == 0 else f"/r/{n}"
                    r = c.post(
                        f"{base}/subscriptions",
                        headers=h,
                        json={
                            "type": "Subscription",
                            "entities": [{"type": "Sensor"}],
                            "watchedAttributes": ["seq"],
                            "notification": {
                                "format": "keyValues",
                                "attributes": ["seq"],
                                "endpoint": {"uri": f"http://127.0.0.1:{recv.port}{path}"},
                            },
                        },
                    )
                    r.raise_for_status()
                time.sleep(1.0)
                with recv.lock:
                    recv.arrivals.clear()
                commits: dict[int, float] = {}
                t0 = time.perf_counter()
                for seq in range(args.updates):
                    r = c.patch(f"{base}/entities/urn:ngsi-ld:Sensor:b1/attrs/seq", headers=h, json={"value": seq})
                    r.raise_for_status()
                    commits[seq] = time.perf_counter()
                    time.sleep(0.05)
                update_rate = args.updates / (time.perf_counter() - t0)
                expected = args.updates * (args.subscriptions - 1)  # the hanging receiver gets none
                deadline = time.perf_counter() + 120
                while time.perf_counter() < deadline:
                    with recv.lock:
                        got = sum(1 for _, s in recv.arrivals if s >= 0)
                    if got >= expected:
                        break
                    time.sleep(0.05)
                with recv.lock:
                    arrivals = [(t, s) for t, s in recv.arrivals if s >= 0]
            latencies = [(t - commits[s]) * 1000 for t, s in arrivals if s in commits]
            span = max(t for t, _ in arrivals) - t0 if arrivals else float("nan")
            print(
                f"cityos notification benchmark: {args.subscriptions:,} subscriptions (one receiver hangs), "
                f"{args.updates} updates fanned out to each"
            )
            print(f"  updates committed at {update_rate:,.0f}/s (paced at most 20/s)")
            print(
                f"  notifications received {len(arrivals):,} of {expected:,} in {span:.1f} s: "
                f"{len(arrivals) / span:,.0f}/s"
            )
            if latencies:
                print(f"  commit-to-receiver latency p50 {pct(latencies, 50):.0f} ms  p99 {pct(latencies, 99):.0f} ms")
        finally:
            server.terminate()
            server.wait(timeout=15)
            recv.close()


if __name__ == "__main__":
    main()
