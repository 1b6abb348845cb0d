"""Where the crew posts: pure functions from a topic or a role to a Slack channel.

A role's own channel wins, then the topic's, then the crew's `channel`. A crew with no
`[channels]` therefore posts everything in its one channel, and holds one standup there with
every role, as it always did. Runs, sprints, questions and standups all ask here.
"""

from __future__ import annotations

from bot.roster.models import Crew


def channel_for(crew: Crew, *, role: str | None = None, topic: str | None = None) -> str | None:
    """The channel of `role` if it has one, else of `topic`, else the crew's (None: no Slack)."""
    if role is not None and role in crew.channels.roles:
        return crew.channels.roles[role]
    if topic is not None and topic in crew.channels.topics:
        return crew.channels.topics[topic]
    return crew.channel


def run_channel(crew: Crew, *, owner: str | None = None) -> str | None:
    """Where a run's thread lives: its owning role's channel (the role that codes it; the crew's
    coder by default), else where code is discussed, else the crew's channel."""
    return channel_for(crew, role=owner or crew.steps["code"], topic="code")


def standup_channels(crew: Crew) -> tuple[str, ...]:
    """The channels that hold the standup: `[standup] channels` if set, else every channel a
    role reports in (the crew's own channel first)."""
    if crew.standup.channels:
        return crew.standup.channels
    found = [channel_for(crew, role=key) for key in crew.roles if key != crew.lead]
    channels = [crew.channel, *found] if crew.channel in found else found
    return tuple(dict.fromkeys(channel for channel in channels if channel))


def standup_roles(crew: Crew, channel: str) -> tuple[str, ...]:
    """The roles (other than the lead, who opens and sums up every standup) that report in
    `channel`'s standup: those whose channel it is, or the whole crew in a channel no role
    lives in (one named in `[standup] channels`, or given its own schedule)."""
    others = [key for key in crew.roles if key != crew.lead]
    living = tuple(key for key in others if channel_for(crew, role=key) == channel)
    return living or tuple(others)
