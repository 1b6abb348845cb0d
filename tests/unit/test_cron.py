"""Standup schedules read by cronsim: steps, ranges, names, leap days, DST and the errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.roster.cron import CronError, parse_cron, parse_zone

BERLIN = parse_zone("Europe/Berlin")
FORTNIGHT = [date(2026, 11, 16) + timedelta(days=n) for n in range(14)]  # Mon 16 Nov on


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_steps_and_ranges():
    assert parse_cron("*/15 * * * *").minutes == {0, 15, 30, 45}
    assert parse_cron("5/20 * * * *").minutes == {5, 25, 45}
    weekdays = [day for day in FORTNIGHT if parse_cron("0 9 * * 1-5").fires_on(day)]
    assert [day.isoweekday() for day in weekdays] == [1, 2, 3, 4, 5] * 2


@pytest.mark.parametrize("names", ["mon-fri", "MON-FRI", "Mon-Fri", "mon,tue,wed,thu,fri"])
def test_day_names_mean_their_numbers(names):
    by_name, by_number = parse_cron(f"0 9 * * {names}"), parse_cron("0 9 * * 1-5")
    assert [by_name.fires_on(d) for d in FORTNIGHT] == [by_number.fires_on(d) for d in FORTNIGHT]


def test_month_names_and_sunday_as_zero_or_seven():
    new_year = parse_cron("0 9 1 jan *")
    assert new_year.fires_on(date(2027, 1, 1)) and not new_year.fires_on(date(2027, 2, 1))
    assert new_year.previous_day(date(2027, 1, 1)) == date(2026, 1, 1)
    sunday = date(2026, 11, 22)
    assert parse_cron("0 9 * * 0").fires_on(sunday) and parse_cron("0 9 * * sun").fires_on(sunday)


def test_a_leap_day_schedule_looks_back_four_years():
    leap = parse_cron("0 0 29 2 *")
    assert leap.fires_on(date(2028, 2, 29)) and not leap.fires_on(date(2027, 2, 28))
    assert leap.previous_day(date(2029, 3, 1)) == date(2028, 2, 29)
    assert leap.previous_day(date(2028, 2, 29)) == date(2024, 2, 29)  # 1,461 days back


def test_a_schedule_that_fired_too_long_ago_has_no_previous_day():
    fifth_monday_of_february = parse_cron("0 9 * 2 1#5")  # Feb 29 on a Monday: 2016, 2044
    assert fifth_monday_of_february.fires_on(date(2044, 2, 29))
    assert fifth_monday_of_february.previous_day(date(2044, 2, 29)) is None


def test_day_of_month_or_day_of_week_unless_one_starts_with_a_star():
    either = parse_cron("0 9 13 * fri")
    assert either.fires_on(date(2026, 11, 13)) and either.fires_on(date(2026, 11, 20))
    assert either.fires_on(date(2026, 12, 13))  # a Sunday, but the 13th
    # As in cron, a field starting with `*` ("*/2") makes both have to match.
    both = parse_cron("0 9 */2 * fri")
    assert both.fires_on(date(2026, 11, 13))  # Friday the 13th: odd day and Friday
    assert not both.fires_on(date(2026, 11, 20)) and not both.fires_on(date(2026, 11, 15))


def test_cron_extensions_cronsim_reads():
    last = parse_cron("0 18 L * *")
    assert last.fires_on(date(2026, 2, 28)) and not last.fires_on(date(2026, 2, 27))
    assert parse_cron("0 9 * * 5L").fires_on(date(2026, 11, 27))  # last Friday of November


def test_fired_between_is_inclusive_and_on_the_zones_clocks():
    at_nine = parse_cron("0 9 * * 1-5")
    winter, summer = utc(2026, 11, 16, 8), utc(2026, 6, 15, 7)  # 09:00 in Berlin, Mondays
    assert at_nine.fired_between(winter, winter, BERLIN)
    assert at_nine.fired_between(summer - timedelta(minutes=30), summer, BERLIN)
    assert not at_nine.fired_between(
        winter + timedelta(microseconds=1), winter + timedelta(hours=1), BERLIN
    )
    assert not at_nine.fired_between(
        summer + timedelta(hours=1), summer + timedelta(hours=2), BERLIN
    )
    assert not at_nine.fired_between(utc(2026, 11, 21, 7), utc(2026, 11, 21, 9), BERLIN)  # Sat


def test_a_time_the_clocks_skip_fires_when_they_resume():
    half_past_two = parse_cron("30 2 * * *")
    # 29 March 2026: Berlin's clocks go from 02:00 to 03:00 (01:00 UTC); 02:30 never shows.
    assert half_past_two.fired_between(utc(2026, 3, 29, 0, 55), utc(2026, 3, 29, 1, 5), BERLIN)
    assert not half_past_two.fired_between(utc(2026, 3, 29, 1, 5), utc(2026, 3, 29, 23), BERLIN)
    assert half_past_two.fired_between(utc(2026, 3, 30, 0, 30), utc(2026, 3, 30, 0, 30), BERLIN)


def test_a_time_the_clocks_repeat_fires_once():
    half_past_two = parse_cron("30 2 * * *")
    # 25 October 2026: 02:30 CEST is 00:30 UTC; the clocks then show 02:30 CET at 01:30 UTC.
    assert half_past_two.fired_between(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 0, 31), BERLIN)
    assert not half_past_two.fired_between(utc(2026, 10, 25, 0, 31), utc(2026, 10, 25, 2), BERLIN)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 * * * *", "it needs five fields"),
        ("0 0 31 2 *", "day of month '31' never comes in month '2', so it would never fire"),
        ("0 9 * * mon-sun", "day of week range 'mon-sun' runs backwards"),
        ("0 9 */x * *", "'x' is not a valid day of month step"),
        ("0 9 LW-5 * *", "'LW-5' is not a valid day of month"),
        ("0 9 1-5-7 * *", "'1-5-7' is not a valid day of month"),
        ("0 9 * 13 *", "month 13 is out of range 1-12"),
        ("0 9 * * ?", "'\\?' is not a valid day of week"),
    ],
)
def test_refused_schedules_say_why(cron, message):
    with pytest.raises(CronError, match=message) as caught:
        parse_cron(cron)
    assert '"minute hour day-of-month month day-of-week"' in str(caught.value)


def test_the_text_is_kept_in_single_spaces_and_compares_by_text():
    assert parse_cron(" 0  9 * *\t1-5 ").text == "0 9 * * 1-5"
    assert parse_cron("0  9 * * 1-5") == parse_cron("0 9 * * 1-5")
