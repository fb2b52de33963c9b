"""The persons base registry (自然人库) as the feeds see it, as pure code: which registry attribute each item
of a catalogue entry feeds and who its one source is (一数一源), the checks a record passes before it is
merged, and the merge of one record into what the registry holds (apply the source's values, record the
others' disagreeing values as conflicts).

An item feeds the registry when its key is ``person.<attribute>`` (the attribute of the ``Person`` entity),
or when it has no key of its own (an item of this entry alone: the attribute has the item's name). Items
keyed to another registry (``enterprise.*``) are not the persons registry's and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cityos.core.identifiers import id_card_problem
from cityos.datahub.catalogue import EntryView

PREFIX = "person."
RECORD_KEY = "person.idCard"  # the record key of every persons feed: the ID number
ENTITY_TYPE = "Person"
ENTITY_PREFIX = "urn:ngsi-ld:Person:"
MAX_VALUE = 2000  # characters of one offered value


@dataclass(frozen=True)
class Slot:
    """One item of the feed's entry as the registry takes it."""

    item: str  # the item's name in the entry (the record's field)
    attribute: str  # the Person attribute it feeds
    source: str  # the department whose value the registry takes (the item's one source)


@dataclass(frozen=True)
class Plan:
    """How a feed of one entry maps onto the registry: the record key's item and every slot by item name."""

    code: str
    key: Slot
    slots: dict[str, Slot]


@dataclass
class Merge:
    """What merging one record does: the attributes to set, and the conflicts (item, source, offered)."""

    apply: dict[str, Any] = field(default_factory=dict)  # attribute -> value
    conflicts: list[tuple[str, str, Any]] = field(default_factory=list)
    differs: bool = False  # some applied value differs from what is held


def plan_of(view: EntryView) -> Plan | None:
    """The registry plan of an entry; None when it has no item keyed as the ID number (not a persons feed)."""
    entry, slots = view.entry, {}
    for item in entry.items:
        key = entry.key_of(item)
        source = view.sources[item.name].department if item.name in view.sources else entry.source_of(item)
        if key.startswith(PREFIX):  # only the registry's items (person.X, one source each) are fed: an unkeyed
            slots[item.name] = Slot(item.name, key.removeprefix(PREFIX), source)  # item would claim an attribute
    keys = [i.name for i in entry.items if entry.key_of(i) == RECORD_KEY]
    if not keys:
        return None
    return Plan(entry.code, slots.pop(keys[0]), slots)


def record_problem(plan: Plan, record: Any) -> str | None:
    """Why a record cannot be fed (None when it can): not an object, no record key, an invalid ID number, a
    value that is not a scalar or too long."""
    if not isinstance(record, Mapping):
        return f"a record is an object of item names and values, not {type(record).__name__}"
    key = record.get(plan.key.item)
    if key is None or (isinstance(key, str) and not key.strip()):
        return f"no record key: {plan.key.item} (the ID number) is missing or empty"
    if not isinstance(key, str):
        return f"{plan.key.item}: the ID number is text, not {type(key).__name__}"
    problem = id_card_problem(key.strip().upper())
    if problem is not None:
        return f"{plan.key.item}: {problem}"
    for name in plan.slots:
        value = record.get(name)
        if value is not None and not isinstance(value, str | int | float | bool):
            return f"{name}: a value is text, a number or a boolean, not {type(value).__name__}"
        if isinstance(value, str) and len(value) > MAX_VALUE:
            return f"{name}: {len(value)} characters; at most {MAX_VALUE}"
    return None


def offered(plan: Plan, record: Mapping[str, Any]) -> dict[str, Any]:
    """The values a record offers, by item name (absent and empty values offer nothing)."""
    out = {}
    for name in plan.slots:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        out[name] = value.strip() if isinstance(value, str) else value
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
