"""The district sensor simulator: the demo's devices send readings at a steady overall rate.

Readings follow the daily patterns of :mod:`cityos.demo.patterns` for the chosen scenario; a small
share of messages is spoiled on purpose (each kind of bad input the ingest rejects) so that dead
letters show. Messages go either straight to this process's batching writer (the demo, no broker
needed) or to an MQTT broker on the topics a real device uses.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

import orjson

from cityos.core.timefmt import now_iso
from cityos.demo.devices import DemoDevice
from cityos.demo.patterns import DEVICE_PROFILES, SCENARIOS, bad_message, reading
from cityos.iot import Message, Outcome
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
UNKNOWN_APIKEY = "demo-no-such-group"


@dataclass(frozen=True)
class Telemetry:
    """One message as a device would send it."""

    apikey: str
    device_id: str
    fmt: str  # "json" or "ul"
    payload: bytes
    spoiled: str | None = None  # the kind of bad input, when spoiled on purpose


@dataclass
class SimStats:
    sent: int = 0
    spoiled: int = 0
    accepted: int = 0  # known only when the outcome comes back (in-process)
    rejected: int = 0
    acked: int = 0  # acknowledged by the broker (MQTT)
    rate: float = 0.0  # messages/s over the last few seconds
    failed: int = 0  # messages the sink could not hand on (the store or the broker failed): not stored
    stalls: int = 0  # times the sink waited a whole ``stall_warning`` for the store to take a batch
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Sink(Protocol):
    stats: SimStats

    def send(self, batch: list[Telemetry]) -> None: ...
    def close(self) -> None: ...


# --- readings and their encoding ------------------------------------------------------------------


def encode(protocol: str, values: dict[str, Any], observed_at: str | None = None) -> bytes:
    """A payload in the device's protocol: a JSON object, or UltraLight 2.0 ``name|value|…``."""
    if protocol == "json":
        doc = {**values, "observedAt": observed_at} if observed_at else values
        return orjson.dumps(doc)
    pairs = "|".join(f"{k}|{_ul_text(v)}" for k, v in values.items())
    return f"{observed_at}|{pairs}".encode() if observed_at else pairs.encode()


