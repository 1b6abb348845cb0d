"""Keep the installation table current from `installation` and `installation_repositories`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from bot.store.engine import session_scope
from bot.store.models import Installation, utcnow
from bot.triggers.github_deliveries import router


def _repo_names(repositories: list[dict[str, Any]] | None) -> list[str]:
    return [r["full_name"] for r in repositories or [] if r.get("full_name")]


def _load(session, payload: dict[str, Any]) -> Installation:
    data = payload["installation"]
    installation = session.get(Installation, data["id"]) or Installation(id=data["id"])
    account = data.get("account") or {}
    installation.account_login = account.get("login") or installation.account_login
    installation.account_type = account.get("type") or installation.account_type
    installation.app_id = data.get("app_id") or installation.app_id
    installation.repository_selection = (
        data.get("repository_selection") or installation.repository_selection
    )
    installation.updated_at = utcnow()
    session.add(installation)
    return installation


@router.register("installation")
def installation_changed(payload: dict[str, Any], engine: Engine, _settings: Any = None) -> None:
    action = payload.get("action")
    with session_scope(engine) as session:
        installation = _load(session, payload)
        if action == "created":
            installation.repositories = "\n".join(_repo_names(payload.get("repositories")))
            installation.deleted = False
        elif action == "deleted":
            installation.deleted = True
        elif action == "suspend":
            installation.suspended = True
        elif action == "unsuspend":
            installation.suspended = False


@router.register("installation_repositories")
def installation_repositories_changed(
    payload: dict[str, Any], engine: Engine, _settings: Any = None
) -> None:
    with session_scope(engine) as session:
        installation = _load(session, payload)
        names = [n for n in installation.repositories.splitlines() if n]
        removed = set(_repo_names(payload.get("repositories_removed")))
        names = [n for n in names if n not in removed]
        names += [n for n in _repo_names(payload.get("repositories_added")) if n not in names]
        installation.repositories = "\n".join(names)
