"""The GitHub side of a repository, through the App's installation there: what the triggers
use (`gateway_for`), what a run's steps use (`forge_for`), and where the App is installed.

The `GitHubApps` passed in is built once per process by `bot.wiring`, so tokens are reused.
"""

from __future__ import annotations

from collections.abc import Iterable

from github import GithubException

from bot.github.client import GitHubApps
from bot.github.forge import GitHubForge
from bot.ports.forge import AppIdentity
from bot.roster.models import Role


class TriggerGateway(GitHubForge):
    """The main App's forge on one repository, which also names the bot users of the crew's
    Apps (an issue assigned to one of them starts a run)."""

    def __init__(self, apps: GitHubApps, repo: str, *, installation_id: int) -> None:
        super().__init__(repo, installation_id=installation_id, clients=apps.main)
        self.apps = apps

    def bot_login(self, identity: AppIdentity | None = None) -> str:
        app = self.apps.app_for(identity) if identity is not None else None  # type: ignore[arg-type]
        return (app or self.apps.main).tokens.bot_login


def gateway_for(apps: GitHubApps, installation_id: int, repo: str) -> TriggerGateway:
    """What the triggers use: permissions, the repo's config file, replies, the bot users."""
    return TriggerGateway(apps, repo, installation_id=installation_id)


def forge_for(
    apps: GitHubApps, installation_id: int, repo: str, roles: Iterable[Role]
) -> GitHubForge:
    """A run's forge: the crew's posts, each role as its own persona (or its own App)."""
    return GitHubForge.for_installation(apps, repo, installation_id=installation_id, roles=roles)


def installation_of(apps: GitHubApps, repo: str) -> int | None:
    """The App's installation on `owner/name`; None where it is not installed (or no repo)."""
    try:
        return apps.main.for_repo(repo).installation_id
    except GithubException:  # 404: the App is not installed there (or there is no such repo)
        return None