def _ul_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def spoil(kind: str, device: DemoDevice, values: dict[str, Any], rng: random.Random) -> Telemetry:
    """The message ``device`` would send, spoiled in the way ``kind`` names (see patterns.bad_message)."""
    values = dict(values)
    apikey, device_id, observed = device.apikey, device.device_id, None
    if kind == "out-of-range":
        ranged = [(n, m) for n, m in DEVICE_PROFILES[device.entity_type].measures.items() if m.max is not None]
        name, m = rng.choice(ranged)
        values[name] = (m.max or 0) + 10 * (abs(m.max or 0) + 1)
    elif kind == "unknown-measure":
        values["zz"] = 1
    elif kind == "future-timestamp":
        observed = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif kind == "unknown-device":
        device_id = f"HP-XX-{rng.randint(90000, 99999)}"
    elif kind == "wrong-apikey":
        apikey = UNKNOWN_APIKEY
    payload = encode(device.protocol, values, observed)
    if kind == "unparseable":
        payload = payload[: len(payload) // 2] if device.protocol == "json" else b"\xff" + payload
    return Telemetry(apikey, device_id, device.protocol, payload, kind)


# --- the simulator ---------------------------------------------------------------------------------


class Simulator:
    """Sends ``rate`` messages a second, visiting the devices in turn (in a shuffled order).

    The patterns' clock starts at ``start`` (UTC; default now) and runs ``speed`` times faster than
    the wall clock, so a demo can show an evening in minutes. Messages carry no timestamp: the
    ingest stamps them with their receipt time, as most real terminals do. Every device reports once
    per ``len(devices) / rate`` seconds whatever its profile's period, so counts over the reporting
    period (people through a gate) are scaled to that interval.
    """

    def __init__(
        self,
        devices: list[DemoDevice],
        sink: Sink,
        *,
        rate: float = 200.0,
        scenario: str = "normal",
        bad_share: float = 0.005,
        start: datetime | None = None,
        speed: float = 1.0,
        seed: int | None = None,
    ) -> None:
        if not devices:
            raise ValueError("no devices to simulate: provision the demo district's devices first")
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
        if rate <= 0:
            raise ValueError("the rate must be above 0 messages/s")
        self.rng = random.Random(seed)
        self.devices = list(devices)
        self.rng.shuffle(self.devices)
        self.sink, self.rate, self.scenario = sink, rate, scenario
        self.bad_share, self.speed = bad_share, speed
        self._wall0 = time.time()
        self._start = start or datetime.now(UTC)
        self._next_device = 0
        self.stats = sink.stats
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pattern_time(self) -> datetime:
        """The time of day the patterns are following now."""
        return self._start + timedelta(seconds=(time.time() - self._wall0) * self.speed)

    def next_message(self) -> Telemetry:
        device = self.devices[self._next_device % len(self.devices)]
        self._next_device += 1
        values = reading(device.entity_type, device.device_id, self.pattern_time(), self.scenario, self.rng,
                         hot_spot=device.hot_spot, spot=device.unit,
                         interval_s=len(self.devices) / self.rate)  # fmt: skip
        if self.rng.random() < self.bad_share:
            return spoil(bad_message(self.rng)[0], device, values, self.rng)
        return Telemetry(device.apikey, device.device_id, device.protocol, encode(device.protocol, values))

    def run(self, *, duration: float | None = None, count: int | None = None) -> SimStats:
        """Send until stopped, ``duration`` seconds have passed or ``count`` messages are sent."""
        began = t0 = time.monotonic()  # t0: when sending at the rate would have begun (moves on after a stall)
        window: list[tuple[float, int]] = [(t0, 0)]
        sent = 0
        while not self._stop.is_set():
            now = time.monotonic()
            if (duration is not None and now - began >= duration) or (count is not None and sent >= count):
                break
            due = int(self.rate * (now - t0)) - sent
            if count is not None:
                due = min(due, count - sent)
            if due <= 0:
                self._stop.wait(min(0.05, 1 / self.rate))
                continue
            if due > self.rate:  # the sink fell behind by over a second: drop the backlog, do not burst
                t0 += (due - self.rate) / self.rate
                due = int(self.rate)
            batch = [self.next_message() for _ in range(due)]
            try:
                self.sink.send(batch)
            except Exception:  # a failed send must not end the run (the thread would die, the status line freeze)
                log.exception("the simulator's batch of %d was not handed on: going on with the next", due)
                with self.stats.lock:
                    self.stats.failed += due
            sent += due
            window = [*window[-20:], (now, sent)]
            with self.stats.lock:
                self.stats.sent = sent
                self.stats.spoiled += sum(1 for m in batch if m.spoiled)
                (w0, n0) = next(((t, n) for t, n in window if now - t <= 5), window[0])
                self.stats.rate = (sent - n0) / (now - w0) if now > w0 else 0.0
        return self.stats

    def start(self, **limits: Any) -> None:
        self._thread = threading.Thread(target=self.run, kwargs=limits, name="simulator", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Until the run ends (a limit was reached) or is stopped; Ctrl-C gets through."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sink.close()


# --- where the messages go -----------------------------------------------------------------------


class LocalSink:
    """Hands messages to this process's batching writer, as a transport would; waits when more than
    ``max_pending`` batches are unstored, so the simulator never outruns the store.

    However long the store takes (the writer retries a failed batch until it is stored), the sink waits
    for it, saying so every ``stall_warning`` seconds: it once gave up after 60 s with an exception that
    ended the simulator's thread, so a loaded machine's demo stopped sending for good.
    """

    def __init__(self, rt: Runtime, *, max_pending: int = 4, stall_warning: float = 60.0) -> None:
        from cityos.iot import telemetry_writer

        self._writer = telemetry_writer(rt)
        self.stats = SimStats()
        self._pending: list[Future[list[Outcome]]] = []
        self._max_pending = max_pending
        self._stall_warning = stall_warning

    def send(self, batch: list[Telemetry]) -> None:
        now = now_iso()
        msgs = [Message("local", t.apikey, t.device_id, t.fmt, t.payload, now) for t in batch]  # type: ignore[arg-type]
        fut = self._writer.submit_many(msgs)
        fut.add_done_callback(partial(self._count, n=len(msgs)))
        self._pending = [f for f in self._pending if not f.done()] + [fut]
        while len(self._pending) > self._max_pending:
            self._settle(self._pending.pop(0))

    def _settle(self, fut: Future[list[Outcome]]) -> None:
        """Wait until the store has taken the batch, however long that takes."""
        while not wait([fut], timeout=self._stall_warning).done:
            with self.stats.lock:
                self.stats.stalls += 1
            log.warning("the store has not taken the simulator's batch for %.0f s: still waiting", self._stall_warning)

    def _count(self, fut: Future[list[Outcome]], n: int) -> None:
        if fut.exception() is not None:
            log.error("the simulator's batch of %d was not stored", n, exc_info=fut.exception())
            with self.stats.lock:
                self.stats.failed += n
            return
        outcomes = fut.result()
        ok = sum(1 for o in outcomes if o.accepted)
        with self.stats.lock:
            self.stats.accepted += ok
            self.stats.rejected += len(outcomes) - ok

    def close(self) -> None:
        """Wait (at most 60 s in all) for the batches still being stored."""
        wait(self._pending, timeout=60)
        self._pending = []


class MqttSink:
    """Publishes at QoS 1 on ``cityos/{apikey}/{device_id}/attrs`` (JSON) or ``…/ul`` (UltraLight)."""

    def __init__(self, url: str, *, client_id: str | None = None) -> None:
        import os

        from cityos.iot import connect_mqtt, new_mqtt_client

        self.stats = SimStats()
        self._client = new_mqtt_client(url, client_id or f"cityos-simulator-{os.getpid()}")
        self._client.on_publish = self._on_publish
        self._published = 0
        connect_mqtt(self._client, url, clean_start=True)

    def _on_publish(self, *_args: Any) -> None:
        with self.stats.lock:
            self.stats.acked += 1

    def send(self, batch: list[Telemetry]) -> None:
        for t in batch:
            suffix = "attrs" if t.fmt == "json" else "ul"
            self._client.publish(f"cityos/{t.apikey}/{t.device_id}/{suffix}", t.payload, qos=1)
        self._published += len(batch)
        # keep at most about 10,000 messages waiting for the broker's PUBACK
        while self._published - self.stats.acked > 10_000:
            time.sleep(0.01)

    def close(self) -> None:
        deadline = time.monotonic() + 10
        while self._published > self.stats.acked and time.monotonic() < deadline:
            time.sleep(0.05)
        self._client.disconnect()
        self._client.loop_stop()


def status_line(sim: Simulator) -> str:
    """The live progress line: what the simulator has sent and what became of it."""
    s = sim.stats
    local = sim.pattern_time() + timedelta(hours=8)
    parts = [
        f"模拟 simulating [bold]{sim.scenario}[/] {local:%H:%M} 上海",
        f"已发 sent {s.sent:,} ({s.rate:,.0f}/s)",
        f"含错 spoiled {s.spoiled:,}",
    ]
    if isinstance(sim.sink, LocalSink):
        parts.append(f"入库 accepted {s.accepted:,} · 拒收 rejected {s.rejected:,}")
    else:
        parts.append(f"代理确认 acked {s.acked:,}")
    if s.failed or s.stalls:
        parts.append(f"[yellow]未送达 failed {s.failed:,} · 等待存储 store stalls {s.stalls:,}[/]")
    return " · ".join(parts)
