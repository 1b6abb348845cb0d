"""The crew on GitHub: App authentication, clients and the `Forge` adapter (PyGithub lives here).

apps = GitHubApps.from_settings(settings)          # once per process: tokens are cached
forge = GitHubForge.for_installation(apps, "owner/name", installation_id=42, roles=roles)
"""

from bot.github.auth import InstallationAuth
from bot.github.client import ClientOptions, GitHubApp, GitHubApps, InstallationClient
from bot.github.convert import Issue
from bot.github.forge import GitHubForge

__all__ = [
    "ClientOptions",
    "GitHubApp",
    "GitHubApps",
    "GitHubForge",
    "InstallationAuth",
    "InstallationClient",
    "Issue",
]
