"""Case workflow (一网统管 · 高效处置一件事): one transition table, small guards, a history that is only appended to.

Pure functions, no HTTP and no SQL. A case is the fold of its events: ``new_case`` starts it from a ``report``
event, ``apply`` checks one more event against the table and returns the next snapshot, ``replay`` folds a whole
history. The service layer stores every event append-only (who, when, why) and keeps the latest snapshot as a
projection row; nothing is edited in place, so ``replay(history) == projection`` always holds.

The states follow the national process of GB/T 30428 (数字化城市管理信息系统): 信息采集 → 案卷建立 →
任务派遣 → 任务处理 → 处理反馈 → 核查结案 → 综合评价, plus the side roads every city runs (退单, 挂起, 延期,
重办, 合并, 拆分, 作废). Each state, its Chinese name and its GB/T 30428 step:

- ``reported`` 已上报 (信息采集 · 采集): from a citizen, 12345, a grid inspector or a sensor warning.
- ``registered`` 已立案 (案卷建立 · 立案): a case the city must handle; awaits dispatch. A reopened case
  comes back here.
- ``dispatched`` 已派遣 (任务派遣 · 派遣): sent to a lead department that has not yet taken it.
- ``returned`` 已退单 (退单): the department sent it back to the dispatcher, with a reason.
- ``accepted`` 已受理 (任务处理 · 受理): the department took it.
- ``in_progress`` 处置中 (任务处理 · 处置): being handled; the department may ask a supervisor to suspend
  it or to extend its due time.
- ``suspended`` 已挂起 (挂起): paused with a supervisor's approval; the time-limit clock stops.
- ``handled`` 已处置 (处理反馈 · 反馈): the department recorded its result; awaits verification.
- ``verified`` 已核查 (核查结案 · 核查): a grid inspector or the reporter confirmed the result; awaits
  closing.
- ``closed`` 已结案 (核查结案 · 结案): closed; the reporter rates it (综合评价 · 评价); it may be reopened
  within a configured period.
- ``cancelled`` 已撤销 (作废): withdrawn with a reason before closing; final.
- ``merged`` 已合并: a duplicate, merged into another open case; final.
- ``split`` 已拆分: divided into two or more child cases that carry on; final.

The rating (评价, 1 非常不满意 … 5 非常满意) and the escalation level (网格 → 街道 → 区 → 市) are attributes of the
case, not states: rating and escalating never move a case. ``RULES`` says, for each action, the states it starts
from, where it goes, who may do it and what it needs; ``TRANSITIONS`` is the same table as (state, action) → state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cityos.cases.errors import TransitionRefused
from cityos.cases.timelimits import ESCALATION, next_level


class State(StrEnum):
    REPORTED = "reported"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    SUSPENDED = "suspended"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    MERGED = "merged"
    SPLIT = "split"


class Action(StrEnum):
    REPORT = "report"
    REGISTER = "register"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    REASSIGN = "reassign"
    START = "start"
    REQUEST_SUSPEND = "request_suspend"
    APPROVE_SUSPEND = "approve_suspend"
    REJECT_SUSPEND = "reject_suspend"
    RESUME = "resume"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    HANDLE = "handle"
    VERIFY_OK = "verify_ok"
    VERIFY_FAIL = "verify_fail"
    CLOSE = "close"
    RATE = "rate"
    REOPEN = "reopen"
    MERGE = "merge"
    SPLIT = "split"
    CANCEL = "cancel"
    ESCALATE = "escalate"
    REMIND = "remind"
    COMMENT = "comment"
    ASSIGN_COOPERATING = "assign_cooperating"


class Role(StrEnum):
    REPORTER = "reporter"
    OPERATOR = "operator"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"


STATE_LABELS: dict[State, tuple[str, str]] = {  # state -> (中文, English)
    State.REPORTED: ("已上报", "Reported"),
    State.REGISTERED: ("已立案", "Registered"),
    State.DISPATCHED: ("已派遣", "Dispatched"),
    State.RETURNED: ("已退单", "Returned"),
    State.ACCEPTED: ("已受理", "Accepted"),
    State.IN_PROGRESS: ("处置中", "In progress"),
    State.SUSPENDED: ("已挂起", "Suspended"),
    State.HANDLED: ("已处置", "Handled"),
    State.VERIFIED: ("已核查", "Verified"),
    State.CLOSED: ("已结案", "Closed"),
    State.CANCELLED: ("已撤销", "Cancelled"),
    State.MERGED: ("已合并", "Merged"),
    State.SPLIT: ("已拆分", "Split"),
}

ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.REPORT: ("上报", "Report"),
    Action.REGISTER: ("立案", "Register"),
    Action.DISPATCH: ("派遣", "Dispatch"),
    Action.ACCEPT: ("受理", "Accept"),
    Action.RETURN: ("退单", "Return to dispatcher"),
    Action.REASSIGN: ("改派", "Reassign"),
    Action.START: ("开始处置", "Start handling"),
    Action.REQUEST_SUSPEND: ("申请挂起", "Request suspension"),
    Action.APPROVE_SUSPEND: ("批准挂起", "Approve suspension"),
    Action.REJECT_SUSPEND: ("驳回挂起", "Reject suspension"),
    Action.RESUME: ("恢复处置", "Resume"),
    Action.REQUEST_EXTENSION: ("申请延期", "Request extension"),
    Action.APPROVE_EXTENSION: ("批准延期", "Approve extension"),
    Action.REJECT_EXTENSION: ("驳回延期", "Reject extension"),
    Action.HANDLE: ("处置反馈", "Report result"),
    Action.VERIFY_OK: ("核查通过", "Verification passed"),
    Action.VERIFY_FAIL: ("核查不通过", "Verification failed"),
    Action.CLOSE: ("结案", "Close"),
    Action.RATE: ("评价", "Rate"),
    Action.REOPEN: ("重办", "Reopen"),
    Action.MERGE: ("合并", "Merge into another case"),
    Action.SPLIT: ("拆分", "Split"),
    Action.CANCEL: ("撤销", "Cancel"),
    Action.ESCALATE: ("升级", "Escalate"),
    Action.REMIND: ("催办", "Remind"),
    Action.COMMENT: ("备注", "Comment"),
    Action.ASSIGN_COOPERATING: ("指定协办", "Add cooperating departments"),
}

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.REPORTER: ("上报人", "Reporter"),
    Role.OPERATOR: ("受理员", "Operator (12345 intake)"),
    Role.DISPATCHER: ("派遣员", "Dispatcher"),
    Role.HANDLER: ("处置人员", "Department handler"),
    Role.INSPECTOR: ("网格监督员", "Grid inspector"),
    Role.SUPERVISOR: ("值班长", "Supervisor"),
    Role.SYSTEM: ("系统", "System"),
}

ESCALATION_LEVELS: tuple[str, ...] = ESCALATION  # one ladder for the workflow and the time limits
ESCALATION_LABELS: dict[str, tuple[str, str]] = {
    "grid": ("网格", "Grid"),
    "street": ("街道", "Street"),
    "district": ("区", "District"),
    "city": ("市", "City"),
}

RATING_LABELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
LOW_RATING = 2  # a rating at or below this flags the case for reopening

# Who may verify, and as what: an operator records the reporter's confirmation taken on a 12345 call-back.
VERIFIERS: dict[Role, frozenset[str]] = {
    Role.INSPECTOR: frozenset({"inspector"}),
    Role.REPORTER: frozenset({"reporter"}),
    Role.OPERATOR: frozenset({"reporter"}),
}

DEFAULT_REOPEN_PERIOD = timedelta(days=7)

TERMINAL: frozenset[State] = frozenset({State.CLOSED, State.CANCELLED, State.MERGED, State.SPLIT})
FINAL: frozenset[State] = TERMINAL - {State.CLOSED}  # no way out at all; a closed case may still be reopened
OPEN: tuple[State, ...] = tuple(s for s in State if s not in TERMINAL)
HELD: tuple[State, ...] = (State.DISPATCHED, State.ACCEPTED, State.IN_PROGRESS, State.SUSPENDED)  # a department has it


class Event(BaseModel):
    """One entry of a case's history: who (actor, role) did what (action, data), when (at) and why (reason)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    actor: str = Field(min_length=1)
    role: Role
    at: AwareDatetime
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Verification:
    kind: str  # "inspector": a grid inspector checked on site; "reporter": the reporter confirmed
    actor: str
    at: datetime


