"""The objection workflow's table (数据异议纠错): every move it allows and nothing else, who may take each, what
each needs, and the effects beside it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cityos.datahub.errors import InvalidObjection, ObjectionMoveForbidden, ObjectionMoveRefused
from cityos.datahub.objection_workflow import (
    EFFECTS,
    FINAL,
    MOVES,
    OPEN_STATES,
    TRANSITIONS,
    Actor,
    ObjectionAction,
    ObjectionState,
    allowed_moves,
    transition,
)

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
S, A = ObjectionState, ObjectionAction
SOURCE, OBJECTOR, CITY = Actor("ps", "public-security"), Actor("ca", "civil-affairs"), Actor("op", None, city=True)


def test_the_table() -> None:
    assert TRANSITIONS == {
        (S.SUBMITTED, A.ACCEPT): S.VERIFYING,
        (S.VERIFYING, A.CORRECT): S.CORRECTED,
        (S.SUBMITTED, A.REJECT): S.REJECTED,
        (S.VERIFYING, A.REJECT): S.REJECTED,
        (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
        (S.VERIFYING, A.WITHDRAW): S.WITHDRAWN,
    }
    assert {S.CORRECTED, S.REJECTED, S.WITHDRAWN} == FINAL
    assert set(EFFECTS) == set(MOVES)
    # every move out of an open state closes it or keeps it open; only a correction writes and notifies
    assert {a for a, e in EFFECTS.items() if e.closes} == {A.CORRECT, A.REJECT, A.WITHDRAW}
    assert {a for a, e in EFFECTS.items() if e.writes_value or e.notifies_readers} == {A.CORRECT}
    assert all(MOVES[a].to not in OPEN_STATES for a, e in EFFECTS.items() if e.closes)


@pytest.mark.parametrize("state", list(ObjectionState))
@pytest.mark.parametrize("action", [a for a in ObjectionAction if a != A.SUBMIT])
def test_a_move_the_table_does_not_hold_is_refused_naming_the_allowed(
    state: ObjectionState, action: ObjectionAction
) -> None:
    actor = OBJECTOR if action == A.WITHDRAW else SOURCE
    if (state, action) in TRANSITIONS:
        to, ev = transition("o1", state, "civil-affairs", "public-security", action, actor, NOW, reason="r", value=1)
        assert to == TRANSITIONS[(state, action)] and ev.from_state == state and ev.to_state == to
    else:
        with pytest.raises(ObjectionMoveRefused) as caught:
            transition("o1", state, "civil-affairs", "public-security", action, actor, NOW, reason="r", value=1)
        assert caught.value.extra["allowed"] == allowed_moves(state)


def test_who_moves_and_what_a_move_needs() -> None:
    args = ("o1", S.SUBMITTED, "civil-affairs", "public-security")
    with pytest.raises(ObjectionMoveForbidden):
        transition(*args, A.ACCEPT, OBJECTOR, NOW)
    with pytest.raises(ObjectionMoveForbidden):
        transition(*args, A.WITHDRAW, SOURCE, NOW)
    assert transition(*args, A.ACCEPT, CITY, NOW)[0] == S.VERIFYING
    with pytest.raises(InvalidObjection, match="reason"):
        transition(*args, A.REJECT, SOURCE, NOW, reason="  ")
    with pytest.raises(InvalidObjection, match="corrected value"):
        transition("o1", S.VERIFYING, "civil-affairs", "public-security", A.CORRECT, SOURCE, NOW)
    _, ev = transition("o1", S.VERIFYING, "civil-affairs", "public-security", A.CORRECT, SOURCE, NOW, value="x")
    assert ev.changes == {"value": "x"}
    with pytest.raises(InvalidObjection, match="no objection action"):
        transition(*args, "approve", SOURCE, NOW)
