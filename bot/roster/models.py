"""The crew's roster as validated data: roles, identities, steps, votes, budgets and prices."""

from __future__ import annotations

import math
import re
import shlex
from pathlib import PurePosixPath
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.roster.cron import parse_cron, parse_zone
from bot.roster.globs import GlobSet

# The run's working steps; each is done by exactly one role (Crew.steps).
STEPS = ("plan", "research", "code", "review", "fix", "test")

# The tester's command unless crew.toml or .repocrew.toml says otherwise.
DEFAULT_TEST_COMMAND = (
    "python",
    "-m",
    "pytest",
    "-q",
    "-rfE",  # the short summary lists failures and errors: one line each, with the test id
    "--color=no",
    "-p",
    "no:cacheprovider",  # leave no .pytest_cache behind in the workspace
)

# Tools an agent may be given; a role naming any other is a typo, caught at load time.
TOOLS = tuple(
    "list_files read_file search write_file edit_file delete_file run_tests web_search".split()
)
# Paths no role changes unless its may_edit allows: CI that runs with secrets, and secrets.
PROTECTED_PATHS = (".github/workflows/**", ".env", ".env.*", "**/*.pem", "**/*.key")

ROLE_KEY = r"^[a-z][a-z0-9_-]*$"
DATED_SUFFIX = re.compile(r"-\d{8}$")  # claude-sonnet-4-5-20250929 is claude-sonnet-4-5

# USD per million tokens (list prices; see shared/corpus/anthropic/README.md "Prices").
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "claude-opus-4-5": {"input": 5.0, "output": 25.0},
    "claude-opus-4-6": {"input": 5.0, "output": 25.0},
    "claude-sonnet-4-6": {"input": 3.0, "output": 15.0},
    "claude-sonnet-4-5": {"input": 3.0, "output": 15.0},
    "claude-haiku-4-5": {"input": 1.0, "output": 5.0},
}


class _Config(BaseModel):
    # Unknown keys are errors so a typo never silently falls back to a default, and types are
    # strict so `votes = "no"` or `max_turns = "40"` is an error rather than a guess.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


# TOML arrays arrive as lists; strict mode would take only tuples.
Strings = Annotated[tuple[str, ...], Strict(False)]


def _problems(model: str, problems: list[tuple[tuple[str | int, ...], str]]) -> ValidationError:
    """Cross-field problems as one ValidationError whose locations name the offending keys."""
    return ValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(type=PydanticCustomError("crew", message), loc=loc, input=None)
            for loc, message in problems
        ],
    )


