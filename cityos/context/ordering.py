"""``orderBy`` on queries (NGSI-LD v1.9, clause 4.23): the order of the entities of an answer.

``orderBy`` is a comma-separated list of terms ``path[;asc|;desc]``. A path is an entity member (``id``,
``type``, ``createdAt``, ``modifiedAt``) or an attribute name, followed by dot-separated sub-attribute names
or instance members (``name.subProperty``, ``name.createdAt``, ``name.observedAt``). An attribute is ordered
by its default instance's value (``value``, ``object``, ``languageMap`` or ``vocab``). Entities lacking the
member come last whichever the direction, and entities equal on every term keep their storage order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cityos.context.entity import check_name
from cityos.context.errors import BadRequestData
from cityos.context.store import EntityRow

ENTITY_MEMBERS = frozenset({"id", "type", "createdAt", "modifiedAt"})
INSTANCE_MEMBERS = frozenset({"createdAt", "modifiedAt", "observedAt", "unitCode", "datasetId", "type"})
VALUE_MEMBERS = ("value", "object", "languageMap", "vocab", "json")
# the most entities ordered in memory: an ordered query reads every match before it can cut a page
MAX_ORDERED = 10_000


@dataclass(frozen=True)
class OrderTerm:
    path: tuple[str, ...]  # the member and the names under it, as the client sent them
    descending: bool


def parse_order_by(text: str | None) -> list[OrderTerm] | None:
    """The terms of an ``orderBy`` parameter; BadRequestData for an empty term or a direction other than
    ``asc`` or ``desc``."""
    if text is None:
        return None
    terms: list[OrderTerm] = []
    for raw in text.split(","):
        path_text, _, direction = raw.strip().partition(";")
        if direction not in ("", "asc", "desc"):
            raise BadRequestData(f"orderBy term {raw.strip()!r}: the direction must be ;asc or ;desc")
        path = tuple(p.strip() for p in path_text.split("."))
        if not all(path):
            raise BadRequestData(f"orderBy term {raw.strip()!r} names no member: give an attribute, id or createdAt")
        for part in path:
            check_name(part, "orderBy member")
        terms.append(OrderTerm(path, direction == "desc"))
    return terms or None


def _rank(value: Any) -> tuple[int, Any]:
    """A key that orders values of one JSON type by value, and the JSON types among themselves (numbers, then
    strings, then booleans, then the rest by their JSON text): a mixed column never fails to sort."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return (1, ",".join(sorted(value)))
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        return (1, ",".join(v for _, v in sorted(value.items())))
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


def _member(row: EntityRow, path: tuple[str, ...], expand: Callable[[str], str]) -> Any:
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
        present = [(r, _member(r, term.path, expand)) for r in out]
        have = [(r, v) for r, v in present if v is not None]
        lacking = [r for r, v in present if v is None]
        have.sort(key=lambda rv: _rank(rv[1]), reverse=term.descending)
        out = [r for r, _ in have] + lacking
    return out
