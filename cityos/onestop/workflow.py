"""The workflow of an item's application (办件): the transition table, who may take each action, and beside it
the effects table of what each action does to the legal clock. Pure: no I/O; :mod:`applications` stores.

submitted ─receive→ received (受理: the clock starts) | ─refuse→ refused-at-intake (不予受理, reasons)
received ─request-supplement→ supplement-requested (补正, reasons: the clock stands still) ─supply→ received
received ─suspend→ suspended (中止, reasons: the clock stands still) ─resume→ received
received ─approve→ approved (the clock stops) ─issue-certificate→ certificate-issued
received ─reject→ rejected (不予许可, reasons: the clock stops)
submitted | received ─withdraw→ withdrawn (by the applicant)

A clerk of the item's department takes every action but ``supply`` and ``withdraw``, which are the
applicant's; the item's decision rules (无人干预自动办理) take receive, approve, reject and issue-certificate.
A resumed clock keeps the working time it had left when it was paused (the due dates move by the
paused working time), as the cases' clocks do (:func:`cityos.cases.suspend`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import get_args

from cityos.cases import DEFAULT_CALENDAR, ClockState, WorkCalendar, suspend
from cityos.onestop.application_errors import ApplicationActionForbidden, ApplicationActionRefused, InvalidAction
from cityos.onestop.models import ApplicationState

STATES: tuple[ApplicationState, ...] = get_args(ApplicationState)
REMINDER_SHARE = 0.8  # reminded once 80 % of the promised working time has run
DAY = timedelta(days=1)


class Action(StrEnum):
    SUBMIT = "submit"  # the application is made (history's first entry; not an action on the API)
    RECEIVE = "receive"  # 受理
    REFUSE = "refuse"  # 不予受理
    REQUEST_SUPPLEMENT = "request-supplement"  # 补正告知
    SUPPLY = "supply"  # the applicant supplies (补正材料)
    SUSPEND = "suspend"  # 中止
    RESUME = "resume"  # 恢复
    APPROVE = "approve"  # 准予许可
    REJECT = "reject"  # 不予许可
    ISSUE_CERTIFICATE = "issue-certificate"  # 发证
    WITHDRAW = "withdraw"  # 撤回


class Party(StrEnum):
    CLERK = "clerk"  # a clerk of the item's department (or an operator, an administrator)
    APPLICANT = "applicant"  # the person or enterprise that applied
    RULES = "rules"  # the item version's decision rules (系统自动), see decisions.py


@dataclass(frozen=True)
class Rule:
    froms: tuple[ApplicationState, ...]
    to: ApplicationState
    parties: frozenset[Party]
    needs_reason: bool = False


CLERK, APPLICANT = frozenset({Party.CLERK}), frozenset({Party.APPLICANT})
CLERK_OR_RULES = frozenset({Party.CLERK, Party.RULES})
RULES: dict[Action, Rule] = {
    Action.RECEIVE: Rule(("submitted",), "received", CLERK_OR_RULES),
    Action.REFUSE: Rule(("submitted",), "refused-at-intake", CLERK, needs_reason=True),
    Action.REQUEST_SUPPLEMENT: Rule(("received",), "supplement-requested", CLERK, needs_reason=True),
    Action.SUPPLY: Rule(("supplement-requested",), "received", APPLICANT),
    Action.SUSPEND: Rule(("received",), "suspended", CLERK, needs_reason=True),
    Action.RESUME: Rule(("suspended",), "received", CLERK),
    Action.APPROVE: Rule(("received",), "approved", CLERK_OR_RULES),
    Action.REJECT: Rule(("received",), "rejected", CLERK_OR_RULES, needs_reason=True),
    Action.ISSUE_CERTIFICATE: Rule(("approved",), "certificate-issued", CLERK_OR_RULES),
    Action.WITHDRAW: Rule(("submitted", "received"), "withdrawn", APPLICANT),
}
# (state, action) -> next state: every move an application can make, and nothing else
TRANSITIONS: dict[tuple[ApplicationState, Action], ApplicationState] = {
    (state, action): rule.to for action, rule in RULES.items() for state in rule.froms
}
FINAL: frozenset[ApplicationState] = frozenset(STATES) - {s for s, _ in TRANSITIONS}
PAUSED: frozenset[ApplicationState] = frozenset({"supplement-requested", "suspended"})
OPEN: frozenset[ApplicationState] = frozenset({"received", "supplement-requested", "suspended"})

STATE_LABELS: dict[ApplicationState, tuple[str, str]] = {
    "submitted": ("已提交", "Submitted"),
    "received": ("已受理", "Received"),
    "refused-at-intake": ("不予受理", "Refused at intake"),
    "supplement-requested": ("待补正", "Supplement requested"),
    "suspended": ("已中止", "Suspended"),
    "approved": ("准予许可", "Approved"),
    "rejected": ("不予许可", "Rejected"),
    "certificate-issued": ("已发证", "Certificate issued"),
    "withdrawn": ("已撤回", "Withdrawn"),
}


@dataclass(frozen=True)
class Clock:
    """The legal clock of one application (None: not started, not paused, not decided). The due dates are
    counted in working days from the item's promised (承诺) and legal (法定) limits."""

    promised_days: int
    legal_days: int
    received_at: datetime | None = None
    promised_due: datetime | None = None
    legal_due: datetime | None = None
    paused_since: datetime | None = None
    paused: timedelta = timedelta(0)  # working time the clock stood still, over all pauses
    decided_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.received_at is not None and self.paused_since is None and self.decided_at is None

    def used(self, now: datetime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> timedelta:
        """Working time the clock has run by ``now`` (pauses left out; stopped at the decision)."""
        if self.received_at is None:
            return timedelta(0)
        end = min(t for t in (now, self.paused_since, self.decided_at) if t is not None)
        return max(calendar.elapsed(self.received_at, end, "wd") - self.paused, timedelta(0))

    def state(self, now: datetime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> ClockState | None:
        """Where the application stands against its promised limit (None before it is received): the clock read
        where it stands still (a pause, a decision), else now."""
        if self.received_at is None or self.promised_due is None:
            return None
        if self.used(now, calendar) >= DAY * self.promised_days:
            return "overdue"
        return "reminded" if self.used(now, calendar) >= DAY * self.promised_days * REMINDER_SHARE else "on-time"


@dataclass(frozen=True)
class Step:
    """What an action does: the state it reaches and the clock after it."""

    to: ApplicationState
    clock: Clock


Effect = Callable[[Clock, datetime, WorkCalendar], Clock]


def _start(c: Clock, now: datetime, cal: WorkCalendar) -> Clock:
    return replace(c, received_at=now, promised_due=cal.advance(now, DAY * c.promised_days, "wd"),
                   legal_due=cal.advance(now, DAY * c.legal_days, "wd"))  # fmt: skip


def _pause(c: Clock, now: datetime, cal: WorkCalendar) -> Clock:
    return replace(c, paused_since=now)


def _resume(c: Clock, now: datetime, cal: WorkCalendar) -> Clock:
    since = c.paused_since or now

    def moved(due: datetime | None) -> datetime | None:
        return None if due is None else suspend(due, since, now, "wd", cal)

    return replace(c, paused_since=None, paused=c.paused + cal.elapsed(since, now, "wd"),
                   promised_due=moved(c.promised_due), legal_due=moved(c.legal_due))  # fmt: skip


def _stop(c: Clock, now: datetime, cal: WorkCalendar) -> Clock:
    return replace(c, decided_at=now)


# action -> what it does to the clock; an action without an entry leaves the clock alone
EFFECTS: dict[Action, Effect] = {
    Action.RECEIVE: _start,
    Action.REFUSE: _stop,
    Action.REQUEST_SUPPLEMENT: _pause,
    Action.SUSPEND: _pause,
    Action.SUPPLY: _resume,
    Action.RESUME: _resume,
    Action.APPROVE: _stop,
    Action.REJECT: _stop,
    Action.WITHDRAW: _stop,
}


def allowed(state: ApplicationState) -> list[str]:
    """The actions the table allows from ``state``."""
    return [str(a) for a, r in RULES.items() if state in r.froms]


def action_of(value: str) -> Action:
    try:
        found = Action(value)
    except ValueError:
        found = Action.SUBMIT
    if found is Action.SUBMIT:
        names = ", ".join(str(a) for a in RULES)
        raise InvalidAction(f"there is no action {value!r} on an application: use one of {names}", field="action")
    return found


def transition(state: ApplicationState, clock: Clock, action: Action, who: frozenset[Party], reason: str | None,
               now: datetime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> Step:  # fmt: skip
    """The state and clock ``action`` takes an application in ``state`` to. ApplicationActionRefused (409,
    naming the allowed actions) when the table does not allow it, ApplicationActionForbidden (403) when ``who``
    may not take it, InvalidAction (400) when a reason is needed and missing."""
    rule = RULES.get(action)
    to = TRANSITIONS.get((state, action))
    if rule is None or to is None:
        final = " (it is final)" if state in FINAL else ""
        raise ApplicationActionRefused(
            f"the application is '{state}' ({STATE_LABELS[state][0]}); '{action}' is not allowed from it. "
            f"Allowed now: {', '.join(allowed(state)) or 'none'}{final}",
            state=state, allowed=allowed(state),
        )  # fmt: skip
    if not who & rule.parties:
        whose = "the applicant's" if rule.parties == APPLICANT else "for a clerk of the item's department"
        raise ApplicationActionForbidden(f"'{action}' is {whose}")
    if rule.needs_reason and not (reason or "").strip():
        raise InvalidAction(f"'{action}' needs a reason: the applicant reads it", field="reason")
    effect = EFFECTS.get(action)
    return Step(to, clock if effect is None else effect(clock, now, calendar))
