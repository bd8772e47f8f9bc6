"""Schedule maths for SnapshotSchedule, all in UTC and free of I/O: cron expressions (5 fields,
Vixie cron semantics), named schedules, `@every <duration>` intervals aligned to the Unix epoch,
which slot is due, and which Snapshot objects retention removes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
MIN_INTERVAL = dt.timedelta(seconds=5)
# Searching beyond this many years means the expression never matches (e.g. 30 February).
SEARCH_YEARS = 8

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_NAMED = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ScheduleError(ValueError):
    """The schedule string cannot be understood; the message names the part."""


class Schedule(Protocol):
    def next_after(self, when: dt.datetime) -> dt.datetime | None:
        """The first slot strictly after `when`."""
        ...

    def latest_at_or_before(self, when: dt.datetime) -> dt.datetime | None:
        """The last slot at or before `when`."""
        ...


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


FIELDS = (
    Field("minute", 0, 59),
    Field("hour", 0, 23),
    Field("day-of-month", 1, 31),
    Field("month", 1, 12, tuple(_MONTHS), 1),
    Field("day-of-week", 0, 7, tuple(_DAYS), 0),
)


def _value(text: str, field: Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names.index(lowered) + field.name_base
    if not text.isdigit():
        raise ScheduleError(f"{field.name}: {text!r} is not a number" + (" or name" if field.names else ""))
    number = int(text)
    if not field.low <= number <= field.high:
        raise ScheduleError(f"{field.name}: {number} is outside {field.low}-{field.high}")
    return number


def parse_field(text: str, field: Field) -> frozenset[int]:
    """One cron field: `*`, `?`, numbers, names, ranges `a-b`, steps `*/n` `a-b/n` `a/n`, lists."""
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ScheduleError(f"{field.name}: empty list entry in {text!r}")
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"{field.name}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if base in ("*", "?"):
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, field), _value(last, field)
            if low > high:
                raise ScheduleError(f"{field.name}: range {base!r} runs backwards")
        else:
            low = _value(base, field)
            high = field.high if slash else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """A 5-field cron expression in UTC. As in Vixie cron, when both day fields are restricted a
    day matches if either does; day-of-week 7 is Sunday."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise ScheduleError(
                f"a cron schedule has 5 fields (minute hour day month weekday), got {len(parts)}"
            )
        minutes, hours, days, months, weekdays = (
            parse_field(p, f) for p, f in zip(parts, FIELDS, strict=True)
        )
        return cls(
            minutes=minutes,
            hours=hours,
            days=days,
            months=months,
            weekdays=frozenset(d % 7 for d in weekdays),
            any_day=parts[2] in ("*", "?"),
            any_weekday=parts[4] in ("*", "?"),
        )

    def day_matches(self, day: dt.date) -> bool:
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, when: dt.datetime) -> dt.datetime | None:
        t = when.astimezone(UTC).replace(second=0, microsecond=0) + MINUTE
        limit = t.year + SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = _first_of_next_month(t)
            elif not self.day_matches(t.date()):
                t = t.replace(hour=0, minute=0) + dt.timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + dt.timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += MINUTE
            else:
                return t
        return None

    def latest_at_or_before(self, when: dt.datetime) -> dt.datetime | None:
        t = when.astimezone(UTC).replace(second=0, microsecond=0)
        limit = t.year - SEARCH_YEARS
        while t.year >= limit:
            if t.month not in self.months:
                t = t.replace(day=1, hour=0, minute=0) - MINUTE
            elif not self.day_matches(t.date()):
                t = t.replace(hour=0, minute=0) - MINUTE
            elif t.hour not in self.hours:
                t = t.replace(minute=0) - MINUTE
            elif t.minute not in self.minutes:
                t -= MINUTE
            else:
                return t
        return None


def _first_of_next_month(t: dt.datetime) -> dt.datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=1, hour=0, minute=0)


@dataclass(frozen=True)
class Every:
    """`@every <duration>`: slots at whole multiples of the interval since the Unix epoch, so the
    slots are the same whenever and wherever the operator starts."""

    seconds: int

    def next_after(self, when: dt.datetime) -> dt.datetime:
        epoch = int(when.timestamp()) // self.seconds * self.seconds + self.seconds
        return dt.datetime.fromtimestamp(epoch, UTC)

    def latest_at_or_before(self, when: dt.datetime) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(when.timestamp()) // self.seconds * self.seconds, UTC)


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ScheduleError(f"@every needs a duration such as 30s, 5m or 1h30m, got {text!r}")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)


def parse_schedule(text: str) -> Schedule:
    text = text.strip()
    if text.startswith("@every"):
        interval = parse_duration(text[len("@every") :])
        if interval < MIN_INTERVAL:
            raise ScheduleError(f"@every interval {interval} is shorter than {MIN_INTERVAL.seconds}s")
        return Every(int(interval.total_seconds()))
    if text.startswith("@"):
        if text.lower() not in _NAMED:
            raise ScheduleError(
                f"unknown schedule {text!r} (@hourly, @daily, @weekly, @monthly, @yearly, @every)"
            )
        return Cron.parse(_NAMED[text.lower()])
    return Cron.parse(text)


# ------------------------------------------------------------------------------- slots


def due_slot(
    schedule: Schedule, now: dt.datetime, last: dt.datetime | None, created: dt.datetime
) -> dt.datetime | None:
    """The slot to run now, if any: the newest slot at or before `now` that is later than the last
    one run and not before the schedule existed. After downtime this is one catch-up run for the
    newest missed slot, never one run per missed slot."""
    slot = schedule.latest_at_or_before(now)
    if slot is None or slot < created.replace(microsecond=0):
        return None
    if last is not None and slot <= last:
        return None
    return slot


def slot_epoch(slot: dt.datetime) -> int:
    return int(slot.timestamp())


def format_time(when: dt.datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# ------------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class Child:
    """A Snapshot object the schedule created."""

    name: str
    resource: str
    slot: int


def retention_plan(children: Iterable[Child], keep: int) -> list[Child]:
    """The children to delete: per resource, all but the `keep` newest slots."""
    by_resource: dict[str, list[Child]] = {}
    for child in children:
        by_resource.setdefault(child.resource, []).append(child)
    doomed: list[Child] = []
    for items in by_resource.values():
        items.sort(key=lambda c: (c.slot, c.name), reverse=True)
        doomed.extend(items[keep:])
    return sorted(doomed, key=lambda c: (c.resource, c.slot, c.name))
