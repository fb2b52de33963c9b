"""Service functions of the cases package: report, act on, read and supervise cases.

Plain functions over the runtime; the HTTP routes, the Open311 API, the runner (timers, warnings,
alerts) and the CLI call these. A case's record is its event history (``cases_events``, append-only);
every change replays the history through the workflow table, appends the new event and rewrites the
projection row in the same transaction, expecting the version it read (a concurrent change is a 409).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from cityos.bus import Event as BusEvent
from cityos.cases import store
from cityos.cases.classifier import Prediction
from cityos.cases.duplicates import Candidate, bounding_box, find_duplicate
from cityos.cases.errors import CaseChanged, CaseInvalid, CaseNotFound, TransitionRefused
from cityos.cases.routing import Routing, route
from cityos.cases.settings import CasesSettings, classifier, settings
from cityos.cases.supervision import CaseRecord, Figures, figures, overall
from cityos.cases.timelimits import TZ, parse_time_limit, start_clock, suspend
from cityos.cases.workflow import (
    LOW_RATING,
    Action,
    CaseSnapshot,
    Event,
    Role,
    State,
    allowed_actions,
    apply,
    new_case,
    replay,
)
from cityos.errors import Forbidden
from cityos.runtime import Runtime

SOURCES = ("hotline", "inspector", "open311", "sensor", "alert", "app")
MAX_ATTACHMENTS = 10


class Reporter(BaseModel):
    """Who reported: shown to staff, never in public views."""

    name: str | None = Field(None, max_length=128)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=256)
    account_id: str | None = Field(None, max_length=128)
    device_id: str | None = Field(None, max_length=128)


class NewCase(BaseModel):
    """A report, from any source. Without ``category`` the classifier chooses one from ``text``."""

    source: str = Field("hotline", description="hotline | inspector | open311 | sensor | alert | app")
    text: str = Field(..., min_length=1, max_length=4000)
    category: str | None = Field(None, description="a sub-category code (GET /cases/taxonomy)")
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    address: str | None = Field(None, max_length=512)
    grid: str | None = Field(None, max_length=256)
    street: str | None = Field(None, max_length=256)
    unit: str | None = Field(None, max_length=256)
    attachments: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    reporter: Reporter | None = None
    priority: str | None = Field(None, pattern="^(urgent|high|normal|low)$")
    origin: str | None = Field(None, max_length=256, description="what opened it automatically; a case per origin")

    @model_validator(mode="after")
    def _place(self) -> NewCase:
        if self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} is unknown: use one of {', '.join(SOURCES)}")
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither (and an address)")
        if self.lon is None and not (self.address or self.grid or self.unit):
            raise ValueError("a case needs a place: lon and lat, an address, a grid or a unit")
        for url in self.attachments:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"attachment {url[:80]!r} is not an http(s) URL")
        return self


@dataclass(frozen=True)
class Reported:
    case: dict[str, Any]
    created: bool  # False: linked to ``case`` as a duplicate, or its origin opened it already
    duplicate_of: str | None = None


# --- helpers ---------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, TZ)


def _iso(ms: int | None) -> str | None:
    t = _from_ms(ms)
    return t.isoformat(timespec="seconds") if t else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _event_row(tenant: str, case_id: str, seq: int, ev: Event, before: State | None, after: State) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "case_id": case_id,
        "seq": seq,
        "at": ev.at.isoformat(),
        "action": str(ev.action),
        "actor": ev.actor,
        "role": str(ev.role),
        "reason": ev.reason,
        "data": _jsonable(ev.data),
        "from_state": str(before) if before else None,
        "to_state": str(after),
    }


def _events_of(rows: list[dict[str, Any]]) -> list[Event]:
    return [
        Event(action=r["action"], actor=r["actor"], role=r["role"], at=r["at"], reason=r["reason"], data=r["data"])
        for r in rows
    ]


def _replayed(s: CasesSettings, rows: list[dict[str, Any]]) -> CaseSnapshot:
    """The case its stored history makes, every event checked again."""
    return replay(_events_of(rows), reopen_period=s.reopen_period)


def _projection(snap: CaseSnapshot) -> dict[str, Any]:
    """The projection columns the workflow snapshot decides."""
    return {
        "state": str(snap.state),
        "department": snap.department,
        "cooperating": list(snap.cooperating),
        "result": snap.result,
        "rating": snap.rating,
        "merged_into": snap.merged_into,
        "escalation_level": snap.escalation_level,
        "returns": snap.returned_count,
        "reopens": snap.reopened_count,
        "closed_at_ms": _ms(snap.closed_at) if snap.closed_at else None,
        "version": snap.version,
    }


def _clock(s: CasesSettings, category: str, start: datetime) -> dict[str, Any]:
    """Due, reminder and first escalation of a case whose department's clock starts at ``start``."""
    limit = parse_time_limit(s.taxonomy.sub(category).time_limit)
    clock = start_clock(start, limit)
    return {
        "time_limit": str(limit),
        "due_at_ms": _ms(clock.due),
        "remind_at_ms": _ms(clock.remind_at),
        "next_escalation_ms": _ms(clock.due),
        "approximate": int(clock.approximate),
        "reminded": 0,
    }


