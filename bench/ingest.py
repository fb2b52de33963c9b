"""Benchmark of telemetry ingest, MQTT → committed in the data hub. Prints figures; asserts nothing.

Everything runs on this machine: a Mosquitto of the benchmark's own (QoS 1, ``max_queued_messages
0`` as docs/deployment.md advises), `cityos ingest` as its own process, the database (SQLite, then
a throwaway PostgreSQL database), and publisher processes. 50,000 devices are provisioned, each
feeding an AirQualityObserved entity with three measures (pm25, temperature, humidity).

Figures, per database:
  1. the two ceilings, measured in the same run:
     raw baseline: messages/s of plain DB-API writes of exactly the rows a message costs (one
     history row per measure, the entity's current state rewritten), in transactions of 2,000
     messages like the ingest's batches, and on SQLite a checkpoint at the end copying back what they
     left in the write-ahead log (inside the timing: the drains' checkpoints are in theirs); measured
     twice: first before any drain (rows of a tenant of their own, an empty region of the history's
     key, a small history), then again right after the last one-process drain, in the region the
     drains write (their tenant, after their times) of the history they grew, and deleted again; the
     ratios use the second, like for like (a batch's rows land all over the key of a grown history,
     which costs SQLite more a row), and print the first beside it in brackets;
     transport: messages/s that the MQTT client cityos uses (paho, MQTT 5, a persistent session,
     QoS 1, acknowledged by hand) takes from this Mosquitto and acknowledges, storing nothing, in a
     process of its own, draining the same number of queued messages as the drain below; with the
     CPU time it spends per message;
  2. drain: 200,000 messages wait in the broker for the ingest's persistent session, then
     `cityos ingest` starts; committed messages/s and measures/s from the first to the last commit.
     This is the ingest's capacity without publishers competing for the two cores;
  3. sustained: publishers send at an offered rate for a while with the ingest running; the
     committed rate, and the publish-to-commit latency (p50/p99) of a 2% sample whose commit is
     watched by polling the probe devices' entities every 20 ms (figures are pessimistic by up to
     the poll interval plus the poll's own time, which is printed);
  4. the peak resident memory (VmHWM) of the ingest process over the whole run;
  5. the CPU time the ingest process spends per message in the drain (user + system, from /proc),
     beside the transport's: a figure that a machine shared with other work hardly changes;
  6. with ``--processes N`` (N > 1): the drain again, with N `cityos ingest` processes sharing the
     broker's messages (``CITYOS_MQTT_SESSIONS=N``, docs/deployment.md), beside the one-process drain
     of the same run, with the load average while each drain ran and their CPU a message; with
     ``--nats`` also the JetStream drain by N processes pulling from the one durable consumer;
  7. the write path alone: the CPU a message of the one service call behind every transport
     (``cityos.iot.ingest``: decode, check, the hub's write of state and history) run in this process
     on batches of 2,000 messages, with no transport; with ``--nats`` again after the JetStream drain, into the
     history that drain wrote into (a bigger history costs SQLite more a row), so that the drain's CPU a
     message less this one is what the rest of the ingest process costs;
  8. on PostgreSQL, the database's side: the CPU a message of the server processes serving the
     ingest (in the drain) and the write path (read from /proc: the server runs on this machine), and
     the bytes the history takes a row (table and index), for docs/scaling.md's sizing.

  9. with ``--nats`` (the default): a nats-server of the bench's own (its own ports and store, JetStream,
     MQTT for the devices; the machine's NATS is left alone). Its ceiling: the same backlog published
     by the devices over MQTT to NATS, captured by the telemetry stream, taken by a JetStream pull
     consumer in batches of 2,000 and acknowledged a batch at a time (as cityos.iot.jetstream does),
     nothing stored, with its CPU a message and the server's; then the drain again through `cityos
     ingest` with ``CITYOS_INGEST_TRANSPORT=nats``, beside the MQTT drain of the same run.

The drain's ratio is printed against both ceilings and the lower of the two.

With ``--profile DIR``, py-spy (a dev tool: ``pip install py-spy``) samples the JetStream drain's ingest process
into DIR (speedscope JSON, every thread).

Run: .venv/bin/python bench/ingest.py [--quick] [--db sqlite|postgresql|both] [--processes N] [--no-nats]
     [--profile DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from context import free_port, fresh_database, pct  # bench/context.py

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.context.jsonld import core_term_map
from cityos.context.temporal.history import ensure_month_partitions
from cityos.core.timefmt import to_ms
from cityos.iot import service
from cityos.iot.schemas import DeviceCreate, DeviceGroupCreate, MeasureIn
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade
from cityos.tuning import freeze_startup_objects, tune_process

KEY = "bench-key"
CLIENT_ID = "bench-ingest"
BATCH = 2000
MEASURES = {
    "pm25": MeasureIn(attr="pm25", unitCode="GQ", min=0, max=1000),
    "t": MeasureIn(attr="temperature", unitCode="CEL", min=-40, max=60),
    "h": MeasureIn(attr="relativeHumidity", min=0, max=1),
}
SAMPLE_EVERY = 50  # every 50th message of a publisher comes from one of its probe devices
PROBES_PER_PUBLISHER = 100


def device_id(n: int) -> str:
    return f"B-{n:05d}"


def entity_id(n: int) -> str:
    return f"urn:ngsi-ld:AirQualityObserved:{device_id(n)}"


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def payload(n: int, ms: int) -> bytes:
    return b'{"pm25": %d, "t": %.1f, "h": %.2f, "observedAt": "%s"}' % (
        20 + n % 150,
        10 + (n % 200) / 10,
        0.3 + (n % 60) / 100,
        iso_ms(ms).encode(),
    )


# --- the broker and the ingest process ---------------------------------------------------------------


def start_broker(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"mosquitto ({binary}) did not start")


def start_nats(tmp: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    """A nats-server of the benchmark's own (its own ports and store under ``tmp``; the machine's NATS on
    4222 is left alone) with JetStream, speaking MQTT to the devices: the process, its NATS and MQTT ports."""
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port, mqtt_port = free_port(), free_port()
    conf = tmp / "nats.conf"
    conf.write_text(
        f"server_name: bench_ingest\nlisten: 127.0.0.1:{port}\n"
        f'jetstream {{ store_dir: "{tmp / "jetstream"}" }}\nmqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n'
    )
    log = (tmp / "nats.log").open("ab")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=log)
    for _ in range(200):
        try:
            for p in (port, mqtt_port):
                socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
            return proc, port, mqtt_port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"nats-server ({binary}) did not start: see {tmp / 'nats.log'}")


def start_ingest(
    db_url: str, port: int, log: Path, *, sessions: int = 1, nats_port: int | None = None
) -> subprocess.Popen[bytes]:
    """One `cityos ingest`; with ``nats_port`` on the JetStream transport (``port``: NATS's MQTT port)."""
    env = {}
    if nats_port is not None:
        env = {"CITYOS_INGEST_TRANSPORT": "nats", "CITYOS_INGEST_NATS_URL": f"nats://127.0.0.1:{nats_port}"}
    return start_ingests(db_url, port, [log], sessions=sessions, env=env)[0]


def start_ingests(
    db_url: str, port: int, logs: list[Path], *, sessions: int = 1, env: dict[str, str] | None = None
) -> list[subprocess.Popen[bytes]]:
    """`cityos ingest` processes, one per log, started together (each takes its own shared session)."""
    client_id = CLIENT_ID if sessions == 1 else f"{CLIENT_ID}-shared"
    env = dict(
        os.environ,
        CITYOS_DATABASE_URL=named(db_url, INGEST_APP),
        CITYOS_MQTT_CLIENT_ID=client_id,
        CITYOS_MQTT_SESSIONS=str(sessions),
        **(env or {}),
    )
    cmd = [sys.executable, "-m", "cityos.cli", "ingest", "--mqtt", f"mqtt://127.0.0.1:{port}"]
    offsets = [log.stat().st_size if log.exists() else 0 for log in logs]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab")) for log in logs]
    deadline = time.monotonic() + 120
    for proc, log, offset in zip(procs, logs, offsets, strict=True):
        while b"consuming telemetry" not in log.read_bytes()[offset:]:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"cityos ingest did not start: see {log}")
            time.sleep(0.1)
    return procs


