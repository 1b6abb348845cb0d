"""`issues.labeled`: the trigger label on an issue starts a team run."""

from __future__ import annotations

from typing import Any

from bot.roster.loader import ConfigError, load_crew
from bot.services import Services
from bot.triggers.commands import not_allowed_reply
from bot.triggers.github_deliveries import router
from bot.triggers.starting import (
    crew_for,
    gateway_of,
    is_bot,
    may_steer,
    reply_invalid_config,
    start_github_run,
)


@router.register("issues", action="labeled")
def issue_labelled(payload: dict[str, Any], services: Services) -> None:
    sender = payload.get("sender")
    if is_bot(sender):
        return
    gateway = gateway_of(services, payload)
    issue = payload["issue"]
    label = (payload.get("label") or {}).get("name")
    try:
        crew = crew_for(services.settings, gateway, configs=services.repo_configs, payload=payload)
    except ConfigError as error:
        # The repo's own trigger label is unknown while its config is broken: answer the
        # operator's label only, so every other label event stays quiet.
        if label == load_crew(services.settings.crew_file).trigger_label:
            reply_invalid_config(gateway, issue["number"], error)
        return
    if label != crew.trigger_label:
        return
    if not may_steer(gateway, sender):
        gateway.create_comment(issue["number"], not_allowed_reply(sender["login"]), role="lead")
        return
    # A redelivery, a second label event or an assignment: if a run is on it, nothing starts.
    start_github_run(services, gateway, payload, crew=crew, if_idle=True)
