"""Reading a catalogue entry's records through the rules (数据按授权使用): who reads decides what is shown,
what is masked and what is refused; every read that returns records is appended to the audit chain.

One governed read is: the entry (the catalogue), the reader's grants for it (the grants), the decision
(:func:`cityos.datahub.access.decide`), the records from the data hub (the entity types that back the
entry, with its q filter and the reader's) or from the table that backs it (a reader of
:mod:`cityos.datahub.table_readers`), each record cut to the items the reader may see with the masked ones
masked (:mod:`cityos.datahub.masking`), and one audit record naming the grant, the records and the persons
and enterprises they concern (kept as keyed hashes).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any

from cityos import context as hub
from cityos.datahub.access import decide
from cityos.datahub.audit import AuditRead, append, append_soon
from cityos.datahub.catalogue import get_entry
from cityos.datahub.decisions import Decided, StaleDecision, decisions, read_stamp, until
from cityos.datahub.errors import FilterOnHiddenItem, NoGrant, RecordsNotServed
from cityos.datahub.grants import grants_for
from cityos.datahub.levels import level_scale
from cityos.datahub.masking import mask_records
from cityos.datahub.models import Access, CatalogueEntry, OpeningType
from cityos.datahub.objections import flag_records
from cityos.datahub.shadows import keep as keep_shadows
from cityos.datahub.shadows import look_up, shadow_key, shadowed_page
from cityos.datahub.table_readers import READERS, filter_items, read_table
from cityos.runtime import Runtime

SUBJECT_KINDS = ("id-card", "credit-code")  # the items whose values name a person or an enterprise


@dataclass(frozen=True)
class Reader:
    """Who reads: the principal's name, the department it acts for (None: not limited to one), whether it
    reads for the city (an operator or administrator), and the scenario and purpose it names."""

    principal: str
    department: str | None
    city: bool
    scenario: str | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class RecordsRead:
    """One page of an entry's records as one reader may see them."""

    entry: CatalogueEntry
    access: Access
    records: list[dict[str, Any]]
    total: int | None
    audit_seq: int | None = None  # the seq of the read's audit record (None: nothing read, nothing appended)


def access_of(rt: Runtime, tenant: str, entry: CatalogueEntry, reader: Reader, now: datetime) -> Access:
    """What ``reader`` may see of ``entry`` now (its grants looked up when it acts for a department)."""
    grants = grants_for(rt, tenant, reader.department, entry.code, now) if reader.department else []
    return decide(reader.department, entry, grants, reader.scenario, now, level_scale(rt), city=reader.city)


def decision_of(rt: Runtime, tenant: str, code: str, reader: Reader, now: datetime) -> Decided:
    """What ``reader`` may see of entry ``code`` now, as this runtime keeps it (:mod:`cityos.datahub.decisions`):
    kept, or decided from the entry and the reader's grants under the governance stamp read first (a change
    committed after that read moves the stamp, and the read's audit append then refuses the decision)."""
    kept = decisions(rt)
    key = (tenant, code, reader.department, reader.scenario, reader.city)
    found = kept.get(key, now.timestamp() * 1000)
    if found is not None:
        return found
    with rt.db.connect() as conn:
        stamp = read_stamp(conn)
    entry = get_entry(rt, tenant, code)
    grants = grants_for(rt, tenant, reader.department, entry.code, now) if reader.department else []
    access = decide(reader.department, entry, grants, reader.scenario, now, level_scale(rt), city=reader.city)
    decided = Decided(entry, access, stamp, until(grants, now))
    if access.allowed:  # a refusal is decided anew each time: a grant approved meanwhile counts at once
        kept.keep(key, decided)
    return decided


def refusal(entry: CatalogueEntry, access: Access) -> NoGrant:
    """The 403 of a read ``access`` does not allow: why, and the catalogue code."""
    return NoGrant(access.refusal or f"catalogue entry {entry.code} may not be read by this token", code=entry.code)


def cut_records(records: list[dict[str, Any]], access: Access) -> None:
    """Cut every record of a page, in place, to the entry's items the reader may see (with ``id`` and
    ``type``): attributes the catalogue does not list are not part of the dataset and are left out."""
    shown = {"id", "type", *access.shown, *access.masked}
    for name in set().union(*records) - shown:  # the names to leave out, over the page at once
        deque(map(dict.pop, records, repeat(name), repeat(None)), maxlen=0)


