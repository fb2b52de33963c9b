"""好差评 (GB/T 39734) as data: the five levels, the reason codes each level may give, the channels a rating
comes by, and the follow-up (差评整改) of a rating of ``LOW`` or less as a transition table. Pure: no I/O;
:mod:`cityos.onestop.ratings` stores.

opened ─answer→ answered ─accept→ accepted (final)
                answered ─dispute→ disputed (a new round: a fresh limit) ─answer→ answered
opened | disputed ─escalate→ escalated (overdue: to the department's superior, else the 12345 centre)
escalated ─answer→ answered

The department that owns the follow-up answers; once escalated, the superior it went to (or the 12345 centre)
answers. The rater accepts or disputes the answer; the 12345 centre may do so on a reporter's behalf (回访: a
case's reporter has no account). ``escalate`` is the system's alone, when the limit has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, get_args

from cityos.cases import DEFAULT_CALENDAR, WorkCalendar
from cityos.onestop.rating_errors import FollowUpActionForbidden, FollowUpActionRefused, InvalidRating

LEVELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
GOOD = frozenset({4, 5})  # 好评: what the 好评率 counts
LOW = 2  # a rating at or below this opens a follow-up (差评)
FOLLOW_UP_DAYS = 15  # working days to answer a 差评 (GB/T 39734)
REMINDER_SHARE = 0.8  # the owner is reminded once 80 % of the limit has run
CENTRE = "12345-centre"  # where an overdue follow-up goes when its department has no superior declared
DAY = timedelta(days=1)

# reason code -> (zh, en)
REASONS: dict[str, tuple[str, str]] = {
    "fast": ("办理快捷", "Handled quickly"),
    "once-only": ("少跑腿、材料少", "Few trips, few documents"),
    "courteous": ("服务热情", "Courteous service"),
    "clear-guide": ("指南清楚", "Clear guidance"),
    "solved": ("问题解决", "The problem was solved"),
    "acceptable": ("基本满足需求", "Mostly met my needs"),
    "somewhat-slow": ("办理稍慢", "Somewhat slow"),
    "slow": ("办理拖延", "Slow handling"),
    "runaround": ("多次跑动、重复提交材料", "Sent back and forth, documents asked again"),
    "unclear-guide": ("告知不清", "Unclear guidance"),
    "attitude": ("服务态度差", "Poor attitude"),
    "unfair-result": ("结果不合理", "Unfair result"),
    "not-solved": ("问题未解决", "The problem was not solved"),
    "system-fault": ("系统故障", "The system failed"),
    "other": ("其他", "Other"),
}
_GOOD = ("fast", "once-only", "courteous", "clear-guide", "solved", "other")
_BAD = ("slow", "runaround", "unclear-guide", "attitude", "unfair-result", "not-solved", "system-fault", "other")
# level -> the reason codes a rating of that level may give (GB/T 39734 asks for reasons per level)
LEVEL_REASONS: dict[int, tuple[str, ...]] = {
    5: _GOOD,
    4: _GOOD,
    3: ("acceptable", "somewhat-slow", "unclear-guide", "other"),
    2: _BAD,
    1: _BAD,
}

Channel = Literal["online", "app", "window", "phone-12345"]
CHANNELS: dict[str, tuple[str, str]] = {
    "online": ("网上办事大厅", "Online portal"),
    "app": ("移动端", "Mobile app"),
    "window": ("现场窗口", "On-site window"),
    "phone-12345": ("12345 热线", "12345 hotline"),
}
assert set(CHANNELS) == set(get_args(Channel))


def check_rating(level: int, reasons: list[str], channel: str) -> tuple[int, tuple[str, ...], str]:
    """A rating's level, reasons and channel checked against the tables; InvalidRating (400) naming the field."""
    if isinstance(level, bool) or level not in LEVELS:
        raise InvalidRating("level is 1 (非常不满意) to 5 (非常满意)", field="level")
    allowed = LEVEL_REASONS[level]
    stray = [r for r in reasons if r not in allowed]
    if stray:
        raise InvalidRating(f"reasons {', '.join(map(repr, stray))} do not go with level {level} "
                            f"({LEVELS[level][0]}): use {', '.join(allowed)}", field="reasons")  # fmt: skip
    if len(set(reasons)) != len(reasons):
        raise InvalidRating("a reason is given twice", field="reasons")
    if level <= LOW and not reasons:
        raise InvalidRating(f"a rating of {level} ({LEVELS[level][0]}) names at least one reason: the department "
                            "answers them", field="reasons")  # fmt: skip
    if channel not in CHANNELS:
        raise InvalidRating(f"channel is one of {', '.join(CHANNELS)}", field="channel")
    return level, tuple(reasons), channel


# ---------------------------------------------------------------------------------------------
# The follow-up (差评整改)