@dataclass(frozen=True)
class PendingRequest:
    kind: str  # "suspend" or "extension"
    actor: str
    at: datetime
    reason: str
    due: datetime | None = None  # the due time an extension asks for


@dataclass(frozen=True)
class CaseSnapshot:
    """A case as its history so far makes it; ``version`` counts the events applied, the report included."""

    state: State = State.REPORTED
    department: str | None = None  # the lead department
    cooperating: tuple[str, ...] = ()
    result: str | None = None
    verification: Verification | None = None
    due: datetime | None = None
    escalation_level: str = ESCALATION_LEVELS[0]
    rating: int | None = None
    reopen_requested: bool = False
    pending_request: PendingRequest | None = None
    merged_into: str | None = None
    children: tuple[str, ...] = ()
    closed_at: datetime | None = None
    returned_count: int = 0
    reopened_count: int = 0
    version: int = 0


@dataclass(frozen=True)
class Attempt:
    """What a guard or an effect may look at: the case as it is, the event tried on it, the configured period."""

    case: CaseSnapshot
    event: Event
    reopen_period: timedelta


Precondition = Callable[[CaseSnapshot], str | None]  # about the case alone, so allowed_actions can use it
Guard = Callable[[Attempt], str | None]  # about the event's input; returns what is missing, or None
Effect = Callable[[Attempt], dict[str, Any]]  # the snapshot fields the event changes


