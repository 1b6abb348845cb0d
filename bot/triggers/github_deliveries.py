"""The router GitHub event handlers register on, and the job that feeds it."""

from __future__ import annotations

import json
import logging

from sqlalchemy import Engine

from bot.settings import Settings
from bot.store.engine import session_scope
from bot.store.models import Delivery
from bot.triggers.router import EventRouter

log = logging.getLogger(__name__)

router = EventRouter()


def handle_github_delivery(delivery_row_id: int, engine: Engine, settings: Settings) -> int:
    """Run the handlers of one stored GitHub delivery; returns how many ran."""
    with session_scope(engine) as session:
        delivery = session.get(Delivery, delivery_row_id)
        if delivery is None:
            raise LookupError(f"delivery row {delivery_row_id} is gone")
        event, payload = delivery.event, json.loads(delivery.payload)
    if "installation" not in payload:
        # Every delivery of an installed App names its installation; one without it came from
        # a repository or organisation webhook, which the crew has no token to act on.
        log.info("github %s.%s without an installation: ignored", event, payload.get("action"))
        return 0
    ran = router.dispatch(event, payload, engine, settings)
    if ran == 0:
        log.info("no handler registered for github %s.%s", event, payload.get("action"))
    return ran
