"""Matches entity events to subscriptions and hands the notifications to delivery.

Where it runs: in the API process with the in-process bus, or in ``cityos worker`` with NATS
(``CITYOS_NOTIFIER`` decides; see docs/configuration.md). Either way the steps are the same:

1. Entity events arrive from the bus. With the in-process bus the bus handler only queues them
   for the matcher thread, so publishers never wait; with NATS the durable consumer ``notifier``
   calls the matcher itself and acknowledges the events only after step 3, so a worker killed at
   any moment gets them again.
2. Each event is matched against the tenant's subscriptions, found through an index by entity id
   and type so that 1,000 subscriptions on other entities cost nothing. The current entity is
   loaded when an update lacks attributes that q, geoQ or the notification need. The entity is
   rendered once per distinct (format, attributes, @context) among the matching subscriptions.
3. The matched notifications are stored in the outbox (:mod:`cityos.context.subscriptions.outbox`), one
   row per batch of events, each with a notification id made from the event id and the
   subscription id, then queued for delivery (:mod:`cityos.context.subscriptions.delivery`). A notifier that
   starts sends what the outbox still holds: delivery is at least once, and a repeat carries the
   same notification id.

Subscriptions changed through the API announce themselves on the bus (``subscription.*``); the
notifier reloads the one that changed. With NATS it takes them on the same consumer as the entity
events, in the order they were published: an update made after the API answered a new subscription
is matched against it. Periodic subscriptions (``timeInterval``) are sent by a clock
thread, at once when loaded and then every interval (:mod:`cityos.context.subscriptions.periodic`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from cityos.bus import Event
from cityos.bus.memory import MemoryBus
from cityos.context.errors import NgsiLdError
from cityos.context.events import ENTITY_DELETED, ENTITY_EVENTS
from cityos.context.governance import Sight, governs, look
from cityos.context.render import View, render_entity
from cityos.context.service import get_entity
from cityos.context.store import EntityRow
from cityos.context.subscriptions import changes, outbox
from cityos.context.subscriptions.delivery import Delivery, NotifierConfig
from cityos.context.subscriptions.matching import EntityView, matches, readable, subscription_for
from cityos.context.subscriptions.model import StoredSubscription, Subscription
from cityos.context.subscriptions.outbox import Pending
from cityos.context.subscriptions.periodic import due_items
from cityos.context.subscriptions.storage import get_subscription, list_subscriptions
from cityos.runtime import Runtime

__all__ = ["Notifier", "NotifierConfig"]

log = logging.getLogger(__name__)

DURABLE = "notifier"  # the NATS consumer of entity and subscription events that notifiers share
FORMER_DURABLE = "notify"  # its predecessor, of entity events alone: the new one starts where it left off
_BATCH = 256  # events matched and stored per transaction at most
SUBSCRIPTION_EVENTS = "subscription.*"  # a subscription created, updated or deleted (storage.announce)


@dataclass
class _Index:
    """A tenant's subscriptions by what they select, so an event meets only its candidates."""

    by_id: dict[str, list[Subscription]] = field(default_factory=dict)
    by_type: dict[str, list[Subscription]] = field(default_factory=dict)
    anything: list[Subscription] = field(default_factory=list)  # no `entities`: watchedAttributes alone

    @classmethod
    def of(cls, subs: Iterable[Subscription]) -> _Index:
        index = cls()
        for sub in subs:
            if not sub.entities:
                index.anything.append(sub)
                continue
            for sel in sub.entities:
                # a type expression is filed under every type it names; selects() then tells
                lists = [index.by_id.setdefault(sel.id, [])] if sel.id is not None else None
                for into in lists or [index.by_type.setdefault(t, []) for t in sel.types or (sel.type,)]:
                    if not into or into[-1] is not sub:
                        into.append(sub)
        return index

    def candidates(self, entity_id: str, types: Iterable[str]) -> list[Subscription]:
        found = list(self.anything)
        found += self.by_id.get(entity_id, ())
        for t in types:
            found += self.by_type.get(t, ())
        if len(found) < 2:
            return found
        seen: set[int] = set()
        return [s for s in found if not (id(s) in seen or seen.add(id(s)))]  # type: ignore[func-returns-value]