FollowUpState = Literal["opened", "answered", "accepted", "disputed", "escalated"]
FOLLOW_UP_STATES: tuple[FollowUpState, ...] = get_args(FollowUpState)
STATE_LABELS: dict[FollowUpState, tuple[str, str]] = {
    "opened": ("待整改", "Opened"),
    "answered": ("已答复", "Answered"),
    "accepted": ("已认可", "Accepted"),
    "disputed": ("有异议", "Disputed"),
    "escalated": ("已督办", "Escalated"),
}


class FollowUpAction(StrEnum):
    OPEN = "open"  # history's first entry; not an action on the API
    ANSWER = "answer"  # 整改答复
    ACCEPT = "accept"  # the rater accepts the answer
    DISPUTE = "dispute"  # the rater does not: another round
    ESCALATE = "escalate"  # overdue: to the superior or the 12345 centre
    REMIND = "remind"  # 80 % of the limit has run (history only: the state stays)


class Party(StrEnum):
    OWNER = "owner"  # who holds the follow-up now: its department, or whom it was escalated to
    RATER = "rater"
    CENTRE = "centre"  # the 12345 centre (an operator): answers escalated ones, calls the reporter back
    SYSTEM = "system"


@dataclass(frozen=True)
class Rule:
    froms: tuple[FollowUpState, ...]
    to: FollowUpState
    parties: frozenset[Party]
    needs_reason: bool = False
    new_round: bool = False  # a fresh limit starts
    hands_up: bool = False  # the follow-up goes to the superior or the centre


OWNERS = frozenset({Party.OWNER, Party.CENTRE})
RATERS = frozenset({Party.RATER, Party.CENTRE})
RULES: dict[FollowUpAction, Rule] = {
    FollowUpAction.ANSWER: Rule(("opened", "disputed", "escalated"), "answered", OWNERS, needs_reason=True),
    FollowUpAction.ACCEPT: Rule(("answered",), "accepted", RATERS),
    FollowUpAction.DISPUTE: Rule(("answered",), "disputed", RATERS, needs_reason=True, new_round=True),
    FollowUpAction.ESCALATE: Rule(("opened", "disputed"), "escalated", frozenset({Party.SYSTEM}), hands_up=True),
}
TRANSITIONS: dict[tuple[FollowUpState, FollowUpAction], FollowUpState] = {
    (s, a): r.to for a, r in RULES.items() for s in r.froms
}
FINAL: frozenset[FollowUpState] = frozenset(FOLLOW_UP_STATES) - {s for s, _ in TRANSITIONS}
WAITING: frozenset[FollowUpState] = frozenset({"opened", "disputed", "escalated"})  # an answer is owed


def allowed(state: FollowUpState) -> list[str]:
    """The actions a person may take from ``state`` (escalation is the system's)."""
    return [str(a) for a, r in RULES.items() if state in r.froms and Party.SYSTEM not in r.parties]


def action_of(value: str) -> FollowUpAction:
    """An action named on the API (``open`` and ``escalate`` are not); InvalidRating (400) otherwise."""
    names = [a for a, r in RULES.items() if Party.SYSTEM not in r.parties]
    for a in names:
        if a.value == value:
            return a
    raise InvalidRating(f"there is no action {value!r} on a follow-up: use one of {', '.join(names)}", field="action")


def transition(state: FollowUpState, action: FollowUpAction, who: frozenset[Party], reason: str | None) -> Rule:
    """The rule ``action`` follows from ``state`` when ``who`` may take it. FollowUpActionRefused (409, naming the
    allowed actions), FollowUpActionForbidden (403), InvalidRating (400: a reason missing)."""
    rule = RULES.get(action)
    if rule is None or (state, action) not in TRANSITIONS:
        final = " (it is final)" if state in FINAL else ""
        raise FollowUpActionRefused(
            f"the follow-up is '{state}' ({STATE_LABELS[state][0]}); '{action}' is not allowed from it. Allowed "
            f"now: {', '.join(allowed(state)) or 'none'}{final}", state=state, allowed=allowed(state),
        )  # fmt: skip
    if not who & rule.parties:
        whose = {Party.SYSTEM: "the system's, once the limit has passed"}.get(next(iter(rule.parties)), "")
        raise FollowUpActionForbidden(
            f"'{action}' is {whose or 'for ' + ' or '.join(sorted(p.value for p in rule.parties))}: the department "
            "holding the follow-up answers, the rater accepts or disputes"
        )
    if rule.needs_reason and not (reason or "").strip():
        raise InvalidRating(f"'{action}' needs a text: the other side reads it", field="text")
    return rule


def due(opened: datetime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> tuple[datetime, datetime]:
    """(the reminder time, the due time) of a round opened at ``opened``: 80 % and all of the limit, in working
    days."""
    return (calendar.advance(opened, DAY * FOLLOW_UP_DAYS * REMINDER_SHARE, "wd"),
            calendar.advance(opened, DAY * FOLLOW_UP_DAYS, "wd"))  # fmt: skip


def superior(department: str, superiors: dict[str, str]) -> str:
    """Where an overdue follow-up of ``department`` goes: its declared superior, else the 12345 centre."""
    return superiors.get(department) or CENTRE
