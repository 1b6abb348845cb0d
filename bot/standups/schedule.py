"""Which channels hold a standup, when, and which span of time "yesterday" covers.

crew.toml's `[standup]` gives every channel of the crew its schedule (the channels its roles
report in, `bot.roster.routing`); a channel's own row (`/crew standup schedule`) wins, and a
channel with a row holds standups even if crew.toml does not name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.roster.cron import Cron, CronError, parse_cron, parse_zone
from bot.roster.models import Crew
from bot.roster.routing import standup_channels
from bot.store.channels import channel_name_of
from bot.store.engine import Engine
from bot.store.schedules import save_schedule, saved_schedules


class ScheduleError(ValueError):
    """A schedule the command cannot set; str() is the answer to show in Slack."""


@dataclass(frozen=True)
class Schedule:
    channel: str
    cron: Cron
    zone: ZoneInfo

    @property
    def timezone(self) -> str:
        return self.zone.key

    def local_day(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def window(self, day: date) -> tuple[datetime, datetime]:
        """[start, end) in UTC that the standup of `day` reports as "yesterday".

        From the start of the previous day the schedule fires to the start of `day`, on the
        channel's clocks: Monday's standup (Mon–Fri) covers Friday and the weekend, so the
        windows of consecutive standups meet and no work is reported twice or never.
        """
        previous = self.cron.previous_day(day) or day - timedelta(days=1)
        return self._midnight(previous), self._midnight(day)

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(ZoneInfo("UTC"))


def make_schedule(channel: str, cron: str, timezone: str) -> Schedule:
    """A validated schedule; ScheduleError says what is wrong and what to write instead."""
    try:
        return Schedule(channel, parse_cron(cron), parse_zone(timezone))
    except CronError as error:
        raise ScheduleError(str(error)) from None


def channel_name(engine: Engine, channel: str) -> str:
    """The channel as the crew names it ("#crew") when given Slack's id of it ("C0002").

    Slack commands and events carry ids, crew.toml names; one channel must have one standup a
    day however it is named. The outbox learns each name's id on its first post there.
    """
    return channel_name_of(engine, channel_id=channel) or channel


def set_schedule(engine: Engine, *, channel: str, cron: str, timezone: str) -> Schedule:
    """Give `channel` its own standup time: `/crew standup schedule "0 9 * * 1-5" Europe/Berlin`.

    Both values are checked first; ScheduleError's message is the answer for the command.
    """
    schedule = make_schedule(channel_name(engine, channel), cron, timezone)
    save_schedule(engine, channel=schedule.channel, cron=schedule.cron.text, timezone=timezone)
    return schedule


def schedules(engine: Engine, crew: Crew) -> list[Schedule]:
    """Every channel that holds standups, with its schedule (the crew's channels first)."""
    channels = list(standup_channels(crew))
    own = _own_schedules(engine)
    channels += sorted(channel for channel in own if channel not in channels)
    return [own.get(channel) or _crew_schedule(crew, channel) for channel in channels]


def schedule_for(engine: Engine, crew: Crew, channel: str) -> Schedule:
    """The schedule of one channel: its own row, else crew.toml's."""
    return _own_schedules(engine).get(channel) or _crew_schedule(crew, channel)


def _crew_schedule(crew: Crew, channel: str) -> Schedule:
    return make_schedule(channel, crew.standup.cron, crew.standup.timezone)


def _own_schedules(engine: Engine) -> dict[str, Schedule]:
    rows = saved_schedules(engine)
    return {row.channel: make_schedule(row.channel, row.cron, row.timezone) for row in rows}
