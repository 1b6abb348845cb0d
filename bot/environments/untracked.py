"""What a set-up left in the workspace, told by git: the new paths it does not track (the
environment), and the tracked files it changed (put back: they are not the crew's work)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.workspace.gitcli import run_git

MAX_PATHS = 200  # more than this is not an environment but a build strewn over the tree


def untracked(workspace: Path) -> list[str]:
    """Untracked paths, ignored ones included; a folder wholly untracked is one entry."""
    listed = run_git(
        ["ls-files", "--others", "--directory", "--no-empty-directory", "-z"], cwd=workspace
    ).stdout
    paths = [path.rstrip("/") for path in listed.split("\0") if path]
    if len(paths) > MAX_PATHS:
        raise ValueError(f"the set-up left {len(paths)} untracked paths; at most {MAX_PATHS}")
    return paths


def tracked(workspace: Path) -> list[str]:
    """The repository's own files."""
    return [path for path in run_git(["ls-files", "-z"], cwd=workspace).stdout.split("\0") if path]


def changed_tracked(workspace: Path) -> list[str]:
    listed = run_git(["diff", "--name-only", "-z"], cwd=workspace).stdout
    return [path for path in listed.split("\0") if path]


def restore(workspace: Path, paths: Sequence[str]) -> None:
    if paths:
        run_git(["checkout", "--", *paths], cwd=workspace)
