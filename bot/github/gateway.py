"""The GitHub side of a repository, through the App's installation there: what the triggers
use (`gateway_for`), what a run's steps use (`forge_for`), and where the App is installed.

The `GitHubApps` passed in is built once per process by `bot.wiring`, so tokens are reused.
"""

from __future__ import annotations

from collections.abc import Iterable

from github import GithubException

from bot.github.client import GitHubApps
from bot.github.forge import GitHubForge
from bot.roster.models import Role


def gateway_for(apps: GitHubApps, installation_id: int, repo: str) -> GitHubForge:
    """What the triggers use: permissions, the repo's config file, replies."""
    return GitHubForge.for_installation(apps, repo, installation_id=installation_id)


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
