"""One `GitHubApps` per process (tokens are reused across runs), and the forge of a run.

The triggers (`bot/triggers/github_runs.py`) and the run's steps both act through `GitHubForge`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from bot.github.client import ClientOptions, GitHubApps
from bot.github.forge import GitHubForge
from bot.roster.models import Role
from bot.settings import Settings

_apps: dict[tuple[int | None, str], GitHubApps] = {}
_lock = threading.Lock()


def apps_for(settings: Settings) -> GitHubApps:
    key = (settings.github_app_id, settings.github_api_url)
    with _lock:
        if key not in _apps:
            _apps[key] = GitHubApps.from_settings(settings)
        return _apps[key]


def use_client_options(settings: Settings, options: ClientOptions) -> GitHubApps:
    """Make this process's Apps for `settings` talk to GitHub with `options` (tests shrink
    the production waits: backoff, write spacing) from now on."""
    apps = GitHubApps.from_settings(settings, options=options)
    with _lock:
        _apps[(settings.github_app_id, settings.github_api_url)] = apps
    return apps


def gateway_for(settings: Settings, installation_id: int, repo: str) -> GitHubForge:
    """What the triggers use: permissions, the repo's config file, replies."""
    return GitHubForge.for_installation(apps_for(settings), repo, installation_id=installation_id)


def forge_for(
    settings: Settings, installation_id: int, repo: str, roles: Iterable[Role]
) -> GitHubForge:
    return GitHubForge.for_installation(
        apps_for(settings), repo, installation_id=installation_id, roles=roles
    )
