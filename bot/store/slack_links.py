"""Who a Slack user is on GitHub, as they proved with `/crew link` (GitHub's device flow)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from bot.store.engine import reading_session
from bot.store.models import SlackLink, utcnow


@dataclass(frozen=True)
class Linked:
    github_user_id: int
    github_login: str


def linked_account(engine: Engine, *, team: str, user: str) -> Linked | None:
    with reading_session(engine) as session:
        link = session.get(SlackLink, (team, user))
        return None if link is None else Linked(link.github_user_id, link.github_login)


def linked_login(engine: Engine, *, team: str, user: str) -> str | None:
    account = linked_account(engine, team=team, user=user)
    return account.github_login if account is not None else None


def link_proven(
    engine: Engine, *, team: str, user: str, github_user_id: int, login: str
) -> str | None:
    """Link `user` to the GitHub account they proved; returns the Slack user it moved from,
    if another one held that account (the account's owner approved this newer link)."""
    with Session(engine) as session:
        query = select(SlackLink).where(
            SlackLink.team_id == team,
            SlackLink.github_user_id == github_user_id,
            SlackLink.slack_user_id != user,
        )
        previous = session.exec(query).first()
        moved_from = previous.slack_user_id if previous is not None else None
        if previous is not None:
            session.exec(  # type: ignore[call-overload]
                delete(SlackLink).where(
                    SlackLink.team_id == team, SlackLink.slack_user_id == moved_from
                )
            )
            session.flush()
        session.merge(
            SlackLink(
                team_id=team,
                slack_user_id=user,
                github_user_id=github_user_id,
                github_login=login,
                linked_at=utcnow(),
            )
        )
        session.commit()
        return moved_from
