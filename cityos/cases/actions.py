"""Acting on a case: one workflow action at a time, and a dispatcher's confirmation of its category.

The workflow table (``workflow.RULES``) judges each action and says what it does to the case; the effects
table (``effects.EFFECTS``) says what it does to the case's clock. What is left here is what needs the
database: the case and its history, a merge's target, the routing of a dispatch that names no department.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cityos.bus import Event as BusEvent
from cityos.cases import effects, record, store
from cityos.cases.dispatching import check_category, limit_of, register_and_dispatch, routing_doc, routing_of
from cityos.cases.errors import CaseInvalid
from cityos.cases.schemas import CaseView
from cityos.cases.settings import CasesSettings, settings
from cityos.cases.store import Row
from cityos.cases.timelimits import from_ms
from cityos.cases.views import case_view
from cityos.cases.workflow import LOW_RATING, Action, CaseSnapshot, Event, Role, State
from cityos.errors import Forbidden
from cityos.runtime import Runtime

DISPATCHING = (Action.DISPATCH, Action.REASSIGN)


def act(
    rt: Runtime,
    tenant: str,
    case_id: str,
    action: Action | str,
    actor: str,
    role: Role | str,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    department: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Take one workflow action on a case; returns the case as it is after.

    ``department``: the department the actor works for; a handler may act only on its department's
    cases. Dispatching without a department routes the case; without a due time, the category's
    time limit starts now. ``TransitionRefused`` (409) names what the table allows instead.
    """
    s = settings(rt)
    action, role, now = Action(action), Role(role), now or record.now()
    with rt.db.write() as conn:
        row = record.load(conn, tenant, case_id)
        _check_department(row, role, department)
        past = store.history(conn, tenant, case_id)
        snap = record.replayed(s, past)
        data, columns = _complete(conn, s, tenant, action, row, dict(data or {}), now)
        done = effects.changes(action, _situation(s, row, past, snap, data, now))
        ev = Event(action=action, actor=actor, role=role, at=now, reason=reason, data={**data, **done.data})
        after = record.append(conn, s, tenant, row, [ev], now, {**columns, **done.columns}, snap)
    _announce(rt, tenant, ev, after)
    return case_view(after)


def _check_department(row: Row, role: Role, department: str | None) -> None:
    if role == Role.HANDLER and department is not None and department not in (row["department"], *row["cooperating"]):
        raise Forbidden(
            f"case {row['id']} is for department {row['department']!r}; this token acts for {department!r}: "
            "return it to the dispatcher if it is not yours"
        )


def _complete(
    conn: Connection, s: CasesSettings, tenant: str, action: Action, row: Row, data: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], Row]:
    """What an action needs from outside the case before the table judges it: the event's data (a dispatch
    without a department goes where the routing rules say) and the projection columns that come with it."""
    if action in DISPATCHING and not data.get("department"):
        routing = routing_of(s, row, now)
        if not routing.department:
            raise CaseInvalid(f"no routing rule names a department for case {row['id']}: give data.department")
        return {**data, "department": routing.department}, {"routing": routing_doc(routing)}
    if action == Action.MERGE:
        target = store.get_case(conn, tenant, str(data.get("into") or ""))
        if target is None or target["id"] == row["id"] or target["state"] not in store.OPEN_STATES:
            raise CaseInvalid(f"data.into must name another open case to merge case {row['id']} into")
    return data, {}


def _situation(
    s: CasesSettings, row: Row, past: list[Row], snap: CaseSnapshot, data: dict[str, Any], now: datetime
) -> effects.Situation:
    pending = snap.pending_request
    return effects.Situation(
        now=now,
        limit=limit_of(s, row["category"]),
        data=data,
        due=from_ms(row["due_at_ms"]) if row["due_at_ms"] else None,
        suspended_at=_suspended_at(past),
        pending_due=pending.due if pending is not None else None,
    )


