"""SQL of 好差评: insert a rating (with the follow-up it opens), read ratings and follow-ups, move a follow-up
expecting the version read, the follow-ups due for a reminder or an escalation, and the figures grouped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, select, update

from cityos.onestop.rating_tables import follow_up_history, follow_ups, ratings

Row = dict[str, Any]
_r, _f, _h = ratings.c, follow_ups.c, follow_up_history.c


def insert_rating(conn: Connection, rating: Row, follow_up: Row | None, history: Row | None) -> None:
    conn.execute(insert(ratings), [rating])
    if follow_up is not None and history is not None:
        conn.execute(insert(follow_ups), [follow_up])
        conn.execute(insert(follow_up_history), [history])


def rating_of(conn: Connection, tenant: str, kind: str, subject_id: str, rater: str) -> Row | None:
    q = select(ratings).where(_r.tenant == tenant, _r.subject_kind == kind, _r.subject_id == subject_id,
                              _r.rater == rater)  # fmt: skip
    found = conn.execute(q).mappings().first()
    return dict(found) if found else None


def get_rating(conn: Connection, tenant: str, rating_id: str) -> Row | None:
    found = conn.execute(select(ratings).where(_r.tenant == tenant, _r.id == rating_id)).mappings().first()
    return dict(found) if found else None


def of_rater(conn: Connection, tenant: str, rater: str, limit: int) -> list[Row]:
    q = (select(ratings).where(_r.tenant == tenant, _r.rater == rater)
         .order_by(_r.rated_at_ms.desc(), _r.id).limit(limit))  # fmt: skip
    return [dict(r) for r in conn.execute(q).mappings()]


def follow_ups_of(conn: Connection, tenant: str, rating_ids: list[str]) -> dict[str, Row]:
    if not rating_ids:
        return {}
    q = select(follow_ups).where(_f.tenant == tenant, _f.rating_id.in_(rating_ids))
    return {r["rating_id"]: dict(r) for r in conn.execute(q).mappings()}


def get_follow_up(conn: Connection, tenant: str, follow_up_id: str, *, lock: bool = False) -> Row | None:
    q = select(follow_ups).where(_f.tenant == tenant, _f.id == follow_up_id)
    found = conn.execute(q.with_for_update() if lock else q).mappings().first()
    return dict(found) if found else None


def history(conn: Connection, tenant: str, follow_up_id: str) -> list[Row]:
    q = select(follow_up_history).where(_h.tenant == tenant, _h.follow_up_id == follow_up_id).order_by(_h.seq)
    return [dict(r) for r in conn.execute(q).mappings()]


def move(conn: Connection, tenant: str, follow_up_id: str, version: int, changes: Row, entry: Row | None) -> bool:
    q = update(follow_ups).where(_f.tenant == tenant, _f.id == follow_up_id, _f.version == version).values(**changes)
    if conn.execute(q).rowcount != 1:
        return False
    if entry is not None:
        conn.execute(insert(follow_up_history), [entry])
    return True


def queue(conn: Connection, tenant: str, holder: str | None, states: list[str], limit: int, offset: int) -> list[Row]:
    """Follow-ups (with their rating's columns) held by ``holder`` (None: anyone) in ``states``, soonest due
    first."""
    where = [_f.tenant == tenant, _f.state.in_(states)]
    if holder is not None:
        where.append(_f.holder == holder)
    q = (select(follow_ups, _r.subject_kind, _r.subject_id, _r.level, _r.reasons, _r.comment, _r.channel, _r.item,
                _r.item_name, _r.outcome, _r.rated_at_ms)
         .join(ratings, and_(_r.tenant == _f.tenant, _r.id == _f.rating_id))
         .where(*where).order_by(_f.due_at_ms, _f.id).limit(limit).offset(offset))  # fmt: skip
    return [dict(r) for r in conn.execute(q).mappings()]


def count(conn: Connection, tenant: str, holder: str | None, states: list[str]) -> int:
    where = [_f.tenant == tenant, _f.state.in_(states)]
    if holder is not None:
        where.append(_f.holder == holder)
    return int(conn.execute(select(func.count()).select_from(follow_ups).where(*where)).scalar_one())


def due_for(conn: Connection, tenant: str, states: list[str], column: str, now_ms: int, limit: int) -> list[Row]:
    """Follow-ups in ``states`` whose ``column`` (remind_at_ms, due_at_ms) has come by ``now_ms``."""
    col = follow_ups.c[column]
    q = select(follow_ups).where(_f.tenant == tenant, _f.state.in_(states), col <= now_ms)
    if column == "remind_at_ms":
        q = q.where(_f.reminded == 0)
    return [dict(r) for r in conn.execute(q.order_by(col).limit(limit)).mappings()]


def grouped(conn: Connection, tenant: str, since_ms: int | None, until_ms: int | None) -> list[Row]:
    """The ratings of a period counted by item, department, channel and level, with how many of them opened a
    follow-up, how many were answered and how many on time (the first answer by the first round's limit, and never
    escalated)."""
    where = [_r.tenant == tenant]
    if since_ms is not None:
        where.append(_r.rated_at_ms >= since_ms)
    if until_ms is not None:
        where.append(_r.rated_at_ms < until_ms)
    answered = case((_f.answered_at_ms.is_not(None), 1), else_=0)
    on_time = case((and_(_f.answered_at_ms <= _f.first_due_at_ms, _f.escalated == 0), 1), else_=0)
    q = (select(_r.item, _r.item_name, _r.department, _r.channel, _r.level, func.count().label("n"),
                func.count(_f.id).label("follow_ups"), func.sum(answered).label("answered"),
                func.sum(on_time).label("on_time"))
         .select_from(ratings.outerjoin(follow_ups, and_(_f.tenant == _r.tenant, _f.rating_id == _r.id)))
         .where(*where).group_by(_r.item, _r.item_name, _r.department, _r.channel, _r.level))  # fmt: skip
    return [dict(r) for r in conn.execute(q).mappings()]


def follow_up_counts(conn: Connection, tenant: str, now_ms: int, holder: str | None = None) -> Row:
    """How many follow-ups owe an answer, and how many of those are past their limit."""
    where = [_f.tenant == tenant, _f.state.in_(["opened", "disputed", "escalated"])]
    if holder is not None:
        where.append(_f.holder == holder)
    overdue = func.sum(case((_f.due_at_ms < now_ms, 1), else_=0))
    row = conn.execute(select(func.count(), overdue).select_from(follow_ups).where(*where)).one()
    return {"open": int(row[0] or 0), "overdue": int(row[1] or 0)}
