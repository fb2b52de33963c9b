"""Delivers NGSI-LD notifications over HTTP and MQTT for the subscriptions of this API process.

Threads and queues:

- The bus handler only puts the event on the dispatcher's queue, so publishers never wait.
- One dispatcher thread matches each event against the tenant's subscriptions (kept in memory,
  refreshed by :meth:`Notifier.refresh` when the API changes one), loads the current entity when
  an update event lacks attributes that q, geoQ or the notification need, renders the entity and
  hands it to the subscription's worker.
- Each subscription has its own worker thread with its own pending list and ``httpx.Client`` (or,
  for an ``mqtt(s)://`` endpoint, its own paho-mqtt connection, kept open between notifications and
  opened again after a failure), so a slow or hanging receiver or broker only ever holds up its own
  subscription.

MQTT notifications follow the NGSI-LD MQTT binding: the message is the JSON object
``{"metadata": {"Content-Type": ..., "Link": ... (application/json only), <receiverInfo>...},
"body": <the notification as sent over HTTP>}``, published on the URI's topic with the QoS of
``notifierInfo`` ``MQTT-QoS`` (0 by default); with QoS 1 or 2 a send succeeds once the broker
acknowledged it (PUBACK / PUBCOMP) within ``timeout``, with QoS 0 once it is written to the socket.

A worker POSTs (or publishes) each notification, retrying with exponential backoff (``backoff``, doubled, at most
``backoff_max``) up to ``attempts`` times; every notification counts once in ``timesSent``. After
``fail_after`` notifications failed in a row the subscription is marked ``failed`` and sends
nothing until a PATCH makes it active again. Throttling coalesces: notifications that arrive
within ``throttling`` seconds of the last one wait and go out as one, holding each entity once
(its latest state). Delivery is at least once while the process runs; pending notifications are
lost if it stops (durable delivery is not part of this release).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cityos.bus import Event
from cityos.context.entity import TermMap
from cityos.context.errors import NgsiLdError
from cityos.context.jsonld import CORE_CONTEXT_URL, link_header
from cityos.context.render import View, render_entity
from cityos.context.service import get_entity
from cityos.context.subscriptions import (
    FAILED,
    EntityView,
    MqttEndpoint,
    StoredSubscription,
    Subscription,
    get_subscription,
    list_subscriptions,
    matches,
    parse_subscription,
    record_delivery,
)
from cityos.context.timefmt import now_iso
from cityos.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class NotifierConfig:
    """Delivery tuning; read by the workers on every notification, so it may change at run time."""

    timeout: float = 5.0  # seconds per HTTP attempt, MQTT connect or MQTT acknowledgement
    attempts: int = 4  # tries per notification
    backoff: float = 0.5  # seconds before the first retry, doubled for each next one
    backoff_max: float = 8.0
    fail_after: int = 5  # notifications failed in a row before the subscription is marked failed
    close_wait: float = 2.0  # seconds close() waits for each thread


def term_map_for(rt: Runtime, context: Any) -> TermMap:
    """The term map of a subscription's stored @context (None: the core context). May fetch it."""
    wanted = None if context in (None, CORE_CONTEXT_URL) else context
    return rt.contexts.cached(wanted) or rt.contexts.resolve(wanted)


def subscription_for(rt: Runtime, stored: StoredSubscription) -> Subscription:
    """The matchable form of a stored subscription, its names expanded with its own @context."""
    return parse_subscription(stored.body, term_map_for(rt, stored.context), context=stored.context)


class MqttError(Exception):
    """An MQTT notification could not be delivered (connection refused, lost, or not acknowledged)."""


class _MqttSender:
    """One worker's connection to an MQTT broker, opened on first use and again after a failure."""

    POLL = 0.01  # seconds between checks while waiting for the broker

    def __init__(self, endpoint: MqttEndpoint, stopping: threading.Event) -> None:
        self.endpoint = endpoint
        self._stopping = stopping
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._lost = threading.Event()
        self._refused: str | None = None

    def publish(self, payload: bytes, timeout: float) -> None:
        """Publish on the endpoint's topic; raises MqttError unless the broker took it in time."""
        client = self._client if self._client is not None and not self._lost.is_set() else self._connect(timeout)
        ep = self.endpoint
        info = client.publish(ep.topic, payload, qos=ep.qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.close()
            raise MqttError(f"publish refused: {mqtt.error_string(info.rc)}")
        deadline = time.monotonic() + timeout
        while not info.is_published():
            if self._lost.is_set():
                self.close()
                raise MqttError("connection lost before the broker acknowledged the message")
            if self._stopping.is_set() or time.monotonic() >= deadline:
                self.close()
                raise MqttError(f"no acknowledgement within {timeout} s")
            time.sleep(self.POLL)

    def _connect(self, timeout: float) -> mqtt.Client:
        self.close()
        ep = self.endpoint
        v5 = ep.version == "mqtt5.0"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cityos-{uuid.uuid4().hex}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            **({} if v5 else {"clean_session": True}),
        )
        client.connect_timeout = timeout
        if ep.username is not None:
            client.username_pw_set(ep.username, ep.password)
        if ep.tls:
            client.tls_set()  # the system CA store
        self._connected.clear()
        self._lost.clear()
        self._refused = None
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        try:
            client.connect(ep.host, ep.port, keepalive=60)
        except (OSError, ValueError) as exc:
            raise MqttError(f"cannot connect to {ep.host}:{ep.port}: {exc}") from None
        self._client = client
        client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.is_set():
            if self._refused is not None or self._lost.is_set():
                self.close()
                raise MqttError(f"{ep.host}:{ep.port} refused the connection: {self._refused or 'disconnected'}")
            if self._stopping.is_set() or time.monotonic() >= deadline:
                self.close()
                raise MqttError(f"no CONNACK from {ep.host}:{ep.port} within {timeout} s")
            time.sleep(self.POLL)
        return client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        else:
            self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._lost.set()

    def close(self) -> None:
        """Disconnect and stop the network thread (the next publish connects again)."""
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # already gone
            client.disconnect()
        client.loop_stop()