class GitHubIdentity(_Config):
    """How a role shows on GitHub: commit author, comment header, optionally its own App."""

    author_name: str = Field(min_length=1)
    author_email: str
    header: str = Field(min_length=1, description='Heading of its comments, e.g. "🗺️ **Planner**"')
    app_id: int | None = Field(default=None, gt=0)
    private_key_path: str | None = None

    @field_validator("author_email")
    @classmethod
    def _looks_like_email(cls, email: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise ValueError("must be an email address like name@example.invalid")
        return email

    @model_validator(mode="after")
    def _app_needs_its_key(self) -> GitHubIdentity:
        if (self.app_id is None) != (self.private_key_path is None):
            missing = "private_key_path" if self.private_key_path is None else "app_id"
            raise _problems(
                "GitHubIdentity", [((missing,), "app_id and private_key_path go together")]
            )
        return self


class SlackIdentity(_Config):
    """How a role shows in Slack: a persona on the crew's bot, or its own bot token."""

    username: str = Field(min_length=1)
    icon_emoji: str | None = Field(default=None, pattern=r"^:[a-z0-9_+'-]+:$")
    icon_url: str | None = Field(default=None, pattern=r"^https://")
    # The *name* of the setting that holds the token; the token itself never sits in a file.
    bot_token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @model_validator(mode="after")
    def _one_icon(self) -> SlackIdentity:
        if self.icon_emoji is not None and self.icon_url is not None:
            raise _problems(
                "SlackIdentity", [(("icon_url",), "set icon_emoji or icon_url, not both")]
            )
        return self


class Role(_Config):
    """One member of the crew. `key` is its table name in the roster (`[roles.<key>]`)."""

    key: str = Field(pattern=ROLE_KEY)
    name: str = Field(min_length=1)
    job: str = Field(min_length=1)
    model: str = "claude-sonnet-4-6"
    max_tokens: int = Field(default=8192, gt=0, le=128_000)
    max_turns: int = Field(default=20, gt=0)
    prompt: str = Field(default="", description="Template name; defaults to the role key")
    tools: Strings = ()
    votes: bool = True
    owns: Strings = ()
    may_edit: Strings = ()
    github: GitHubIdentity
    slack: SlackIdentity

    @model_validator(mode="before")
    @classmethod
    def _prompt_defaults_to_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("prompt") and isinstance(data.get("key"), str):
            return {**data, "prompt": data["key"]}
        return data

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, tools: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [tool for tool in tools if tool not in TOOLS]
        if unknown:
            raise ValueError(f"unknown tool {unknown[0]!r} (known: {', '.join(TOOLS)})")
        return tools


class Budgets(_Config):
    """Spending limits; a model call that would pass one ends the run instead."""

    run_usd: float = Field(default=5.0, gt=0)
    day_usd: float = Field(default=50.0, gt=0)
    run_tokens: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _run_fits_in_a_day(self) -> Budgets:
        if self.run_usd > self.day_usd:
            message = f"must not exceed day_usd ({self.day_usd:g})"
            raise _problems("Budgets", [(("run_usd",), message)])
        return self


class Price(_Config):
    """USD per million tokens of one model; cache prices default to Anthropic's ratios."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0, description="Default 1.25 × input (5-minute cache)")
    cache_read: float = Field(ge=0, description="Default 0.1 × input")

    @model_validator(mode="before")
    @classmethod
    def _cache_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("input"), int | float):
            data = {**data}
            if data.get("cache_write") is None:
                data["cache_write"] = round(1.25 * data["input"], 6)
            if data.get("cache_read") is None:
                data["cache_read"] = round(0.1 * data["input"], 6)
        return data


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TestsConfig(_Config):
    """How the tester runs the repository's tests in the sandbox."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    command: Strings = Field(default=DEFAULT_TEST_COMMAND, min_length=1)
    # Variables the tests see on top of the sandbox's clean environment (never the host's).
    env: dict[str, str] = Field(default_factory=dict)
    wall_seconds: float = Field(default=600, gt=0)
    cpu_seconds: int = Field(default=300, gt=0)
    memory_mb: int = Field(default=2048, gt=0)
    allow_unsandboxed: bool = False

    @field_validator("command", mode="before")
    @classmethod
    def _split_a_string(cls, command: Any) -> Any:
        return shlex.split(command) if isinstance(command, str) else command

    @field_validator("env")
    @classmethod
    def _names_are_variable_names(cls, env: dict[str, str]) -> dict[str, str]:
        bad = [name for name in env if not _ENV_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"not environment variable names: {', '.join(map(repr, bad))}")
        return env


class ReviewConfig(_Config):
    """What the reviewer reports and whether it may approve on GitHub."""

    max_findings: int = Field(default=20, gt=0)
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "low"
    may_approve: bool = False
    unasked: bool = False


class ResearchConfig(_Config):
    """Whether the researcher may search the web, and how often per run."""

    web_search: bool = False
    max_searches: int = Field(default=5, ge=0)


class StandupConfig(_Config):
    """When the daily standup is held; `/crew standup schedule` overrides it per channel."""

    cron: str = "0 9 * * 1-5"
    timezone: str = "UTC"
    channels: Strings = Field(default=(), description="Default: the crew's channel")

    # CronError is a ValueError, so pydantic reports it against the key.
    @field_validator("cron")
    @classmethod
    def _a_schedule(cls, cron: str) -> str:
        return parse_cron(cron).text

    @field_validator("timezone")
    @classmethod
    def _a_zone(cls, timezone: str) -> str:
        parse_zone(timezone)
        return timezone


class Crew(_Config):
    """The whole roster file: who is on the crew, who does which step, and the limits."""

    name: str = Field(min_length=1)
    trigger_label: str = Field(default="crew", min_length=1)
    branch_prefix: str = "crew/"
    channel: str | None = None
    roles: dict[str, Role] = Field(min_length=1)
    steps: dict[str, str]
    lead: str
    voters: Strings | None = None
    vote_threshold: Literal["all"] | int | float = "all"
    # Review, test or vote feedback sends the coder back at most this many times per run.
    max_fix_rounds: int = Field(default=2, ge=0, le=10)
    protected_paths: Strings = PROTECTED_PATHS
    budgets: Budgets = Budgets()
    prices: dict[str, Price] = Field(default_factory=dict)
    tests: TestsConfig = TestsConfig()
    review: ReviewConfig = ReviewConfig()
    research: ResearchConfig = ResearchConfig()
    standup: StandupConfig = StandupConfig()
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
    @field_validator("protected_paths")
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
        problems: list[tuple[tuple[str | int, ...], str]] = []
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
        problems.extend(self._threshold_problems())
        if problems:
            raise _problems("Crew", problems)
        return self

    def _threshold_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
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
