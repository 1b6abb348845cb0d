"""Leaving the queue: the lead starts the run (at the reviewer for a review-only run), unless
new runs are paused because the model account hit its spend limit."""

from __future__ import annotations

from typing import Any

from bot.runs.progress import SPEND_LIMIT_FLAG
from bot.runs.states import RunState
from bot.runs.step_services import StepServices
from bot.runs.steps.common import StepResult
from bot.store.flags import get_flag
from bot.store.models import Run


class RunsPaused(RuntimeError):
    """New runs wait: the model account hit its spend limit (cleared by an operator)."""


def start(services: StepServices, run: Run, _outputs: dict[str, Any]) -> StepResult:
    """Leave the queue, unless new runs are paused."""
    paused = get_flag(services.engine, SPEND_LIMIT_FLAG)
    if paused:
        raise RunsPaused(f"new runs are paused: {paused}")
    lead = services.crew.roles[services.crew.lead]
    first = RunState.REVIEWING if run.mode in ("review", "auto") else RunState.PLANNING
    return StepResult(first, "start", lead, None)
