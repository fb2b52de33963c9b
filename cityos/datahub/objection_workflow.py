"""The objection workflow (数据异议纠错): one transition table, the effects beside it, and the one function that
judges a move.

A department that read a record objects to one item's value, with evidence: the objection is ``submitted``
(已提交) to the item's one source (一数一源). The source (or the city: an operator or administrator) takes it
up to verify it (``accept``: ``verifying``, 核实中), then ``correct``s the value (``corrected``, 已更正) or
``reject``s the objection with a reason (``rejected``, 已驳回; possible before taking it up, too). The
objector may ``withdraw`` it (``withdrawn``, 已撤回) while it is open. An open objection flags the record's
item as disputed wherever it is read; a closed one does not.

``MOVES`` says, for each action, the states it starts from, where it goes, who may take it and what it needs;
``EFFECTS`` what it does beside the move; ``TRANSITIONS`` is the table as (state, action) -> state.
:func:`transition` is the one function that enforces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cityos.datahub.errors import InvalidObjection, ObjectionMoveForbidden, ObjectionMoveRefused
from cityos.datahub.workflow import Actor  # who moves an objection: as who moves a grant

TIME_LIMIT_WORKING_DAYS = 5  # the source verifies within five working days of the objection


class ObjectionState(StrEnum):
    SUBMITTED = "submitted"  # 已提交
    VERIFYING = "verifying"  # 核实中
    CORRECTED = "corrected"  # 已更正
    REJECTED = "rejected"  # 已驳回
    WITHDRAWN = "withdrawn"  # 已撤回


class ObjectionAction(StrEnum):
    SUBMIT = "submit"  # 提出异议
    ACCEPT = "accept"  # 受理核实
    CORRECT = "correct"  # 更正
    REJECT = "reject"  # 驳回
    WITHDRAW = "withdraw"  # 撤回


class Party(StrEnum):
    OBJECTOR = "objector"  # the department that objects
    SOURCE = "source"  # the item's one source
    CITY = "city"  # an operator or an administrator


STATE_LABELS: dict[ObjectionState, tuple[str, str]] = {
    ObjectionState.SUBMITTED: ("已提交", "Submitted"),
    ObjectionState.VERIFYING: ("核实中", "Verifying"),
    ObjectionState.CORRECTED: ("已更正", "Corrected"),
    ObjectionState.REJECTED: ("已驳回", "Rejected"),
    ObjectionState.WITHDRAWN: ("已撤回", "Withdrawn"),
}


@dataclass(frozen=True)
class Move:
    froms: tuple[ObjectionState, ...]
    to: ObjectionState
    parties: frozenset[Party]
    needs_reason: bool = False
    needs_value: bool = False


@dataclass(frozen=True)
class Effect:
    """What a move does beside changing the state: whether it closes the objection (the dispute flag clears),
    writes the corrected value to the record, and tells every department that read the old value."""

    closes: bool = False
    writes_value: bool = False
    notifies_readers: bool = False


OPEN_STATES = (ObjectionState.SUBMITTED, ObjectionState.VERIFYING)
DECIDERS = frozenset({Party.SOURCE, Party.CITY})

MOVES: dict[ObjectionAction, Move] = {
    ObjectionAction.SUBMIT: Move((), ObjectionState.SUBMITTED, frozenset({Party.OBJECTOR})),
    ObjectionAction.ACCEPT: Move((ObjectionState.SUBMITTED,), ObjectionState.VERIFYING, DECIDERS),
    ObjectionAction.CORRECT: Move((ObjectionState.VERIFYING,), ObjectionState.CORRECTED, DECIDERS, needs_value=True),
    ObjectionAction.REJECT: Move(OPEN_STATES, ObjectionState.REJECTED, DECIDERS, needs_reason=True),
    ObjectionAction.WITHDRAW: Move(OPEN_STATES, ObjectionState.WITHDRAWN, frozenset({Party.OBJECTOR})),
}

EFFECTS: dict[ObjectionAction, Effect] = {
    ObjectionAction.SUBMIT: Effect(),
    ObjectionAction.ACCEPT: Effect(),
    ObjectionAction.CORRECT: Effect(closes=True, writes_value=True, notifies_readers=True),
    ObjectionAction.REJECT: Effect(closes=True),
    ObjectionAction.WITHDRAW: Effect(closes=True),
}

TRANSITIONS: dict[tuple[ObjectionState, ObjectionAction], ObjectionState] = {
    (state, action): move.to for action, move in MOVES.items() for state in move.froms
}
FINAL: frozenset[ObjectionState] = frozenset(ObjectionState) - {s for s, _ in TRANSITIONS}


@dataclass(frozen=True)
class ObjectionEvent:
    """One entry of an objection's history, appended and never edited."""

    action: ObjectionAction
    by: str
    by_department: str | None
    at: datetime
    from_state: ObjectionState | None
    to_state: ObjectionState
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def _names(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values) or "none"


