"""The base registries (自然人库 · 法人库 · 空间地理库) as the feeds see them, as pure code: one small declaration
per registry (:data:`REGISTRIES`), which registry attribute each item of a catalogue entry feeds and who its
one source is (一数一源), the checks a record passes before it is merged, and the merge of one record into
what the registry holds (apply the source's values, record the others' disagreeing values as conflicts).

An entry feeds the registry whose record key item it holds (``person.idCard``, ``enterprise.creditCode``,
``place.buildingCode``; the first such item in the entry's order when it holds several). An item feeds that
registry when its key is ``<prefix><attribute>``; items keyed to another registry are left out. An attribute
written ``address.streetAddress`` is a member of a structured property (the ``PostalAddress``-shaped
``address`` of a ``Building``): each member has its own source.

The places registry is keyed by the building code (建筑物编码, e.g. ``HP-B0001``): planning and natural
resources assigns it in its building survey, housing's and the standard address library's records carry it,
and the demo district's ``Building`` entities already have ids made of it, so a record about one of them
merges into it instead of making a second. A standard address code names a doorplate, not a building (a
building may have several), so it is an attribute of the building, not its key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cityos.core.identifiers import credit_code_problem, id_card_problem
from cityos.datahub.catalogue import EntryView

MAX_VALUE = 2000  # characters of one offered value
_BUILDING_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")


def building_code_problem(value: str) -> str | None:
    """Why ``value`` is not a building code (3 to 32 capitals, digits and hyphens, not starting with a hyphen)."""
    if _BUILDING_CODE.fullmatch(value):
        return None
    return f"a building code is 3 to 32 capital letters, digits and hyphens (e.g. HP-B0001), not {value[:40]!r}"


@dataclass(frozen=True)
class Registry:
    """One base registry: the items it takes (keyed ``prefix``), its record key, its entities and their ids."""

    name: str  # persons | legal-entities | places
    prefix: str  # the item keys it takes: "<prefix><attribute>"
    entity_type: str  # the NGSI-LD type of its entities (a Smart Data Model type)
    key_attribute: str  # the attribute holding the record key (its item key is prefix + key_attribute)
    key_name: str  # what the key is, for a person reading a rejection
    check: Callable[[str], str | None]  # why a key is invalid (None: valid)
    hashed: bool  # the id is a keyed hash of the key (personal data), else the key itself (public)
    # a feed without the key is resolved to the registry's entities by this model (cityos.datahub.resolution),
    # comparing these attributes (model field, attribute); None: records are matched by their key only
    resolution: str | None = None
    resolved_by: tuple[tuple[str, str], ...] = ()

    @property
    def key_item(self) -> str:
        return self.prefix + self.key_attribute

    @property
    def id_prefix(self) -> str:
        return f"urn:ngsi-ld:{self.entity_type}:"


PERSONS = Registry("persons", "person.", "Person", "idCard", "the ID number", id_card_problem, hashed=True)
LEGAL_ENTITIES = Registry("legal-entities", "enterprise.", "Organization", "creditCode",
                          "the unified social credit code", credit_code_problem, hashed=False,
                          resolution="legal-entity",
                          resolved_by=(("name", "name"), ("address", "domicile"),
                                       ("legalRepresentative", "legalRepresentative")))  # fmt: skip
PLACES = Registry("places", "place.", "Building", "buildingCode", "the building code", building_code_problem,
                  hashed=False, resolution="place", resolved_by=(("address", "address.streetAddress"),))  # fmt: skip
RESOLVED_KEY = "@key"  # the record's key as resolution found it (no item is named so)
REGISTRIES = (PERSONS, LEGAL_ENTITIES, PLACES)
BY_NAME = {r.name: r for r in REGISTRIES}


def normal_key(key: str) -> str:
    """A record key as the registries hold it: trimmed, capitals (an ID number's x, a code's letters)."""
    return key.strip().upper()


@dataclass(frozen=True)
class Slot:
    """One item of the feed's entry as the registry takes it."""

    item: str  # the item's name in the entry (the record's field)
    attribute: str  # the entity attribute it feeds ("address.streetAddress": a member of a structured one)
    source: str  # the department whose value the registry takes (the item's one source)
    kind: str = "text"  # the item's kind: a "number" given as text (a CSV's cells) is held as a number


@dataclass(frozen=True)
class Plan:
    """How a feed of one entry maps onto its registry: the record key's item and every slot by item name."""

    code: str
    key: Slot
    slots: dict[str, Slot]
    registry: Registry = PERSONS
    # the entry holds no key item: its records are resolved to the registry's entities by the items naming
    # them (``identifying``: those items, which identify and are not offered as values)
    resolving: bool = False
    identifying: frozenset[str] = frozenset()


@dataclass
class Merge:
    """What merging one record does: the attributes to set, and the conflicts (item, source, offered)."""

    apply: dict[str, Any] = field(default_factory=dict)  # attribute -> value
    conflicts: list[tuple[str, str, Any]] = field(default_factory=list)
    differs: bool = False  # some applied value differs from what is held


def registry_of(view: EntryView) -> Registry | None:
    """The registry an entry feeds: that of the first of its items keyed as a registry's record key."""
    by_key = {r.key_item: r for r in REGISTRIES}
    for item in view.entry.items:
        found = by_key.get(view.entry.key_of(item))
        if found is not None:
            return found
    return None


