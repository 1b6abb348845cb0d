"""The budget: checked before each model call, so no call starts that could pass the run's
dollars or tokens, or the crew's dollars of the day (`[budgets]` in crew.toml)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.llm.loop import BudgetExhausted
from bot.llm.pricing import Price
from bot.roster.models import Budgets
from bot.store.engine import Engine
from bot.store.model_calls import day_spend, run_spend


def worst_case_usd(request: dict[str, Any], price: Price) -> tuple[float, int]:
    """(the most the call could cost, its input tokens): every input token written to the
    cache, every output token used. Cheap to compute, and never lets a call start that could
    pass a budget."""
    input_tokens = len(json.dumps(request, default=str)) // 3
    estimate = (input_tokens * price.cache_write + request["max_tokens"] * price.output) / 1e6
    return estimate, input_tokens


def budget_check(
    engine: Engine, run_id: int, budgets: Budgets, price: Price
) -> Callable[[dict[str, Any]], None]:
    """The check the agent loop runs before each call of `run_id` at `price`."""

    def check(request: dict[str, Any]) -> None:
        spent, tokens = run_spend(engine, run_id)
        estimate, input_tokens = worst_case_usd(request, price)
        if spent + estimate > budgets.run_usd:
            raise BudgetExhausted(
                f"the run has spent ${spent:.4f} of its ${budgets.run_usd:g} budget and the "
                f"next call could cost up to ${estimate:.4f}"
            )
        if budgets.run_tokens is not None and tokens + input_tokens > budgets.run_tokens:
            raise BudgetExhausted(f"the run has used {tokens} of its {budgets.run_tokens} tokens")
        today = day_spend(engine)
        if today + estimate > budgets.day_usd:
            raise BudgetExhausted(
                f"the crew has spent ${today:.4f} of its ${budgets.day_usd:g} daily budget"
            )

    return check
