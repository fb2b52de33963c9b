"""What a change was, for ``notificationTrigger``, and how a notification shows it (NGSI-LD v1.8, clauses
5.2.12 and 5.8.6): deleted attributes and instances as NGSI-LD Null, previous values with ``showChanges``.

An ``entity.updated`` event carries the changed attributes, the removed ones and the ``previous`` instances of
both; an ``entity.deleted`` event carries every attribute the entity held. An attribute is *created* when it
did not exist before, *updated* when an instance of it changed or was added, *deleted* when it or one of its
instances (a datasetId) is gone. Deleting an entity deletes each of its attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from cityos.bus import Event
from cityos.context.entity import LANGUAGEPROPERTY, NULL_URI, PROPERTY, VALUE_MEMBER, TermMap
from cityos.context.events import ENTITY_CREATED, ENTITY_DELETED, ENTITY_UPDATED
from cityos.context.governance import Sight
from cityos.context.render import CONCISE, NORMALIZED, SIMPLIFIED, View, render_instance, shown_ts
from cityos.context.subscriptions.model import (
    ATTRIBUTE_CREATED,
    ATTRIBUTE_DELETED,
    ATTRIBUTE_UPDATED,
    ENTITY_CREATED_T,
    ENTITY_DELETED_T,
    ENTITY_UPDATED_T,
    Subscription,
)
from cityos.core.timefmt import from_ms

Attrs = dict[str, list[dict[str, Any]]]


def _dataset(inst: dict[str, Any]) -> Any:
    return inst.get("datasetId")


def deleted_instances(event: Event) -> Attrs:
    """The instances an event deleted, by attribute IRI (every one, for a deleted entity)."""
    data = event.data
    if event.subject == ENTITY_DELETED:
        return dict(data.get("attrs") or {})
    if event.subject != ENTITY_UPDATED:
        return {}
    previous: Attrs = data.get("previous") or {}
    current: Attrs = data.get("attrs") or {}
    out: Attrs = {}
    for iri in data.get("removed") or ():
        if previous.get(iri):
            out[iri] = previous[iri]
    for iri, now in current.items():
        kept = {_dataset(i) for i in now}
        lost = [i for i in previous.get(iri, ()) if _dataset(i) not in kept]
        if lost:
            out[iri] = lost
    return out


def change_kinds(event: Event, deleted_attrs: Attrs | None = None) -> dict[str, set[str]]:
    """The attributes an event created, updated and deleted, by attribute trigger (the same for every subscription
    it is matched against: worked out once per event by :class:`~cityos.context.subscriptions.matching.EntityView`)."""
    data = event.data
    attrs: Attrs = data.get("attrs") or {}
    if event.subject == ENTITY_CREATED:
        return {ATTRIBUTE_CREATED: set(attrs), ATTRIBUTE_UPDATED: set(), ATTRIBUTE_DELETED: set()}
    if event.subject == ENTITY_DELETED:
        return {ATTRIBUTE_CREATED: set(), ATTRIBUTE_UPDATED: set(), ATTRIBUTE_DELETED: set(attrs)}
    previous: Attrs | None = data.get("previous")
    deleted = set(deleted_instances(event) if deleted_attrs is None else deleted_attrs)
    if previous is None:  # published before events carried previous values: every change an update
        return {ATTRIBUTE_CREATED: set(), ATTRIBUTE_UPDATED: set(attrs), ATTRIBUTE_DELETED: deleted}
    created = {a for a in attrs if a not in previous}
    updated = set()
    for iri, now in attrs.items():
        if iri in previous:
            before = {_dataset(i): i for i in previous[iri]}
            if any(before.get(_dataset(i)) != i for i in now):
                updated.add(iri)
    return {ATTRIBUTE_CREATED: created, ATTRIBUTE_UPDATED: updated, ATTRIBUTE_DELETED: deleted}


def triggered(sub: Subscription, event: Event, changed: dict[str, set[str]] | None = None) -> bool:
    """Whether the change ``event`` tells is one of ``sub``'s notificationTrigger, on its watchedAttributes;
    ``changed`` is ``change_kinds(event)`` when the caller has it."""
    kinds = changed if changed is not None else change_kinds(event)
    watched = sub.watched

    def seen(names: Iterable[str]) -> bool:
        names = set(names)
        return bool(names) if watched is None else not names.isdisjoint(watched)

    triggers = sub.triggers
    held = kinds[ATTRIBUTE_CREATED] | kinds[ATTRIBUTE_DELETED]  # a created or deleted entity's attributes
    if event.subject == ENTITY_CREATED and ENTITY_CREATED_T in triggers and (watched is None or seen(held)):
        return True
    if event.subject == ENTITY_DELETED and ENTITY_DELETED_T in triggers and (watched is None or seen(held)):
        return True
    if event.subject == ENTITY_UPDATED and ENTITY_UPDATED_T in triggers and seen(set().union(*kinds.values())):
        return True
    return any(t in triggers and seen(kinds[t]) for t in (ATTRIBUTE_CREATED, ATTRIBUTE_UPDATED, ATTRIBUTE_DELETED))


def _shown(sub: Subscription, iri: str) -> bool:
    if sub.attributes is not None:
        return iri in sub.attributes
    return View(pick=sub.pick, omit=sub.omit).wants(iri)


def _previous_member(member: str) -> str:
    return "previous" + member[0].upper() + member[1:]


def _null(inst: dict[str, Any], sub: Subscription, tm: TermMap, deleted_at: Any) -> Any:
    """A deleted instance as NGSI-LD Null (clause 5.2.1), with its previous value when showChanges asks."""
    if sub.fmt == SIMPLIFIED:
        return NULL_URI
    kind = inst.get("type", PROPERTY)
    member = VALUE_MEMBER.get(kind, "value")
    out: dict[str, Any] = {"type": kind}
    if "datasetId" in inst:
        out["datasetId"] = inst["datasetId"]
    out[member] = {"@none": NULL_URI} if kind == LANGUAGEPROPERTY else NULL_URI
    if sub.show_changes:
        out[_previous_member(member)] = render_instance(inst, tm, View(NORMALIZED)).get(member)
    if sub.sys_attrs and deleted_at:
        for key in ("createdAt", "modifiedAt"):
            if inst.get(key):
                out[key] = shown_ts(inst[key])
        out["deletedAt"] = shown_ts(deleted_at)
    if sub.fmt == CONCISE:
        out.pop("type")
    return out


def _as_list(rendered: Any) -> list[Any]:
    if rendered is None:
        return []
    return list(rendered) if isinstance(rendered, list) else [rendered]


def _add_previous(shown: list[Any], before: list[dict[str, Any]], tm: TermMap) -> list[Any]:
    by_dataset = {_dataset(i): i for i in before}
    out = []
    for item in shown:
        if not isinstance(item, dict) or ("type" not in item and "value" not in item):
            item = {"value": item}  # a concise bare value: the previous one needs an object beside it
        old = by_dataset.get(item.get("datasetId"))
        if old is not None:
            kind = old.get("type", PROPERTY)
            member = VALUE_MEMBER.get(kind, "value")
            previous = render_instance(old, tm, View(NORMALIZED)).get(member)
            if previous != item.get(member):
                item = {**item, _previous_member(member): previous}
        out.append(item)
    return out


def annotate(
    out: dict[str, Any],
    sub: Subscription,
    event: Event,
    sight: Sight | None = None,
    shown: dict[str, list[dict[str, Any]]] | None = None,
    deleted_attrs: Attrs | None = None,
) -> dict[str, Any]:
    """A rendered entity of a notification with its deletions (and previous values) shown; ``shown`` are the
    instances it was rendered from (their datasetIds key a simplified multi-attribute); ``deleted_attrs`` is
    ``deleted_instances(event)`` when the caller has it."""
    data = event.data
    governed = sight is not None and sight.items is not None
    tm = sub.tm
    if sub.sys_attrs:  # the entity's own, in every format (ETSI 046_17_01, 046_21_02)
        for key in ("createdAt", "modifiedAt"):
            if data.get(key):
                out[key] = shown_ts(data[key])
    if event.subject == ENTITY_DELETED:
        out["deletedAt"] = shown_ts(data.get("deletedAt"))
    if sub.show_changes and sub.fmt != SIMPLIFIED and event.subject == ENTITY_UPDATED and not governed:
        # previous values of a governed subscription are left out: masking is decided on current values
        previous: Attrs = data.get("previous") or {}
        for iri, before in previous.items():
            name = tm.compact(iri)
            if name in out and _shown(sub, iri):
                items = _add_previous(_as_list(out[name]), before, tm)
                out[name] = items[0] if len(items) == 1 else items
    deleted = deleted_instances(event) if deleted_attrs is None else deleted_attrs
    if not deleted:
        return out
    deleted_at = data.get("deletedAt") or from_ms(int(event.time * 1000))
    if event.subject == ENTITY_DELETED:
        # a deleted entity shows its attributes only to those that watch attribute deletions (the watched
        # ones) or ask for the changes
        keep = set(deleted) if sub.show_changes and not governed else set()
        if ATTRIBUTE_DELETED in sub.triggers:
            keep |= set(deleted) if sub.watched is None else set(deleted) & sub.watched
        deleted = {iri: insts for iri, insts in deleted.items() if iri in keep}
    for iri, insts in deleted.items():
        if not _shown(sub, iri) or (governed and sight is not None and sight.instances(iri, insts) is None):
            continue
        name = tm.compact(iri)
        if name not in out and any(_dataset(i) is None for i in insts):
            # the whole attribute is gone: one Null, of its default instance (ETSI 046_22_08)
            insts = [next(i for i in insts if _dataset(i) is None)]
        nulls = [_null(i, _plain(sub) if governed else sub, tm, deleted_at) for i in insts]
        if sub.fmt == SIMPLIFIED:
            out[name] = _simplified_with(out.get(name), (shown or {}).get(iri) or [], insts, nulls)
            continue
        items = _as_list(out.get(name)) + nulls
        out[name] = items[0] if len(items) == 1 else items
    return out


def _simplified_with(current: Any, held: list[dict[str, Any]], deleted: list[dict[str, Any]], nulls: list[Any]) -> Any:
    """A simplified attribute with its deleted instances added as Null: one value alone, or the values of a
    multi-attribute by datasetId ("@none" the default; NGSI-LD 4.5.4; ETSI 046_22_07)."""
    if current is None and len(nulls) == 1:
        return nulls[0]
    if isinstance(current, dict) and len(held) > 1 and isinstance(current.get("dataset"), dict):
        values = dict(current["dataset"])
    else:
        values = {} if current is None else {(held[0].get("datasetId") if held else None) or "@none": current}
    for inst, null in zip(deleted, nulls, strict=True):
        values[_dataset(inst) or "@none"] = null
    return {"dataset": values}


def _plain(sub: Subscription) -> Subscription:
    """``sub`` without showChanges: a governed one is not sent values it was not shown when they were current."""
    return replace(sub, show_changes=False) if sub.show_changes else sub
