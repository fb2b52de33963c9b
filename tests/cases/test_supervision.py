"""Supervision figures (督办考核): a small hand-computed set per department, category and both, the whole, and empty
groups that give None rather than division errors."""

from __future__ import annotations

import pytest

from cityos.cases.supervision import RATINGS, CaseRecord, Figures, figures, overall, percentile
from cityos.cases.workflow import RATING_LABELS

H = 3_600_000  # one hour in ms
T0 = 1_767_225_600_000  # 2026-01-01 08:00 Asia/Shanghai
NOW = T0 + 24 * H

WATER, CITY = "water-affairs", "city-appearance"


def rec(
    case_id: str,
    department: str,
    category: str,
    state: str,
    *,
    handled: float | None = None,
    closed: float | None = None,
    due: float | None = None,
    returns: int = 0,
    reopened: int = 0,
    rating: int | None = None,
) -> CaseRecord:
    """A case created at T0; the other times in hours after T0."""

    def ms(hours: float | None) -> int | None:
        return None if hours is None else T0 + int(hours * H)

    return CaseRecord(
        case_id, department, category, T0, ms(closed), ms(handled), ms(due), returns, reopened, rating, state
    )


# Hand-checked below; "done" is handled, else closed.
RECORDS = [
    # on time at the due instant itself; 2 h to handle
    rec("a", WATER, "water-main-burst", "closed", handled=2, closed=5, due=2, rating=5),
    # late (10 h against 8 h), returned once, reopened once and closed again
    rec("b", WATER, "road-waterlogging", "closed", handled=10, closed=12, due=8, returns=1, reopened=1, rating=3),
    # open, not done, due 4 h: overdue now; returned twice
    rec("c", WATER, "water-main-burst", "in_progress", due=4, returns=2),
    # handled on time, awaiting verification: not overdue
    rec("d", CITY, "garbage-uncollected", "handled", handled=6, due=24),
    # reopened, open again, due later than now
    rec("e", CITY, "garbage-uncollected", "registered", due=48, reopened=1),
    # closed without a due time: counts for handling time, not for timeliness
    rec("f", CITY, "garbage-uncollected", "closed", closed=20, rating=4),
    # cancelled past its due time: not open, so not overdue
    rec("g", CITY, "pothole", "cancelled", due=1),
    # handled late and still open: overdue
    rec("h", CITY, "garbage-uncollected", "verified", handled=22, due=12),
]


def test_overall_figures() -> None:
    f = overall(RECORDS, NOW)
    assert f.key == ("all",)
    assert f.cases == 8
    assert f.closed == 3  # a, b, f
    assert f.on_time_rate == 2 / 4  # a, d on time; b, h late
    assert f.overdue_open == 2  # c, h
    # handling hours a 2, d 6, b 10, f 20, h 22
    assert f.mean_handling_h == pytest.approx(12.0)
    assert f.p90_handling_h == pytest.approx(21.2)  # rank 3.6: 20 + 0.6 · (22 − 20)
    assert f.return_rate == 2 / 8  # b, c
    assert f.reopen_rate == 2 / 4  # b, e of those closed at least once: a, b, f, e
    assert f.satisfaction == 2 / 3  # 5 and 4 of 5, 3, 4
    assert f.mean_rating == pytest.approx(4.0)


def test_figures_by_department() -> None:
    city, water = figures(RECORDS, "department", NOW)
    assert water == Figures(
        key=(WATER,),
        cases=3,
        closed=2,
        on_time_rate=1 / 2,
        overdue_open=1,
        mean_handling_h=pytest.approx(6.0),
        p90_handling_h=pytest.approx(9.2),  # rank 0.9: 2 + 0.9 · (10 − 2)
        return_rate=2 / 3,
        reopen_rate=1 / 2,
        satisfaction=1 / 2,
        mean_rating=pytest.approx(4.0),
    )
    assert city == Figures(
        key=(CITY,),
        cases=5,
        closed=1,
        on_time_rate=1 / 2,
        overdue_open=1,
        mean_handling_h=pytest.approx(16.0),
        p90_handling_h=pytest.approx(21.6),  # rank 1.8 of 6, 20, 22
        return_rate=0.0,
        reopen_rate=1 / 2,
        satisfaction=1.0,
        mean_rating=pytest.approx(4.0),
    )


