"""The workflow of applications for 有条件开放 data (开放申请, issue 19 item 6): one transition table and the
pure function that enforces it, in the shape of the data hub's grants (:mod:`cityos.datahub.workflow`).

An applicant (a person or an enterprise) applies for one conditional dataset: the application is
``submitted`` (待审核). The dataset's provider department, or the big-data centre (or an operator or an
administrator), decides: ``approve`` with terms and a period (``approved``, 已批准), or ``refuse`` with a
reason (``refused``, 不予批准). An approved application may be ``revoke``d with a reason (``revoked``, 已撤销).
An approved application whose period has ended IS ``expired`` (已到期), with no job running:
:func:`state_at` decides it from the stored row and the time. ``refused``, ``revoked`` and ``expired`` are final.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cityos.opendata.application_errors import ApplicationMoveForbidden, ApplicationMoveRefused, InvalidApplication

MAX_PERIOD = timedelta(days=1096)  # an approval lasts at most three years, as a grant does


class AppState(StrEnum):
    SUBMITTED = "submitted"  # 待审核
    APPROVED = "approved"  # 已批准
    REFUSED = "refused"  # 不予批准
    REVOKED = "revoked"  # 已撤销
    EXPIRED = "expired"  # 已到期: approved, and its period has ended (never stored)


class AppAction(StrEnum):
    APPLY = "apply"
    APPROVE = "approve"
    REFUSE = "refuse"
    REVOKE = "revoke"


class Party(StrEnum):
    APPLICANT = "applicant"
    PROVIDER = "provider"  # the dataset's provider department
    CITY = "city"  # the big-data centre, an operator or an administrator


STATE_LABELS: dict[AppState, tuple[str, str]] = {
    AppState.SUBMITTED: ("待审核", "Submitted"),
    AppState.APPROVED: ("已批准", "Approved"),
    AppState.REFUSED: ("不予批准", "Refused"),
    AppState.REVOKED: ("已撤销", "Revoked"),
    AppState.EXPIRED: ("已到期", "Expired"),
}


@dataclass(frozen=True)
class Move:
    froms: tuple[AppState, ...]
    to: AppState
    parties: frozenset[Party]
    needs_reason: bool = False
    needs_terms: bool = False


DECIDERS = frozenset({Party.PROVIDER, Party.CITY})
MOVES: dict[AppAction, Move] = {
    AppAction.APPLY: Move((), AppState.SUBMITTED, frozenset({Party.APPLICANT})),
    AppAction.APPROVE: Move((AppState.SUBMITTED,), AppState.APPROVED, DECIDERS, needs_terms=True),
    AppAction.REFUSE: Move((AppState.SUBMITTED,), AppState.REFUSED, DECIDERS, needs_reason=True),
    AppAction.REVOKE: Move((AppState.APPROVED,), AppState.REVOKED, DECIDERS, needs_reason=True),
}
# (state, action) -> next state: every move an application can make, and nothing else
TRANSITIONS: dict[tuple[AppState, AppAction], AppState] = {
    (state, action): move.to for action, move in MOVES.items() for state in move.froms
}
FINAL: frozenset[AppState] = frozenset(AppState) - {s for s, _ in TRANSITIONS}


@dataclass(frozen=True)
class Decision:
    """What a reviewer decides: the action, and its terms and period's end (approve) or reason."""

    action: AppAction
    terms: str | None = None
    ends_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AppEvent:
    """One entry of an application's history."""

    action: AppAction
    by: str
    by_department: str | None
    at: datetime
    from_state: AppState | None
    to_state: AppState
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def action_of(value: str) -> AppAction:
    try:
        return AppAction(value)
    except ValueError:
        names = ", ".join(a.value for a in AppAction if a is not AppAction.APPLY)
        raise InvalidApplication(f"there is no decision {value!r}: use one of {names}", field="action") from None


def state_at(state: AppState, ends_at: datetime | None, now: datetime) -> AppState:
    """The state at ``now``: an approved application is expired from the end of its period on, exactly."""
    if state is AppState.APPROVED and ends_at is not None and now >= ends_at:
        return AppState.EXPIRED
    return state


def allowed(state: AppState) -> list[str]:
    return [str(a) for a, m in MOVES.items() if state in m.froms]


def transition(state: AppState, decision: Decision, who: frozenset[Party], now: datetime) -> AppState:
    """The state ``decision`` takes an application in ``state`` (as at ``now``) to. ApplicationMoveRefused
    (409) when the table does not allow it, ApplicationMoveForbidden (403) when ``who`` may not take it,
    InvalidApplication (400) for a missing reason, missing terms, or a period that is not in the future."""
    move = MOVES[decision.action]
    to = TRANSITIONS.get((state, decision.action))
    if to is None:
        final = " (it is final)" if state in FINAL else ""
        raise ApplicationMoveRefused(
            f"the application is '{state}'; '{decision.action}' needs one that is "
            f"{' or '.join(repr(str(s)) for s in move.froms)}. Allowed now: {', '.join(allowed(state)) or 'none'}"
            f"{final}",
            state=str(state),
        )
    if not who & move.parties:
        raise ApplicationMoveForbidden(
            f"'{decision.action}' is for the dataset's provider department or the big-data centre (or an administrator)"
        )
    if move.needs_reason and not (decision.reason or "").strip():
        raise InvalidApplication(f"'{decision.action}' needs a reason: the applicant reads it", field="reason")
    if move.needs_terms:
        if not (decision.terms or "").strip():
            raise InvalidApplication("'approve' needs the terms of use the applicant agrees to", field="terms")
        check_period(now, decision.ends_at)
    return to


def check_period(now: datetime, ends_at: datetime | None) -> None:
    if ends_at is None:
        raise InvalidApplication("'approve' needs the period's end (endsAt, an ISO 8601 instant)", field="endsAt")
    if ends_at.utcoffset() is None:
        raise InvalidApplication("endsAt has no time zone: give an ISO 8601 instant with one (Z or +08:00)",
                                 field="endsAt")  # fmt: skip
    if ends_at <= now:
        raise InvalidApplication(f"endsAt ({ends_at.isoformat()}) has passed: the period must end in the future",
                                 field="endsAt")  # fmt: skip
    if ends_at - now > MAX_PERIOD:
        raise InvalidApplication(f"an approval lasts at most {MAX_PERIOD.days} days (three years): shorten it",
                                 field="endsAt")  # fmt: skip
