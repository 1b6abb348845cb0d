"""The workspace tools an agent may be given, declared once; `toolbox_for` picks a role's set.

Each tool is a thin shell over `bot.workspace.Workspace` (confinement and protected paths
live there, where the model cannot reach around them) or the sandbox (for `run_tests`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.llm.tools import Tool, ToolError
from bot.sandbox import SandboxUnavailable
from bot.workspace.files import Workspace, WorkspaceError

PATH = {"type": "string", "description": "path relative to the repository root"}


def _guarded(function: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
    def run(arguments: dict[str, Any]) -> str:
        try:
            return function(arguments)
        except (WorkspaceError, SandboxUnavailable) as error:
            raise ToolError(str(error)) from error

    return run


def workspace_tools(
    workspace: Workspace, run_tests: Callable[[], str] | None = None
) -> dict[str, Tool]:
    """Every workspace tool by name, bound to `workspace`."""

    def list_files(a: dict[str, Any]) -> str:
        files = workspace.list_files(a.get("path", "."), pattern=a.get("pattern"))
        return "\n".join(files) or "(no files)"

    def read_file(a: dict[str, Any]) -> str:
        return workspace.read(a["path"], start_line=a.get("start_line"), end_line=a.get("end_line"))

    def search(a: dict[str, Any]) -> str:
        hits = workspace.search(a["query"], path=a.get("path", "."), regex=a.get("regex", False))
        return "\n".join(f"{h.path}:{h.line}: {h.text}" for h in hits) or "(no matches)"

    tools = [
        Tool(
            "list_files",
            "List the repository's files (optionally under a directory, filtered by a glob).",
            _schema({"path": PATH, "pattern": {"type": "string"}}),
            _guarded(list_files),
        ),
        Tool(
            "read_file",
            "Read a text file, optionally only lines start_line..end_line (1-based).",
            _schema(
                {
                    "path": PATH,
                    "start_line": {"type": "integer", "minimum": 1},
                    "end_line": {"type": "integer", "minimum": 1},
                },
                ["path"],
            ),
            _guarded(read_file),
        ),
        Tool(
            "search",
            "Search the repository's text files for a string (or a regex with regex=true).",
            _schema(
                {
                    "query": {"type": "string", "minLength": 1},
                    "path": PATH,
                    "regex": {"type": "boolean"},
                },
                ["query"],
            ),
            _guarded(search),
        ),
        Tool(
            "write_file",
            "Create or overwrite a file with the given content.",
            _schema({"path": PATH, "content": {"type": "string"}}, ["path", "content"]),
            _guarded(lambda a: workspace.write(a["path"], a["content"])),
        ),
        Tool(
            "edit_file",
            "Replace one exact occurrence of old_text with new_text in a file.",
            _schema(
                {
                    "path": PATH,
                    "old_text": {"type": "string", "minLength": 1},
                    "new_text": {"type": "string"},
                },
                ["path", "old_text", "new_text"],
            ),
            _guarded(lambda a: workspace.edit(a["path"], a["old_text"], a["new_text"])),
        ),
        Tool(
            "delete_file",
            "Delete a file.",
            _schema({"path": PATH}, ["path"]),
            _guarded(lambda a: workspace.delete(a["path"])),
        ),
    ]
    if run_tests is not None:
        tools.append(
            Tool(
                "run_tests",
                "Run the repository's test command in the sandbox and show the result.",
                _schema({}),
                _guarded(lambda _a: run_tests()),
            )
        )
    return {tool.name: tool for tool in tools}


def pick(available: dict[str, Tool], names: Iterable[str]) -> list[Tool]:
    """The role's tools, in the roster's order; names with no tool here are left out."""
    return [available[name] for name in names if name in available]


def _schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }
