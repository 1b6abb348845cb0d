"""The date of a checkout's code: the commit it shares with its remote's default branch.

The crew's own commits on top are new, but the code around them, and the tools its tests were
written for, are as old as that base: the date stays the same for every commit of a run and for
a pull request's head (see `bot.environments.pytest_era`, which uses it).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.workspace.gitcli import GitError, run_git

DEFAULT_BRANCH = "refs/remotes/origin/HEAD"  # set by `git clone`


def code_date(root: Path) -> datetime | None:
    """The committer date of the newest commit HEAD shares with origin's default branch (of
    HEAD itself without one); None when git cannot tell (no commit, not a repository)."""
    try:
        base = run_git(["merge-base", "HEAD", DEFAULT_BRANCH], cwd=root, ok=(0, 1, 128))
        rev = base.stdout.strip() if base.returncode == 0 and base.stdout.strip() else "HEAD"
        shown = run_git(["show", "-s", "--format=%cI", rev, "--"], cwd=root, ok=(0, 128))
    except GitError:
        return None
    try:
        return datetime.fromisoformat(shown.stdout.strip()) if shown.returncode == 0 else None
    except ValueError:
        return None
