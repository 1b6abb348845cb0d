"""The tools an agent may be given, declared once; `tools_for` takes a role's set from its bench.

Each tool is a thin shell over `bot.workspace.Workspace` (confinement and protected paths
live there, where the model cannot reach around them) or over what the step's bench binds:
the change's diff, commands and tests in the sandbox (`command_tools.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.environments.selection import SelectionRefused
from bot.environments.setup_report import SetupFailed
from bot.llm.tools import Tool, ToolError
from bot.roster.models import Role
from bot.runs.steps.command_tools import COMMAND_TOOLS
from bot.sandbox import SandboxUnavailable
from bot.workspace import text
from bot.workspace.files import Workspace, WorkspaceError

PATH = {"type": "string", "description": "path relative to the repository root"}


def _schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


def _list_files(workspace: Workspace, a: dict[str, Any]) -> str:
    files = workspace.list_files(a.get("path", "."), pattern=a.get("pattern"))
    return "\n".join(files) or "(no files)"


def _read_file(workspace: Workspace, a: dict[str, Any]) -> str:
    first = a.get("start_line")
    content = workspace.read(a["path"], start_line=first, end_line=a.get("end_line"))
    return text.numbered(content, first or 1) or "(empty file)"


def _search(workspace: Workspace, a: dict[str, Any]) -> str:
    hits = workspace.search(a["query"], path=a.get("path", "."), regex=a.get("regex", False))
    return "\n".join(f"{h.path}:{h.line}: {h.text}" for h in hits) or "(no matches)"


def _write_file(workspace: Workspace, a: dict[str, Any]) -> str:
    return workspace.write(a["path"], a["content"])


def _edit_file(workspace: Workspace, a: dict[str, Any]) -> str:
    return workspace.edit(a["path"], a["old_text"], a["new_text"])


def _delete_file(workspace: Workspace, a: dict[str, Any]) -> str:
    return workspace.delete(a["path"])


def _guarded(function: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
    """A workspace refusal or a missing sandbox becomes a tool error the model reads."""

    def run(arguments: dict[str, Any]) -> str:
        try:
            return function(arguments)
        except (WorkspaceError, SandboxUnavailable, SelectionRefused) as error:
            raise ToolError(str(error)) from error
        except SetupFailed as failed:
            raise ToolError(f"the repository's environment could not be set up: {failed}") from None

    return run


@dataclass(frozen=True)
class _FileTool:
    description: str
    input_schema: dict[str, Any]
    run: Callable[[Workspace, dict[str, Any]], str]

    def bound(self, name: str, workspace: Workspace) -> Tool:
        return Tool(
            name, self.description, self.input_schema, _guarded(partial(self.run, workspace))
        )


# The file tools by name; a role gets its own, in its roster order, through `pick`.
FILE_TOOLS: dict[str, _FileTool] = {
    "list_files": _FileTool(
        "List the repository's files (optionally under a directory, filtered by a glob).",
        _schema({"path": PATH, "pattern": {"type": "string"}}),
        _list_files,
    ),
    "read_file": _FileTool(
        "Read a text file, optionally only lines start_line..end_line (1-based, inclusive). "
        "Each line is shown as `cat -n` shows it: its number in the file, right-aligned in six "
        "places, a tab, then the line. The number and the tab are not part of the file: leave "
        "them out of edit_file's old_text and new_text; use the numbers for line ranges and "
        "review comments.",
        _schema(
            {
                "path": PATH,
                "start_line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1},
            },
            ["path"],
        ),
        _read_file,
    ),
    "search": _FileTool(
        "Search the repository's text files for a string (or a regex with regex=true).",
        _schema(
            {
                "query": {"type": "string", "minLength": 1},
                "path": PATH,
                "regex": {"type": "boolean"},
            },
            ["query"],
        ),
        _search,
    ),
    "write_file": _FileTool(
        "Create or overwrite a file with the given content.",
        _schema({"path": PATH, "content": {"type": "string"}}, ["path", "content"]),
        _write_file,
    ),
    "edit_file": _FileTool(
        "Replace one exact occurrence of old_text with new_text in a file.",
        _schema(
            {
                "path": PATH,
                "old_text": {"type": "string", "minLength": 1},
                "new_text": {"type": "string"},
            },
            ["path", "old_text", "new_text"],
        ),
        _edit_file,
    ),
    "delete_file": _FileTool("Delete a file.", _schema({"path": PATH}, ["path"]), _delete_file),
}


@dataclass(frozen=True)
class Bench:
    """What one step's tools work on: the workspace, and what the step binds besides (each
    None where the step has none): the change's diff, a command and the tests in the sandbox."""

    files: Workspace
    diff: Callable[[str | None], str] | None = None  # git_diff: the path, or None for all
    run: Callable[[dict[str, Any]], str] | None = None  # run: the tool's input
    tests: Callable[[dict[str, Any]], str] | None = None  # run_tests: the tool's input


def workspace_tools(bench: Bench | Workspace) -> dict[str, Tool]:
    """Every tool the bench can back, by name (a bare workspace backs the file tools)."""
    if isinstance(bench, Workspace):
        bench = Bench(bench)
    tools = {name: tool.bound(name, bench.files) for name, tool in FILE_TOOLS.items()}
    for name, (description, schema, function) in COMMAND_TOOLS.items():
        bound = function(bench)
        if bound is not None:
            tools[name] = Tool(name, description, schema, _guarded(bound))
    return tools


def tools_for(role: Role, bench: Bench | Workspace) -> list[Tool]:
    """The tools the roster grants `role`, in its order, that this step's bench can back."""
    return pick(workspace_tools(bench), role.tools)


def pick(available: dict[str, Tool], names: Iterable[str]) -> list[Tool]:
    """The role's tools, in the roster's order; names with no tool here are left out."""
    return [available[name] for name in names if name in available]
