"""What an action does to a case's time-limit clock, beside what the workflow table says it does to the case.

``workflow.RULES`` says where each action may go, who may take it and what it changes in the case's
snapshot (its department, result, rating …). ``EFFECTS`` says, for the actions that touch it, what changes
in the clock the projection row keeps: when the case is due, when it is reminded, when it escalates next,
when the department handled it. Each effect is a small pure function of a :class:`Situation`; an action
without an entry leaves the clock alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cityos.cases.timelimits import TimeLimit, from_ms, ms, start_clock, suspend
from cityos.cases.workflow import Action, aware_time

MIN_ESCALATION_GAP = timedelta(hours=1)  # an escalated case is not escalated again sooner than this
Columns = dict[str, Any]  # columns of a case's projection row (cases_cases) and their new values


@dataclass(frozen=True)
class Situation:
    """What an effect may look at."""

    now: datetime  # when the action is taken
    limit: TimeLimit  # the time limit of the case's category
    data: Mapping[str, Any] = field(default_factory=dict)  # the event's data as the actor gave it
    due: datetime | None = None  # when the case is due now
    suspended_at: datetime | None = None  # when the suspension being resumed began
    pending_due: datetime | None = None  # the due time a pending extension request asks for


@dataclass(frozen=True)
class Changes:
    """What an action changes: projection columns, and what its event records beside the actor's data."""

    columns: Columns = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


Effect = Callable[[Situation], Changes]


def clock_columns(limit: TimeLimit, start: datetime) -> Columns:
    """The clock of a department that takes a case at ``start``: due, reminder and first escalation."""
    clock = start_clock(start, limit)
    return {
        "time_limit": str(limit),
        "due_at_ms": ms(clock.due),
        "remind_at_ms": ms(clock.remind_at),
        "next_escalation_ms": ms(clock.due),
        "approximate": int(clock.approximate),
        "reminded": 0,
    }


def _due_columns(due: datetime) -> Columns:
    return {"due_at_ms": ms(due), "next_escalation_ms": ms(due)}


def _start_clock(s: Situation) -> Changes:
    """Dispatch, reassign: the category's time limit starts now, unless the actor gave a due time (no
    reminder before it then); the event records the due time the clock set."""
    columns = clock_columns(s.limit, s.now)
    if not s.data.get("due"):
        return Changes(columns, {"due": from_ms(columns["due_at_ms"])})
    given = aware_time(s.data["due"])
    if given is None:  # the workflow refuses the event: a due time needs a time zone
        return Changes(columns)
    return Changes({**columns, **_due_columns(given), "remind_at_ms": ms(given)})


def _handled(s: Situation) -> Changes:
    return Changes({"handled_at_ms": ms(s.now)})


def _restart_clock(s: Situation) -> Changes:
    """Reopen: the case is handled anew, against a fresh time limit from now."""
    return Changes({"handled_at_ms": None, **clock_columns(s.limit, s.now)})


def _reminded(s: Situation) -> Changes:
    return Changes({"reminded": 1})


def _next_escalation(s: Situation) -> Changes:
    """An escalated case escalates again when one more time limit has run out (an hour at least)."""
    return Changes({"next_escalation_ms": ms(s.now + max(s.limit.running_time, MIN_ESCALATION_GAP))})


def _resume(s: Situation) -> Changes:
    """The time a case stood suspended does not count against the department: its due time moves on."""
    if s.due is None or s.suspended_at is None:
        return Changes()
    return Changes(_due_columns(suspend(s.due, s.suspended_at, s.now)))


def _extend(s: Situation) -> Changes:
    """An approved extension: due at the time asked for, reminded again before it."""
    if s.pending_due is None:
        return Changes()
    return Changes({**_due_columns(s.pending_due), "reminded": 0})


# action -> what it does to the clock (workflow.RULES: what it does to the case)
EFFECTS: dict[Action, Effect] = {
    Action.DISPATCH: _start_clock,
    Action.REASSIGN: _start_clock,
    Action.HANDLE: _handled,
    Action.REOPEN: _restart_clock,
    Action.REMIND: _reminded,
    Action.ESCALATE: _next_escalation,
    Action.RESUME: _resume,
    Action.APPROVE_EXTENSION: _extend,
}


def changes(action: Action, situation: Situation) -> Changes:
    """What ``action`` changes in the clock in this situation (nothing, for most actions)."""
    effect = EFFECTS.get(action)
    return effect(situation) if effect is not None else Changes()
