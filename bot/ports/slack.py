"""The posting port: personas, what a post returns, and the three ways a post can fail.

The outbox talks to this Protocol only; `bot.slack.poster` is the adapter over slack_sdk, and
unit tests may use a small fake that records calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.roster.models import Crew, SlackIdentity


@dataclass(frozen=True)
class Persona:
    """How one role shows in Slack: a name and icon on the crew's bot, or its own bot token."""

    name: str
    icon_emoji: str | None = None
    icon_url: str | None = None
    token_setting: str | None = None  # the *name* of the setting holding the role's own token

    @classmethod
    def from_identity(cls, identity: SlackIdentity) -> Persona:
        icon_emoji, icon_url = identity.icon_emoji, identity.icon_url
        return cls(identity.username, icon_emoji, icon_url, identity.bot_token_env)


def personas_for(crew: Crew) -> dict[str, Persona]:
    """Role key → persona, for every role of the crew."""
    return {key: Persona.from_identity(role.slack) for key, role in crew.roles.items()}


@dataclass(frozen=True)
class Posted:
    """Where a message landed: Slack's channel id (the caller may have used a #name) and ts."""

    channel: str
    ts: str


@dataclass(frozen=True)
class PostMark:
    """What a post carries on Slack to be found again: its outbox key and text's revision."""

    key: str
    revision: int


@dataclass(frozen=True)
class Found:
    """A post of ours on Slack carrying a key: where it is and the revision it shows."""

    ts: str
    revision: int
    channel: str = ""  # Slack's channel id (the finder fills it in)


class PostError(Exception):
    """A post or update that did not happen; `reason` is what to tell the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(PostError):
    """HTTP 429: try this channel again after `retry_after` seconds (Slack's Retry-After)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"ratelimited; retry after {retry_after:g}s")
        self.retry_after = retry_after


class Unavailable(PostError):
    """Slack or the network failed this time (5xx, internal_error, a timeout): retry later."""


class Rejected(PostError):
    """Slack refused this message (channel_not_found, invalid_auth, ...): retrying won't help.

    `code` is Slack's error; `detail` what it added, e.g. the scope a token lacks.
    """

    def __init__(self, code: str, detail: Mapping[str, str] | None = None) -> None:
        self.code = code
        self.detail = dict(detail or {})
        extra = ", ".join(f"{key}: {value}" for key, value in self.detail.items())
        super().__init__(f"{code} ({extra})" if extra else code)


class Poster(Protocol):
    """Posts and edits messages as a persona; raises a PostError subclass when it cannot.

    A post and an edit carry their `mark` (outbox key and revision) on Slack; `find_posted`
    finds a post by its key, so a post whose earlier attempt is in doubt is not sent twice.
    """

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict] | None,
        persona: Persona | None,
        thread_ts: str | None,
        mark: PostMark | None = None,
    ) -> Posted: ...

    def update(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict] | None,
        persona: Persona | None,
        mark: PostMark | None = None,
    ) -> None: ...

    def find_posted(
        self,
        channel: str,
        key: str,
        *,
        persona: Persona | None,
        thread_ts: str | None,
        oldest: float | None,
    ) -> Found | None: ...


class SlackReplies(Protocol):
    """How the worker answers one person: a private message, or a modal."""

    def ephemeral(self, channel: str, user: str, text: str, blocks: list[dict] | None) -> None: ...

    def open_view(self, trigger_id: str, view: dict) -> str: ...