def plan_of(view: EntryView, key_source: Callable[[Registry], str | None] | None = None) -> Plan | None:
    """The registry plan of an entry; None when it has no item keyed as a registry's record key, unless its
    items feed a registry whose records may be resolved (``key_source`` names the one source of that
    registry's key, who keeps its entities): then a resolving plan, its records matched by the items that
    identify an entity (an enterprise's name, domicile and legal representative; a building's address)."""
    registry = registry_of(view)
    if registry is None:
        return _resolving_plan(view, key_source) if key_source is not None else None
    entry, slots = view.entry, {}
    for item in entry.items:
        key = entry.key_of(item)
        source = view.sources[item.name].department if item.name in view.sources else entry.source_of(item)
        # only the registry's items (one source each) are fed: an unkeyed item would claim an attribute
        if key.startswith(registry.prefix):
            slots[item.name] = Slot(item.name, key.removeprefix(registry.prefix), source, item.kind)
    keys = [i.name for i in entry.items if entry.key_of(i) == registry.key_item]
    return Plan(entry.code, slots.pop(keys[0]), slots, registry)


def _resolving_plan(view: EntryView, key_source: Callable[[Registry], str | None]) -> Plan | None:
    entry = view.entry
    keys = [entry.key_of(i) for i in entry.items]
    registry = next((r for r in REGISTRIES if r.resolution and any(k.startswith(r.prefix) for k in keys)), None)
    source = key_source(registry) if registry is not None else None
    if registry is None or source is None:
        return None
    slots = {}
    for item in entry.items:
        key = entry.key_of(item)
        if key.startswith(registry.prefix):
            item_source = view.sources[item.name].department if item.name in view.sources else entry.source_of(item)
            slots[item.name] = Slot(item.name, key.removeprefix(registry.prefix), item_source, item.kind)
    by = {a for _, a in registry.resolved_by}
    identifying = frozenset(n for n, s in slots.items() if s.attribute in by)
    if not identifying:
        return None
    found = Slot(RESOLVED_KEY, registry.key_attribute, source)
    return Plan(entry.code, found, slots, registry, resolving=True, identifying=identifying)


def identifying_values(plan: Plan, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's values of the fields its plan's resolution model compares (field -> value)."""
    by_attribute = {plan.slots[n].attribute: n for n in plan.identifying}
    out = {}
    for field_name, attribute in plan.registry.resolved_by:
        value = record.get(by_attribute[attribute]) if attribute in by_attribute else None
        if value is not None and not (isinstance(value, str) and not value.strip()):
            out[field_name] = value
    return out


def record_problem(plan: Plan, record: Any) -> str | None:
    """Why a record cannot be fed (None when it can): not an object, no record key, an invalid key, a value
    that is not a scalar or too long. A record is matched to the registry by its key alone."""
    if not isinstance(record, Mapping):
        return f"a record is an object of item names and values, not {type(record).__name__}"
    registry, key = plan.registry, record.get(plan.key.item)
    if key is None or (isinstance(key, str) and not key.strip()):
        return (f"no record key: {plan.key.item} ({registry.key_name}) is missing or empty; a record is "
                f"matched to the {registry.name} registry by its key only: add the key and feed it again")  # fmt: skip
    if not isinstance(key, str):
        return f"{plan.key.item}: {registry.key_name} is text, not {type(key).__name__}"
    problem = registry.check(normal_key(key))
    if problem is not None:
        return f"{plan.key.item}: {problem}"
    for name in plan.slots:
        value = record.get(name)
        if value is not None and not isinstance(value, str | int | float | bool):
            return f"{name}: a value is text, a number or a boolean, not {type(value).__name__}"
        if isinstance(value, str) and len(value) > MAX_VALUE:
            return f"{name}: {len(value)} characters; at most {MAX_VALUE}"
        if isinstance(value, str) and "\x00" in value:
            return f"{name}: holds the character U+0000 (NUL), which cannot be stored: remove it"
        if plan.slots[name].kind == "number" and isinstance(value, str) and value.strip() and _number(value) is None:
            return f"{name}: a number, not {value[:40]!r}"
    return None


def _number(text: str) -> int | float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def offered(plan: Plan, record: Mapping[str, Any]) -> dict[str, Any]:
    """The values a record offers, by item name (absent and empty values offer nothing, nor, in a resolving
    plan, the items that identify the record's entity)."""
    out = {}
    for name in plan.slots:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()) or name in plan.identifying:
            continue
        if isinstance(value, str):
            value = value.strip()
            if plan.slots[name].kind == "number":  # checked by record_problem: "8" is held as 8
                value = _number(value)
        out[name] = value
    return out


def merge(plan: Plan, department: str, values: Mapping[str, Any], held: Mapping[str, Any]) -> Merge:
    """Merge one record's ``values`` (item -> value) from ``department`` into ``held`` (attribute -> value the
    registry holds): the source's values are applied; another department's value is fine when it agrees and
    a conflict when it disagrees or the registry holds none (it is never applied)."""
    out = Merge()
    for name, value in values.items():
        slot = plan.slots[name]
        current = held.get(slot.attribute)
        if slot.source == department:
            out.apply[slot.attribute] = value
            out.differs = out.differs or current != value
        elif current != value:
            out.conflicts.append((name, slot.source, value))
    return out


def held_values(attributes: Mapping[str, Any], wanted: Any) -> dict[str, Any]:
    """The values an entity holds for the ``wanted`` attributes, from its top-level property values
    (``attributes``: name -> value); a member ``a.b`` is ``b`` of the object ``a`` (None when absent)."""
    out = {}
    for name in wanted:
        top, _, member = name.partition(".")
        value = attributes.get(top)
        out[name] = (value.get(member) if isinstance(value, dict) else None) if member else value
    return out


def shaped(changes: Mapping[str, Any], attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level property values that set ``changes`` (attribute -> value): a member's change makes its
    object anew from the one held (``attributes``: name -> value) with the member set."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        top, _, member = name.partition(".")
        if not member:
            out[top] = value
            continue
        if top not in out:
            held = attributes.get(top)
            out[top] = dict(held) if isinstance(held, dict) else {}
        out[top][member] = value
    return out