def _suspended_at(history: list[Row]) -> datetime | None:
    """When the case's last approved suspension began."""
    for r in reversed(history):
        if r["action"] == Action.APPROVE_SUSPEND:
            return datetime.fromisoformat(r["at"])
    return None


def _announce(rt: Runtime, tenant: str, ev: Event, after: Row) -> None:
    """Tell the bus about an action taken; the reporters about a close; the desk about a low rating."""
    rated: dict[str, Any] = {}
    if ev.action == Action.RATE:  # what onestop records it as a 好差评 with: the level, the comment, the channel
        rated = {"rating": after.get("rating"), "comment": ev.reason, "source": after.get("source")}
    record.publish(
        rt, tenant, f"case.{ev.action}", after, action=str(ev.action), by=ev.actor, role=str(ev.role), **rated
    )
    if ev.action == Action.CLOSE:
        _tell_reporters(rt, tenant, after)
    if ev.action == Action.RATE and (after.get("rating") or LOW_RATING + 1) <= LOW_RATING:  # the desk decides
        record.publish(rt, tenant, "case.reopen_requested", after, rating=after["rating"], comment=ev.reason)


def _tell_reporters(rt: Runtime, tenant: str, row: Row) -> None:
    """Each reporter is told the case closed, with their own follow link: the one who opened it, and each whose
    report was linked to it as a duplicate (a notifier sends ``case.reporter.notify`` by SMS or e-mail)."""
    told = [(row.get("reporter"), row["follow_token"])]
    with rt.db.connect() as conn:
        linked = store.reports_of(conn, tenant, row["id"])
        said = {e["seq"]: e["data"] for e in store.history(conn, tenant, row["id"])} if linked else {}
    for r in linked:
        told.append(((said.get(r["seq"]) or {}).get("duplicateReport", {}).get("reporter"), r["follow_token"]))
    notices = [_notice(row, reporter, token, tenant) for reporter, token in told if reporter]
    if notices:
        rt.bus.publish(notices)


def _notice(row: Row, reporter: dict[str, Any], token: str, tenant: str) -> BusEvent:
    data = {
        "caseId": row["id"],
        "reporter": reporter,
        "followToken": token,
        "message": f"您反映的问题（案件 {row['id']}）已办结：{row.get('result') or ''}。请对办理结果进行评价。",
        "messageEn": f"Your report (case {row['id']}) is closed: {row.get('result') or ''}. "
        "Please rate how it was handled.",
    }
    return BusEvent("case.reporter.notify", row["id"], data, tenant)


def confirm_category(
    rt: Runtime, tenant: str, case_id: str, category: str, actor: str, now: datetime | None = None
) -> CaseView:
    """A dispatcher confirms (or corrects) a case's category; the correction is kept for retraining, and
    the case is registered and dispatched as the routing rules say."""
    s = settings(rt)
    check_category(s, category)
    now = now or record.now()
    with rt.db.write() as conn:
        row = record.load(conn, tenant, case_id)
        predicted = (row.get("classification") or {}).get("sub")
        store.add_correction(
            conn,
            {"tenant": tenant, "case_id": case_id, "text": row["text"], "predicted": predicted, "confirmed": category,
             "by": actor, "at": now.isoformat()},
        )  # fmt: skip
        main = s.taxonomy.sub(category).main
        row = {**row, "category": category, "main_category": main}
        extra: Row = {"category": category, "main_category": main, "needs_confirmation": 0}
        note = {"text": f"类别确认 / category confirmed: {category}", "category": category, "predicted": predicted}
        events = [Event(action=Action.COMMENT, actor=actor, role=Role.DISPATCHER, at=now, data=note)]
        if row["state"] == State.REPORTED:
            more, columns, _routing = register_and_dispatch(s, row, now, actor, Role.DISPATCHER)
            events += more
            extra.update(columns)
        after = record.append(conn, s, tenant, row, events, now, extra)
    record.publish(rt, tenant, "case.confirmed", after, by=actor)
    return case_view(after)
