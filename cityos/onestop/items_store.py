"""SQL of the service items' versions: insert one, read one, the latest of one or of all, an item's history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select

from cityos.onestop.items_tables import item_versions

Row = dict[str, Any]
v = item_versions.c


def insert_version(conn: Connection, row: Row) -> None:
    conn.execute(insert(item_versions), [row])


def get(conn: Connection, tenant: str, code: str, version: int | None) -> Row | None:
    """One version of an item; None for the version: the latest."""
    q = select(item_versions).where(v.tenant == tenant, v.code == code)
    q = q.where(v.version == version) if version is not None else q.order_by(v.version.desc()).limit(1)
    found = conn.execute(q).mappings().first()
    return dict(found) if found else None


def latest_version(conn: Connection, tenant: str, code: str) -> int | None:
    return conn.execute(select(func.max(v.version)).where(v.tenant == tenant, v.code == code)).scalar_one()


def latest_versions(conn: Connection, tenant: str, codes: list[str]) -> dict[str, int]:
    """The latest version number of each of ``codes`` the tenant holds (one query)."""
    q = select(v.code, func.max(v.version)).where(v.tenant == tenant, v.code.in_(codes)).group_by(v.code)
    return {code: int(version) for code, version in conn.execute(q)}


def latest_numbers(conn: Connection, tenant: str) -> dict[str, int]:
    """The latest version number of every item the tenant holds (one query, nothing parsed)."""
    q = select(v.code, func.max(v.version)).where(v.tenant == tenant).group_by(v.code)
    return {code: int(version) for code, version in conn.execute(q)}


def latest_all(conn: Connection, tenant: str) -> list[Row]:
    """The latest version of every item the tenant holds."""
    newest = select(v.code, func.max(v.version).label("version")).where(v.tenant == tenant).group_by(v.code).subquery()
    q = select(item_versions).join(newest, (v.code == newest.c.code) & (v.version == newest.c.version))
    return [dict(r) for r in conn.execute(q.where(v.tenant == tenant).order_by(v.code)).mappings()]


def history(conn: Connection, tenant: str, code: str) -> list[Row]:
    q = select(item_versions).where(v.tenant == tenant, v.code == code).order_by(v.version)
    return [dict(r) for r in conn.execute(q).mappings()]


def held(conn: Connection, tenant: str) -> set[str]:
    """The codes of the items the tenant holds at least one version of."""
    return set(conn.execute(select(v.code).where(v.tenant == tenant).distinct()).scalars())
