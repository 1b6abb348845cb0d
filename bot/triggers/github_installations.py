"""`installation` and `installation_repositories`: keep the installation table current, and
stop the runs of an installation that is removed."""

from __future__ import annotations

from typing import Any

from bot.runs.progress import stop_run
from bot.runs.states import TERMINAL
from bot.services import Services
from bot.store.installations import change_repositories, record_installation
from bot.store.run_queries import run_ids_of_installation
from bot.triggers.github_deliveries import router

# What each `installation` action changes on the row (the repositories come with `created`).
CHANGES: dict[str, dict[str, bool]] = {
    "created": {"deleted": False},
    "deleted": {"deleted": True},
    "suspend": {"suspended": True},
    "unsuspend": {"suspended": False},
}


def _repo_names(repositories: list[dict[str, Any]] | None) -> list[str]:
    return [r["full_name"] for r in repositories or [] if r.get("full_name")]


@router.register("installation")
def installation_changed(payload: dict[str, Any], services: Services) -> None:
    action = str(payload.get("action"))
    names = _repo_names(payload.get("repositories")) if action == "created" else None
    record_installation(
        services.engine, payload["installation"], repositories=names, **CHANGES.get(action, {})
    )


@router.register("installation_repositories")
def installation_repositories_changed(payload: dict[str, Any], services: Services) -> None:
    change_repositories(
        services.engine,
        payload["installation"],
        added=_repo_names(payload.get("repositories_added")),
        removed=_repo_names(payload.get("repositories_removed")),
    )


@router.register("installation", action="deleted")
def installation_removed(payload: dict[str, Any], services: Services) -> None:
    installation = payload["installation"]["id"]
    for run_id in run_ids_of_installation(services.engine, installation, ended=TERMINAL):
        stop_run(services.engine, run_id, reason="the GitHub App was uninstalled")
