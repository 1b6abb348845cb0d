"""Who is on the crew: each role, its tools, and how it shows on GitHub and in Slack."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from bot.roster.validation import RosterModel, Strings, problems_error

# Tools an agent may be given; a role naming any other is a typo, caught at load time.
TOOLS = tuple(
    "list_files read_file search write_file edit_file delete_file run_tests run git_diff "
    "web_search ask".split()
)
ROLE_KEY = r"^[a-z][a-z0-9_-]*$"


class GitHubIdentity(RosterModel):
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
            raise problems_error(
                "GitHubIdentity", [((missing,), "app_id and private_key_path go together")]
            )
        return self


class SlackIdentity(RosterModel):
    """How a role shows in Slack: a persona on the crew's bot, or its own bot token."""

    username: str = Field(min_length=1)
    icon_emoji: str | None = Field(default=None, pattern=r"^:[a-z0-9_+'-]+:$")
    icon_url: str | None = Field(default=None, pattern=r"^https://")
    # The *name* of the setting that holds the token; the token itself never sits in a file.
    bot_token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @model_validator(mode="after")
    def _one_icon(self) -> SlackIdentity:
        if self.icon_emoji is not None and self.icon_url is not None:
            raise problems_error(
                "SlackIdentity", [(("icon_url",), "set icon_emoji or icon_url, not both")]
            )
        return self


class Role(RosterModel):
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
