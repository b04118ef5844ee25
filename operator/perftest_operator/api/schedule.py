"""When a scheduled PerfTest is due: cron expressions in an IANA time zone (pure).

Times follow Debian cron (through cronsim), as people expect from a crontab: on the day clocks
spring forward, a job set inside the skipped hour (e.g. 02:30 in Europe/Berlin) runs when the
clock jumps (03:00); on the day they fall back, a job at a fixed time in the repeated hour runs
once, at its first occurrence. Missed slots collapse into one run, like a Kubernetes CronJob
without startingDeadlineSeconds.
"""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from cronsim import CronSim, CronSimError

DEFAULT_TIME_ZONE = "UTC"

# The macros a Kubernetes CronJob accepts, as 5-field expressions.
CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# IANA names: Area/Location parts of letters, digits, '_', '-' and '+' (e.g. Etc/GMT+2).
TIME_ZONE_PATTERN = r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$"
TIME_ZONE_MAX_LENGTH = 64
_TIME_ZONE_NAME = re.compile(TIME_ZONE_PATTERN)

# The first search window of due_run_time; it doubles until it reaches back to the start.
_FIRST_LOOKBACK = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Schedule:
    """spec.schedule (a 5-field cron expression or a macro such as @daily) in spec.timeZone."""

    cron: str
    time_zone: str = DEFAULT_TIME_ZONE


def parse_cron(text: str) -> str:
    """The 5-field form of a cron expression or macro; ValueError saying what is wrong.

    A purely computational function with no side effects.
    """
    expression = " ".join(text.split())
    if expression.startswith(("TZ=", "CRON_TZ=")):
        raise ValueError("set the time zone in spec.timeZone, not in the schedule")
    if expression.startswith("@"):
        if expression not in CRON_MACROS:
            raise ValueError(
                f"unknown macro {expression!r}; known: {', '.join(sorted(CRON_MACROS))}"
            )
        return CRON_MACROS[expression]
    fields = expression.split(" ")
    if len(fields) != 5:
        raise ValueError(
            f"{text!r} has {len(fields)} fields; a schedule needs 5 "
            "(minute hour day-of-month month day-of-week) or a macro like @daily"
        )
    try:
        # Parsing is all a CronSim does at construction; any aware start time will do.
        CronSim(expression, datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
    except CronSimError as exc:
        raise ValueError(f"{text!r}: {str(exc).lower()}") from None
    return expression


def parse_time_zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA time zone `name` (e.g. Europe/Berlin); ValueError if there is none by that name."""
    try:
        if len(name) > TIME_ZONE_MAX_LENGTH or not _TIME_ZONE_NAME.match(name):
            raise ValueError(name)
        return _zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: e.g. a folder
        raise ValueError(
            f"{name!r} is not an IANA time zone such as UTC or Europe/Berlin"
        ) from None


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def _utc(moment: datetime.datetime, name: str) -> datetime.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(datetime.UTC)


def _slots(schedule: Schedule, after: datetime.datetime) -> Iterator[datetime.datetime]:
    """The scheduled times strictly after `after`, in UTC, strictly increasing."""
    zone = parse_time_zone(schedule.time_zone)
    expression = parse_cron(schedule.cron)
    after = _utc(after, "after")
    previous = after
    # cronsim works on local wall-clock time; a start in the repeated hour of a fall-back day
    # may yield a slot that is earlier in real time, and a spring-forward day may yield the
    # same instant twice (02:00 and 02:30 both move to 03:00): keep only later instants.
    for local in CronSim(expression, after.astimezone(zone)):
        moment = local.astimezone(datetime.UTC)
        if moment > previous:
            previous = moment
            yield moment


def next_run_time(schedule: Schedule, after: datetime.datetime) -> datetime.datetime:
    """The first scheduled time strictly after `after` (aware), in UTC.

    Raises ValueError for an unusable schedule, or one that matches no time in the next 50
    years. A purely computational function with no side effects.
    """
    for moment in _slots(schedule, after):
        return moment
    raise ValueError(f"schedule {schedule.cron!r} matches no time in the next 50 years")


def due_run_time(
    schedule: Schedule,
    *,
    last: datetime.datetime | None,
    created: datetime.datetime,
    now: datetime.datetime,
) -> datetime.datetime | None:
    """The latest scheduled time in (last or created, now], in UTC; None when none is due.

    `last` is the scheduled time of the last scheduled run (status.lastScheduleTime), `created`
    the PerfTest's creation time. Slots missed while the operator was down collapse into this
    one. The search starts one hour back and doubles, so a long gap costs no more than a few
    times the slots of the last period. A purely computational function with no side effects.
    """
    start = _utc(last if last is not None else created, "last" if last is not None else "created")
    now = _utc(now, "now")
    if now <= start:
        return None
    lookback = _FIRST_LOOKBACK
    while True:
        window_start = max(start, now - lookback)
        latest: datetime.datetime | None = None
        for moment in _slots(schedule, window_start):
            if moment > now:
                break
            latest = moment
        if latest is not None or window_start == start:
            return latest
        lookback *= 2
