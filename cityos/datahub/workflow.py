"""The grant workflow (授权共享): one transition table and the small pure functions that judge a move.

A department asks for an entry (all items or some) for one named application scenario (应用场景), purpose,
legal basis and period: the grant is ``requested`` (待审批). The provider department, or the city (an
operator or an administrator), decides:

- ``approve``: the grant is ``approved`` (已授权) as asked;
- ``narrow``: the grant is ``approved`` with less than was asked: fewer items, a later start, an earlier
  end and/or a lower ``lifts`` level; the history records what was narrowed, from what to what;
- ``refuse``: the grant is ``refused`` (不予授权), with a reason.

An approved grant may be ``revoke``d (已撤销), with a reason, by the provider or the city. An approved grant
whose ``ends_at`` has come IS ``expired`` (已到期), exactly at ``ends_at``, with no job running:
:func:`state_at` decides it from the stored grant and the time, and reads never depend on a stored move.
``refused``, ``revoked`` and ``expired`` are final.

``MOVES`` says, for each action, the states it starts from, where it goes, who may take it and whether it
needs a reason; ``TRANSITIONS`` is the same table as (state, action) -> state. :func:`transition` is the one
function that enforces it: it returns the grant after the move and the history event that records it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cityos.datahub.errors import GrantMoveForbidden, GrantMoveRefused, InvalidGrant
from cityos.datahub.models import CatalogueEntry, Grant, GrantState, LevelScale, SharingType

DEFAULT_LIFT = "general-2"  # what a grant without ``lifts`` shows unmasked: levels up to general-2
MAX_PERIOD = timedelta(days=1096)  # a grant lasts at most three years (one of them a leap year)


class GrantAction(StrEnum):
    REQUEST = "request"  # 申请
    APPROVE = "approve"  # 批准
    NARROW = "narrow"  # 缩小范围后批准
    REFUSE = "refuse"  # 不予授权
    REVOKE = "revoke"  # 撤销


class Party(StrEnum):
    """Who takes part in a grant: the department that asks, the entry's provider, the city."""

    REQUESTER = "requester"
    PROVIDER = "provider"
    CITY = "city"  # an operator or an administrator


STATE_LABELS: dict[GrantState, tuple[str, str]] = {  # state -> (中文, English)
    GrantState.REQUESTED: ("待审批", "Requested"),
    GrantState.APPROVED: ("已授权", "Approved"),
    GrantState.REFUSED: ("不予授权", "Refused"),
    GrantState.REVOKED: ("已撤销", "Revoked"),
    GrantState.EXPIRED: ("已到期", "Expired"),
}

ACTION_LABELS: dict[GrantAction, tuple[str, str]] = {
    GrantAction.REQUEST: ("申请授权", "Request"),
    GrantAction.APPROVE: ("批准", "Approve"),
    GrantAction.NARROW: ("缩小范围后批准", "Approve narrowed"),
    GrantAction.REFUSE: ("不予授权", "Refuse"),
    GrantAction.REVOKE: ("撤销授权", "Revoke"),
}


@dataclass(frozen=True)
class Move:
    """One action: the states it starts from (none: it creates the grant), where it goes, who may take it."""

    froms: tuple[GrantState, ...]
    to: GrantState
    parties: frozenset[Party]
    needs_reason: bool = False


DECIDERS = frozenset({Party.PROVIDER, Party.CITY})

MOVES: dict[GrantAction, Move] = {
    GrantAction.REQUEST: Move((), GrantState.REQUESTED, frozenset({Party.REQUESTER})),
    GrantAction.APPROVE: Move((GrantState.REQUESTED,), GrantState.APPROVED, DECIDERS),
    GrantAction.NARROW: Move((GrantState.REQUESTED,), GrantState.APPROVED, DECIDERS),
    GrantAction.REFUSE: Move((GrantState.REQUESTED,), GrantState.REFUSED, DECIDERS, needs_reason=True),
    GrantAction.REVOKE: Move((GrantState.APPROVED,), GrantState.REVOKED, DECIDERS, needs_reason=True),
}

