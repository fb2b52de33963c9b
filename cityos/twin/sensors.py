"""Which entity updates are sensor readings, and their main value: for the dashboard's live layer."""

from __future__ import annotations

from functools import cache
from typing import Any

from cityos.context import core_term_map
from cityos.twin.layers import SENSOR_KINDS, value


@cache
def _main_attr_by_type() -> dict[str, str]:
    """Expanded type IRI -> expanded IRI of the attribute the map shows for it."""
    tm = core_term_map()
    return {tm.expand(k.type): tm.expand(k.attr) for k in SENSOR_KINDS}


def sensor_value(types: list[str], attrs: dict[str, Any]) -> tuple[bool, Any]:
    """(True, value) when an update of an entity of these (expanded) types changed its main measure."""
    wanted = _main_attr_by_type()
    for t in types:
        iri = wanted.get(t)
        if iri is not None:
            return (True, value(attrs, iri)) if iri in attrs else (False, None)
    return False, None