def govern_page(
    rt: Runtime, tenant: str, entry: CatalogueEntry, access: Access, reader: Reader, records: list[dict[str, Any]],
    route: str, *, stamp: int | None = None, flag: bool = False,
) -> tuple[list[dict[str, Any]], int | None]:  # fmt: skip
    """What governance adds to a read of a page of ``records`` (keyValues made for this answer; changed in
    place): the read appended to the audit chain (the records as read), then the records cut to the items the
    reader may see and the masked ones masked (:func:`cityos.datahub.masking.mask_records`). The audit record
    is committed before anything is shown; its seq is returned beside the records (None: nothing was read).
    ``stamp``: the governance stamp ``access`` was decided under (StaleDecision, nothing appended and the
    records untouched, when it has moved). ``flag``: the records with open objections flagged
    (:func:`cityos.datahub.objections.flag_records`, from the open objections as of the append)."""
    seq = None
    if records:
        appended = append(rt, tenant, [audit_read(entry, access, reader, records, route)], stamp=stamp)
        seq = appended.first if appended is not None else None
        cut_records(records, access)
        mask_records(records, access.masked)
        if flag:
            flag_records(rt, tenant, records, stamp=appended.objections if appended is not None else None)
    return records, seq


def _query(
    entry: CatalogueEntry, q: str | None, limit: int, offset: int, *, shadows: bool = False, kept_key: str | None = None
) -> hub.EntityQuery:
    backing = entry.backing
    filters = [f for f in (backing.q, q) if f]
    where = ";".join(f"({f})" for f in filters) or None
    return hub.EntityQuery(type=",".join(backing.entity_types), q=where, limit=limit, offset=offset, count=True,
                           shadows=shadows, kept_key=kept_key)  # fmt: skip


def fetch(
    rt: Runtime, tenant: str, entry: CatalogueEntry, q: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of an entry's records as stored (keyValues: item name -> value, with id and type; dicts made
    for this read, which governance changes in place), and their total: from the data hub for an entry of
    entity types, from its table's reader for a table-backed one."""
    backing = entry.backing
    if backing.entity_types:
        tm = hub.core_term_map()
        result = hub.query_entities(rt, tenant, _query(entry, q, limit, offset), tm)
        return hub.key_values_page(result.rows, tm), result.total
    page = read_table(rt, tenant, backing.table, q, limit, offset) if backing.table else None
    if page is None:
        served = ", ".join(sorted(READERS))
        raise RecordsNotServed(
            f"catalogue entry {entry.code} is kept in the table {backing.table!r}, which has no reader: its records "
            f"are not served through this API (tables served: {served}; or back the entry by entity types)"
        )
    return page.records, page.total


def check_filter(entry: CatalogueEntry, access: Access, q: str | None) -> None:
    """FilterOnHiddenItem (403) when ``q`` reads an item in a way that would tell what the reader may not see:
    an item it sees masked may be matched only for equality with values it gives (``idCard=="…"``: a lookup by
    a value it already holds, 核验), never by pattern or range (``idCard~="^3101011990"`` would lift the mask a
    digit at a time); an item it does not see may not be filtered on at all."""
    if not q:
        return
    if entry.backing.entity_types:
        expr = hub.parse_q(q)
        matched = hub.q_exact(expr)
        compared = hub.q_attributes(expr) - matched
    else:
        matched, compared = filter_items(q), set()  # a table filter is item==value
    in_full = set(access.shown) - set(access.masked)
    hidden = sorted((compared - in_full) | (matched - set(access.shown)))
    if hidden:
        masked = ", ".join(sorted(access.masked)) or "none"
        raise FilterOnHiddenItem(
            f"q reads {', '.join(hidden)} in {entry.code} in a way this token may not: it may compare the items it "
            f"sees in full ({', '.join(sorted(in_full)) or 'none'}), and match those it sees masked ({masked}) "
            'only for equality with values it gives (item=="value")',
            field="q",
        )


def read_records(
    rt: Runtime,
    tenant: str,
    code: str,
    reader: Reader,
    *,
    q: str | None = None,
    limit: int = 20,
    offset: int = 0,
    route: str = "GET /datahub/datasets/{code}/records",
) -> RecordsRead:
    """One page of the records of entry ``code`` as ``reader`` may see them; NoGrant (403, naming the code
    and the grant to ask for) when it may not read the entry; the read appended to the audit chain. The
    decision is the one this runtime keeps (:func:`decision_of`); when the audit append finds that the entry
    or the grants changed since it was made, the read is decided anew and done again."""
    decided = decision_of(rt, tenant, code, reader, datetime.now(UTC))
    try:
        return _read(rt, tenant, decided, reader, q, limit, offset, route)
    except StaleDecision:
        decisions(rt).forget((tenant, code, reader.department, reader.scenario, reader.city))
        decided = decision_of(rt, tenant, code, reader, datetime.now(UTC))
        return _read(rt, tenant, decided, reader, q, limit, offset, route, check=False)


