"""Applications for 有条件开放 data (开放申请, issue 19 item 6) over the runtime: apply, decide, read, and the
key check every read of a conditional dataset's records makes.

An application is made with a key (``odk_…``), shown to the applicant once in the answer and stored only as
its SHA-256: it opens nothing until the application is approved, then exactly its dataset until the approved
period ends (or the approval is revoked). The workflow table (:mod:`application_workflow`) judges each
decision; the history is appended in the same transaction as the row's change.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cityos import datahub
from cityos.opendata import application_store as store
from cityos.opendata.application_errors import (
    ApplicationMoveRefused,
    ApplicationNotFound,
    InvalidApplication,
    KeyRefused,
)
from cityos.opendata.application_workflow import (
    STATE_LABELS,
    AppAction,
    AppEvent,
    AppState,
    Decision,
    Party,
    state_at,
    transition,
)
from cityos.opendata.models import Package
from cityos.runtime import Runtime

KEY_PREFIX = "odk_"  # an open data key: tells it apart from a bearer token in a log or a support mail
MAX_LIST = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ApplicantKind(StrEnum):
    PERSON = "person"  # 自然人
    ENTERPRISE = "enterprise"  # 法人及其他组织


@dataclass(frozen=True)
class Applicant:
    kind: ApplicantKind
    name: str
    contact: str
    organisation: str | None
    purpose: str
    scenario: str


@dataclass(frozen=True)
class Application:
    """An application as read now: its ``state`` is the state at the read's time (approved past its end:
    expired)."""

    id: str
    code: str
    name: str
    provider: str
    applicant: Applicant
    state: AppState
    terms: str | None
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    history: tuple[AppEvent, ...] = ()


@dataclass(frozen=True)
class Applied:
    """A new application and its key: the only time the key is shown."""

    application: Application
    key: str


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _now() -> datetime:
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _ms(t: datetime) -> int:
    return (t - EPOCH) // timedelta(milliseconds=1)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds")


def _event(row: dict[str, Any]) -> AppEvent:
    return AppEvent(
        action=AppAction(row["action"]),
        by=row["by"],
        by_department=row["by_department"],
        at=datetime.fromisoformat(row["at"]),
        from_state=AppState(row["from_state"]) if row["from_state"] else None,
        to_state=AppState(row["to_state"]),
        reason=row["reason"],
        changes=row["changes"] or {},
    )


def _history_row(tenant: str, app_id: str, seq: int, ev: AppEvent) -> dict[str, Any]:
    return {"tenant": tenant, "application_id": app_id, "seq": seq, "at": _iso(ev.at), "action": str(ev.action),
            "by": ev.by, "by_department": ev.by_department, "reason": ev.reason,
            "from_state": str(ev.from_state) if ev.from_state else None, "to_state": str(ev.to_state),
            "changes": ev.changes}  # fmt: skip


def _application(row: dict[str, Any], history: list[dict[str, Any]], now: datetime) -> Application:
    ends = datetime.fromisoformat(row["ends_at"]) if row["ends_at"] else None
    applicant = Applicant(ApplicantKind(row["applicant_kind"]), row["applicant"], row["contact"], row["organisation"],
                          row["purpose"], row["scenario"])  # fmt: skip
    return Application(
        id=row["id"], code=row["code"], name=row["name"], provider=row["provider"], applicant=applicant,
        state=state_at(AppState(row["state"]), ends, now), terms=row["terms"], ends_at=ends,
        created_at=EPOCH + timedelta(milliseconds=row["created_at_ms"]),
        updated_at=EPOCH + timedelta(milliseconds=row["updated_at_ms"]),
        history=tuple(_event(h) for h in history),
    )  # fmt: skip


def _text(value: str | None, name: str, limit: int, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidApplication(f"an application names its {name}", field=name)
        return None
    if len(text) > limit:
        raise InvalidApplication(f"{name} is longer than {limit} characters", field=name)
    return text


def apply(rt: Runtime, tenant: str, package: Package, applicant: Applicant, *, now: datetime | None = None) -> Applied:
    """Apply for the conditional dataset ``package``: the application, submitted, and its key (shown once).
    InvalidApplication (400) for a dataset that is not conditional (无条件开放 needs no application) or a
    field missing (an enterprise names its organisation)."""
    if not package.conditional:
        raise InvalidApplication(f"{package.name} is opened without condition (无条件开放): its records need no "
                                 "application, read them with datastore_search", field="dataset")  # fmt: skip
    now = now or _now()
    who = Applicant(
        kind=applicant.kind,
        name=_text(applicant.name, "name", 256) or "",
        contact=_text(applicant.contact, "contact", 256) or "",
        organisation=_text(applicant.organisation, "organisation", 256, applicant.kind is ApplicantKind.ENTERPRISE),
        purpose=_text(applicant.purpose, "purpose", 4000) or "",
        scenario=_text(applicant.scenario, "scenario", 512) or "",
    )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    app_id = uuid.uuid4().hex[:16]
    row = {"tenant": tenant, "id": app_id, "code": package.code, "name": package.name,
           "provider": package.organization.name, "applicant_kind": str(who.kind), "applicant": who.name,
           "contact": who.contact, "organisation": who.organisation, "purpose": who.purpose,
           "scenario": who.scenario, "state": str(AppState.SUBMITTED), "terms": None, "ends_at": None,
           "ends_at_ms": None, "key_hash": key_hash(key), "created_at_ms": _ms(now), "updated_at_ms": _ms(now),
           "version": 1}  # fmt: skip
    ev = AppEvent(AppAction.APPLY, who.name, None, now, None, AppState.SUBMITTED, None,
                  {"kind": str(who.kind), "organisation": who.organisation, "scenario": who.scenario})  # fmt: skip
    history = _history_row(tenant, app_id, 1, ev)
    rt.db.run_write(lambda conn: store.insert_application(conn, row, history))
    return Applied(_application(row, [history], now), key)


def parties(app: Application, department: str | None, big_data: str) -> frozenset[Party]:
    """What a reviewer is to an application: its dataset's provider, and/or the city (no department of its
    own: an operator or administrator; or the big-data centre)."""
    found = set()
    if department is not None and department == app.provider:
        found.add(Party.PROVIDER)
    if department is None or department == big_data:
        found.add(Party.CITY)
    return frozenset(found)


def decide(rt: Runtime, tenant: str, app_id: str, decision: Decision, *, by: str, department: str | None,
           now: datetime | None = None) -> Application:  # fmt: skip
    """Approve (terms, period's end), refuse or revoke (a reason) an application, as ``by`` acting for
    ``department`` (None: the city). ApplicationNotFound (404; also for a department that may not see it),
    ApplicationMoveRefused (409), ApplicationMoveForbidden (403), InvalidApplication (400)."""
    now = now or _now()
    with rt.db.write() as conn:
        row = store.get(conn, tenant, app_id)
        if row is None:
            raise not_found(app_id)
        app = _application(row, [], now)
        who = parties(app, department, rt.settings.return_department)
        if not who:
            raise not_found(app_id)
        to = transition(app.state, decision, who, now)
        changes: dict[str, Any] = {"state": str(to), "updated_at_ms": _ms(now), "version": row["version"] + 1}
        recorded: dict[str, Any] = {}
        if decision.action is AppAction.APPROVE and decision.ends_at is not None:
            changes |= {"terms": (decision.terms or "").strip(), "ends_at": _iso(decision.ends_at),
                        "ends_at_ms": _ms(decision.ends_at)}  # fmt: skip
            recorded = {"terms": changes["terms"], "endsAt": changes["ends_at"]}
        reason = (decision.reason or "").strip() or None
        ev = AppEvent(decision.action, by, department, now, app.state, to, reason, recorded)
        if not store.move(conn, tenant, app_id, row["version"], changes,
                          _history_row(tenant, app_id, row["version"] + 1, ev)):  # fmt: skip
            raise ApplicationMoveRefused(f"application {app_id} was decided by someone else meanwhile: read it again")
        history = store.histories(conn, tenant, [app_id])[app_id]
    return _application({**row, **changes}, history, now)


def not_found(app_id: str) -> ApplicationNotFound:
    return ApplicationNotFound(f"there is no application {app_id!r} on a dataset this token reviews: "
                               "GET /opendata/applications lists them")  # fmt: skip


def get(rt: Runtime, tenant: str, app_id: str, *, now: datetime | None = None) -> Application:
    with rt.db.connect() as conn:
        row = store.get(conn, tenant, app_id)
        if row is None:
            raise not_found(app_id)
        history = store.histories(conn, tenant, [app_id])[app_id]
    return _application(row, history, now or _now())


def list_applications(rt: Runtime, tenant: str, *, provider: str | None = None, state: AppState | None = None,
                      name: str | None = None, limit: int = 20, offset: int = 0,
                      now: datetime | None = None) -> tuple[list[Application], int]:  # fmt: skip
    """Applications newest first, with their histories, and how many there are: of one provider's datasets
    (None: all), in ``state`` as stored (expired ones are stored approved: filter approved and read the
    state), of one dataset (``name``)."""
    stored = None if state is None else str(AppState.APPROVED if state is AppState.EXPIRED else state)
    with rt.db.connect() as conn:
        rows = store.search(conn, tenant, provider, stored, name, min(max(limit, 1), MAX_LIST), max(offset, 0))
        total = store.count(conn, tenant, provider, stored, name)
        histories = store.histories(conn, tenant, [r["id"] for r in rows])
    now = now or _now()
    found = [_application(r, histories[r["id"]], now) for r in rows]
    if state is not None:
        found = [a for a in found if a.state is state]
    return found, total


def of_key(rt: Runtime, tenant: str, key: str, *, now: datetime | None = None) -> Application:
    """The application a ``key`` was given with, as the applicant sees it later (待审核, the decision, the terms
    and period, the reason); ApplicationNotFound (404) for a key no application of the tenant gave. The key is
    looked up by its hash: it is never stored."""
    with rt.db.connect() as conn:
        row = store.by_key(conn, key_hash(key.strip()))
        if row is None or row["tenant"] != tenant:
            raise ApplicationNotFound("no application gave this key: paste the key (odk_…) shown once when you "
                                      "applied; apply on the dataset's page if you have none")  # fmt: skip
        history = store.histories(conn, tenant, [row["id"]])[row["id"]]
    return _application(row, history, now or _now())


def check_key(rt: Runtime, tenant: str, name: str, key: str, *, now: datetime | None = None) -> Application:
    """The approved application whose ``key`` opens dataset ``name`` now; KeyRefused (403) saying why not:
    an unknown key, one still under review, refused (with the reason), revoked, expired, or another dataset's.
    The downloads of a conditional dataset call it as datastore_search does."""
    now = now or _now()
    with rt.db.connect() as conn:
        row = store.by_key(conn, key_hash(key.strip()))
        history = store.histories(conn, tenant, [row["id"]])[row["id"]] if row and row["tenant"] == tenant else []
    if row is None or row["tenant"] != tenant:
        raise KeyRefused(
            "the key is not known: it is the key an application for this dataset gave (odk_…), sent as "
            "'Authorization: <key>' or 'X-CKAN-API-Key: <key>'; apply with POST /opendata/applications"
        )
    app = _application(row, history, now)
    if app.name != name:
        raise KeyRefused(f"the key opens {app.name}, not {name}: a key opens exactly the dataset it was applied for; "
                         f"apply for {name} with POST /opendata/applications")  # fmt: skip
    zh = STATE_LABELS[app.state][0]
    last = app.history[-1] if app.history else None
    why = f": {last.reason}" if last is not None and last.reason else ""
    if app.state is AppState.SUBMITTED:
        raise KeyRefused(f"application {app.id} for {name} is still under review (待审核) by {app.provider}: the "
                         "key opens the dataset once it is approved")  # fmt: skip
    if app.state is AppState.EXPIRED:
        raise KeyRefused(f"application {app.id} for {name} expired ({zh}) at {_iso(app.ends_at or now)}: apply "
                         "again for a new period")  # fmt: skip
    if app.state is not AppState.APPROVED:
        raise KeyRefused(f"application {app.id} for {name} was {app.state} ({zh}){why}")
    return app


def reader_of(app: Application) -> datahub.Reader:
    """Who reads with an application's key, as the audit chain records it: the applicant, for the scenario and
    purpose approved."""
    who = (
        app.applicant.name
        if app.applicant.organisation is None
        else f"{app.applicant.name} ({app.applicant.organisation})"
    )
    return datahub.Reader(principal=f"applicant:{app.id} {who}"[:128], department=None, city=False,
                          scenario=app.applicant.scenario[:256], purpose=app.applicant.purpose[:512])  # fmt: skip
