"""Five-field cron schedules ("0 9 * * 1-5") and IANA time zones, checked with clear errors.

cronsim reads and evaluates the schedule (the domain may not import APScheduler); this module
answers the standup's three questions: does the schedule fire on this day, which earlier day
fired last, and did it fire between two instants. cronsim says only "Bad minute", so a schedule
it refuses is looked at once more, piece by piece, to tell the human what to write instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

FORMAT = '"minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5"'
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_RANGES = ("0-59", "0-23", "1-31", "1-12", "0-7")
# Looking back for the previous firing day: a "29 feb" schedule fires every four years.
MAX_LOOKBACK_DAYS = 4 * 366 + 1
_SECOND = timedelta(seconds=1)
_SOME_TIME = datetime(2000, 1, 1)


class CronError(ValueError):
    """A schedule or time zone that cannot be used; str() says what to write instead."""


@dataclass(frozen=True)
class Cron:
    """A schedule cronsim accepts, in single spaces; cron's rules are cronsim's.

    Day of week 0 and 7 are both Sunday; when day of month and day of week are both
    restricted (neither starts with `*`), the schedule fires on a day either matches.
    """

    text: str

    @property
    def minutes(self) -> frozenset[int]:
        """The minutes of the hour it fires at."""
        return frozenset(CronSim(self.text, _SOME_TIME).minutes)

    def fires_on(self, day: date) -> bool:
        """Whether the schedule fires at some time of `day`."""
        # Naive times: a calendar day has no time zone, and cronsim's DST rules stay out of it.
        first = next(CronSim(self.text, datetime.combine(day, time()) - _SECOND), None)
        return first is not None and first.date() == day

    def previous_day(self, day: date) -> date | None:
        """The last day before `day` on which the schedule fires (None: not for four years)."""
        last = next(CronSim(self.text, datetime.combine(day, time()), reverse=True), None)
        if last is None or (day - last.date()).days > MAX_LOOKBACK_DAYS:
            return None
        return last.date()

    def fired_between(self, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
        """Whether the schedule fired at a minute in [start, end], read on `zone`'s clocks.

        cronsim keeps Debian cron's DST rules for a fixed time of day: a time the clocks skip
        fires when they resume, and a time they repeat fires once, the first time.
        """
        # cronsim drops microseconds and yields times after the one given: from a second back,
        # a firing at `start` itself is the first; one just before it is skipped below, as is
        # one in a repeated hour, which local clocks put before an instant already past.
        for firing in CronSim(self.text, (start - _SECOND).astimezone(zone)):
            if firing > end:
                return False
            if firing >= start:
                return True
        return False


def parse_cron(text: str) -> Cron:
    """Parse a five-field schedule; CronError names the field that is wrong."""
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"{text!r} is not a cron schedule: it needs five fields, {FORMAT}")
    if not _accepts(parts):
        raise CronError(f"{text!r}: {_what_is_wrong(parts)}; {FORMAT}")
    return Cron(" ".join(parts))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Berlin; CronError when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin or UTC"
        raise CronError(message) from None


def _accepts(parts: list[str]) -> bool:
    try:
        CronSim(" ".join(parts), _SOME_TIME)
    except CronSimError:
        return False
    return True


def _accepts_in(index: int, item: str) -> bool:
    """Whether cronsim takes `item` as field `index` of an otherwise unrestricted schedule."""
    parts = ["0", "0", "*", "*", "*"]
    parts[index] = item
    return bool(item) and _accepts(parts)


def _what_is_wrong(parts: list[str]) -> str:
    """The first piece cronsim refuses on its own, said in words (cronsim has decided)."""
    for index, part in enumerate(parts):
        for item in part.split(","):
            if not _accepts_in(index, item):
                return _item_problem(index, item)
    return f"day of month {parts[2]!r} never comes in month {parts[3]!r}, so it would never fire"


def _item_problem(index: int, item: str) -> str:
    name = _FIELDS[index]
    span, slash, step = item.partition("/")
    if slash and not _accepts_in(index, f"*/{step}"):
        if step.isascii() and step.isdigit():
            return f"a {name} step must be at least 1"
        return f"{step!r} is not a valid {name} step"
    words = [] if span == "*" else span.split("-")
    for word in words:
        if not _accepts_in(index, word):
            if word.isascii() and word.isdigit():
                return f"{name} {int(word)} is out of range {_RANGES[index]}"
            return f"{word!r} is not a valid {name}"
    if len(words) == 2 and _accepts_in(index, f"{words[1]}-{words[0]}"):
        return f"{name} range {span!r} runs backwards"
    return f"{item!r} is not a valid {name}"
