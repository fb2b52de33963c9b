"""Delivers stored notifications: one asyncio event loop, one task and queue per subscription.

Everything runs in one thread of its own with one event loop, so 1,000 subscriptions cost 1,000
small tasks rather than 1,000 threads. HTTP notifications go out through one lean HTTP/1.1 sender
(:mod:`cityos.context.subscriptions.httpsend`: a connection per receiver, kept alive); MQTT ones
through the blocking paho client on a small pool of threads (:mod:`cityos.context.subscriptions.mqtt`).
A receiver that hangs holds up only its own subscription's task.

A task sends its subscription's notifications in order, retrying with exponential backoff
(``backoff``, doubled, at most ``backoff_max``) up to ``attempts`` times; every notification counts
once in ``timesSent``. After ``fail_after`` notifications failed in a row the subscription is marked
``failed``, what it had pending is dropped, and nothing more is sent until a PATCH makes it active
again. Throttling coalesces: notifications that arrive within ``throttling`` seconds of the last one
go out as one, holding each entity once (its latest state).

Delivery status and the outbox's changes are written in batches by a flusher task every
``flush_interval`` seconds, so the database sees a few writes a second rather than several per
notification: a row of the outbox is deleted once every notification in it is done (taken by its
receiver, or given up), and written again with the rest once half of them or more are.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from cityos.context.jsonld import CORE_CONTEXT_URL, link_header
from cityos.context.subscriptions import outbox
from cityos.context.subscriptions.httpsend import HttpSender, HttpSendError, Target, header_block
from cityos.context.subscriptions.model import FAILED, StoredSubscription, Subscription
from cityos.context.subscriptions.mqtt import MqttError, MqttSender, mqtt_message
from cityos.context.subscriptions.outbox import Pending
from cityos.context.subscriptions.storage import write_delivery_status
from cityos.core.addresses import refusal_of
from cityos.core.loops import new_event_loop
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
ADDRESS_RECHECK_SECONDS = 60.0  # how long an endpoint found permitted is not resolved again


@dataclass
class NotifierConfig:
    """Delivery tuning; read on every notification, so it may change at run time."""

    timeout: float = 5.0  # seconds per HTTP attempt, MQTT connect or MQTT acknowledgement
    attempts: int = 4  # tries per notification
    backoff: float = 0.5  # seconds before the first retry, doubled for each next one
    backoff_max: float = 8.0
    fail_after: int = 5  # notifications failed in a row before the subscription is marked failed
    close_wait: float = 2.0  # seconds close() waits for the delivery thread
    flush_interval: float = 0.05  # seconds between writes of delivery status and of the outbox's changes
    mqtt_threads: int = 16  # threads for blocking MQTT sends (each hanging broker holds one)


def notification_body(
    sub: Subscription, notification_id: str, entities: list[str], notified_at: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The notification as sent (entities already rendered as JSON) and its headers; ``notified_at``: now."""
    head: dict[str, Any] = {}
    headers = {"Content-Type": sub.accept}
    context = sub.notify_context()
    if sub.accept == "application/ld+json":
        head["@context"] = context or CORE_CONTEXT_URL
        # each entity carries it too, as a JSON-LD document of its own (ETSI 046_14_01)
        member = b'{"@context":' + orjson.dumps(head["@context"])
        entities = [(member + (b"," + e[1:] if e != b"{}" else b"}")).decode() for e in map(str.encode, entities)]
    else:
        headers["Link"] = link_header(context if isinstance(context, str) else CORE_CONTEXT_URL)
    headers.update(sub.receiver_info)
    head.update(id=notification_id, type="Notification", subscriptionId=sub.id, notifiedAt=notified_at or now_iso())
    # The entities are JSON already: splice them in rather than parse and dump them again.
    content = orjson.dumps(head)[:-1] + b',"data":[' + ",".join(entities).encode() + b"]}"
    return content, headers


class _Row:
    """One outbox row as delivery sees it: how many notifications it holds, and those not done yet."""

    __slots__ = ("id", "left", "total")

    def __init__(self, row_id: int, total: int) -> None:
        self.id = row_id
        self.total = total
        self.left: dict[tuple[str, str, str], Pending] = {}


