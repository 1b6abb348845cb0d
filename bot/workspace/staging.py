"""What a commit takes: exactly the paths the crew's tools wrote or deleted, nothing else.

A test run, a set-up or a command may leave files behind, rewrite tracked ones or plant
links; none of it is staged unless a tool touched that path (the push guard judges what is
staged, whoever wrote it). Paths go to git literally (`--literal-pathspecs`), so a name with
`*` or `:(glob)` magic stages only itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from bot.workspace.gitcli import run_git


def stage(root: Path, paths: Iterable[str]) -> list[str]:
    """Stage the given paths (added, changed or deleted); returns those staged.

    A path created and deleted again is skipped, and so is an untracked path `.gitignore`
    ignores, as `git add --all` would.
    """
    wanted = sorted({path for path in paths if path})
    if not wanted:
        return []
    listed = run_git(["--literal-pathspecs", "ls-files", "-z", "--", *wanted], cwd=root).stdout
    tracked = set(wanted) & set(listed.split("\0"))
    present = [path for path in wanted if os.path.lexists(root / path)]
    untracked = [path for path in present if path not in tracked]
    ignored: set[str] = set()
    if untracked:
        found = run_git(
            ["check-ignore", "-z", "--stdin"], cwd=root, stdin="\0".join(untracked), ok=(0, 1)
        )
        ignored = set(found.stdout.split("\0"))
    staged = sorted(tracked | {path for path in untracked if path not in ignored})
    if staged:
        run_git(
            [
                "--literal-pathspecs",
                "add",
                "--all",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ],
            cwd=root,
            stdin="\0".join(staged),
        )
    return staged