INGEST_APP = "bench-ingest"  # the PostgreSQL application_name of the ingest processes' connections
WRITE_APP = "bench-write-path"


def named(db_url: str, app: str) -> str:
    """The database URL with connections named ``app`` on PostgreSQL (to find their server processes)."""
    return db_url if db_url.startswith("sqlite") else f"{db_url}?application_name={app}"


def backend_cpu(db: Database, app: str) -> dict[int, float]:
    """CPU seconds used so far by the PostgreSQL server processes of this database's connections named
    ``app`` (the server runs on this machine); empty on SQLite, where the writes run in the client."""
    if db.is_sqlite:
        return {}
    with db.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = :a"),
            {"a": app},
        ).scalars()
        found = list(pids)
    out = {}
    for pid in found:
        with contextlib.suppress(OSError):  # ended meanwhile
            out[pid] = cpu_seconds(pid)
    return out


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two looks (a process that appeared in between counts from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(60)


def end_sessions(port: int, client_ids: list[str]) -> None:
    """Make the broker forget these sessions, so that they queue nothing more in the later phases."""
    import paho.mqtt.client as paho

    for client_id in client_ids:
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        connected = threading.Event()
        c.on_connect = lambda *_a, connected=connected: connected.set()
        c.connect("127.0.0.1", port, clean_start=True)
        c.loop_start()
        if not connected.wait(10):
            raise SystemExit("the broker did not answer")
        c.disconnect()
        c.loop_stop()


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used: unlike a rate, hardly changed by a loaded machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM")


def current_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


# --- publishers (separate processes) -----------------------------------------------------------------


def publisher(
    port: int,
    first: int,
    count: int,
    rate: float | None,
    seconds: float | None,
    total: int | None,
    out: Any,
    base_ms: int | None = None,
) -> None:
    """Publish QoS 1 messages for devices first..first+count-1; ``rate`` None: as fast as acks allow.

    Messages carry their publish time as observedAt (ms), except in a drain (``total`` set), where
    message i is stamped ``base_ms`` (default: an hour ago) + i ms, so that none collides in the history.
    """
    import paho.mqtt.client as paho

    acked = [0]
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}", protocol=paho.MQTTv311)
    c.max_inflight_messages_set(1000)
    c.on_publish = lambda *_a: acked.__setitem__(0, acked[0] + 1)
    c.connect("127.0.0.1", port)
    c.loop_start()
    probes = range(first, first + PROBES_PER_PUBLISHER)
    regular = count - PROBES_PER_PUBLISHER
    base_ms = base_ms if base_ms is not None else int(time.time() * 1000) - 3_600_000
    sent = 0
    t0 = time.monotonic()
    while True:
        now = time.monotonic()
        if (seconds is not None and now - t0 >= seconds) or (total is not None and sent >= total):
            break
        due = 500 if rate is None else min(500, int(rate * (now - t0)) - sent)
        if total is not None:
            due = min(due, total - sent)
        if due <= 0 or sent - acked[0] > 5000:
            time.sleep(0.002)
            continue
        for _ in range(due):
            k = sent
            if k % SAMPLE_EVERY == 0:
                n = probes[(k // SAMPLE_EVERY) % PROBES_PER_PUBLISHER]
            else:
                n = first + PROBES_PER_PUBLISHER + k % regular
            ms = base_ms + k if total is not None else int(time.time() * 1000)
            c.publish(f"cityos/{KEY}/{device_id(n)}/attrs", payload(k, ms), qos=1)
            sent += 1
    elapsed = time.monotonic() - t0
    while acked[0] < sent:
        time.sleep(0.01)
    out.put((sent, elapsed, [entity_id(n) for n in probes]))  # before the disconnect, which paho may fail at
    c.disconnect()
    with contextlib.suppress(AttributeError):  # paho's loop thread may be gone already (seen with nats-server)
        c.loop_stop()


def run_publishers(
    port: int,
    devices: int,
    procs: int,
    *,
    rate: float | None = None,
    seconds: float | None = None,
    total: int = 0,
    base_ms: int | None = None,
) -> tuple[list[mp.Process], Any]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    share = devices // procs
    started = []
    for p in range(procs):
        args = (port, p * share, share, rate / procs if rate else None, seconds, total // procs or None, out, base_ms)
        proc = ctx.Process(target=publisher, args=args, daemon=True)
        proc.start()
        started.append(proc)
    return started, out


def collect(procs: list[mp.Process], out: Any) -> tuple[int, float, list[str]]:
    sent, elapsed, probes = 0, 0.0, []
    for _ in procs:
        s, e, p = out.get(timeout=600)
        sent, elapsed, probes = sent + s, max(elapsed, e), probes + p
    for proc in procs:
        proc.join(10)
    return sent, elapsed, probes


# --- what the database holds ---------------------------------------------------------------------------


PM25 = core_term_map().expand("pm25")


def committed_since(db: Database, since_ms: int) -> int:
    with db.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM context_attr_history WHERE tenant = 'default' AND attr = :a AND ts >= :t"),
            {"a": PM25, "t": since_ms},
        ).scalar_one()


class CommitWatch(threading.Thread):
    """Polls the probe devices' entities every 20 ms and notes when each probe message became visible.

    Each probe sends far less often than the poll runs, and every message it sends is newer than the
    one before, so each one shows as the entity's current pm25 for a while: reading the current
    state of the probes (200 primary-key lookups) sees every commit at a cost that does not grow with
    the history.
    """

    def __init__(self, db: Database, probes: list[str], since_ms: int) -> None:
        super().__init__(daemon=True)
        self.db, self.probes, self.since = db, probes, since_ms
        self.seen: dict[tuple[str, int], float] = {}
        self.poll_ms: list[float] = []  # how long each poll took: the resolution of the latency figures
        self.stop = threading.Event()

    def run(self) -> None:
        q = text(
            "SELECT id, attrs FROM context_entities WHERE tenant = 'default' "
            f"AND id IN ({', '.join(f':e{i}' for i in range(len(self.probes)))})"
        )
        params = {f"e{i}": e for i, e in enumerate(self.probes)}
        with self.db.connect() as conn:
            while not self.stop.wait(0.02):
                t0 = time.perf_counter()
                rows = conn.execute(q, params).all()
                conn.commit()  # end the read transaction so the next poll sees new commits
                now_ms = time.time() * 1000
                for e, attrs in rows:
                    doc = orjson.loads(attrs) if isinstance(attrs, str | bytes) else attrs
                    held = doc.get(PM25)
                    if not held:
                        continue
                    ts = to_ms(held[0]["observedAt"])
                    if ts >= self.since and (e, ts) not in self.seen:
                        self.seen[(e, ts)] = now_ms
                self.poll_ms.append((time.perf_counter() - t0) * 1000)

    def latencies_ms(self) -> list[float]:
        return [seen - ts for (_e, ts), seen in self.seen.items()]


# --- 1. raw baseline -------------------------------------------------------------------------------------


def raw_rate(db: Database, devices: int, messages: int, *, tenant: str = "raw", base_ms: int | None = None) -> float:
    """Messages/s of plain DB-API writes of a message's rows: three history rows, the entity rewritten.

    The history rows go to ``tenant``'s region of the history's key and are deleted afterwards (the entities
    keep the state written). ``"raw"`` (the first figure, before any drain): an empty region of the index;
    ``"default"`` with ``base_ms`` after the drain's times: the region the drains append to, at the size
    the history has then, as the drains write (the like-for-like ceiling)."""
    names = {k: core_term_map().expand(m.attr) for k, m in MEASURES.items()}
    pg = not db.is_sqlite
    mark, jsonb = ("%s", "::jsonb") if pg else ("?", "")
    ins_h = (
        "INSERT INTO context_attr_history (tenant, entity_id, attr, dataset_id, ts, instance, written_at) "
        f"VALUES ({mark}, {mark}, {mark}, '', {mark}, {mark}{jsonb}, {mark})"
    )
    upd_e = f"UPDATE context_entities SET attrs = {mark}{jsonb}, modified_at = {mark} WHERE pk = {mark}"
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pk, id, attrs FROM context_entities WHERE tenant = 'default' AND id LIKE :p"),
            {"p": "urn:ngsi-ld:AirQualityObserved:%"},
        ).all()
    entities = [(pk, eid, orjson.loads(a) if isinstance(a, str | bytes) else a) for pk, eid, a in rows][:devices]
    if base_ms is None:
        base_ms = int(time.time() * 1000) - 7_200_000
    t0 = time.perf_counter()
    for start in range(0, messages, BATCH):
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        hist, upd = [], []
        for k in range(start, min(messages, start + BATCH)):
            pk, eid, attrs = entities[k % len(entities)]
            ms = base_ms + k
            doc = orjson.loads(payload(k, ms))
            observed = doc.pop("observedAt")
            for short, value in doc.items():
                inst = {"type": "Property", "value": value, "observedAt": observed, "createdAt": now, "modifiedAt": now}
                attrs[names[short]] = [inst]
                hist.append((tenant, eid, names[short], ms, orjson.dumps(inst).decode(), now))
            upd.append((orjson.dumps(attrs).decode(), now, pk))
        with db.engine.begin() as conn:
            if pg:
                ensure_month_partitions(conn, {h[3] for h in hist})
            conn.exec_driver_sql(ins_h, hist)
            conn.exec_driver_sql(upd_e, upd)
    if db.is_sqlite:  # what these commits left in the log copied back, inside the timing: the drains' is too
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    elapsed = time.perf_counter() - t0
    with db.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM context_attr_history WHERE tenant = :t AND ts >= :lo AND ts < :hi"),
            {"t": tenant, "lo": base_ms, "hi": base_ms + messages},
        )
    return messages / elapsed