def test_figures_by_category() -> None:
    by = {f.key: f for f in figures(RECORDS, "category", NOW)}
    assert list(by) == [("garbage-uncollected",), ("pothole",), ("road-waterlogging",), ("water-main-burst",)]
    burst = by[("water-main-burst",)]
    assert (burst.cases, burst.closed, burst.on_time_rate, burst.overdue_open) == (2, 1, 1.0, 1)
    assert burst.mean_handling_h == burst.p90_handling_h == pytest.approx(2.0)  # one value is its own p90
    # a group with nothing done, rated or closed: None, not 0 and not ZeroDivisionError
    pothole = by[("pothole",)]
    assert pothole == Figures(("pothole",), 1, 0, None, 0, None, None, 0.0, None, None, None)


def test_figures_by_department_and_category() -> None:
    keys = [f.key for f in figures(RECORDS, "department_category", NOW)]
    assert keys == [
        (CITY, "garbage-uncollected"),
        (CITY, "pothole"),
        (WATER, "road-waterlogging"),
        (WATER, "water-main-burst"),
    ]
    garbage = figures(RECORDS, "department_category", NOW)[0]
    assert (garbage.cases, garbage.closed, garbage.on_time_rate, garbage.overdue_open) == (4, 1, 0.5, 1)


def test_groups_add_up_to_the_whole() -> None:
    for by in ("department", "category", "department_category"):
        groups = figures(RECORDS, by, NOW)  # type: ignore[arg-type]
        assert sum(f.cases for f in groups) == overall(RECORDS, NOW).cases
        assert sum(f.overdue_open for f in groups) == overall(RECORDS, NOW).overdue_open


def test_records_may_be_a_one_shot_iterable() -> None:
    assert figures(iter(RECORDS), "department", NOW) == figures(RECORDS, "department", NOW)
    assert overall(iter(RECORDS), NOW) == overall(RECORDS, NOW)


def test_empty_input_gives_none_not_errors() -> None:
    assert figures([], "department", NOW) == []
    assert overall([], NOW) == Figures(("all",), 0, 0, None, 0, None, None, None, None, None, None)


def test_overdue_depends_on_now() -> None:
    c = rec("c", WATER, "water-main-burst", "dispatched", due=4)
    assert overall([c], T0 + 4 * H - 1).overdue_open == 0
    assert overall([c], T0 + 4 * H).overdue_open == 1  # at the due instant, as timelimits.clock_state has it
    late_but_handled = rec("x", WATER, "water-main-burst", "handled", handled=5, due=4)
    assert overall([late_but_handled], NOW).overdue_open == 1
    assert overall([late_but_handled], NOW).on_time_rate == 0.0


def test_closed_time_counts_when_not_handled() -> None:
    r = rec("x", CITY, "pothole", "closed", closed=30, due=24)
    f = overall([r], T0 + 48 * H)
    assert f.mean_handling_h == pytest.approx(30.0)
    assert f.on_time_rate == 0.0


def test_unknown_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="group by"):
        figures(RECORDS, "street", NOW)  # type: ignore[arg-type]


def test_ratings_are_the_workflow_scale() -> None:
    assert RATINGS is RATING_LABELS
    assert RATINGS[5][0] == "非常满意"
    assert RATINGS[3] == ("基本满意", "Fairly satisfied")
    assert sorted(RATINGS) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rating": 6}, "rating"),
        ({"rating": 0}, "rating"),
        ({"state": "done"}, "state"),
        ({"returns": -1}, "negative"),
        ({"handled_at_ms": T0 - 1}, "handled_at_ms"),
        ({"closed_at_ms": T0 - 1}, "closed_at_ms"),
    ],
)
def test_bad_records_are_refused(changes: dict[str, object], message: str) -> None:
    fields = {"case_id": "x", "department": CITY, "category": "pothole", "created_at_ms": T0} | changes
    with pytest.raises(ValueError, match=message):
        CaseRecord(**fields)  # type: ignore[arg-type]


def test_percentile() -> None:
    assert percentile([], 0.9) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.0) == 1.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 1.0) == 4.0
    assert percentile(list(map(float, range(11))), 0.9) == pytest.approx(9.0)
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)
