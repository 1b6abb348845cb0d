"""Tools an agent may call: each declared once (name, description, JSON schema, function).

Whatever the model sends is checked against the schema before the function runs; a bad call
becomes a tool error the model reads and can correct, never an exception in the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator


class ToolError(Exception):
    """A refusal or failure the model should see (its message is shown verbatim)."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_schema: Mapping[str, Any]
    run: Callable[[dict[str, Any]], str]
    # A final tool ends the agent's turn: its (validated) input is the agent's answer.
    final: bool = False
    # A final tool's check of its input against the step's facts (what the schema cannot
    # say, e.g. that a comment's line is in the diff): a message makes the call a tool error
    # the model corrects in the same turn; None accepts the answer.
    check: Callable[[dict[str, Any]], str | None] | None = None

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": dict(self.input_schema),
        }


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    is_error: bool = False
    final_input: dict[str, Any] | None = None


class Toolbox:
    """The tools of one agent turn, in a fixed order (the order is part of the cached prefix)."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self._validators = {
            name: Draft202012Validator(dict(tool.input_schema)) for name, tool in self.tools.items()
        }

    def definitions(self, *, cached: bool = True) -> list[dict[str, Any]]:
        """Tool definitions for the request; the last one carries a cache breakpoint unless
        `cached` is False (a later breakpoint covers them)."""
        definitions = [tool.definition() for tool in self.tools.values()]
        if definitions and cached:
            definitions[-1]["cache_control"] = {"type": "ephemeral"}
        return definitions

    @property
    def final_names(self) -> list[str]:
        return [name for name, tool in self.tools.items() if tool.final]

    def call(self, name: str, arguments: Any) -> ToolOutcome:
        tool = self.tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self.tools)) or "none"
            return ToolOutcome(f"unknown tool `{name}`; the tools you have: {known}", True)
        if not isinstance(arguments, dict):
            return ToolOutcome(f"`{name}` takes a JSON object as input", True)
        errors = sorted(self._validators[name].iter_errors(arguments), key=lambda e: e.path)
        if errors:
            problems = "; ".join(_describe(error) for error in errors[:5])
            return ToolOutcome(f"invalid input for `{name}`: {problems}", True)
        if tool.final:
            problem = tool.check(arguments) if tool.check else None
            if problem:
                return ToolOutcome(f"`{name}` not accepted: {problem}", True)
            return ToolOutcome("received", final_input=arguments)
        try:
            return ToolOutcome(tool.run(arguments))
        except ToolError as error:
            return ToolOutcome(str(error), True)


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "input"
    return f"{where}: {error.message}"


def final_tool(
    name: str,
    description: str,
    schema: Mapping[str, Any],
    check: Callable[[dict[str, Any]], str | None] | None = None,
) -> Tool:
    """A tool whose call is the agent's structured answer (plan, review, vote ...)."""

    def _unused(_arguments: dict[str, Any]) -> str:  # pragma: no cover - final tools don't run
        return "received"

    return Tool(name, description, schema, _unused, final=True, check=check)
