"""What the triggers and the jobs work with: the store, the settings, and one factory per
outside party, built once per process by `bot.wiring` and passed in (never a module global).

Production wires GitHub through the App, Slack through slack_sdk and the model through
anthropic; unit tests build a `Services` from small fakes of the ports instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.llm.loop import ModelPort
from bot.ports.forge import IssueGateway
from bot.ports.identity import IdentityPort
from bot.ports.slack import Poster, SlackReplies
from bot.roster.repo_configs import RepoConfigs
from bot.runs.step_services import StepServices
from bot.settings import Settings
from bot.store.engine import Engine
from bot.store.models import utcnow


@dataclass(frozen=True)
class Services:
    engine: Engine
    settings: Settings
    # GitHub for one repository, through the App's installation there: (installation, repo).
    repo_gateway: Callable[[int, str], IssueGateway]
    # The App's installation on "owner/name"; None where it is not installed.
    installation_of: Callable[[str], int | None]
    # What a run's steps need, assembled from the run's own row.
    step_services: Callable[[int], StepServices]
    # Private answers to one Slack user (ephemeral messages, modals).
    slack_replies: Callable[[], SlackReplies]
    # Sends the Slack outbox; None while no bot token is set.
    slack_poster: Callable[[], Poster | None]
    clock: Callable[[], datetime] = utcnow
    # Lets go of the clients' connections when the process stops.
    close: Callable[[], None] = lambda: None
    # GitHub's OAuth for people (`/crew link`, dashboard sign-in); None while no OAuth App.
    identity: Callable[[], IdentityPort | None] = lambda: None
    # The model outside a run (a sprint's planning by the lead); None while no key is set.
    model: Callable[[], ModelPort | None] = lambda: None
    # Each repository's `.repocrew.toml`, read once per push.
    repo_configs: RepoConfigs = field(default_factory=RepoConfigs)
