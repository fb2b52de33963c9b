"""Which bus events notify which subscriptions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cityos.bus import Event
from cityos.context.contexts import resolver
from cityos.context.entity import TermMap
from cityos.context.events import ENTITY_CREATED, ENTITY_DELETED
from cityos.context.geo import matches as geo_matches
from cityos.context.governance import Filtered, unreadable_types
from cityos.context.jsonld import CORE_CONTEXT_URL
from cityos.context.qeval import eval_q
from cityos.context.store import EntityRow
from cityos.context.subscriptions.changes import change_kinds, deleted_instances, triggered
from cityos.context.subscriptions.model import NOTIFYING_SUBJECTS, StoredSubscription, Subscription
from cityos.context.subscriptions.parsing import parse_subscription
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

Attrs = dict[str, list[dict[str, Any]]]


class EntityView:
    """The entity an event is about: the event's attributes, and the current ones loaded on first need.

    An ``entity.updated`` event carries only the attributes that changed; ``load`` returns all current
    attributes (or None when the entity is gone, in which case the event's attributes stand in). An
    ``entity.deleted`` one carries all the entity held when it was deleted.
    """

    def __init__(self, event: Event, load: Callable[[], Attrs | None] | None = None) -> None:
        self.event = event
        self.attrs: Attrs = event.data.get("attrs") or {}
        self.complete = event.subject in (ENTITY_CREATED, ENTITY_DELETED)
        self._load = load
        self._full: Attrs | None = None
        self._kinds: dict[str, set[str]] | None = None
        self._deleted: Attrs | None = None

    def kinds(self) -> dict[str, set[str]]:
        """What the event created, updated and deleted (``changes.change_kinds``), worked out once for all the
        subscriptions it is matched against."""
        if self._kinds is None:
            self._kinds = change_kinds(self.event, self.deleted())
        return self._kinds

    def deleted(self) -> Attrs:
        """The instances the event deleted (``changes.deleted_instances``), worked out once."""
        if self._deleted is None:
            self._deleted = deleted_instances(self.event)
        return self._deleted

    def full(self) -> Attrs:
        """All current attributes of the entity."""
        if self.complete:
            return self.attrs
        if self._full is None:
            loaded = self._load() if self._load else None
            # The event's own values are at least as new as the ones loaded.
            self._full = {**(loaded or {}), **self.attrs}
        return self._full

    def having(self, names: Iterable[str]) -> Attrs:
        """Attributes that include ``names`` when the entity has them, loading only if needed."""
        if self.complete or all(n in self.attrs for n in names):
            return self.attrs
        return self.full()


def matches(sub: Subscription, event: Event, view: EntityView | None = None, now: str | None = None) -> bool:
    """Whether ``event`` should notify ``sub``: entities, notificationTrigger on watchedAttributes, q and geoQ
    all hold (q and geoQ on a deleted entity: on what it held).

    Inactive and expired subscriptions never match.
    ``view`` lets the caller load the current entity when q or geoQ reads attributes that an update
    event does not carry; without one, only the event's attributes are seen.
    """
    if event.subject not in NOTIFYING_SUBJECTS or not sub.is_active or sub.expired(now):
        return False
    if sub.time_interval is not None:
        return False  # periodic: notified by the clock, not by changes (see selects_entity)
    data = event.data
    if sub.entities and not any(s.selects(data["id"], data.get("types") or ()) for s in sub.entities):
        return False
    if view is None:
        view = EntityView(event)
    if not triggered(sub, event, view.kinds()):
        return False
    return _q_and_geo_hold(sub, view.having, now)


def selects_entity(sub: Subscription, entity_id: str, types: Iterable[str], attrs: Attrs) -> bool:
    """Whether a periodic subscription sends this entity: entities, q and geoQ hold on its attributes."""
    if sub.entities and not any(s.selects(entity_id, types) for s in sub.entities):
        return False
    return _q_and_geo_hold(sub, lambda names: attrs)


def _q_and_geo_hold(sub: Subscription, having: Callable[[Iterable[str]], Attrs], now: str | None = None) -> bool:
    # an instance past its expiresAt is not there for q, as for a query (NGSI-LD 4.22)
    if sub.q is not None and not eval_q(sub.q, having(sub.q_attrs), sub.tm.expand, now or now_iso()):
        return False
    if sub.geo is not None:
        iri = sub.geo_iri or ""
        instances = having([iri]).get(iri) or []
        gq = sub.geo
        if not any(i.get("type") == "GeoProperty" and geo_matches(gq, i.get("value")) for i in instances):
            return False
    return True


def term_map_for(rt: Runtime, context: Any) -> TermMap:
    """The term map of a subscription's stored @context (None: the core context). May fetch it."""
    wanted = None if context in (None, CORE_CONTEXT_URL) else context
    return resolver(rt).cached(wanted) or resolver(rt).resolve(wanted)


def readable(rt: Runtime, tenant: str, sub: Subscription, rows: list[EntityRow]) -> list[EntityRow]:
    """The rows a department's subscription may be notified of as far as its filters go: an entity whose
    attributes its q or geoQ compare it may not see in full, or whose watchedAttributes it may not see at
    all, is left out (its notifications would tell what the department may not read). The read guard then
    cuts and masks what is left (cityos.context.governance)."""
    compared = sub.q_attrs | ({sub.geo_iri} if sub.geo is not None and sub.geo_iri else set())
    if sub.reader is None or not (compared or sub.watched):
        return rows  # no filter reads an attribute: nothing to ask the guard (it costs a grant lookup per entry)
    filters = Filtered(frozenset(compared), sub.watched or frozenset())
    hidden = unreadable_types(rt, tenant, sub.reader, filters)
    return [r for r in rows if hidden.isdisjoint(r.types)] if hidden else rows


def subscription_for(rt: Runtime, stored: StoredSubscription) -> Subscription:
    """The matchable form of a stored subscription, its names expanded with its own @context."""
    sub = parse_subscription(stored.body, term_map_for(rt, stored.context), context=stored.context)
    sub.reader = stored.reader()
    return sub
