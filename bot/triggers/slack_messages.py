"""People talking in a standup's thread: a person's reply there is their standup update."""

from __future__ import annotations

from bot.services import Services
from bot.store.engine import Engine
from bot.store.slack_outbox import parent_thread_key
from bot.store.standups import record_human_update
from bot.triggers.slack_deliveries import router

HUMAN_SUBTYPES = frozenset({"", "thread_broadcast", "file_share"})
STANDUP_PREFIX = "standup:"  # bot.standups.render.thread_key: standup:<channel>:<day>


@router.register("event_callback", "message")
def message_posted(body: dict, services: Services) -> None:
    """A person's reply in a thread may be their standup update; bots' posts never are."""
    event = body.get("event") or {}
    if event.get("bot_id") or event.get("subtype", "") not in HUMAN_SUBTYPES:
        return  # our own posts come back as events: ignoring them means no loops
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or thread_ts == ts or not event.get("user"):
        return
    engine = services.engine
    day = standup_day(engine, channel_id=event.get("channel", ""), thread_ts=thread_ts)
    if day is not None:
        record_human_update(
            engine,
            channel=day[0],
            day=day[1],
            slack_user_id=event["user"],
            message_ts=ts,
            text=event.get("text", ""),
        )


def standup_day(engine: Engine, *, channel_id: str, thread_ts: str) -> tuple[str, str] | None:
    """(channel as the standup names it, day) of the standup a thread belongs to, if any."""
    key = parent_thread_key(engine, channel_id=channel_id, ts=thread_ts)
    if not key or not key.startswith(STANDUP_PREFIX):
        return None
    channel, _, day = key.removeprefix(STANDUP_PREFIX).rpartition(":")
    return channel, day