# (state, action) -> next state: every move a grant can make, and nothing else.
TRANSITIONS: dict[tuple[GrantState, GrantAction], GrantState] = {
    (state, action): move.to for action, move in MOVES.items() for state in move.froms
}
FINAL: frozenset[GrantState] = frozenset(GrantState) - {s for s, _ in TRANSITIONS}


@dataclass(frozen=True)
class Narrowing:
    """What a ``narrow`` keeps of the request; None: as asked."""

    items: tuple[str, ...] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    lifts: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who moves a grant: a person (``by``), the department they act for, and whether they act for the city."""

    by: str
    department: str | None = None
    city: bool = False


@dataclass(frozen=True)
class GrantEvent:
    """One entry of a grant's history: who moved it, when, why, from which state to which, what changed."""

    action: GrantAction
    by: str
    by_department: str | None
    at: datetime
    from_state: GrantState | None
    to_state: GrantState
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # field -> {"from": ..., "to": ...}


def action_of(value: GrantAction | str) -> GrantAction:
    """The action named; InvalidGrant (400) naming the actions for a name the table does not know."""
    try:
        return GrantAction(value)
    except ValueError:
        raise InvalidGrant(f"there is no grant action {value!r}: use one of {_names(GrantAction)}") from None


def state_of(value: GrantState | str) -> GrantState:
    """The state named; InvalidGrant (400) naming the states for a name the workflow does not know."""
    try:
        return GrantState(value)
    except ValueError:
        raise InvalidGrant(f"there is no grant state {value!r}: use one of {_names(GrantState)}") from None


# --- time --------------------------------------------------------------------------------------------------


def instant(value: str | datetime) -> datetime:
    """An aware datetime from an ISO 8601 instant (naive ones are refused: a grant's times are exact)."""
    t = datetime.fromisoformat(value) if isinstance(value, str) else value
    if t.utcoffset() is None:
        raise InvalidGrant(f"the time {value!s} has no time zone: give an ISO 8601 instant with one (Z or +08:00)")
    return t


def state_at(grant: Grant, now: datetime) -> GrantState:
    """The grant's state at ``now``: an approved grant is expired from ``ends_at`` on, exactly."""
    if grant.state == GrantState.APPROVED and now >= instant(grant.ends_at):
        return GrantState.EXPIRED
    return grant.state


def in_force(grant: Grant, now: datetime) -> bool:
    """Whether the grant opens its entry at ``now``: approved, started, not yet ended."""
    return state_at(grant, now) == GrantState.APPROVED and instant(grant.starts_at) <= now


# --- who ---------------------------------------------------------------------------------------------------


def parties(grant: Grant, entry: CatalogueEntry, actor: Actor) -> frozenset[Party]:
    """What the actor is to this grant. A department is never a decider of its own request, even when it
    also acts for the city: it may not approve its own request for another's data."""
    found = set()
    if actor.department == grant.department:
        found.add(Party.REQUESTER)
    elif actor.department is not None and actor.department == entry.provider:
        found.add(Party.PROVIDER)
    if actor.city and actor.department != grant.department:
        found.add(Party.CITY)
    return frozenset(found)


def allowed_moves(state: GrantState, who: Iterable[Party] | None = None) -> list[str]:
    """The actions the table allows from ``state`` (for these parties, when given), in table order."""
    allowed = set(who) if who is not None else set(Party)
    return [str(a) for a, m in MOVES.items() if state in m.froms and allowed & m.parties]


def _names(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values) or "none"


def _refused(grant: Grant, state: GrantState, action: GrantAction, why: str) -> GrantMoveRefused:
    allowed = allowed_moves(state)
    detail = f"grant {grant.id} is '{state}'; '{action}' {why}. Allowed now: {_names(allowed)}" + (
        " (it is final)" if state in FINAL else ""
    )
    return GrantMoveRefused(detail, grantId=grant.id, state=str(state), action=str(action), allowed=allowed)


