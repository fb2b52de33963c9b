"""Case clocks on the Chinese working-day calendar (dates checked against chinese_calendar 1.11's 2026 data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.cases.errors import InvalidCasesConfig
from cityos.cases.timelimits import (
    ESCALATION,
    TZ,
    Day,
    TimeLimit,
    WorkCalendar,
    calendar_known,
    clock_state,
    deadline,
    escalations_due,
    extend,
    next_level,
    parse_time_limit,
    remaining,
    reminder_at,
    start_clock,
    suspend,
)

CAL = WorkCalendar()


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


# ---------------------------------------------------------------------------------------------
# The 2026 data the tests rely on, read from the package rather than assumed


def test_2026_spring_festival_and_national_day_data_as_the_tests_assume() -> None:
    spring_off = [date(2026, 2, d) for d in range(15, 24)]
    assert [chinese_calendar.is_workday(d) for d in spring_off] == [False] * 9
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # Saturday, adjusted working day
    assert chinese_calendar.is_workday(date(2026, 2, 28))  # Saturday, adjusted working day
    assert chinese_calendar.is_workday(date(2026, 2, 24))
    assert not any(chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 9, 20))  # Sunday, adjusted working day
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday, adjusted working day


# ---------------------------------------------------------------------------------------------
# Parsing


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("2h", TimeLimit(2, "h")),
        ("3wd", TimeLimit(3, "wd")),
        (" 8wh ", TimeLimit(8, "wh")),
        ("72h", TimeLimit(72, "h")),
    ],
)
def test_parse_time_limit(text: str, limit: TimeLimit) -> None:
    assert parse_time_limit(text) == limit
    assert str(limit) == text.strip()


@pytest.mark.parametrize("text", ["", "3", "wd", "0h", "-1h", "1.5h", "3d", "3 days", "10000h", "3WD"])
def test_parse_time_limit_rejects_with_the_entry_named(text: str) -> None:
    with pytest.raises(InvalidCasesConfig) as err:
        parse_time_limit(text, where="taxonomy 'noise', field 'time_limit'")
    assert "taxonomy 'noise', field 'time_limit'" in err.value.detail
    assert repr(text) in err.value.detail


def test_parse_time_limit_rejects_non_text() -> None:
    with pytest.raises(InvalidCasesConfig):
        parse_time_limit(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Deadlines


def test_hours_count_the_calendar_straight_through_a_holiday() -> None:
    assert deadline(at(2026, 2, 15, 20), parse_time_limit("24h"), CAL) == at(2026, 2, 16, 20)


def test_one_working_day_from_friday_afternoon_is_monday_same_time() -> None:
    assert deadline(at(2026, 3, 6, 16), parse_time_limit("1wd"), CAL) == at(2026, 3, 9, 16)


def test_working_days_skip_the_spring_festival() -> None:
    # Fri 13 Feb → Sat 14 Feb (adjusted working day) → 15–23 Feb off → Tue 24 Feb
    assert deadline(at(2026, 2, 13, 10), parse_time_limit("1wd"), CAL) == at(2026, 2, 14, 10)
    assert deadline(at(2026, 2, 13, 10), parse_time_limit("2wd"), CAL) == at(2026, 2, 24, 10)


def test_adjusted_working_saturday_counts() -> None:
    # Fri 27 Feb + 1wd lands on Sat 28 Feb, a working day in 2026
    assert deadline(at(2026, 2, 27, 9, 30), parse_time_limit("1wd"), CAL) == at(2026, 2, 28, 9, 30)


def test_national_day_2026() -> None:
    # Wed 30 Sep → 1–7 Oct off → Thu 8 Oct, Fri 9 Oct, Sat 10 Oct (adjusted working day)
    start = at(2026, 9, 30, 15)
    assert deadline(start, parse_time_limit("1wd"), CAL) == at(2026, 10, 8, 15)
    assert deadline(start, parse_time_limit("3wd"), CAL) == at(2026, 10, 10, 15)
    assert deadline(start, parse_time_limit("72h"), CAL) == at(2026, 10, 3, 15)


def test_case_opened_on_a_holiday_is_due_at_the_end_of_the_nth_working_day() -> None:
    # the clock starts at 00:00 of Tue 24 Feb; one working day later is the end of that day
    assert deadline(at(2026, 2, 18, 11), parse_time_limit("1wd"), CAL) == at(2026, 2, 25, 0)
    assert deadline(at(2026, 2, 18, 11), parse_time_limit("2wd"), CAL) == at(2026, 2, 26, 0)


def test_working_hours_run_in_office_hours_only() -> None:
    # Fri 13 Feb 17:00: 1h on Friday, 8h on Saturday 14 Feb, then 3h + 4h on Tue 24 Feb
    assert deadline(at(2026, 2, 13, 17), parse_time_limit("16wh"), CAL) == at(2026, 2, 24, 17)
    # the lunch break does not count; a start before opening waits for 09:00
    assert deadline(at(2026, 3, 2, 11), parse_time_limit("2wh"), CAL) == at(2026, 3, 2, 14)
    assert deadline(at(2026, 3, 2, 7), parse_time_limit("3wh"), CAL) == at(2026, 3, 2, 12)


def test_deadline_is_returned_in_shanghai_time_for_any_input_zone() -> None:
    utc_start = at(2026, 3, 6, 16).astimezone(UTC)
    due = deadline(utc_start, parse_time_limit("1wd"), CAL)
    assert due == at(2026, 3, 9, 16)
    assert due.tzinfo == TZ


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        deadline(datetime(2026, 3, 6, 16), parse_time_limit("1wd"), CAL)


# ---------------------------------------------------------------------------------------------
# Reminder, remaining time and state


def test_reminder_at_80_percent_of_working_time_across_the_spring_festival() -> None:
    start = at(2026, 2, 13, 10)
    due = deadline(start, parse_time_limit("2wd"), CAL)
    remind = reminder_at(start, due, "wd", CAL)
    # 80 % of 48 working-day hours = 38h24m: 14h on Fri 13, 24h on Sat 14, 24 minutes of Tue 24
    assert remind == at(2026, 2, 24, 0, 24)
    # 80 % of the calendar span would have fallen on a holiday
    calendar_80 = start + (due - start) * 0.8
    assert not CAL.is_working_day(calendar_80.date())
    assert reminder_at(start, due, "h", CAL) == calendar_80


def test_reminder_for_hours_and_working_hours() -> None:
    assert reminder_at(at(2026, 3, 2, 8), at(2026, 3, 2, 18), "h", CAL) == at(2026, 3, 2, 16)
    start = at(2026, 3, 6, 17)
    due = deadline(start, parse_time_limit("5wh"), CAL)  # 1h Friday, 3h Monday morning, 1h after lunch
    assert due == at(2026, 3, 9, 14)
    assert reminder_at(start, due, "wh", CAL) == at(2026, 3, 9, 12)  # 4h of 5h: 1h Fri + 3h Mon morning


def test_remaining_counts_running_time_and_goes_negative_when_overdue() -> None:
    due = at(2026, 2, 24, 10)
    assert remaining(at(2026, 2, 14, 22), due, "wd", CAL) == timedelta(hours=12)  # 2h Sat + 10h Tue
    assert remaining(at(2026, 2, 20, 12), due, "wd", CAL) == timedelta(hours=10)  # holiday: clock stands
    assert remaining(at(2026, 2, 24, 12), due, "wd", CAL) == timedelta(hours=-2)
    assert remaining(at(2026, 2, 20, 12), due, "h", CAL) == timedelta(days=3, hours=22)


def test_clock_state() -> None:
    clock = start_clock(at(2026, 2, 13, 10), parse_time_limit("2wd"), CAL)
    assert clock.state(at(2026, 2, 20, 12)) == "on-time"
    assert clock.state(at(2026, 2, 24, 1)) == "reminded"
    assert clock.state(at(2026, 2, 24, 10)) == "overdue"
    assert clock_state(at(2026, 2, 24, 9), clock.due, clock.remind_at) == "reminded"
    assert not clock.approximate


# ---------------------------------------------------------------------------------------------
# Unknown years and overrides


def test_unknown_year_falls_back_to_monday_to_friday_and_says_so() -> None:
    assert calendar_known(2026)
    assert not calendar_known(2027)
    day = CAL.day(date(2027, 1, 1))  # a Friday; the real 2027 notice will make it a holiday
    assert (day.working, day.approximate, day.source) == (True, True, "weekday")
    assert not CAL.day(date(2027, 1, 2)).working
    clock = start_clock(at(2026, 12, 31, 16), parse_time_limit("3wd"), CAL)
    assert clock.due == at(2027, 1, 5, 16)  # Fri 1, Mon 4, Tue 5 Jan
    assert clock.approximate
    assert not start_clock(at(2026, 12, 31, 16), parse_time_limit("72h"), CAL).approximate


def test_config_override_wins_over_the_package_and_the_fallback() -> None:
    cal = WorkCalendar({"2027-01-01": False, date(2026, 3, 9): False, "2026-03-07": True})
    assert cal.day(date(2027, 1, 1)) == Day(date(2027, 1, 1), False, False, "override")
    assert deadline(at(2026, 12, 31, 16), parse_time_limit("3wd"), cal) == at(2027, 1, 6, 16)
    # Fri 6 Mar + 1wd: Saturday 7 made a working day by the city
    assert deadline(at(2026, 3, 6, 16), parse_time_limit("1wd"), cal) == at(2026, 3, 7, 16)
    # Sat 7 + 1wd: Monday 9 made a rest day → Tuesday 10
    assert deadline(at(2026, 3, 7, 16), parse_time_limit("1wd"), cal) == at(2026, 3, 10, 16)
    # still approximate until the city declares its 2027 overrides complete
    assert cal.approximate(at(2026, 12, 31), at(2027, 1, 6))
    assert not WorkCalendar({"2027-01-01": False}, known_years=[2027]).approximate(at(2026, 12, 31), at(2027, 1, 6))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [({"2027-13-01": False}, "'2027-13-01' is not a date"), ({"2027-01-01": "no"}, "overrides[2027-01-01]")],
)
def test_bad_overrides_name_the_entry(overrides: dict, fragment: str) -> None:
    with pytest.raises(InvalidCasesConfig, match=r"cases\.calendar") as err:
        WorkCalendar(overrides, where="cases.calendar")
    assert fragment in err.value.detail


def test_bad_office_hours() -> None:
    with pytest.raises(InvalidCasesConfig, match="office_hours"):
        WorkCalendar(office_hours=["09:00-12:00", "11:00-18:00"])
    with pytest.raises(InvalidCasesConfig, match="office_hours"):
        WorkCalendar(office_hours=["18:00-09:00"])


def test_a_calendar_without_working_days_fails_instead_of_looping() -> None:
    no_work = {date(2027, 1, 1) + timedelta(days=i): False for i in range(400)}
    with pytest.raises(InvalidCasesConfig, match="no working day"):
        deadline(at(2027, 1, 1), parse_time_limit("1wd"), WorkCalendar(no_work))


# ---------------------------------------------------------------------------------------------
# Suspension and extension


def test_suspension_keeps_the_running_time_left() -> None:
    start = at(2026, 3, 2, 10)  # Monday
    due = deadline(start, parse_time_limit("3wd"), CAL)
    assert due == at(2026, 3, 5, 10)
    # paused Tue 10:00 with 48 working-day hours left, resumed Fri 10:00 → Fri + Mon
    assert suspend(due, at(2026, 3, 3, 10), at(2026, 3, 6, 10), "wd", CAL) == at(2026, 3, 10, 10)
    # a pause over a weekend costs no working time
    assert suspend(due, at(2026, 3, 7, 8), at(2026, 3, 8, 20), "wd", CAL) == due
    # in hours every paused hour counts
    assert suspend(at(2026, 3, 2, 18), at(2026, 3, 2, 12), at(2026, 3, 2, 15), "h", CAL) == at(2026, 3, 2, 21)


def test_suspension_after_the_due_time_does_not_rescue_an_overdue_case() -> None:
    due = at(2026, 3, 5, 10)
    assert suspend(due, at(2026, 3, 5, 11), at(2026, 3, 9, 9), "wd", CAL) == due
    with pytest.raises(ValueError):
        suspend(due, at(2026, 3, 5, 9), at(2026, 3, 5, 8), "wd", CAL)


def test_extension_adds_more_time_on_its_own_clock() -> None:
    assert extend(at(2026, 2, 13, 10), parse_time_limit("1wd"), CAL) == at(2026, 2, 14, 10)
    assert extend(at(2026, 2, 14, 10), parse_time_limit("1wd"), CAL) == at(2026, 2, 24, 10)


# ---------------------------------------------------------------------------------------------
# Escalation


def test_escalation_levels() -> None:
    assert ESCALATION == ("grid", "street", "district", "city")
    assert [next_level(level) for level in ESCALATION] == ["street", "district", "city", None]
    with pytest.raises(ValueError):
        next_level("province")


def test_escalation_one_level_per_further_full_limit() -> None:
    limit = parse_time_limit("1wd")
    due = at(2026, 3, 2, 10)  # Monday
    assert escalations_due(at(2026, 3, 2, 9), due, "grid", limit, CAL) == []
    assert escalations_due(due, due, "grid", limit, CAL) == ["street"]
    assert escalations_due(at(2026, 3, 3, 10), due, "grid", limit, CAL) == ["street", "district"]
    assert escalations_due(at(2026, 3, 4, 10), due, "grid", limit, CAL) == ["street", "district", "city"]
    assert escalations_due(at(2026, 4, 4, 10), due, "grid", limit, CAL) == ["street", "district", "city"]
    assert escalations_due(at(2026, 4, 4, 10), due, "district", limit, CAL) == ["city"]
    assert escalations_due(at(2026, 4, 4, 10), due, "city", limit, CAL) == []


def test_escalation_waits_through_a_holiday_on_a_working_day_clock() -> None:
    limit = parse_time_limit("1wd")
    due = at(2026, 2, 14, 10)  # the adjusted working Saturday before the Spring Festival
    assert escalations_due(at(2026, 2, 20, 10), due, "grid", limit, CAL) == ["street"]
    assert escalations_due(at(2026, 2, 24, 10), due, "grid", limit, CAL) == ["street", "district"]


# ---------------------------------------------------------------------------------------------
# Properties


_starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30)).map(
    lambda t: t.replace(tzinfo=TZ, second=0, microsecond=0)
)


@given(start=_starts, n=st.integers(min_value=1, max_value=30))
def test_working_day_deadline_ends_on_a_working_day_and_grows_with_n(start: datetime, n: int) -> None:
    due = deadline(start, TimeLimit(n, "wd"), CAL)
    # the clock ran right up to the due instant: the moment just before it is on a working day
    assert CAL.is_working_day((due - timedelta(microseconds=1)).date())
    assert CAL.elapsed(start, due, "wd") == timedelta(days=n)
    assert deadline(start, TimeLimit(n + 1, "wd"), CAL) > due
    if CAL.is_working_day(start.date()) and start.time() != datetime.min.time():
        assert due.time() == start.time()  # same time of day on the Nth working day after
        assert CAL.is_working_day(due.date())


@given(start=_starts, n=st.integers(min_value=1, max_value=60), unit=st.sampled_from(["h", "wd", "wh"]))
def test_reminder_lies_between_start_and_due(start: datetime, n: int, unit: str) -> None:
    due = deadline(start, TimeLimit(n, unit), CAL)  # type: ignore[arg-type]
    remind = reminder_at(start, due, unit, CAL)  # type: ignore[arg-type]
    assert start <= remind < due
    assert clock_state(remind, due, remind) == "reminded"
