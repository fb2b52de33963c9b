"""Benchmark of subscription notifications. Prints figures; asserts nothing.

A real `cityos serve` process (SQLite; with --worker, NATS and a `cityos worker` process) with S
subscriptions (default 1,000), each on its own sensor and notifying its own path of an HTTP
receiver on loopback, plus one subscription on every sensor whose receiver never answers.

1. Steady load: sensor updates arrive by batch update at --rate per second (default 2,000) for
   --seconds; each gives one notification to a healthy receiver (and one that the hanging receiver
   never takes). Figures: notifications received per second against the rate offered, and the
   latency from the update's commit (the answer to its batch request) to the receiver, p50 and p99.
2. Fan-out: subscriptions on the sensor type, all S notified by each of --fanout-updates single
   updates; figures as above, the burst being S notifications at once.

The CPU figures are of `cityos serve`, `cityos worker`, and the receivers' and the senders' threads of this
process, which must not be what limits the rate; the load average is printed beside them.

Run: .venv/bin/python bench/notify.py [--subscriptions 1000] [--rate 2000] [--seconds 10] [--senders 8] [--worker]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import free_port, pct


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
        self.tid = 0  # the receivers' thread, whose CPU the benchmark reports

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
            self.tid = threading.get_native_id()
            with contextlib.suppress(RuntimeError):  # stopped by close()
                self.loop.run_until_complete(serve())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(10)

    def close(self) -> None:
        self.loop.set_exception_handler(lambda loop, context: None)  # open connections die with the loop
        self.loop.call_soon_threadsafe(self.loop.stop)


def _wait_healthy(c: httpx.Client, port: int) -> None:
    deadline = time.perf_counter() + 120  # a fresh database is migrated first: slow on a busy machine
    while time.perf_counter() < deadline:
        try:
            if c.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def _wait_worker(proc: subprocess.Popen[bytes]) -> None:
    """Wait until ``cityos worker`` says it runs (its consumer is bound), then keep draining what it writes."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith(b"cityos worker: running"):
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            print(f"  {line.decode().strip()}")
            return
    raise SystemExit("the worker did not start")


def _subscribe(c: httpx.Client, base: str, h: dict[str, str], entities: dict[str, str], uri: str) -> None:
    body = {
        "type": "Subscription",
        "entities": [entities],
        "watchedAttributes": ["seq"],
        "notification": {"format": "keyValues", "attributes": ["seq"], "endpoint": {"uri": uri}},
    }
    c.post(f"{base}/subscriptions", headers=h, json=body).raise_for_status()


def _collect(recv: Receivers, expected: int, t0: float, commits: dict[int, float]) -> tuple[int, float, list[float]]:
    """Wait (at most 60 s) for ``expected`` arrivals; return how many came, their rate and latencies."""
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        with recv.lock:
            if len(recv.arrivals) >= expected:
                break
        time.sleep(0.05)
    with recv.lock:
        arrivals = [(t, s) for t, s in recv.arrivals if s in commits]
        recv.arrivals.clear()
    latencies = [(t - commits[s]) * 1000 for t, s in arrivals]
    span = max(t for t, _ in arrivals) - t0 if arrivals else float("nan")
    return len(arrivals), len(arrivals) / span, latencies