class _Worker:
    """Sends one subscription's notifications, in order, from its own thread."""

    def __init__(self, notifier: Notifier, tenant: str, sub: Subscription, stored: StoredSubscription) -> None:
        self._notifier = notifier
        self.tenant = tenant
        self.sub = sub
        self.times_sent = stored.times_sent
        self.failures = stored.failures_in_a_row
        self.failed = stored.status == FAILED
        self._pending: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._last_sent = 0.0
        self._mqtt: _MqttSender | None = None
        self._thread = threading.Thread(target=self._run, name=f"notify {sub.id}", daemon=True)
        self._thread.start()

    def update(self, sub: Subscription, stored: StoredSubscription) -> None:
        with self._cond:
            self.sub = sub
            self.failures = stored.failures_in_a_row
            self.failed = stored.status == FAILED
            self._cond.notify()

    def put(self, entity: dict[str, Any]) -> None:
        with self._cond:
            if not self.failed:
                self._pending.append(entity)
                self._cond.notify()

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _next(self) -> list[dict[str, Any]] | None:
        """The entities of the next notification, waiting for them and for the throttling window."""
        with self._cond:
            while not self._pending and not self._stopping.is_set():
                self._cond.wait()
            while not self._stopping.is_set():
                delay = self._last_sent + self.sub.throttling - time.monotonic()
                if delay <= 0:
                    break
                self._cond.wait(delay)
            if self._stopping.is_set() or not self._pending:
                return None
            if not self.sub.throttling:
                return [self._pending.pop(0)]
            latest = {e.get("id"): e for e in self._pending}  # coalesced: each entity once, latest state
            self._pending = []
            return list(latest.values())

    def _run(self) -> None:
        try:
            with httpx.Client() as client:
                while not self._stopping.is_set():
                    entities = self._next()
                    if entities is None:
                        continue
                    try:
                        self._deliver(client, entities)
                    except Exception:  # a bug here must not end the subscription's deliveries
                        log.exception("notification for subscription %s failed", self.sub.id)
        finally:
            if self._mqtt is not None:
                self._mqtt.close()
                self._mqtt = None

    def _send_mqtt(self, endpoint: MqttEndpoint, headers: dict[str, str], content: bytes, timeout: float) -> bool:
        """One MQTT attempt, on the worker's connection (a new one when the endpoint changed)."""
        if self._mqtt is None or self._mqtt.endpoint != endpoint:
            if self._mqtt is not None:
                self._mqtt.close()
            self._mqtt = _MqttSender(endpoint, self._stopping)
        message = b'{"metadata":' + orjson.dumps(headers) + b',"body":' + content + b"}"
        try:
            self._mqtt.publish(message, timeout)
        except MqttError as exc:
            log.info("subscription %s: %s failed: %s", self.sub.id, self.sub.uri, exc)
            return False
        return True

    def _deliver(self, client: httpx.Client, entities: list[dict[str, Any]]) -> None:
        cfg = self._notifier.config
        sub = self.sub
        notified_at = now_iso()
        payload: dict[str, Any] = {
            "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
            "type": "Notification",
            "subscriptionId": sub.id,
            "notifiedAt": notified_at,
            "data": entities,
        }
        headers = {"Content-Type": sub.accept}
        if sub.accept == "application/ld+json":
            payload = {"@context": sub.context or CORE_CONTEXT_URL, **payload}
        else:
            headers["Link"] = link_header(sub.context if isinstance(sub.context, str) else CORE_CONTEXT_URL)
        headers.update(sub.receiver_info)
        content = orjson.dumps(payload)
        ok = False
        for attempt in range(max(1, cfg.attempts)):
            if attempt and self._stopping.wait(min(cfg.backoff * 2 ** (attempt - 1), cfg.backoff_max)):
                return
            if sub.mqtt is not None:
                ok = self._send_mqtt(sub.mqtt, headers, content, cfg.timeout)
                if ok:
                    break
                continue
            try:
                response = client.post(sub.uri, content=content, headers=headers, timeout=cfg.timeout)
                ok = 200 <= response.status_code < 300
                if not ok:
                    log.info("subscription %s: %s answered %s", sub.id, sub.uri, response.status_code)
            except httpx.HTTPError as exc:
                log.info("subscription %s: %s failed: %s", sub.id, sub.uri, exc)
            if ok:
                break
        self._last_sent = time.monotonic()
        done = now_iso()
        with self._cond:
            self.times_sent += 1
            values: dict[str, Any] = {"times_sent": self.times_sent, "last_notification": notified_at}
            if ok:
                self.failures = 0
                values.update(last_success=done, failures_in_a_row=0)
            else:
                self.failures += 1
                values.update(last_failure=done, failures_in_a_row=self.failures)
                if self.failures >= cfg.fail_after:
                    self.failed = True
                    self._pending = []
                    values["status"] = FAILED
        try:
            record_delivery(self._notifier.rt, self.tenant, sub.id, values)
        except Exception:
            log.exception("could not record the delivery status of subscription %s", sub.id)


