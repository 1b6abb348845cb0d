"""Links to a run's pages on GitHub, from the configured GitHub host, so GitHub Enterprise
Server works: `REPOCREW_GITHUB_WEB_URL` when set, else the web address of
`REPOCREW_GITHUB_API_URL` (https://ghe.example.com/api/v3 → https://ghe.example.com)."""

from __future__ import annotations

from bot.security.hosts import web_url_of_api
from bot.settings import GITHUB_WEB_URL, Settings
from bot.store.models import Run


def github_web_url(settings: Settings) -> str:
    """Where people read GitHub: the web URL the operator set, else the API URL's web host."""
    if "github_web_url" in settings.model_fields_set:
        return settings.github_web_url.rstrip("/")
    return web_url_of_api(settings.github_api_url) or GITHUB_WEB_URL


def forge_link(
    web_url: str, repo: str, *, issue: int | None = None, pull: int | None = None
) -> str:
    """The pull request's page, else the issue's, else the repository's."""
    if pull:
        return f"{web_url}/{repo}/pull/{pull}"
    if issue:
        return f"{web_url}/{repo}/issues/{issue}"
    return f"{web_url}/{repo}"


def run_link(run: Run, web_url: str) -> str:
    """The page a run's messages point at ("" for a run on a local repository)."""
    if run.forge != "github":
        return ""
    return forge_link(web_url, run.repo, issue=run.issue_number, pull=run.pr_number)