def _routing(s: CasesSettings, row: dict[str, Any], at: datetime, trace: bool = False) -> Routing:
    sub = s.taxonomy.sub(row["category"])
    location = (row["lon"], row["lat"]) if row.get("lon") is not None else None
    return route(
        s.rules,
        category=row["category"],
        main_category=sub.main,
        location=location,
        grid=row.get("grid"),
        street=row.get("street"),
        at=at,
        default_department=sub.department,
        trace=trace,
    )


def _routing_doc(r: Routing) -> dict[str, Any]:
    return {
        "department": r.department,
        "cooperating": list(r.cooperating),
        "rule": r.rule_id,
        "level": r.level,
        "explanation": r.explanation,
        "explanationZh": r.explanation_zh,
    }


def _no_case(case_id: str) -> CaseNotFound:
    return CaseNotFound(f"there is no case {case_id!r}: GET /cases lists cases")


def _check_category(s: CasesSettings, code: str) -> None:
    if code not in {sub.code for sub in s.taxonomy.subs}:
        raise CaseInvalid(f"category {code!r} is not a sub-category code: GET /cases/taxonomy lists them")


def _publish(rt: Runtime, tenant: str, subject: str, row: dict[str, Any], **extra: Any) -> None:
    data = {
        "caseId": row["id"],
        "state": row["state"],
        "category": row["category"],
        "department": row["department"],
        "dueAt": _iso(row.get("due_at_ms")),
        "lon": row.get("lon"),
        "lat": row.get("lat"),
        **extra,
    }
    rt.bus.publish([BusEvent(subject, row["id"], data, tenant)])


# --- reporting ---------------------------------------------------------------------------------------------


def report(
    rt: Runtime, tenant: str, new: NewCase, actor: str, role: Role | str, now: datetime | None = None
) -> Reported:
    """Open a case, or link the report to the open case it repeats.

    Classifies the text when no category is given; a prediction the classifier is unsure of leaves
    the case ``reported`` for a dispatcher to confirm, otherwise the system registers it and
    dispatches it to the department the routing rules name, starting the category's time limit.
    """
    return report_many(rt, tenant, [new], actor, role, now)[0]


