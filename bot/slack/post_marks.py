"""The outbox key a Slack post carries, in Slack's message metadata, and reading it back.

Slack has no idempotency key. Each post instead carries `{"event_type": "repocrew_post",
"event_payload": {"key": ..., "revision": ...}}`, so a post whose earlier attempt is in doubt
can be looked up (`conversations.replies` / `conversations.history` with
`include_all_metadata`) before it is sent again. Only a mark on a message of our own bot
counts: anyone may post metadata, and a planted mark must not silence a post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.ports.slack import Found, PostMark

EVENT_TYPE = "repocrew_post"


def post_metadata(mark: PostMark) -> dict[str, Any]:
    """The `metadata` argument of chat.postMessage and chat.update for this mark."""
    if not mark.key or mark.revision < 1:
        raise ValueError(f"a post mark needs a key and a revision ≥ 1, not {mark!r}")
    return {"event_type": EVENT_TYPE, "event_payload": {"key": mark.key, "revision": mark.revision}}


def read_mark(message: Mapping[str, Any]) -> PostMark | None:
    """The mark a message (as conversations.history/replies return it) carries, if any."""
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping):
        return None
    key, revision = payload.get("key"), payload.get("revision")
    if not isinstance(key, str) or not key:
        return None
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        return None
    return PostMark(key, revision)


def find_mark(
    messages: Iterable[Mapping[str, Any]], key: str, *, bot_id: str | None, user_id: str | None
) -> Found | None:
    """The earliest message by our bot (`bot_id`, else `user_id`) that carries `key`."""
    if not bot_id and not user_id:
        raise ValueError("say whose messages count: a bot_id or a user_id")
    found: Found | None = None
    for message in messages:
        if not _ours(message, bot_id, user_id):
            continue
        mark = read_mark(message)
        ts = message.get("ts")
        if mark is None or mark.key != key or not isinstance(ts, str):
            continue
        if found is None or float(ts) < float(found.ts):
            found = Found(ts, mark.revision)
    return found


def _ours(message: Mapping[str, Any], bot_id: str | None, user_id: str | None) -> bool:
    if bot_id:
        return message.get("bot_id") == bot_id
    return message.get("user") == user_id
