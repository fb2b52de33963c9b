"""The devices that ingest looks up for every message, kept in memory.

Provisioning in this process updates the directory at once; changes made by another process are
picked up by a poll of ``updated_at`` (every second), and devices removed by another process are
dropped by a check of the ids every 30 s. A device that is not in memory is looked up in the store at most once a
second, so a device provisioned a moment ago is found and an unknown one costs no query per message.
"""

from __future__ import annotations

import threading
import time

from cityos.iot import store
from cityos.iot.compiled import Model, Shape, compile_model, shape_of
from cityos.iot.models import Device
from cityos.runtime import Runtime

POLL_SECONDS = 1.0
PRUNE_SECONDS = 30.0
MISS_SECONDS = 1.0


class Directory:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._lock = threading.Lock()
        self._devices: dict[str, Device] = {}
        self._misses: dict[str, float] = {}
        self._since = ""
        self._polled = 0.0
        self._loaded = 0.0
        self._models: dict[str, tuple[Device, Model]] = {}  # device id -> (the device as compiled, its model)
        self._shapes: dict[Shape, Model] = {}  # devices of one shape share one compiled model

    def reload(self) -> None:
        with self.rt.db.connect() as conn:
            found = store.all_devices(conn)
        with self._lock:
            self._devices = {d.device_id: d for d in found}
            self._since = max((d.updated_at for d in found), default="")
            self._misses.clear()
            self._loaded = self._polled = time.monotonic()

    def _prune(self) -> None:
        """Drop devices removed by another process (cheaper than reloading every device)."""
        with self.rt.db.connect() as conn:
            present = store.all_device_ids(conn)
        with self._lock:
            for gone in self._devices.keys() - present:
                del self._devices[gone]
            self._loaded = time.monotonic()

    def _fresh(self) -> None:
        now = time.monotonic()
        if not self._loaded:
            self.reload()
        elif now - self._loaded > PRUNE_SECONDS:
            self._prune()
        elif now - self._polled > POLL_SECONDS:
            self._polled = now
            with self.rt.db.connect() as conn:
                changed = store.devices_changed_since(conn, self._since)
            with self._lock:
                for d in changed:
                    self._devices[d.device_id] = d
                    self._since = max(self._since, d.updated_at)

    def device(self, device_id: str) -> Device | None:
        self._fresh()
        found = self._devices.get(device_id)
        if found is not None:
            return found
        now = time.monotonic()
        if now - self._misses.get(device_id, 0.0) < MISS_SECONDS:
            return None
        self._misses[device_id] = now
        with self.rt.db.connect() as conn:
            found = store.get_device(conn, device_id)
        if found is not None:
            self.put(found)
        return found

    def model(self, device: Device) -> Model:
        """The device's compiled measure map, compiled once per device model (entity type and measures)."""
        held = self._models.get(device.device_id)
        if held is not None and held[0] is device:
            return held[1]
        shape = shape_of(device)
        with self._lock:
            compiled = self._shapes.get(shape)
            if compiled is None:
                compiled = self._shapes[shape] = compile_model(device)
            self._models[device.device_id] = (device, compiled)
        return compiled

    def put(self, device: Device) -> None:
        with self._lock:
            self._devices[device.device_id] = device
            self._misses.pop(device.device_id, None)

    def forget(self, device_id: str) -> None:
        with self._lock:
            self._devices.pop(device_id, None)


def directory(rt: Runtime) -> Directory:
    """The runtime's directory, loaded on first use."""

    def loaded() -> Directory:
        d = Directory(rt)
        d.reload()
        return d

    return rt.parts.get(Directory, loaded)