# --- reading event data ------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def aware_time(value: Any) -> datetime | None:
    """An aware datetime, from a datetime or an ISO 8601 string (stored events come back from JSON as strings)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


def _ids(value: Any) -> list[str] | None:
    """A list of distinct non-empty strings, or None."""
    if not isinstance(value, list | tuple) or not all(_text(v) for v in value):
        return None
    ids = [v.strip() for v in value]
    return ids if len(set(ids)) == len(ids) else None


# --- preconditions (the case alone) ------------------------------------------------------------------------


def _no_pending_request(case: CaseSnapshot) -> str | None:
    return f"the pending {case.pending_request.kind} request decided first" if case.pending_request else None


def _pending(kind: str) -> Precondition:
    def check(case: CaseSnapshot) -> str | None:
        ok = case.pending_request is not None and case.pending_request.kind == kind
        return None if ok else f"a pending {kind} request"

    return check


def _has_result(case: CaseSnapshot) -> str | None:
    return None if case.result else "a recorded result"


def _has_verification(case: CaseSnapshot) -> str | None:
    return None if case.verification else "a passed verification"


def _not_rated(case: CaseSnapshot) -> str | None:
    return None if case.rating is None else "a case not yet rated since it closed"


def _below_top_level(case: CaseSnapshot) -> str | None:
    return None if next_level(case.escalation_level) else f"a level below '{ESCALATION_LEVELS[-1]}'"


# --- guards (the event's input) ----------------------------------------------------------------------------


def _reason(a: Attempt) -> str | None:
    return None if _text(a.event.reason) else "a reason"


def _department(a: Attempt) -> str | None:
    return None if _text(a.event.data.get("department")) else "a department (data.department)"


def _other_department(a: Attempt) -> str | None:
    new = _text(a.event.data.get("department"))
    if new is None:
        return "a department (data.department)"
    # A returned case may go back to the same department: the dispatcher overrules the return.
    if new == a.case.department and a.case.state != State.RETURNED:
        return f"a department other than '{new}', which has it now"
    return None


def _optional_due(a: Attempt) -> str | None:
    if "due" in a.event.data and aware_time(a.event.data["due"]) is None:
        return "a due time with a time zone (data.due), or none"
    return None


def _later_due(a: Attempt) -> str | None:
    due = aware_time(a.event.data.get("due"))
    if due is None:
        return "a new due time with a time zone (data.due)"
    if due <= a.event.at or (a.case.due is not None and due <= a.case.due):
        return "a new due time later than now and than the current one"
    return None


def _result(a: Attempt) -> str | None:
    return None if _text(a.event.data.get("result")) else "a result (data.result)"


def _verifier(a: Attempt) -> str | None:
    kinds = VERIFIERS.get(a.event.role, frozenset())
    if a.event.data.get("verifier") in kinds:
        return None
    return "a verifier (data.verifier) of " + " or ".join(f"'{k}'" for k in sorted(kinds))


def _rating(a: Attempt) -> str | None:
    r = a.event.data.get("rating")
    ok = isinstance(r, int) and not isinstance(r, bool) and r in RATING_LABELS
    return None if ok else "a rating (data.rating) from 1 (非常不满意) to 5 (非常满意)"


def _within_reopen_period(a: Attempt) -> str | None:
    closed = a.case.closed_at
    if closed is not None and a.event.at - closed <= a.reopen_period:
        return None
    return f"to be within {a.reopen_period} of closing (closed at {closed.isoformat() if closed else 'unknown'})"


def _target(a: Attempt) -> str | None:
    return None if _text(a.event.data.get("into")) else "the id of the case this one duplicates (data.into)"


def _children(a: Attempt) -> str | None:
    ids = _ids(a.event.data.get("children"))
    return None if ids and len(ids) >= 2 else "two or more distinct child case ids (data.children)"


def _new_cooperating(a: Attempt) -> str | None:
    ids = _ids(a.event.data.get("departments"))
    taken = {a.case.department, *a.case.cooperating}
    if ids and not taken.intersection(ids):
        return None
    return "one or more departments not already on the case (data.departments)"


def _comment_text(a: Attempt) -> str | None:
    return None if _text(a.event.data.get("text")) else "a text (data.text)"


# --- effects -----------------------------------------------------------------------------------------------


def _nothing(a: Attempt) -> dict[str, Any]:
    return {}


def _assign(a: Attempt) -> dict[str, Any]:
    lead = _text(a.event.data.get("department"))
    changes: dict[str, Any] = {"department": lead, "cooperating": tuple(d for d in a.case.cooperating if d != lead)}
    due = aware_time(a.event.data.get("due"))
    if due is not None:
        changes["due"] = due
    return changes


def _count_return(a: Attempt) -> dict[str, Any]:
    return {"returned_count": a.case.returned_count + 1}


def _request(kind: str) -> Effect:
    def effect(a: Attempt) -> dict[str, Any]:
        e = a.event
        due = aware_time(e.data.get("due")) if kind == "extension" else None
        return {"pending_request": PendingRequest(kind, e.actor, e.at, _text(e.reason) or "", due)}

    return effect


def _decided(a: Attempt) -> dict[str, Any]:
    return {"pending_request": None}


def _extend(a: Attempt) -> dict[str, Any]:
    assert a.case.pending_request is not None  # the precondition _pending("extension") holds
    return {"due": a.case.pending_request.due, "pending_request": None}


def _record_result(a: Attempt) -> dict[str, Any]:
    return {"result": _text(a.event.data.get("result"))}


def _record_verification(a: Attempt) -> dict[str, Any]:
    return {"verification": Verification(a.event.data["verifier"], a.event.actor, a.event.at)}


def _forget_result(a: Attempt) -> dict[str, Any]:
    # The result did not hold: the department must handle the case again and record a new one.
    return {"result": None, "verification": None}


def _close(a: Attempt) -> dict[str, Any]:
    return {"closed_at": a.event.at}


def _rate(a: Attempt) -> dict[str, Any]:
    rating = a.event.data["rating"]
    return {"rating": rating, "reopen_requested": rating <= LOW_RATING}


def _reopen(a: Attempt) -> dict[str, Any]:
    # The old result, verification and rating stay in the history; the reopened case needs new ones.
    return {
        "result": None,
        "verification": None,
        "closed_at": None,
        "rating": None,
        "reopen_requested": False,
        "reopened_count": a.case.reopened_count + 1,
    }


def _merge(a: Attempt) -> dict[str, Any]:
    return {"merged_into": _text(a.event.data.get("into"))}


def _split(a: Attempt) -> dict[str, Any]:
    return {"children": tuple(_ids(a.event.data.get("children")) or ())}


def _escalate(a: Attempt) -> dict[str, Any]:
    return {"escalation_level": next_level(a.case.escalation_level)}


def _add_cooperating(a: Attempt) -> dict[str, Any]:
    return {"cooperating": a.case.cooperating + tuple(_ids(a.event.data.get("departments")) or ())}


# --- the table ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One action: the states it starts from, where it goes (None: stays), who may do it and what it needs."""

    froms: tuple[State, ...]
    to: State | None
    roles: frozenset[Role]
    when: tuple[Precondition, ...] = ()
    needs: tuple[Guard, ...] = ()
    effect: Effect = _nothing
    from_text: str | None = None  # what the action needs, in words, when the case is in another state


