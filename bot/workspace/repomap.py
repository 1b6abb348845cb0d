"""A compact map of a repository for the model: its file tree with sizes and, for source files,
their top-level symbols, within a character budget; and its instructions for agents.

The map is deterministic (paths in git's sorted order, symbols in source order), so the same
repository gives the same bytes in every step of a run and in its replay. When it does not fit
its budget, symbols go first (kept for top-level and non-test files before the rest), then
the end of the tree, and a last line says what was left out and how to see it.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

from bot.workspace.files import Workspace, WorkspaceError
from bot.workspace.gitcli import GitError, run_git
from bot.workspace.symbols import language_of, symbols_of
from bot.workspace.text import size

MAX_FILES = 50_000
# Symbols are read from source files up to this size; larger ones are listed only.
MAX_SOURCE_BYTES = 200_000
# How many symbols of one file are named before "…".
MAX_SYMBOLS = 40
# The shortest line of symbols (`: f()`): with less room left, no file is read for them.
MIN_SUFFIX = 5
# Room kept for the last line that says what was left out.
NOTE_ROOM = 240
# The repository's instructions for agents, in the order they are shown.
INSTRUCTION_FILES = (
    "AGENTS.md",
    "CLAUDE.md",
    ".github/copilot-instructions.md",
    "CONTRIBUTING.md",
    ".github/CONTRIBUTING.md",
    "docs/CONTRIBUTING.md",
)


@dataclass(frozen=True)
class _Line:
    text: str
    path: str = ""  # a file's path; "" for a directory's line


def repository_map(workspace: Workspace, budget: int) -> str:
    """The map of the files under `workspace`, at most `budget` characters long."""
    files = _tracked(workspace)
    lines = _tree(workspace, files)
    many = "at least " if len(files) >= MAX_FILES else ""
    header = f"{many}{len(files)} files; sizes in parentheses; top-level symbols after the colon.\n"
    base = len(header) + sum(len(line.text) + 1 for line in lines)
    if base + NOTE_ROOM > budget:
        return header + _cut_tree(lines, budget - len(header))
    suffixes: dict[int, str] = {}
    room = budget - base - NOTE_ROOM
    candidates = sorted(
        (i for i, line in enumerate(lines) if line.path and language_of(line.path)),
        key=lambda i: _priority(lines[i].path),
    )
    left_out = 0
    for index in candidates:
        suffix = _suffix(workspace, lines[index].path) if room >= MIN_SUFFIX else None
        if suffix is not None and len(suffix) <= room:
            suffixes[index] = suffix
            room -= len(suffix)
        else:
            left_out += 1
    body = "\n".join(line.text + suffixes.get(i, "") for i, line in enumerate(lines))
    if left_out:
        body += (
            f"\n[symbols of {left_out} source files left out to fit the map's budget; "
            "read or search those files]"
        )
    return header + body


def _tracked(workspace: Workspace) -> list[str]:
    """The files git tracks (not what tests or set-up left around), sorted; a walk when the
    root is no git repository."""
    try:
        listed = run_git(["ls-files", "-z"], cwd=workspace.root).stdout
    except GitError:
        return workspace.list_files(limit=MAX_FILES)
    return sorted(name for name in listed.split("\0") if name)[:MAX_FILES]


def agent_instructions(workspace: Workspace) -> list[tuple[str, str]]:
    """The repository's instructions for agents that exist, as (path, text), in the order of
    INSTRUCTION_FILES (absent, unreadable, linked or oversized files are left out)."""
    found = []
    for path in INSTRUCTION_FILES:
        try:
            found.append((path, workspace.read(path)))
        except WorkspaceError:
            continue
    return found


def _tree(workspace: Workspace, files: list[str]) -> list[_Line]:
    """A line for each directory (once, before its files) and each file with its size."""
    lines: list[_Line] = []
    opened: set[str] = set()
    for path in files:
        parts = path.split("/")
        for depth in range(len(parts) - 1):
            directory = "/".join(parts[: depth + 1])
            if directory not in opened:
                opened.add(directory)
                lines.append(_Line("  " * depth + parts[depth] + "/"))
        try:
            length = os.lstat(workspace.root / path).st_size
        except OSError:
            length = 0
        lines.append(_Line("  " * (len(parts) - 1) + f"{parts[-1]} ({size(length)})", path))
    return lines


def _priority(path: str) -> tuple[bool, int, str]:
    """Symbols are kept first for code over tests, shallow over deep, then in path order."""
    parts = path.lower().split("/")
    is_test = any(part.startswith("test") or ".test." in part or ".spec." in part for part in parts)
    return (is_test, len(parts), path)


def _suffix(workspace: Workspace, path: str) -> str:
    """`: a(); class B {c}` for the map's line of `path`: nothing for a file that may hold
    secrets, is not text or is too large."""
    try:
        if os.lstat(workspace.root / path).st_size > MAX_SOURCE_BYTES:
            return ""
        text = workspace.read(path)
    except (OSError, WorkspaceError):
        return ""
    symbols = symbols_of(path, text)
    if symbols is None:
        return " — does not parse"
    if not symbols:
        return ""
    shown = list(symbols[:MAX_SYMBOLS]) + (["…"] if len(symbols) > MAX_SYMBOLS else [])
    return ": " + "; ".join(shown)


def _cut_tree(lines: list[_Line], room: int) -> str:
    """As many lines of the tree as fit, then which files were left out, by directory."""
    kept: list[str] = []
    used = NOTE_ROOM
    for count, line in enumerate(lines):
        if used + len(line.text) + 1 > room:
            rest = [later.path for later in lines[count:] if later.path]
            return "\n".join([*kept, _left_out(rest)])
        kept.append(line.text)
        used += len(line.text) + 1
    return "\n".join(kept)


def _left_out(paths: list[str]) -> str:
    """`[12 more files not shown … (src/ 10, tests/ 2) …]`, within NOTE_ROOM characters."""
    by_directory = Counter(p.split("/", 1)[0][:40] + "/" if "/" in p else "." for p in paths)
    head = f"[{len(paths)} more files not shown to fit the map's budget ("
    tail = "); list them with the tools]"
    named: list[str] = []
    for name, count in sorted(by_directory.items()):
        entry = f"{name} {count}"
        if len(head) + len(", ".join([*named, entry, "…"])) + len(tail) > NOTE_ROOM:
            named.append("…")
            break
        named.append(entry)
    return head + ", ".join(named) + tail
