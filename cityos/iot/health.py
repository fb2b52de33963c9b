"""Device health (设备在线): last seen, online/offline from each device's inactivity timeout.

Ingest notes when each device was heard from in memory; :meth:`HealthTracker.flush` writes that to
the store about once a second, and :meth:`HealthTracker.check` marks silent devices offline. Both
decide from the store, so several ingest processes agree, and each transition is announced once on
the bus (``device.online`` / ``device.offline``) and mirrored on the device's NGSI-LD ``Device``
entity (``deviceState`` online | offline, ``dateLastValueReported``).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from cityos import context as hub
from cityos.bus import Event
from cityos.context import core_term_map, parse_entity
from cityos.core.timefmt import format_ts, now_iso, parse_ts
from cityos.iot import store
from cityos.iot.directory import directory
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
FLUSH_SECONDS = 1.0
ANNOUNCE_PART = 1000  # devices whose change of state is written in one transaction


class HealthTracker:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, float | None, float | None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def note(self, device_id: str, at: str, battery: float | None, signal: float | None) -> None:
        self.note_many({device_id: (at, battery, signal)})

    def note_many(self, heard: dict[str, tuple[str, float | None, float | None]]) -> None:
        """Note devices heard from: device id -> (when, battery, signal), the last two None if not reported."""
        with self._lock:  # once a batch: the ingest's writer notes a batch's devices together
            seen = self._seen
            for device_id, (at, battery, signal) in heard.items():
                prev = seen.get(device_id)
                if prev is not None:
                    at = max(at, prev[0])
                    battery = battery if battery is not None else prev[1]
                    signal = signal if signal is not None else prev[2]
                seen[device_id] = (at, battery, signal)

    def flush(self) -> list[str]:
        """Write what was noted; returns the devices that came online."""
        with self._lock:
            seen, self._seen = self._seen, {}
        if not seen:
            return []
        came = self.rt.db.run_write(lambda conn: store.record_seen(conn, seen))
        if came:
            self._announce(came, online=True)
        return [d for d, _ in came]

    def check(self, now: str | None = None) -> list[str]:
        """Mark devices silent past their timeout offline; returns them."""
        now_dt = parse_ts(now or now_iso())

        def job(conn: Any) -> list[tuple[str, str | None]]:
            cutoffs = {t: format_ts(now_dt - timedelta(seconds=t)) for t in store.timeouts_in_use(conn)}
            silent = store.silent_devices(conn, cutoffs)
            changed = set(store.mark_offline(conn, [d for d, _ in silent]))
            return [(d, last) for d, last in silent if d in changed]

        gone = self.rt.db.run_write(job)
        if gone:
            self._announce(gone, online=False)
        return [d for d, _ in gone]

    def _announce(self, items: list[tuple[str, str | None]], *, online: bool) -> None:
        # a whole district may come online at once (a restart, a backlog): in parts of bounded size
        for start in range(0, len(items), ANNOUNCE_PART):
            self._announce_part(items[start : start + ANNOUNCE_PART], online=online)

    def _announce_part(self, items: list[tuple[str, str | None]], *, online: bool) -> None:
        found = directory(self.rt)
        devices = {d: found.device(d) for d, _ in items}
        events: list[Event] = []
        by_owner: dict[tuple[str, str], list[tuple[str, hub.Mutation]]] = {}
        tm = core_term_map()
        now = now_iso()
        for device_id, last in items:
            device = devices.get(device_id)
            if device is None:
                continue
            state = "online" if online else "offline"
            data = {
                "deviceId": device_id,
                "deviceType": device.device_type,
                "grid": device.grid,
                "unit": device.unit,
                "state": state,
                "lastSeen": last,
            }
            events.append(Event(f"device.{state}", device_id, data, device.tenant))
            body: dict[str, Any] = {"id": device.device_entity_id, "type": "Device", "deviceState": state}
            if last:
                body["dateLastValueReported"] = last
            parsed = parse_entity(body, tm, now=now)
            key = (device.tenant, device.department)
            by_owner.setdefault(key, []).append((device.device_entity_id, hub.m_merge(parsed, create=True)))
        for (tenant, department), ops in by_owner.items():
            hub.apply(self.rt, tenant, ops, creates=True, writer=hub.Writer(department))
        self.rt.bus.publish(events)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="iot-health", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            try:
                self.flush()
                self.check()
            except Exception:  # keep watching: the next round retries what failed
                log.exception("device health round failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            self.flush()
        except Exception:
            log.exception("last device health flush failed")


def tracker(rt: Runtime) -> HealthTracker:
    return rt.parts.get(HealthTracker, lambda: HealthTracker(rt))