def _read(
    rt: Runtime, tenant: str, decided: Decided, reader: Reader, q: str | None, limit: int, offset: int, route: str,
    *, check: bool = True,
) -> RecordsRead:  # fmt: skip
    """read_records under ``decided``; ``check``: the audit append checks the decision's stamp (StaleDecision)."""
    entry, access = decided.entry, decided.access
    if not access.allowed:
        raise refusal(entry, access)
    check_filter(entry, access, q)
    stamp = decided.stamp if check else None
    if entry.backing.entity_types:
        records, total, seq = governed_fetch(rt, tenant, entry, access, reader, q, limit, offset, route,
                                             stamp=stamp, flag=True)  # fmt: skip
        return RecordsRead(entry, access, records, total, seq)
    raw, total = fetch(rt, tenant, entry, q, limit, offset)
    if not raw and stamp is not None:  # nothing to append: the stamp checked on its own
        _check_stamp(rt, stamp)
    records, seq = govern_page(rt, tenant, entry, access, reader, raw, route, stamp=stamp, flag=True)
    return RecordsRead(entry, access, records, total, seq)


def _check_stamp(rt: Runtime, stamp: int) -> None:
    with rt.db.connect() as conn:
        if read_stamp(conn) != stamp:
            raise StaleDecision(f"the governance stamp moved from {stamp}")


def governed_fetch(
    rt: Runtime, tenant: str, entry: CatalogueEntry, access: Access, reader: Reader, q: str | None, limit: int,
    offset: int, route: str, *, stamp: int | None = None, flag: bool = False, misses: bool = True,
) -> tuple[list[dict[str, Any]], int | None, int | None]:  # fmt: skip
    """One page of the records of an entry backed by entity types as ``reader`` may see them, its total, and the
    seq of the read's audit record (None: nothing read). The rows are read without their state, with the records
    and audit subjects kept beside them (:mod:`cityos.datahub.shadows`); when a row keeps nothing the page is read
    again with the state and the rows that keep nothing are built and masked here
    (:func:`cityos.datahub.pages.governed_page`, what was made kept after the append). The read's audit record is
    appended in the database's writer thread meanwhile (:func:`cityos.datahub.audit.append_soon`, from the ids and
    subjects of the stored rows); the records are returned only once that append committed: an append that fails
    (StaleDecision when ``stamp`` moved) fails the read, and nothing built is shown. A lookup by value that found
    nothing is audited all the same (:func:`lookup_audit`; ``misses``)."""
    tm = hub.core_term_map()
    subjects = subject_items(entry)
    in_full = [name for name in access.shown if name not in access.masked]
    # the records as the rows keep them, the state only of the rows that keep nothing under the read's key (the
    # database sends neither values nor masks of the others); the total counted apart, once the append is on its way
    query = _query(entry, q, limit, offset, shadows=True, kept_key=shadow_key(in_full, access.masked, subjects))
    counting = dataclasses.replace(query, shadows=False, kept_key=None, limit=0)
    query = dataclasses.replace(query, count=False)
    result = hub.query_entities(rt, tenant, query, tm)
    looked = look_up(result.rows, tm, in_full, access.masked, subjects) if result.rows else None
    if result.rows and (looked is None or any(not result.rows[i].attrs for i in looked.made)):
        # a row read without its state keeps no record of this read after all: read again with every state
        result = hub.query_entities(rt, tenant, dataclasses.replace(query, kept_key=None), tm)
        looked = look_up(result.rows, tm, in_full, access.masked, subjects) if result.rows else None
    rows = result.rows
    if not rows:
        total = hub.query_entities(rt, tenant, counting, tm).total
        missed = None
        if q and misses and not offset:
            missed = lookup_audit(entry, access, reader, hub.q_lookups(hub.parse_q(q)), route)
        if missed is not None:
            append(rt, tenant, [missed], stamp=stamp)
        elif stamp is not None:  # nothing to append: the stamp checked on its own
            _check_stamp(rt, stamp)
        return [], total, None
    if looked is None:  # an item's name does not map back to its attribute: the page's records say
        records, seq = govern_page(rt, tenant, entry, access, reader, hub.key_values_page(rows, tm), route,
                                   stamp=stamp, flag=flag)  # fmt: skip
        return records, hub.query_entities(rt, tenant, counting, tm).total, seq
    read = AuditRead(principal=reader.principal, code=entry.code, route=route, records=tuple(r.id for r in rows),
                     subjects=tuple(looked.subjects), department=reader.department, grant=access.grant,
                     scenario=reader.scenario, purpose=reader.purpose)  # fmt: skip
    pending = append_soon(rt, tenant, [read], stamp=stamp)
    total = hub.query_entities(rt, tenant, counting, tm).total  # while the append runs
    records, kept = shadowed_page(rows, tm, in_full, access.masked, looked)
    appended = pending.result()  # committed (or raises): only now may the records be shown
    keep_shadows(rt, kept)
    if flag:
        flag_records(rt, tenant, records, stamp=appended.objections)
    return records, total, appended.first


