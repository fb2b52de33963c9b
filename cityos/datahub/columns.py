"""A governed bulk read of a registry entry's items as columns (按授权批量读取): for a service that reads every
entity of a base registry at once (policy matching, 政策找人), where a page-by-page read of records through
:func:`cityos.datahub.read_records` (offset paging, the whole entity rendered, an audit record per page of a
thousand) takes minutes for a hundred thousand persons.

The same rules, taken otherwise:

- **The decision once.** :func:`read_columns` looks the entry and the reader's grants up and decides
  (:func:`cityos.datahub.access.decide`) once, before anything is read: NoGrant (403, naming the grant to ask
  for) when the reader may not read the entry, or when its grant leaves out an item asked for. Every chunk is
  read under that decision, and each chunk's audit record names its grant.
- **Keyset chunks.** The entities backing the entry are read type by type in primary-key order, ``chunk``
  at a time, each chunk after the last key of the one before (never an offset), only the items asked for
  (and the items that name a person or an enterprise, for the audit) taken out of each entity by the database
  (:func:`cityos.context.attribute_chunks`), not the whole entity decoded and rendered.
- **Every read audited, every subject indexed.** Each chunk is appended to the audit chain before it is
  handed over, as one record naming the reader, the grant, the scenario and purpose, the records' ids and
  the persons and enterprises they concern (their ID numbers and credit codes, which the chain keeps as keyed
  hashes): the subjects index, and so "who used my data", finds the read for each of them as it finds a
  page's read.
- **Masked as a read masks.** An item the decision masks is masked in its column.

An entry backed by a table, or one whose backing filter (``backing.q``) reads attributes, is read through
:func:`cityos.datahub.read_records` instead (RecordsNotServed names it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cityos import context as hub
from cityos.datahub.audit import AuditRead, append
from cityos.datahub.catalogue import get_entry
from cityos.datahub.datasets import SUBJECT_KINDS, Reader, access_of, refusal
from cityos.datahub.errors import NoGrant, RecordsNotServed
from cityos.datahub.masking import mask_column
from cityos.datahub.models import Access, CatalogueEntry
from cityos.runtime import Runtime

CHUNK = 5_000  # entities per chunk: one query, one audit record
MAX_CHUNK = 20_000
ROUTE = "read_columns"  # the audit records' route when the caller names none


@dataclass(frozen=True)
class ColumnChunk:
    """One chunk of an entry's entities: their ids, and each item asked for as a column of the same order
    (None where the entity holds no value), as the reader may see it (masked items masked)."""

    ids: list[str]
    columns: dict[str, list[Any]]
    audit_seq: int | None  # the seq of the chunk's audit record (None: an empty chunk, nothing read)


@dataclass
class ColumnsRead:
    """A bulk read decided: the entry, what the reader may see of it, and its chunks, read and audited as they
    are iterated (:meth:`chunks`, once)."""

    entry: CatalogueEntry
    access: Access
    items: tuple[str, ...]
    _rt: Runtime = field(repr=False)
    _tenant: str = field(repr=False)
    _reader: Reader = field(repr=False)
    _chunk: int = field(repr=False)
    _route: str = field(repr=False)

    def chunks(self) -> Iterator[ColumnChunk]:
        """The entry's entities in keyset chunks, each appended to the audit chain before it is yielded."""
        entry, access = self.entry, self.access
        tm = hub.core_term_map()
        subject_items = [i.name for i in entry.items if i.kind in SUBJECT_KINDS]
        names = list(dict.fromkeys((*self.items, *subject_items)))
        kinds = {i.name: i.kind for i in entry.items}
        seen: set[str] | None = set() if len(entry.backing.entity_types) > 1 else None  # an entity of two types
        for entity_type in entry.backing.entity_types:
            for ids, values in hub.attribute_chunks(self._rt, self._tenant, entity_type, names, tm, chunk=self._chunk):
                by_name = dict(zip(names, values, strict=True))
                if seen is not None:
                    keep = [n for n, i in enumerate(ids) if i not in seen]
                    seen.update(ids)
                    ids = [ids[n] for n in keep]
                    by_name = {k: [v[n] for n in keep] for k, v in by_name.items()}
                if not ids:
                    continue
                subjects = {str(v) for n in subject_items for v in by_name[n] if v}
                appended = append(self._rt, self._tenant, [AuditRead(
                    principal=self._reader.principal, code=entry.code, route=self._route, records=tuple(ids),
                    subjects=tuple(subjects), department=self._reader.department, grant=access.grant,
                    scenario=self._reader.scenario, purpose=self._reader.purpose)])  # fmt: skip
                columns = {n: by_name[n] for n in self.items}
                for name in self.items:
                    if name in access.masked:
                        columns[name] = mask_column(kinds[name], columns[name])
                yield ColumnChunk(ids, columns, appended.first if appended is not None else None)


def read_columns(
    rt: Runtime,
    tenant: str,
    code: str,
    reader: Reader,
    items: Sequence[str],
    *,
    chunk: int = CHUNK,
    route: str = ROUTE,
) -> ColumnsRead:
    """Decide once whether ``reader`` may read ``items`` of entry ``code`` (NoGrant, 403, naming the grant to
    ask for, when it may not, or when its grant leaves out one of them), and answer the read, whose chunks
    are read, audited and masked as they are iterated (see the module)."""
    entry = get_entry(rt, tenant, code)
    if not entry.backing.entity_types or entry.backing.q:
        raise RecordsNotServed(
            f"catalogue entry {entry.code} is not backed by entity types alone (a table, or a filter): read it page "
            "by page (GET /datahub/datasets/{code}/records)"
        )
    known = {i.name for i in entry.items}
    unknown = [i for i in items if i not in known]
    if unknown:
        raise NoGrant(f"catalogue entry {entry.code} has no item {', '.join(unknown)}", code=entry.code)
    access = access_of(rt, tenant, entry, reader, datetime.now(UTC))
    if not access.allowed:
        raise refusal(entry, access)
    left_out = [i for i in items if i not in access.shown]
    if left_out:
        raise NoGrant(
            f"grant {access.grant} of catalogue entry {entry.code} leaves out {', '.join(left_out)}: request a grant "
            f"showing them from {entry.provider!r} (POST /datahub/grants)",
            code=entry.code,
        )
    size = max(1, min(int(chunk), MAX_CHUNK))
    return ColumnsRead(entry, access, tuple(dict.fromkeys(items)), rt, tenant, reader, size, route)
