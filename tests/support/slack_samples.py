"""Turn the corpus's Slack samples into the HTTP requests Slack would send."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"

# app-backend samples have their `type` blanked; these are the values Slack sends.
APP_BACKEND_TYPES = {
    "AttachmentActionPayload": "interactive_message",
    "BlockActionPayload": "block_actions",
    "DialogCancellationPayload": "dialog_cancellation",
    "DialogSubmissionPayload": "dialog_submission",
    "DialogSuggestionPayload": "dialog_suggestion",
    "MessageShortcutPayload": "message_action",
    "ViewClosedPayload": "view_closed",
    "ViewSubmissionPayload": "view_submission",
}


@dataclass(frozen=True)
class SlackRequest:
    path: str
    body: bytes
    content_type: str
    event_id: str | None = None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def event_request(envelope: dict, event_id: str | None = None) -> SlackRequest:
    envelope = dict(envelope)
    if envelope.get("type") == "event_callback":
        envelope["event_id"] = event_id or f"Ev{uuid.uuid4().hex[:10].upper()}"
    body = json.dumps(envelope).encode()
    return SlackRequest("/slack/events", body, "application/json", envelope.get("event_id"))


def interaction_request(payload: dict) -> SlackRequest:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return SlackRequest("/slack/interactions", body, FORM)


def command_request(fields: dict) -> SlackRequest:
    body = urlencode({k: str(v) for k, v in fields.items()}).encode()
    return SlackRequest("/slack/commands", body, FORM)


def blank_event_request(path: Path) -> SlackRequest:
    """A shape sample from samples/events with ids, types and timestamps filled in."""
    envelope = json.loads(path.read_text())
    name = path.stem.removesuffix("Payload")
    event = envelope.setdefault("event", {})
    if name.startswith("Message"):
        event["type"] = "message"
        subtype = _snake(name.removeprefix("Message"))
        if subtype:
            event["subtype"] = subtype
    else:
        event["type"] = _snake(name)
    now = time.time()
    envelope |= {"type": "event_callback", "team_id": "T0001", "api_app_id": "A0001"}
    envelope["event_time"] = int(now)
    if "ts" in event:
        event["ts"] = f"{now:.6f}"
    return event_request(envelope)


def blank_app_backend_request(path: Path) -> SlackRequest:
    """A shape sample from samples/app-backend with its type and ids filled in."""
    payload = json.loads(path.read_text())
    if path.stem == "SlashCommandPayload":
        payload |= {
            "team_id": "T0001",
            "channel_id": "C0001",
            "user_id": "U0001",
            "command": "/crew",
            "text": "help",
            "trigger_id": uuid.uuid4().hex,
        }
        return command_request(payload)
    payload["type"] = APP_BACKEND_TYPES[path.stem]
    if isinstance(payload.get("team"), dict):
        payload["team"]["id"] = "T0001"
    payload["trigger_id"] = uuid.uuid4().hex
    return interaction_request(payload)
