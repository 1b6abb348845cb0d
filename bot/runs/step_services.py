"""What a step needs to do its work, gathered once per run: store, crew, model, forge, guards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.llm import pricing
from bot.llm.client import ModelUsage
from bot.llm.ledger import Ledger
from bot.llm.loop import BudgetExhausted, ModelPort
from bot.ports.forge import Forge
from bot.prompts import PromptLibrary
from bot.roster.models import Crew, Role
from bot.security.secrets import SecretScanner, redact_json
from bot.store.engine import Engine
from bot.store.model_calls import day_spend, run_spend

# A tool result longer than this is cut (with a note) before the model sees it.
MAX_TOOL_RESULT_CHARS = 30_000


@dataclass
class StepServices:
    engine: Engine
    crew: Crew
    forge: Forge
    # None replays from the ledger only (`repocrew replay`): a call not recorded fails the step.
    model: ModelPort | None
    scanner: SecretScanner
    work_root: Path
    prompts: PromptLibrary = field(default_factory=PromptLibrary)
    prompts_from_repo: bool = False
    # Tests use a smaller sandbox; production takes the crew's tests config.
    sandbox_overrides: dict[str, Any] = field(default_factory=dict)

    def workspace_dir(self, run_id: int) -> Path:
        return self.work_root / f"run-{run_id}"

    def ledger(self, run_id: int, step: str, role: Role) -> Ledger:
        return Ledger(
            self.engine,
            run_id=run_id,
            step=step,
            role=role.key,
            redact=lambda value: redact_json(value, self.scanner),
            cost=self.cost,
        )

    @cached_property
    def prices(self) -> dict[str, pricing.Price]:
        """The crew's configured prices, in the form the cost arithmetic takes."""
        return {
            name: pricing.Price(p.input, p.output, p.cache_write, p.cache_read)
            for name, p in self.crew.prices.items()
        }

    def price(self, model: str) -> pricing.Price:
        return pricing.price_for(model, self.prices)

    def cost(self, model: str, usage: ModelUsage) -> float:
        return float(pricing.cost_usd(usage, self.price(model)))

    def screen(self, text: str) -> str:
        """A tool result as the model may see it: secrets redacted, size bounded."""
        text = self.scanner.redact(text)
        if len(text) > MAX_TOOL_RESULT_CHARS:
            cut = len(text) - MAX_TOOL_RESULT_CHARS
            text = text[:MAX_TOOL_RESULT_CHARS] + f"\n[… {cut} more characters cut]"
        return text

    def budget_check(self, run_id: int, role: Role):
        """A check run before each model call: stop before a call that could pass a budget."""
        budgets = self.crew.budgets
        price = self.price(role.model)

        def check(request: dict[str, Any]) -> None:
            spent, tokens = run_spend(self.engine, run_id)
            # Worst case of the next call: every input token written to the cache, every
            # output token used. Cheap to compute, and never lets a call start that could pass.
            input_tokens = len(json.dumps(request, default=str)) // 3
            estimate = (
                input_tokens * price.cache_write + request["max_tokens"] * price.output
            ) / 1_000_000
            if spent + estimate > budgets.run_usd:
                raise BudgetExhausted(
                    f"the run has spent ${spent:.4f} of its ${budgets.run_usd:g} budget and the "
                    f"next call could cost up to ${estimate:.4f}"
                )
            if budgets.run_tokens is not None and tokens + input_tokens > budgets.run_tokens:
                raise BudgetExhausted(
                    f"the run has used {tokens} of its {budgets.run_tokens} tokens"
                )
            today = day_spend(self.engine)
            if today + estimate > budgets.day_usd:
                raise BudgetExhausted(
                    f"the crew has spent ${today:.4f} of its ${budgets.day_usd:g} daily budget"
                )

        return check