# --- 1b. the transport ceiling -----------------------------------------------------------------------------


TRANSPORT_ID = "bench-transport"


def _transport_client(port: int, expiry: int, on_message: Any = None) -> Any:
    """A client made as cityos.iot.mqtt makes its consumer: MQTT 5, manual acks, a session that outlives
    a disconnect (``expiry`` seconds), Receive Maximum of four batches."""
    import paho.mqtt.client as paho
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=TRANSPORT_ID, protocol=paho.MQTTv5, manual_ack=True)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    subscribed = threading.Event()
    c.on_connect = lambda cl, *_a: cl.subscribe([("cityos/+/+/attrs", 1)])
    c.on_subscribe = lambda *_a: subscribed.set()
    if on_message is not None:
        c.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    props.ReceiveMaximum = 4 * BATCH
    c.connect("127.0.0.1", port, keepalive=30, clean_start=False, properties=props)
    c.loop_start()
    if not subscribed.wait(120):  # a loaded machine is slow to answer
        raise SystemExit("the transport client got no SUBACK")
    return c


def transport_consumer(port: int, expected: int, out: Any) -> None:
    """Take ``expected`` queued messages and acknowledge each (nothing stored); report the rate and CPU."""
    got = [0]
    first: list[float] = []
    done = threading.Event()

    def on_message(cl: Any, _u: object, m: Any) -> None:
        if not first:
            first.append(time.monotonic())
        cl.ack(m.mid, m.qos)
        got[0] += 1
        if got[0] >= expected:
            done.set()

    cpu0 = time.process_time()
    c = _transport_client(port, 0, on_message)  # expiry 0: the session ends with this connection
    done.wait(600)
    last = time.monotonic()
    cpu = time.process_time() - cpu0
    c.disconnect()
    c.loop_stop()
    out.put((got[0], last - first[0] if first else float("nan"), cpu))


