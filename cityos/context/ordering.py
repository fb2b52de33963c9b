"""``orderBy`` on queries (NGSI-LD v1.9, clause 4.23): the order of the entities of an answer.

``orderBy`` is a comma-separated list of terms ``path[;asc|;desc|;dist-asc|;dist-desc]``. A path is an
entity member (``id``, ``type``, ``createdAt``, ``modifiedAt``) or an attribute name, followed by
dot-separated sub-attribute names or instance members (``name.subProperty``, ``name.createdAt``,
``name.observedAt``) and, last, members of a compound value in brackets (``address[city]``). An attribute is
ordered by its default instance's value (``value``, ``object``, ``languageMap`` or ``vocab``). ``dist-asc``
and ``dist-desc`` order a GeoProperty by its distance in metres from the reference geometry (``orderFrom``
on GET, the ordering's ``coordinates`` in a Query; cityos.context.geo.distance_m). A ``collation``
(cityos.context.collation) orders strings by language rules instead of code points. Entities lacking the
member come last whichever the direction, and entities equal on every term keep their storage order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry

from cityos.context.collation import CollationKey
from cityos.context.entity import check_name
from cityos.context.errors import BadRequestData
from cityos.context.geo import distance_m, geometry_shape
from cityos.context.store import EntityRow

ENTITY_MEMBERS = frozenset({"id", "type", "createdAt", "modifiedAt"})
INSTANCE_MEMBERS = frozenset({"createdAt", "modifiedAt", "observedAt", "unitCode", "datasetId", "type"})
VALUE_MEMBERS = ("value", "object", "languageMap", "vocab", "json")
# the most entities ordered in memory: an ordered query reads every match before it can cut a page
MAX_ORDERED = 10_000


_SUBITEMS = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]+\])*)$")
_DIRECTIONS = ("", "asc", "desc", "dist-asc", "dist-desc")


@dataclass(frozen=True)
class OrderTerm:
    path: tuple[str, ...]  # the member and the names under it, as the client sent them
    descending: bool
    subitems: tuple[str, ...] = ()  # members of a compound value: address[city] -> ("city",)
    origin: BaseGeometry | None = None  # dist-asc/dist-desc: order by the distance from it
    collate: CollationKey | None = None  # how strings compare (None: by code point)


def parse_order_by(
    text: str | None, *, origin: BaseGeometry | None = None, collate: CollationKey | None = None
) -> list[OrderTerm] | None:
    """The terms of an ``orderBy`` parameter (or a Query's ``orderBy`` array joined by commas); ``origin``:
    the reference geometry of distance terms. BadRequestData for an empty term, a direction other than
    ``asc``, ``desc``, ``dist-asc`` or ``dist-desc``, and a distance term without a reference geometry."""
    if text is None:
        return None
    terms: list[OrderTerm] = []
    for raw in text.split(","):
        path_text, _, direction = raw.strip().partition(";")
        if direction not in _DIRECTIONS:
            raise BadRequestData(
                f"orderBy term {raw.strip()!r}: the direction must be ;asc, ;desc, ;dist-asc or ;dist-desc"
            )
        if direction.startswith("dist-") and origin is None:
            raise BadRequestData(
                f"orderBy term {raw.strip()!r} orders by distance and needs the reference geometry: give "
                "orderFrom=[lon,lat] (in a Query, the ordering's coordinates)"
            )
        path = tuple(p.strip() for p in path_text.split("."))
        if not all(path):
            raise BadRequestData(f"orderBy term {raw.strip()!r} names no member: give an attribute, id or createdAt")
        m = _SUBITEMS.match(path[-1])
        if m is None:
            raise BadRequestData(f"orderBy term {raw.strip()!r}: write members of a value as address[city]")
        path = (*path[:-1], m.group(1).strip())
        subitems = tuple(s.strip() for s in m.group(2)[1:-1].split("][")) if m.group(2) else ()
        for part in path:
            check_name(part, "orderBy member")
        dist = direction.startswith("dist-")
        terms.append(
            OrderTerm(path, direction.endswith("desc"), subitems, origin if dist else None, None if dist else collate)
        )
    return terms or None


def _rank(value: Any, collate: CollationKey | None = None) -> tuple[int, Any]:
    """A key that orders values of one JSON type by value, and the JSON types among themselves (numbers, then
    strings, then booleans, then the rest by their JSON text): a mixed column never fails to sort. Strings
    compare by ``collate``'s key when a collation is given."""
    text: str | None = None
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        text = ",".join(sorted(value))
    elif isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        text = ",".join(v for _, v in sorted(value.items()))
    if text is not None:
        return (1, collate(text) if collate else text)
    return (3, repr(value))


def _instance_value(inst: dict[str, Any]) -> Any:
    for member in VALUE_MEMBERS:
        if member in inst:
            return inst[member]
    return None


def _default_instance(instances: Any) -> dict[str, Any] | None:
    if isinstance(instances, dict):
        return instances
    if not isinstance(instances, list) or not instances:
        return None
    return next((i for i in instances if isinstance(i, dict) and "datasetId" not in i), instances[0])


def _member(row: EntityRow, term: OrderTerm, expand: Callable[[str], str]) -> Any:
    value = _path_value(row, term.path, expand)
    for key in term.subitems:
        value = value.get(key) if isinstance(value, dict) else None
    if term.origin is not None:
        shape = geometry_shape(value)
        return None if shape is None else distance_m(term.origin, shape)
    return value


def _path_value(row: EntityRow, path: tuple[str, ...], expand: Callable[[str], str]) -> Any:
    head = path[0]
    if len(path) == 1 and head in ENTITY_MEMBERS:
        return {
            "id": row.id,
            "type": sorted(row.types),
            "createdAt": row.created_at,
            "modifiedAt": row.modified_at,
        }[head]
    inst = _default_instance(row.attrs.get(expand(head)))
    for part in path[1:]:
        if inst is None:
            return None
        if part in INSTANCE_MEMBERS:
            return inst.get(part)
        inst = _default_instance(inst.get(expand(part)))
    return None if inst is None else _instance_value(inst)


def order_rows(rows: list[EntityRow], terms: list[OrderTerm], expand: Callable[[str], str]) -> list[EntityRow]:
    """``rows`` in the order ``terms`` ask (names expanded with ``expand``); a stable sort, so ties keep the
    order they came in (storage order)."""
    out = list(rows)
    for term in reversed(terms):  # stable sorts from the last term to the first: the first term decides
        present = [(r, _member(r, term, expand)) for r in out]
        have = [(r, v) for r, v in present if v is not None]
        lacking = [r for r, v in present if v is None]
        have.sort(key=lambda rv: _rank(rv[1], term.collate), reverse=term.descending)
        out = [r for r, _ in have] + lacking
    return out
