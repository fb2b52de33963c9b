"""A consumer's preferred NGSI-LD version (clause 4.3.6.8; ``Prefer: ngsi-ld=1.5``, clause 6.3.6).

A consumer that can only read payloads of an earlier version of the specification says so, and the broker
amends entity data to that version where it can: an attribute type introduced later is reformatted as the
type the earlier version had (Table 4.3.6.8-1: a VocabProperty becomes a Property). Other resources
(subscriptions, contexts ...) have no fallbacks and are returned unaltered.
"""

from __future__ import annotations

import re
from typing import Any

from cityos.context.entity import JSONPROPERTY, LISTPROPERTY, PROPERTY, VOCABPROPERTY

# The version cityos speaks: a preference for it, or an earlier 1.x, is applied; a later one is not.
NATIVE = (1, 9)
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?")

# Attribute types introduced in 1.8 and the member holding their value: before 1.8 each is a Property
# whose ``value`` holds it.
_SINCE_1_8 = {VOCABPROPERTY: "vocab", JSONPROPERTY: "json", LISTPROPERTY: "valueList"}
_SINCE = (1, 8)
_MEMBERS = frozenset(_SINCE_1_8.values())
_VALUE_MEMBERS = frozenset({"value", "object", "objectList", "languageMap", *_MEMBERS})
_ENTITY_MEMBERS = frozenset({"id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt"})


def preferred_version(prefer: list[str]) -> str | None:
    """The version an ``ngsi-ld`` preference of the Prefer headers names, if cityos can apply it.

    Prefer is a comma-separated list of RFC 7240 preferences, each ``token[=value]`` with its own parameters
    after ``;``: the token is case-insensitive and the value a token or a quoted string."""
    for header in prefer:
        for pref in header.split(","):
            name, _, value = pref.split(";")[0].partition("=")
            if name.strip().lower() != "ngsi-ld":
                continue
            version = value.strip().strip('"').strip()
            found = _VERSION.fullmatch(version)
            if found and (1, 0) <= (int(found[1]), int(found[2])) <= NATIVE:
                return version
    return None


def _numbers(version: str) -> tuple[int, int]:
    found = _VERSION.fullmatch(version)
    return (int(found[1]), int(found[2])) if found else NATIVE


def amend_entities(content: Any, version: str, simplified: bool = False) -> tuple[Any, bool]:
    """Entity data (one entity, a list, a GeoJSON Feature or FeatureCollection) amended to ``version``,
    and whether anything changed. ``simplified``: the entities are in the simplified (keyValues) form."""
    if _numbers(version) >= _SINCE:
        return content, False
    amender = _Amender(simplified)
    return amender.any(content), amender.changed


class _Amender:
    def __init__(self, simplified: bool) -> None:
        self.simplified = simplified
        self.changed = False

    def any(self, content: Any) -> Any:
        if isinstance(content, list):
            return [self.any(c) for c in content]
        if not isinstance(content, dict):
            return content
        if content.get("type") == "FeatureCollection":
            return {**content, "features": [self.any(f) for f in content.get("features", [])]}
        if content.get("type") == "Feature" and isinstance(content.get("properties"), dict):
            return {**content, "properties": self.entity(content["properties"])}
        return self.entity(content)

    def entity(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v if k in _ENTITY_MEMBERS else self.attribute(v) for k, v in doc.items()}

    def attribute(self, attr: Any) -> Any:
        if isinstance(attr, list):
            return [self.attribute(a) for a in attr]
        if not isinstance(attr, dict):
            return attr
        if self.simplified:
            # a simplified VocabProperty, JsonProperty or ListProperty: its value alone, as before 1.8
            (key,) = attr.keys() if len(attr) == 1 else (None,)
            if key in _MEMBERS:
                self.changed = True
                return attr[key]
            if isinstance(attr.get("dataset"), dict) and len(attr) == 1:
                return {"dataset": {k: self.attribute(v) for k, v in attr["dataset"].items()}}
            return attr
        kind = attr.get("type")
        member = _SINCE_1_8.get(kind) if kind is not None else next((m for m in _MEMBERS if m in attr), None)
        out: dict[str, Any] = {}
        for key, value in attr.items():
            if member is not None and key == member:
                out["value"] = value
            elif key == "type" and member is not None:
                out["type"] = PROPERTY
            elif key in _VALUE_MEMBERS or not isinstance(value, dict | list):
                out[key] = value
            else:
                out[key] = self.attribute(value)  # a sub-attribute
        if member is not None:
            self.changed = True
        return out
