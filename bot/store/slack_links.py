"""Who a Slack user is on GitHub, as they told the crew with `/crew link <login>`."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.store.models import SlackLink, utcnow


def linked_login(engine: Engine, *, team: str, user: str) -> str | None:
    with Session(engine) as session:
        link = session.get(SlackLink, (team, user))
        return link.github_login if link is not None else None


def link_holder(engine: Engine, *, team: str, login: str, other_than: str) -> str | None:
    """The Slack user (other than `other_than`) linked to `login` in this team, if any."""
    query = select(SlackLink).where(
        SlackLink.team_id == team,
        SlackLink.github_login == login,
        SlackLink.slack_user_id != other_than,
    )
    with Session(engine) as session:
        taken = session.exec(query).first()
        return taken.slack_user_id if taken is not None else None


def link(engine: Engine, *, team: str, user: str, login: str) -> None:
    with Session(engine) as session:
        session.merge(
            SlackLink(team_id=team, slack_user_id=user, github_login=login, linked_at=utcnow())
        )
        session.commit()
