"""Five-field cron schedules ("0 9 * * 1-5") and IANA time zones, parsed with clear errors.

The domain may not import APScheduler, and a standup needs only three questions answered:
does the schedule fire at this local minute, on this day, and which earlier day fired last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMAT = '"minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5"'
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
WEEKDAYS = "sun mon tue wed thu fri sat".split()
# Looking back for the previous firing day: a "29 feb" schedule fires every four years.
MAX_LOOKBACK_DAYS = 4 * 366 + 1


class CronError(ValueError):
    """A schedule or time zone that cannot be used; str() says what to write instead."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, tuple(MONTHS), 1),
    _Field("day of week", 0, 7, tuple(WEEKDAYS), 0),
)


@dataclass(frozen=True)
class Cron:
    """A parsed schedule; day of week 0 and 7 are both Sunday, as in cron."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    any_day: bool  # day of month was "*"
    any_weekday: bool  # day of week was "*"

    def fires_on(self, day: date) -> bool:
        """Whether the schedule fires at some time of `day` (cron's day-of-month OR weekday)."""
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday  # both restricted: cron fires when either matches

    def matches(self, local: datetime) -> bool:
        """Whether the schedule fires at this wall-clock minute."""
        return local.minute in self.minutes and local.hour in self.hours and self.fires_on(local)

    def previous_day(self, day: date) -> date | None:
        """The last day before `day` on which the schedule fires (None: it never does)."""
        for back in range(1, MAX_LOOKBACK_DAYS + 1):
            earlier = day - timedelta(days=back)
            if self.fires_on(earlier):
                return earlier
        return None

    def fired_between(self, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
        """Whether the schedule fired at a minute in [start, end], read on `zone`'s clocks."""
        minute = start.replace(second=0, microsecond=0)
        if minute < start:
            minute += timedelta(minutes=1)
        while minute <= end:
            if self.matches(minute.astimezone(zone)):
                return True
            minute += timedelta(minutes=1)
        return False


def parse_cron(text: str) -> Cron:
    """Parse a five-field schedule; CronError names the field that is wrong."""
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"{text!r} is not a cron schedule: it needs five fields, {FORMAT}")
    values = [_parse_field(part, spec, text) for part, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(day % 7 for day in values[4])
    return Cron(
        text=" ".join(parts),
        minutes=values[0],
        hours=values[1],
        days=values[2],
        months=values[3],
        weekdays=weekdays,
        any_day=parts[2] == "*",
        any_weekday=parts[4] == "*",
    )


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Berlin; CronError when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin or UTC"
        raise CronError(message) from None


def _parse_field(part: str, spec: _Field, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        values |= _parse_item(item, spec, text)
    return frozenset(values)


def _parse_item(item: str, spec: _Field, text: str) -> set[int]:
    span, _, step_text = item.partition("/")
    step = _number(step_text, spec, text, step=True) if step_text else 1
    if span == "*":
        low, high = spec.low, spec.high
    elif "-" in span:
        first, _, last = span.partition("-")
        low, high = _number(first, spec, text), _number(last, spec, text)
        if low > high:
            raise CronError(f"{text!r}: {spec.name} range {span!r} runs backwards; {FORMAT}")
    else:
        low = _number(span, spec, text)
        high = spec.high if step_text else low  # "5/15" means from 5 on, every 15
    return set(range(low, high + 1, step))


def _number(word: str, spec: _Field, text: str, *, step: bool = False) -> int:
    lowered = word.lower()
    if not step and lowered in spec.names:
        return spec.names.index(lowered) + spec.name_base
    if not (word.isascii() and word.isdigit()):
        raise CronError(f"{text!r}: {word!r} is not a valid {spec.name}; {FORMAT}")
    value = int(word)
    if step:
        if value < 1:
            raise CronError(f"{text!r}: a {spec.name} step must be at least 1")
        return value
    if not spec.low <= value <= spec.high:
        raise CronError(
            f"{text!r}: {spec.name} {value} is out of range {spec.low}-{spec.high}; {FORMAT}"
        )
    return value
