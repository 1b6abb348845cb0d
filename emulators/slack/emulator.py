"""`SlackEmulator`: workspace, Web API dispatcher, fault injection, requests to the app."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import outbound
from .defaults import (
    BOT_USER,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TOKEN,
    HUMAN,
    TEAM,
    seed_default,
)
from .deliveries import AppDeliveries
from .methods import METHODS, SCOPES, Call
from .ratelimit import Limited, Policy, RateLimiter
from .state import BOT_SCOPES, Channel, SlackError, Token, Workspace
from .transcript import ChannelTranscript, build_transcript, render_transcript

__all__ = ["DEFAULT_SIGNING_SECRET", "DEFAULT_TOKEN", "Recorded", "Reply", "SlackEmulator"]


@dataclass(frozen=True)
class Reply:
    """What the HTTP layer sends back: status, JSON body, headers."""

    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    method: str
    args: dict
    status: int
    error: str | None


class SlackEmulator(AppDeliveries):
    """A local Slack: serve it with `create_app(emulator)`, drive and inspect it from Python."""

    def __init__(
        self,
        *,
        app_url: str | None = None,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        rate_limits: dict[str, Policy] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        seed: bool = True,
    ) -> None:
        self.lock = threading.RLock()
        self.workspace = Workspace(clock)
        self.limiter = RateLimiter(clock=monotonic)
        if rate_limits is not None:
            self.limiter.policies.update(rate_limits)
        self.signing_secret = signing_secret
        self.app_url = app_url
        self.calls: list[Recorded] = []
        self.deliveries: list[outbound.Delivery] = []
        if seed:
            seed_default(self.workspace)

    # -- the Web API -------------------------------------------------------------------
    def dispatch(self, method: str, token: str | None, args: dict) -> Reply:
        with self.lock:
            reply = self._dispatch(method, token, args)
            error = None if reply.body.get("ok") else reply.body.get("error")
            self.calls.append(Recorded(method, dict(args), reply.status, error))
            return reply

    def _dispatch(self, method: str, token: str | None, args: dict) -> Reply:
        handler = METHODS.get(method)
        if handler is None:
            return Reply(200, {"ok": False, "error": "unknown_method", "req_method": method})
        scopes: dict[str, str] = {}
        try:
            call = Call(self._authenticate(token, method), args)
            # Slack names the token's scopes, and those the method accepts, on every answer.
            scopes = {
                "x-oauth-scopes": ",".join(sorted(call.token.scopes)),
                "x-accepted-oauth-scopes": ",".join(sorted(SCOPES.get(method, ()))),
            }
            limited = self.limiter.check(method, args)
            if limited is not None:
                headers = {"Retry-After": str(limited.retry_after), **scopes}
                return Reply(429, {"ok": False, "error": "ratelimited"}, headers)
            return Reply(200, {"ok": True, **handler(self.workspace, call)}, scopes)
        except SlackError as error:
            body = {"ok": False, "error": error.code, **error.extra}
            return Reply(error.status, body, scopes)

    def _authenticate(self, value: str | None, method: str) -> Token:
        if not value:
            raise SlackError("not_authed")
        token = self.workspace.tokens.get(value)
        if token is None:
            raise SlackError("invalid_auth")
        if token.revoked:
            raise SlackError("token_revoked")
        needed = SCOPES.get(method)
        if needed and not needed & token.scopes:
            raise SlackError(
                "missing_scope",
                needed=",".join(sorted(needed)),
                provided=",".join(sorted(token.scopes)),
            )
        return token

    # -- setup and faults --------------------------------------------------------------
    def add_token(self, value: str, *, scopes: Iterable[str] = BOT_SCOPES, user: str = BOT_USER):
        """Another token for an existing user, e.g. one without `chat:write.customize`."""
        with self.lock:
            owner = self.workspace.users[user]
            token = Token(value, owner.team_id, owner.id, owner.bot_id, frozenset(scopes))
            return self.workspace.add_token(token)

    def add_channel(self, name: str, *, members: Iterable[str] = (HUMAN,), private: bool = False):
        with self.lock:
            channel = Channel(self.workspace.next_id("C"), TEAM, name, int(time.time()), HUMAN)
            channel.is_private = private
            channel.members |= set(members)
            return self.workspace.add_channel(channel)

    def channel(self, ref: str, team_id: str = TEAM) -> Channel:
        """A channel by id or name (`"#crew"`, `"crew"`, `"C0002"`)."""
        return self.workspace.find_channel(team_id, ref)

    def join(self, channel: str, user: str = BOT_USER) -> None:
        with self.lock:
            self.channel(channel).members.add(user)

    def force_rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with `Retry-After: retry_after`."""
        with self.lock:
            self.limiter.force(method, times, retry_after)

    def revoke_token(self, value: str = DEFAULT_TOKEN) -> None:
        """Calls with this token now fail with `token_revoked`."""
        with self.lock:
            self.workspace.tokens[value].revoked = True

    def restore_token(self, value: str = DEFAULT_TOKEN) -> None:
        """A revoked token works again (as a reinstalled app's new token would)."""
        with self.lock:
            self.workspace.tokens[value].revoked = False

    def remove_channel(self, channel: str) -> None:
        """The channel disappears: calls naming it fail with `channel_not_found`."""
        with self.lock:
            self.workspace.remove_channel(self.channel(channel).id)

    def issue_trigger(self) -> str:
        """A fresh trigger_id for views.open, as a slash command or a click would carry."""
        with self.lock:
            return self.workspace.issue_trigger()

    @property
    def rate_limited(self) -> list[Limited]:
        """Every call answered with 429, in order."""
        with self.lock:
            return list(self.limiter.refusals)

    # -- reading what happened ---------------------------------------------------------
    def transcript(self) -> list[ChannelTranscript]:
        with self.lock:
            return build_transcript(self.workspace)

    def channel_transcript(self, channel: str) -> ChannelTranscript:
        wanted = self.channel(channel).id
        return next(t for t in self.transcript() if t.id == wanted)

    def render_transcript(self) -> str:
        return render_transcript(self.transcript())
