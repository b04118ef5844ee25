"""Conditions: found by type, lastTransitionTime moves only on a status change, stale writes ignored."""

from __future__ import annotations

import datetime

import pytest

from perftest_operator.api.conditions import find_condition, format_time, parse_time, set_condition

T0 = datetime.datetime(2025, 1, 17, 2, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(hours=1)


def test_new_condition_is_appended_with_the_standard_shape() -> None:
    conditions = set_condition(
        [], "Ready", "True", "SpecValid", "the spec is valid", generation=3, now=T0
    )
    assert conditions == [
        {
            "type": "Ready",
            "status": "True",
            "reason": "SpecValid",
            "message": "the spec is valid",
            "lastTransitionTime": "2025-01-17T02:00:00Z",
            "observedGeneration": 3,
        }
    ]


def test_transition_time_moves_only_when_the_status_changes() -> None:
    first = set_condition([], "Ready", "True", "SpecValid", "ok", generation=1, now=T0)
    same = set_condition(first, "Ready", "True", "SpecValid", "still ok", generation=2, now=T1)
    assert same[0]["lastTransitionTime"] == "2025-01-17T02:00:00Z"
    assert (same[0]["message"], same[0]["observedGeneration"]) == ("still ok", 2)
    flipped = set_condition(
        same, "Ready", "False", "InvalidSpec", "spec.x: bad", generation=3, now=T1
    )
    assert flipped[0]["lastTransitionTime"] == "2025-01-17T03:00:00Z"
    assert first[0]["message"] == "ok", "the input list is not modified"


def test_stale_write_does_not_move_a_condition_backwards() -> None:
    newer = set_condition([], "Ready", "False", "InvalidSpec", "spec.x: bad", generation=5, now=T1)
    stale = set_condition(newer, "Ready", "True", "SpecValid", "ok", generation=4, now=T1)
    assert stale == newer


def test_conditions_are_found_by_type_not_position() -> None:
    conditions = set_condition([], "Running", "False", "NoActiveRun", "none", generation=1, now=T0)
    conditions = set_condition(conditions, "Ready", "True", "SpecValid", "ok", generation=1, now=T0)
    ready = find_condition(list(reversed(conditions)), "Ready")
    assert ready is not None and ready["reason"] == "SpecValid"
    assert find_condition(conditions, "Regressed") is None


@pytest.mark.parametrize("bad", [("Ready", "Yes", "R", "m"), ("Ready", "True", "R", "")])
def test_invalid_status_or_empty_message_is_refused(bad: tuple[str, str, str, str]) -> None:
    with pytest.raises(ValueError):
        set_condition([], *bad, generation=1, now=T0)


def test_times_round_trip_in_utc() -> None:
    assert parse_time(format_time(T0)) == T0
    assert parse_time("2025-01-17T03:00:00+01:00") == T0
