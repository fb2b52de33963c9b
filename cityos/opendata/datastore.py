"""datastore_search over an open dataset's records: the parameters CKAN's DataStore takes, applied to the
records the data resource system reads for the public (each cut to the dataset's open items).

``filters`` go down to the read (as the entry's backing filters them: NGSI-LD q for entities, item==value
for a table); ``q`` (full text) and ``sort`` need every matching record, so they are applied here over at
most :data:`MAX_SCAN` of them (more: a Validation Error asking to narrow with filters).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cityos.opendata.errors import ValidationError, invalid
from cityos.opendata.models import Column, Package

DEFAULT_LIMIT = 100
MAX_LIMIT = 32_000  # CKAN's ckan.datastore.search.rows_max
MAX_SCAN = 100_000
FORMATS = ("objects", "lists", "csv", "tsv")
Reader = Callable[[str | None, int, int], tuple[list[dict[str, Any]], int | None]]  # (q, limit, offset)


@dataclass(frozen=True)
class StoreQuery:
    filters: dict[str, Any]
    q: str | dict[str, str] | None = None
    fields: list[str] | None = None
    sort: str | list[str] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    include_total: bool = True
    records_format: str = "objects"


def _not_in(field: str) -> str:
    return f'field "{field}" not in resource'


def _column(package: Package, name: str, param: str) -> Column:
    found = next((c for c in package.resource.columns if c.id == name), None)
    if found is None:
        raise ValidationError({param: [_not_in(name)]})
    return found


def _scalar(package: Package, name: str, value: Any) -> str:
    """One filter value as the backing's filter language writes it (quoted text, bare numbers)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid("filters", f"{name}: a value must be text or a number")
    if isinstance(value, int) and abs(value) > 2**53:  # past a double's exact integers no store compares it
        raise invalid("filters", f"{name}: a number is at most 2^53 in size")
    text = str(value)
    if any(ch in text for ch in '";\n\r'):
        raise invalid("filters", f"{name}: a value may not hold double quotes, ';' or line breaks")
    if package.entities and isinstance(value, str):
        return f'"{text}"'
    return text


def filter_q(package: Package, filters: dict[str, Any]) -> str | None:
    """``filters`` ({field: value or [values]}) as the read's q; Validation Error for a field not opened."""
    terms = []
    for name, value in filters.items():
        _column(package, name, "filters")
        values = value if isinstance(value, list) else [value]
        if not values or (len(values) > 1 and not package.entities):
            raise invalid("filters", f"{name}: give one value (a list of values needs an entity-backed dataset)")
        terms.append(f"{name}=={','.join(_scalar(package, name, v) for v in values)}")
    return ";".join(terms) or None


def sort_keys(package: Package, sort: str | list[str] | None) -> list[tuple[str, bool]]:
    parts = sort if isinstance(sort, list) else (sort or "").split(",")
    out = []
    for part in parts:
        bits = part.split()
        if not bits:
            continue
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if direction not in ("asc", "desc") or len(bits) > 2:
            raise invalid("sort", f"{part.strip()!r}: write 'field asc' or 'field desc'")
        out.append((_column(package, bits[0], "sort").id, direction == "desc"))
    return out


def _matches(record: dict[str, Any], q: str | dict[str, str], columns: list[str]) -> bool:
    if isinstance(q, dict):
        return all(str(v).lower() in str(record.get(k, "")).lower() for k, v in q.items())
    words = q.lower().split()
    text = " ".join(str(record.get(c, "")) for c in columns).lower()
    return all(w in text for w in words)


def _sorted(records: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    for name, desc in reversed(keys):  # stable sorts, last key first
        present = [r for r in records if r.get(name) is not None]
        missing = [r for r in records if r.get(name) is None]
        present.sort(key=lambda r: _sortable(r[name]), reverse=desc)
        records = present + missing
    return records


def _sortable(value: Any) -> tuple[int, Any]:
    """Numbers before text, each in its own order (values of other kinds by their JSON)."""
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True))


def _read_all(read: Reader, q: str | None, page: int) -> list[dict[str, Any]]:
    records, total = read(q, page, 0)
    if total is not None and total > MAX_SCAN:
        raise invalid("q", f"full-text search and sort read every matching record, at most {MAX_SCAN}; "
                           f"this dataset has {total}: narrow it with filters first")  # fmt: skip
    while total is not None and len(records) < total:
        more, _ = read(q, page, len(records))
        if not more:
            break
        records.extend(more)
    return records


def search(package: Package, query: StoreQuery, read: Reader, page: int) -> dict[str, Any]:
    """The datastore_search answer for ``query`` (without _links, which name the server's URL)."""
    if query.records_format not in FORMATS:
        raise invalid("records_format", f"must be one of {', '.join(FORMATS)}")
    columns = [c.id for c in package.resource.columns]
    shown = [_column(package, f, "fields").id for f in query.fields if f != "_id"] if query.fields else columns
    keys = sort_keys(package, query.sort)
    if isinstance(query.q, dict):
        for name in query.q:
            _column(package, name, "q")
    where = filter_q(package, query.filters)
    if query.q or keys:
        found = _read_all(read, where, page)
        if query.q:
            found = [r for r in found if _matches(r, query.q, columns)]
        found = _sorted(found, keys)
        total: int | None = len(found)
        records = found[query.offset : query.offset + query.limit]
    else:
        records, total = [], None
        while len(records) < query.limit:
            want = min(page, query.limit - len(records))
            got, total = read(where, want, query.offset + len(records))
            records.extend(got)
            if len(got) < want:
                break
        if total is None and query.include_total:
            total = query.offset + len(records)
    rows = [{"_id": query.offset + i + 1, **{c: r.get(c) for c in shown}} for i, r in enumerate(records)]
    out: dict[str, Any] = {
        "resource_id": package.resource.id,
        "fields": [{"id": "_id", "type": "int"}] + [_field(package, c) for c in shown],
        "records": _format(rows, ["_id", *shown], query.records_format),
        "limit": query.limit,
        "offset": query.offset,
        "records_format": query.records_format,
        "include_total": query.include_total,
        "filters": query.filters,
        "total_was_estimated": False,
    }
    if query.include_total:
        out["total"] = total
    if query.q:
        out["q"] = query.q
    if keys:
        out["sort"] = ", ".join(f"{n} {'desc' if d else 'asc'}" for n, d in keys)
    return out


def _field(package: Package, name: str) -> dict[str, Any]:
    c = _column(package, name, "fields")
    return {"id": c.id, "type": c.type, "info": {"label": c.label, "notes": c.notes}}


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def _format(rows: list[dict[str, Any]], names: list[str], fmt: str) -> Any:
    if fmt == "objects":
        return rows
    if fmt == "lists":
        return [[r.get(n) for n in names] for r in rows]
    out = io.StringIO()
    writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    writer.writerows([_cell(r.get(n)) for n in names] for r in rows)
    return out.getvalue()
