"""The GitHub App's installations, kept current from `installation*` events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.store.engine import session_scope
from bot.store.models import Installation, utcnow


def _insert_if_missing(session: Session, row: Installation):
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Installation.__table__).values(**row.model_dump())  # type: ignore[attr-defined]
    return statement.on_conflict_do_nothing(index_elements=["id"])


def _load(session: Session, data: dict[str, Any]) -> Installation:
    """The installation's row, locked until the caller's commit (PostgreSQL): two of its events
    handled at once each read, changed and wrote it, and the second write undid the first.

    A new installation's row is added first if missing, and a second adder waits for the
    first's commit and adds nothing: found missing by both, it was inserted twice, and one
    event failed on the duplicate key and waited for its retry."""
    session.execute(_insert_if_missing(session, Installation(id=data["id"])))
    installation = session.get(Installation, data["id"], with_for_update=True)
    assert installation is not None  # added above, and never deleted
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
