"""The team page: the collaboration metrics of a window, the hand-off matrix as a heat map,
and the recent standups with the people's replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, tuple_

from bot.metrics.collaboration import Metrics, collaboration_metrics
from bot.store.models import HumanUpdate, Standup, utcnow
from webhooks.dashboard.text import Redact, shown

_standup = Standup.__table__  # type: ignore[attr-defined]
_update = HumanUpdate.__table__  # type: ignore[attr-defined]

STANDUPS_SHOWN = 14


@dataclass(frozen=True)
class HeatCell:
    taker: str
    count: int
    alpha: float  # 0 (none) … 1 (the busiest hand-off)

    @property
    def dark(self) -> bool:
        return self.alpha > 0.55


@dataclass(frozen=True)
class HeatRow:
    giver: str
    cells: list[HeatCell]
    total: int


@dataclass(frozen=True)
class HeatMap:
    roles: list[str]
    rows: list[HeatRow]
    busiest: int


@dataclass(frozen=True)
class StandupView:
    channel: str
    day: str
    status: str
    posted_at: datetime | None
    posts: list[tuple[str, str]]  # (role, text)
    replies: list[tuple[str, str]]  # (Slack user, text)


@dataclass(frozen=True)
class TeamPage:
    days: int
    metrics: Metrics
    heat_map: HeatMap
    standups: list[StandupView]

    @property
    def total_cost(self) -> float:
        return sum(usage.cost_usd for usage in self.metrics.usage.values())


def heat_map(interactions: dict[str, dict[str, int]]) -> HeatMap:
    """Givers down, takers across, every role on both axes; shade by share of the busiest."""
    roles = sorted(set(interactions) | {t for row in interactions.values() for t in row})
    busiest = max((n for row in interactions.values() for n in row.values()), default=0)
    rows = []
    for giver in roles:
        given = interactions.get(giver, {})
        cells = [
            HeatCell(
                taker,
                given.get(taker, 0),
                round(given.get(taker, 0) / busiest, 3) if busiest else 0.0,
            )
            for taker in roles
        ]
        rows.append(HeatRow(giver, cells, sum(given.values())))
    return HeatMap(roles, rows, busiest)


def team_page(
    engine: Engine, *, days: int, redact: Redact, now: datetime | None = None
) -> TeamPage:
    end = now or utcnow()
    metrics = collaboration_metrics(engine, start=end - timedelta(days=days), end=end)
    return TeamPage(days, metrics, heat_map(metrics.interactions), _standups(engine, redact))


def _standups(engine: Engine, redact: Redact) -> list[StandupView]:
    s, u = _standup.c, _update.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(_standup).order_by(s.day.desc(), s.id.desc()).limit(STANDUPS_SHOWN)
        ).all()
        keys = [(row.channel, row.day) for row in rows]
        updates = (
            connection.execute(
                select(u.channel, u.day, u.slack_user_id, u.text)
                .where(tuple_(u.channel, u.day).in_(keys))
                .order_by(u.message_ts, u.id)
            ).all()
            if keys
            else []
        )
    replies: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for update in updates:
        replies.setdefault((update.channel, update.day), []).append(
            (update.slack_user_id, shown(update.text, redact, 2000))
        )
    return [
        StandupView(
            row.channel,
            row.day,
            row.status,
            row.posted_at,
            [
                (str(post.get("role", "")), shown(str(post.get("text", "")), redact, 3000))
                for post in json.loads(row.summary or "{}").get("posts", [])
            ],
            replies.get((row.channel, row.day), []),
        )
        for row in rows
    ]
