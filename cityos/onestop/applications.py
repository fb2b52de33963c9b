"""Submissions and the applications (办件) they make, over the runtime: submit a bundle (一件事) or a single
item in one transaction, read a submission's combined status, a department's queue, one application with its
history, and the actions a clerk or the applicant takes on it.

The caller resolves what is submitted: the bundle or item (:class:`~cityos.onestop.models.Bundle`,
:class:`~cityos.onestop.models.ServiceItem`) and the items that apply to the answers (the merged form's logic
decides them); this module checks that they fit together, then creates the submission and one application per
item, routed to the item's department, all committed together. The same idempotency key again (per applicant)
returns the first submission and creates nothing. Events go on the bus after the commit:
``onestop.submission.submitted`` and ``onestop.application.<state reached>`` (``onestop.application.approved``
is the e-certificate issuer's cue).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from cityos.bus import Event as BusEvent
from cityos.cases import DEFAULT_CALENDAR, ClockState, WorkCalendar
from cityos.onestop import application_store as store
from cityos.onestop.application_errors import (
    ApplicationActionForbidden,
    ApplicationActionRefused,
    IdempotencyKeyReused,
    InvalidSubmission,
    OnestopApplicationNotFound,
    SubmissionNotFound,
)
from cityos.onestop.models import Applicant, ApplicantKind, ApplicationState, Bundle, ServiceItem
from cityos.onestop.workflow import FINAL, Action, Clock, Party, transition
from cityos.runtime import Runtime

TZ = ZoneInfo("Asia/Shanghai")
MAX_PAGE = 200
MAX_ANSWERS = 64 * 1024  # bytes of the answers as JSON
KINDS: tuple[ApplicantKind, ...] = get_args(ApplicantKind)
Overall = Literal["submitted", "in-progress", "supplement-requested", "completed", "closed"]
Channel = Literal["online", "on-site"]  # the applicant's own login, or a service counter's for them
DONE: frozenset[ApplicationState] = frozenset({"approved", "certificate-issued"})
Row = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who acts on an application: a clerk (``handles``) of ``department`` (None: every department, as an
    operator or administrator), and/or the applicant (``applies``) — ``applicant`` None: on any applicant's
    behalf (a counter's 代办, an administrator)."""

    name: str
    handles: bool = False
    department: str | None = None
    applies: bool = False
    applicant: Applicant | None = None
    decides: bool = False  # the item's decision rules acting for ``department`` (无人干预自动办理)


@dataclass(frozen=True)
class Entry:
    """One entry of an application's history."""

    seq: int
    at: datetime
    action: str
    actor: str
    actor_department: str | None
    from_state: ApplicationState | None
    to_state: ApplicationState
    reason: str | None


