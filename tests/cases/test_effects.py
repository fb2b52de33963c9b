"""The effects table: what each action does to a case's clock, beside the transition table's own effects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from cityos.cases.effects import EFFECTS, Changes, Situation, changes, clock_columns
from cityos.cases.tables import cases
from cityos.cases.timelimits import TimeLimit, from_ms, ms, start_clock, suspend
from cityos.cases.workflow import RULES, TRANSITIONS, Action

CST = timezone(timedelta(hours=8))
MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=CST)
HOURS = TimeLimit(4, "h")
DAYS = TimeLimit(3, "wd")


def test_every_action_with_an_effect_is_in_the_transition_table() -> None:
    moves = {action for _state, action in TRANSITIONS}
    assert set(EFFECTS) <= moves
    assert all(RULES[action].froms for action in EFFECTS)  # each can be taken from some state


@given(
    action=st.sampled_from(list(Action)),
    limit=st.sampled_from([HOURS, DAYS, TimeLimit(1, "h")]),
    hours=st.integers(0, 24 * 60),
    due=st.none() | st.sampled_from([MONDAY + timedelta(days=2), "2025-03-04T10:00:00+08:00", "", "soon"]),
    suspended=st.booleans(),
    pending=st.booleans(),
)
def test_effects_set_projection_columns_only(
    action: Action, limit: TimeLimit, hours: int, due: object, suspended: bool, pending: bool
) -> None:
    now = MONDAY + timedelta(hours=hours)
    s = Situation(
        now,
        limit,
        {} if due is None else {"due": due},
        due=now + timedelta(hours=3),
        suspended_at=now - timedelta(hours=1) if suspended else None,
        pending_due=now + timedelta(days=5) if pending else None,
    )
    done = changes(action, s)
    assert set(done.columns) <= set(cases.c.keys())
    assert set(done.data) <= {"due"}  # all an event ever records beside the actor's data


def test_actions_without_an_effect_leave_the_clock_alone() -> None:
    for action in set(Action) - set(EFFECTS):
        assert changes(action, Situation(MONDAY, HOURS)) == Changes()


def test_dispatch_starts_the_category_clock_and_records_its_due_time() -> None:
    for action in (Action.DISPATCH, Action.REASSIGN):
        done = changes(action, Situation(MONDAY, HOURS, {"department": "city-appearance"}))
        clock = start_clock(MONDAY, HOURS)
        assert done.columns == {
            "time_limit": "4h",
            "due_at_ms": ms(clock.due),
            "remind_at_ms": ms(clock.remind_at),
            "next_escalation_ms": ms(clock.due),
            "approximate": 0,
            "reminded": 0,
        }
        assert done.data == {"due": from_ms(ms(clock.due))} and done.data["due"] == MONDAY + timedelta(hours=4)


def test_a_due_time_given_to_a_dispatch_overrides_the_category_clock() -> None:
    given_due = MONDAY + timedelta(days=10)
    done = changes(Action.DISPATCH, Situation(MONDAY, HOURS, {"due": given_due.isoformat()}))
    assert done.columns["due_at_ms"] == done.columns["remind_at_ms"] == done.columns["next_escalation_ms"]
    assert done.columns["due_at_ms"] == ms(given_due) and done.data == {}  # the event keeps the actor's due
    # a due time without a time zone is left for the workflow to refuse; nothing is recorded in its place
    naive = changes(Action.DISPATCH, Situation(MONDAY, HOURS, {"due": "2025-03-10T09:00:00"}))
    assert naive.data == {} and naive.columns == clock_columns(HOURS, MONDAY)


def test_working_day_limits_skip_the_weekend() -> None:
    friday = MONDAY + timedelta(days=4, hours=7)  # Friday 16:00
    done = changes(Action.DISPATCH, Situation(friday, TimeLimit(1, "wd"), {"department": "d"}))
    assert from_ms(done.columns["due_at_ms"]) == friday + timedelta(days=3)  # Monday 16:00


def test_reopen_forgets_the_handling_and_starts_a_fresh_clock() -> None:
    later = MONDAY + timedelta(days=2)
    done = changes(Action.REOPEN, Situation(later, HOURS, due=MONDAY))
    assert done.columns == {"handled_at_ms": None, **clock_columns(HOURS, later)}
    assert done.columns["reminded"] == 0 and done.data == {}


def test_resume_moves_the_due_time_on_by_the_time_suspended() -> None:
    due, paused, resumed = MONDAY + timedelta(hours=4), MONDAY + timedelta(hours=1), MONDAY + timedelta(hours=6)
    done = changes(Action.RESUME, Situation(resumed, HOURS, due=due, suspended_at=paused))
    moved = suspend(due, paused, resumed)
    assert moved == MONDAY + timedelta(hours=9)  # three hours left at the pause, from the resumption on
    assert done.columns == {"due_at_ms": ms(moved), "next_escalation_ms": ms(moved)}
    assert changes(Action.RESUME, Situation(resumed, HOURS, due=None, suspended_at=paused)) == Changes()
    assert changes(Action.RESUME, Situation(resumed, HOURS, due=due, suspended_at=None)) == Changes()


def test_an_approved_extension_moves_the_due_time_and_reminds_again() -> None:
    asked = MONDAY + timedelta(days=3)
    done = changes(Action.APPROVE_EXTENSION, Situation(MONDAY, HOURS, due=MONDAY, pending_due=asked))
    assert done.columns == {"due_at_ms": ms(asked), "next_escalation_ms": ms(asked), "reminded": 0}
    assert changes(Action.APPROVE_EXTENSION, Situation(MONDAY, HOURS, pending_due=None)) == Changes()


def test_escalation_reminder_and_handling() -> None:
    assert changes(Action.ESCALATE, Situation(MONDAY, HOURS)).columns == {
        "next_escalation_ms": ms(MONDAY + timedelta(hours=4))
    }
    assert changes(Action.ESCALATE, Situation(MONDAY, DAYS)).columns == {
        "next_escalation_ms": ms(MONDAY + timedelta(days=3))
    }
    assert changes(Action.REMIND, Situation(MONDAY, HOURS)).columns == {"reminded": 1}
    assert changes(Action.HANDLE, Situation(MONDAY, HOURS)).columns == {"handled_at_ms": ms(MONDAY)}