def report_many(
    rt: Runtime, tenant: str, batch: list[NewCase], actor: str, role: Role | str, now: datetime | None = None
) -> list[Reported]:
    """Reports handed over together (a 12345 system's batch of work orders): classified in one pass and
    stored in one transaction, each as :func:`report` would (a report may repeat one earlier in the batch)."""
    s = settings(rt)
    role, now = Role(role), now or _now()
    texts = [n.text for n in batch if n.category is None]
    predictions = iter(classifier(rt).predict_many(texts) if texts else [])
    prepared = [
        _prepare(s, tenant, new, None if new.category else next(predictions), actor, role, now) for new in batch
    ]
    out: list[tuple[Reported, str, dict[str, Any], dict[str, Any]]] = []
    with rt.db.write() as conn:
        for new, (row, history) in zip(batch, prepared, strict=True):
            out.append(_store(conn, s, tenant, new, row, history, actor, role, now))
    for _reported, subject, row, extra in out:
        if subject:
            _publish(rt, tenant, subject, row, **extra)
    return [o[0] for o in out]


def _prepare(
    s: CasesSettings, tenant: str, new: NewCase, prediction: Prediction | None, actor: str, role: Role, now: datetime
) -> tuple[dict[str, Any], list[Event]]:
    """The projection row and opening events of a new case: classified, routed, its clock started."""
    category = new.category or (prediction.sub if prediction else None)
    assert category is not None
    _check_category(s, category)
    sub = s.taxonomy.sub(category)
    confident = prediction is None or not prediction.needs_confirmation
    case_id = now.astimezone(TZ).strftime("%Y%m%d") + "-" + secrets.token_hex(5).upper()
    row: dict[str, Any] = {
        "tenant": tenant,
        "id": case_id,
        "source": new.source,
        "category": category,
        "main_category": sub.main,
        "priority": new.priority or sub.priority,
        "text": new.text,
        "address": new.address,
        "lon": new.lon,
        "lat": new.lat,
        "grid": new.grid,
        "street": new.street,
        "unit": new.unit,
        "reporter": new.reporter.model_dump(exclude_none=True) if new.reporter else None,
        "follow_token": secrets.token_urlsafe(16),
        "attachments": list(new.attachments),
        "classification": prediction.model_dump(mode="json") if prediction else None,
        "needs_confirmation": 0 if confident else 1,
        "origin": new.origin,
        "routing": None,
        "time_limit": None,
        "due_at_ms": None,
        "remind_at_ms": None,
        "next_escalation_ms": None,
        "approximate": 0,
        "reminded": 0,
        "reports": 1,
        "parent": None,
        "created_at_ms": _ms(now),
        "updated_at_ms": _ms(now),
        "handled_at_ms": None,
    }
    history = [
        Event(
            action=Action.REPORT,
            actor=actor,
            role=role,
            at=now,
            data={"source": new.source, "category": category, "text": new.text},
        )
    ]
    if confident:
        routing = _routing(s, row, now)
        row["routing"] = _routing_doc(routing)
        history.append(Event(action=Action.REGISTER, actor="system", role=Role.SYSTEM, at=now))
        if routing.department:
            clock = _clock(s, category, now)
            row.update(clock)
            dispatch_data = {"department": routing.department, "due": _from_ms(clock["due_at_ms"])}
            history.append(Event(action=Action.DISPATCH, actor="system", role=Role.SYSTEM, at=now, data=dispatch_data))
            if routing.cooperating:
                cooperating = {"departments": list(routing.cooperating)}
                history.append(
                    Event(action=Action.ASSIGN_COOPERATING, actor="system", role=Role.SYSTEM, at=now, data=cooperating)
                )
    return row, history


