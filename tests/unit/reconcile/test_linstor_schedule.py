"""Schedule maths: cron fields, next/previous slots (checked against a brute-force minute scan),
@every alignment, which slot is due (catch-up, never a burst), retention."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from stratum.reconcile.linstor.schedule import (
    FIELDS,
    Child,
    Cron,
    Every,
    ScheduleError,
    due_slot,
    parse_field,
    parse_schedule,
    parse_time,
    retention_plan,
    slot_epoch,
)

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# ------------------------------------------------------------------------------ fields


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        ("*", 0, set(range(60))),
        ("*/15", 0, {0, 15, 30, 45}),
        ("5", 0, {5}),
        ("1-5", 1, {1, 2, 3, 4, 5}),
        ("1-10/3", 1, {1, 4, 7, 10}),
        ("10/20", 0, {10, 30, 50}),
        ("1,3,5-6", 2, {1, 3, 5, 6}),
        ("jan,MAR-may", 3, {1, 3, 4, 5}),
        ("mon-fri", 4, {1, 2, 3, 4, 5}),
        ("7", 4, {7}),
        ("*/2", 1, set(range(0, 24, 2))),
    ],
)
def test_fields_parse(text: str, index: int, expected: set[int]) -> None:
    assert parse_field(text, FIELDS[index]) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("60 * * * *", "minute: 60 is outside 0-59"),
        ("* 24 * * *", "hour: 24"),
        ("* * 0 * *", "day-of-month: 0"),
        ("* * * 13 *", "month: 13"),
        ("* * * * 8", "day-of-week: 8"),
        ("*/0 * * * *", "step '0'"),
        ("5-1 * * * *", "runs backwards"),
        ("1,,2 * * * *", "empty list entry"),
        ("x * * * *", "'x' is not a number"),
        ("* * * foo *", "not a number or name"),
        ("* * * *", "5 fields"),
        ("* * * * * *", "5 fields"),
        ("@every 2s", "shorter than 5s"),
        ("@every 10", "duration"),
        ("@every", "duration"),
        ("@fortnightly", "unknown schedule"),
    ],
)
def test_bad_schedules_name_the_part(text: str, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment.replace("*", r"\*")):
        parse_schedule(text)


def test_weekday_seven_is_sunday() -> None:
    cron = Cron.parse("0 0 * * 7")
    assert cron.next_after(at("2026-12-01T00:00")) == at("2026-12-06T00:00")  # a Sunday
    assert at("2026-12-06").isoweekday() == 7


# ------------------------------------------------------------------------------ slots


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("0 */6 * * *", "2026-12-01T05:59:30", "2026-12-01T06:00"),
        ("0 */6 * * *", "2026-12-01T06:00", "2026-12-01T12:00"),
        ("30 2 * * *", "2026-12-31T03:00", "2027-01-01T02:30"),
        ("0 0 29 2 *", "2026-03-01T00:00", "2028-02-29T00:00"),  # leap day
        ("0 0 31 * *", "2026-04-01T00:00", "2026-05-31T00:00"),  # skips 30-day months
        ("0 12 * * mon", "2026-12-01T00:00", "2026-12-07T12:00"),
        # both day fields restricted: either matches (the 13th, or any Friday)
        ("0 0 13 * fri", "2026-12-01T00:00", "2026-12-04T00:00"),
        ("0 0 13 * fri", "2026-12-11T00:00", "2026-12-13T00:00"),
        ("@daily", "2026-12-01T10:00", "2026-12-02T00:00"),
        ("@hourly", "2026-12-01T10:00", "2026-12-01T11:00"),
        ("@weekly", "2026-12-01T10:00", "2026-12-06T00:00"),
        ("@monthly", "2026-12-01T10:00", "2027-01-01T00:00"),
        ("@yearly", "2026-12-01T10:00", "2027-01-01T00:00"),
    ],
)
def test_next_slot(expr: str, after: str, expected: str) -> None:
    assert parse_schedule(expr).next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    ("expr", "when", "expected"),
    [
        ("0 */6 * * *", "2026-12-01T05:59:30", "2026-12-01T00:00"),
        ("0 */6 * * *", "2026-12-01T06:00:00", "2026-12-01T06:00"),
        ("30 2 * * *", "2027-01-01T02:29", "2026-12-31T02:30"),
        ("0 0 29 2 *", "2027-03-01T00:00", "2024-02-29T00:00"),
        ("0 0 1 1 *", "2026-06-15T00:00", "2026-01-01T00:00"),
    ],
)
def test_latest_slot(expr: str, when: str, expected: str) -> None:
    assert parse_schedule(expr).latest_at_or_before(at(when)) == at(expected)


def test_never_matching_expression_has_no_slot() -> None:
    cron = Cron.parse("0 0 30 2 *")
    assert cron.next_after(at("2026-01-01T00:00")) is None
    assert cron.latest_at_or_before(at("2026-01-01T00:00")) is None


def _brute_matches(cron: Cron, t: dt.datetime) -> bool:
    """An independent reading of cron semantics, minute by minute."""
    dom = t.day in cron.days
    dow = (t.isoweekday() % 7) in cron.weekdays
    day = (dom and dow) if (cron.any_day or cron.any_weekday) else (dom or dow)
    return t.minute in cron.minutes and t.hour in cron.hours and t.month in cron.months and day


def test_slots_agree_with_a_minute_scan() -> None:
    rng = random.Random(17)
    exprs = [
        "*/7 * * * *",
        "5,35 */3 * * *",
        "0-10/5 8-17 * * mon-fri",
        "15 3 1,15 * *",
        "0 0 * * 0,3",
        "45 23 13 * 5",
        "*/20 1-3 * jan-mar,dec *",
    ]
    for expr in exprs:
        cron = Cron.parse(expr)
        for _ in range(25):
            start = at("2026-11-20T00:00") + dt.timedelta(minutes=rng.randrange(60 * 24 * 30))
            start += dt.timedelta(seconds=rng.randrange(60))
            t = start.replace(second=0) + dt.timedelta(minutes=1)
            while not _brute_matches(cron, t):
                t += dt.timedelta(minutes=1)
            assert cron.next_after(start) == t, (expr, start)
            back = start.replace(second=0)
            while not _brute_matches(cron, back):
                back -= dt.timedelta(minutes=1)
            assert cron.latest_at_or_before(start) == back, (expr, start)


def test_every_is_aligned_to_the_epoch() -> None:
    every = parse_schedule("@every 10s")
    assert every == Every(10)
    assert every.latest_at_or_before(at("2026-12-01T08:00:07")) == at("2026-12-01T08:00:00")
    assert every.next_after(at("2026-12-01T08:00:00")) == at("2026-12-01T08:00:10")
    assert parse_schedule("@every 1h30m") == Every(5400)
    assert parse_schedule("@every 5m") == Every(300)
    # Same slots whoever computes them, whenever: the slot is a multiple of the interval.
    assert slot_epoch(every.latest_at_or_before(at("2026-12-01T08:00:19"))) % 10 == 0


# ------------------------------------------------------------------------------ due slots

CREATED = at("2026-12-01T08:00:03")


def test_first_slot_comes_after_creation_not_before() -> None:
    every = Every(10)
    assert due_slot(every, at("2026-12-01T08:00:05"), None, CREATED) is None
    assert due_slot(every, at("2026-12-01T08:00:10"), None, CREATED) == at("2026-12-01T08:00:10")


def test_a_slot_runs_once() -> None:
    every = Every(10)
    slot = at("2026-12-01T08:00:10")
    assert due_slot(every, at("2026-12-01T08:00:12"), slot, CREATED) is None
    assert due_slot(every, at("2026-12-01T08:00:19.9"), slot, CREATED) is None
    assert due_slot(every, at("2026-12-01T08:00:20"), slot, CREATED) == at("2026-12-01T08:00:20")


def test_after_downtime_one_catch_up_for_the_newest_missed_slot() -> None:
    every = Every(10)
    last = at("2026-12-01T08:00:10")
    now = at("2026-12-01T09:30:04")  # 539 slots were missed
    slot = due_slot(every, now, last, CREATED)
    assert slot == at("2026-12-01T09:30:00")
    # ... and having run it, nothing else is due until the next slot.
    assert due_slot(every, now, slot, CREATED) is None


def test_cron_catch_up_after_days_down() -> None:
    cron = parse_schedule("0 */6 * * *")
    slot = due_slot(cron, at("2026-12-04T13:00"), at("2026-12-01T06:00"), CREATED)
    assert slot == at("2026-12-04T12:00")


def test_time_round_trip() -> None:
    assert parse_time("2026-12-01T08:00:10Z") == at("2026-12-01T08:00:10")
    assert parse_time(None) is None


# ------------------------------------------------------------------------------ retention


def test_retention_keeps_the_newest_per_resource() -> None:
    children = [Child(f"s-r1-{slot}", "r1", slot) for slot in (10, 20, 30, 40)]
    children += [Child(f"s-r2-{slot}", "r2", slot) for slot in (30, 40)]
    doomed = retention_plan(children, keep=2)
    assert [c.name for c in doomed] == ["s-r1-10", "s-r1-20"]


def test_retention_with_fewer_than_keep_deletes_nothing() -> None:
    assert retention_plan([Child("a", "r1", 1)], keep=3) == []
    assert retention_plan([], keep=1) == []


def test_retention_orders_by_slot_not_by_name() -> None:
    children = [Child("s-r1-100", "r1", 100), Child("s-r1-99", "r1", 99), Child("s-r1-1000", "r1", 1000)]
    assert [c.name for c in retention_plan(children, keep=1)] == ["s-r1-99", "s-r1-100"]
