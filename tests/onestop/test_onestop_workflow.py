"""The applications' transition table under random action sequences (Hypothesis): the state never leaves the
table, a refused action changes nothing, the clock never runs while paused or after the decision, and a resumed
clock keeps the working time it had left (the promised due date is always where the used time reaches the
promised limit)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onestop_samples import MONDAY

from cityos.onestop.application_errors import ApplicationActionForbidden, ApplicationActionRefused, InvalidAction
from cityos.onestop.workflow import (
    DAY,
    FINAL,
    PAUSED,
    RULES,
    STATES,
    TRANSITIONS,
    Action,
    Clock,
    Party,
    action_of,
    allowed,
    transition,
)

EVERYONE = frozenset(Party)
steps = st.lists(
    st.tuples(
        st.sampled_from([a for a in Action if a is not Action.SUBMIT]),
        st.integers(min_value=0, max_value=6 * 24 * 60),  # minutes until the action: up to six days
        st.booleans(),  # with a reason
        st.sampled_from([EVERYONE, frozenset({Party.CLERK}), frozenset({Party.APPLICANT})]),
    ),
    max_size=25,
)


def test_every_state_is_in_the_table_and_the_final_ones_allow_nothing() -> None:
    assert {s for s, _ in TRANSITIONS} | {t for t in TRANSITIONS.values()} | FINAL <= set(STATES)
    assert {"refused-at-intake", "rejected", "certificate-issued", "withdrawn"} == FINAL
    assert all(allowed(s) == [] for s in FINAL)
    assert allowed("received") == ["request-supplement", "suspend", "approve", "reject", "withdraw"]
    with pytest.raises(InvalidAction):
        action_of("submit")
    assert action_of("request-supplement") is Action.REQUEST_SUPPLEMENT


@settings(max_examples=300, deadline=None)
@given(steps)
def test_random_action_sequences_stay_in_the_table_and_the_clock_stands_still_while_paused(
    sequence: list[tuple[Action, int, bool, frozenset[Party]]],
) -> None:
    state, clock, now = "submitted", Clock(promised_days=5, legal_days=20), MONDAY
    for action, minutes, with_reason, who in sequence:
        now += timedelta(minutes=minutes)
        if clock.received_at is not None and (state in PAUSED or clock.decided_at is not None):
            stood = clock.used(now - timedelta(minutes=minutes))
            assert clock.used(now) == stood  # no working time runs while paused or decided
        try:
            step = transition(state, clock, action, who, "理由" if with_reason else None, now)  # type: ignore[arg-type]
        except ApplicationActionRefused:
            assert (state, action) not in TRANSITIONS
            continue
        except ApplicationActionForbidden:
            assert not who & RULES[action].parties
            continue
        except InvalidAction:
            assert RULES[action].needs_reason and not with_reason
            continue
        assert TRANSITIONS[(state, action)] == step.to  # type: ignore[index]
        state, clock = step.to, step.clock
        assert (clock.paused_since is not None) == (state in PAUSED)
        _assert_due_where_the_limit_is_reached(clock, now)


def _assert_due_where_the_limit_is_reached(clock: Clock, now: datetime) -> None:
    """Whatever the pauses, the promised due date is the instant the clock will have run the promised working
    days, were it running from now on (a due date already passed at a pause stays put: overdue stays overdue)."""
    if clock.decided_at is not None or clock.paused_since is not None or clock.promised_due is None:
        return
    running = Clock(clock.promised_days, clock.legal_days, clock.received_at, clock.promised_due, clock.legal_due,
                    None, clock.paused, None)  # fmt: skip
    if clock.promised_due > now:
        assert running.used(clock.promised_due) == DAY * clock.promised_days
