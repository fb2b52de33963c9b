"""The service items (事项) in force and their versions, and the bundles (一件事): the lookups the other parts of
one-stop services use (:func:`item`, :func:`bundle`), and publishing a new version of an item.

An item's versions are kept in the database (``onestop_item_versions``), each with who published it, when
and why; the latest is in force. Version 1 of each shipped item comes from ``data/items.yaml``: it is written
at startup (:func:`seed_items`) and read from the file while a tenant's database does not hold it yet, so a
lookup never depends on the seeding having run. Bundles are shipped data (``data/bundles.yaml``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cityos.onestop import items_store as store
from cityos.onestop.catalogue import check_bundle, check_item, item_json, parse_item, references, shipped
from cityos.onestop.catalogue_errors import BundleNotFound, InvalidServiceData, ItemNotFound, ItemVersionConflict
from cityos.onestop.decision_checks import checked
from cityos.onestop.forms import form_for
from cityos.onestop.models import Bundle, ServiceItem
from cityos.runtime import Runtime

T = TypeVar("T")
SHIPPED_BY = "cityos"
SHIPPED_REASON = "shipped with cityos (cityos/onestop/data/items.yaml)"
SHIPPED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # what a shipped version not yet written reports as its time


@dataclass(frozen=True)
class ItemVersion:
    """One version of an item with who published it, when and why; ``stored`` False: the shipped version 1,
    read from the file (the tenant's database does not hold it yet)."""

    item: ServiceItem
    by: str
    at: datetime
    reason: str
    stored: bool = True


class ItemCache:
    """This process's parsed item versions by (tenant, code, version) (a runtime part). A stored version is
    never changed, so an entry stays right; which version is the latest is asked of the database each time (a
    version another process published is seen at once). :func:`publish_item` drops the item's entries."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str, int], ItemVersion] = {}

    def get(self, tenant: str, code: str, version: int) -> ItemVersion | None:
        return self._found.get((tenant, code, version))

    def put(self, tenant: str, found: ItemVersion) -> ItemVersion:
        self._found[(tenant, found.item.code, found.item.version)] = found
        return found

    def forget(self, tenant: str, code: str) -> None:
        for key in [k for k in self._found if k[0] == tenant and k[1] == code]:
            self._found.pop(key, None)


def _cache(rt: Runtime) -> ItemCache:
    return rt.parts.get(ItemCache, ItemCache)


# --- reads --------------------------------------------------------------------------------------------------


@contextmanager
def _conn(rt: Runtime, conn: Connection | None) -> Iterator[Connection]:
    if conn is not None:
        yield conn
        return
    with rt.db.connect() as fresh:
        yield fresh


def _version(row: dict[str, Any]) -> ItemVersion:
    item = parse_item(row["item"], f"stored item {row['code']} version {row['version']}", version=row["version"])
    return ItemVersion(item=item, by=row["by"], at=datetime.fromisoformat(row["at"]), reason=row["reason"])


def _shipped_version(code: str) -> ItemVersion | None:
    found = shipped().items.get(code)
    return ItemVersion(found, SHIPPED_BY, SHIPPED_AT, SHIPPED_REASON, stored=False) if found else None


def _tenant(rt: Runtime, tenant: str | None) -> str:
    return tenant or rt.settings.default_tenant


def item_version(rt: Runtime, code: str, version: int | None = None, *, tenant: str | None = None,
                 conn: Connection | None = None) -> ItemVersion:  # fmt: skip
    """One version of an item (None: the latest published) with who published it; :class:`ItemNotFound`."""
    tenant, cache = _tenant(rt, tenant), _cache(rt)
    with _conn(rt, conn) as c:
        wanted = version if version is not None else store.latest_version(c, tenant, code)
        cached = cache.get(tenant, code, wanted) if wanted is not None else None
        if cached is not None:
            return cached
        row = store.get(c, tenant, code, wanted) if wanted is not None else None
    if row is not None:
        return cache.put(tenant, _version(row))
    found = _shipped_version(code) if version in (None, 1) else None
    if found is None:
        if version is not None and (latest := _latest_row(rt, code, tenant, conn)) is not None:
            raise ItemNotFound(f"service item {code} has no version {version}; the latest is {latest}")
        raise ItemNotFound(f"no service item {code!r}: GET /onestop/items lists them")
    return found


def _latest_row(rt: Runtime, code: str, tenant: str | None, conn: Connection | None) -> int | None:
    with _conn(rt, conn) as c:
        latest = store.latest_version(c, _tenant(rt, tenant), code)
    return latest if latest is not None else (1 if code in shipped().items else None)


def item(rt: Runtime, code: str, version: int | None = None, *, tenant: str | None = None,
         conn: Connection | None = None) -> ServiceItem:  # fmt: skip
    """A service item: the latest published version by default, or the one asked for. ``conn``: read inside
    the caller's transaction. :class:`ItemNotFound` when there is no such item or version."""
    return item_version(rt, code, version, tenant=tenant, conn=conn).item


def latest_items(rt: Runtime, codes: list[str], *, tenant: str | None = None) -> dict[str, ServiceItem]:
    """The latest version of each of ``codes`` (one connection, one query for the version numbers, the parsed
    versions kept per process); :class:`ItemNotFound` for a code that is no item."""
    tenant, cache = _tenant(rt, tenant), _cache(rt)
    found: dict[str, ServiceItem] = {}
    with rt.db.connect() as c:
        latest = store.latest_versions(c, tenant, codes)
        for code in codes:
            if code not in latest:
                shipped_one = _shipped_version(code)
                if shipped_one is None:
                    raise ItemNotFound(f"no service item {code!r}: GET /onestop/items lists them")
                found[code] = shipped_one.item
                continue
            cached = cache.get(tenant, code, latest[code])
            if cached is None:
                row = store.get(c, tenant, code, latest[code])
                if row is None:  # unreachable: the version was just read
                    raise ItemNotFound(f"no service item {code!r}: GET /onestop/items lists them")
                cached = cache.put(tenant, _version(row))
            found[code] = cached.item
    return found


def items(rt: Runtime, *, tenant: str | None = None, conn: Connection | None = None) -> list[ServiceItem]:
    """The latest version of every item: the shipped ones in the file's order, then the others by code."""
    with _conn(rt, conn) as c:
        rows = {r["code"]: r for r in store.latest_all(c, _tenant(rt, tenant))}
    found = [_version(rows.pop(code)).item if code in rows else it for code, it in shipped().items.items()]
    return found + [_version(rows[code]).item for code in sorted(rows)]


def history(rt: Runtime, code: str, *, tenant: str | None = None) -> list[ItemVersion]:
    """Every version of an item, oldest first."""
    with rt.db.connect() as c:
        rows = store.history(c, _tenant(rt, tenant), code)
    if rows:
        return [_version(r) for r in rows]
    found = _shipped_version(code)
    if found is None:
        raise ItemNotFound(f"no service item {code!r}: GET /onestop/items lists them")
    return [found]


def bundle(code: str) -> Bundle:
    """A 一件事 bundle; :class:`BundleNotFound`."""
    found = shipped().bundles.get(code)
    if found is None:
        raise BundleNotFound(f"no bundle {code!r}; the bundles are {', '.join(shipped().bundles)}")
    return found


def bundles() -> list[Bundle]:
    """Every bundle, in the file's order."""
    return list(shipped().bundles.values())


# --- writes -------------------------------------------------------------------------------------------------


def _row(tenant: str, it: ServiceItem, by: str, at: datetime, reason: str) -> dict[str, Any]:
    at = at.astimezone(UTC)
    return {"tenant": tenant, "code": it.code, "version": it.version, "name": it.name, "department": it.department,
            "item": item_json(it), "by": by, "at": at.isoformat(timespec="milliseconds"),
            "at_ms": int(at.timestamp() * 1000), "reason": reason}  # fmt: skip


def seed_items(rt: Runtime, tenant: str | None = None, *, by: str = SHIPPED_BY) -> int:
    """Write version 1 of each shipped item the tenant does not hold yet; the number written (seeding twice
    writes nothing)."""
    tenant = _tenant(rt, tenant)
    now = datetime.now(UTC)

    def write(conn: Connection) -> int:
        held = store.held(conn, tenant)
        new = [it for code, it in shipped().items.items() if code not in held]
        for it in new:
            store.insert_version(conn, _row(tenant, it, by, now, SHIPPED_REASON))
        return len(new)

    try:
        return rt.db.run_write(write)
    except IntegrityError:  # another process seeded at the same moment: what it wrote is the same
        return 0


def _check_in_bundles(new: ServiceItem, current: Callable[[str], ServiceItem]) -> None:
    """That every bundle with the item still holds together with the new version (its applicant kind, its
    merged form's order of questions)."""
    refs = references()
    for b in bundles():
        codes = [p.item for p in b.items]
        if new.code not in codes:
            continue
        versions = {c: (new if c == new.code else current(c)) for c in codes}
        check_bundle(b, versions, refs, f"bundle {b.code} with {new.code} version {new.version}")
        form_for(b, versions)


def publish_item(rt: Runtime, code: str, new: ServiceItem, *, by: str, reason: str, tenant: str | None = None,
                 expected: int | None = None, tests: Any = None) -> ItemVersion:  # fmt: skip
    """Publish a new version of item ``code`` (the item's ``version`` is ignored: it becomes the latest + 1,
    or 1 for a new item). ``expected``: the version the publisher read; another one in force is a
    :class:`ItemVersionConflict`. The item is checked like the shipped ones, and against the bundles it is in.
    When the tenant's database does not hold the shipped version 1 yet, it is written first.

    Decision rules must parse and pass their tests (``tests``: the cases to keep with the version; absent: its
    own, else those of the version in force): DecisionRulesInvalid (400), DecisionTestFailed (422) naming the
    failing case."""
    tenant = _tenant(rt, tenant)
    if new.code != code:
        raise InvalidServiceData(f"the item's code {new.code!r} is not the one in the path ({code!r})")
    if not reason.strip():
        raise InvalidServiceData("reason: say why the item changes (it is kept with the version)")
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as stored: milliseconds
    try:
        with rt.db.write() as conn:
            latest = store.latest_version(conn, tenant, code)
            first = _shipped_version(code) if latest is None else None
            current = latest if latest is not None else (1 if first is not None else 0)
            if expected is not None and expected != current:
                raise ItemVersionConflict(f"service item {code} is at version {current}, not {expected}: read it "
                                          "again and publish on top of it")  # fmt: skip
            it = replace(new, version=current + 1)
            check_item(it, references(), f"item {code} version {it.version}")
            if tests is None and it.decision is not None and not it.decision.get("tests") and current:
                tests = (item(rt, code, tenant=tenant, conn=conn).decision or {}).get("tests")
            it = checked(it, tests)
            _check_in_bundles(it, lambda c: item(rt, c, tenant=tenant, conn=conn))
            if first is not None:
                store.insert_version(conn, _row(tenant, first.item, SHIPPED_BY, now, SHIPPED_REASON))
            store.insert_version(conn, _row(tenant, it, by, now, reason))
    except IntegrityError:
        _cache(rt).forget(tenant, code)
        raise ItemVersionConflict(f"another version of {code} was published at the same moment: read it again "
                                  "and publish on top of it") from None  # fmt: skip
    _cache(rt).forget(tenant, code)
    return ItemVersion(item=it, by=by, at=now, reason=reason)