def subject_items(entry: CatalogueEntry) -> list[str]:
    """The items of ``entry`` whose values name a person or an enterprise (SUBJECT_KINDS)."""
    return [i.name for i in entry.items if i.kind in SUBJECT_KINDS]


def lookup_audit(
    entry: CatalogueEntry, access: Access, reader: Reader, looked_up: Mapping[str, Any], route: str
) -> AuditRead | None:
    """The audit record of a lookup by value that found nothing (``idCard=="…"``): no records, and the persons
    and enterprises it looked for, so that "who used my data" shows who looked a person up, found or not.
    None when the lookup names no item of the entry."""
    names = {i.name: i for i in entry.items}
    if not names.keys() & looked_up.keys():
        return None
    subjects = {str(v) for n, v in looked_up.items() if n in names and names[n].kind in SUBJECT_KINDS}
    return AuditRead(principal=reader.principal, code=entry.code, route=route, subjects=tuple(subjects), count=0,
                     department=reader.department, grant=access.grant, scenario=reader.scenario,
                     purpose=reader.purpose)  # fmt: skip


# who reads through the open data portal (公共数据开放): nobody by name, for no department
PUBLIC_READER = Reader(principal="public", department=None, city=False, scenario="公共数据开放", purpose="open data")


def read_open_records(
    rt: Runtime,
    tenant: str,
    code: str,
    items: tuple[str, ...],
    *,
    q: str | None = None,
    limit: int = 20,
    offset: int = 0,
    route: str = "GET /api/action/datastore_search",
    reader: Reader | None = None,
    grant: str | None = None,
) -> RecordsRead:
    """One page of the records of entry ``code`` as the public sees them (公共数据开放): only an entry marked
    for opening (无条件/有条件开放; NoGrant, 403, otherwise), each record cut to ``items`` (the open data portal
    decides which from their levels), nothing masked; ``q`` may compare only those items. The read is
    appended to the audit chain as one by ``public``, or by ``reader`` through ``grant`` (an applicant with
    the key of an approved application for conditional data)."""
    entry = get_entry(rt, tenant, code)
    if entry.opening == OpeningType.NONE:
        raise NoGrant(f"catalogue entry {entry.code} is not opened to the public (不予开放)", code=entry.code)
    access = Access(allowed=True, grant=grant, shown=tuple(i.name for i in entry.items if i.name in items))
    check_filter(entry, access, q)
    if entry.backing.entity_types:
        records, total, seq = governed_fetch(rt, tenant, entry, access, reader or PUBLIC_READER, q, limit, offset,
                                             route, misses=False)  # fmt: skip
        return RecordsRead(entry, access, records, total, seq)
    raw, total = fetch(rt, tenant, entry, q, limit, offset)
    records, seq = govern_page(rt, tenant, entry, access, reader or PUBLIC_READER, raw, route)
    return RecordsRead(entry, access, records, total, seq)


def audit_read(
    entry: CatalogueEntry,
    access: Access,
    reader: Reader,
    records: list[dict[str, Any]],
    route: str,
) -> AuditRead:
    """The audit record of a read of ``records`` (keyValues, as read, before masking): the records by id,
    and the persons and enterprises they name (their ID numbers and credit codes, which the chain keeps
    only as keyed hashes)."""
    subjects: set[str] = set()  # the chain sorts them
    for name in subject_items(entry):  # the values present and not empty, item by item
        subjects.update(map(str, filter(None, map(dict.get, records, repeat(name)))))
    return AuditRead(
        principal=reader.principal,
        code=entry.code,
        route=route,
        records=tuple(map(str, map(itemgetter("id"), records))),
        subjects=tuple(subjects),
        department=reader.department,
        grant=access.grant,
        scenario=reader.scenario,
        purpose=reader.purpose,
    )