def _store(
    conn: Any,
    s: CasesSettings,
    tenant: str,
    new: NewCase,
    row: dict[str, Any],
    history: list[Event],
    actor: str,
    role: Role,
    now: datetime,
) -> tuple[Reported, str, dict[str, Any], dict[str, Any]]:
    """Insert a prepared case, or link it to the case it repeats; what to publish once committed."""
    if new.origin:
        found = store.by_origin(conn, tenant, new.origin)
        if found is not None:
            return Reported(_view(found), created=False), "", found, {}  # opened already: nothing new to say
    dup = _duplicate(conn, s, tenant, row["category"], row["main_category"], new, now)
    if dup is not None:
        note = _duplicate_note(actor, role, new, now)
        linked = _append(conn, s, tenant, dup, [note], now, {"reports": dup["reports"] + 1})
        return (
            Reported(_view(linked), created=False, duplicate_of=dup["id"]),
            "case.linked",
            linked,
            {"duplicate": True},
        )
    snap = new_case(history[0])
    rows = [_event_row(tenant, row["id"], 1, history[0], None, snap.state)]
    for n, ev in enumerate(history[1:], 2):
        before, snap = snap.state, apply(snap, ev, reopen_period=s.reopen_period)
        rows.append(_event_row(tenant, row["id"], n, ev, before, snap.state))
    row.update(_projection(snap))
    store.insert_case(conn, row)
    store.append_events(conn, rows)
    extra = {"source": new.source, "needsConfirmation": bool(row["needs_confirmation"])}
    return Reported(_view(row), created=True), "case.created", row, extra


def _duplicate(
    conn: Any, s: CasesSettings, tenant: str, category: str, main: str, new: NewCase, now: datetime
) -> dict | None:
    if new.lon is None or new.lat is None or new.origin:
        return None  # automatic sources are one case per origin; a report without coordinates cannot be placed
    distance, within = s.duplicates.limits(category, main)
    categories = [sub.code for sub in s.taxonomy.subs_of(main)] if s.duplicates.same_main_only else [category]
    rows = store.nearby_open(conn, tenant, categories, bounding_box(new.lon, new.lat, distance), _ms(now - within))
    candidates = [
        Candidate(r["id"], r["category"], r["main_category"], r["lon"], r["lat"], r["created_at_ms"], r["state"])
        for r in rows
        if r["lon"] is not None
    ]
    found = find_duplicate(s.duplicates, category, main, new.lon, new.lat, _ms(now), candidates)
    return store.get_case(conn, tenant, found.case_id) if found else None


def _duplicate_note(actor: str, role: Role, new: NewCase, now: datetime) -> Event:
    report_doc: dict[str, Any] = {"source": new.source, "text": new.text, "lon": new.lon, "lat": new.lat, "by": actor}
    if new.reporter:
        report_doc["reporter"] = new.reporter.model_dump(exclude_none=True)
    return Event(
        action=Action.COMMENT,
        actor=actor,
        role=role,
        at=now,
        data={"text": f"重复上报 / duplicate report: {new.text[:200]}", "duplicateReport": report_doc},
    )


# --- acting on a case ------------------------------------------------------------------------------------------


