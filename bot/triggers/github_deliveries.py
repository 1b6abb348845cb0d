"""The router GitHub event handlers register on, and the job that feeds it.

The handlers live one module per event (`github_issues`, `github_comments`, `github_reviews`,
`github_checks`, `github_installations`) and are called as `handler(payload, services)`.
"""

from __future__ import annotations

import json
import logging

from bot.services import Services
from bot.store.deliveries import StoredDelivery
from bot.triggers.router import EventRouter

log = logging.getLogger(__name__)

router = EventRouter()


def handle_github_delivery(delivery: StoredDelivery, services: Services) -> int:
    """Run the handlers of one stored GitHub delivery; returns how many ran."""
    event, payload = delivery.event, json.loads(delivery.payload)
    if "installation" not in payload:
        # Every delivery of an installed App names its installation; one without it came from
        # a repository or organisation webhook, which the crew has no token to act on.
        log.info("github %s.%s without an installation: ignored", event, payload.get("action"))
        return 0
    ran = router.dispatch(event, payload, services)
    if ran == 0:
        log.info("no handler registered for github %s.%s", event, payload.get("action"))
    return ran
