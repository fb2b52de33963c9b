"""The 好差评 tables as data: Hypothesis walks the follow-up's transition table with any sequence of actions by
any parties, and the rating checks hold for every level, reason and channel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityos.cases import DEFAULT_CALENDAR
from cityos.onestop.rating_errors import FollowUpActionForbidden, FollowUpActionRefused, InvalidRating
from cityos.onestop.rating_workflow import (
    CENTRE,
    CHANNELS,
    FINAL,
    FOLLOW_UP_DAYS,
    FOLLOW_UP_STATES,
    LEVEL_REASONS,
    LEVELS,
    LOW,
    REASONS,
    RULES,
    TRANSITIONS,
    FollowUpAction,
    Party,
    allowed,
    check_rating,
    due,
    superior,
    transition,
)

ACTIONS = list(FollowUpAction)
PARTIES = st.frozensets(st.sampled_from(list(Party)), max_size=4)
STEP = st.tuples(st.sampled_from(ACTIONS), PARTIES, st.one_of(st.none(), st.just(""), st.just("已整改")))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a loaded machine
@given(st.lists(STEP, max_size=30))
def test_any_walk_of_the_follow_up_table_takes_only_its_moves(steps: list[tuple[FollowUpAction, frozenset[Party],
                                                                                 str | None]]) -> None:  # fmt: skip
    state = "opened"
    answered_before_final = False
    for action, who, text in steps:
        rule = RULES.get(action)
        expected = TRANSITIONS.get((state, action))  # type: ignore[arg-type]
        try:
            got = transition(state, action, who, text)  # type: ignore[arg-type]
        except FollowUpActionRefused as exc:
            assert expected is None and exc.extra["allowed"] == allowed(state)  # type: ignore[arg-type]
            continue
        except FollowUpActionForbidden:
            assert rule is not None and expected is not None and not who & rule.parties
            continue
        except InvalidRating:
            assert rule is not None and rule.needs_reason and not (text or "").strip()
            continue
        assert rule is not None and expected == got.to and who & rule.parties
        assert state not in FINAL  # nothing moves out of a final state
        answered_before_final |= action == FollowUpAction.ANSWER
        if got.to == "accepted":
            assert answered_before_final and state == "answered"  # accepted only an answer
        if action == FollowUpAction.ESCALATE:
            assert who & {Party.SYSTEM} and state in ("opened", "disputed")
        state = got.to
    assert state in FOLLOW_UP_STATES


def test_the_table_is_closed_and_each_state_is_reachable_and_can_end() -> None:
    reached, frontier = {"opened"}, ["opened"]
    while frontier:
        s = frontier.pop()
        for (frm, _), to in TRANSITIONS.items():
            if frm == s and to not in reached:
                reached.add(to)
                frontier.append(to)
    assert reached == set(FOLLOW_UP_STATES)
    assert {"accepted"} == FINAL
    assert allowed("opened") == ["answer"] and allowed("answered") == ["accept", "dispute"]
    assert allowed("accepted") == []


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(LEVELS)), st.lists(st.sampled_from(list(REASONS)), max_size=4, unique=True),
       st.sampled_from([*CHANNELS, "fax"]))  # fmt: skip
def test_a_rating_is_checked_against_its_levels_reasons(level: int, reasons: list[str], channel: str) -> None:
    fits = set(reasons) <= set(LEVEL_REASONS[level]) and channel in CHANNELS and (level > LOW or bool(reasons))
    if fits:
        assert check_rating(level, reasons, channel) == (level, tuple(reasons), channel)
    else:
        with pytest.raises(InvalidRating):
            check_rating(level, reasons, channel)


@pytest.mark.parametrize("level", [0, 6, True])
def test_a_level_outside_one_to_five_is_refused(level: int) -> None:
    with pytest.raises(InvalidRating, match="level is 1"):
        check_rating(level, [], "online")


def test_the_limit_is_fifteen_working_days_with_the_reminder_at_eighty_percent() -> None:
    friday = datetime(2025, 9, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # before the National Day holiday
    remind, limit = due(friday)
    assert remind < limit
    assert DEFAULT_CALENDAR.elapsed(friday, limit, "wd").days == FOLLOW_UP_DAYS
    assert (limit - friday).days > FOLLOW_UP_DAYS + 7  # the week of holidays does not count
    assert superior("market-supervision", {}) == CENTRE
    assert superior("market-supervision", {"market-supervision": "district-government"}) == "district-government"
