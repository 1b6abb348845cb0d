"""The crew's roster as validated data: the whole crew, who does which step, and its votes.

The parts a crew is made of are defined in `identities` (roles) and `sections` (budgets,
prices, tests, environment, review, research, standup); they are importable from here as well.
"""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.roster.channels import TOPICS, ChannelsConfig
from bot.roster.globs import GlobSet
from bot.roster.identities import TOOLS, GitHubIdentity, Role, SlackIdentity
from bot.roster.sections import (
    DEFAULT_PRICES,
    DEFAULT_TEST_COMMAND,
    Budgets,
    EnvironmentConfig,
    Price,
    QuestionsConfig,
    ResearchConfig,
    ReviewConfig,
    SprintConfig,
    StandupConfig,
    TestsConfig,
)
from bot.roster.validation import Problems, RosterModel, Strings, problems_error

__all__ = [
    "DATED_SUFFIX",
    "DEFAULT_PRICES",
    "DEFAULT_TEST_COMMAND",
    "STEPS",
    "TOOLS",
    "TOPICS",
    "Budgets",
    "ChannelsConfig",
    "Crew",
    "EnvironmentConfig",
    "GitHubIdentity",
    "Price",
    "ResearchConfig",
    "ReviewConfig",
    "Role",
    "SlackIdentity",
    "QuestionsConfig",
    "SprintConfig",
    "StandupConfig",
    "TestsConfig",
]

# The run's working steps; each is done by exactly one role (Crew.steps).
STEPS = ("plan", "research", "code", "review", "fix", "test")

APP_ASSIGNEE = "app"  # in trigger_assignees: the crew's own GitHub App, not a role's

DATED_SUFFIX = re.compile(r"-\d{8}$")  # claude-sonnet-4-5-20250929 is claude-sonnet-4-5


