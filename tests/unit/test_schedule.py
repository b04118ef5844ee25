"""Schedules: cron in a time zone, daylight saving time, and which run is due after a gap."""

from __future__ import annotations

import datetime
import itertools
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perftest_operator.api.schedule import (
    CRON_MACROS,
    Schedule,
    due_run_time,
    next_run_time,
    parse_cron,
    parse_time_zone,
)

UTC = datetime.UTC
BERLIN = "Europe/Berlin"


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def slots(schedule: Schedule, after: datetime.datetime, count: int) -> list[datetime.datetime]:
    found = []
    for _ in range(count):
        after = next_run_time(schedule, after)
        found.append(after)
    return found


# --- daylight saving time (Europe/Berlin: 2025-03-30 02:00 CET -> 03:00 CEST, 2025-10-26
# 03:00 CEST -> 02:00 CET) ---------------------------------------------------------------------


def test_a_daily_run_inside_the_skipped_hour_runs_when_the_clock_springs_forward() -> None:
    daily = Schedule("30 2 * * *", BERLIN)
    assert slots(daily, utc("2025-03-29T12:00:00"), 3) == [
        utc("2025-03-30T01:00:00"),  # 03:00 CEST: 02:30 does not exist that night
        utc("2025-03-31T00:30:00"),  # 02:30 CEST
        utc("2025-04-01T00:30:00"),
    ]


def test_a_daily_run_in_the_repeated_hour_runs_once_when_the_clock_falls_back() -> None:
    daily = Schedule("30 2 * * *", BERLIN)
    assert slots(daily, utc("2025-10-25T12:00:00"), 3) == [
        utc("2025-10-26T00:30:00"),  # 02:30 CEST, the first of the two 02:30s
        utc("2025-10-27T01:30:00"),  # 02:30 CET
        utc("2025-10-28T01:30:00"),
    ]


def test_after_a_time_in_the_repeated_hour_the_next_run_is_still_later() -> None:
    # 01:15 UTC is 02:15 CET, in the second 02:00-03:00 of the night; that night's 02:30 (CEST)
    # was 00:30 UTC, already past.
    daily = Schedule("30 2 * * *", BERLIN)
    assert next_run_time(daily, utc("2025-10-26T01:15:00")) == utc("2025-10-27T01:30:00")


def test_two_slots_moved_to_the_same_instant_by_the_spring_forward_run_once() -> None:
    twice = Schedule("0,30 2 * * *", BERLIN)
    assert slots(twice, utc("2025-03-29T23:00:00"), 3) == [
        utc("2025-03-30T01:00:00"),  # 02:00 and 02:30 both become 03:00 CEST
        utc("2025-03-31T00:00:00"),
        utc("2025-03-31T00:30:00"),
    ]


def test_an_hourly_schedule_stays_one_real_hour_apart_across_both_changes() -> None:
    hourly = Schedule("30 * * * *", BERLIN)
    for start in (utc("2025-03-29T22:00:00"), utc("2025-10-25T22:00:00")):
        found = slots(hourly, start, 6)
        assert found[0] == start + datetime.timedelta(minutes=30)
        assert {b - a for a, b in itertools.pairwise(found)} == {datetime.timedelta(hours=1)}


# --- next_run_time -----------------------------------------------------------------------------


def test_next_run_time_is_strictly_after_and_in_utc() -> None:
    daily = Schedule("0 2 * * *")
    at_slot = utc("2025-11-17T02:00:00")
    assert next_run_time(daily, at_slot) == utc("2025-11-18T02:00:00")
    assert next_run_time(daily, at_slot - datetime.timedelta(microseconds=1)) == at_slot
    berlin_time = at_slot.astimezone(zoneinfo.ZoneInfo(BERLIN))
    result = next_run_time(daily, berlin_time)
    assert result == utc("2025-11-18T02:00:00")
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("macro", "after", "expected"),
    [
        ("@hourly", "2025-11-17T10:20:00", "2025-11-17T11:00:00"),
        ("@daily", "2025-11-17T10:20:00", "2025-11-18T00:00:00"),
        ("@midnight", "2025-11-17T10:20:00", "2025-11-18T00:00:00"),
        ("@weekly", "2025-11-17T10:20:00", "2025-11-23T00:00:00"),  # the next Sunday
        ("@monthly", "2025-11-17T10:20:00", "2025-12-01T00:00:00"),
        ("@yearly", "2025-11-17T10:20:00", "2026-01-01T00:00:00"),
        ("@annually", "2025-11-17T10:20:00", "2026-01-01T00:00:00"),
    ],
)
def test_macros(macro: str, after: str, expected: str) -> None:
    assert next_run_time(Schedule(macro), utc(after)) == utc(expected)


