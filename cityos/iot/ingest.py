"""The one service function behind every telemetry transport: messages in, entity state and history out.

``ingest`` decodes a batch of messages, checks each against its device (API key, measure mapping,
valid ranges, clock), turns the accepted ones into attribute instances, and writes them through the
context hub in one transaction per tenant (current state and history together, events after the
commit). Rejected messages become dead letters with their reason. Only when it returns may the
caller acknowledge the messages (MQTT PUBACK, HTTP 2xx).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

from cityos import context as hub
from cityos.context import core_term_map
from cityos.core.timefmt import to_ms
from cityos.iot import metrics, store
from cityos.iot.decoders import decode_json, decode_ul, typed_value
from cityos.iot.directory import directory
from cityos.iot.errors import REJECTIONS, Rejected
from cityos.iot.health import tracker
from cityos.iot.models import BATTERY_ATTR, SIGNAL_ATTR, DeadLetter, Device, Message, Outcome
from cityos.runtime import Runtime


@lru_cache(maxsize=4096)
def _iri(term: str) -> str:
    return core_term_map().expand(term)


def ingest(rt: Runtime, messages: Sequence[Message]) -> list[Outcome]:
    """Store a batch of telemetry messages; one outcome per message, in order.

    Raises only if the store fails, in which case nothing of the batch may be acknowledged.
    """
    found = directory(rt)
    skew = timedelta(seconds=rt.settings.iot_max_clock_skew)
    outcomes: list[Outcome] = []
    per_entity: dict[tuple[str, str], tuple[Device, list[tuple[str, dict[str, Any]]]]] = {}
    letters: list[DeadLetter] = []
    health = tracker(rt)
    for msg in messages:
        device = found.device(msg.device_id)
        try:
            instances, battery, signal = _accept(device, msg, skew)
        except Rejected as exc:
            device_type = device.device_type if device else None
            letters.append(_dead_letter(msg, exc, device_type))
            outcomes.append(
                Outcome(False, exc.code, exc.detail, device_type=device_type, dead_letter_id=letters[-1].id)
            )
            continue
        assert device is not None
        _, items = per_entity.setdefault((device.tenant, device.entity_id), (device, []))
        items.extend(instances)
        health.note(device.device_id, msg.received_at, battery, signal)
        outcomes.append(Outcome(True, measures=len(instances), device_type=device.device_type))
    # an entity a reading creates is the device's department's
    by_owner: dict[tuple[str, str], list[tuple[str, hub.Mutation]]] = {}
    for (tenant, entity_id), (device, items) in per_entity.items():
        ops = by_owner.setdefault((tenant, device.department), [])
        ops.append((entity_id, hub.m_observe(entity_id, [_iri(device.entity_type)], items)))
    for (tenant, department), ops in by_owner.items():
        hub.apply(rt, tenant, ops, creates=True, writer=hub.Writer(department))
    if letters:
        rt.db.run_write(lambda conn: store.insert_dead_letters(conn, letters))
    counted: Counter[tuple[str, str]] = Counter()
    measured: Counter[str] = Counter()
    for outcome in outcomes:  # counted per batch: a labelled counter costs microseconds per call
        kind = outcome.device_type or "unknown"
        counted[(kind, "accepted" if outcome.accepted else outcome.reason_code or "rejected")] += 1
        measured[kind] += outcome.measures
    for (kind, result), n in counted.items():
        metrics.MESSAGES.labels(kind, result).inc(n)
    for kind, n in measured.items():
        if n:
            metrics.MEASURES.labels(kind).inc(n)
    return outcomes


def _accept(
    device: Device | None, msg: Message, skew: timedelta
) -> tuple[list[tuple[str, dict[str, Any]]], float | None, float | None]:
    """The attribute instances of an acceptable message, with battery and signal if it reports them."""
    if device is None:
        raise Rejected("unknown-device", f"device {msg.device_id!r} is not provisioned")
    if msg.apikey != device.apikey:
        raise Rejected("wrong-apikey", f"API key {msg.apikey!r} is not the key of device {device.device_id!r}'s group")
    if device.protocol != "any" and device.protocol != msg.fmt:
        raise Rejected("unparseable", f"device {device.device_id!r} sends {device.protocol}, this message is {msg.fmt}")
    readings = decode_json(msg.payload) if msg.fmt == "json" else decode_ul(msg.payload)
    latest_ms = to_ms(msg.received_at) + int(skew.total_seconds() * 1000)
    out: list[tuple[str, dict[str, Any]]] = []
    battery = signal = None
    for reading in readings:
        observed = reading.observed_at or msg.received_at
        if to_ms(observed) > latest_ms:
            raise Rejected(
                "future-timestamp",
                f"observation time {observed} is more than {int(skew.total_seconds())} s after its receipt "
                f"({msg.received_at})",
            )
        for name, raw in reading.measures.items():
            inst, attr = _instance(device, name, raw, observed)
            out.append((_iri(attr), inst))
            if attr == BATTERY_ATTR:
                battery = inst["value"]
            elif attr == SIGNAL_ATTR:
                signal = inst["value"]
    return out, battery, signal


def _instance(device: Device, name: str, raw: Any, observed: str) -> tuple[dict[str, Any], str]:
    measure = device.measures.get(name)
    if measure is None:
        known = ", ".join(sorted(device.measures)) or "none"
        raise Rejected("unknown-measure", f"measure {name!r} is not mapped for device {device.device_id!r} ({known})")
    value = typed_value(name, raw, measure.kind)
    low = measure.min is not None and value < measure.min
    high = measure.max is not None and value > measure.max
    if measure.kind == "number" and (low or high):
        raise Rejected(
            "out-of-range", f"measure {name!r} = {value} is outside its valid range [{measure.min}, {measure.max}]"
        )
    inst: dict[str, Any] = {"type": "Property", "value": value, "observedAt": observed}
    if measure.unit_code:
        inst["unitCode"] = measure.unit_code
    return inst, measure.attr


def _dead_letter(msg: Message, rejected: Rejected, device_type: str | None) -> DeadLetter:
    return DeadLetter(
        id=str(uuid.uuid4()),
        received_at=msg.received_at,
        transport=msg.transport,
        fmt=msg.fmt,
        apikey=msg.apikey,
        device_id=msg.device_id,
        device_type=device_type,
        topic=msg.topic,
        reason_code=rejected.code,
        reason=f"{rejected.detail} ({REJECTIONS[rejected.code]})",
        payload=msg.payload,
    )
