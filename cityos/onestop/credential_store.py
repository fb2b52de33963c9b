"""SQL of e-certificates: the offices' seals and their status index counters, the credentials issued, their
status moves (expecting the version read) and history, and the indexes a status list sets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from cityos.onestop.credential_tables import credential_history, credentials, seals

Row = dict[str, Any]


def get_seal(conn: Connection, tenant: str, department: str) -> Row | None:
    s = seals.c
    found = conn.execute(select(seals).where(s.tenant == tenant, s.department == department)).mappings().first()
    return dict(found) if found else None


def insert_seal(conn: Connection, row: Row) -> None:
    conn.execute(insert(seals), [row])


def all_seals(conn: Connection, tenant: str) -> list[Row]:
    q = select(seals).where(seals.c.tenant == tenant).order_by(seals.c.department)
    return [dict(r) for r in conn.execute(q).mappings()]


# Built once: issuing runs these for every credential, and building a statement costs more than running it.
_RESERVE = (update(seals).where(seals.c.tenant == bindparam("t"), seals.c.department == bindparam("d"))
            .values(next_index=seals.c.next_index + bindparam("n")).returning(seals.c.next_index))  # fmt: skip
_INSERT_CREDENTIAL = insert(credentials)
_INSERT_HISTORY = insert(credential_history)
# PostgreSQL: both rows in one statement (a data-modifying WITH runs whether or not it is read), one round trip
# fewer for each issue; the history's parameters carry an h_ prefix (both tables have a tenant column)
_INSERT_BOTH = (insert(credential_history)
                .values({c.name: bindparam(f"h_{c.name}", type_=c.type) for c in credential_history.c})
                .add_cte(insert(credentials).values({c.name: bindparam(c.name, type_=c.type) for c in credentials.c})
                         .cte("issued")))  # fmt: skip


def reserve_indexes(conn: Connection, tenant: str, department: str, count: int) -> int:
    """Take the office's next ``count`` free status indexes; the first of them (one statement; the row is locked
    until the transaction ends)."""
    return int(conn.execute(_RESERVE, {"t": tenant, "d": department, "n": count}).scalar_one()) - count


def next_index(conn: Connection, tenant: str, department: str) -> int:
    s = seals.c
    q = select(s.next_index).where(s.tenant == tenant, s.department == department)
    return int(conn.execute(q).scalar_one_or_none() or 0)


def insert_credential(conn: Connection, row: Row, history: Row) -> None:
    """The credential's row and its first history row (``row`` with every column of the credentials table): one
    statement on PostgreSQL (atomic alone, so that it may run as its own transaction: Database.run_one)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_INSERT_BOTH, {**row, **{f"h_{k}": v for k, v in history.items()}})
        return
    conn.execute(_INSERT_CREDENTIAL, row)
    conn.execute(_INSERT_HISTORY, history)


def get_credential(conn: Connection, tenant: str, credential_id: str) -> Row | None:
    c = credentials.c
    found = conn.execute(select(credentials).where(c.tenant == tenant, c.id == credential_id)).mappings().first()
    return dict(found) if found else None


def by_holder(conn: Connection, tenant: str, holder: str) -> list[Row]:
    c = credentials.c
    q = select(credentials).where(c.tenant == tenant, c.holder == holder).order_by(c.issued_at_ms.desc(), c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def move(conn: Connection, tenant: str, credential_id: str, version: int, state: str, history: Row) -> bool:
    c = credentials.c
    q = (update(credentials).where(c.tenant == tenant, c.id == credential_id, c.version == version)
         .values(state=state, version=version + 1))  # fmt: skip
    if conn.execute(q).rowcount != 1:
        return False
    conn.execute(insert(credential_history), [history])
    return True


def history(conn: Connection, tenant: str, credential_id: str) -> list[Row]:
    h = credential_history.c
    q = select(credential_history).where(h.tenant == tenant, h.credential_id == credential_id).order_by(h.seq)
    return [dict(r) for r in conn.execute(q).mappings()]


def set_indexes(conn: Connection, tenant: str, department: str, states: Sequence[str]) -> list[int]:
    """The status indexes of the office's credentials in one of ``states``."""
    c = credentials.c
    q = select(c.status_index).where(c.tenant == tenant, c.issuer == department, c.state.in_(list(states)))
    return [int(i) for i in conn.execute(q).scalars()]
