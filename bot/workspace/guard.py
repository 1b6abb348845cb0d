"""The push guard: what a step is about to push is judged from git's own record of it.

Whoever wrote a change (the model's file tools, a command, a test run), it reaches the remote
only through a commit, so the guard reads the commits, not the tools' logs: every path added,
changed, deleted or renamed (a rename is a deletion and an addition) is judged against the
role's protected set; a symbolic link whose target leaves the repository (or points into
`.git`), a submodule, and a changed mode or file type of an existing file are refused.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from bot.roster.protected import Protection
from bot.workspace.git import GitWorkspace
from bot.workspace.gitcli import run_git

LINK = "120000"
SUBMODULE = "160000"
ABSENT = "000000"


@dataclass(frozen=True)
class Change:
    """One path in `git diff --raw`: its modes before and after, its new blob, its status."""

    path: str
    old_mode: str
    new_mode: str
    new_blob: str
    status: str


class PushRefused(ValueError):
    """What would be pushed breaks a rule; str() names every path and why, one per line."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("refusing to push: " + "; ".join(reasons))


def changes(git: GitWorkspace, base: str, head: str = "HEAD") -> list[Change]:
    """Every path `head` changed since `base`, renames split into deletion and addition."""
    raw = run_git(
        ["diff", "--raw", "-z", "--no-renames", "--no-abbrev", f"{base}..{head}", "--"],
        cwd=git.root,
    ).stdout
    fields = raw.split("\0")
    found = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if not meta.startswith(":"):
            continue
        old_mode, new_mode, _old_blob, new_blob, status = meta[1:].split(" ")[:5]
        found.append(Change(path, old_mode, new_mode, new_blob, status[:1]))
    return found


def judge(git: GitWorkspace, base: str, protection: Protection, head: str = "HEAD") -> list[str]:
    """Why `base..head` may not be pushed: one reason per offending path; [] when it may."""
    reasons = []
    for change in changes(git, base, head):
        path = change.path
        if protection.blocks_change(path):
            reasons.append(f"`{path}` is a protected path")
        elif change.new_mode == SUBMODULE:
            reasons.append(f"`{path}` is a submodule")
        elif change.new_mode == LINK and (why := _link_problem(git, change)):
            reasons.append(f"`{path}` is a symbolic link {why}")
        elif ABSENT not in (change.old_mode, change.new_mode) and (
            change.old_mode != change.new_mode
        ):
            reasons.append(f"`{path}` changed mode {change.old_mode} → {change.new_mode}")
    return reasons


def check_push(git: GitWorkspace, base: str, protection: Protection, head: str = "HEAD") -> None:
    """Raise PushRefused when `base..head` holds anything `judge` refuses."""
    reasons = judge(git, base, protection, head)
    if reasons:
        raise PushRefused(reasons)


def _link_problem(git: GitWorkspace, change: Change) -> str:
    """Why the link's target is refused, or "" if it stays inside the repository."""
    try:
        target = run_git(["cat-file", "blob", change.new_blob], cwd=git.root).stdout
    except UnicodeDecodeError:
        return "with an unreadable target"
    if target.startswith("/") or "\\" in target or "\0" in target:
        return f"to `{target[:100]}`, outside the repository"
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(change.path), target))
    if joined == ".." or joined.startswith("../"):
        return f"to `{target[:100]}`, outside the repository"
    if Protection(protected=()).blocks_change(joined):
        return f"into `{joined}`"
    return ""
