"""Reading Web API arguments as Slack does: required values, flags, JSON fields, pagination."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from .state import Channel, SlackError, Token, Workspace

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100


@dataclass(frozen=True)
class Call:
    """One authenticated call: the token's identity and the merged arguments."""

    token: Token
    args: dict


def arg(call: Call, name: str, missing: str) -> str:
    value = call.args.get(name)
    if value in (None, ""):
        raise SlackError(missing)
    return str(value)


def flag(call: Call, name: str) -> bool:
    return str(call.args.get(name, "")).lower() in ("1", "true")


def json_arg(call: Call, name: str, invalid: str) -> object | None:
    """Form-encoded calls carry blocks/attachments/view as JSON strings, JSON calls as objects."""
    value = call.args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise SlackError(invalid) from error
    return value


def parse_blocks(call: Call, name: str = "blocks") -> list[dict] | None:
    blocks = json_arg(call, name, "invalid_blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        raise SlackError("invalid_blocks")
    # Slack gives every block without one a generated block_id.
    return [{**b, "block_id": b.get("block_id") or f"b{i:03d}"} for i, b in enumerate(blocks)]


def metadata_arg(call: Call) -> dict | None:
    """Message metadata as chat.postMessage/update take it: `{event_type, event_payload}`.

    Only an app's token may set it. `[]` (chat.update) clears it: returned as `{}`.
    """
    metadata = json_arg(call, "metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if metadata == []:
        return {}
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise SlackError("invalid_metadata_schema")
    if call.token.bot_id is None:
        raise SlackError("metadata_must_be_sent_from_app")
    return {"event_type": event_type, "event_payload": payload}


def message_content(call: Call) -> dict:
    text = str(call.args.get("text") or "")
    blocks = parse_blocks(call)
    attachments = json_arg(call, "attachments", "invalid_attachments")
    if attachments is not None and not isinstance(attachments, list):
        raise SlackError("invalid_attachments")
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if attachments and len(attachments) > MAX_ATTACHMENTS:
        raise SlackError("too_many_attachments")
    return {"text": text, "blocks": blocks, "attachments": attachments}


def writable_channel(ws: Workspace, call: Call) -> Channel:
    # chat.* accept a channel name ("#crew" or "crew") where other methods want an id.
    channel = ws.find_channel(call.token.team_id, arg(call, "channel", "channel_not_found"))
    if channel.is_archived:
        raise SlackError("is_archived")
    return channel


def member_channel(ws: Workspace, call: Call, *, public_ok: str | None = None) -> Channel:
    channel = ws.channel(call.token.team_id, arg(call, "channel", "channel_not_found"))
    if call.token.user_id in channel.members:
        return channel
    if channel.is_private:
        raise SlackError("channel_not_found")
    if public_ok and public_ok in call.token.scopes:
        return channel
    raise SlackError("not_in_channel")


def paginate(items: list, call: Call, default_limit: int) -> tuple[list, str]:
    """Slack's cursor pagination: an opaque `next_cursor`, empty on the last page."""
    cursor = str(call.args.get("cursor") or "")
    try:
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
        limit = int(call.args.get("limit") or default_limit) or default_limit
    except (ValueError, IndexError) as error:
        raise SlackError("invalid_cursor") from error
    end = start + min(limit, 1000)
    next_cursor = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], next_cursor


def ts_arg(call: Call, name: str, error: str) -> float | None:
    value = call.args.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise SlackError(error) from exc
