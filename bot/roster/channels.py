"""The crew file's `[channels]`: which Slack channel a topic or a role posts in.

Only crew.toml sets it (a repository's `.repocrew.toml` may not move the crew's posts, as it may
not set `channel`). Unset, every post goes to the crew's `channel`, as before there were topics.
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from bot.roster.validation import Problems, RosterModel, problems_error

# What a post can be about. A closed set, so a misspelt topic is an error rather than a channel
# nobody reads: each is the word the code routes by (`bot.roster.routing.channel_for`).
TOPICS = {
    "sprint": "sprint announcements: the plan, the review and the retrospective",
    "code": "coding and fixing; where a run's thread goes when its owner has no channel",
    "review": "reviews and votes",
    "tests": "test runs and their results",
    "devops": "CI, builds and infrastructure",
    "deployment": "deploys and releases",
    "docs": "documentation and copy",
    "questions": "questions between roles, and to the humans, outside a run's thread",
}
# A channel as Slack knows it: "#name" (lower case, digits, - and _) or an id like C0123ABCD.
CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,})$")


class ChannelsConfig(RosterModel):
    """Topic → channel and role → channel; what is not routed goes to the crew's channel."""

    topics: dict[str, str] = Field(default_factory=dict)
    # Where a role's runs get their thread and where it reports at the standup.
    roles: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_topics_and_channels(self) -> ChannelsConfig:
        problems: Problems = []
        for topic, channel in self.topics.items():
            if topic not in TOPICS:
                message = f"unknown topic {topic!r} (topics: {', '.join(TOPICS)})"
                problems.append((("topics", topic), message))
            elif not CHANNEL.fullmatch(channel):
                problems.append((("topics", topic), _bad_channel(channel)))
        # That the role keys are roles is checked by the Crew, which knows them.
        for role, channel in self.roles.items():
            if not CHANNEL.fullmatch(channel):
                problems.append((("roles", role), _bad_channel(channel)))
        if problems:
            raise problems_error("ChannelsConfig", problems)
        return self

    @property
    def routed(self) -> bool:
        """Whether anything goes elsewhere than the crew's channel."""
        return bool(self.topics or self.roles)


def _bad_channel(channel: str) -> str:
    return f'must be a channel like "#devops" or a channel id (got {channel!r})'
