"""The router Slack request handlers register on, and the job that feeds it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from bot.services import Services
from bot.store.deliveries import StoredDelivery
from bot.triggers.router import EventRouter

log = logging.getLogger(__name__)

# Registered as router.register(kind, detail): ("command", "/crew"), ("event_callback",
# "message"), ("block_actions", "crew_stop"), ("view_submission", <callback_id>) …
# Handlers are called as handler(body, services).
router = EventRouter()


def _action_id(body: dict) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("action_id", ""))


def _callback_id(body: dict) -> str:
    return str((body.get("view") or {}).get("callback_id") or body.get("callback_id") or "")


# The intake stores commands by name and events by type; interactions are told apart here.
INTERACTION_DETAIL: dict[str, Callable[[dict], str]] = {
    "block_actions": _action_id,
    "view_submission": _callback_id,
    "view_closed": _callback_id,
    "shortcut": _callback_id,
    "message_action": _callback_id,
}


def parse_slack_body(raw: str) -> dict:
    """Slack sends JSON (events), a form (commands) or a form with a JSON `payload` field."""
    if raw.startswith("{"):
        return json.loads(raw)
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in form:
        return json.loads(form["payload"])
    return form


def detail_of(kind: str, stored: str, body: dict) -> str:
    """What handlers register on: the command, the event type, the action or callback id."""
    found = INTERACTION_DETAIL.get(kind)
    return found(body) if found is not None else stored


def handle_slack_delivery(delivery: StoredDelivery, services: Services) -> int:
    """Run the handlers of one stored Slack request; returns how many ran."""
    kind, stored, body = delivery.event, delivery.action, parse_slack_body(delivery.payload)
    detail = detail_of(kind, stored, body)
    handlers = router.handlers_for(kind, detail)
    for handler in handlers:
        handler(body, services)
    if not handlers:
        log.info("no handler registered for slack %s %s", kind, detail)
    return len(handlers)
