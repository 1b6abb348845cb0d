"""The tools that run or compare rather than read: `git_diff`, `run` and `run_tests`, declared
once. Each is backed by what the step's bench binds (`bench.py`); a bench without it leaves
the tool out, whatever the roster grants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RUN_OUTPUT_CHARS = 16_000


def _schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


GIT_DIFF = (
    "Show the change so far: `git diff` of the workspace (edits not yet committed and new files "
    "included) against where the branch left the base branch, optionally for one path. Over "
    "24 KB it lists the changed files with their +/- and shows the diff's start: ask again "
    "with a path for one file.",
    _schema({"path": {"type": "string", "description": "one file or directory (optional)"}}),
)
RUN = (
    "Run a shell command (`sh -c`) at the repository root, in the sandbox, in the repository's "
    "environment (its .venv or node_modules first on PATH): for a reproduction script, one "
    "test, a linter, a build, or starting the application and trying it. There is no network: "
    "only the sandbox's own loopback, so a server you start there is reachable at 127.0.0.1 "
    "from the same command. The tests' limits apply (CPU, memory, processes, wall time); "
    "background processes end when the command ends. You get the exit code, the seconds taken "
    f"and the output (stdout and stderr; over {RUN_OUTPUT_CHARS // 1000} KB its start and "
    "end). Files the command creates stay in the workspace but are not committed: only files "
    "written with the file tools are.",
    _schema(
        {
            "command": {"type": "string", "minLength": 1, "description": "a shell command line"},
            "timeout_seconds": {
                "type": "integer",
                "minimum": 1,
                "description": "stop it after this many seconds (at most the tests' wall time)",
            },
        },
        ["command"],
    ),
)
RUN_TESTS = (
    "Run the repository's tests in the sandbox: the whole suite, or only a selection. `tests`: "
    "test files or directories (any runner), or pytest test ids such as "
    "`tests/test_x.py::TestY::test_z`; `keyword`: a pytest `-k` expression. With pytest the "
    "selection replaces the paths of the test command; other runners take paths only. You get "
    "the command run, the exit code, the counts and the end of the output.",
    _schema(
        {
            "tests": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "keyword": {"type": "string", "minLength": 1},
        }
    ),
)


def _git_diff(bench: Any) -> Callable[[dict[str, Any]], str] | None:
    diff = bench.diff
    return None if diff is None else lambda a: diff(a.get("path") or None)


def _run(bench: Any) -> Callable[[dict[str, Any]], str] | None:
    return bench.run


def _run_tests(bench: Any) -> Callable[[dict[str, Any]], str] | None:
    return bench.tests


# name → (description, input schema, the function the bench backs it with, or None)
COMMAND_TOOLS: dict[
    str, tuple[str, dict[str, Any], Callable[[Any], Callable[[dict[str, Any]], str] | None]]
] = {
    "git_diff": (*GIT_DIFF, _git_diff),
    "run": (*RUN, _run),
    "run_tests": (*RUN_TESTS, _run_tests),
}