def action_of(value: ObjectionAction | str) -> ObjectionAction:
    try:
        return ObjectionAction(value)
    except ValueError:
        raise InvalidObjection(
            f"there is no objection action {value!r}: use one of {_names(ObjectionAction)}"
        ) from None


def state_of(value: ObjectionState | str) -> ObjectionState:
    try:
        return ObjectionState(value)
    except ValueError:
        raise InvalidObjection(f"there is no objection state {value!r}: use one of {_names(ObjectionState)}") from None


def parties(objector: str, source: str, actor: Actor) -> frozenset[Party]:
    """What the actor is to an objection by ``objector`` on an item of ``source``."""
    found = set()
    if actor.department is not None and actor.department == objector:
        found.add(Party.OBJECTOR)
    if actor.department is not None and actor.department == source:
        found.add(Party.SOURCE)
    if actor.city:
        found.add(Party.CITY)
    return frozenset(found)


def allowed_moves(state: ObjectionState, who: Iterable[Party] | None = None) -> list[str]:
    """The actions the table allows from ``state`` (for these parties, when given), in table order."""
    allowed = set(who) if who is not None else set(Party)
    return [str(a) for a, m in MOVES.items() if state in m.froms and allowed & m.parties]


def is_open(state: ObjectionState) -> bool:
    return state in OPEN_STATES


def transition(
    objection_id: str,
    state: ObjectionState,
    objector: str,
    source: str,
    action: ObjectionAction | str,
    actor: Actor,
    now: datetime,
    *,
    reason: str | None = None,
    value: Any = None,
) -> tuple[ObjectionState, ObjectionEvent]:
    """The state after ``action`` and the history event recording it. ObjectionMoveRefused (409) names the
    state and the moves allowed from it; ObjectionMoveForbidden (403) who may take the move; InvalidObjection
    (400) a missing reason or corrected value."""
    action = action_of(action)
    move = MOVES[action]
    to = TRANSITIONS.get((state, action))
    if to is None:
        allowed = allowed_moves(state)
        needs = " or ".join(repr(str(s)) for s in move.froms) or "no objection yet"
        raise ObjectionMoveRefused(
            f"objection {objection_id} is '{state}'; '{action}' needs one that is {needs}. "
            f"Allowed now: {_names(allowed)}" + (" (it is final)" if state in FINAL else ""),
            objectionId=objection_id, state=str(state), action=str(action), allowed=allowed,
        )  # fmt: skip
    if not parties(objector, source, actor) & move.parties:
        raise ObjectionMoveForbidden(
            f"'{action}' on objection {objection_id} is for {' or '.join(sorted(move.parties))} (the objector is "
            f"{objector!r}, the item's source {source!r}); {actor.by} acts for {actor.department or 'no department'}",
            objectionId=objection_id, action=str(action),
        )  # fmt: skip
    reason = reason.strip() if reason and reason.strip() else None
    if move.needs_reason and reason is None:
        raise InvalidObjection(f"'{action}' needs a reason: say why, the objector reads it", field="reason")
    if move.needs_value and value is None:
        raise InvalidObjection(f"'{action}' needs the corrected value (value), or the objection's proposed value",
                               field="value")  # fmt: skip
    changes = {"value": value} if move.needs_value else {}
    return to, ObjectionEvent(action, actor.by, actor.department, now, state, to, reason, changes)
