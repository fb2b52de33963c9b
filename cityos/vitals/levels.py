"""Warning levels: which of the four national levels an indicator value is at, without flapping.

Pure functions over a small state. Levels are 0 (no warning), 1 蓝 blue (IV), 2 黄 yellow (III),
3 橙 orange (II) and 4 红 red (I).

- A value reaches a level by crossing its threshold; it leaves a level it holds only by going back
  past the threshold by more than the hysteresis, so noise around a threshold does not flap.
- A new level counts once the value has stayed on that side of the current level for the minimum
  duration; it then takes the level the value is at by then. A value that returns in between
  changes nothing.
- What a change is called comes from a transition table: raise, escalate, de-escalate, clear.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityos.vitals.definitions import Thresholds

NONE = 0
LEVEL_NAMES: dict[int, tuple[str, str, str]] = {  # level -> (name, 中文, national grade)
    1: ("blue", "蓝", "IV"),
    2: ("yellow", "黄", "III"),
    3: ("orange", "橙", "II"),
    4: ("red", "红", "I"),
}

# (was there a warning, is there one after, did it rise) -> what the change is called
TRANSITIONS: dict[tuple[bool, bool, bool], str] = {
    (False, True, True): "raised",
    (True, True, True): "escalated",
    (True, True, False): "de-escalated",
    (True, False, False): "cleared",
}


def transition_kind(old: int, new: int) -> str:
    """What a change from level ``old`` to ``new`` is called; ValueError for no change."""
    key = (old > NONE, new > NONE, new > old)
    if old == new or key not in TRANSITIONS:
        raise ValueError(f"no transition from level {old} to {new}")
    return TRANSITIONS[key]


def level_of(value: float, thresholds: Thresholds, held: int = NONE) -> int:
    """The level ``value`` is at, given the level ``held`` now (hysteresis applies to held levels)."""
    above = thresholds.direction == "above"
    level = NONE
    for n, threshold in thresholds.levels():
        margin = thresholds.hysteresis if n <= held else 0.0
        reached = value >= threshold - margin if above else value <= threshold + margin
        if reached:
            level = n
    return level


@dataclass(frozen=True)
class LevelState:
    level: int = NONE
    pending_since_ms: int | None = None  # when the value first went past the held level, this way
    pending_up: bool | None = None  # which way


@dataclass(frozen=True)
class Change:
    old: int
    new: int
    at_ms: int
    kind: str  # raised | escalated | de-escalated | cleared


def step(
    state: LevelState, value: float | None, at_ms: int, thresholds: Thresholds
) -> tuple[LevelState, Change | None]:
    """The state after a value at ``at_ms``, and the change of level it makes, if any."""
    if value is None:  # no data says nothing about the level
        return state, None
    target = level_of(value, thresholds, state.level)
    if target == state.level:
        return LevelState(state.level), None
    up = target > state.level
    since = state.pending_since_ms if state.pending_up == up and state.pending_since_ms is not None else at_ms
    if at_ms - since < thresholds.minDuration.total_seconds() * 1000:
        return LevelState(state.level, since, up), None
    change = Change(state.level, target, at_ms, transition_kind(state.level, target))
    return LevelState(target), change
