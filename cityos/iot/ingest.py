"""The one service function behind every telemetry transport: messages in, entity state and history out.

``ingest`` decodes a batch of messages, checks each against its device's measure map (compiled once
per device model: API key, measure mapping, valid ranges, clock), turns the accepted ones into
attribute instances, gathers them per entity, and writes the whole batch through the data hub's
:func:`~cityos.context.observe` in one transaction: current state and history in a few set
statements, the rejected messages' dead letters with their reasons in the same transaction (so a
crash leaves either all of it or none), events after the commit. Only when it returns may the caller
acknowledge the messages (MQTT PUBACK, HTTP 2xx).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection

from cityos import context as hub
from cityos.core.timefmt import to_ms
from cityos.iot import metrics, store
from cityos.iot.compiled import Model
from cityos.iot.decoders import decode_json, decode_ul, typed_value
from cityos.iot.directory import directory
from cityos.iot.errors import REJECTIONS, Rejected
from cityos.iot.health import tracker
from cityos.iot.models import DeadLetter, Device, Message, Outcome
from cityos.runtime import Runtime


def ingest(rt: Runtime, messages: Sequence[Message]) -> list[Outcome]:
    """Store a batch of telemetry messages; one outcome per message, in order.

    Raises only if the store fails, in which case nothing of the batch is stored and none of it may
    be acknowledged.
    """
    found = directory(rt)
    skew_ms = rt.settings.iot_max_clock_skew * 1000
    outcomes: list[Outcome] = []
    per_entity: dict[tuple[str, str], hub.Observed] = {}
    letters: list[DeadLetter] = []
    heard: dict[str, tuple[str, float | None, float | None]] = {}  # noted to the health tracker once a batch
    for msg in messages:
        device = found.device(msg.device_id)
        try:
            if device is None:
                raise Rejected("unknown-device", f"device {msg.device_id!r} is not provisioned")
            model = found.model(device)
            readings, battery, signal = _accept(device, model, msg, skew_ms)
        except Rejected as exc:
            device_type = device.device_type if device else None
            letters.append(_dead_letter(msg, exc, device_type))
            outcomes.append(
                Outcome(False, exc.code, exc.detail, device_type=device_type, dead_letter_id=letters[-1].id)
            )
            continue
        key = (device.tenant, device.entity_id)
        item = per_entity.get(key)
        if item is None:  # an entity a reading creates is the device's department's
            types = list(model.types)
            per_entity[key] = hub.Observed(device.tenant, device.entity_id, types, device.department, readings)
        else:
            item.readings.extend(readings)
        prev = heard.get(device.device_id)
        if prev is not None:  # a device heard twice in the batch: the later receipt, the last reported values
            at = max(msg.received_at, prev[0])
            battery = battery if battery is not None else prev[1]
            signal = signal if signal is not None else prev[2]
            heard[device.device_id] = (at, battery, signal)
        else:
            heard[device.device_id] = (msg.received_at, battery, signal)
        outcomes.append(Outcome(True, measures=len(readings), device_type=device.device_type))

    if heard:
        tracker(rt).note_many(heard)

    def keep_letters(conn: Connection) -> None:
        store.insert_dead_letters(conn, letters)

    if per_entity:
        hub.observe(rt, list(per_entity.values()), also=keep_letters if letters else None)
    elif letters:
        rt.db.run_write(keep_letters)
    _count(outcomes)
    return outcomes


def _count(outcomes: list[Outcome]) -> None:
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


def _accept(
    device: Device, model: Model, msg: Message, skew_ms: int
) -> tuple[list[tuple[str, dict[str, Any]]], float | None, float | None]:
    """The attribute instances of an acceptable message, with battery and signal if it reports them."""
    if msg.apikey != device.apikey:
        raise Rejected("wrong-apikey", f"API key {msg.apikey!r} is not the key of device {device.device_id!r}'s group")
    if device.protocol != "any" and device.protocol != msg.fmt:
        raise Rejected("unparseable", f"device {device.device_id!r} sends {device.protocol}, this message is {msg.fmt}")
    readings = decode_json(msg.payload) if msg.fmt == "json" else decode_ul(msg.payload)
    latest_ms = _received_ms(msg.received_at) + skew_ms
    out: list[tuple[str, dict[str, Any]]] = []
    battery = signal = None
    slots = model.slots
    for reading in readings:
        observed = reading.observed_at or msg.received_at
        if reading.observed_at is not None and to_ms(observed) > latest_ms:
            raise Rejected(
                "future-timestamp",
                f"observation time {observed} is more than {skew_ms // 1000} s after its receipt ({msg.received_at})",
            )
        for name, raw in reading.measures.items():
            slot = slots.get(name)
            if slot is None:
                raise Rejected(
                    "unknown-measure",
                    f"measure {name!r} is not mapped for device {device.device_id!r} ({model.known})",
                )
            value = typed_value(name, raw, slot.kind)
            if slot.kind == "number" and (
                (slot.min is not None and value < slot.min) or (slot.max is not None and value > slot.max)
            ):
                raise Rejected(
                    "out-of-range",
                    f"measure {name!r} = {value} is outside its valid range [{slot.min}, {slot.max}]",
                )
            inst: dict[str, Any] = {"type": "Property", "value": value, "observedAt": observed}
            if slot.unit_code:
                inst["unitCode"] = slot.unit_code
            out.append((slot.iri, inst))
            if slot.health == "battery":
                battery = value
            elif slot.health == "signal":
                signal = value
    return out, battery, signal


# a transport stamps the messages of one millisecond alike, so a batch holds few receipt times: each parsed once
_received_ms = lru_cache(maxsize=64)(to_ms)


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