def _append(
    conn: Any,
    s: CasesSettings,
    tenant: str,
    row: dict[str, Any],
    new_events: list[Event],
    now: datetime,
    extra: dict[str, Any] | None = None,
    past: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Append events to a case (replaying its history to check them) and rewrite its projection; ``past``:
    its history rows when the caller read them already in this transaction."""
    if past is None:
        past = store.history(conn, tenant, row["id"])
    snap = _replayed(s, past)
    rows = []
    for n, ev in enumerate(new_events):
        before = snap.state
        snap = apply(snap, ev, reopen_period=s.reopen_period)
        rows.append(_event_row(tenant, row["id"], len(past) + n + 1, ev, before, snap.state))
    changes = {**_projection(snap), "updated_at_ms": _ms(now), **(extra or {})}
    if not store.update_case(conn, tenant, row["id"], row["version"], changes):
        raise CaseChanged(f"case {row['id']} changed while this action was being taken: load it again and retry")
    store.append_events(conn, rows)
    return {**row, **changes}


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
) -> dict[str, Any]:
    """Take one workflow action on a case; returns the case as it is after.

    ``department``: the department the actor works for; a handler may act only on its department's
    cases. Dispatching without a department routes the case; without a due time, the category's
    time limit starts now. ``TransitionRefused`` (409) names what the table allows instead.
    """
    s = settings(rt)
    action, role, now = Action(action), Role(role), now or _now()
    data = dict(data or {})
    with rt.db.write() as conn:
        row = store.get_case(conn, tenant, case_id)
        if row is None:
            raise _no_case(case_id)
        past = store.history(conn, tenant, case_id)
        if (
            role == Role.HANDLER
            and department is not None
            and department not in (row["department"], *row["cooperating"])
        ):
            raise Forbidden(
                f"case {case_id} is for department {row['department']!r}; this token acts for {department!r}: "
                "return it to the dispatcher if it is not yours"
            )
        extra: dict[str, Any] = {}
        if action in (Action.DISPATCH, Action.REASSIGN):
            if not data.get("department"):
                routing = _routing(s, row, now)
                if not routing.department:
                    raise CaseInvalid(f"no routing rule names a department for case {case_id}: give data.department")
                data["department"] = routing.department
                extra["routing"] = _routing_doc(routing)
            clock = _clock(s, row["category"], now)
            if data.get("due"):
                due = datetime.fromisoformat(str(data["due"]))
                clock.update(due_at_ms=_ms(due), remind_at_ms=_ms(due), next_escalation_ms=_ms(due))
            else:
                data["due"] = _from_ms(clock["due_at_ms"])
            extra.update(clock)
        elif action == Action.MERGE:
            target = store.get_case(conn, tenant, str(data.get("into") or ""))
            if target is None or target["id"] == case_id or target["state"] not in store.OPEN_STATES:
                raise CaseInvalid(f"data.into must name another open case to merge case {case_id} into")
        elif action == Action.HANDLE:
            extra["handled_at_ms"] = _ms(now)
        elif action == Action.REOPEN:
            extra.update(handled_at_ms=None, **_clock(s, row["category"], now))
        elif action == Action.REMIND:
            extra["reminded"] = 1
        elif action == Action.ESCALATE:
            limit = parse_time_limit(s.taxonomy.sub(row["category"]).time_limit)
            extra["next_escalation_ms"] = _ms(now + max(limit.running_time, timedelta(hours=1)))
        elif action == Action.RESUME and row["due_at_ms"]:
            paused = _suspended_at(past)
            if paused is not None:  # the time suspended does not count against the department
                due = suspend(_from_ms(row["due_at_ms"]), paused, now)  # type: ignore[arg-type]
                extra.update(due_at_ms=_ms(due), next_escalation_ms=_ms(due))
        elif action == Action.APPROVE_EXTENSION:
            pending = _replayed(s, past).pending_request
            if pending is not None and pending.due is not None:
                extra.update(due_at_ms=_ms(pending.due), next_escalation_ms=_ms(pending.due), reminded=0)
        ev = Event(action=action, actor=actor, role=role, at=now, reason=reason, data=data)
        after = _append(conn, s, tenant, row, [ev], now, extra, past)
    _publish(rt, tenant, f"case.{action}", after, action=str(action), by=actor, role=str(role))
    if action == Action.CLOSE:
        _tell_reporter(rt, tenant, after)
    if action == Action.RATE and (after.get("rating") or LOW_RATING + 1) <= LOW_RATING:  # the desk decides on a reopen
        _publish(rt, tenant, "case.reopen_requested", after, rating=after["rating"], comment=reason)
    return _view(after)


def _suspended_at(history: list[dict[str, Any]]) -> datetime | None:
    for r in reversed(history):
        if r["action"] == Action.APPROVE_SUSPEND:
            return datetime.fromisoformat(r["at"])
    return None


def _tell_reporter(rt: Runtime, tenant: str, row: dict[str, Any]) -> None:
    """The reporter is told the case closed (a notifier sends ``case.reporter.notify`` by SMS or e-mail)."""
    if not row.get("reporter"):
        return
    data = {
        "caseId": row["id"],
        "reporter": row["reporter"],
        "followToken": row["follow_token"],
        "message": f"您反映的问题（案件 {row['id']}）已办结：{row.get('result') or ''}。请对办理结果进行评价。",
        "messageEn": f"Your report (case {row['id']}) is closed: {row.get('result') or ''}. "
        "Please rate how it was handled.",
    }
    rt.bus.publish([BusEvent("case.reporter.notify", row["id"], data, tenant)])


def confirm_category(
    rt: Runtime, tenant: str, case_id: str, category: str, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """A dispatcher confirms (or corrects) a case's category; the correction is kept for retraining, and
    the case is registered and dispatched as the routing rules say."""
    s = settings(rt)
    _check_category(s, category)
    now = now or _now()
    with rt.db.write() as conn:
        row = store.get_case(conn, tenant, case_id)
        if row is None:
            raise _no_case(case_id)
        predicted = (row.get("classification") or {}).get("sub")
        store.add_correction(
            conn,
            {"tenant": tenant, "case_id": case_id, "text": row["text"], "predicted": predicted, "confirmed": category,
             "by": actor, "at": now.isoformat()},
        )  # fmt: skip
        sub = s.taxonomy.sub(category)
        row = {**row, "category": category, "main_category": sub.main}
        extra: dict[str, Any] = {"category": category, "main_category": sub.main, "needs_confirmation": 0}
        new_events = [
            Event(
                action=Action.COMMENT,
                actor=actor,
                role=Role.DISPATCHER,
                at=now,
                data={
                    "text": f"类别确认 / category confirmed: {category}",
                    "category": category,
                    "predicted": predicted,
                },
            )
        ]
        if row["state"] == State.REPORTED:
            routing = _routing(s, row, now)
            new_events.append(Event(action=Action.REGISTER, actor=actor, role=Role.DISPATCHER, at=now))
            extra["routing"] = _routing_doc(routing)
            if routing.department:
                clock = _clock(s, category, now)
                extra.update(clock)
                new_events.append(
                    Event(
                        action=Action.DISPATCH,
                        actor=actor,
                        role=Role.DISPATCHER,
                        at=now,
                        data={"department": routing.department, "due": _from_ms(clock["due_at_ms"])},
                    )
                )
        after = _append(conn, s, tenant, row, new_events, now, extra)
    _publish(rt, tenant, "case.confirmed", after, by=actor)
    return _view(after)


# --- reads ------------------------------------------------------------------------------------------------------


def _view(row: dict[str, Any]) -> dict[str, Any]:
    """A case as the API shows it to staff."""
    view = {
        "id": row["id"],
        "state": row["state"],
        "source": row["source"],
        "category": row["category"],
        "mainCategory": row["main_category"],
        "priority": row["priority"],
        "text": row["text"],
        "address": row.get("address"),
        "lon": row.get("lon"),
        "lat": row.get("lat"),
        "grid": row.get("grid"),
        "street": row.get("street"),
        "unit": row.get("unit"),
        "department": row.get("department"),
        "cooperating": list(row.get("cooperating") or []),
        "reporter": row.get("reporter"),
        "attachments": list(row.get("attachments") or []),
        "classification": row.get("classification"),
        "needsConfirmation": bool(row.get("needs_confirmation")),
        "origin": row.get("origin"),
        "routing": row.get("routing"),
        "timeLimit": row.get("time_limit"),
        "dueAt": _iso(row.get("due_at_ms")),
        "remindAt": _iso(row.get("remind_at_ms")),
        "approximateDue": bool(row.get("approximate")),
        "escalationLevel": row.get("escalation_level"),
        "reports": row.get("reports", 1),
        "returns": row.get("returns", 0),
        "reopens": row.get("reopens", 0),
        "rating": row.get("rating"),
        "result": row.get("result"),
        "mergedInto": row.get("merged_into"),
        "createdAt": _iso(row.get("created_at_ms")),
        "updatedAt": _iso(row.get("updated_at_ms")),
        "handledAt": _iso(row.get("handled_at_ms")),
        "closedAt": _iso(row.get("closed_at_ms")),
        "version": row.get("version"),
        "followToken": row.get("follow_token"),
    }
    return view


def public_view(case: dict[str, Any]) -> dict[str, Any]:
    """What the reporter (holding the follow token) and the public see: no personal data, no internals."""
    keep = ("id", "state", "category", "mainCategory", "text", "address", "lon", "lat", "department", "dueAt",
            "createdAt", "updatedAt", "closedAt", "result", "rating", "mergedInto", "attachments")  # fmt: skip
    return {k: case.get(k) for k in keep}


def _steps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"seq": r["seq"], "at": r["at"], "action": r["action"], "actor": r["actor"], "role": r["role"],
         "reason": r["reason"], "data": r["data"], "from": r["from_state"], "to": r["to_state"]}
        for r in rows
    ]  # fmt: skip


def history(rt: Runtime, tenant: str, case_id: str) -> list[dict[str, Any]]:
    with rt.db.connect() as conn:
        rows = store.history(conn, tenant, case_id)
    if not rows:  # every case starts with its report
        raise _no_case(case_id)
    return _steps(rows)


def detail(rt: Runtime, tenant: str, case_id: str, roles: Sequence[Role | str]) -> dict[str, Any]:
    """A case, its history, and the actions each of ``roles`` may take now: one read of each."""
    with rt.db.connect() as conn:
        row = store.get_case(conn, tenant, case_id)
        rows = store.history(conn, tenant, case_id) if row is not None else []
    if row is None:
        raise _no_case(case_id)
    snap = _replayed(settings(rt), rows)
    return {
        "case": _view(row),
        "history": _steps(rows),
        "allowed": {str(r): allowed_actions(snap, r) for r in roles},
    }


def by_follow_token(rt: Runtime, token: str) -> tuple[str, dict[str, Any]]:
    """(tenant, case) of a follow token."""
    with rt.db.connect() as conn:
        row = store.by_follow_token(conn, token)
    if row is None:
        raise CaseNotFound("this follow link matches no case: check the link you were given")
    return row["tenant"], _view(row)


def search(rt: Runtime, tenant: str, limit: int = 50, offset: int = 0, **filters: Any) -> tuple[list[dict], int]:
    with rt.db.connect() as conn:
        rows, total = store.search(conn, tenant, filters, limit, offset)
    return [_view(r) for r in rows], total


def queue(
    rt: Runtime, tenant: str, department: str, states: tuple[str, ...] | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """A department's work queue (待办): its cases still to work on, the soonest due first."""
    with rt.db.connect() as conn:
        rows = store.queue(conn, tenant, department, states or store.QUEUE_STATES, limit, offset)
    return [_view(r) for r in rows]


def dry_run(
    rt: Runtime, *, category: str | None, text: str | None, lon: float | None, lat: float | None,
    grid: str | None, street: str | None, at: datetime | None,
) -> dict[str, Any]:  # fmt: skip
    """Who would get this case (派单试算): the rule that matches, why the earlier ones did not, the time limit."""
    s = settings(rt)
    prediction = None
    if category is None:
        if not text:
            raise CaseInvalid("give a category, or a text to classify")
        prediction = classifier(rt).predict(text)
        category = prediction.sub
    _check_category(s, category)
    at = at or _now()
    r = _routing(s, {"category": category, "lon": lon, "lat": lat, "grid": grid, "street": street}, at, trace=True)
    clock = _clock(s, category, at)
    return {
        "category": category,
        "classification": prediction.model_dump(mode="json") if prediction else None,
        **_routing_doc(r),
        "trace": [{"rule": rule, "why": why} for rule, why in r.trace],
        "timeLimit": clock["time_limit"],
        "dueAt": _iso(clock["due_at_ms"]),
    }


def supervision(
    rt: Runtime, tenant: str, by: str, since: datetime, until: datetime, now: datetime | None = None
) -> dict[str, Any]:
    """The supervision figures (督办考核) of cases opened between ``since`` and ``until``."""
    if by not in ("department", "category", "department_category"):
        raise CaseInvalid("by must be department, category or department_category")
    now_ms = _ms(now or _now())
    with rt.db.connect() as conn:
        rows = store.supervision_rows(conn, tenant, _ms(since), _ms(until))
    records = [
        CaseRecord(
            case_id=r["id"], department=r["department"] or "(none)", category=r["category"],
            created_at_ms=r["created_at_ms"], closed_at_ms=r["closed_at_ms"], handled_at_ms=r["handled_at_ms"],
            due_at_ms=r["due_at_ms"], returns=r["returns"], reopened=r["reopens"], rating=r["rating"], state=r["state"],
        )
        for r in rows
    ]  # fmt: skip
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "overall": _figures_doc(overall(records, now_ms)),
        "groups": [_figures_doc(f) for f in figures(records, by, now_ms)],  # type: ignore[arg-type]
    }


