"""A device model's measure map compiled once: what ingest checks each message against.

Devices of one kind share one mapping of measure names to attributes (50,000 air-quality stations,
one map); compiling it once (attribute IRIs expanded, the entity's type IRIs, the health measures
marked) leaves a message's check to dictionary lookups and the value's own tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityos.context import core_term_map
from cityos.iot.models import BATTERY_ATTR, SIGNAL_ATTR, Device, Measure, ValueKind


@dataclass(frozen=True)
class Slot:
    """One measure of a model: where its value goes and what it must be."""

    iri: str  # the attribute's expanded IRI
    kind: ValueKind
    unit_code: str | None
    min: float | None
    max: float | None
    health: str | None  # "battery" or "signal" when the measure also feeds the device's health


@dataclass(frozen=True)
class Model:
    types: tuple[str, ...]  # the entity's type IRIs
    slots: dict[str, Slot]  # measure name -> slot
    known: str  # the measure names, for a rejection's message


Shape = tuple[str, tuple[tuple[str, Measure], ...]]


def shape_of(device: Device) -> Shape:
    """What makes two devices one model: their entity type and measure map."""
    return device.entity_type, tuple(device.measures.items())


def compile_model(device: Device) -> Model:
    tm = core_term_map()
    slots = {
        name: Slot(
            tm.expand(m.attr),
            m.kind,
            m.unit_code,
            m.min,
            m.max,
            "battery" if m.attr == BATTERY_ATTR else "signal" if m.attr == SIGNAL_ATTR else None,
        )
        for name, m in device.measures.items()
    }
    return Model((tm.expand(device.entity_type),), slots, ", ".join(sorted(device.measures)) or "none")
