"""What time it is for schedules: the real clock, or a file's time in tests and demos (I/O)."""

from __future__ import annotations

import datetime

from perftest_operator.api.conditions import parse_time
from perftest_operator.api.settings import Settings


def schedule_now(settings: Settings) -> datetime.datetime:
    """Now as schedules see it: PERFTEST_CLOCK_FILE's time when that is set, else the real clock.

    The file lets a test move time forward by writing one line instead of sleeping through
    real minutes; an unreadable file falls back to the real clock.
    """
    if settings.clock_file:
        try:
            with open(settings.clock_file, encoding="utf-8") as handle:
                return parse_time(handle.read().strip())
        except (OSError, ValueError):
            pass
    return datetime.datetime.now(datetime.UTC)
