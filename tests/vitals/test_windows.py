"""Window arithmetic against values computed independently (statistics, brute-force windows)."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityos.vitals.windows import Observation, WindowState, aggregate, percentile

MIN = 60_000


def brute(aggregation: str, obs: list[Observation]) -> float | None:
    """The aggregate written out the plain way, to check aggregate() against."""
    vals = [o.value for o in obs if o.value is not None]
    if aggregation == "count":
        return float(len(obs))
    if aggregation == "distinct":
        return float(len({o.source for o in obs}))
    if not vals:
        return None
    if aggregation == "rate":
        with_values = sorted((o for o in obs if o.value is not None), key=lambda o: o.at_ms)
        first, last = with_values[0], with_values[-1]
        if first.at_ms == last.at_ms:
            return None
        return (last.value - first.value) / ((last.at_ms - first.at_ms) / 3_600_000)  # type: ignore[operator]
    return {
        "sum": sum(vals),
        "avg": statistics.fmean(vals),
        "min": min(vals),
        "max": max(vals),
        "p95": statistics.quantiles(vals, n=100, method="inclusive")[94] if len(vals) > 1 else vals[0],
    }[aggregation]


observations = st.lists(
    st.builds(
        Observation,
        at_ms=st.integers(0, 3_600_000),
        source=st.sampled_from(["a", "b", "c", "d"]),
        value=st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(obs=observations, aggregation=st.sampled_from(["sum", "avg", "min", "max", "count", "distinct", "p95", "rate"]))
def test_aggregate_matches_the_plain_computation(obs: list[Observation], aggregation: str) -> None:
    obs = sorted(obs, key=lambda o: o.at_ms)
    got, want = aggregate(aggregation, obs), brute(aggregation, obs)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_percentile_is_the_linear_interpolation_between_ranks() -> None:
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    assert percentile([7], 95) == 7
    assert percentile(list(range(101)), 95) == 95


@settings(max_examples=100, deadline=None)
@given(
    times=st.lists(st.integers(0, 30 * MIN), min_size=1, max_size=80),
    duration_min=st.integers(1, 10),
    aggregation=st.sampled_from(["sum", "avg", "min", "max", "count", "distinct", "p95", "rate"]),
)
def test_a_sliding_window_always_yields_the_aggregate_of_the_last_duration(
    times: list[int], duration_min: int, aggregation: str
) -> None:
    rng = random.Random(len(times))  # the window keeps its aggregate up to date; check it against a fresh one
    d = duration_min * MIN
    w = WindowState("sliding", d, aggregation)
    seen: list[Observation] = []
    for t in times:  # arrival order is not time order: late ones inside the window still count
        o = Observation(t, rng.choice("abc"), None if rng.random() < 0.1 else float(rng.randint(0, 100)))
        repeat = any((s.at_ms, s.source) == (o.at_ms, o.source) for s in seen)
        out = w.add(o)
        if repeat:  # the same source at the same time again: taken once
            assert out == []
            continue
        newest = max((s.at_ms for s in seen), default=-1)
        if seen and t <= newest - d:
            assert out == [] and w.late >= 1  # too old for the window: left out
            continue
        seen.append(o)
        end = max(s.at_ms for s in seen)
        inside = sorted((s for s in seen if end - d < s.at_ms <= end), key=lambda o: o.at_ms)
        assert len(out) == 1 and out[0].at_ms == end
        want = brute(aggregation, inside)
        assert out[0].value == (pytest.approx(want) if want is not None else None)


def test_a_sliding_window_lets_observations_go_as_time_passes() -> None:
    w = WindowState("sliding", 5 * MIN, "count")
    for t in (0, MIN, 2 * MIN):
        w.add(Observation(t, "a", 1.0))
    assert w.advance(4 * MIN) == []  # nothing left the window: nothing to say
    [e] = w.advance(5 * MIN + 1)  # the first observation leaves
    assert (e.value, e.observations) == (2.0, 2)
    [e] = w.advance(60 * MIN)
    assert e.value == 0.0


@settings(max_examples=100, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 4 * MIN), min_size=1, max_size=60),
    duration_min=st.integers(1, 6),
    aggregation=st.sampled_from(["sum", "avg", "min", "count"]),
)
def test_tumbling_windows_yield_each_closed_window_once(gaps: list[int], duration_min: int, aggregation: str) -> None:
    d = duration_min * MIN
    w = WindowState("tumbling", d, aggregation)
    t, sent, emitted = 1_000_000_000, [], []
    for n, gap in enumerate(gaps):
        t += gap + 1  # one source: each observation at its own time
        o = Observation(t, "s", float(n))
        sent.append(o)
        emitted += w.add(o)
    emitted += w.advance(t - t % d + d)  # close the last window
    with_data = [e for e in emitted if e.observations]
    assert sum(e.observations for e in with_data) == len(sent)
    for e in with_data:
        assert e.at_ms - e.start_ms == d and e.start_ms % d == 0
        inside = [o for o in sent if e.start_ms <= o.at_ms < e.at_ms]
        want = brute(aggregation, inside)
        assert e.value == (pytest.approx(want) if want is not None else None)
    ends = [e.at_ms for e in emitted]
    assert ends == sorted(set(ends))  # each window once, in order


def test_a_tumbling_count_falls_back_to_zero_after_a_silence_and_drops_late_ones() -> None:
    w = WindowState("tumbling", 10 * MIN, "count")
    w.add(Observation(1 * MIN, "a", None))
    w.add(Observation(2 * MIN, "b", None))
    out = w.add(Observation(65 * MIN, "a", None))  # an hour later
    assert [(e.start_ms, e.value) for e in out] == [(0, 2.0), (50 * MIN, 0.0)]
    assert w.add(Observation(30 * MIN, "c", None)) == [] and w.late == 1
    assert w.current() == 1.0


def test_the_same_source_at_the_same_time_counts_once() -> None:
    w = WindowState("sliding", 5 * MIN, "sum")
    assert w.add(Observation(MIN, "gate-1", 10.0))[0].value == 10.0
    assert w.add(Observation(MIN, "gate-1", 10.0)) == []  # redelivered
    assert w.add(Observation(MIN, "gate-2", 5.0))[0].value == 15.0  # another source at that time counts


def test_an_observation_standing_for_several_reports_counts_as_many() -> None:
    # a replay's tally: 5 spots reported "occupied" at once, as one observation; counts count it 5 times
    w = WindowState("sliding", 10 * 60_000, "count")
    w.take(Observation(60_000, "spot-1", None, 5))
    w.take(Observation(120_000, "spot-2", None, 3))
    assert w.current() == 8.0 and aggregate("count", w.obs) == 8.0
    w.advance(60_000 + 10 * 60_000)  # the first left the window
    assert w.current() == 3.0