DESK = frozenset({Role.OPERATOR, Role.DISPATCHER})  # 12345 intake and the dispatch desk
HANDLERS = frozenset({Role.HANDLER})
CHECKERS = frozenset(VERIFIERS)
AUTO = frozenset({Role.SYSTEM})
SUPERVISORS = frozenset({Role.SUPERVISOR})

RULES: dict[Action, Rule] = {
    Action.REPORT: Rule(
        (),
        State.REPORTED,
        frozenset({Role.REPORTER, Role.OPERATOR, Role.INSPECTOR, Role.SYSTEM}),
        from_text="a new case: a report starts one",
    ),
    Action.REGISTER: Rule((State.REPORTED,), State.REGISTERED, DESK | AUTO),
    Action.DISPATCH: Rule(
        (State.REGISTERED,), State.DISPATCHED, DESK | AUTO, needs=(_department, _optional_due), effect=_assign
    ),
    Action.ACCEPT: Rule((State.DISPATCHED,), State.ACCEPTED, HANDLERS),
    Action.RETURN: Rule(
        (State.DISPATCHED, State.ACCEPTED), State.RETURNED, HANDLERS, needs=(_reason,), effect=_count_return
    ),
    Action.REASSIGN: Rule(
        (State.RETURNED, State.DISPATCHED, State.ACCEPTED),
        State.DISPATCHED,
        DESK,
        needs=(_other_department, _optional_due),
        effect=_assign,
    ),
    Action.START: Rule((State.ACCEPTED,), State.IN_PROGRESS, HANDLERS),
    # Requests are made while handling and decided by a supervisor; any move out of in_progress drops them.
    Action.REQUEST_SUSPEND: Rule(
        (State.IN_PROGRESS,), None, HANDLERS, when=(_no_pending_request,), needs=(_reason,), effect=_request("suspend")
    ),
    Action.APPROVE_SUSPEND: Rule(
        (State.IN_PROGRESS,), State.SUSPENDED, SUPERVISORS, when=(_pending("suspend"),), effect=_decided
    ),
    Action.REJECT_SUSPEND: Rule(
        (State.IN_PROGRESS,), None, SUPERVISORS, when=(_pending("suspend"),), needs=(_reason,), effect=_decided
    ),
    Action.RESUME: Rule((State.SUSPENDED,), State.IN_PROGRESS, HANDLERS | SUPERVISORS | AUTO),
    Action.REQUEST_EXTENSION: Rule(
        (State.IN_PROGRESS,),
        None,
        HANDLERS,
        when=(_no_pending_request,),
        needs=(_reason, _later_due),
        effect=_request("extension"),
    ),
    Action.APPROVE_EXTENSION: Rule(
        (State.IN_PROGRESS,), None, SUPERVISORS, when=(_pending("extension"),), effect=_extend
    ),
    Action.REJECT_EXTENSION: Rule(
        (State.IN_PROGRESS,), None, SUPERVISORS, when=(_pending("extension"),), needs=(_reason,), effect=_decided
    ),
    Action.HANDLE: Rule((State.IN_PROGRESS,), State.HANDLED, HANDLERS, needs=(_result,), effect=_record_result),
    Action.VERIFY_OK: Rule((State.HANDLED,), State.VERIFIED, CHECKERS, needs=(_verifier,), effect=_record_verification),
    Action.VERIFY_FAIL: Rule((State.HANDLED,), State.IN_PROGRESS, CHECKERS, needs=(_reason,), effect=_forget_result),
    # Only a verified case closes, and the preconditions check the snapshot too, so that a closed case always
    # has a result and a verification, whatever a projection row says.
    Action.CLOSE: Rule(
        (State.VERIFIED,),
        State.CLOSED,
        DESK | AUTO,
        when=(_has_result, _has_verification),
        effect=_close,
        from_text="a recorded result and a passed verification",
    ),
    Action.RATE: Rule(
        (State.CLOSED,),
        None,
        frozenset({Role.REPORTER, Role.OPERATOR}),
        when=(_not_rated,),
        needs=(_rating,),
        effect=_rate,
    ),
    Action.REOPEN: Rule(
        (State.CLOSED,), State.REGISTERED, DESK | SUPERVISORS, needs=(_reason, _within_reopen_period), effect=_reopen
    ),
    Action.MERGE: Rule(OPEN, State.MERGED, DESK, needs=(_target,), effect=_merge),
    # Split before a department holds the case: the dispatcher divides what was reported or returned.
    Action.SPLIT: Rule(
        (State.REPORTED, State.REGISTERED, State.RETURNED), State.SPLIT, DESK, needs=(_children,), effect=_split
    ),
    Action.CANCEL: Rule(OPEN, State.CANCELLED, DESK | SUPERVISORS | AUTO, needs=(_reason,)),
    Action.ESCALATE: Rule(OPEN, None, SUPERVISORS | AUTO, when=(_below_top_level,), effect=_escalate),
    Action.REMIND: Rule(OPEN, None, SUPERVISORS | AUTO),
    Action.COMMENT: Rule(tuple(State), None, frozenset(Role), needs=(_comment_text,)),
    Action.ASSIGN_COOPERATING: Rule(
        HELD, None, DESK | SUPERVISORS | AUTO, needs=(_new_cooperating,), effect=_add_cooperating
    ),
}