def _figures_doc(f: Figures) -> dict[str, Any]:
    return {
        "key": list(f.key),
        "cases": f.cases,
        "closed": f.closed,
        "onTimeRate": f.on_time_rate,
        "overdueOpen": f.overdue_open,
        "meanHandlingHours": f.mean_handling_h,
        "p90HandlingHours": f.p90_handling_h,
        "returnRate": f.return_rate,
        "reopenRate": f.reopen_rate,
        "satisfaction": f.satisfaction,
        "meanRating": f.mean_rating,
    }


# --- timers ------------------------------------------------------------------------------------------------------


def tick(rt: Runtime, tenant: str, now: datetime | None = None) -> dict[str, int]:
    """Remind cases at 80% of their time limit (催办) and escalate overdue ones a level (grid → street →
    district → city), each as a system event; returns how many of each."""
    now = now or _now()
    done = {"reminded": 0, "escalated": 0}
    with rt.db.connect() as conn:
        remind = store.due_for_reminder(conn, tenant, _ms(now))
        escalate = store.due_for_escalation(conn, tenant, _ms(now))
    for kind, rows, action in (("reminded", remind, Action.REMIND), ("escalated", escalate, Action.ESCALATE)):
        for r in rows:
            try:
                act(rt, tenant, r["id"], action, "system", Role.SYSTEM, reason="time limit", now=now)
                done[kind] += 1
            except CaseChanged:
                continue  # changed meanwhile: the next tick looks again
            except TransitionRefused:
                if action == Action.ESCALATE:  # at the top of the ladder already
                    _park_escalation(rt, tenant, r["id"], now)
    return done


