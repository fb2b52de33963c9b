"""Payload decoders: JSON and FIWARE UltraLight 2.0, each to a list of readings. Pure functions.

JSON: an object of measures (``{"t": 25.1, "h": 60}``), or a list of such objects; ``observedAt``
(or FIWARE's ``TimeInstant``) in an object is its observation time.

UltraLight 2.0: ``t|25.1|h|60``; several groups separated by ``#``; a group with an odd number of
fields starts with its observation time (``2026-11-21T08:00:00Z|t|25.1``). Values stay text here:
the device's measure mapping says what type each one is.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from cityos.core.jsondepth import nests_deeper_than
from cityos.core.timefmt import normalize_ts
from cityos.iot.errors import Rejected
from cityos.iot.models import Reading, ValueKind

TIME_KEYS = ("observedAt", "TimeInstant")
MAX_READINGS = 1000  # per message
# A payload is a list of objects of plain values (two levels); the bound leaves room for the message that
# names a nested value, and keeps a payload nested hundreds deep (MQTT has no body limit in front of it)
# from failing the whole batch with a RecursionError when that value is shown.
MAX_DEPTH = 8


def decode_json(payload: bytes) -> list[Reading]:
    if nests_deeper_than(payload, MAX_DEPTH):
        raise Rejected(
            "unparseable",
            f"the payload nests more than {MAX_DEPTH} levels: send an object of measures or a list of them",
        )
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise Rejected("unparseable", f"the payload is not JSON: {exc}") from None
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise Rejected("unparseable", "the payload is an empty list: send at least one object of measures")
    if len(items) > MAX_READINGS:
        raise Rejected("unparseable", f"the payload holds {len(items)} readings: at most {MAX_READINGS} per message")
    return [_json_reading(item, n) for n, item in enumerate(items)]


def _json_reading(item: Any, n: int) -> Reading:
    where = f"reading {n}" if n else "the payload"
    if not isinstance(item, dict):
        raise Rejected("unparseable", f"{where} is not a JSON object of measure names and values")
    measures: dict[str, Any] = {}
    observed: str | None = None
    for key, value in item.items():
        if key in TIME_KEYS:
            observed = _time(value)
        elif not key:
            raise Rejected("unparseable", f"{where} has an empty measure name")
        elif isinstance(value, dict | list) or value is None:
            raise Rejected("unparseable", f"measure {key!r} must be a number, text or true/false, not {value!r}")
        else:
            measures[key] = value
    if not measures:
        raise Rejected("unparseable", f"{where} holds no measures")
    return Reading(measures, observed)


def decode_ul(payload: bytes) -> list[Reading]:
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Rejected("unparseable", "the UltraLight payload is not UTF-8 text") from None
    if not text:
        raise Rejected("unparseable", "the UltraLight payload is empty: send name|value pairs such as t|25.1")
    groups = text.split("#")
    if len(groups) > MAX_READINGS:
        raise Rejected("unparseable", f"the payload holds {len(groups)} groups: at most {MAX_READINGS} per message")
    return [_ul_group(group.strip(), n) for n, group in enumerate(groups)]


def _ul_group(group: str, n: int) -> Reading:
    fields = group.split("|")
    observed: str | None = None
    if len(fields) % 2 == 1:
        if len(fields) == 1:
            raise Rejected("unparseable", f"UltraLight group {n} ({group!r}) has no name|value pair")
        observed = _time(fields[0])
        fields = fields[1:]
    measures: dict[str, Any] = {}
    for i in range(0, len(fields), 2):
        name, value = fields[i].strip(), fields[i + 1].strip()
        if not name:
            raise Rejected("unparseable", f"UltraLight group {n} has an empty measure name")
        measures[name] = value
    return Reading(measures, observed)


def _time(value: Any) -> str:
    try:
        return normalize_ts(value)
    except (ValueError, TypeError):
        raise Rejected(
            "unparseable", f"observation time {value!r} is not an ISO 8601 date-time such as 2026-11-21T08:00:00Z"
        ) from None


_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no"}


def typed_value(name: str, value: Any, kind: ValueKind) -> Any:
    """A measure's value as its mapping's kind says (UltraLight values arrive as text)."""
    if kind == "number":
        if isinstance(value, bool):
            raise Rejected("unparseable", f"measure {name!r} must be a number, got {value!r}")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise Rejected("unparseable", f"measure {name!r} must be a number, got {value!r}") from None
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise Rejected("unparseable", f"measure {name!r} must be a finite number, got {value!r}")
        return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**53 else value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise Rejected("unparseable", f"measure {name!r} must be true or false, got {value!r}")
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    if "\x00" in text:
        raise Rejected("unparseable", f"measure {name!r} holds the character U+0000 (NUL), which cannot be stored")
    return text