# (state, action) -> next state: every move a case can make, and nothing else.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (state, action): rule.to or state for action, rule in RULES.items() for state in rule.froms
}


# --- the public functions ----------------------------------------------------------------------------------


def _either(items: Iterable[str], quote: str = "'") -> str:
    names = [f"{quote}{i}{quote}" for i in items]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _refused(case: CaseSnapshot, event: Event, why: str) -> TransitionRefused:
    allowed = allowed_actions(case, event.role)
    detail = f"Case is '{case.state}'; '{event.action}' {why}. Allowed now for {event.role}: {', '.join(allowed)}"
    return TransitionRefused(detail, state=str(case.state), action=str(event.action), allowed=allowed)


def allowed_actions(case: CaseSnapshot, role: Role | str) -> list[str]:
    """The actions ``role`` may take on ``case`` now, in table order, judged by the case alone.

    Guards on an event's input (a reason, a department, the reopen period) are checked only by ``apply``.
    """
    role = Role(role)
    return [
        str(action)
        for action, rule in RULES.items()
        if case.state in rule.froms and role in rule.roles and not any(check(case) for check in rule.when)
    ]


def new_case(event: Event) -> CaseSnapshot:
    """The snapshot of a case started by a ``report`` event."""
    roles = RULES[Action.REPORT].roles
    if event.action != Action.REPORT or event.role not in roles:
        raise TransitionRefused(
            f"A case starts with a 'report' event by {_either((r for r in Role if r in roles), quote='')}; "
            f"got '{event.action}' by {event.role}",
            action=str(event.action),
        )
    return CaseSnapshot(state=State.REPORTED, version=1)


