"""Posting and editing as the crew's personas, over slack_sdk (calls go through `web.py`).

It never sleeps on a rate limit: a 429 becomes `RateLimited(retry_after)` so the outbox can
park that channel and serve the others. Failures are sorted into the port's three kinds.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient

from bot.ports.slack import Found, Persona, Posted, PostMark, Rejected
from bot.settings import SLACK_API_URL, Settings
from bot.slack.post_marks import find_mark, post_metadata
from bot.slack.web import call as _call
from bot.slack.web import header, messages

log = logging.getLogger(__name__)

PERSONA_SCOPE = "chat:write.customize"
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
MAX_BLOCKS = 50
# Refusals that mean the post cannot be there: not in the channel, no such channel or thread.
NOT_THERE = frozenset({"not_in_channel", "channel_not_found", "thread_not_found"})


class SlackPoster:
    """Posts through slack_sdk with the crew's token, or a role's own token when it has one.

    Without `chat:write.customize` Slack refuses `username`/`icon_*` (missing_scope); the
    poster then remembers, for that token, to post as the plain bot with the persona named in
    the text, e.g. "*Planner:* the plan is ready".
    """

    def __init__(
        self,
        *,
        token: str,
        base_url: str = SLACK_API_URL,
        tokens: Mapping[str, str] | None = None,
        timeout: int = 30,
    ) -> None:
        self._token = token
        self._tokens = dict(tokens or {})
        self._base_url = base_url
        self._timeout = timeout
        self._clients: dict[str, WebClient] = {}
        self._plain: set[str] = set()  # tokens found to lack chat:write.customize
        self._channel_ids: dict[str, str] = {}
        self._who: dict[str, dict[str, str]] = {}  # token → its auth.test identity

    def falls_back(self, persona: Persona | None = None) -> bool:
        """Whether posts as `persona` go out as the plain bot with the name in the text."""
        return self._token_for(persona) in self._plain

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict] | None,
        persona: Persona | None,
        thread_ts: str | None,
        mark: PostMark | None = None,
    ) -> Posted:
        token = self._token_for(persona)
        client = self._client(token)
        joined = False
        while True:
            args = self._content(token, text, blocks, persona, persona_fields=True)
            args["metadata"] = post_metadata(mark) if mark else None
            # Slack fetches bare links to preview them; a model-written URL must not be fetched.
            args |= {"unfurl_links": False, "unfurl_media": False}
            try:
                response = _call(
                    client.chat_postMessage, channel=channel, thread_ts=thread_ts, **args
                )
            except Rejected as refused:
                if self._persona_refused(token, refused, args):
                    continue
                if refused.code == "not_in_channel" and not joined:
                    self._join(client, channel)
                    joined = True
                    continue
                raise
            return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(
        self,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict] | None,
        persona: Persona | None,
        mark: PostMark | None = None,
    ) -> None:
        # Only the token that posted a message may edit it, so the persona picks the token.
        token = self._token_for(persona)
        args = self._content(token, text, blocks, persona, persona_fields=False)
        args["metadata"] = post_metadata(mark) if mark else None  # None keeps the old one
        # An empty list clears blocks the earlier version had; None would keep them.
        args["blocks"] = args.get("blocks") or []
        _call(self._client(token).chat_update, channel=channel, ts=ts, **args)

    # -- answering a person ------------------------------------------------------------
    def ephemeral(self, channel: str, user: str, text: str, blocks: list[dict] | None) -> None:
        """A message only `user` sees in `channel` (answers to a slash command or a click)."""
        _call(
            self._client(self._token).chat_postEphemeral,
            channel=channel,
            user=user,
            text=text,
            blocks=blocks,
        )

    def open_view(self, trigger_id: str, view: dict) -> str:
        """Open a modal for the person whose click carried `trigger_id`; returns the view id."""
        response = _call(self._client(self._token).views_open, trigger_id=trigger_id, view=view)
        return str(response["view"]["id"])

    def auth_test(self, token: str | None = None) -> dict[str, str]:
        """Who the crew's token is (Slack's auth.test), and `scopes`: the scopes Slack says it
        was granted (its `x-oauth-scopes` header). `repocrew doctor` checks it with this."""
        response = _call(self._client(token or self._token).auth_test)
        fields = ("team", "team_id", "user", "user_id", "bot_id")
        who = {key: str(response[key]) for key in fields if response.get(key)}
        scopes = header(response, "x-oauth-scopes")
        if scopes is not None:
            who["scopes"] = scopes
        return who

    # -- finding a post an earlier attempt may have made -------------------------------
    def find_posted(
        self,
        channel: str,
        key: str,
        *,
        persona: Persona | None,
        thread_ts: str | None,
        oldest: float | None,
    ) -> Found | None:
        """Our post carrying `key` in `thread_ts`'s replies (or the channel's history since
        `oldest`), if an earlier attempt left one; None when it is not there to be found.

        Raises `Unavailable`/`RateLimited` (look again later) and, for a token that may not
        read history, `Rejected` with `missing_scope`.
        """
        token = self._token_for(persona)
        client = self._client(token)
        who = self._who.get(token) or self._who.setdefault(token, self.auth_test(token))
        ours = {"bot_id": who.get("bot_id"), "user_id": who.get("user_id")}
        try:
            channel_id = self._channel_id(client, channel, private=True)
            if thread_ts is not None:
                try:
                    thread = messages(client.conversations_replies, channel_id, ts=thread_ts)
                    return _in(channel_id, find_mark(thread, key, **ours))
                except Rejected as refused:
                    if refused.code != "thread_not_found":  # else Slack posted it unthreaded
                        raise
            since = f"{oldest:.6f}" if oldest is not None else None
            history = messages(client.conversations_history, channel_id, oldest=since)
            return _in(channel_id, find_mark(history, key, **ours))
        except Rejected as refused:
            if refused.code in NOT_THERE:
                return None
            raise

    # -- helpers -----------------------------------------------------------------------
    def _token_for(self, persona: Persona | None) -> str:
        if persona is None or persona.token_setting is None:
            return self._token
        own = self._tokens.get(persona.token_setting)
        if own:
            return own
        log.warning(
            "%s has no token in %s; posting as the crew's bot", persona.name, persona.token_setting
        )
        return self._token

    def _client(self, token: str) -> WebClient:
        if token not in self._clients:
            # No SDK retries: they sleep in the worker; the outbox retries on its own schedule.
            self._clients[token] = WebClient(
                token=token, base_url=self._base_url, timeout=self._timeout, retry_handlers=[]
            )
        return self._clients[token]

    def _content(
        self,
        token: str,
        text: str,
        blocks: list[dict] | None,
        persona: Persona | None,
        *,
        persona_fields: bool,
    ) -> dict[str, Any]:
        if persona is None:
            return {"text": text, "blocks": blocks}
        if token in self._plain:
            return {"text": f"*{persona.name}:* {text}", "blocks": _named(blocks, persona)}
        if not persona_fields:
            return {"text": text, "blocks": blocks}
        return {
            "text": text,
            "blocks": blocks,
            "username": persona.name,
            "icon_emoji": persona.icon_emoji,
            "icon_url": persona.icon_url,
        }

    def _persona_refused(self, token: str, refused: Rejected, args: dict[str, Any]) -> bool:
        if refused.code != "missing_scope" or "username" not in args or token in self._plain:
            return False
        if PERSONA_SCOPE not in refused.detail.get("needed", PERSONA_SCOPE):
            return False
        log.warning("the Slack token lacks %s; personas are named in the text", PERSONA_SCOPE)
        self._plain.add(token)
        return True

    def _join(self, client: WebClient, channel: str) -> None:
        try:
            _call(client.conversations_join, channel=self._channel_id(client, channel))
        except Rejected as refused:
            raise Rejected("not_in_channel", {"join": refused.reason}) from refused

    def _channel_id(self, client: WebClient, channel: str, *, private: bool = False) -> str:
        """conversations.join wants an id; the roster may name the channel ("#crew").
        `private`: look among the private channels the bot is in too (reading history)."""
        if CHANNEL_ID.match(channel):
            return channel
        name = channel.removeprefix("#")
        if name not in self._channel_ids:
            cursor = None
            while True:
                page = _call(
                    client.conversations_list,
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                    types="public_channel,private_channel" if private else "public_channel",
                )
                for found in page["channels"]:
                    self._channel_ids[found["name"]] = found["id"]
                cursor = page.get("response_metadata", {}).get("next_cursor")
                if name in self._channel_ids or not cursor:
                    break
        if name not in self._channel_ids:
            raise Rejected("channel_not_found")
        return self._channel_ids[name]


def _named(blocks: list[dict] | None, persona: Persona) -> list[dict] | None:
    """Blocks with a context line naming the persona, for posts that cannot wear it."""
    if not blocks or len(blocks) >= MAX_BLOCKS:
        return blocks
    label = f"{persona.icon_emoji} *{persona.name}*" if persona.icon_emoji else f"*{persona.name}*"
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": label}]}, *blocks]


def _in(channel_id: str, found: Found | None) -> Found | None:
    return dataclasses.replace(found, channel=channel_id) if found else None


def make_poster(settings: Settings, *, tokens: Mapping[str, str] | None = None) -> SlackPoster:
    """The poster for these settings; `tokens` maps a role's `bot_token_env` name to its token."""
    if settings.slack_bot_token is None:
        raise ValueError("REPOCREW_SLACK_BOT_TOKEN is not set; the crew cannot post to Slack")
    return SlackPoster(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        tokens=tokens,
    )
