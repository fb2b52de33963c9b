"""Reporting: a report opens a case (classified, routed, its clock started), or is linked to the open case
it repeats, or to the case its origin opened already."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from cityos.cases import record, store
from cityos.cases.classifying import ClassifierSource, classifier
from cityos.cases.dispatching import check_category, register_and_dispatch
from cityos.cases.duplicates import Candidate, bounding_box, find_duplicate
from cityos.cases.models import Prediction
from cityos.cases.placing import Placement, placer
from cityos.cases.schemas import NewCase, Reported
from cityos.cases.settings import CasesSettings, settings
from cityos.cases.store import Row
from cityos.cases.timelimits import TZ, ms
from cityos.cases.views import case_view
from cityos.cases.workflow import Action, Event, Role
from cityos.runtime import Runtime


@dataclass(frozen=True)
class _Stored:
    """A report stored, and what to tell the bus once committed (no subject: nothing new to tell)."""

    reported: Reported
    row: Row
    subject: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def report(
    rt: Runtime,
    tenant: str,
    new: NewCase,
    actor: str,
    role: Role | str,
    now: datetime | None = None,
    *,
    classify: ClassifierSource = classifier,
) -> Reported:
    """Open a case, or link the report to the open case it repeats.

    Classifies the text when no category is given (with the classifier ``classify`` gives: a request asks
    for one that is ready, see :mod:`cityos.cases.classifying`); a prediction the classifier is unsure of
    leaves the case ``reported`` for a dispatcher to confirm, otherwise the system registers it and
    dispatches it to the department the routing rules name, starting the category's time limit.
    """
    return report_many(rt, tenant, [new], actor, role, now, classify=classify)[0]


def report_many(
    rt: Runtime,
    tenant: str,
    batch: list[NewCase],
    actor: str,
    role: Role | str,
    now: datetime | None = None,
    *,
    classify: ClassifierSource = classifier,
) -> list[Reported]:
    """Reports handed over together (a 12345 system's batch of work orders): classified in one pass and
    stored in one transaction, each as :func:`report` would (a report may repeat one earlier in the batch)."""
    s = settings(rt)
    role, now = Role(role), now or record.now()
    texts = [n.text for n in batch if n.category is None]
    predictions = iter(classify(rt).predict_many(texts) if texts else [])
    places = placer(rt).place(tenant, batch)
    prepared = [
        _prepare(s, tenant, new, place, None if new.category is not None else next(predictions), actor, role, now)
        for new, place in zip(batch, places, strict=True)
    ]
    with rt.db.write() as conn:
        stored = [
            _store(conn, s, tenant, new, row, history, actor, role, now)
            for new, (row, history) in zip(batch, prepared, strict=True)
        ]
    for done in stored:
        if done.subject:
            record.publish(rt, tenant, done.subject, done.row, **done.extra)
    return [done.reported for done in stored]


def _prepare(
    s: CasesSettings,
    tenant: str,
    new: NewCase,
    place: Placement,
    prediction: Prediction | None,
    actor: str,
    role: Role,
    now: datetime,
) -> tuple[Row, list[Event]]:
    """The projection row and opening events of a new case: placed, classified, routed, its clock started."""
    category = new.category if new.category is not None else (prediction.sub if prediction else None)
    assert category is not None
    check_category(s, category)
    confident = prediction is None or not prediction.needs_confirmation
    row = _new_row(s, tenant, new, place, category, prediction, confident, now)
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
        events, columns, routing = register_and_dispatch(s, row, now, "system", Role.SYSTEM)
        row.update(columns)
        history += events
        if routing.department and routing.cooperating:
            cooperating = {"departments": list(routing.cooperating)}
            history.append(
                Event(action=Action.ASSIGN_COOPERATING, actor="system", role=Role.SYSTEM, at=now, data=cooperating)
            )
    return row, history


def _new_row(
    s: CasesSettings,
    tenant: str,
    new: NewCase,
    place: Placement,
    category: str,
    prediction: Prediction | None,
    confident: bool,
    now: datetime,
) -> Row:
    """The projection row of a reported case, before the workflow decides its state."""
    sub = s.taxonomy.sub(category)
    return {
        "tenant": tenant,
        "id": now.astimezone(TZ).strftime("%Y%m%d") + "-" + secrets.token_hex(5).upper(),
        "source": new.source,
        "category": category,
        "main_category": sub.main,
        "priority": new.priority or sub.priority,
        "text": new.text,
        "address": new.address,
        "lon": new.lon,
        "lat": new.lat,
        "grid": place.grid if place.method else new.grid,
        "street": place.street if place.method else new.street,
        "unit": place.unit if place.method else new.unit,
        "placement": place.doc(),
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
        "created_at_ms": ms(now),
        "updated_at_ms": ms(now),
        "handled_at_ms": None,
    }


def _store(
    conn: Connection,
    s: CasesSettings,
    tenant: str,
    new: NewCase,
    row: Row,
    history: list[Event],
    actor: str,
    role: Role,
    now: datetime,
) -> _Stored:
    """Insert a prepared case, or link it to the case it repeats."""
    if new.origin is not None:
        found = store.by_origin(conn, tenant, new.origin)
        if found is not None:  # opened already: nothing new to say
            reported = Reported(case=case_view(found), created=False, follow_token=found["follow_token"])
            return _Stored(reported, found)
    dup = _duplicate(conn, s, tenant, row["category"], row["main_category"], new, now)
    if dup is not None:
        note = _duplicate_note(actor, role, new, now)
        linked = record.append(conn, s, tenant, dup, [note], now, {"reports": dup["reports"] + 1})
        # the reporter's own follow token (the one made for the case they did not open): never the case's
        mine = {"tenant": tenant, "case_id": dup["id"], "seq": linked["version"], "follow_token": row["follow_token"]}
        store.insert_report(conn, {**mine, "created_at_ms": ms(now)})
        reported = Reported(
            case=case_view(linked), created=False, duplicate_of=dup["id"], follow_token=row["follow_token"]
        )
        return _Stored(reported, linked, "case.linked", {"duplicate": True})
    row = record.insert(conn, s, tenant, row, history)
    extra = {"source": new.source, "needsConfirmation": bool(row["needs_confirmation"])}
    reported = Reported(case=case_view(row), created=True, follow_token=row["follow_token"])
    return _Stored(reported, row, "case.created", extra)


def _duplicate(
    conn: Connection, s: CasesSettings, tenant: str, category: str, main: str, new: NewCase, now: datetime
) -> Row | None:
    """The open case this report repeats, if there is one nearby."""
    if new.lon is None or new.lat is None or new.origin is not None:
        return None  # automatic sources are one case per origin; a report without coordinates cannot be placed
    distance, within = s.duplicates.limits(category, main)
    categories = [sub.code for sub in s.taxonomy.subs_of(main)] if s.duplicates.same_main_only else [category]
    rows = store.nearby_open(conn, tenant, categories, bounding_box(new.lon, new.lat, distance), ms(now - within))
    candidates = [
        Candidate(r["id"], r["category"], r["main_category"], r["lon"], r["lat"], r["created_at_ms"], r["state"])
        for r in rows
        if r["lon"] is not None
    ]
    found = find_duplicate(s.duplicates, category, main, new.lon, new.lat, ms(now), candidates)
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
