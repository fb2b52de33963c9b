"""好差评 over the runtime (GB/T 39734): an applicant rates their own handled application, a case's rating is
recorded from the cases' bus events, a rating of 2 or less opens a follow-up (差评整改) that the rated
department answers within 15 working days, with a reminder at 80 % and escalation when overdue; and the
figures per item, department and channel.

One rating per handled thing per rater: a second is AlreadyRated (409), never merged into the first. GB/T 39734
counts one evaluation per 办件 (一事一评); what a rater adds later goes into the follow-up (a dispute), where the
department must answer it, rather than into a second rating that would count twice in the 好评率.

Events go on the bus after the commit: ``onestop.rating.recorded``, ``onestop.rating.follow_up.<state>`` and
``onestop.rating.follow_up.reminded``. They carry no rater's ID number.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from cityos.bus import Event as BusEvent
from cityos.cases import DEFAULT_CALENDAR, WorkCalendar
from cityos.onestop import applications
from cityos.onestop import rating_store as store
from cityos.onestop.models import Applicant, ApplicationState
from cityos.onestop.rating_errors import (
    AlreadyRated,
    FollowUpActionForbidden,
    FollowUpActionRefused,
    FollowUpNotFound,
    NotRatable,
    RatingNotFound,
)
from cityos.onestop.rating_workflow import (
    GOOD,
    LEVELS,
    LOW,
    WAITING,
    FollowUpAction,
    FollowUpState,
    Party,
    check_rating,
    due,
    superior,
    transition,
)
from cityos.runtime import Runtime

Row = dict[str, Any]
SubjectKind = Literal["application", "case"]
# what an application must have reached to be rated: handled, whichever way (办结)
RATABLE: frozenset[ApplicationState] = frozenset({"approved", "certificate-issued", "rejected", "refused-at-intake"})
SUPERIORS: dict[str, str] = {}  # department -> its superior, where an overdue follow-up goes (none: 12345 centre)
MAX_PAGE = 200
MAX_COMMENT = 1000
TICK_BATCH = 500


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    action: str
    actor: str
    from_state: str | None
    to_state: str
    text: str | None


@dataclass(frozen=True)
class FollowUp:
    """The follow-up of a 差评 as it is now, with its history when read with it."""

    id: str
    rating_id: str
    department: str
    holder: str
    state: FollowUpState
    round: int
    opened_at: datetime
    remind_at: datetime
    due_at: datetime
    first_due_at: datetime
    reminded: bool
    escalated: bool
    answered_at: datetime | None
    answer: str | None
    version: int
    history: tuple[Entry, ...] = ()

    def overdue(self, now: datetime) -> bool:
        return self.state in WAITING and now > self.due_at

    @property
    def answered_on_time(self) -> bool | None:
        """Whether the first answer came by the first round's limit and no round went past its limit (None: not
        answered yet)."""
        return None if self.answered_at is None else self.answered_at <= self.first_due_at and not self.escalated


@dataclass(frozen=True)
class Rating:
    id: str
    subject_kind: SubjectKind
    subject_id: str
    level: int
    reasons: tuple[str, ...]
    comment: str | None
    channel: str
    item: str
    item_name: str
    department: str
    outcome: str
    rated_at: datetime
    follow_up: FollowUp | None = None


@dataclass(frozen=True)
class Actor:
    """Who acts on a follow-up: a clerk of ``department`` (None: no department), the 12345 centre (an operator
    or administrator), and/or the rater ``rater`` (the rating's rater key)."""

    name: str
    department: str | None = None
    centre: bool = False
    rater: str | None = None


def rater_key(applicant: Applicant) -> str:
    return f"{applicant.kind}:{applicant.key}"


def _now() -> datetime:
    return applications.now_ms()


def ms(t: datetime | None) -> int | None:
    """Epoch milliseconds of ``t``, as the package's rows keep times."""
    return None if t is None else int(t.timestamp() * 1000)


def _at(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, applications.TZ)


def _entry(r: Row) -> Entry:
    return Entry(r["seq"], _at(r["at_ms"]) or _now(), r["action"], r["actor"], r["from_state"], r["to_state"],
                 r["text"])  # fmt: skip


def _follow_up(r: Row, history: Sequence[Row] = ()) -> FollowUp:
    def at(col: str) -> datetime:
        return _at(r[col]) or _now()

    return FollowUp(
        id=r["id"], rating_id=r["rating_id"], department=r["department"], holder=r["holder"], state=r["state"],
        round=r["round"], opened_at=at("opened_at_ms"), remind_at=at("remind_at_ms"), due_at=at("due_at_ms"),
        first_due_at=at("first_due_at_ms"), reminded=bool(r["reminded"]), escalated=bool(r["escalated"]),
        answered_at=_at(r["answered_at_ms"]), answer=r["answer"], version=r["version"],
        history=tuple(_entry(h) for h in history),
    )  # fmt: skip


def _rating(r: Row, follow_up: Row | None = None, history: Sequence[Row] = ()) -> Rating:
    return Rating(
        id=r["id"], subject_kind=r["subject_kind"], subject_id=r["subject_id"], level=r["level"],
        reasons=tuple(r["reasons"] or ()), comment=r["comment"], channel=r["channel"], item=r["item"],
        item_name=r["item_name"], department=r["department"], outcome=r["outcome"],
        rated_at=_at(r["rated_at_ms"]) or _now(),
        follow_up=None if follow_up is None else _follow_up(follow_up, history),
    )  # fmt: skip


def _history_row(tenant: str, fid: str, seq: int, at: datetime, action: FollowUpAction, actor: str,
                 before: str | None, after: str, text: str | None) -> Row:  # fmt: skip
    return {"tenant": tenant, "follow_up_id": fid, "seq": seq, "at_ms": ms(at), "action": str(action),
            "actor": actor[:256], "from_state": before, "to_state": after, "text": text}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Rate


@dataclass(frozen=True)
class Rated:
    """What is rated and by whom, checked; the service fills the rest."""

    subject_kind: SubjectKind
    subject_id: str
    rater: str
    item: str
    item_name: str
    department: str
    outcome: str
    extra: Mapping[str, Any] = field(default_factory=dict)  # more for the event (a case's report)


def _record(rt: Runtime, tenant: str, what: Rated, level: int, reasons: Sequence[str], comment: str | None,
            channel: str, now: datetime, calendar: WorkCalendar) -> tuple[Rating, bool]:  # fmt: skip
    """Store a rating and, for a 差评, its follow-up; (the rating, whether it is new). AlreadyRated is left to
    the caller: a second rating by the same rater finds the first."""
    level, reasons, channel = check_rating(level, list(reasons), channel)
    text = (comment or "").strip()[:MAX_COMMENT] or None
    rid = uuid.uuid4().hex[:16]
    row: Row = {"tenant": tenant, "id": rid, "subject_kind": what.subject_kind, "subject_id": what.subject_id,
           "rater": what.rater[:128], "level": level, "reasons": list(reasons), "comment": text, "channel": channel,
           "item": what.item[:64], "item_name": what.item_name[:256], "department": what.department[:64],
           "outcome": what.outcome, "rated_at_ms": ms(now)}  # fmt: skip
    fu = entry = None
    if level <= LOW:
        remind, limit = due(now, calendar)
        fid = uuid.uuid4().hex[:16]
        fu = {"tenant": tenant, "id": fid, "rating_id": rid, "department": row["department"],
              "holder": row["department"], "state": "opened", "round": 1, "opened_at_ms": ms(now),
              "remind_at_ms": ms(remind), "due_at_ms": ms(limit), "first_due_at_ms": ms(limit), "reminded": 0,
              "escalated": 0, "answered_at_ms": None, "answer": None, "updated_at_ms": ms(now),
              "version": 1}  # fmt: skip
        entry = _history_row(tenant, fid, 1, now, FollowUpAction.OPEN, "system", None, "opened", text)
    try:
        with rt.db.write() as conn:
            first = store.rating_of(conn, tenant, what.subject_kind, what.subject_id, row["rater"])
            if first is None:
                store.insert_rating(conn, row, fu, entry)
    except IntegrityError:  # the same rater's rating committed first (the unique index)
        with rt.db.connect() as conn:
            first = store.rating_of(conn, tenant, what.subject_kind, what.subject_id, row["rater"])
        if first is None:
            raise
    if first is not None:
        return get_rating(rt, tenant, first["id"]), False
    made = _rating(row, fu, [entry] if entry else [])
    _publish_rated(rt, tenant, made, what.extra)
    return made, True


def _publish_rated(rt: Runtime, tenant: str, r: Rating, extra: Mapping[str, Any]) -> None:
    data: dict[str, Any] = {"ratingId": r.id, "subjectKind": r.subject_kind, "subjectId": r.subject_id}
    data |= {"level": r.level, "good": r.level in GOOD, "item": r.item, "department": r.department,
             "channel": r.channel, **extra}  # fmt: skip
    events = [BusEvent("onestop.rating.recorded", r.id, data, tenant)]
    if r.follow_up is not None:
        events.append(BusEvent("onestop.rating.follow_up.opened", r.follow_up.id, _fu_data(r.follow_up, r), tenant))
    rt.bus.publish(events)


def _fu_data(f: FollowUp, r: Rating | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"followUpId": f.id, "ratingId": f.rating_id, "department": f.department}
    data |= {"holder": f.holder, "state": f.state, "dueAt": f.due_at.isoformat()}
    if r is not None:
        data |= {"level": r.level, "item": r.item, "subjectKind": r.subject_kind, "subjectId": r.subject_id}
    return data


def rate_application(rt: Runtime, tenant: str, applicant: Applicant, application_id: str, level: int,
                     reasons: Sequence[str], comment: str | None, channel: str, *, now: datetime | None = None,
                     calendar: WorkCalendar = DEFAULT_CALENDAR) -> Rating:  # fmt: skip
    """``applicant`` rates their own handled application (approved, certificate issued, rejected or refused at
    intake). OnestopApplicationNotFound (404: none, or another's), NotRatable (409: still open or withdrawn),
    AlreadyRated (409: rated before), InvalidRating (400, naming the field)."""
    app = applications.get(rt, tenant, application_id, applications.Actor(name="rater", applies=True,
                                                                         applicant=applicant))  # fmt: skip
    if app.state not in RATABLE:
        raise NotRatable(f"application {app.id} is '{app.state}': it is rated once handled (approved, certificate "
                         "issued, rejected or refused at intake)", state=app.state)  # fmt: skip
    what = Rated("application", app.id, rater_key(applicant), app.item_code, app.item_name, app.department,
                 app.state, {"submissionId": app.submission_id})  # fmt: skip
    made, new = _record(rt, tenant, what, level, reasons, comment, channel, now or _now(), calendar)
    if not new:
        raise AlreadyRated(f"you rated application {app.id} already ({LEVELS[made.level][0]}, on "
                           f"{made.rated_at:%Y-%m-%d}): one rating per application. If the department's answer to "
                           "it does not satisfy you, dispute the answer", rating=made.id)  # fmt: skip
    return made


CASE_CHANNELS = {"hotline": "phone-12345", "app": "app", "open311": "app"}  # a case's source -> the rating's


def rate_case(rt: Runtime, tenant: str, data: Mapping[str, Any], *, now: datetime | None = None,
              calendar: WorkCalendar = DEFAULT_CALENDAR) -> Rating | None:  # fmt: skip
    """Record a closed case's rating from the cases' event (``case.rate`` or ``case.report_rated``): the first
    reporter's or a duplicate report's. Again for the same event: the first record, nothing new. None when the
    event carries no rating. A 差评 opens a follow-up owned by the case's department."""
    level = data.get("rating")
    if not isinstance(level, int) or level not in LEVELS or not data.get("caseId"):
        return None
    report = data.get("report")
    rater = "case-reporter" if report is None else f"case-report:{report}"
    reasons = ["not-solved"] if level <= LOW else []  # the follow link asks no reasons: the one a 差评 implies
    what = Rated("case", str(data["caseId"]), rater, str(data.get("category") or "case"),
                 str(data.get("category") or "case"), str(data.get("department") or "12345-centre"), "closed",
                 {"report": report})  # fmt: skip
    channel = CASE_CHANNELS.get(str(data.get("source") or ""), "online")
    return _record(rt, tenant, what, level, reasons, data.get("comment"), channel, now or _now(), calendar)[0]


# ---------------------------------------------------------------------------------------------
# Read


def get_rating(rt: Runtime, tenant: str, rating_id: str) -> Rating:
    with rt.db.connect() as conn:
        row = store.get_rating(conn, tenant, rating_id)
        fu = store.follow_ups_of(conn, tenant, [rating_id]).get(rating_id) if row else None
        history = store.history(conn, tenant, fu["id"]) if fu else []
    if row is None:
        raise RatingNotFound(f"there is no rating {rating_id!r}")
    return _rating(row, fu, history)


def ratings_of(rt: Runtime, tenant: str, applicant: Applicant, limit: int = 50) -> list[Rating]:
    """An applicant's own ratings, newest first, with their follow-ups."""
    with rt.db.connect() as conn:
        rows = store.of_rater(conn, tenant, rater_key(applicant), min(max(limit, 1), MAX_PAGE))
        fus = store.follow_ups_of(conn, tenant, [r["id"] for r in rows])
        histories = {f["id"]: store.history(conn, tenant, f["id"]) for f in fus.values()}
    return [_rating(r, fus.get(r["id"]), histories.get(fus[r["id"]]["id"], []) if r["id"] in fus else [])
            for r in rows]  # fmt: skip


def parties(row: Row, rating_rater: str, actor: Actor) -> frozenset[Party]:
    found = set()
    if actor.department is not None and actor.department == row["holder"]:
        found.add(Party.OWNER)
    if actor.centre:
        found.add(Party.CENTRE)
    if actor.rater is not None and actor.rater == rating_rater:
        found.add(Party.RATER)
    return frozenset(found)


def _not_found(fid: str) -> FollowUpNotFound:
    return FollowUpNotFound(f"there is no follow-up {fid!r}: GET /onestop/rating-follow-ups lists a department's")


def _visible(row: Row, rating_rater: str, actor: Actor) -> None:
    if parties(row, rating_rater, actor) or (actor.department is not None and actor.department == row["department"]):
        return
    if actor.department is not None:
        raise FollowUpActionForbidden(f"follow-up {row['id']} is {row['holder']}'s, not {actor.department}'s: a "
                                      "department works its own follow-ups")  # fmt: skip
    raise _not_found(row["id"])  # a rater learns nothing of others' follow-ups


def follow_up(rt: Runtime, tenant: str, follow_up_id: str, viewer: Actor) -> tuple[FollowUp, Rating]:
    """A follow-up with its history, and the rating it answers. FollowUpNotFound (404), FollowUpActionForbidden
    (403: another department's)."""
    with rt.db.connect() as conn:
        row = store.get_follow_up(conn, tenant, follow_up_id)
        rating = store.get_rating(conn, tenant, row["rating_id"]) if row else None
        history = store.history(conn, tenant, follow_up_id) if row else []
    if row is None or rating is None:
        raise _not_found(follow_up_id)
    _visible(row, rating["rater"], viewer)
    return _follow_up(row, history), _rating(rating)


@dataclass(frozen=True)
class QueueItem:
    follow_up: FollowUp
    rating: Rating


def queue(rt: Runtime, tenant: str, holder: str | None, *, states: Sequence[FollowUpState] = tuple(WAITING),
          page: int = 1, per_page: int = 50) -> tuple[list[QueueItem], int]:  # fmt: skip
    """The follow-ups ``holder`` (None: anyone) has to answer, soonest due first, one page; and how many."""
    per_page = min(max(per_page, 1), MAX_PAGE)
    with rt.db.connect() as conn:
        rows = store.queue(conn, tenant, holder, list(states), per_page, (max(page, 1) - 1) * per_page)
        total = store.count(conn, tenant, holder, list(states))
    items = []
    for r in rows:
        rating = {**r, "id": r["rating_id"]}  # the rated department is the follow-up's
        items.append(QueueItem(_follow_up(r), _rating(rating)))
    return items, total


# ---------------------------------------------------------------------------------------------
# Act


def act(rt: Runtime, tenant: str, follow_up_id: str, action: FollowUpAction, actor: Actor, text: str | None, *,
        now: datetime | None = None, calendar: WorkCalendar = DEFAULT_CALENDAR) -> FollowUp:  # fmt: skip
    """Take ``action`` on a follow-up: the transition table judges it, the history gets an entry, one
    transaction; ``onestop.rating.follow_up.<state>`` goes on the bus. A dispute starts a new round with a fresh
    limit. FollowUpNotFound (404), FollowUpActionForbidden (403), FollowUpActionRefused (409), InvalidRating
    (400: a text missing)."""
    now = now or _now()
    body = (text or "").strip()[:2000] or None
    with rt.db.write() as conn:
        row = store.get_follow_up(conn, tenant, follow_up_id, lock=rt.db.locks_rows)
        rating = store.get_rating(conn, tenant, row["rating_id"]) if row else None
        if row is None or rating is None:
            raise _not_found(follow_up_id)
        _visible(row, rating["rater"], actor)
        who = parties(row, rating["rater"], actor)
        rule = transition(row["state"], action, who, body)
        changes = _changes(row, action, rule.to, body, now, calendar)
        entry = _history_row(tenant, row["id"], row["version"] + 1, now, action, actor.name, row["state"], rule.to,
                             body)  # fmt: skip
        if not store.move(conn, tenant, row["id"], row["version"], changes, entry):
            raise FollowUpActionRefused(f"follow-up {row['id']} was acted on by someone else meanwhile: read it "
                                        "again", state=row["state"], allowed=[])  # fmt: skip
        history = store.history(conn, tenant, row["id"])
    after = _follow_up({**row, **changes}, history)
    rt.bus.publish([BusEvent(f"onestop.rating.follow_up.{after.state}", after.id, _fu_data(after), tenant)])
    return after


def _changes(row: Row, action: FollowUpAction, to: str, text: str | None, now: datetime,
             calendar: WorkCalendar) -> Row:  # fmt: skip
    changes: Row = {"state": to, "updated_at_ms": ms(now), "version": row["version"] + 1}
    if action == FollowUpAction.ANSWER:
        changes["answer"] = text
        if row["answered_at_ms"] is None:
            changes["answered_at_ms"] = ms(now)
    elif action == FollowUpAction.DISPUTE:  # a new round: the holder answers again within a fresh limit
        remind, limit = due(now, calendar)
        changes |= {"round": row["round"] + 1, "remind_at_ms": ms(remind), "due_at_ms": ms(limit), "reminded": 0}
    return changes


@dataclass(frozen=True)
class Ticked:
    reminded: int
    escalated: int


def tick(rt: Runtime, tenant: str, *, now: datetime | None = None,
         superiors: Mapping[str, str] | None = None) -> Ticked:  # fmt: skip
    """Remind the holders of the follow-ups at 80 % of their limit (``onestop.rating.follow_up.reminded``, once a
    round) and escalate those past it to the department's superior or the 12345 centre. Safe to run again: a
    follow-up moved meanwhile is left to the next tick."""
    now = now or _now()
    sup = dict(SUPERIORS if superiors is None else superiors)
    waiting: list[str] = sorted(WAITING - {"escalated"})
    with rt.db.connect() as conn:
        remind = store.due_for(conn, tenant, waiting, "remind_at_ms", ms(now) or 0, TICK_BATCH)
        overdue = store.due_for(conn, tenant, waiting, "due_at_ms", ms(now) or 0, TICK_BATCH)
    events, reminded, escalated = [], 0, 0
    for row in remind:
        entry = _history_row(tenant, row["id"], row["version"] + 1, now, FollowUpAction.REMIND, "system",
                             row["state"], row["state"], "已用去八成时限 / 80 % of the limit has run")  # fmt: skip
        with rt.db.write() as conn:
            done = store.move(conn, tenant, row["id"], row["version"], {"reminded": 1, "version": row["version"] + 1},
                              entry)  # fmt: skip
        if done:
            reminded += 1
            events.append(BusEvent("onestop.rating.follow_up.reminded", row["id"], _fu_data(_follow_up(row)), tenant))
    for row in overdue:
        with rt.db.write() as conn:
            fresh = store.get_follow_up(conn, tenant, row["id"], lock=rt.db.locks_rows)
            if fresh is None or fresh["state"] not in waiting or fresh["due_at_ms"] > (ms(now) or 0):
                continue
            rule = transition(fresh["state"], FollowUpAction.ESCALATE, frozenset({Party.SYSTEM}), None)
            to = superior(fresh["department"], sup)
            changes = {"state": rule.to, "holder": to, "escalated": 1, "updated_at_ms": ms(now),
                       "version": fresh["version"] + 1}  # fmt: skip
            entry = _history_row(
                tenant,
                fresh["id"],
                fresh["version"] + 1,
                now,
                FollowUpAction.ESCALATE,
                "system",
                fresh["state"],
                rule.to,
                f"逾期未答复，转 {to} 督办 / overdue: escalated to {to}",
            )
            done = store.move(conn, tenant, fresh["id"], fresh["version"], changes, entry)
        if done:
            escalated += 1
            events.append(BusEvent("onestop.rating.follow_up.escalated", fresh["id"],
                                   _fu_data(_follow_up({**fresh, **changes})), tenant))  # fmt: skip
    if events:
        rt.bus.publish(events)
    return Ticked(reminded, escalated)
