"""The router Slack request handlers register on, and the job that feeds it."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl

from sqlalchemy import Engine

from bot.events.router import EventRouter
from bot.store.engine import session_scope
from bot.store.models import Delivery

log = logging.getLogger(__name__)

# Registered as router.register(kind, detail): ("command", "/crew"), ("event_callback",
# "app_mention"), ("block_actions", None) …
router = EventRouter()


def parse_slack_body(raw: str) -> dict:
    """Slack sends JSON (events), a form (commands) or a form with a JSON `payload` field."""
    if raw.startswith("{"):
        return json.loads(raw)
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in form:
        return json.loads(form["payload"])
    return form


def handle_slack_delivery(delivery_row_id: int, engine: Engine) -> int:
    """Run the handlers of one stored Slack request; returns how many ran."""
    with session_scope(engine) as session:
        delivery = session.get(Delivery, delivery_row_id)
        if delivery is None:
            raise LookupError(f"delivery row {delivery_row_id} is gone")
        kind, detail, body = delivery.event, delivery.action, parse_slack_body(delivery.payload)
    handlers = router.handlers_for(kind, detail)
    for handler in handlers:
        handler(body, engine)
    if not handlers:
        log.info("no handler registered for slack %s %s", kind, detail)
    return len(handlers)
