"""Live push to the dashboard: bus events as server-sent events (SSE).

One ``LiveHub`` per API process subscribes to the bus once and fans events out to the pages connected
to ``GET /web/events``. Warnings, pre-warnings, case changes and device online/offline go out at once
(the screen must show a new warning within a second); sensor values are many, so they are gathered
and sent together once a second, the latest value per sensor. Each page gets only what its token may
read: a department sees the case events of its own cases.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from cityos.auth import Principal
from cityos.bus import Bus, Event
from cityos.context import ENTITY_UPDATED

log = logging.getLogger(__name__)

SUBJECTS = ("warning.>", "prewarning.>", "case.>", "device.online", "device.offline", ENTITY_UPDATED)
QUEUE_LIMIT = 2000  # messages a slow page may fall behind before it is told to reload
SensorValue = Callable[[list[str], dict[str, Any]], "tuple[bool, Any]"]


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE message: ``event:`` names it, ``data:`` is one line of JSON."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


def kind_of(subject: str) -> str | None:
    """The SSE event name for a bus subject: warning, prewarning, case or device."""
    first = subject.split(".", 1)[0]
    return first if first in ("warning", "prewarning", "case", "device") else None


# What a page needs to be allowed to read to receive each kind of event.
NEEDS = {"warning": "vitals:read", "prewarning": "vitals:read", "case": "cases:read", "device": "devices:read"}


def visible(principal: Principal, kind: str, data: dict[str, Any]) -> bool:
    """Whether a page logged in as ``principal`` may see an event of this kind and data."""
    if not principal.can(NEEDS.get(kind, "entities:read")):
        return False
    if kind == "case" and principal.department is not None:
        return data.get("department") == principal.department
    return True


@dataclass(eq=False)
class Page:
    """One connected page: its queue lives on the event loop that serves it."""

    principal: Principal
    tenant: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    behind: bool = False  # dropped messages: it was told to reload

    def offer(self, message: bytes) -> None:
        """Called on the event loop: queue the message, or mark the page as behind."""
        if self.behind:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.behind = True
            self.queue.put_nowait(frame("resync", {"reason": "this page fell behind: reload its state"}))
            return
        self.queue.put_nowait(message)


class LiveHub:
    """Bus events to connected pages. ``sensor_value(types, attrs)`` says whether an entity update is a
    sensor's and gives its main value."""

    def __init__(self, bus: Bus, sensor_value: SensorValue, *, flush_seconds: float = 1.0) -> None:
        self.bus, self.sensor_value, self.flush_seconds = bus, sensor_value, flush_seconds
        self._pages: set[Page] = set()
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, Any]] = {}  # tenant -> sensor id -> latest value
        self._cancels: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        for subject in SUBJECTS:
            self._cancels.append(self.bus.subscribe(subject, self.on_event))
        self._thread = threading.Thread(target=self._flush_loop, name="web-live", daemon=True)
        self._thread.start()

    def close(self) -> None:
        for cancel in self._cancels:
            cancel()
        self._cancels.clear()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def connect(self, principal: Principal, tenant: str) -> Page:
        page = Page(principal, tenant, asyncio.get_running_loop())
        with self._lock:
            self._pages.add(page)
        return page

    def disconnect(self, page: Page) -> None:
        with self._lock:
            self._pages.discard(page)

    def on_event(self, ev: Event) -> None:
        """A bus handler: runs on the bus's thread, so it only hands messages to the pages' loops."""
        if ev.subject == ENTITY_UPDATED:
            if not self._pages:
                return
            is_sensor, value = self.sensor_value(ev.data.get("types") or [], ev.data.get("attrs") or {})
            if is_sensor:
                with self._lock:
                    self._pending.setdefault(ev.tenant, {})[ev.key] = value
            return
        kind = kind_of(ev.subject)
        if kind is None:
            return
        data = {"subject": ev.subject, **ev.data}
        self._send(ev.tenant, kind, data, frame(kind, data, ev.id))

    def flush(self) -> None:
        """Send the sensor values gathered since the last flush, one message per tenant."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for tenant, values in pending.items():
            message = frame("sensors", {"values": [[k, v] for k, v in values.items()]})
            self._send(tenant, "sensors", None, message)

    def _send(self, tenant: str, kind: str, data: dict[str, Any] | None, message: bytes) -> None:
        with self._lock:
            pages = [p for p in self._pages if p.tenant == tenant]
        for page in pages:
            if data is not None and not visible(page.principal, kind, data):
                continue
            if kind == "sensors" and not page.principal.can("entities:read"):
                continue
            try:
                page.loop.call_soon_threadsafe(page.offer, message)
            except RuntimeError:  # its loop is closed: the page is gone
                self.disconnect(page)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:
                log.exception("live sensor values not sent")
