"""The emulated workspace: teams, users, channels, tokens and messages, as data with operations."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What a bot token of the default install may do; persona posts need chat:write.customize.
BOT_SCOPES = frozenset(
    {
        "chat:write",
        "chat:write.customize",
        "channels:read",
        "channels:history",
        "channels:join",
        "groups:read",
        "groups:history",
        "commands",
        "reactions:write",
        "users:read",
        "app_mentions:read",
    }
)


class SlackError(Exception):
    """A Web API error: `{"ok": false, "error": code, **extra}`, with HTTP 200 unless told."""

    def __init__(self, code: str, *, status: int = 200, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.extra = extra


@dataclass
class Team:
    id: str
    name: str
    domain: str
    enterprise_id: str | None = None
    enterprise_name: str | None = None


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    is_bot: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    email: str | None = None
    tz: str = "Europe/Amsterdam"
    deleted: bool = False


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_archived: bool = False
    is_general: bool = False
    topic: str = ""
    purpose: str = ""
    members: set[str] = field(default_factory=set)


@dataclass
class Token:
    value: str
    team_id: str
    user_id: str
    bot_id: str | None = None
    scopes: frozenset[str] = BOT_SCOPES
    revoked: bool = False


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str = ""
    bot_id: str | None = None
    app_id: str | None = None
    team: str = ""
    blocks: list[dict] | None = None
    attachments: list[dict] | None = None
    metadata: dict | None = None
    username: str | None = None
    icon_emoji: str | None = None
    icon_url: str | None = None
    thread_ts: str | None = None
    broadcast: bool = False
    client_msg_id: str | None = None  # set on messages typed by humans in a Slack client
    edited: tuple[str, str] | None = None  # (user, ts)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)  # reply ts, oldest first (parents only)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral:
    channel: str
    user: str
    message_ts: str
    text: str
    posted_by: str


@dataclass
class View:
    id: str
    team_id: str
    user_id: str
    app_id: str
    bot_id: str
    body: dict


class Workspace:
    """All emulated state; every method is synchronous and callers hold the emulator's lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.tokens: dict[str, Token] = {}
        self.messages: dict[str, dict[str, Message]] = {}  # channel -> ts -> message
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.triggers: dict[str, float] = {}  # trigger_id -> when issued (clock seconds)
        self.trigger_ttl = 3.0  # Slack's trigger_ids expire after three seconds
        self._last_micros = 0
        self._serial = 0

    # -- setup -------------------------------------------------------------------------
    def add_team(self, team: Team) -> Team:
        self.teams[team.id] = team
        return team

    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def add_channel(self, channel: Channel) -> Channel:
        self.channels[channel.id] = channel
        self.messages.setdefault(channel.id, {})
        return channel

    def add_token(self, token: Token) -> Token:
        self.tokens[token.value] = token
        return token

    def next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial:08X}"

    def next_ts(self) -> str:
        """A message timestamp: unique and increasing, like Slack's `seconds.micros` strings."""
        micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # -- lookups -----------------------------------------------------------------------
    def channel(self, team_id: str, channel_id: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None or channel.team_id != team_id:
            raise SlackError("channel_not_found")
        return channel

    def user(self, team_id: str, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None or user.team_id != team_id:
            raise SlackError("user_not_found")
        return user

    def message(self, channel_id: str, ts: str) -> Message:
        message = self.messages.get(channel_id, {}).get(ts)
        if message is None:
            raise SlackError("message_not_found")
        return message

    def find_channel(self, team_id: str, ref: str) -> Channel:
        """A channel by id or by name (with or without '#')."""
        for channel in self.channels.values():
            if channel.team_id == team_id and ref in (channel.id, channel.name, f"#{channel.name}"):
                return channel
        raise SlackError("channel_not_found")

    # -- operations --------------------------------------------------------------------
    def post(self, message: Message) -> Message:
        """Store a new message; a reply is linked to its parent (no replies to replies)."""
        if message.thread_ts is not None:
            parent = self.messages[message.channel].get(message.thread_ts)
            if parent is None:
                message.thread_ts = None  # Slack posts to the channel when the parent is unknown
            elif parent.is_reply:
                raise SlackError("cannot_reply_to_message")
        self.messages[message.channel][message.ts] = message
        if message.thread_ts is not None:
            parent = self.messages[message.channel][message.thread_ts]
            parent.thread_ts = parent.ts
            parent.replies.append(message.ts)
        return message

    def post_ephemeral(self, channel_id: str, user_id: str, text: str, posted_by: str) -> Ephemeral:
        ephemeral = Ephemeral(channel_id, user_id, self.next_ts(), text, posted_by)
        self.ephemerals.append(ephemeral)
        return ephemeral

    def top_level(self, channel_id: str) -> list[Message]:
        """What conversations.history lists: parents, posts and thread broadcasts, oldest first."""
        return [m for m in self.messages[channel_id].values() if not m.is_reply or m.broadcast]

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        parent = self.message(channel_id, ts)
        if parent.is_reply:
            parent = self.message(channel_id, parent.thread_ts or ts)
        replies = [self.messages[channel_id][reply] for reply in parent.replies]
        return [parent, *replies]

    def react(self, channel_id: str, ts: str, name: str, user_id: str) -> None:
        message = self.message(channel_id, ts)
        users = message.reactions.setdefault(name, [])
        if user_id in users:
            raise SlackError("already_reacted")
        users.append(user_id)

    def issue_trigger(self) -> str:
        trigger_id = f"{self.next_ts()}.{self._serial + 1:04d}.{self.next_id('').lower()}"
        self.triggers[trigger_id] = self.clock()
        return trigger_id

    def use_trigger(self, trigger_id: str) -> None:
        issued = self.triggers.get(trigger_id)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if self.clock() - issued > self.trigger_ttl:
            raise SlackError("expired_trigger_id")

    def remove_channel(self, channel_id: str) -> None:
        self.channels.pop(channel_id, None)