def _park_escalation(rt: Runtime, tenant: str, case_id: str, now: datetime) -> None:
    """A case at the top of the ladder is not escalated again every tick: look again in a day."""
    with rt.db.write() as conn:
        row = store.get_case(conn, tenant, case_id)
        if row is not None:
            store.update_case(
                conn, tenant, case_id, row["version"], {"next_escalation_ms": _ms(now + timedelta(days=1))}
            )


# --- learning -----------------------------------------------------------------------------------------------------


def retrain(rt: Runtime, path: Path | None = None) -> dict[str, Any]:
    """Train the classifier again on the shipped training split plus every category a dispatcher confirmed
    (可学习), save it in the data directory and use it from now on; returns the held-out figures before
    and after, so an operator sees what the corrections changed."""
    from cityos.cases.classifier import evaluate, load_examples
    from cityos.cases.classifier import retrain as train_again
    from cityos.cases.settings import model_path, use_classifier

    with rt.db.connect() as conn:
        kept = store.list_corrections(conn)
    heldout = load_examples("heldout")
    before = evaluate(classifier(rt), heldout)
    model = train_again([(c["text"], c["confirmed"]) for c in kept], taxonomy=settings(rt).taxonomy)
    after = evaluate(model, heldout)
    path = path or model_path(rt)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    use_classifier(rt, model)
    return {
        "corrections": len(kept),
        "before": {"main": before.main_accuracy, "sub": before.sub_accuracy},
        "after": {"main": after.main_accuracy, "sub": after.sub_accuracy},
        "path": str(path),
    }
