"""The GitHub App's installations, kept current from `installation*` events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.store.engine import session_scope
from bot.store.models import Installation, utcnow


def _load(session: Session, data: dict[str, Any]) -> Installation:
    """The installation's row, locked until the caller's commit (PostgreSQL): two of its events
    handled at once each read, changed and wrote it, and the second write undid the first."""
    installation = session.get(Installation, data["id"], with_for_update=True)
    installation = installation or Installation(id=data["id"])
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


def record_installation(
    engine: Engine,
    data: dict[str, Any],
    *,
    repositories: Iterable[str] | None = None,
    deleted: bool | None = None,
    suspended: bool | None = None,
) -> None:
    """Update (or add) an installation from its payload object; None leaves a field as is."""
    with session_scope(engine) as session:
        installation = _load(session, data)
        if repositories is not None:
            installation.repositories = "\n".join(repositories)
        if deleted is not None:
            installation.deleted = deleted
        if suspended is not None:
            installation.suspended = suspended


def change_repositories(
    engine: Engine, data: dict[str, Any], *, added: Iterable[str], removed: Iterable[str]
) -> None:
    """Add and remove repositories of an installation, keeping the order they came in."""
    with session_scope(engine) as session:
        installation = _load(session, data)
        gone = set(removed)
        names = [n for n in installation.repositories.splitlines() if n and n not in gone]
        names += [n for n in added if n not in names]
        installation.repositories = "\n".join(names)