def apply(case: CaseSnapshot, event: Event, *, reopen_period: timedelta = DEFAULT_REOPEN_PERIOD) -> CaseSnapshot:
    """The case after ``event``; ``TransitionRefused`` if the table, the role or a guard does not allow it."""
    rule = RULES[event.action]
    to = TRANSITIONS.get((case.state, event.action))
    if to is None:
        raise _refused(case, event, f"needs {rule.from_text or 'a case that is ' + _either(rule.froms)}")
    if event.role not in rule.roles:
        raise _refused(
            case, event, f"is for {_either((r for r in Role if r in rule.roles), quote='')}, not {event.role}"
        )
    attempt = Attempt(case, event, reopen_period)
    missing = [m for check in rule.when if (m := check(case))] + [m for guard in rule.needs if (m := guard(attempt))]
    if missing:
        raise _refused(case, event, "needs " + " and ".join(missing))
    changes = rule.effect(attempt)
    if to != case.state:  # a pending request is about the state it was made in
        changes = {"pending_request": None, **changes}
    return replace(case, **changes, state=to, version=case.version + 1)


def replay(events: Iterable[Event], *, reopen_period: timedelta = DEFAULT_REOPEN_PERIOD) -> CaseSnapshot:
    """The case a history makes, every event checked again; pass the reopen period that was in force."""
    it = iter(events)
    first = next(it, None)
    if first is None:
        raise TransitionRefused("A case starts with a 'report' event; the history is empty")
    case = new_case(first)
    for event in it:
        case = apply(case, event, reopen_period=reopen_period)
    return case