def _cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User and system CPU time of a process (or one of its threads) so far (Linux)."""
    stat = Path(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat")
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_now(procs: dict[str, tuple[int, int | None]]) -> dict[str, float]:
    return {name: _cpu_seconds(pid, tid) for name, (pid, tid) in procs.items()}


def steady(
    base: str, h: dict[str, str], recv: Receivers, args: argparse.Namespace, procs: dict[str, tuple[int, int | None]]
) -> None:
    """Updates spread over the S sensors at a paced rate, each notifying one healthy receiver.

    Batches of rate/40 updates fall due every 1/40 s; --senders connections take the next one due, so that a batch
    answered late does not hold back the ones after it: the offer is the rate asked for as long as the server keeps
    up with it. The senders are one asyncio loop writing the requests as bytes: four httpx clients in threads offered
    1,450-1,980/s of the 2,000 asked on this project's loaded two-core machine.
    """
    cpu0 = _cpu_now(procs)
    load0 = os.getloadavg()[0]
    sensors = [f"urn:ngsi-ld:Sensor:s{n}" for n in range(args.subscriptions)]
    batch_size = max(1, args.rate // 40)  # 40 batch requests a second
    interval = batch_size / args.rate
    batches = int(args.seconds / interval)
    commits: dict[int, float] = {}
    taken = iter(range(batches))
    url = httpx.URL(f"{base}/entityOperations/update")
    head = (
        f"POST {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in {**h, "Content-Type": "application/json"}.items())
    ).encode()

    async def send() -> None:
        reader, writer = await asyncio.open_connection(url.host, url.port)
        try:
            for k in taken:
                await asyncio.sleep(max(0.0, t0 + k * interval - time.perf_counter()))
                first = k * batch_size
                body = orjson.dumps(
                    [
                        {"id": sensors[seq % len(sensors)], "seq": {"type": "Property", "value": seq}}
                        for seq in range(first, first + batch_size)
                    ]
                )
                writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                answer = await reader.readexactly(length)
                if status != 204:
                    raise SystemExit(f"an update failed: {status} {answer[:300]!r}")
                done = time.perf_counter()
                commits.update((seq, done) for seq in range(first, first + batch_size))
        finally:
            writer.close()

    async def offer() -> None:
        await asyncio.gather(*(send() for _ in range(args.senders)))

    t0 = time.perf_counter()
    asyncio.run(offer())
    seq = batches * batch_size
    offered = seq / (time.perf_counter() - t0)
    got, rate, latencies = _collect(recv, seq, t0, commits)
    cpu = {name: t - cpu0[name] for name, t in _cpu_now(procs).items()}
    print(
        f"steady load: {seq:,} updates offered at {offered:,.0f}/s, one notification each (+1 to the hanging receiver)"
    )
    print(f"  notifications received {got:,} of {seq:,}: {rate:,.0f}/s")
    if latencies:
        print(f"  commit-to-receiver latency p50 {pct(latencies, 50):.0f} ms  p99 {pct(latencies, 99):.0f} ms")
    print(
        "  CPU until the last arrival: "
        + ", ".join(f"{name} {t:.1f} s ({t / max(1, seq) * 1e3:.2f} ms an update)" for name, t in cpu.items())
    )
    load1 = os.getloadavg()[0]
    print(f"  load average (1 min) {load0:.1f} at the start, {load1:.1f} at the end; {os.cpu_count()} cores")


def _wait_loaded(c: httpx.Client, base: str, h: dict[str, str], recv: Receivers, hook: str) -> None:
    """Wait until the notifier has loaded the subscriptions just made: it takes their changes in order, so a
    subscription made after them that notifies means they are all in (a worker behind by a few seconds would
    otherwise miss the first updates, and the burst measured would be smaller than S)."""
    probe = "urn:ngsi-ld:Probe:p"
    probe_entity = {"id": probe, "type": "Probe", "seq": {"type": "Property", "value": -2}}
    c.post(f"{base}/entities", headers=h, json=probe_entity).raise_for_status()
    _subscribe(c, base, h, {"type": "Probe"}, f"{hook}/probe")
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        c.patch(f"{base}/entities/{probe}/attrs/seq", headers=h, json={"value": -2}).raise_for_status()
        time.sleep(0.5)
        with recv.lock:
            if any(s == -2 for _, s in recv.arrivals):
                recv.arrivals.clear()
                return
    raise SystemExit("the notifier did not load the fan-out subscriptions within 120 s")


def fanout(c: httpx.Client, base: str, h: dict[str, str], recv: Receivers, args: argparse.Namespace) -> None:
    """Single updates that each notify every one of the S type subscriptions."""
    commits: dict[int, float] = {}
    first = 10_000_000
    t0 = time.perf_counter()
    for k in range(args.fanout_updates):
        seq = first + k
        r = c.patch(f"{base}/entities/urn:ngsi-ld:Sensor:s0/attrs/seq", headers=h, json={"value": seq})
        r.raise_for_status()
        commits[seq] = time.perf_counter()
        time.sleep(1.0)  # one burst at a time
    expected = args.fanout_updates * (args.subscriptions + 1)  # sensor s0's own subscription too
    got, _, latencies = _collect(recv, expected, t0, commits)
    print(f"fan-out: {args.fanout_updates} single updates, each to {args.subscriptions:,} subscriptions at once")
    print(f"  notifications received {got:,} of {expected:,}")
    if latencies:
        print(f"  commit-to-receiver latency p50 {pct(latencies, 50):.0f} ms  p99 {pct(latencies, 99):.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscriptions", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=2000, help="updates offered per second in the steady run")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the steady run")
    ap.add_argument("--fanout-updates", type=int, default=5)
    ap.add_argument("--senders", type=int, default=8, help="connections offering the steady load")
    ap.add_argument("--worker", action="store_true", help="NATS bus and a separate `cityos worker`")
    args = ap.parse_args()
    recv = Receivers()
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, CITYOS_DATABASE_URL=f"sqlite:///{d}/notify.db", CITYOS_DATA_DIR=d,
                   CITYOS_NOTIFY_ALLOWED_NETWORKS="127.0.0.0/8")  # its receivers run here  # fmt: skip
        if args.worker:
            run = os.urandom(4).hex()
            env["CITYOS_BUS_URL"] = f"nats://127.0.0.1:4222?stream=BENCH_{run}&subject_prefix=bench{run}"
        cli = [sys.executable, "-m", "cityos.cli"]
        token = subprocess.run(
            [*cli, "token", "create", "bench", "--role", "admin"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        port = free_port()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        procs.append(subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, **quiet))
        if args.worker:
            procs.append(subprocess.Popen([*cli, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        base = f"http://127.0.0.1:{port}/ngsi-ld/v1"
        h = {"Authorization": f"Bearer {token}"}
        try:
            if args.worker:
                _wait_worker(procs[-1])
            with httpx.Client(timeout=60) as c:
                _wait_healthy(c, port)
                sensors = [
                    {"id": f"urn:ngsi-ld:Sensor:s{n}", "type": "Sensor", "seq": {"type": "Property", "value": -1}}
                    for n in range(args.subscriptions)
                ]
                c.post(f"{base}/entityOperations/create", headers=h, json=sensors).raise_for_status()
                hook = f"http://127.0.0.1:{recv.port}"
                _subscribe(c, base, h, {"type": "Sensor"}, f"{hook}/hang/all")
                for n in range(args.subscriptions):
                    _subscribe(c, base, h, {"type": "Sensor", "id": f"urn:ngsi-ld:Sensor:s{n}"}, f"{hook}/r/{n}")
                time.sleep(1.0)
                mode = "NATS bus and `cityos worker`" if args.worker else "in-process bus, notifier in the API process"
                print(f"cityos notification benchmark: {args.subscriptions:,} subscriptions, SQLite, {mode}")
                roles: dict[str, tuple[int, int | None]] = {"cityos serve": (procs[0].pid, None)}
                if args.worker:
                    roles["cityos worker"] = (procs[1].pid, None)
                roles["the receivers"] = (os.getpid(), recv.tid)
                roles["the senders"] = (os.getpid(), threading.get_native_id())
                steady(base, h, recv, args, roles)
                for n in range(args.subscriptions):
                    _subscribe(c, base, h, {"type": "Sensor"}, f"{hook}/r/fan{n}")
                _wait_loaded(c, base, h, recv, hook)
                fanout(c, base, h, recv, args)
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=15)
            recv.close()
            if args.worker:  # each run makes a stream of its own (15 MB): not left on the shared server
                _delete_stream(f"BENCH_{run}")


def _delete_stream(name: str) -> None:
    import nats

    async def delete() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        try:
            await nc.jetstream().delete_stream(name)
        finally:
            await nc.close()

    try:
        asyncio.run(delete())
    except Exception as exc:  # the figures are printed already
        print(f"  (the NATS stream {name} was not deleted: {exc})")


if __name__ == "__main__":
    main()