def test_macros_are_listed_with_the_ones_kubernetes_cronjobs_accept() -> None:
    assert sorted(CRON_MACROS) == sorted(
        ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]
    )


def test_a_time_zone_shifts_the_schedule() -> None:
    # 02:00 in New York (EST, UTC-5) is 07:00 UTC.
    assert next_run_time(
        Schedule("0 2 * * *", "America/New_York"), utc("2025-11-17T00:00:00")
    ) == utc("2025-11-17T07:00:00")


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_run_time(Schedule("@daily"), datetime.datetime(2025, 11, 17))


@settings(max_examples=30, deadline=None)
@given(
    after=st.datetimes(
        min_value=datetime.datetime(2024, 1, 1), max_value=datetime.datetime(2026, 12, 31)
    ),
    cron=st.sampled_from(["*/15 * * * *", "5 */3 * * *", "0 9 * * 1-5", "45 23 L * *"]),
)
def test_next_run_time_is_the_first_matching_minute_in_utc(
    after: datetime.datetime, cron: str
) -> None:
    """Checked against a slow, obvious search: every minute until one matches the fields."""
    after = after.replace(tzinfo=UTC)
    candidate = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    while not matches(cron, candidate):
        candidate += datetime.timedelta(minutes=1)
    assert next_run_time(Schedule(cron), after) == candidate