class Notifier:
    """Matches bus events to subscriptions and delivers notifications (see the module notes)."""

    def __init__(self, rt: Runtime, config: NotifierConfig | None = None) -> None:
        self.rt = rt
        self.config = config or NotifierConfig()
        self._workers: dict[str, dict[str, _Worker]] = {}  # tenant -> subscription id -> worker
        self._lock = threading.Lock()
        self._events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._cancel: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load the stored subscriptions, subscribe to entity events and start dispatching."""
        try:
            stored, _ = list_subscriptions(self.rt, None)
        except Exception:  # e.g. the database is not migrated yet: run without subscriptions
            log.exception("could not load subscriptions; notifications start empty")
            stored = []
        for s in stored:
            self._put_worker(s)
        self._thread = threading.Thread(target=self._dispatch, name="notify dispatcher", daemon=True)
        self._thread.start()
        self._cancel = self.rt.bus.subscribe("entity.*", self._on_event)

    def close(self) -> None:
        """Stop receiving events and stop every thread, waiting a bounded time for each."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None
        self._events.put(None)
        with self._lock:
            workers = [w for by_id in self._workers.values() for w in by_id.values()]
            self._workers = {}
        for w in workers:
            w.stop()
        if self._thread is not None:
            self._thread.join(self.config.close_wait)
        for w in workers:
            w.join(self.config.close_wait)

    def refresh(self, tenant: str, sub_id: str) -> None:
        """Reload one subscription after the API created, changed or deleted it."""
        try:
            stored = get_subscription(self.rt, tenant, sub_id)
        except NgsiLdError:
            with self._lock:
                worker = self._workers.get(tenant, {}).pop(sub_id, None)
            if worker is not None:
                worker.stop()
            return
        self._put_worker(stored)

    def _put_worker(self, stored: StoredSubscription) -> None:
        try:
            sub = subscription_for(self.rt, stored)
        except NgsiLdError as exc:
            log.warning("subscription %s cannot be loaded: %s", stored.id, exc.detail)
            return
        with self._lock:
            by_id = self._workers.setdefault(stored.tenant, {})
            worker = by_id.get(stored.id)
            if worker is None:
                by_id[stored.id] = _Worker(self, stored.tenant, sub, stored)
        if worker is not None:
            worker.update(sub, stored)

    def _on_event(self, event: Event) -> None:
        self._events.put(event)  # the publisher's thread: only enqueue

    def _dispatch(self) -> None:
        while (event := self._events.get()) is not None:
            try:
                self._handle(event)
            except Exception:
                log.exception("matching %s of %s failed", event.subject, event.key)

    def _handle(self, event: Event) -> None:
        with self._lock:
            workers = list(self._workers.get(event.tenant, {}).values())
        if not workers:
            return
        view = EntityView(event, lambda: self._load(event.tenant, event.data["id"]))
        now = now_iso()
        for w in workers:
            if not w.failed and matches(w.sub, event, view, now):
                w.put(self._render(w.sub, event, view))

    def _load(self, tenant: str, entity_id: str) -> dict[str, Any] | None:
        try:
            return get_entity(self.rt, tenant, entity_id).attrs
        except NgsiLdError:
            return None  # deleted since: the event's attributes stand in

    @staticmethod
    def _render(sub: Subscription, event: Event, view: EntityView) -> dict[str, Any]:
        if sub.attributes is not None:
            attrs = view.having(sub.attributes)
            pick: frozenset[str] | None = frozenset({"id", "type", *sub.attributes})
        else:
            attrs, pick = view.full(), None
        data = event.data
        return render_entity(data["id"], data.get("types") or [], None, attrs, sub.tm, View(sub.fmt, pick=pick))