class Notifier:
    """The matcher of one process, with its delivery thread (see the module notes)."""

    def __init__(self, rt: Runtime, config: NotifierConfig | None = None) -> None:
        self.rt = rt
        self.config = config or NotifierConfig()
        self.delivery = Delivery(rt, self.config)
        self._subs: dict[str, dict[str, Subscription]] = {}  # tenant -> id -> subscription
        self._index: dict[str, _Index] = {}  # replaced whole on change: the matcher reads it unlocked
        self._lock = threading.Lock()
        self._events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._cancels: list[Any] = []
        self._thread: threading.Thread | None = None
        self._due: dict[tuple[str, str], float] = {}  # periodic subscriptions: monotonic time of the next round
        self._stopping = threading.Event()
        self._clock = threading.Thread(target=self._run_clock, name="notify clock", daemon=True)

    def start(self) -> None:
        """Load subscriptions and the outbox, then follow the bus."""
        self.delivery.start()
        try:
            stored, _ = list_subscriptions(self.rt, None)
            left = outbox.load(self.rt)
        except Exception:  # e.g. the database is not migrated yet: run without subscriptions
            log.exception("could not load subscriptions; notifications start empty")
            stored, left = [], []
        for s in stored:
            self._load(s, reindex=False)
        self._reindex_all({s.tenant for s in stored})
        self._resume(left)
        self._clock.start()
        bus = self.rt.bus
        if isinstance(bus, MemoryBus):
            self._thread = threading.Thread(target=self._dispatch, name="notify matcher", daemon=True)
            self._thread.start()
            self._cancels.append(bus.subscribe(ENTITY_EVENTS, self._events.put))
            self._cancels.append(bus.subscribe(SUBSCRIPTION_EVENTS, self._events.put))
        else:
            # One consumer for both: a subscription made before an update is loaded before the update is matched.
            events = (ENTITY_EVENTS, SUBSCRIPTION_EVENTS)
            self._cancels.append(bus.subscribe_batches(events, self.handle, durable=DURABLE, replaces=FORMER_DURABLE))

    def close(self) -> None:
        """Stop following the bus and stop delivery (what is unsent stays in the outbox)."""
        for cancel in self._cancels:
            cancel()
        self._cancels = []
        self._stopping.set()
        if self._clock.is_alive():
            self._clock.join(self.config.close_wait)
        if self._thread is not None:
            self._events.put(None)
            self._thread.join(self.config.close_wait)
        self.delivery.close()

    def refresh(self, tenant: str, sub_id: str, *, reindex: bool = True) -> None:
        """Reload one subscription after it was created, changed or deleted (``reindex=False``: the caller
        rebuilds the tenant's index after several)."""
        try:
            stored = get_subscription(self.rt, tenant, sub_id)
        except NgsiLdError:
            with self._lock:
                self._subs.get(tenant, {}).pop(sub_id, None)
                if reindex:
                    self._reindex(tenant)
                self._due.pop((tenant, sub_id), None)
            self.delivery.drop_subscription(tenant, sub_id)
            return
        self._load(stored, reindex=reindex)

    def handle(self, events: list[Event]) -> None:
        """Match events, store the notifications they give and queue them for delivery."""
        items: list[Pending] = []
        stale: set[str] = set()  # tenants whose index waits for the subscriptions just reloaded
        for event in events:
            if event.subject.startswith("subscription."):
                self._save(items)  # what was matched before the change goes out as it was
                items = []
                self.refresh(event.tenant, event.key, reindex=False)
                stale.add(event.tenant)
                continue
            if stale:  # once for a run of changes (a thousand subscriptions made in a row), not once each
                self._reindex_all(stale)
            items += self._match(event)
        if stale:
            self._reindex_all(stale)
        self._save(items)

    # --- internals ---------------------------------------------------------------------------------

    def _load(self, stored: StoredSubscription, *, reindex: bool = True) -> None:
        try:
            sub = subscription_for(self.rt, stored)
        except NgsiLdError as exc:
            log.warning("subscription %s cannot be loaded: %s", stored.id, exc.detail)
            return
        with self._lock:
            self._subs.setdefault(stored.tenant, {})[sub.id] = sub
            if reindex:
                self._reindex(stored.tenant)
            if sub.time_interval is None:
                self._due.pop((stored.tenant, sub.id), None)
            else:
                self._due[(stored.tenant, sub.id)] = time.monotonic()  # first round at once
        self.delivery.set_subscription(stored.tenant, sub, stored)

    def _reindex(self, tenant: str) -> None:
        self._index[tenant] = _Index.of(self._subs.get(tenant, {}).values())

    def _reindex_all(self, tenants: set[str]) -> None:
        with self._lock:
            for tenant in tenants:
                self._reindex(tenant)
        tenants.clear()

    def _resume(self, left: list[tuple[int, list[Pending]]]) -> None:
        """Queue what the outbox held at start (delivery gives up what belongs to subscriptions gone or failed)."""
        if left:
            self.delivery.put(left)

    def _run_clock(self) -> None:
        while not self._stopping.wait(0.1):
            now = time.monotonic()
            with self._lock:
                due = [key for key, at in self._due.items() if at <= now]
            for tenant, sub_id in due:
                sub = self._subs.get(tenant, {}).get(sub_id)
                if sub is None or sub.time_interval is None:
                    continue
                with self._lock:
                    if (tenant, sub_id) in self._due:
                        self._due[(tenant, sub_id)] = max(now, self._due[(tenant, sub_id)]) + sub.time_interval
                if not sub.is_active or sub.expired() or self.delivery.is_failed(tenant, sub_id):
                    continue
                try:
                    self._save(due_items(self.rt, tenant, sub, int(time.time() * 1000)))
                except Exception:
                    log.exception("periodic notification of subscription %s failed", sub_id)

    def _dispatch(self) -> None:
        while True:
            event = self._events.get()
            if event is None:
                return
            batch = [event]
            while len(batch) < _BATCH:
                try:
                    more = self._events.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._events.put(None)
                    break
                batch.append(more)
            try:
                self.handle(batch)
            except Exception:
                log.exception("matching %d events failed; their notifications are lost", len(batch))

    def _match(self, event: Event) -> list[Pending]:
        index = self._index.get(event.tenant)
        if index is None:
            return []
        data = event.data
        candidates = index.candidates(data["id"], data.get("types") or ())
        if not candidates:
            return []
        view = EntityView(event, lambda: self._current(event.tenant, data["id"]))
        rendered: dict[tuple[Any, ...], str] = {}
        items = []
        for sub in candidates:
            if self.delivery.is_failed(event.tenant, sub.id) or not matches(sub, event, view):
                continue
            if sub.reader is not None and sub.reader.department is not None:  # what it may read now, audited
                entity = self._governed(sub, event, view)
            else:
                if sub.reader is not None and governs(self.rt, event.tenant, data.get("types") or ()):
                    self._audited(sub, event, view)  # the city's: sent whole, its read of governed data audited
                shape = (sub.fmt, sub.attributes, sub.pick, sub.omit, id(sub.tm), sub.show_changes, sub.sys_attrs,
                         sub.triggers, sub.watched, sub.dataset_ids)  # fmt: skip
                entity = rendered.get(shape)
                if entity is None:
                    entity = rendered[shape] = orjson.dumps(_render(sub, event, view)).decode()
            if entity is None:
                continue
            items.append(
                Pending(
                    tenant=event.tenant,
                    subscription_id=sub.id,
                    notification_id=outbox.notification_id(event.id, event.tenant, sub.id),
                    seq=outbox.next_seq(),
                    entity_id=data["id"],
                    entity=entity,
                    event_time=event.time,
                )
            )
        return items

    def _governed(self, sub: Subscription, event: Event, view: EntityView) -> str | None:
        """The entity of ``event`` rendered as the department that made ``sub`` may see it; None when it may
        read none of it (the read guard audits what it is sent)."""
        data = event.data
        row = EntityRow(None, data["id"], list(data.get("types") or []), None, view.full(), "", "")
        if not readable(self.rt, event.tenant, sub, [row]):  # its filters read what it may not see
            return None
        sights = look(self.rt, event.tenant, sub.reader, [row])
        if not sights:
            return None
        return orjson.dumps(_render(sub, event, view, sights[0])).decode()

    def _audited(self, sub: Subscription, event: Event, view: EntityView) -> None:
        data = event.data
        look(self.rt, event.tenant, sub.reader, [EntityRow(None, data["id"], list(data.get("types") or []), None,
                                                           view.full(), "", "")])  # fmt: skip

    def _save(self, items: list[Pending]) -> None:
        if not items:
            return
        row_id = outbox.next_seq()
        self.rt.db.run_write(lambda conn: outbox.store(conn, row_id, items))
        self.delivery.put([(row_id, items)])

    def _current(self, tenant: str, entity_id: str) -> dict[str, Any] | None:
        try:
            return get_entity(self.rt, tenant, entity_id).attrs
        except NgsiLdError:
            return None  # deleted since: the event's attributes stand in


