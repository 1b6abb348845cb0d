"""Each task's state at the end of each day of a sprint (the dashboard's tasks × days grid),
as a pure function of the sprint's logged moves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from bot.store.sprint_models import SprintTransition

MAX_DAYS = 31  # a grid wider than a month says nothing a reader can take in


def sprint_days(start: datetime, end: datetime) -> list[date]:
    """The UTC days from `start`'s to `end`'s, both included (at most MAX_DAYS, the last ones)."""
    first, last = _aware(start).date(), _aware(end).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return days[-MAX_DAYS:]


def states_by_day(
    moves: Sequence[SprintTransition], keys: Sequence[str], days: Sequence[date]
) -> dict[str, list[str]]:
    """Task key → its state at the end of each of `days`: the last move logged before the day
    ended, or pending (a task's planning logs no move, and the days start at approval)."""
    ordered = sorted((m for m in moves if m.task), key=lambda m: (_aware(m.at), m.id or 0))
    grid: dict[str, list[str]] = {key: [] for key in keys}
    for day in days:
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        state: dict[str, str] = {}
        for move in ordered:
            if _aware(move.at) >= end:
                break
            state[move.task] = move.to_state
        for key in keys:
            grid[key].append(state.get(key, "pending"))
    return grid


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