def check_move(grant: Grant, entry: CatalogueEntry, action: GrantAction, actor: Actor, now: datetime) -> GrantState:
    """The state ``action`` takes the grant to; GrantMoveRefused (409) if the table does not allow it from
    the grant's state at ``now``, GrantMoveForbidden (403) if the actor may not take it."""
    state = state_at(grant, now)
    move = MOVES[action]
    to = TRANSITIONS.get((state, action))
    if to is None:
        needs = f"a grant that is {' or '.join(repr(str(s)) for s in move.froms)}" if move.froms else "no grant yet"
        raise _refused(grant, state, action, f"needs {needs}")
    who = parties(grant, entry, actor)
    if not who & move.parties:
        raise GrantMoveForbidden(
            f"'{action}' on grant {grant.id} is for {' or '.join(sorted(move.parties))}"
            f" (the provider is {entry.provider!r}, the requester {grant.department!r}); "
            f"{actor.by} acts for {actor.department or 'no department'}"
            + (": a department may not decide its own request" if Party.REQUESTER in who else ""),
            grantId=grant.id,
            action=str(action),
        )
    return to


# --- what a move needs and changes -------------------------------------------------------------------------


def rank(scale: LevelScale, name: str | None) -> int:
    """A level's rank; None is the default lift. A level the scale does not know is refused."""
    level = scale.get(name or DEFAULT_LIFT)
    if level is None:
        known = ", ".join(lv.name for lv in scale.levels)
        raise InvalidGrant(f"level {name!r} is not on the classification scale: use one of {known}")
    return level.rank


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def check_period(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """A grant's period: ends after it starts and after now, and lasts at most ``MAX_PERIOD``."""
    if ends_at <= starts_at:
        raise InvalidGrant(f"endsAt ({_iso(ends_at)}) must be after startsAt ({_iso(starts_at)})")
    if ends_at <= now:
        raise InvalidGrant(f"endsAt ({_iso(ends_at)}) has passed: a grant must end in the future")
    if ends_at - starts_at > MAX_PERIOD:
        raise InvalidGrant(f"a grant lasts at most {MAX_PERIOD.days} days (three years): shorten the period")


def check_items(entry: CatalogueEntry, items: Iterable[str] | None) -> tuple[str, ...] | None:
    """The items asked for, in the entry's order, or None for the whole entry; unknown or no items refused."""
    if items is None:
        return None
    asked = list(items)
    known = [i.name for i in entry.items]
    unknown = [i for i in dict.fromkeys(asked) if i not in known]
    if unknown:
        raise InvalidGrant(
            f"entry {entry.code} has no data item {_names(unknown)}: its items are {_names(known)}",
            unknown=unknown,
        )
    if not asked:
        raise InvalidGrant("items is empty: name the data items needed, or leave items out for the whole entry")
    return tuple(i for i in known if i in asked)


def _change(before: Any, after: Any) -> dict[str, Any]:
    return {"from": list(before) if isinstance(before, tuple) else before,
            "to": list(after) if isinstance(after, tuple) else after}  # fmt: skip


def narrowed(grant: Grant, entry: CatalogueEntry, n: Narrowing, scale: LevelScale, now: datetime) -> dict[str, Any]:
    """The grant's fields a ``narrow`` changes (``items``, ``starts_at``, ``ends_at``, ``lifts``): each only
    narrower than asked, at least one of them. InvalidGrant (400) says what would widen the request."""
    changes: dict[str, Any] = {}
    if n.items is not None:
        items = check_items(entry, n.items) or ()
        wider = [i for i in items if grant.items is not None and i not in grant.items]
        if wider:
            raise InvalidGrant(f"narrowing may only leave items out; {_names(wider)} were not requested")
        if items != (grant.items or tuple(i.name for i in entry.items)):
            changes["items"] = items
    start, end = instant(grant.starts_at), instant(grant.ends_at)
    new_start, new_end = n.starts_at or start, n.ends_at or end
    if new_start < start or new_end > end:
        raise InvalidGrant(f"narrowing may only shorten the period {_iso(start)} to {_iso(end)}, not widen it")
    if new_start != start or new_end != end:
        check_period(new_start, new_end, now)
        if new_start != start:
            changes["starts_at"] = _iso(new_start)
        if new_end != end:
            changes["ends_at"] = _iso(new_end)
    if n.lifts is not None:
        if rank(scale, n.lifts) > rank(scale, grant.lifts):
            raise InvalidGrant(
                f"narrowing may only lower the level lifted ({grant.lifts or DEFAULT_LIFT}), not raise it"
            )
        if rank(scale, n.lifts) < rank(scale, grant.lifts):
            changes["lifts"] = n.lifts
    if not changes:
        raise InvalidGrant("a narrow leaves out items, shortens the period or lowers lifts: nothing was narrowed; "
                           "approve the grant as asked instead")  # fmt: skip
    return changes


def transition(
    grant: Grant,
    entry: CatalogueEntry,
    action: GrantAction | str,
    actor: Actor,
    now: datetime,
    scale: LevelScale,
    *,
    reason: str | None = None,
    narrowing: Narrowing | None = None,
) -> tuple[Grant, GrantEvent]:
    """The grant after ``action`` and the history event that records it, judged at ``now``.

    GrantMoveRefused (409) names the state and the allowed moves; GrantMoveForbidden (403) who may take it;
    InvalidGrant (400) a missing reason, a narrowing that widens, an approval of a period already over.
    """
    action = action_of(action)
    before = state_at(grant, now)
    to = check_move(grant, entry, action, actor, now)
    reason = reason.strip() if reason and reason.strip() else None
    if MOVES[action].needs_reason and reason is None:
        raise InvalidGrant(f"'{action}' needs a reason: say why, the requester reads it")
    if narrowing is not None and action != GrantAction.NARROW:
        raise InvalidGrant(f"'{action}' takes no narrowing: use 'narrow' to approve less than was asked")
    changes: dict[str, Any] = {}
    if action == GrantAction.NARROW:
        changes = narrowed(grant, entry, narrowing or Narrowing(), scale, now)
    if to == GrantState.APPROVED:
        check_period(
            instant(changes.get("starts_at", grant.starts_at)), instant(changes.get("ends_at", grant.ends_at)), now
        )
    after = replace(grant, **changes, state=to)
    history = {k: _change(getattr(grant, k), v) for k, v in changes.items()}
    event = GrantEvent(action, actor.by, actor.department, now, before, to, reason, history)
    return after, event


def requested(
    grant: Grant, entry: CatalogueEntry, actor: Actor, now: datetime, scale: LevelScale
) -> tuple[Grant, GrantEvent]:
    """A new request, checked (a ``requested`` grant whose items, period and level the entry allows) and the
    first history event, which records what was asked."""
    if Party.REQUESTER not in parties(grant, entry, actor):
        raise GrantMoveForbidden(
            f"a department requests grants for itself: {actor.by} acts for {actor.department or 'no department'}, "
            f"the request is for {grant.department!r}",
            action=str(GrantAction.REQUEST),
        )
    if grant.department == entry.provider:
        raise InvalidGrant(f"{grant.department!r} provides entry {entry.code} and reads it without a grant")
    if entry.sharing == SharingType.NONE:
        raise InvalidGrant(
            f"entry {entry.code} is not shared (不予共享): no grant opens it; only {entry.provider!r} reads it"
        )
    for name, text in (("scenario", grant.scenario), ("purpose", grant.purpose), ("legalBasis", grant.legal_basis)):
        if not text.strip():
            raise InvalidGrant(f"a grant request names its {name}")
    items = check_items(entry, grant.items)
    rank(scale, grant.lifts)
    check_period(instant(grant.starts_at), instant(grant.ends_at), now)
    grant = replace(grant, items=items, state=GrantState.REQUESTED)
    asked = {"items": list(items) if items is not None else None, "starts_at": grant.starts_at,
             "ends_at": grant.ends_at, "lifts": grant.lifts}  # fmt: skip
    return grant, GrantEvent(GrantAction.REQUEST, actor.by, actor.department, now, None, grant.state, None, asked)