def transport_rate(
    port: int, broker_pid: int, devices: int, publishers: int, messages: int
) -> tuple[float, float, float]:
    """Messages/s and CPU µs a message of the transport alone, on a drain of ``messages`` queued ones; and
    the broker's CPU µs a message while it is drained."""
    c = _transport_client(port, 600)  # the session exists and holds what is published meanwhile
    c.disconnect()
    c.loop_stop()
    procs, out = run_publishers(port, devices, publishers, total=messages)
    sent, _, _ = collect(procs, out)
    ctx = mp.get_context("fork")
    res = ctx.Queue()
    broker0 = cpu_seconds(broker_pid)
    consumer = ctx.Process(target=transport_consumer, args=(port, sent, res), daemon=True)
    consumer.start()
    got, seconds, cpu = res.get(timeout=660)
    consumer.join(10)
    broker = cpu_seconds(broker_pid) - broker0
    if got < sent:
        print(f"  transport: only {got:,}/{sent:,} messages arrived", flush=True)
    return got / seconds, cpu / max(got, 1) * 1e6, broker / max(got, 1) * 1e6


# --- 1c. the JetStream ceiling ------------------------------------------------------------------------------


JS_TRANSPORT = "bench-transport"


async def _js(nats_port: int, work: Any) -> Any:
    import nats

    nc = await nats.connect(f"nats://127.0.0.1:{nats_port}")
    try:
        return await work(nc.jetstream(timeout=30))
    finally:
        await nc.close()


def js_prepare(nats_port: int, consumer: str | None) -> None:
    """The telemetry stream as cityos.iot.jetstream makes it, emptied, and ``consumer`` made anew on it."""
    import asyncio

    import nats.js.errors

    from cityos.iot.jetstream import consumer_config, stream_config

    async def work(js: Any) -> None:
        try:
            await js.stream_info(STREAM)
        except nats.js.errors.NotFoundError:
            await js.add_stream(stream_config(STREAM))
        await js.purge_stream(STREAM)
        for c in await js.consumers_info(STREAM):
            await js.delete_consumer(STREAM, c.name)
        if consumer is not None:
            await js.add_consumer(STREAM, consumer_config(consumer, 60))

    asyncio.run(_js(nats_port, work))


STREAM = "CITYOS_TELEMETRY"


def js_consumer(nats_port: int, expected: int, out: Any) -> None:
    """Pull ``expected`` messages from the stream in batches of BATCH and acknowledge each batch's
    together (nothing stored), as cityos.iot.jetstream does; report the rate and CPU."""
    import asyncio

    import nats

    async def run() -> tuple[int, float, float]:
        nc = await nats.connect(f"nats://127.0.0.1:{nats_port}")
        got, left, first = [0], [0], []
        replies: list[str] = []
        ended = asyncio.Event()

        async def on_msg(m: Any) -> None:
            if not m.reply:  # status: the request ended
                ended.set()
                return
            if not first:
                first.append(time.monotonic())
            replies.append(m.reply)
            got[0] += 1
            left[0] -= 1
            if left[0] <= 0:
                ended.set()

        inbox = nc.new_inbox()
        await nc.subscribe(inbox, cb=on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1)
        pull = f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{JS_TRANSPORT}"
        cpu0 = time.process_time()
        while got[0] < expected:
            left[0] = BATCH
            ended.clear()
            await nc.publish(pull, orjson.dumps({"batch": BATCH, "expires": 1_000_000_000}), reply=inbox)
            await ended.wait()
            for reply in replies:
                await nc.publish(reply)
            replies.clear()
        await nc.flush()
        last = time.monotonic()
        cpu = time.process_time() - cpu0
        await nc.close()
        return got[0], last - first[0] if first else float("nan"), cpu

    out.put(asyncio.run(run()))


def jetstream_rate(
    nats_port: int, mqtt_port: int, nats_pid: int, devices: int, publishers: int, messages: int
) -> tuple[float, float, float]:
    """Messages/s and CPU µs a message of a JetStream pull consumer, on a backlog of ``messages`` that the
    devices published over MQTT to NATS; and the nats-server's CPU µs a message while it is drained."""
    js_prepare(nats_port, JS_TRANSPORT)
    procs, out = run_publishers(mqtt_port, devices, publishers, total=messages)
    sent, _, _ = collect(procs, out)
    ctx = mp.get_context("fork")
    res = ctx.Queue()
    server0 = cpu_seconds(nats_pid)
    consumer = ctx.Process(target=js_consumer, args=(nats_port, sent, res), daemon=True)
    consumer.start()
    got, seconds, cpu = res.get(timeout=660)
    consumer.join(10)
    server = cpu_seconds(nats_pid) - server0
    js_prepare(nats_port, None)  # the ingest's consumer starts on an empty stream
    return got / seconds, cpu / max(got, 1) * 1e6, server / max(got, 1) * 1e6


# --- 7. the write path alone ------------------------------------------------------------------------------


