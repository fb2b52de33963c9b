"""The time-limit timers: reminders at 80% of a case's time limit (催办) and escalation when it is overdue
(grid → street → district → city). The cases role runs :func:`tick` every ``runner.TICK_SECONDS``."""

from __future__ import annotations

from datetime import datetime, timedelta

from typing_extensions import TypedDict

from cityos.cases import record, store
from cityos.cases.actions import act
from cityos.cases.errors import CaseChanged, TransitionRefused
from cityos.cases.timelimits import ms
from cityos.cases.workflow import Action, Role
from cityos.runtime import Runtime

PARKED = timedelta(days=1)  # a case at the top of the ladder is looked at again this much later


class Ticked(TypedDict):
    """How many cases one tick reminded and escalated."""

    reminded: int
    escalated: int


def tick(rt: Runtime, tenant: str, now: datetime | None = None) -> Ticked:
    """Remind cases at 80% of their time limit and escalate overdue ones a level, each as a system event."""
    now = now or record.now()
    done = Ticked(reminded=0, escalated=0)
    with rt.db.connect() as conn:
        remind = store.due_for_reminder(conn, tenant, ms(now))
        escalate = store.due_for_escalation(conn, tenant, ms(now))
    for r in remind:
        done["reminded"] += _timed(rt, tenant, r["id"], Action.REMIND, now)
    for r in escalate:
        done["escalated"] += _timed(rt, tenant, r["id"], Action.ESCALATE, now)
    return done


def _timed(rt: Runtime, tenant: str, case_id: str, action: Action, now: datetime) -> int:
    """Take a timer's action on a case: 1 if taken, 0 if the case changed meanwhile or the table refused."""
    try:
        act(rt, tenant, case_id, action, "system", Role.SYSTEM, reason="time limit", now=now)
    except CaseChanged:
        return 0  # changed meanwhile: the next tick looks again
    except TransitionRefused:
        if action == Action.ESCALATE:  # at the top of the ladder already
            _park_escalation(rt, tenant, case_id, now)
        return 0
    return 1


def _park_escalation(rt: Runtime, tenant: str, case_id: str, now: datetime) -> None:
    """A case at the top of the ladder is not escalated again every tick: look again later."""
    with rt.db.write() as conn:
        row = store.get_case(conn, tenant, case_id)
        if row is not None:
            store.update_case(conn, tenant, case_id, row["version"], {"next_escalation_ms": ms(now + PARKED)})
