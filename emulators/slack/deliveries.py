"""What Slack sends to the app: slash commands, events (and their retries), interactions."""

from __future__ import annotations

import threading
import uuid

import httpx

from . import outbound
from .defaults import APP, BOT_USER, HUMAN, TEAM, VERIFICATION_TOKEN
from .state import Channel, Message, Workspace


class AppDeliveries:
    """The app-facing half of `SlackEmulator`: requests to `app_url`, signed with its secret."""

    lock: threading.RLock
    workspace: Workspace
    app_url: str | None
    signing_secret: str
    deliveries: list[outbound.Delivery]

    def channel(self, ref: str, team_id: str = TEAM) -> Channel:
        raise NotImplementedError

    def _outbound(self) -> outbound.Outbound:
        if not self.app_url:
            raise RuntimeError("set SlackEmulator.app_url before delivering requests to the app")
        return outbound.Outbound(self.app_url, self.signing_secret)

    def deliver(
        self, delivery: outbound.Delivery, *, timestamp: int | None = None
    ) -> httpx.Response:
        self.deliveries.append(delivery)
        return self._outbound().send(delivery, timestamp=timestamp)

    def send_command(
        self, text: str, *, command: str = "/crew", channel: str = "#crew", user: str = HUMAN
    ) -> httpx.Response:
        """A slash command typed by `user` in `channel`."""
        with self.lock:
            found, team = self.channel(channel), self.workspace.teams[TEAM]
            fields = {
                "token": VERIFICATION_TOKEN,
                "team_id": team.id,
                "team_domain": team.domain,
                "channel_id": found.id,
                "channel_name": found.name,
                "user_id": user,
                "user_name": self.workspace.users[user].name,
                "command": command,
                "text": text,
                "api_app_id": APP,
                "is_enterprise_install": "false",
                "response_url": f"https://hooks.slack.com/commands/{team.id}/1/{uuid.uuid4().hex}",
                "trigger_id": self.workspace.issue_trigger(),
            }
        body = outbound.command_body(fields)
        return self.deliver(
            outbound.Delivery("command", outbound.PATHS["command"], body, outbound.FORM)
        )

    def send_event(self, event: dict, *, event_id: str | None = None) -> httpx.Response:
        """An Events API `event_callback` wrapping `event`."""
        now = self.workspace.clock()
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM,
            "api_app_id": APP,
            "event": {"event_ts": f"{now:.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM,
                    "user_id": BOT_USER,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        body = outbound.event_body(envelope)
        return self.deliver(
            outbound.Delivery("event", outbound.PATHS["event"], body, outbound.JSON)
        )

    def resend_event(
        self,
        retry_num: int = 1,
        reason: str = "http_timeout",
        *,
        delivery: outbound.Delivery | None = None,
    ) -> httpx.Response:
        """Send the last (or the given) event again, as Slack retries: same body, retry headers."""
        last = delivery or next(d for d in reversed(self.deliveries) if d.kind == "event")
        retry = outbound.Delivery(
            last.kind, last.path, last.body, last.content_type, retry_num, reason
        )
        return self.deliver(retry)

    def post_as(
        self, user: str, text: str, *, channel: str = "#crew", thread_ts: str | None = None
    ) -> Message:
        """A human's message, stored as if typed in Slack (no event is delivered)."""
        with self.lock:
            message = Message(
                self.channel(channel).id,
                self.workspace.next_ts(),
                user,
                text,
                team=TEAM,
                thread_ts=thread_ts,
                client_msg_id=str(uuid.uuid4()),
            )
            return self.workspace.post(message)

    def say(
        self, text: str, *, channel: str = "#crew", user: str = HUMAN, thread_ts: str | None = None
    ) -> tuple[str, httpx.Response]:
        """A human posts in the channel: stored, then delivered as `app_mention` when it mentions
        the bot (`<@U0002>`), else as a `message` event. Returns (message ts, response)."""
        message = self.post_as(user, text, channel=channel, thread_ts=thread_ts)
        kind = "app_mention" if f"<@{BOT_USER}>" in text else "message"
        event = {
            "type": kind,
            "user": user,
            "text": text,
            "ts": message.ts,
            "channel": message.channel,
            "team": TEAM,
            "client_msg_id": message.client_msg_id,
        }
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
        if kind == "message":
            event["channel_type"] = "channel"
        return message.ts, self.send_event(event)

    def send_interaction(self, payload: dict) -> httpx.Response:
        """An interactive request; team, user, app, token and trigger_id are filled when absent."""
        with self.lock:
            team = self.workspace.teams[TEAM]
            human = self.workspace.users[HUMAN]
            defaults = {
                "user": {
                    "id": human.id,
                    "username": human.name,
                    "name": human.name,
                    "team_id": TEAM,
                },
                "api_app_id": APP,
                "token": VERIFICATION_TOKEN,
                "trigger_id": self.workspace.issue_trigger(),
                "team": {"id": team.id, "domain": team.domain},
                "is_enterprise_install": False,
            }
        body = outbound.interaction_body({**defaults, **payload})
        kind = outbound.PATHS["interaction"]
        return self.deliver(outbound.Delivery("interaction", kind, body, outbound.FORM))

    def click(
        self,
        action_id: str,
        value: str,
        *,
        channel: str = "#crew",
        message_ts: str,
        block_id: str = "actions",
    ) -> httpx.Response:
        """A human clicks a button of a message: a `block_actions` interaction."""
        found = self.channel(channel)
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "type": "button",
            "action_ts": f"{self.workspace.clock():.6f}",
            "text": {"type": "plain_text", "text": value, "emoji": True},
        }
        return self.send_interaction(
            {
                "type": "block_actions",
                "container": {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": found.id,
                    "is_ephemeral": False,
                },
                "channel": {"id": found.id, "name": found.name},
                "message": {"type": "message", "ts": message_ts},
                "response_url": f"https://hooks.slack.com/actions/{TEAM}/1/{uuid.uuid4().hex}",
                "actions": [action],
            }
        )