def matches(cron: str, moment: datetime.datetime) -> bool:
    """Whether `moment` fits the few forms the property test above uses."""
    minute, hour, day, _, weekday = cron.split()

    def field(spec: str, value: int) -> bool:
        if spec == "*":
            return True
        if spec.startswith("*/"):
            return value % int(spec[2:]) == 0
        if "-" in spec:
            low, high = map(int, spec.split("-"))
            return low <= value <= high
        return value == int(spec)

    last_day = (moment.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - (
        datetime.timedelta(days=1)
    )
    day_ok = moment.day == last_day.day if day == "L" else field(day, moment.day)
    return (
        field(minute, moment.minute)
        and field(hour, moment.hour)
        and day_ok
        and field(weekday, moment.isoweekday() % 7)
    )


# --- due_run_time ------------------------------------------------------------------------------

DAILY_2AM = Schedule("0 2 * * *")
CREATED = utc("2025-11-16T10:00:00")


def test_nothing_is_due_before_the_first_slot() -> None:
    assert (
        due_run_time(DAILY_2AM, last=None, created=CREATED, now=utc("2025-11-17T01:59:59")) is None
    )


def test_a_slot_is_due_from_its_time_on() -> None:
    slot = utc("2025-11-17T02:00:00")
    assert due_run_time(DAILY_2AM, last=None, created=CREATED, now=slot) == slot
    assert (
        due_run_time(DAILY_2AM, last=None, created=CREATED, now=utc("2025-11-17T09:00:00")) == slot
    )


def test_the_last_scheduled_slot_is_not_due_again() -> None:
    slot = utc("2025-11-17T02:00:00")
    later = utc("2025-11-17T09:00:00")
    assert due_run_time(DAILY_2AM, last=slot, created=CREATED, now=later) is None
    next_day = utc("2025-11-18T02:00:00")
    assert due_run_time(DAILY_2AM, last=slot, created=CREATED, now=next_day) == next_day


def test_a_test_created_exactly_at_a_slot_waits_for_the_next_one() -> None:
    created = utc("2025-11-17T02:00:00")
    assert due_run_time(DAILY_2AM, last=None, created=created, now=created) is None


def test_slots_missed_while_the_operator_was_down_collapse_into_the_latest() -> None:
    last = utc("2025-11-10T02:00:00")
    now = utc("2025-11-17T03:00:00")  # seven slots missed
    assert due_run_time(DAILY_2AM, last=last, created=CREATED, now=now) == utc(
        "2025-11-17T02:00:00"
    )


def test_a_long_gap_with_a_frequent_schedule_gives_the_latest_minute() -> None:
    every_minute = Schedule("* * * * *")
    created = utc("2024-11-17T00:00:00")
    now = utc("2025-11-17T10:20:30")
    assert due_run_time(every_minute, last=None, created=created, now=now) == utc(
        "2025-11-17T10:20:00"
    )


def test_a_rare_schedule_far_back_is_still_found() -> None:
    yearly = Schedule("@yearly")
    created = utc("2023-06-01T00:00:00")
    assert due_run_time(yearly, last=None, created=created, now=utc("2025-11-17T00:00:00")) == utc(
        "2025-01-01T00:00:00"
    )


def test_due_run_time_in_berlin_on_the_spring_forward_day() -> None:
    daily = Schedule("30 2 * * *", BERLIN)
    last = utc("2025-03-29T01:30:00")  # 02:30 CET on the 29th
    assert due_run_time(daily, last=last, created=CREATED, now=utc("2025-03-30T00:59:00")) is None
    assert due_run_time(daily, last=last, created=CREATED, now=utc("2025-03-30T01:00:00")) == utc(
        "2025-03-30T01:00:00"
    )


@settings(max_examples=80, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime.datetime(2025, 3, 25), max_value=datetime.datetime(2025, 11, 1)
    ),
    gap_minutes=st.integers(min_value=0, max_value=5 * 24 * 60),
    cron=st.sampled_from(["30 2 * * *", "0,30 2 * * *", "30 * * * *", "0 */6 * * *", "@weekly"]),
    zone=st.sampled_from(["UTC", BERLIN, "America/New_York", "Australia/Lord_Howe"]),
)
def test_due_run_time_is_the_last_slot_that_next_run_time_reaches(
    start: datetime.datetime, gap_minutes: int, cron: str, zone: str
) -> None:
    """Checked against stepping next_run_time from the start until past `now`."""
    schedule = Schedule(cron, zone)
    start = start.replace(tzinfo=UTC)
    now = start + datetime.timedelta(minutes=gap_minutes)
    expected = None
    moment = next_run_time(schedule, start)
    while moment <= now:
        expected = moment
        moment = next_run_time(schedule, moment)
    assert due_run_time(schedule, last=start, created=CREATED, now=now) == expected


# --- parsing -----------------------------------------------------------------------------------


def test_parse_cron_gives_five_fields() -> None:
    assert parse_cron("  0   2 * *\t1-5 ") == "0 2 * * 1-5"
    assert parse_cron("@daily") == "0 0 * * *"
    assert parse_cron("30 2 * * mon") == "30 2 * * mon"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0 2 * *", "has 4 fields"),
        ("0 0 2 * * *", "has 6 fields"),  # no seconds field
        ("61 * * * *", "bad minute"),
        ("0 24 * * *", "bad hour"),
        ("0 0 0 * *", "bad day-of-month"),
        ("0 0 * 13 *", "bad month"),
        ("0 0 30 2 *", "bad day-of-month"),
        ("@fortnightly", "unknown macro"),
        ("@Daily", "unknown macro"),
        ("TZ=Europe/Berlin 0 2 * * *", "spec.timeZone"),
        ("CRON_TZ=UTC 0 2 * * *", "spec.timeZone"),
    ],
)
def test_parse_cron_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_cron(text)


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+2"]
)
def test_iana_time_zones_are_accepted(name: str) -> None:
    assert parse_time_zone(name).key == name


@pytest.mark.parametrize(
    "name", ["", "utc", "Mars/Olympus", "Europe", "Europe/", "/etc/localtime", "../UTC", "a" * 300]
)
def test_other_time_zone_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        parse_time_zone(name)