def write_path(db: Database, devices: int, messages: int, base_ms: int | None = None) -> tuple[float, float, float]:
    """CPU µs a message of ``cityos.iot.ingest`` in this process (decode, check, the hub's write), on
    batches of ``BATCH``, of the PostgreSQL server process serving it (0 on SQLite), and the wall-clock µs a
    message (on SQLite it counts the writer's waits for the disk, which the CPU leaves out); message k observed at
    ``base_ms`` + k ms (default: 1.5 h ago, between the raw baseline's times and the drain's)."""
    from cityos.iot.directory import directory
    from cityos.iot.ingest import ingest
    from cityos.iot.models import Message

    own = Database(named(db.url, WRITE_APP))
    rt = Runtime(Settings(database_url=own.url), own, MemoryBus())
    try:
        directory(rt)  # every device in memory, as the ingest process loads them before it consumes
        # newer than the raw baseline's times (2 h ago), so that these observations become the entities' state as
        # the drain's do, and older than the drain's (1 h ago) and the sustained phases' (now)
        if base_ms is None:
            base_ms = int(time.time() * 1000) - 5_400_000
        now = iso_ms(int(time.time() * 1000))
        batches = [
            [
                Message("mqtt", KEY, device_id(k % devices), "json", payload(k, base_ms + k), now)
                for k in range(start, min(messages, start + BATCH))
            ]
            for start in range(0, messages, BATCH)
        ]
        ingest(rt, batches[0])  # the first batch opens connections and creates the month's partition
        tune_process(ingest=True)  # the collector as `cityos ingest` sets it, with what is held now out of its reach
        freeze_startup_objects()
        db_before = backend_cpu(db, WRITE_APP)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for batch in batches[1:]:
            ingest(rt, batch)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        db_cpu = cpu_since(db_before, backend_cpu(db, WRITE_APP))
        n = messages - len(batches[0])
        return cpu / n * 1e6, db_cpu / n * 1e6, wall / n * 1e6
    finally:
        rt.bus.close()
        own.dispose()


def history_bytes_per_row(db: Database) -> float:
    """PostgreSQL: bytes the history takes a row, its partitions' tables and indexes together."""
    with db.connect() as conn:
        size = conn.execute(
            text("SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('context_attr_history')")
        ).scalar_one()
        rows = conn.execute(text("SELECT count(*) FROM context_attr_history")).scalar_one()
    return float(size) / max(rows, 1)


# --- one database ---------------------------------------------------------------------------------------


def provision(db: Database, devices: int) -> float:
    rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
    service.create_group(rt, DeviceGroupCreate(apikey=KEY, name="bench", department="bench"))
    t0 = time.perf_counter()
    for start in range(0, devices, 1000):
        specs = [
            DeviceCreate(
                device_id=device_id(n),
                apikey=KEY,
                device_type="air-quality-station",
                entity_type="AirQualityObserved",
                measures=MEASURES,
                timeout_s=3600,
            )
            for n in range(start, min(devices, start + 1000))
        ]
        service.provision(rt, specs)
    rt.bus.close()
    return devices / (time.perf_counter() - t0)


