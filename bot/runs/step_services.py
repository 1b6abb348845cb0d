"""What a step needs to do its work, gathered once per run: store, crew, model, forge, guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.environments.build import Environments, default_environments
from bot.llm import pricing
from bot.llm.client import ModelUsage
from bot.llm.ledger import Ledger
from bot.llm.loop import ModelPort
from bot.ports.forge import Forge
from bot.prompts import PromptLibrary
from bot.roster.models import Crew, Role
from bot.runs.budget import budget_check
from bot.runs.workspaces import workspace_of
from bot.security.secrets import SecretScanner, redact_json
from bot.settings import GITHUB_WEB_URL
from bot.store.engine import Engine

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
    # Builds and finds repositories' environments (one per process); None: `work_root`'s.
    environments: Environments | None = None
    # The repository map's budget in characters (`REPOCREW_REPO_MAP_CHARS`, given by the
    # wiring); 0: no map. The run's map block, once built (`bot/runs/repository.py`).
    repo_map_chars: int = 0
    # The bubblewrap the sandbox runs (`REPOCREW_SANDBOX_BWRAP`, given by the wiring).
    bwrap: str = "bwrap"
    repository: str | None = None
    # The files each step's agents read (step key → paths), kept with the step's result.
    files_read: dict[str, list[str]] = field(default_factory=dict)
    # GitHub's web address for links in messages (`bot.runs.links.github_web_url`).
    web_url: str = GITHUB_WEB_URL
    # The state of the sprint a run is a task of, as text for a role answering a question
    # (`bot/runs/steps/ask_tool.py`); None: the run is in no sprint.
    sprint_state: Callable[[Any], str] | None = None

    def environments_or_default(self) -> Environments:
        if self.environments is None:
            root = self.work_root.parent / "environments"
            self.environments = default_environments(root, bwrap=self.bwrap)
        return self.environments

    def workspace_dir(self, run_id: int) -> Path:
        return workspace_of(self.work_root, run_id)

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

    def budget_check(self, run_id: int, role: Role) -> Callable[[dict[str, Any]], None]:
        """A check run before each model call: stop before a call that could pass a budget."""
        return budget_check(self.engine, run_id, self.crew.budgets, self.price(role.model))