def _render(sub: Subscription, event: Event, view: EntityView, sight: Sight | None = None) -> dict[str, Any]:
    if sub.attributes is not None:
        attrs = view.having(sub.attributes)
        pick: frozenset[str] | None = frozenset({"id", "type", *sub.attributes})
    else:
        attrs, pick = view.full(), sub.pick
    if event.subject == ENTITY_DELETED:
        attrs = {}  # a deleted entity's attributes are shown as deleted, if at all (changes.annotate)
    if sight is not None and sight.items is not None:
        attrs = {a: seen for a, insts in attrs.items() if (seen := sight.instances(a, insts)) is not None}
    if sub.dataset_ids is not None:  # datasetId: those instances only ("@none" names the default one)
        wanted = sub.dataset_ids
        attrs = {a: kept for a, insts in attrs.items() if (kept := [i for i in insts if _dataset(i) in wanted])}
    data = event.data
    shown = View(sub.fmt, sys_attrs=sub.sys_attrs, pick=pick, omit=sub.omit)
    stamps = (data.get("createdAt"), data.get("modifiedAt")) if event.subject != ENTITY_DELETED else (None, None)
    out = render_entity(data["id"], data.get("types") or [], None, attrs, sub.tm, shown, *stamps)
    return changes.annotate(out, sub, event, sight, attrs, view.deleted())


def _dataset(inst: dict[str, Any]) -> str:
    return inst.get("datasetId") or "@none"
