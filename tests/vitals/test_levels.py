"""Warning levels: thresholds, hysteresis and minimum duration; no flapping on noise."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.vitals.definitions import Thresholds
from cityos.vitals.levels import LevelState, level_of, step, transition_kind

MIN = 60_000
FRUIN = Thresholds(direction="above", blue=2, yellow=3, orange=4, red=5, hysteresis=0.2, minDuration="2m")


def run(values: list[float], thresholds: Thresholds, every_ms: int = 10_000) -> list[tuple[int, int, str]]:
    state, changes = LevelState(), []
    for n, v in enumerate(values):
        state, change = step(state, v, n * every_ms, thresholds)
        if change:
            changes.append((change.old, change.new, change.kind))
    return changes


def test_levels_follow_the_thresholds_in_both_directions() -> None:
    assert [level_of(v, FRUIN) for v in (1.9, 2.0, 3.5, 4.0, 5.0, 9.0)] == [0, 1, 2, 3, 4, 4]
    speed = Thresholds(direction="below", blue=30, yellow=20, orange=15, red=10)
    assert [level_of(v, speed) for v in (45, 30, 19, 15, 9)] == [0, 1, 2, 3, 4]
    # a held level is left only past the hysteresis
    assert level_of(3.9, FRUIN, held=3) == 3 and level_of(3.79, FRUIN, held=3) == 2
    assert level_of(3.9, FRUIN, held=2) == 2  # rising needs the threshold itself


def test_the_transition_table_names_every_change() -> None:
    assert transition_kind(0, 2) == "raised"
    assert transition_kind(1, 4) == "escalated"
    assert transition_kind(4, 2) == "de-escalated"
    assert transition_kind(3, 0) == "cleared"
    with pytest.raises(ValueError):
        transition_kind(2, 2)


def test_a_climb_and_fall_through_all_four_levels() -> None:
    t = Thresholds(direction="above", blue=2, yellow=3, orange=4, red=5, hysteresis=0.2, minDuration="1m")
    climb = [1.0] * 6 + [x / 10 for x in range(10, 61)] + [6.0] * 12
    fall = [x / 10 for x in range(60, 9, -1)] + [1.0] * 12
    changes = run(climb + fall, t, every_ms=20_000)
    ups = [(o, n) for o, n, k in changes if k in ("raised", "escalated")]
    downs = [(o, n) for o, n, k in changes if k in ("de-escalated", "cleared")]
    assert ups[0][0] == 0 and ups[-1][1] == 4
    assert downs[-1] == (downs[-1][0], 0) and changes[-1][2] == "cleared"


def test_a_new_level_counts_only_after_the_minimum_duration() -> None:
    short = [1.0, 2.5, 2.5, 2.5, 1.0]  # 30 s above blue, then back: nothing
    assert run(short, FRUIN) == []
    held = [1.0] + [2.5] * 13  # held above blue for 2 minutes: raised
    assert run(held, FRUIN) == [(0, 1, "raised")]


@settings(max_examples=60, deadline=None)
@given(base=st.floats(1.0, 5.5), seed=st.integers(0, 10_000))
def test_noise_around_a_threshold_does_not_flap(base: float, seed: int) -> None:
    rng = random.Random(seed)
    noisy = [base + rng.uniform(-0.15, 0.15) for _ in range(400)]  # within the hysteresis (0.2)
    changes = run(noisy, FRUIN)
    assert len(changes) <= 2  # settles on one level; at most one more step on the way


def test_no_value_changes_nothing() -> None:
    state, change = step(LevelState(2), None, 0, FRUIN)
    assert (state.level, change) == (2, None)
