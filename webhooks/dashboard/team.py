"""The team page: the collaboration metrics of a window, the hand-off matrix as a heat map,
and the recent standups with the people's replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.metrics.collaboration import Metrics, collaboration_metrics
from bot.store.dashboard import recent_standups
from bot.store.engine import Engine
from bot.store.models import utcnow
from webhooks.dashboard.text import Redact, shown

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
    views = []
    for found in recent_standups(engine, limit=STANDUPS_SHOWN):
        standup = found.standup
        posts = json.loads(standup.summary or "{}").get("posts", [])
        views.append(
            StandupView(
                standup.channel,
                standup.day,
                standup.status,
                standup.posted_at,
                [
                    (str(post.get("role", "")), shown(str(post.get("text", "")), redact, 3000))
                    for post in posts
                ],
                [(user, shown(text, redact, 2000)) for user, text in found.replies],
            )
        )
    return views
