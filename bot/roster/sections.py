"""The roster's tuning sections: budgets, model prices, tests, environment, review, research,
standup and questions."""

from __future__ import annotations

import re
import shlex
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from bot.roster.cron import parse_cron, parse_zone
from bot.roster.validation import RosterModel, Strings, problems_error

# The tester's command for a Python repository (or one with nothing to set up) unless crew.toml
# or .repocrew.toml says otherwise; `bot.environments.detect` picks another for other kinds.
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

# USD per million tokens (list prices; see shared/corpus/anthropic/README.md "Prices").
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "claude-opus-4-5": {"input": 5.0, "output": 25.0},
    "claude-opus-4-6": {"input": 5.0, "output": 25.0},
    "claude-sonnet-4-6": {"input": 3.0, "output": 15.0},
    "claude-sonnet-4-5": {"input": 3.0, "output": 15.0},
    "claude-haiku-4-5": {"input": 1.0, "output": 5.0},
}


class Budgets(RosterModel):
    """Spending limits; a model call that would pass one ends the run instead."""

    run_usd: float = Field(default=5.0, gt=0)
    day_usd: float = Field(default=50.0, gt=0)
    run_tokens: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _run_fits_in_a_day(self) -> Budgets:
        if self.run_usd > self.day_usd:
            message = f"must not exceed day_usd ({self.day_usd:g})"
            raise problems_error("Budgets", [(("run_usd",), message)])
        return self


class Price(RosterModel):
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


class TestsConfig(RosterModel):
    """How the tester runs the repository's tests in the sandbox."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    # None: detected from the repository (`bot.environments.detect`); set, it always wins.
    command: Annotated[Strings, Field(min_length=1)] | None = None
    # Variables the tests see on top of the sandbox's clean environment (never the host's).
    env: dict[str, str] = Field(default_factory=dict)
    wall_seconds: float = Field(default=600, gt=0)
    cpu_seconds: int = Field(default=300, gt=0)
    memory_mb: int = Field(default=2048, gt=0)
    allow_unsandboxed: bool = False
    # With no sandbox on the host, report the tests as not run and go on to the votes (the
    # demo's choice) rather than fail the run; never a pass.
    skip_without_sandbox: bool = False

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


_PYTHON_VERSION = re.compile(r"3(\.\d{1,2})?")
_NODE_VERSION = re.compile(r"\d{1,3}(\.\d{1,4}){0,2}")


class EnvironmentConfig(RosterModel):
    """How a repository's environment is set up before its tests run; what is unset here is
    detected from the repository's files, and what is set always wins over detection."""

    # Shell commands run in order at the repository root; they create `.venv` or
    # `node_modules` there. None: detected; an empty list: nothing to set up.
    setup: Strings | None = None
    python: str | None = None  # "3.12": the interpreter (python3.12) that creates .venv
    node: str | None = None  # "20": a version hint for whoever provides node
    cache: bool = True  # reuse an environment built from the same files and commands

    @field_validator("setup")
    @classmethod
    def _commands_say_something(cls, setup: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if setup is not None and any(not command.strip() for command in setup):
            raise ValueError("a set-up command must not be empty")
        return setup

    @field_validator("python")
    @classmethod
    def _a_python_version(cls, version: str | None) -> str | None:
        if version is not None and not _PYTHON_VERSION.fullmatch(version):
            raise ValueError(f'must be a Python version like "3.12" (got {version!r})')
        return version

    @field_validator("node")
    @classmethod
    def _a_node_version(cls, version: str | None) -> str | None:
        if version is not None and not _NODE_VERSION.fullmatch(version):
            raise ValueError(f'must be a Node version like "20" or "20.11" (got {version!r})')
        return version


class ReviewConfig(RosterModel):
    """What the reviewer reports and whether it may approve on GitHub."""

    max_findings: int = Field(default=20, gt=0)
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "low"
    may_approve: bool = False
    # Automatic reviews: the reviewer reviews people's pull requests when they open or move.
    unasked: bool = False
    # Who and what automatic reviews leave alone (a repository may add, never remove).
    skip_drafts: bool = True
    skip_bots: bool = True
    ignore_authors: Strings = ()
    ignore_branches: Strings = Field(default=(), description="Globs on the head branch")
    ignore_paths: Strings = Field(default=(), description="Globs; files left out of the review")
    # USD a repository's automatic reviews may spend per UTC day; `/crew review` is not counted.
    day_usd: float = Field(default=5.0, gt=0)
    # Past these, a review covers the riskiest files within them and names the rest.
    max_files: int = Field(default=50, gt=0)
    max_changed_lines: int = Field(default=3_000, gt=0)
    # The numbered diff the reviewer reads stops here; the files past it are only listed.
    max_diff_bytes: int = Field(default=60_000, ge=1_000)


class ResearchConfig(RosterModel):
    """Whether the researcher may search the web, and how often per run."""

    web_search: bool = False
    max_searches: int = Field(default=5, ge=0)


class QuestionsConfig(RosterModel):
    """How much an agent with the `ask` tool may ask: a bound, so asking never stalls a run."""

    # Questions one step may ask (to roles and humans together, every attempt of the step).
    max_per_step: int = Field(default=2, ge=0, le=10)
    # Model turns a role has to answer another role's question.
    answer_turns: int = Field(default=4, ge=1, le=20)


class StandupConfig(RosterModel):
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


class SprintConfig(RosterModel):
    """How a sprint schedules its tasks' runs; a repository may lower the bound, never raise it."""

    max_parallel_runs: int = Field(default=2, ge=1, le=50)