class Crew(RosterModel):
    """The whole roster file: who is on the crew, who does which step, and the limits."""

    name: str = Field(min_length=1)
    trigger_label: str = Field(default="crew", min_length=1)
    # Whose bot user an issue is assigned to, to start a run: "app" (the crew's GitHub App) and
    # role keys whose own App counts too. None: the App and every role with an App of its own.
    trigger_assignees: Strings | None = None
    branch_prefix: str = "crew/"
    channel: str | None = None
    # Topic → channel and role → channel (`bot.roster.routing`); the rest goes to `channel`.
    channels: ChannelsConfig = ChannelsConfig()
    roles: dict[str, Role] = Field(min_length=1)
    steps: dict[str, str]
    lead: str
    voters: Strings | None = None
    vote_threshold: Literal["all"] | int | float = "all"
    # Review, test or vote feedback sends the coder back at most this many times per run.
    max_fix_rounds: int = Field(default=2, ge=0, le=10)
    # Added to the built-in protected set (bot.roster.protected); nothing takes paths out of it.
    protected_paths: Strings = ()
    # Secret files (bot.roster.protected.SECRET_FILES) the tools may read and the tests see.
    readable_secrets: Strings = ()
    budgets: Budgets = Budgets()
    prices: dict[str, Price] = Field(default_factory=dict)
    tests: TestsConfig = TestsConfig()
    environment: EnvironmentConfig = EnvironmentConfig()
    review: ReviewConfig = ReviewConfig()
    research: ResearchConfig = ResearchConfig()
    standup: StandupConfig = StandupConfig()
    questions: QuestionsConfig = QuestionsConfig()
    sprint: SprintConfig = SprintConfig()
    # Template name → repo-relative path of a replacement template (`[prompts]` in the file).
    prompt_overrides: dict[str, str] = Field(default_factory=dict, alias="prompts")

    @model_validator(mode="before")
    @classmethod
    def _fill_keys_and_prices(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {**data}
        roles = data.get("roles")
        if isinstance(roles, dict):
            data["roles"] = {
                key: {"key": key, **role} if isinstance(role, dict) else role
                for key, role in roles.items()
            }
        prices = data.get("prices", {})
        if isinstance(prices, dict):
            data["prices"] = {**DEFAULT_PRICES, **prices}
        return data

    # GlobError is a ValueError: a `!` or a line git would skip is reported against the key.
    @field_validator("protected_paths", "readable_secrets")
    @classmethod
    def _usable_globs(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        GlobSet(paths)
        return paths

    @field_validator("vote_threshold", mode="before")
    @classmethod
    def _threshold_kind(cls, value: Any) -> Any:
        if value == "all" or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        raise ValueError('must be "all", a number of votes, or a fraction like 0.5')

    @field_validator("prompt_overrides")
    @classmethod
    def _relative_paths(cls, overrides: dict[str, str]) -> dict[str, str]:
        for name, path in overrides.items():
            pure = PurePosixPath(path)
            if pure.is_absolute() or ".." in pure.parts or not path:
                raise ValueError(f"{name}: {path!r} must be a path inside the repository")
        return overrides

    @model_validator(mode="after")
    def _references_resolve(self) -> Crew:
        problems: Problems = []
        known = ", ".join(self.roles)
        for key, role in self.roles.items():
            if role.key != key:
                problems.append((("roles", key, "key"), f"must be the table name {key!r}"))
            if self.price_for(role.model) is None:
                message = f'no price for {role.model!r}; add [prices."{role.model}"]'
                problems.append((("roles", key, "model"), message))
        for step in self.steps:
            if step not in STEPS:
                problems.append((("steps", step), f"unknown step (steps: {', '.join(STEPS)})"))
        for step in STEPS:
            role = self.steps.get(step)
            if role is None:
                problems.append((("steps",), f"no role does step {step!r}"))
            elif role not in self.roles:
                problems.append((("steps", step), f"unknown role {role!r} (roles: {known})"))
        if self.lead not in self.roles:
            problems.append((("lead",), f"unknown role {self.lead!r} (roles: {known})"))
        for index, voter in enumerate(self.voters or ()):
            if voter not in self.roles:
                problems.append((("voters", index), f"unknown role {voter!r} (roles: {known})"))
        problems.extend(self._assignee_problems())
        for role in self.channels.roles:
            if role not in self.roles:
                message = f"unknown role {role!r} (roles: {known})"
                problems.append((("channels", "roles", role), message))
        if self.channels.routed and not self.channel:
            message = "needs the crew's `channel` too: what is not routed goes there"
            problems.append((("channels",), message))
        problems.extend(self._threshold_problems())
        if problems:
            raise problems_error("Crew", problems)
        return self

    def _assignee_problems(self) -> Problems:
        problems: Problems = []
        for index, key in enumerate(self.trigger_assignees or ()):
            role = self.roles.get(key)
            if key != APP_ASSIGNEE and (role is None or role.github.app_id is None):
                message = f'{key!r} is neither "app" nor a role with its own App (github.app_id)'
                problems.append((("trigger_assignees", index), message))
        return problems

    @property
    def assignee_keys(self) -> tuple[str, ...]:
        """Who starts a run when assigned: "app", and keys of roles with their own App."""
        if self.trigger_assignees is not None:
            return self.trigger_assignees
        own = tuple(key for key, role in self.roles.items() if role.github.app_id is not None)
        return (APP_ASSIGNEE, *own)

    def _threshold_problems(self) -> Problems:
        voters = len(self.voting_roles)
        if voters == 0:
            return [(("voters",), "no role votes; list voters or set votes = true on a role")]
        threshold = self.vote_threshold
        if isinstance(threshold, int) and not 1 <= threshold <= voters:
            return [(("vote_threshold",), f"must be between 1 and the {voters} voters")]
        if isinstance(threshold, float) and not 0 < threshold <= 1:
            return [(("vote_threshold",), "a fraction must be greater than 0 and at most 1")]
        return []

    def price_for(self, model: str) -> Price | None:
        """The price of `model`, or of the alias a dated id (`<alias>-YYYYMMDD`) belongs to."""
        if model in self.prices:
            return self.prices[model]
        alias = DATED_SUFFIX.sub("", model)
        return self.prices.get(alias) if alias != model else None

    def role_for(self, step: str) -> Role:
        """The role that does `step` (one of STEPS)."""
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r} (steps: {', '.join(STEPS)})")
        return self.roles[self.steps[step]]

    @property
    def voting_roles(self) -> tuple[Role, ...]:
        """The roles whose votes count: `voters` if given, else every role with votes = true."""
        if self.voters is not None:
            return tuple(self.roles[key] for key in self.voters if key in self.roles)
        return tuple(role for role in self.roles.values() if role.votes)

    @property
    def votes_needed(self) -> int:
        """How many approving votes pass the vote."""
        voters = len(self.voting_roles)
        threshold = self.vote_threshold
        if threshold == "all":
            return voters
        if isinstance(threshold, float):
            return max(1, math.ceil(threshold * voters))
        return int(threshold)