def wait_committed(db: Database, since_ms: int, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        got = committed_since(db, since_ms)
        if got >= expected or time.monotonic() > deadline:
            return got
        time.sleep(1.0)


def bench_db(kind: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    r: dict[str, Any] = {"db": kind}
    broker, port = start_broker(tmp)
    (tmp / f"nats-{kind}").mkdir(exist_ok=True)
    try:
        nats_server, nats_port, nats_mqtt = start_nats(tmp / f"nats-{kind}") if args.nats else (None, 0, 0)
    except BaseException:
        broker.terminate()
        raise
    db, drop = fresh_database(kind, tmp)
    log = tmp / f"ingest-{kind}.log"
    ingest: subprocess.Popen[bytes] | None = None
    try:
        upgrade(db)
        print(f"[{kind}] provisioning {args.devices:,} devices …", flush=True)
        r["provision_per_s"] = provision(db, args.devices)
        print(f"[{kind}] raw baseline …", flush=True)
        r["raw_msgs"] = raw_rate(db, args.devices, min(args.drain, 100_000))
        print(f"[{kind}] transport ceiling …", flush=True)
        # before the ingest's session exists, so that the broker queues these messages for this client only
        r["transport_msgs"], r["transport_cpu_us"], r["broker_cpu_us"] = transport_rate(
            port, broker.pid, args.devices, args.publishers, args.drain
        )
        if nats_server is not None:
            print(f"[{kind}] JetStream ceiling …", flush=True)
            r["js_msgs"], r["js_cpu_us"], r["js_server_cpu_us"] = jetstream_rate(
                nats_port, nats_mqtt, nats_server.pid, args.devices, args.publishers, args.drain
            )
        r["load"] = os.getloadavg()
        print(f"[{kind}] write path alone …", flush=True)
        r["write_cpu_us"], r["write_db_cpu_us"], r["write_wall_us"] = write_path(
            db, args.devices, min(args.drain, 100_000)
        )

        # 2. drain: the session exists (first start), the ingest is stopped while messages queue
        ingest = start_ingest(db.url, port, log)
        time.sleep(1.0)
        r["idle_rss_mb"] = current_rss_mb(ingest.pid)
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(30)
        print(f"[{kind}] queueing {args.drain:,} messages in the broker …", flush=True)
        drain_base = int(time.time() * 1000) - 3_600_000
        since = drain_base - 1000
        procs, out = run_publishers(port, args.devices, args.publishers, total=args.drain, base_ms=drain_base)
        sent, _, _ = collect(procs, out)
        ingest = start_ingest(db.url, port, log)
        r.update(measure_drain(db, ingest, since, sent, broker.pid, "drain"))
        print(f"[{kind}] drain: {r['drain_committed']:,}/{sent:,} in {r['drain_seconds']:.1f} s", flush=True)
        drain_rss = peak_rss_mb(ingest.pid)
        stop([ingest])
        if nats_server is not None:  # the same drain on the JetStream transport, stamped after every other drain
            r.update(
                nats_drain(kind, db, nats_port, nats_mqtt, nats_server.pid, args, tmp, drain_base + 2 * args.drain)
            )
        # 1'. the raw write again under the last drain's conditions: the tenant the drains write, appended after
        # their times into the history they grew (the first figure wrote an empty region of the index into a
        # smaller history, which costs SQLite far less a row); stamped after that drain's, before the next phase's
        print(f"[{kind}] raw baseline, like the drains …", flush=True)
        r["raw_like_msgs"] = raw_rate(
            db, args.devices, min(args.drain, 100_000), tenant="default",
            base_ms=drain_base + (3 if nats_server is not None else 1) * args.drain,
        )  # fmt: skip
        r["raw_like_load"] = os.getloadavg()[0]
        if nats_server is not None:
            # the write path again, into the history the JetStream drain wrote into (each drain adds to it, and a
            # bigger history costs SQLite more a row): the drain's CPU a message less this is what the rest of the
            # ingest process (transport, hand-off, health, threads) costs; stamped after the raw write's
            print(f"[{kind}] write path alone, again …", flush=True)
            r["write_after_cpu_us"], r["write_after_db_cpu_us"], r["write_after_wall_us"] = write_path(
                db, args.devices, min(args.drain, 100_000), base_ms=drain_base + 4 * args.drain
            )
        ingest = start_ingest(db.url, port, log)
        if args.processes > 1:  # 6. the same drain, shared by N processes, stamped after every drain before it
            drain_rss = max(drain_rss, peak_rss_mb(ingest.pid))
            stop([ingest])
            end_sessions(port, [CLIENT_ID])  # it would queue the shared drain's messages too
            r["shared"] = shared_drain(kind, db, port, args, tmp, drain_base + 5 * args.drain)
            if nats_server is not None:  # the same on JetStream, stamped after it
                r["js_shared"] = nats_shared_drain(
                    kind, db, nats_port, nats_mqtt, args, tmp, drain_base + 6 * args.drain
                )
            ingest = start_ingest(db.url, port, log)

        # 3. sustained at offered rates
        r["sustained"] = []
        for rate in args.rates:
            since = int(time.time() * 1000)
            procs, out = run_publishers(port, args.devices, args.publishers, rate=rate, seconds=args.seconds)
            probes = [entity_id(p * (args.devices // args.publishers) + i)
                      for p in range(args.publishers) for i in range(PROBES_PER_PUBLISHER)]  # fmt: skip
            watch = CommitWatch(db, probes, since)
            watch.start()
            t0 = time.time()
            sent, elapsed, _ = collect(procs, out)
            got = wait_committed(db, since, sent, 120)
            time.sleep(0.2)
            watch.stop.set()
            watch.join()
            lat = watch.latencies_ms()
            done_at = max(watch.seen.values(), default=time.time() * 1000) / 1000  # the last commit seen
            r["sustained"].append(
                {
                    "offered": rate,
                    "published": sent / elapsed,
                    "sent": sent,
                    "committed": got,
                    "committed_rate": got / (done_at - t0),
                    "samples": len(lat),
                    "p50": statistics.median(lat) if lat else float("nan"),
                    "p99": pct(lat, 99) if lat else float("nan"),
                    "poll_ms": statistics.median(watch.poll_ms) if watch.poll_ms else float("nan"),
                }
            )
            print(f"[{kind}] offered {rate:,}/s: {r['sustained'][-1]}", flush=True)
        r["rss_mb"] = max(drain_rss, peak_rss_mb(ingest.pid))
        r["history_row_bytes"] = None if db.is_sqlite else history_bytes_per_row(db)
        r["load_end"] = os.getloadavg()
        return r
    finally:
        if ingest is not None and ingest.poll() is None:
            ingest.send_signal(signal.SIGTERM)
            ingest.wait(30)
        broker.terminate()
        broker.wait(5)
        if nats_server is not None:
            nats_server.terminate()
            nats_server.wait(10)
        drop()


def measure_drain(
    db: Database, ingest: subprocess.Popen[bytes], since: int, sent: int, broker_pid: int, name: str
) -> dict[str, Any]:
    """Committed messages/s of a started ingest draining ``sent`` queued messages stamped from ``since``, from
    the first commit to the last; its CPU a message, the database server's and the broker's."""
    load_before = os.getloadavg()[0]
    t_start = time.monotonic()
    cpu_start = cpu_seconds(ingest.pid)  # started: the device directory is loaded already
    db_start = backend_cpu(db, INGEST_APP)
    broker_start = cpu_seconds(broker_pid)
    while committed_since(db, since) == 0:
        time.sleep(0.05)
    first = time.monotonic()
    got = wait_committed(db, since, sent, 600)
    last = time.monotonic()
    n = max(got, 1)
    return {
        f"{name}_cpu_us": (cpu_seconds(ingest.pid) - cpu_start) / n * 1e6,
        f"{name}_db_cpu_us": cpu_since(db_start, backend_cpu(db, INGEST_APP)) / n * 1e6,
        f"{name}_broker_cpu_us": (cpu_seconds(broker_pid) - broker_start) / n * 1e6,
        f"{name}_sent": sent,
        f"{name}_committed": got,
        f"{name}_msgs": got / (last - first),
        f"{name}_seconds": last - first,
        f"{name}_startup_s": first - t_start,
        f"{name}_load": (load_before, os.getloadavg()[0]),
    }


def nats_drain(
    kind: str, db: Database, nats_port: int, nats_mqtt: int, nats_pid: int, args: argparse.Namespace, tmp: Path,
    base_ms: int,
) -> dict[str, Any]:  # fmt: skip
    """The drain on the JetStream transport: the devices publish the backlog over MQTT to NATS while no
    ingest runs (its durable consumer made by a first start), then `cityos ingest` with
    CITYOS_INGEST_TRANSPORT=nats drains it."""
    log = tmp / f"ingest-{kind}-nats.log"
    js_prepare(nats_port, None)
    stop([start_ingest(db.url, nats_mqtt, log, nats_port=nats_port)])  # the stream and the durable consumer
    print(f"[{kind}] queueing {args.drain:,} messages in JetStream (over MQTT) …", flush=True)
    procs, out = run_publishers(nats_mqtt, args.devices, args.publishers, total=args.drain, base_ms=base_ms)
    sent, _, _ = collect(procs, out)
    ingest = start_ingest(db.url, nats_mqtt, log, nats_port=nats_port)
    spy = profile(ingest.pid, args.profile, f"js-drain-{kind}")
    try:
        r = measure_drain(db, ingest, base_ms - 1, sent, nats_pid, "js_drain")
        r["js_drain_rss_mb"] = peak_rss_mb(ingest.pid)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            spy.wait(60)
        stop([ingest])
    print(
        f"[{kind}] JetStream drain: {r['js_drain_committed']:,}/{sent:,} in {r['js_drain_seconds']:.1f} s", flush=True
    )
    return r


def profile(pid: int, folder: str | None, name: str) -> subprocess.Popen[bytes] | None:
    """With ``--profile DIR``: py-spy (a dev tool, not a dependency) samples the process until told to stop,
    into DIR/NAME.speedscope.json (every thread; Python frames only: native ones slow the process several times)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if folder is None:
        return None
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    out = Path(folder) / f"{name}.speedscope.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [spy, "record", "--pid", str(pid), "--rate", "250", "--threads", "--format",
           "speedscope", "--output", str(out)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=(Path(folder) / f"{name}.log").open("wb"))


def shared_drain(
    kind: str, db: Database, port: int, args: argparse.Namespace, tmp: Path, base_ms: int
) -> dict[str, Any]:
    """The drain with ``args.processes`` ingest processes sharing the messages: their sessions are made
    (started, then stopped), the messages queued (the broker shares them out over the sessions in turn),
    then the processes started together; committed messages/s from the first to the last commit."""
    n = args.processes
    logs = [tmp / f"ingest-{kind}-shared-{i}.log" for i in range(1, n + 1)]
    stop(start_ingests(db.url, port, logs, sessions=n))
    print(f"[{kind}] queueing {args.drain:,} messages for {n} shared sessions …", flush=True)
    procs, out = run_publishers(port, args.devices, args.publishers, total=args.drain, base_ms=base_ms)
    sent, _, _ = collect(procs, out)
    ingests = start_ingests(db.url, port, logs, sessions=n)
    try:
        return measure_group(kind, db, ingests, base_ms - 1, sent)
    finally:
        stop(ingests)
        end_sessions(port, [f"{CLIENT_ID}-shared-{i}" for i in range(1, n + 1)])


def nats_shared_drain(
    kind: str, db: Database, nats_port: int, nats_mqtt: int, args: argparse.Namespace, tmp: Path, base_ms: int
) -> dict[str, Any]:
    """The JetStream drain with ``args.processes`` ingest processes pulling from the one durable consumer
    (made by a first start on an emptied stream), the backlog published while none runs."""
    n = args.processes
    logs = [tmp / f"ingest-{kind}-nats-shared-{i}.log" for i in range(1, n + 1)]
    env = {"CITYOS_INGEST_TRANSPORT": "nats", "CITYOS_INGEST_NATS_URL": f"nats://127.0.0.1:{nats_port}"}
    js_prepare(nats_port, None)
    stop(start_ingests(db.url, nats_mqtt, logs[:1], env=env))  # the stream and the durable consumer
    print(f"[{kind}] queueing {args.drain:,} messages in JetStream for {n} processes …", flush=True)
    procs, out = run_publishers(nats_mqtt, args.devices, args.publishers, total=args.drain, base_ms=base_ms)
    sent, _, _ = collect(procs, out)
    ingests = start_ingests(db.url, nats_mqtt, logs, env=env)
    try:
        return measure_group(kind, db, ingests, base_ms - 1, sent)
    finally:
        stop(ingests)


def measure_group(
    kind: str, db: Database, ingests: list[subprocess.Popen[bytes]], since: int, sent: int
) -> dict[str, Any]:
    """Committed messages/s of started ingest processes draining ``sent`` messages stamped from ``since``,
    from the first commit to the last; their CPU a message and the database server's."""
    n = len(ingests)
    load_before = os.getloadavg()[0]
    cpu_start = sum(cpu_seconds(p.pid) for p in ingests)
    db_start = backend_cpu(db, INGEST_APP)
    while committed_since(db, since) == 0:
        time.sleep(0.05)
    first = time.monotonic()
    got = wait_committed(db, since, sent, 600)
    last = time.monotonic()
    cpu = sum(cpu_seconds(p.pid) for p in ingests) - cpu_start
    db_cpu = cpu_since(db_start, backend_cpu(db, INGEST_APP))
    print(f"[{kind}] drain by {n} processes: {got:,}/{sent:,} in {last - first:.1f} s", flush=True)
    rss = [peak_rss_mb(p.pid) for p in ingests]
    return {"processes": n, "sent": sent, "committed": got, "msgs": got / (last - first), "rss_mb": rss,
            "load": (load_before, os.getloadavg()[0]), "cpu_us": cpu / max(got, 1) * 1e6,
            "db_cpu_us": db_cpu / max(got, 1) * 1e6}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="5,000 devices, 20,000 messages, 8 s phases")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--devices", type=int, default=50_000)
    ap.add_argument("--drain", type=int, default=200_000, help="messages queued before the ingest starts")
    ap.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[2000, 5000])
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each sustained phase")
    ap.add_argument("--publishers", type=int, default=2, help="publisher processes")
    ap.add_argument(
        "--processes", type=int, default=1, help="also drain with this many ingest processes sharing the messages"
    )
    ap.add_argument(
        "--nats",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the JetStream ceiling and drain (a nats-server of the bench's own, devices on its MQTT)",
    )
    ap.add_argument("--profile", metavar="DIR", help="keep a py-spy profile of the JetStream drain's ingest process")
    args = ap.parse_args()
    if args.quick:
        args.devices, args.drain, args.seconds = 5000, 20_000, 8.0
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    with tempfile.TemporaryDirectory(prefix="cityos-bench-ingest-") as tmp:
        for kind in kinds:
            results.append(bench_db(kind, args, Path(tmp)))
    print(f"\ncityos ingest, MQTT → committed; {args.devices:,} devices, 3 measures per message, "
          f"{os.cpu_count()} cores (broker, ingest, database and publishers together)")  # fmt: skip
    for r in results:
        print(f"\n[{r['db']}]")
        print(f"  provisioning                 {r['provision_per_s']:>9,.0f} devices/s")
        # ceiling 1 is the raw write under the drains' conditions; the first figure is printed beside it
        raw, raw_old = r["raw_like_msgs"], r["raw_msgs"]
        ceiling, ceiling_old = min(raw, r["transport_msgs"]), min(raw_old, r["transport_msgs"])
        print(
            f"  raw DB-API, like the drains  {raw:>9,.0f} msg/s  (ceiling 1: the database; the drains' tenant, "
            f"appended into the history the last drain grew; load {r['raw_like_load']:.1f}; the ratios use this)"
        )
        print(
            f"  raw DB-API, first figure     {raw_old:>9,.0f} msg/s  (before the drains: an empty region of the "
            "history's index, a smaller history; ratios to it in brackets)"
        )
        print(
            f"  transport alone (paho QoS 1) {r['transport_msgs']:>9,.0f} msg/s  (ceiling 2: the MQTT client; "
            f"{r['transport_cpu_us']:.0f} µs CPU a message; Mosquitto's {r['broker_cpu_us']:.0f} µs)"
        )
        if "js_msgs" in r:
            print(
                f"  transport alone (JetStream)  {r['js_msgs']:>9,.0f} msg/s  (ceiling 2': a pull consumer, batches "
                f"of {BATCH:,}, one write of acks a batch; {r['js_cpu_us']:.0f} µs CPU a message, "
                f"{r['transport_cpu_us'] / r['js_cpu_us']:.1f}x less than paho; nats-server's "
                f"{r['js_server_cpu_us']:.0f} µs)"
            )
        print(
            f"  drain (capacity)             {r['drain_msgs']:>9,.0f} msg/s  {3 * r['drain_msgs']:>9,.0f} measures/s  "
            f"ratio to raw {r['drain_msgs'] / raw:.2f} ({r['drain_msgs'] / raw_old:.2f}), to transport "
            f"{r['drain_msgs'] / r['transport_msgs']:.2f}, to the lower ceiling {r['drain_msgs'] / ceiling:.2f} "
            f"({r['drain_msgs'] / ceiling_old:.2f})  "
            f"({r['drain_committed']:,}/{r['drain_sent']:,} stored; first commit after {r['drain_startup_s']:.1f} s; "
            f"load {r['drain_load'][0]:.1f} → {r['drain_load'][1]:.1f})"
        )
        if "js_drain_msgs" in r:
            js = r["js_drain_msgs"]
            js_ceiling, js_ceiling_old = min(raw, r["js_msgs"]), min(raw_old, r["js_msgs"])
            print(
                f"  drain on JetStream           {js:>9,.0f} msg/s  "
                f"{3 * js:>9,.0f} measures/s  ratio to the MQTT drain "
                f"{js / r['drain_msgs']:.2f}, to raw {js / raw:.2f} ({js / raw_old:.2f}), to "
                f"JetStream {js / r['js_msgs']:.2f}, to the lower of those "
                f"{js / js_ceiling:.2f} ({js / js_ceiling_old:.2f})  "
                f"({r['js_drain_committed']:,}/{r['js_drain_sent']:,} stored; "
                f"load {r['js_drain_load'][0]:.1f} → {r['js_drain_load'][1]:.1f})"
            )
            print(
                f"  CPU a message on JetStream   {r['js_drain_cpu_us']:>9,.0f} µs in the ingest process (MQTT drain: "
                f"{r['drain_cpu_us']:.0f} µs, ratio {r['js_drain_cpu_us'] / r['drain_cpu_us']:.2f}); "
                f"nats-server's {r['js_drain_broker_cpu_us']:.0f} µs (Mosquitto's in the MQTT drain: "
                f"{r['drain_broker_cpu_us']:.0f} µs)"
                + (f"; the database server's {r['js_drain_db_cpu_us']:.0f} µs" if r["db"] == "postgresql" else "")
                + f"; peak RSS {r['js_drain_rss_mb']:,.0f} MB"
            )
        per_core = 1e6 / r["drain_cpu_us"]
        print(
            f"  CPU a message                {r['drain_cpu_us']:>9,.0f} µs in the ingest process, of which the "
            f"transport alone takes {r['transport_cpu_us']:.0f} µs: one core's worth is {per_core:,.0f} msg/s"
            + (f"; the database server's {r['drain_db_cpu_us']:.0f} µs" if r["db"] == "postgresql" else "")
        )
        print(
            f"  write path alone             {r['write_cpu_us']:>9,.0f} µs CPU a message in process "
            f"({r['write_wall_us']:,.0f} µs wall; cityos.iot.ingest on batches of {BATCH:,}, no transport)"
            + (f"; the database server's {r['write_db_cpu_us']:.0f} µs" if r["db"] == "postgresql" else "")
        )
        if "write_after_cpu_us" in r:
            print(
                f"  write path, after the drains {r['write_after_cpu_us']:>9,.0f} µs CPU a message in process "
                f"({r['write_after_wall_us']:,.0f} µs wall), into "
                "the history the JetStream drain wrote into"
                + (f"; the database server's {r['write_after_db_cpu_us']:.0f} µs" if r["db"] == "postgresql" else "")
                + f"; the rest of the ingest process on JetStream: "
                f"{r['js_drain_cpu_us'] - r['write_after_cpu_us']:.0f} µs"
            )
        if "shared" in r:
            sh = r["shared"]
            print(
                f"  drain, {sh['processes']} ingest processes  {sh['msgs']:>9,.0f} msg/s  "
                f"{3 * sh['msgs']:>9,.0f} measures/s  "
                f"ratio to 1 process {sh['msgs'] / r['drain_msgs']:.2f}  ({sh['committed']:,}/{sh['sent']:,} stored; "
                f"load {sh['load'][0]:.1f} → {sh['load'][1]:.1f}; peak RSS "
                f"{', '.join(f'{m:,.0f}' for m in sh['rss_mb'])} MB; CPU a message {sh['cpu_us']:.0f} µs in the "
                f"ingest processes"
                + (f", {sh['db_cpu_us']:.0f} µs in the database server)" if r["db"] == "postgresql" else ")")
            )
        if "js_shared" in r:
            sh = r["js_shared"]
            print(
                f"  JetStream, {sh['processes']} processes     {sh['msgs']:>9,.0f} msg/s  "
                f"{3 * sh['msgs']:>9,.0f} measures/s  ratio to 1 process on JetStream "
                f"{sh['msgs'] / r['js_drain_msgs']:.2f}  ({sh['committed']:,}/{sh['sent']:,} stored; "
                f"load {sh['load'][0]:.1f} → {sh['load'][1]:.1f}; peak RSS "
                f"{', '.join(f'{m:,.0f}' for m in sh['rss_mb'])} MB; CPU a message {sh['cpu_us']:.0f} µs in the "
                f"ingest processes"
                + (f", {sh['db_cpu_us']:.0f} µs in the database server)" if r["db"] == "postgresql" else ")")
            )
        for s in r["sustained"]:
            print(
                f"  offered {s['offered']:>6,}/s: published {s['published']:>7,.0f}/s, committed "
                f"{s['committed']:,}/{s['sent']:,} at {s['committed_rate']:,.0f}/s; publish→commit "
                f"p50 {s['p50']:.0f} ms p99 {s['p99']:.0f} ms ({s['samples']} samples; "
                f"median poll {s['poll_ms']:.1f} ms)"
            )
        print(f"  load average at the ceilings {r['load'][0]:.1f} (1 min), at the end {r['load_end'][0]:.1f}")
        print(f"  ingest process RSS           {r['idle_rss_mb']:>9,.0f} MB started, {r['rss_mb']:,.0f} MB peak")
        if r["history_row_bytes"] is not None:
            print(f"  history on disk              {r['history_row_bytes']:>9,.0f} bytes a row (table and indexes)")


if __name__ == "__main__":
    main()