@dataclass(frozen=True)
class ItemApplication:
    """One item's application as it is now, with its clock and (when read with it) its history."""

    id: str
    submission_id: str
    position: int
    item_code: str
    item_version: int
    item_name: str
    department: str
    applicant: Applicant
    state: ApplicationState
    clock: Clock
    reasons: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    history: tuple[Entry, ...] = ()

    def clock_state(self, now: datetime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> ClockState | None:
        return self.clock.state(now, calendar)


@dataclass(frozen=True)
class Submission:
    """A submission with its applications."""

    id: str
    applicant: Applicant
    bundle: str | None
    item: str | None
    answers: dict[str, Any]
    idempotency_key: str
    created_at: datetime
    applications: tuple[ItemApplication, ...]

    @property
    def overall(self) -> Overall:
        return overall([a.state for a in self.applications])

    @property
    def due(self) -> datetime | None:
        """The latest promised due date of the applications still open (None: none is running)."""
        dues = [a.clock.promised_due for a in self.applications if a.state not in FINAL | DONE]
        return max((d for d in dues if d is not None), default=None)


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    created: bool  # False: the idempotency key's first submission, returned again


@dataclass(frozen=True)
class Page:
    applications: list[ItemApplication]
    total: int


def overall(states: Sequence[ApplicationState]) -> Overall:
    """The combined state the applicant sees: waiting for them (补正) first; all submitted; all approved
    (completed); all finished in any way (closed); else in progress."""
    if "supplement-requested" in states:
        return "supplement-requested"
    if all(s == "submitted" for s in states):
        return "submitted"
    if all(s in DONE for s in states):
        return "completed"
    if all(s in FINAL | DONE for s in states):
        return "closed"
    return "in-progress"


# ---------------------------------------------------------------------------------------------
# Rows and times


def now_ms() -> datetime:
    t = datetime.now(TZ)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _ms(t: datetime | None) -> int | None:
    return None if t is None else int(t.timestamp() * 1000)


def _at(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, TZ)


def _clock(row: Row) -> Clock:
    return Clock(
        promised_days=row["promised_days"], legal_days=row["legal_days"], received_at=_at(row["received_at_ms"]),
        promised_due=_at(row["promised_due_ms"]), legal_due=_at(row["legal_due_ms"]),
        paused_since=_at(row["paused_since_ms"]), paused=timedelta(milliseconds=row["paused_ms"]),
        decided_at=_at(row["decided_at_ms"]),
    )  # fmt: skip


def _clock_columns(c: Clock) -> Row:
    return {"received_at_ms": _ms(c.received_at), "promised_due_ms": _ms(c.promised_due),
            "legal_due_ms": _ms(c.legal_due), "paused_since_ms": _ms(c.paused_since),
            "paused_ms": c.paused // timedelta(milliseconds=1), "decided_at_ms": _ms(c.decided_at)}  # fmt: skip


def _entry(row: Row) -> Entry:
    return Entry(seq=row["seq"], at=_at(row["at_ms"]) or now_ms(), action=row["action"], actor=row["actor"],
                 actor_department=row["actor_department"], from_state=row["from_state"], to_state=row["to_state"],
                 reason=row["reason"])  # fmt: skip


def _application(row: Row, history: Sequence[Row] = ()) -> ItemApplication:
    return ItemApplication(
        id=row["id"], submission_id=row["submission_id"], position=row["position"], item_code=row["item_code"],
        item_version=row["item_version"], item_name=row["item_name"], department=row["department"],
        applicant=Applicant(row["applicant_kind"], row["applicant"]), state=row["state"], clock=_clock(row),
        reasons=row["reasons"], created_at=_at(row["created_at_ms"]) or now_ms(),
        updated_at=_at(row["updated_at_ms"]) or now_ms(), version=row["version"],
        history=tuple(_entry(h) for h in history),
    )  # fmt: skip


def _submission(row: Row, apps: Sequence[Row], histories: Mapping[str, Sequence[Row]]) -> Submission:
    return Submission(
        id=row["id"], applicant=Applicant(row["applicant_kind"], row["applicant"]), bundle=row["bundle"],
        item=row["item"], answers=dict(row["answers"] or {}), idempotency_key=row["idempotency_key"],
        created_at=_at(row["created_at_ms"]) or now_ms(),
        applications=tuple(_application(a, histories.get(a["id"], ())) for a in apps),
    )  # fmt: skip


def _history_row(tenant: str, app_id: str, seq: int, at: datetime, action: Action, actor: Actor,
                 from_state: ApplicationState | None, to_state: ApplicationState,
                 reason: str | None) -> Row:  # fmt: skip
    return {"tenant": tenant, "application_id": app_id, "seq": seq, "at_ms": _ms(at), "action": str(action),
            "actor": actor.name[:256], "actor_department": actor.department, "from_state": from_state,
            "to_state": to_state, "reason": reason}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Submit


def _check_applicant(applicant: Applicant) -> Applicant:
    if applicant.kind not in KINDS:
        raise InvalidSubmission(f"applicantKind {applicant.kind!r} is not one of {', '.join(KINDS)}",
                                field="applicantKind")  # fmt: skip
    key = applicant.key.strip()
    if not key or len(key) > 64:
        raise InvalidSubmission("applicant is a person's registry key or an enterprise's credit code (1–64 "
                                "characters)", field="applicant")  # fmt: skip
    return Applicant(applicant.kind, key)


def _check_items(applicant: Applicant, target: Bundle | ServiceItem, items: Sequence[ServiceItem]) -> None:
    if isinstance(target, Bundle):
        if applicant.kind != target.applicant_kind:
            raise InvalidSubmission(
                f"{target.name} ({target.code}) is for an applicant of kind {target.applicant_kind}, not "
                f"{applicant.kind}", field="applicantKind",
            )  # fmt: skip
        codes = {b.item for b in target.items}
        stray = [i.code for i in items if i.code not in codes]
        if stray:
            raise InvalidSubmission(f"items {', '.join(stray)} are not in bundle {target.code}", field="items")
    elif [i.code for i in items] != [target.code]:
        raise InvalidSubmission(f"a single item's submission makes the application of {target.code} alone",
                                field="items")  # fmt: skip
    if not items:
        raise InvalidSubmission(f"no item of {target.code} applies to these answers: nothing to submit",
                                field="answers")  # fmt: skip
    if len({i.code for i in items}) != len(items):
        raise InvalidSubmission("an item appears twice in one submission", field="items")
    for i in items:
        if applicant.kind not in i.applicant_kinds:
            raise InvalidSubmission(f"{i.name} ({i.code}) is not for an applicant of kind {applicant.kind}",
                                    field="applicantKind")  # fmt: skip
        if not 0 < i.promised_limit_days <= i.legal_limit_days:
            raise InvalidSubmission(f"{i.code}: the promised limit ({i.promised_limit_days} working days) must be "
                                    f"between 1 and the legal limit ({i.legal_limit_days})", field="items")  # fmt: skip


def _answers_json(answers: Mapping[str, Any]) -> str:
    if not isinstance(answers, Mapping) or not all(isinstance(k, str) for k in answers):
        raise InvalidSubmission("answers is an object of question codes to values", field="answers")
    try:
        text = json.dumps(answers, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidSubmission(f"answers are not plain JSON values: {exc}", field="answers") from None
    if len(text.encode("utf-8")) > MAX_ANSWERS:
        raise InvalidSubmission(f"answers are larger than {MAX_ANSWERS // 1024} KB", field="answers")
    return text


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 128 or not key.isprintable():
        raise InvalidSubmission("the Idempotency-Key header is 1–128 printable characters, new for each "
                                "submission and the same on a retry", field="Idempotency-Key")  # fmt: skip
    return key


def submit(rt: Runtime, tenant: str, applicant: Applicant, target: Bundle | ServiceItem,
           items: Sequence[ServiceItem], answers: Mapping[str, Any], idempotency_key: str, *,
           now: datetime | None = None, channel: Channel | None = None) -> Submitted:  # fmt: skip
    """Submit ``target`` (a bundle, or a single item) for ``applicant`` with the merged form's ``answers``:
    the submission and one application per item of ``items`` (those that apply, resolved by the caller),
    routed to each item's department, in one transaction. The same ``idempotency_key`` of the same applicant
    again returns the first submission (``created`` False), also when two requests race; with a different
    submission it is IdempotencyKeyReused (422). InvalidSubmission (400) names the field at fault. ``channel``
    is kept for the online share (网办率); a retry need not repeat it."""
    applicant = _check_applicant(applicant)
    key = _check_key(idempotency_key)
    _check_items(applicant, target, items)
    text = _answers_json(answers)
    is_bundle = isinstance(target, Bundle)
    described = {"kind": applicant.kind, "target": target.code, "bundle": is_bundle, "answers": text,
                 "items": [[i.code, i.version] for i in items]}  # fmt: skip
    fingerprint = hashlib.sha256(json.dumps(described, sort_keys=True).encode("utf-8")).hexdigest()
    now = now or now_ms()
    sid = uuid.uuid4().hex[:16]
    submission = {"tenant": tenant, "id": sid, "applicant_kind": applicant.kind, "applicant": applicant.key,
                  "bundle": target.code if is_bundle else None, "item": None if is_bundle else target.code,
                  "answers": json.loads(text), "idempotency_key": key, "fingerprint": fingerprint,
                  "created_at_ms": _ms(now), "channel": channel}  # fmt: skip
    rows, history = [], []
    # the history names the applicant by role, never by ID number (the application holds who it is)
    actor = Actor(name=f"applicant ({applicant.kind})", applies=True, applicant=applicant)
    for position, i in enumerate(items):
        app_id = uuid.uuid4().hex[:16]
        rows.append({"tenant": tenant, "id": app_id, "submission_id": sid, "position": position,
                     "item_code": i.code, "item_version": i.version, "item_name": i.name[:256],
                     "department": i.department, "applicant_kind": applicant.kind, "applicant": applicant.key,
                     "state": "submitted", "promised_days": i.promised_limit_days, "legal_days": i.legal_limit_days,
                     "reasons": None, "created_at_ms": _ms(now), "updated_at_ms": _ms(now), "version": 1,
                     **_clock_columns(Clock(i.promised_limit_days, i.legal_limit_days))})  # fmt: skip
        history.append(_history_row(tenant, app_id, 1, now, Action.SUBMIT, actor, None, "submitted", None))
    try:
        with rt.db.write() as conn:
            first = store.by_idempotency_key(conn, tenant, applicant.kind, applicant.key, key)
            if first is None:
                store.insert_submission(conn, submission, rows, history)
    except IntegrityError:  # a request with the same key committed first (PostgreSQL: the unique index)
        with rt.db.connect() as conn:
            first = store.by_idempotency_key(conn, tenant, applicant.kind, applicant.key, key)
        if first is None:
            raise
    if first is not None:
        if first["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was used for submission {first['id']} with other answers or items: "
                "send a new key for a new submission", submission=first["id"],
            )  # fmt: skip
        return Submitted(get_submission(rt, tenant, first["id"]), created=False)
    made = _submission(submission, rows, {r["application_id"]: [r] for r in history})
    _publish_submitted(rt, tenant, made)
    return Submitted(made, created=True)


def _publish_submitted(rt: Runtime, tenant: str, s: Submission) -> None:
    events = [BusEvent("onestop.submission.submitted", s.id,
                       {"submissionId": s.id, "bundle": s.bundle, "item": s.item, "applicantKind": s.applicant.kind,
                        "applications": [a.id for a in s.applications]}, tenant)]  # fmt: skip
    events += [BusEvent("onestop.application.submitted", a.id, _event_data(a, "submit", None), tenant)
               for a in s.applications]  # fmt: skip
    rt.bus.publish(events)


def _event_data(a: ItemApplication, action: str, by: str | None) -> dict[str, Any]:
    return {"applicationId": a.id, "submissionId": a.submission_id, "item": a.item_code, "version": a.item_version,
            "department": a.department, "applicantKind": a.applicant.kind,  # not the ID number: events travel
            "state": a.state, "action": action, "by": by}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Read


def get_submission(rt: Runtime, tenant: str, submission_id: str, viewer: Actor | None = None) -> Submission:
    """A submission with its applications and their histories (the combined status is ``.overall``).
    SubmissionNotFound (404), also when ``viewer`` is an applicant other than the submission's."""
    with rt.db.connect() as conn:
        row = store.get_submission(conn, tenant, submission_id)
        apps = store.of_submission(conn, tenant, submission_id) if row else []
        histories = store.histories(conn, tenant, [a["id"] for a in apps])
    found = None if row is None else _submission(row, apps, histories)
    if found is None or (viewer is not None and not _may_see_submission(viewer, found)):
        raise SubmissionNotFound(f"there is no submission {submission_id!r} of this applicant: POST "
                                 "/onestop/submissions makes one and answers its id")  # fmt: skip
    return found


def submissions_of(rt: Runtime, tenant: str, applicant: Applicant, limit: int = 50) -> list[Submission]:
    """An applicant's submissions with their applications (我的办件), newest first."""
    with rt.db.connect() as conn:
        rows = store.of_applicant(conn, tenant, applicant.kind, applicant.key, limit)
        apps = {r["id"]: store.of_submission(conn, tenant, r["id"]) for r in rows}
        histories = store.histories(conn, tenant, [a["id"] for found in apps.values() for a in found])
    return [_submission(r, apps[r["id"]], histories) for r in rows]


def _may_see_submission(viewer: Actor, s: Submission) -> bool:
    if viewer.applies and viewer.applicant in (None, s.applicant):
        return True
    return viewer.handles and (viewer.department is None
                               or any(a.department == viewer.department for a in s.applications))  # fmt: skip


def parties(app: ItemApplication, actor: Actor) -> frozenset[Party]:
    """What ``actor`` is to ``app``: a clerk of its department, its applicant, both or neither."""
    found = set()
    if actor.handles and actor.department in (None, app.department):
        found.add(Party.CLERK)
    if actor.applies and actor.applicant in (None, app.applicant):
        found.add(Party.APPLICANT)
    if actor.decides and actor.department == app.department:
        found.add(Party.RULES)
    return frozenset(found)


def _not_found(app_id: str) -> OnestopApplicationNotFound:
    return OnestopApplicationNotFound(f"there is no application {app_id!r}: GET /onestop/applications lists a "
                                      "department's queue, GET /onestop/submissions/{id} an applicant's")  # fmt: skip


def _visible(app: ItemApplication, actor: Actor) -> None:
    if parties(app, actor):
        return
    if actor.handles and actor.department is not None:
        raise ApplicationActionForbidden(
            f"application {app.id} is routed to {app.department}, not to {actor.department}: a department handles "
            "only its own applications"
        )
    raise _not_found(app.id)  # an applicant learns nothing of others' applications


def get(rt: Runtime, tenant: str, app_id: str, viewer: Actor | None = None) -> ItemApplication:
    """One application with its history. OnestopApplicationNotFound (404); ApplicationActionForbidden (403)
    for a clerk of another department."""
    with rt.db.connect() as conn:
        row = store.get(conn, tenant, app_id)
        history = store.histories(conn, tenant, [app_id])[app_id] if row else []
    if row is None:
        raise _not_found(app_id)
    app = _application(row, history)
    if viewer is not None:
        _visible(app, viewer)
    return app


def queue(rt: Runtime, tenant: str, department: str | None, *, state: ApplicationState | None = None,
          page: int = 1, per_page: int = 50) -> Page:  # fmt: skip
    """A department's queue (None: every department's), oldest first, in ``state`` (None: any), one page,
    and how many there are."""
    per_page = min(max(per_page, 1), MAX_PAGE)
    offset = (max(page, 1) - 1) * per_page
    with rt.db.connect() as conn:
        rows = store.queue(conn, tenant, department, state, per_page, offset)
        total = store.count(conn, tenant, department, state)
    return Page([_application(r) for r in rows], total)


# ---------------------------------------------------------------------------------------------
# Act

OnApproved = Callable[[ItemApplication], None]


def check_action(app: ItemApplication, action: Action, actor: Actor, *, now: datetime | None = None,
                 calendar: WorkCalendar = DEFAULT_CALENDAR) -> None:  # fmt: skip
    """Whether ``actor`` may take ``action`` on ``app`` as it was read: the errors :func:`act` would raise (a
    dry run, for work done before the action, such as sealing a certificate)."""
    _visible(app, actor)
    transition(app.state, app.clock, action, parties(app, actor), "dry run", now or now_ms(), calendar)


def act(rt: Runtime, tenant: str, app_id: str, action: Action, actor: Actor, reason: str | None = None, *,
        now: datetime | None = None, calendar: WorkCalendar = DEFAULT_CALENDAR,
        on_approved: OnApproved | None = None) -> ItemApplication:  # fmt: skip
    """Take ``action`` on an application as ``actor``: the transition table judges it, the effects table moves
    the clock, the history gets an entry, all in one transaction; then ``onestop.application.<state>`` goes on
    the bus and, on approval, ``on_approved`` is called with the approved application (the e-certificate
    issuer's hook). OnestopApplicationNotFound (404), ApplicationActionForbidden (403: another department's,
    or the other party's action), ApplicationActionRefused (409, naming the allowed actions), InvalidAction
    (400: a reason missing)."""
    now = now or now_ms()
    text = (reason or "").strip()[:2000] or None
    with rt.db.write() as conn:
        row = store.get(conn, tenant, app_id, lock=rt.db.locks_rows)
        if row is None:
            raise _not_found(app_id)
        before = _application(row)
        _visible(before, actor)
        step = transition(before.state, before.clock, action, parties(before, actor), text, now, calendar)
        changes: Row = {"state": step.to, "updated_at_ms": _ms(now), "version": before.version + 1,
                        **_clock_columns(step.clock)}  # fmt: skip
        if text is not None:
            changes["reasons"] = text
        entry = _history_row(tenant, app_id, before.version + 1, now, action, actor, before.state, step.to, text)
        if not store.move(conn, tenant, app_id, before.version, changes, entry):
            raise ApplicationActionRefused(f"application {app_id} was acted on by someone else meanwhile: read it "
                                           "again", state=before.state, allowed=[])  # fmt: skip
        history = store.histories(conn, tenant, [app_id])[app_id]
    after = _application({**row, **changes}, history)
    rt.bus.publish([BusEvent(f"onestop.application.{after.state}", app_id, _event_data(after, action, actor.name),
                             tenant)])  # fmt: skip
    if step.to == "approved" and on_approved is not None:
        on_approved(after)
    return after
