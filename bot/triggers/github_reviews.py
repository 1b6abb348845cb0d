"""`pull_request_review.submitted`: a human's "changes requested" on a crew pull request
sends the coder back to it."""

from __future__ import annotations

from typing import Any

from bot.runs.progress import active_run
from bot.services import Services
from bot.triggers.github_deliveries import router
from bot.triggers.starting import gateway_of, is_bot, may_steer, request_changes


@router.register("pull_request_review", action="submitted")
def review_submitted(payload: dict[str, Any], services: Services) -> None:
    review = payload.get("review") or {}
    sender = payload.get("sender")
    if review.get("state") != "changes_requested" or is_bot(sender):
        return
    pull = payload["pull_request"]
    run = active_run(services.engine, payload["repository"]["full_name"], pr=pull["number"])
    if run is None or run.mode in ("review", "auto"):
        return
    if not may_steer(gateway_of(services, payload), sender):
        return
    feedback = {"reviewer": sender["login"], "body": review.get("body") or ""}
    request_changes(services.engine, run, key=f"human-{review['id']}", feedback=feedback)
