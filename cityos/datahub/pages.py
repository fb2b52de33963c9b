"""A governed page built in one pass (数据按授权使用, the read's own build): the records of a dataset read made
from the stored entities with only the items the reader may see, the masked ones masked as they are put in.

What a read of an entry backed by entity types shows is the keyValues form of each entity
(:func:`cityos.context.key_values_page`), cut to the items the access shows (``id`` and ``type`` kept) and with
the masked items masked (:func:`cityos.datahub.masking.mask_column`). Made that way, each record is a dict
built whole and then taken apart: the hidden items popped, every masked value taken out and put back. Here
each record's dict is made once: an attribute the reader may not see is never put in, a masked string value
seen before by this process is put in masked straight from the kind's memo (:mod:`cityos.datahub.masking`), a
location's Point of two floats is masked as it is put in (its roundings kept), and the other masked values
(first seen, not strings, odd shapes) are masked a column at a time after the pass, as the page's masking
does them. The records are the same dicts, the members in the same order (tests/datahub/test_governed_pages.py
holds it over generated pages).

The audit record's values are gathered from the same stored rows before the build (:func:`page_subjects`),
so that the read's audit append can run while the page is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cityos import context as hub
from cityos.core.masks import FULL
from cityos.datahub.masking import mask_column, masked_point, memo_of

PROPERTY = "Property"
PLAIN_VALUE = frozenset((PROPERTY, "GeoProperty"))  # the instance types whose keyValues value is inst["value"]


def governed_page(
    rows: list[Any], tm: hub.TermMap, shown: Iterable[str], masked: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The records of ``rows`` (stored entity rows) in keyValues form with only ``id``, ``type`` and the items
    ``shown`` or ``masked`` (name -> kind), the masked ones masked: what cutting and masking the page's
    keyValues records gives, built once."""
    page = hub.PageNames(tm)
    kept = {"id", "type", *shown, *masked}
    # each attribute IRI of the page sorted once: shown as stored (-> name), masked (-> name, memo), left out
    stored: dict[str, str] = {}
    masking: dict[str, tuple[str, dict[str, Any]]] = {}
    left_out: set[str] = set()
    late: dict[str, list[tuple[dict[str, Any], str, Any]]] = {}  # kind -> (record, name, value) masked after
    plain_types = PLAIN_VALUE
    out = []
    for row in rows:
        record: dict[str, Any] = {"id": row.id, "type": page.type_of(row.types)}
        for iri, instances in row.attrs.items():
            if not instances:
                continue
            name = stored.get(iri)
            if name is not None:  # the common attribute: as a plain page build puts it in
                if len(instances) == 1 and instances[0].get("type", PROPERTY) in plain_types:
                    record[name] = instances[0].get("value")
                else:
                    record[name] = hub.simple_value(instances, tm)
                continue
            slot: tuple[str, dict[str, Any] | None] | None = masking.get(iri)
            if slot is None:
                if iri in left_out:
                    continue
                slot = _sort(iri, page.name(iri), kept, masked, stored, masking, left_out)
                if slot is None:
                    continue
            name, memo = slot
            if len(instances) == 1 and instances[0].get("type", PROPERTY) in plain_types:
                value = instances[0].get("value")
            else:
                value = hub.simple_value(instances, tm)
            if memo is None:  # shown as stored (the attribute's first time on the page)
                record[name] = value
                continue
            try:  # a string seen before: its masked form kept (an unhashable value is not one)
                done = memo.get(value)
            except TypeError:
                done = None
            if done is not None:
                record[name] = done
            elif value is None:  # None stays None: there is nothing to hide
                record[name] = None
            else:  # masked with its column after the pass: nothing of the value is put in meanwhile
                record[name] = FULL
                late.setdefault(_KINDS[id(memo)], []).append((record, name, value))
        out.append(record)
    for kind, held in late.items():
        for (record, name, _value), value in zip(held, mask_column(kind, [v for _r, _n, v in held]), strict=True):
            record[name] = value
    return out


class _Never(dict[str, Any]):
    """The memo of a kind none is kept of (masked with its column after the pass): finds nothing."""

    def get(self, _value: Any, _default: Any = None) -> None:
        return None


class _Points(dict[str, Any]):
    """The memo of a location: a Point of two floats masked at once (:func:`masked_point`), anything else after
    the pass with its column."""

    def get(self, value: Any, _default: Any = None) -> Any:
        return masked_point(value)


_NEVER: dict[str, dict[str, Any]] = {}  # kind -> its memo when none is kept of it (_Points, _Never)
_KINDS: dict[int, str] = {}  # id of a memo -> its kind


def _memo(kind: str) -> dict[str, Any]:
    """The memo a masked item's values are looked up in: the kind's own (:func:`memo_of`), or one that stays
    empty for a kind none is kept of (every value then masked with its column after the pass)."""
    memo = memo_of(kind)
    if memo is None:
        memo = _NEVER.setdefault(kind, _Points() if kind == "geo" else _Never())
    _KINDS[id(memo)] = kind
    return memo


def _sort(
    iri: str, name: str, kept: set[str], masked: Mapping[str, str], stored: dict[str, str],
    masking: dict[str, tuple[str, dict[str, Any]]], left_out: set[str],
) -> tuple[str, dict[str, Any] | None] | None:  # fmt: skip
    """Sort the attribute ``iri`` (compacted ``name``) into ``stored``, ``masking`` or ``left_out``; how its
    value is put in this first time: (name, None) as stored, (name, memo) masked, None left out."""
    if name not in kept:
        left_out.add(iri)
        return None
    kind = masked.get(name) if name not in ("id", "type") else None
    if kind is None:
        stored[iri] = name
        return (name, None)
    slot = masking[iri] = (name, _memo(kind))
    return slot


def page_subjects(rows: list[Any], tm: hub.TermMap, names: Iterable[str]) -> set[str] | None:
    """The values of the items ``names`` over the stored ``rows``, as the audit record gathers them from the
    page's keyValues records (present and not empty, as strings); None when an item's IRI does not compact back
    to its name (the record's values are then gathered from the built page)."""
    subjects: set[str] = set()
    for name in names:
        iri = tm.expand(name)
        if tm.compact(iri) != name:
            return None
        for row in rows:
            instances = row.attrs.get(iri)
            if not instances:
                continue
            if len(instances) == 1 and instances[0].get("type", PROPERTY) in PLAIN_VALUE:
                value = instances[0].get("value")
            else:
                value = hub.simple_value(instances, tm)
            if value:
                subjects.add(str(value))
    return subjects