class _Channel:
    """One subscription's queue and sending task."""

    def __init__(self, delivery: Delivery, tenant: str, sub: Subscription, stored: StoredSubscription) -> None:
        self.delivery = delivery
        self.tenant = tenant
        self.sub = sub
        self.address = sub.endpoint_address()
        self.http: tuple[Target, bytes] | None = None  # where and with which headers it posts, made on first use
        self.times_sent = stored.times_sent
        self.failures = stored.failures_in_a_row
        self.failed = stored.status == FAILED
        self.pending: deque[Pending] = deque()
        self.wake = asyncio.Event()
        self.last_sent = float("-inf")
        self.mqtt: MqttSender | None = None
        self.stopping = threading.Event()  # also read by the MQTT sender's thread
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"notify {sub.id}")

    @property
    def accepting(self) -> bool:
        return not self.failed and self.sub.is_active

    def update(self, sub: Subscription, stored: StoredSubscription) -> None:
        self.sub = sub
        self.address = sub.endpoint_address()
        self.http = None
        self.failures = stored.failures_in_a_row
        self.failed = stored.status == FAILED
        if not self.accepting:
            self.drop_pending()
        self.wake.set()

    def put(self, items: list[Pending]) -> None:
        if not self.accepting:
            self.delivery.forget([p.key for p in items])
            return
        self.pending.extend(items)
        self.wake.set()

    def drop_pending(self) -> None:
        self.delivery.forget([p.key for p in self.pending])
        self.pending.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.task.cancel()
        if self.mqtt is not None:
            sender, self.mqtt = self.mqtt, None
            self.delivery.in_mqtt_thread(sender.close)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self.pending:
                self.wake.clear()
                await self.wake.wait()
            delay = self.last_sent + self.sub.throttling - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.pending:
                continue
            if self.sub.throttling or self.sub.time_interval:  # one notification for all that waits
                batch = list(self.pending)
                self.pending.clear()
            else:
                batch = [self.pending.popleft()]
            try:
                await self._deliver(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not end the subscription's deliveries
                log.exception("notification for subscription %s failed", self.sub.id)
            self.last_sent = loop.time()

    async def _deliver(self, batch: list[Pending]) -> None:
        cfg = self.delivery.config
        sub = self.sub
        latest = {p.entity_id: p.entity for p in batch}  # coalesced: each entity once, its latest state
        notified_at = now_iso()
        content, headers = notification_body(sub, outbox.batch_id(batch), list(latest.values()), notified_at)
        # counted as it goes out, not when its answer is back: a receiver that retrieves the subscription as soon
        # as the notification reaches it sees it in timesSent (ETSI 046_11_01)
        self.times_sent += 1
        self.delivery.done([], (self.tenant, sub.id), {"times_sent": self.times_sent, "last_notification": notified_at})
        ok = False
        for attempt in range(max(1, cfg.attempts)):
            if attempt:
                await asyncio.sleep(min(cfg.backoff * 2 ** (attempt - 1), cfg.backoff_max))
                if not self.accepting:  # paused while retrying: give this one up as well
                    self.delivery.forget([p.key for p in batch])
                    return
            refused = await self.delivery.refusal(*self.address)
            if refused is not None:  # a name that now resolves to an address notifications may not go to
                log.warning("subscription %s: not sent to %s: %s", sub.id, sub.uri, refused)
                ok = False
                break
            ok = await (self._send_mqtt(headers, content) if sub.mqtt else self._send_http(headers, content))
            if ok:
                break
        values: dict[str, Any] = {}
        if ok:
            self.failures = 0
            values.update(last_success=now_iso(), failures_in_a_row=0)
        else:
            self.failures += 1
            values.update(last_failure=now_iso(), failures_in_a_row=self.failures)
            if self.failures >= cfg.fail_after:
                self.failed = True
                values["status"] = FAILED
                self.drop_pending()
        self.delivery.done([p.key for p in batch], (self.tenant, sub.id), values)

    async def _send_http(self, headers: dict[str, str], content: bytes) -> bool:
        sub = self.sub
        try:
            if self.http is None:  # the headers depend on the subscription alone
                self.http = Target.of(sub.uri), header_block(headers)
            target, lines = self.http
            # no redirects: the address rule was checked for sub.uri only, and a redirect could point anywhere
            status = await self.delivery.http.post(target, lines, content, self.delivery.config.timeout)
            if 200 <= status < 300:
                return True
            log.info("subscription %s: %s answered %s", sub.id, sub.uri, status)
        except (HttpSendError, TimeoutError, ValueError) as exc:
            log.info("subscription %s: %s failed: %s", sub.id, sub.uri, exc or type(exc).__name__)
        return False

    async def _send_mqtt(self, headers: dict[str, str], content: bytes) -> bool:
        endpoint = self.sub.mqtt
        assert endpoint is not None
        if self.mqtt is None or self.mqtt.endpoint != endpoint:
            if self.mqtt is not None:
                self.delivery.in_mqtt_thread(self.mqtt.close)
            self.mqtt = MqttSender(endpoint, self.stopping)
        sender, timeout = self.mqtt, self.delivery.config.timeout
        try:
            await self.delivery.in_mqtt_thread(sender.publish, mqtt_message(headers, content), timeout)
        except MqttError as exc:
            log.info("subscription %s: %s failed: %s", self.sub.id, self.sub.uri, exc)
            return False
        return True


class Delivery:
    """The delivery thread: channels by (tenant, subscription id), and the flusher of their outcomes.

    The public methods may be called from any thread.
    """

    def __init__(self, rt: Runtime, config: NotifierConfig) -> None:
        self.rt = rt
        self.config = config
        self._loop = new_event_loop()
        self._channels: dict[tuple[str, str], _Channel] = {}  # touched in the loop only
        self._failed: set[tuple[str, str]] = set()  # read by the matcher's thread
        self._row_of: dict[tuple[str, str, str], _Row] = {}  # each pending notification's outbox row (loop only)
        self._touched: set[_Row] = set()  # rows with notifications done since the last flush
        self._status: dict[tuple[str, str], dict[str, Any]] = {}
        self._writing: dict[tuple[str, str], dict[str, Any]] = {}  # the status being written by the flusher
        self._mqtt_pool = concurrent.futures.ThreadPoolExecutor(config.mqtt_threads, thread_name_prefix="notify-mqtt")
        self._allowed = rt.settings.notify_networks
        self._checked: dict[tuple[str, int], float] = {}  # endpoints found permitted, until when (loop time)
        self.http = HttpSender()
        self._flusher: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="notify delivery", daemon=True)
        self._ready = threading.Event()

    # --- the loop --------------------------------------------------------------------------------------

    async def refusal(self, host: str, port: int) -> str | None:
        """Why notifications may not go to ``host`` now (resolved without blocking the loop), None when they
        may; a permitted endpoint is not resolved again for ``ADDRESS_RECHECK_SECONDS``."""
        now = self._loop.time()
        if self._checked.get((host, port), 0.0) > now:
            return None
        try:
            infos = await self._loop.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            return f"the host {host!r} cannot be resolved ({exc})"
        why = refusal_of(host, [str(info[4][0]) for info in infos], self._allowed)
        if why is None:
            self._checked[(host, port)] = now + ADDRESS_RECHECK_SECONDS
        return why

    # --- any thread --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def close(self) -> None:
        """Stop every task, write what is left to write, and end the thread."""
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        with contextlib.suppress(Exception):
            future.result(self.config.close_wait + 5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self.config.close_wait)
        self._mqtt_pool.shutdown(wait=False, cancel_futures=True)

    def unwritten_status(self, tenant: str, sub_id: str) -> dict[str, Any]:
        """The delivery status of a subscription not yet in the database (written every ``flush_interval``), so
        that a read right after a notification arrived sees it sent (ETSI 046_11_01, 046_12_01)."""
        key = (tenant, sub_id)
        return {**self._writing.get(key, {}), **self._status.get(key, {})}  # plain dict reads: safe across threads

    def is_failed(self, tenant: str, sub_id: str) -> bool:
        return (tenant, sub_id) in self._failed

    def put(self, rows: list[tuple[int, list[Pending]]]) -> None:
        """Queue the notifications of stored outbox rows (id, notifications) on their subscriptions' channels."""
        if rows:
            self._loop.call_soon_threadsafe(self._put, rows)

    def set_subscription(self, tenant: str, sub: Subscription, stored: StoredSubscription) -> None:
        if stored.status == FAILED:
            self._failed.add((tenant, sub.id))
        else:
            self._failed.discard((tenant, sub.id))
        self._loop.call_soon_threadsafe(self._set, tenant, sub, stored)

    def drop_subscription(self, tenant: str, sub_id: str) -> None:
        """Forget a deleted subscription and what it had pending."""
        self._failed.discard((tenant, sub_id))
        self._loop.call_soon_threadsafe(self._drop, tenant, sub_id)

    # --- the loop's thread -------------------------------------------------------------------------

    def in_mqtt_thread(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        return self._loop.run_in_executor(self._mqtt_pool, fn, *args)

    def forget(self, keys: list[tuple[str, str, str]]) -> None:
        """Remove notifications that will not be sent from the outbox."""
        self._settle(keys)

    def done(self, keys: list[tuple[str, str, str]], sub_key: tuple[str, str], values: dict[str, Any]) -> None:
        """Record one delivery's outcome: its notifications leave the outbox, its status is written."""
        self._settle(keys)
        self._status.setdefault(sub_key, {}).update(values)
        if values.get("status") == FAILED:
            self._failed.add(sub_key)

    def _settle(self, keys: list[tuple[str, str, str]]) -> None:
        """Notifications done: their rows are looked at by the next flush."""
        row_of, touched = self._row_of, self._touched
        for key in keys:
            row = row_of.pop(key, None)
            if row is not None:
                del row.left[key]
                touched.add(row)

    def _put(self, rows: list[tuple[int, list[Pending]]]) -> None:
        items: list[Pending] = []
        row_of = self._row_of
        for row_id, stored in rows:
            row = _Row(row_id, len(stored))
            for p in stored:
                if p.key in row_of:  # pending already (an event matched again after a redelivery): sent once
                    continue
                row_of[p.key] = row
                row.left[p.key] = p
                items.append(p)
            if len(row.left) < row.total:
                self._touched.add(row)
        if len(rows) > 1:  # a row written again holds older notifications than rows written after it
            items.sort(key=lambda p: p.seq)
        by_sub: dict[tuple[str, str], list[Pending]] = {}
        for p in items:
            by_sub.setdefault((p.tenant, p.subscription_id), []).append(p)
        for key, group in by_sub.items():
            channel = self._channels.get(key)
            if channel is None:
                self.forget([p.key for p in group])  # deleted meanwhile
            else:
                channel.put(group)

    def _set(self, tenant: str, sub: Subscription, stored: StoredSubscription) -> None:
        channel = self._channels.get((tenant, sub.id))
        if channel is None:
            self._channels[(tenant, sub.id)] = _Channel(self, tenant, sub, stored)
        else:
            channel.update(sub, stored)

    def _drop(self, tenant: str, sub_id: str) -> None:
        channel = self._channels.pop((tenant, sub_id), None)
        if channel is not None:
            channel.pending.clear()
            channel.stop()
        # what it had pending, in its queue or being sent when it stopped
        self._settle([key for key in self._row_of if key[0] == tenant and key[1] == sub_id])
        self._status.pop((tenant, sub_id), None)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _open(self) -> None:
        self._flusher = self._loop.create_task(self._flush_forever(), name="notify flusher")

    async def _shutdown(self) -> None:
        for channel in self._channels.values():
            channel.stop()
        tasks = [c.task for c in self._channels.values()]
        self._channels = {}
        if self._flusher is not None:
            self._flusher.cancel()
        await asyncio.gather(*tasks, *([self._flusher] if self._flusher else []), return_exceptions=True)
        await self._flush()
        self.http.close()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_interval)
            try:
                await self._flush()
            except Exception:  # the database may be back on the next round; keep what was not written
                log.exception("writing notification delivery status failed")

    async def _flush(self) -> None:
        touched, status = self._touched, self._status
        if not (touched or status):
            return
        self._touched, self._status = set(), {}
        self._writing = status
        gone = [row.id for row in touched if not row.left]
        # half done or more: written again with the rest, so that a restart repeats fewer than half of a row's
        again = [
            (row, outbox.next_seq(), list(row.left.values())) for row in touched if 0 < 2 * len(row.left) <= row.total
        ]

        def job(conn: Any) -> None:
            outbox.remove(conn, [*gone, *(row.id for row, _, _ in again)])
            for _, row_id, items in again:
                outbox.store(conn, row_id, items)
            write_delivery_status(conn, status)

        try:
            await self.rt.db.run_write_async(job)
        except Exception:
            self._touched |= touched
            for key, values in status.items():
                self._status[key] = {**values, **self._status.get(key, {})}
            raise
        else:
            for row, row_id, items in again:
                row.id, row.total = row_id, len(items)
        finally:
            self._writing = {}
